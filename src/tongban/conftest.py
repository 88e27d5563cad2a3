"""Project-wide pytest fixtures and helpers.

The fixtures that tests of many apps share are plugins, so a test asks for them by name and imports no other
app's test package: ``city``, ``citizen`` and ``staff_user`` (``identity/tests/fixtures.py``), and the small
newborn bundle with its handlers, ``newborn``, ``handlers`` and ``parent`` (``workflow/tests/fixtures.py``, the
lowest app whose tests can build a service bound to a process). A shared fixture lives with the lowest app it
needs, never in a page app's tests.
"""

import contextlib
import fcntl
import os

import pytest

pytest_plugins = ["tongban.identity.tests.fixtures", "tongban.workflow.tests.fixtures"]

STRICT = os.environ.get("TONGBAN_STRICT_SERVICES", "").lower() in {"1", "true", "yes"}


def require_service(available, reason):
    """Skip a test whose outside service (Redis, Chromium ...) is missing; in CI, fail it instead.

    ``.ci/run`` sets ``TONGBAN_STRICT_SERVICES=1`` so that a test that needs a service never
    passes silently as a skip there.
    """
    if available:
        return
    if STRICT:
        pytest.fail(f"{reason} (TONGBAN_STRICT_SERVICES is set, so this cannot be skipped)")
    pytest.skip(reason)


def using_postgres():
    from django.db import connection

    return connection.vendor == "postgresql"


def pytest_configure(config):
    """PBKDF2's real cost (about half a second a hash on a 2-core machine) buys nothing in tests."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Rate-limit counts in each test process only (the deployed default, a file or database cache shared by all
    # workers, would let two test processes count each other's requests); test_throttling checks the shared one.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # The routing model the tests train (once per run, when they need one) is calibrated on the validation split
    # alone: the cross-validation of the deployed retrain costs three more fits and no test asserts its figures
    # (test_routing_knowledge covers it on a small corpus).
    settings.TONGBAN_HOTLINE_CV_FOLDS = 0
    # Every list page checks its hand-bound statement parameters against the ORM's (core.db.fast.compiled_rows).
    settings.TONGBAN_FAST_SQL_CHECK = True
    os.environ.setdefault(
        "TONGBAN_HOTLINE_CV_FOLDS", "0"
    )  # and in the commands the tests start (bench, demo)


# Modules that take tens of seconds without a marker saying so (see the CI's junit files).
HEAVY = {"tongban.api.tests.test_fuzz", "tongban.api.tests.test_schema_limits"}
POSTGRES_SKIP_REASON = "needs PostgreSQL: runs in the DATABASE_URL=postgres:// pass"


ONCE_SKIP_REASON = "runs once, in the SQLite pass: it uses no database (or its own scratch SQLite file)"
BROWSER_ONCE_REASON = (
    "runs once, in the SQLite pass: a browser journey (its database behaviour is the services' and the API's, "
    "tested on both databases)"
)
_DATABASE_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences", "live_server"})


def _uses_the_database(item) -> bool:
    if "sqlite_scratch" in item.keywords:
        return False
    return bool(_DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))) or bool(
        item.get_closest_marker("django_db")
    )


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` run only on the PostgreSQL backend; elsewhere they skip by design.

    The PostgreSQL pass of CI checks what depends on the database: a test that uses none (a model's training, a
    parser, a bench on its own scratch SQLite file: ``sqlite_scratch``) already ran in the SQLite pass and is
    skipped there, which keeps CI inside its time; so is a browser journey (``browser``: what it does to the
    database goes through the services and the API, which run on both).
    """
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        once = pytest.mark.skip(reason=ONCE_SKIP_REASON)
        browser_once = pytest.mark.skip(reason=BROWSER_ONCE_REASON)
        for item in items:
            if not _uses_the_database(item):
                item.add_marker(once)
            elif "browser" in item.keywords:
                item.add_marker(browser_once)
        return
    skip = pytest.mark.skip(reason=POSTGRES_SKIP_REASON)
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
    # The long modules first (browser journeys, scratch databases, the live fuzzing), each kept whole, so the
    # two workers do not end on one of them while the other waits (about a minute and a half of CI).
    heavy = {
        item.module.__name__
        for item in items
        if item.module is not None
        and ("browser" in item.keywords or "sqlite_scratch" in item.keywords or item.module.__name__ in HEAVY)
    }
    items.sort(key=lambda item: 0 if item.module is not None and item.module.__name__ in heavy else 1)


