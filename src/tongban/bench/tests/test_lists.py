"""``tongban bench lists`` end to end, as an operator runs it: a scratch SQLite database in a temporary
directory, a tiny city, a refusal without a case history, then a short run with a history of 200 cases."""

import json
import os
import subprocess
import sys

import pytest

from tongban.bench.lists import ENDPOINTS


def _tongban(var_dir, *args, timeout=600):
    env = {**os.environ, "TONGBAN_VAR_DIR": str(var_dir)}
    env.pop("DATABASE_URL", None)  # never the database of the test run: a scratch SQLite file
    return subprocess.run(
        [sys.executable, "-m", "tongban.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.sqlite_scratch
def test_bench_lists_refuses_a_database_without_history_then_reports_every_list(tmp_path):
    assert _tongban(tmp_path, "migrate", "-v0").returncode == 0
    seeded = _tongban(tmp_path, "seed", "--people", "200", "--organisations", "20", "--quiet")
    assert seeded.returncode == 0, seeded.stderr

    refused = _tongban(tmp_path, "bench", "lists", "--min-cases", "100", "--duration", "0.5", "--users", "2")
    assert refused.returncode != 0
    assert "seed --cases" in refused.stderr

    history = _tongban(tmp_path, "seed", "--cases", "200", "--quiet", "--until", "2026-12-05")
    assert history.returncode == 0, history.stderr
    assert "200 cases written" in history.stdout

    run = _tongban(tmp_path, "bench", "lists", "--min-cases", "200", "--duration", "1", "--users", "2")
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "lists"
    assert {"list_p50_ms", "list_p99_ms", *ENDPOINTS} <= set(figures)
    for endpoint in ENDPOINTS:
        assert {"requests", "errors", "p50_ms", "p99_ms", "per_s"} <= set(figures[endpoint])
        assert figures[endpoint]["requests"] > 0 and figures[endpoint]["errors"] == 0
    assert figures["list_p99_ms"] == max(figures[e]["p99_ms"] for e in ENDPOINTS)

    # The same lists through a real server: gunicorn on a local port, sessions in cookies, every request a 200.
    served = _tongban(
        tmp_path,
        "bench",
        "lists",
        "--min-cases",
        "200",
        "--duration",
        "1",
        "--users",
        "2",
        "--through",
        "http",
        "--server-workers",
        "1",
        "--server-threads",
        "2",
    )
    assert served.returncode == 0, served.stderr
    figures = json.loads(served.stdout.strip().splitlines()[-1])
    assert figures["through"] == "http" and "gunicorn" in figures["client"]
    for endpoint in ENDPOINTS:
        assert figures[endpoint]["requests"] > 0 and figures[endpoint]["errors"] == 0, figures[endpoint]
        assert figures[endpoint]["server_cpu_ms_per_request"] > 0
