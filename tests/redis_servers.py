"""Real redis-server processes for the connection tests: a TLS server with a throwaway CA, and a master, a
replica and a sentinel. They need a redis-server built with TLS (Debian's; the embedded one has none)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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


def _tls_arguments(certs: Certificates, auth_clients: bool = False) -> list[str]:
    """redis-server's TLS settings: its certificate, the CA, whether clients need a certificate, replication over
    TLS (used by a TLS replica; harmless on a lone server)."""
    return ["--tls-cert-file", str(certs.server_cert), "--tls-key-file", str(certs.server_key),
            "--tls-ca-cert-file", str(certs.ca), "--tls-auth-clients", "yes" if auth_clients else "no",
            "--tls-replication", "yes"]


@contextmanager
def tls_server(folder: Path, certs: Certificates, auth_clients: bool = False,
               password: str | None = None) -> Iterator[int]:
    """A redis-server speaking TLS only on a free loopback port (yielded); ``auth_clients`` asks clients for a
    certificate signed by the CA."""
    port = free_port()
    args = [system_redis_server(), "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
            *_tls_arguments(certs, auth_clients), "--save", "", "--appendonly", "no", "--dir", str(folder)]
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
    """A master, its replica and one sentinel monitoring them as ``mymaster``, on loopback ports (all of them
    TLS-only when ``tls`` holds redis-py's ssl arguments)."""

    master_port: int
    replica_port: int
    sentinel_port: int
    processes: dict[int, subprocess.Popen[bytes]]
    tls: dict[str, object] = field(default_factory=dict)

    MASTER_NAME = "mymaster"

    def client(self, port: int) -> redis.Redis:
        """A client on the server on ``port`` (over TLS for a TLS set)."""
        return redis.Redis(port=port, socket_timeout=2, decode_responses=True, **self.tls)  # type: ignore[arg-type]

    def sentinel(self) -> redis.Redis:
        """A client on the sentinel."""
        return self.client(self.sentinel_port)

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
        while self.master_port_now() == old or not self.failover_ended():
            assert time.monotonic() < deadline, "the sentinel never named a new master"
            time.sleep(0.05)
        return self.master_port_now()

    def failover_ended(self) -> bool:
        """Whether SENTINEL MASTERS (what redis-py's clients ask) names the same master as GET-MASTER-ADDR-BY-NAME
        with no failover in progress: the latter names the promoted replica about a second earlier, and a client
        connecting in between still gets the old master."""
        master = self.sentinel().sentinel_masters()[self.MASTER_NAME]
        return int(master["port"]) == self.master_port_now() and "failover_in_progress" not in master["flags"]

    def kill(self, port: int) -> None:
        """Kill the server on ``port`` (the old master, after a failover)."""
        _stop(self.processes[port])


@contextmanager
def sentinel_set(folder: Path, certs: Certificates | None = None) -> Iterator[SentinelSet]:
    """Start master, replica (in sync) and a sentinel that already knows the replica; stop them all after. With
    ``certs`` every one of them listens on TLS only (the sentinel too) and replicates and monitors over TLS."""
    binary = system_redis_server()
    master, replica, sentinel = free_port(), free_port(), free_port()
    tls = _tls_arguments(certs) if certs else []
    found = SentinelSet(master, replica, sentinel, {}, {"ssl": True, "ssl_ca_certs": str(certs.ca)} if certs else {})

    def listen(port: int) -> list[str]:
        return ["--port", "0", "--tls-port", str(port), *tls] if certs else ["--port", str(port)]

    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)]
    processes = found.processes
    try:
        processes[master] = subprocess.Popen([binary, *listen(master), *common],
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_ready(found.client(master), processes[master], "the master")
        processes[replica] = subprocess.Popen(
            [binary, *listen(replica), "--replicaof", "127.0.0.1", str(master), *common],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        replica_client = found.client(replica)
        _wait_ready(replica_client, processes[replica], "the replica")
        deadline = time.monotonic() + 10
        while replica_client.info("replication").get("master_link_status") != "up":
            assert time.monotonic() < deadline, "the replica never synced"
            time.sleep(0.05)
        config = folder / "sentinel.conf"
        listening = (f"port 0\ntls-port {sentinel}\n" + "".join(f"{tls[i][2:]} {tls[i + 1]}\n"
                                                                 for i in range(0, len(tls), 2))
                     if certs else f"port {sentinel}\n")
        config.write_text(f"{listening}bind 127.0.0.1\ndir {folder}\n"
                          f"sentinel monitor {SentinelSet.MASTER_NAME} 127.0.0.1 {master} 1\n"
                          f"sentinel down-after-milliseconds {SentinelSet.MASTER_NAME} 1000\n"
                          f"sentinel failover-timeout {SentinelSet.MASTER_NAME} 10000\n")
        processes[sentinel] = subprocess.Popen([binary, str(config), "--sentinel"],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_ready(found.client(sentinel), processes[sentinel], "the sentinel")
        while not found.sentinel().execute_command("SENTINEL", "REPLICAS", SentinelSet.MASTER_NAME):
            assert time.monotonic() < deadline + 10, "the sentinel never found the replica"
            time.sleep(0.1)
        yield found
    finally:
        for process in processes.values():
            _stop(process)