def _run_directory(tmp_path_factory):
    """The directory of this test run, the same for all its xdist workers (theirs are ``pytest-N/popen-gwX``)."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root


@contextlib.contextmanager
def _file_lock(path):
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


TEMPLATE_READY = "test-database.template"


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
    tmp_path_factory,
):
    """The test database. Under xdist the first worker migrates one (``test_<name>``, about 20 s of CPU for the
    migrations) and every worker gets a copy of it (``CREATE DATABASE ... TEMPLATE`` on PostgreSQL, a file copy on
    SQLite) instead of migrating its own; the workers' databases also start identical, so the demo city one
    seeded is replayed by the other (``demo_city_seeder``). Without xdist, with ``--reuse-db`` or
    ``--nomigrations``: pytest-django's own set-up."""
    from django.conf import settings
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    verbosity = request.config.option.verbose
    keepdb = django_db_keepdb and not django_db_createdb
    if not worker or keepdb or not django_db_use_migrations or len(settings.DATABASES) != 1:
        if not django_db_use_migrations:
            from pytest_django.fixtures import _disable_migrations

            _disable_migrations()
        with django_db_blocker.unblock():
            config = setup_databases(verbosity=verbosity, interactive=False, keepdb=keepdb)
        yield
        if not keepdb:
            with django_db_blocker.unblock():
                teardown_databases(config, verbosity=verbosity)
        return

    connection = connections["default"]
    test_settings = connection.settings_dict.setdefault("TEST", {})
    template = str(test_settings.get("NAME") or f"test_{connection.settings_dict['NAME']}").removesuffix(
        f"_{worker}"
    )
    test_settings["NAME"] = template
    original_name = connection.settings_dict["NAME"]
    run = _run_directory(tmp_path_factory)
    with django_db_blocker.unblock(), _file_lock(run / "test-database.lock"):
        ready = run / TEMPLATE_READY
        if ready.exists():
            settings.DATABASES["default"]["NAME"] = connection.settings_dict["NAME"] = template
        else:
            connection.creation.create_test_db(verbosity=verbosity, autoclobber=True, serialize=False)
            if connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the copy is of the file alone
            ready.write_text(f"{connection.vendor}\n{template}\n")
        connection.close()
        connection.creation.clone_test_db(suffix=worker, verbosity=verbosity, keepdb=False)
    clone = connection.creation.get_test_db_clone_settings(worker)
    connection.settings_dict.update(clone)
    settings.DATABASES["default"]["NAME"] = clone["NAME"]
    connection.close()
    yield
    with django_db_blocker.unblock():
        connection.creation.destroy_test_db(original_name, verbosity=verbosity, keepdb=False)


