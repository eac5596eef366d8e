"""Real redis-server processes for the connection tests: a TLS server with a throwaway CA, and a master, a
replica and a sentinel. They need a redis-server built with TLS (Debian's; the embedded one has none)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

SYSTEM_REDIS = "/usr/bin/redis-server"
"""Debian's redis-server (apt-get install redis-server; .ci/run installs it): built with TLS and Sentinel."""


def system_redis_server() -> str:
    """The path of a redis-server with TLS; under CI a missing one fails the test, elsewhere it skips."""
    path = os.environ.get("RQTOP_TLS_REDIS_SERVER") or SYSTEM_REDIS
    if os.access(path, os.X_OK):
        return path
    message = f"no redis-server with TLS at {path} (apt-get install redis-server)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _openssl(*args: str, cwd: Path) -> None:
    """Run the openssl CLI quietly; a failure fails the test with its output."""
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@dataclass(frozen=True)
class Certificates:
    """A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by it;
    and a second CA that signed nothing of the server's."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


def _signed(folder: Path, name: str, subject: str, ca: str, extensions: str | None = None) -> None:
    """A key and a certificate called ``name`` signed by ``ca``."""
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-subj", subject, "-out",
             f"{name}.csr", cwd=folder)
    args = ["x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-days", "2", "-sha256", "-out", f"{name}.crt"]
    if extensions:
        (folder / f"{name}.ext").write_text(extensions)
        args += ["-extfile", f"{name}.ext"]
    _openssl(*args, cwd=folder)


def make_certificates(folder: Path) -> Certificates:
    """Generate the CA, server and client certificates with the openssl CLI (about 0.3 s)."""
    for ca in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.crt",
                 "-days", "2", "-subj", f"/CN=rqtop test {ca}", cwd=folder)
    _signed(folder, "server", "/CN=localhost", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _signed(folder, "client", "/CN=rqtop-client", "ca")
    return Certificates(folder / "ca.crt", folder / "server.crt", folder / "server.key", folder / "client.crt",
                        folder / "client.key", folder / "other-ca.crt")


def _wait_ready(client: redis.Redis, process: subprocess.Popen[bytes], what: str) -> None:
    """PING until it answers (5 s at most)."""
    deadline = time.monotonic() + 5
    while True:
        try:
            client.ping()
            return
        except redis.RedisError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{what} did not start (exit {process.poll()})") from None
            time.sleep(0.05)
        finally:
            client.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill and reap a server."""
    if process.poll() is None:
        process.kill()
    process.wait(timeout=5)


@contextmanager
def tls_server(folder: Path, certs: Certificates, auth_clients: bool = False,
               password: str | None = None) -> Iterator[int]:
    """A redis-server speaking TLS only on a free loopback port (yielded); ``auth_clients`` asks clients for a
    certificate signed by the CA."""
    port = free_port()
    args = [system_redis_server(), "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
            "--tls-cert-file", str(certs.server_cert), "--tls-key-file", str(certs.server_key),
            "--tls-ca-cert-file", str(certs.ca), "--tls-auth-clients", "yes" if auth_clients else "no",
            "--save", "", "--appendonly", "no", "--dir", str(folder)]
    if password:
        args += ["--requirepass", password]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        probe = redis.Redis(port=port, ssl=True, ssl_ca_certs=str(certs.ca), ssl_certfile=str(certs.client_cert),
                            ssl_keyfile=str(certs.client_key), password=password, socket_timeout=1)
        _wait_ready(probe, process, "the TLS redis-server")
        yield port
    finally:
        _stop(process)


@dataclass
class SentinelSet:
    """A master, its replica and one sentinel monitoring them as ``mymaster``, on loopback ports."""

    master_port: int
    replica_port: int
    sentinel_port: int
    processes: dict[int, subprocess.Popen[bytes]]

    MASTER_NAME = "mymaster"

    def sentinel(self) -> redis.Redis:
        """A client on the sentinel."""
        return redis.Redis(port=self.sentinel_port, socket_timeout=2, decode_responses=True)

    def master_port_now(self) -> int:
        """The master's port as the sentinel tells it now."""
        _, port = self.sentinel().execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.MASTER_NAME)
        return int(port)

    def fail_over(self, timeout: float = 15.0) -> int:
        """SENTINEL FAILOVER (retried while the sentinel has not yet judged the replica good); the new master's
        port once the sentinel names it."""
        old = self.master_port_now()
        deadline = time.monotonic() + timeout
        sentinel = self.sentinel()
        while True:
            try:
                sentinel.execute_command("SENTINEL", "FAILOVER", self.MASTER_NAME)
                break
            except redis.ResponseError as exc:
                if time.monotonic() > deadline:
                    raise AssertionError(f"SENTINEL FAILOVER refused: {exc}") from None
                time.sleep(0.2)
        while self.master_port_now() == old:
            assert time.monotonic() < deadline, "the sentinel never named a new master"
            time.sleep(0.1)
        return self.master_port_now()

    def kill(self, port: int) -> None:
        """Kill the server on ``port`` (the old master, after a failover)."""
        _stop(self.processes[port])


@contextmanager
def sentinel_set(folder: Path) -> Iterator[SentinelSet]:
    """Start master, replica (in sync) and a sentinel that already knows the replica; stop them all after."""
    binary = system_redis_server()
    master, replica, sentinel = free_port(), free_port(), free_port()
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)]
    processes: dict[int, subprocess.Popen[bytes]] = {}
    try:
        processes[master] = subprocess.Popen([binary, "--port", str(master), *common],
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_ready(redis.Redis(port=master, socket_timeout=1), processes[master], "the master")
        processes[replica] = subprocess.Popen(
            [binary, "--port", str(replica), "--replicaof", "127.0.0.1", str(master), *common],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        replica_client = redis.Redis(port=replica, socket_timeout=1, decode_responses=True)
        _wait_ready(replica_client, processes[replica], "the replica")
        deadline = time.monotonic() + 10
        while replica_client.info("replication").get("master_link_status") != "up":
            assert time.monotonic() < deadline, "the replica never synced"
            time.sleep(0.05)
        config = folder / "sentinel.conf"
        config.write_text(f"port {sentinel}\nbind 127.0.0.1\ndir {folder}\n"
                          f"sentinel monitor {SentinelSet.MASTER_NAME} 127.0.0.1 {master} 1\n"
                          f"sentinel down-after-milliseconds {SentinelSet.MASTER_NAME} 1000\n"
                          f"sentinel failover-timeout {SentinelSet.MASTER_NAME} 10000\n")
        processes[sentinel] = subprocess.Popen([binary, str(config), "--sentinel"],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        found = SentinelSet(master, replica, sentinel, processes)
        _wait_ready(redis.Redis(port=sentinel, socket_timeout=1), processes[sentinel], "the sentinel")
        while not found.sentinel().execute_command("SENTINEL", "REPLICAS", SentinelSet.MASTER_NAME):
            assert time.monotonic() < deadline + 10, "the sentinel never found the replica"
            time.sleep(0.1)
        yield found
    finally:
        for process in processes.values():
            _stop(process)
