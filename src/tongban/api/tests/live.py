"""A real server process for the tests that need one (the live fuzz, the database faults): gunicorn on a free
127.0.0.1 port, on this test run's database (a transactional test: the server sees committed rows only)."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tongban.core.tests.test_worker import worker_database_url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(tmp_path, *, workers=2, threads=1, database_url=None, **env):
    """Start gunicorn with ``workers`` processes of ``threads`` threads; yield (base URL, process); stop it
    (SIGTERM, then SIGKILL).

    ``env`` adds or replaces environment variables; the process's log is ``process.log_path``."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url or worker_database_url(),
        "TONGBAN_CACHE_URL": "local",
        "TONGBAN_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        "TONGBAN_AUDIT_WITNESS_DIR": str(tmp_path / "witness"),
        "TONGBAN_WARMUP": "0",
        **env,
    }
    log_path = tmp_path / "gunicorn.log"
    log = log_path.open("w")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "tongban.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
    ]
    server = subprocess.Popen([*command, "-t", "60"], env=environment, stdout=log, stderr=subprocess.STDOUT)
    server.log_path = log_path
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/v1/departments/", timeout=2):  # noqa: S310 (http on loopback)
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{log_path.read_text()}")
                time.sleep(0.2)
        yield base, server
    finally:
        server.send_signal(signal.SIGQUIT)  # quick shutdown: the test is over
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