def pytest_sessionfinish(session):
    """The xdist controller drops the template its workers' test databases were copied from."""
    if os.environ.get("PYTEST_XDIST_WORKER") or not hasattr(session.config, "_tmp_path_factory"):
        return
    ready = session.config._tmp_path_factory.getbasetemp() / TEMPLATE_READY
    if not ready.exists():
        return
    vendor, template = ready.read_text().split("\n")[:2]
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    connection = connections["default"]
    if vendor == "sqlite":
        for suffix in ("", "-wal", "-shm", ".writers"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(template + suffix)
    elif vendor == connection.vendor:
        with session.config.stash[blocking_manager_key].unblock():
            connection.creation._destroy_test_db(template, verbosity=0)
    ready.unlink()


class _RolledBack(Exception):
    pass


@pytest.fixture(scope="session")
def replayer(tmp_path_factory):
    """Set-ups of the test database made once in this run and replayed after (``core/tests/replay.py``); the
    recordings are shared by the xdist workers of the run."""
    from tongban.core.tests.replay import Replayer

    return Replayer(_run_directory(tmp_path_factory) / "replays")


@pytest.fixture(scope="session")
def demo_city_seeder(replayer):
    """``demo_city_seeder(people=60, organisations=4)``: the demo city in the test database as
    ``demo_city_seed(**options)`` makes it (seeded for real the first time in the run, replayed after from the rows
    it wrote; ``demo/tests/test_seed.py`` tests the seeding itself)."""

    def seed(**options):
        from tongban.demo.services import demo_city_seed

        def build():
            demo_city_seed(**options)

        replayer.run(("demo_city_seed", tuple(sorted(options.items()))), build)

    return seed


def demo_city_fixture(*, scope="module", **options):
    """A ``scope`` fixture (name it ``demo_city`` in the test module): the demo city of ``options`` once for the
    module (or class), rolled back at its end; each test's own writes roll back with ``db``."""

    @pytest.fixture(scope=scope)
    def demo_city(django_db_setup, django_db_blocker, demo_city_seeder):
        from django.db import transaction

        with django_db_blocker.unblock():
            try:
                with transaction.atomic():
                    demo_city_seeder(**options)
                    yield
                    raise _RolledBack
            except _RolledBack:
                pass

    return demo_city


@pytest.fixture(autouse=True)
def _own_audit_witness(settings, tmp_path):
    """Each test's checkpoints go to its own witness: the database is rolled back after a test, the witness
    directory would not be."""
    settings.TONGBAN_AUDIT_WITNESS_DIR = str(tmp_path / "audit-witness")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The API's rate limits count in the cache: each test starts with none used."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_reference_caches():
    """Each test reads the departments, licence types and step effects of its own database (rollbacks send no
    signal: a test that changed an item's step effects and rolled back would otherwise leave its index behind, and on
    PostgreSQL, whose sequences do not roll back, the next city's items have other keys)."""
    from tongban.catalog.services import step_effects_forget
    from tongban.core.refcache import reference_caches_clear

    reference_caches_clear()
    step_effects_forget()
    yield
    reference_caches_clear()
    step_effects_forget()


@pytest.fixture(autouse=True)
def _fresh_working_day_calendar():
    """Each test sees the calendar overrides of its own database, not those a rolled-back test cached."""
    from tongban.core.calendar import invalidate_cache

    invalidate_cache()
    yield
    invalidate_cache()


BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


class _AuditedBrowser:
    """The Playwright browser, whose every context runs axe-core on each page it loads (``tongban.browser``)."""

    def __init__(self, browser, audit):
        self._browser, self._audit, self._contexts = browser, audit, []

    def new_context(self, **options):
        context = self._audit.attach(self._browser.new_context(**options))
        self._contexts.append(context)
        return context

    def new_page(self, **options):
        return self.new_context(**options).new_page()

    def settle(self, seconds=5.0):
        """Let the checks of the last pages finish (a page still open reports within a second or so)."""
        import time

        pages = [page for context in self._contexts for page in context.pages if not page.is_closed()]
        deadline = time.monotonic() + seconds
        while pages and len(self._audit.checked) < len(self._audit.started) and time.monotonic() < deadline:
            pages[-1].wait_for_timeout(100)

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture
def browser(live_server, monkeypatch, request):
    """Debian's Chromium driven by Playwright, for the browser journeys (skips without it, fails without it under
    ``TONGBAN_STRICT_SERVICES``). axe-core (npm, installed by ``make test``) checks every page the journey loads:
    a serious or critical accessibility violation fails the test; the pages checked are listed under
    ``var/axe/``."""
    import json

    from django.conf import settings
    from django.db import connections

    from tongban.browser import AxeAudit, find_axe, find_chromium

    chromium = find_chromium()
    require_service(chromium is not None, "no Chromium found: apt-get install chromium")
    axe = find_axe()
    require_service(axe is not None, "no axe-core for the accessibility checks: npm ci (make test runs it)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    audit = AxeAudit(axe)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        audited = _AuditedBrowser(browser, audit)
        try:
            yield audited
            audited.settle()
        finally:
            # ORM calls made while Playwright's loop runs use connections of their own context: close them
            # here, or PostgreSQL keeps a session on the test database and cannot drop it.
            connections.close_all()
            browser.close()
    folder = settings.VAR_DIR / "axe"
    folder.mkdir(parents=True, exist_ok=True)
    report = {
        "checked": audit.checked,
        "left_unchecked": audit.unchecked,
        "axe_seconds": round(audit.milliseconds / 1000, 2),
        "violations": audit.violations,
    }
    (folder / f"{request.node.name}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    assert audit.violations == [], "axe-core: serious or critical violations\n" + audit.summary()
