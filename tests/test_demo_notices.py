"""Issue 15 item 22: the demo shows its attach command in the dashboard, notices when its own Redis died, and a
bad REDIS_URL from the environment is named as such."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from tests.cli_support import one_error_line, rqtop
from tests.tui.fakes import loaded, make_app
from tui.demo import DemoPlatform, attach_command
from worker.embedded_redis import EmbeddedRedis


def test_the_attach_command_is_a_path_that_works() -> None:
    command = attach_command("unix:///tmp/x.sock")
    program = command.split(" --url ")[0]
    assert command.endswith("--url unix:///tmp/x.sock")
    assert Path(program).exists() or program.endswith("-m tui")


def test_the_dashboard_toasts_its_first_notice_and_a_dead_helper_once() -> None:
    problems = ["", "the demo's private Redis exited"]

    async def body() -> None:
        app = make_app()
        app.first_notice = "Attach a second dashboard: .venv/bin/rqtop --url unix:///x"
        app.watch_problem = lambda: problems[-1] if len(problems) == 1 else problems.pop(0) or None
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.pause(2.5)
            texts = [str(n.message) for n in app._notifications]
            assert any(text.startswith("Attach a second dashboard") for text in texts), texts
            assert sum("private Redis exited" in text for text in texts) == 1, texts

    asyncio.run(body())


def test_the_platform_notices_its_private_redis_died(tmp_path: Path) -> None:
    server = EmbeddedRedis().start()
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        platform = DemoPlatform(None, server.url, worker, tmp_path / "worker.log", server)  # type: ignore[arg-type]
        assert platform.problem() is None
        assert server.process is not None
        server.process.kill()
        server.process.wait(timeout=5)
        assert "private Redis exited" in (platform.problem() or "")
    finally:
        worker.kill()
        server.stop()


def test_a_bad_redis_url_from_the_environment_is_named() -> None:
    line = one_error_line(rqtop("status", env={"REDIS_URL": "http://nope"}))
    assert line.startswith("rqtop: error: $REDIS_URL: bad Redis URL")
    line = one_error_line(rqtop("status", env={"REDIS_URL": "redis://127.0.0.1:1/0"}))
    assert "(from $REDIS_URL)" in line
