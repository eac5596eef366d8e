"""The rqtop worker's log masks job arguments and exception texts with the dashboard's masking rules."""

from __future__ import annotations

import logging

import redis
from rq import Queue

from tests.cli_support import rqtop
from worker.masking import MaskingLogFilter

AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"


def test_a_real_worker_logs_descriptions_and_failures_masked(redis_url: str, conn: redis.Redis) -> None:
    queue = Queue("default", connection=conn)
    queue.enqueue("tests.jobs.boom_with_secret", secret="hunter2")
    queue.enqueue("tests.jobs.say_hello", name=f"pwd={AWS_KEY_ID}")

    result = rqtop("worker", "--mode", "worker", "--queues", "default", "--burst", url=redis_url)

    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert "tests.jobs.boom_with_secret(secret='***')" in log, log  # RQ logs each job's description ...
    assert "ValueError: upstream refused password=***" in log, log  # ... and each failure's exception text
    assert "say_hello(name='***')" in log, log
    assert "hunter2" not in log and AWS_KEY_ID not in log, log


def test_the_filter_masks_arguments_and_tracebacks() -> None:
    logger = logging.getLogger("tests.masked")
    logger.addFilter(MaskingLogFilter(("password",)))
    record_handler = logging.Handler()
    lines: list[str] = []
    record_handler.emit = lambda record: lines.append(logging.Formatter().format(record))  # type: ignore[method-assign]
    logger.addHandler(record_handler)
    try:
        try:
            raise RuntimeError("login failed for password=hunter2")
        except RuntimeError:
            logger.error("job %s: %s", "j1", "f(password='hunter2')", exc_info=True)
    finally:
        logger.removeHandler(record_handler)
    assert len(lines) == 1 and "hunter2" not in lines[0]
    assert "f(password='***')" in lines[0] and "RuntimeError: login failed for password=***" in lines[0]
