"""``make test``: run the whole suite, saying first which outside services the run will use.

Tests that need Chromium, Redis or PostgreSQL skip with a reason when the service is missing;
with ``TONGBAN_STRICT_SERVICES=1`` (set by ``.ci/run``) they fail instead.
"""

import os
import socket
import sys
from urllib.parse import urlsplit

import pytest


def reachable(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def chromium_path():
    from tongban.browser import find_chromium

    return find_chromium()


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    database = os.environ.get("DATABASE_URL", "sqlite (embedded)").split("@")[-1]
    print(f"tongban tests: database {database}")
    chromium = chromium_path()
    if chromium:
        print(f"tongban tests: Chromium at {chromium}")
    else:
        print(
            "tongban tests: no Chromium found (looked for TONGBAN_CHROMIUM, chromium, chromium-browser, "
            "google-chrome): browser tests will be skipped. On Debian/Ubuntu: sudo apt-get install chromium"
        )
    redis_url = os.environ.get("TONGBAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    redis = urlsplit(redis_url)
    found = reachable(redis.hostname or "127.0.0.1", redis.port or 6379)
    print(f"tongban tests: Redis at {redis_url}: {'found' if found else 'not running'}")
    sys.stdout.flush()
    code = pytest.main(argv)
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("tongban tests: no tests were collected", file=sys.stderr)
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
