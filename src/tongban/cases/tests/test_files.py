"""Material files live exactly as long as a committed case names them: a failed submission leaves none, and
the sweeper removes the ones a crash left behind, never a named or a young one."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tongban.cases import files, services
from tongban.cases.models import Case, CaseMaterial
from tongban.identity.selectors import actor_for
from tongban.workflow.models import Task
from tongban.workflow.tests.fixtures import newborn_files, newborn_form, pdf_upload

pytestmark = pytest.mark.django_db

THIS_MONTH = f"cases/{timezone.now():%Y/%m}"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _stored(media):
    return sorted(p.relative_to(media).as_posix() for p in (media / "cases").rglob("*") if p.is_file())


def _submit(parent, newborn, **kwargs):
    return services.case_submit(
        actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files(), **kwargs
    )


def _open(case, step):
    return Task.objects.get(case_id=case.pk, bpmn_id=step, state__in=Task.OPEN_STATES)


def _orphan(name, *, age: dt.timedelta):
    """A file under cases/ that no CaseMaterial names, written ``age`` ago."""
    storage = CaseMaterial._meta.get_field("file").storage
    saved = storage.save(name, ContentFile(b"%PDF-1.4\n% left behind\n"))
    written = time.time() - age.total_seconds()
    os.utime(storage.path(saved), (written, written))
    return saved


def _age(name, age: dt.timedelta):
    storage = CaseMaterial._meta.get_field("file").storage
    written = time.time() - age.total_seconds()
    os.utime(storage.path(name), (written, written))


def test_a_submission_that_fails_after_storing_its_files_leaves_no_file(
    monkeypatch, parent, newborn, handlers, media
):
    def audit_fails(*args, **kwargs):
        raise RuntimeError("the process engine is unavailable")

    monkeypatch.setattr(
        services.workflow, "process_start", audit_fails
    )  # runs after the materials are stored
    with pytest.raises(RuntimeError):
        _submit(parent, newborn, idempotency_key="will-fail")
    assert Case.objects.count() == 0
    assert _stored(media) == []


def test_a_resubmission_that_fails_after_storing_its_files_leaves_only_the_earlier_file(
    monkeypatch, parent, newborn, handlers, media
):
    case = _submit(parent, newborn)
    services.case_task_complete(
        actor=actor_for(handlers["health"]), task_id=_open(case, "birth_certificate").pk, decision="approve"
    )
    services.case_supplement_request(
        actor=actor_for(handlers["public-security"]),
        task_id=_open(case, "household_registration").pk,
        materials=[{"code": "parents-marriage-certificate", "reason": "照片不清晰"}],
    )
    first = case.materials.get().file.name

    def resume_fails(**kwargs):
        raise RuntimeError("the process engine is unavailable")

    monkeypatch.setattr(services.workflow, "process_resume", resume_fails)  # runs after the files are stored
    with pytest.raises(RuntimeError):
        services.case_resubmit(
            actor=actor_for(parent),
            case=case,
            form_data={},
            files={"parents-marriage-certificate": pdf_upload("better.pdf")},
        )
    assert _stored(media) == [first]
    assert case.materials.get().file.name == first


def test_a_successful_submission_keeps_its_file(parent, newborn, handlers, media):
    case = _submit(parent, newborn)
    material = case.materials.get()
    assert _stored(media) == [material.file.name]


def test_an_error_raised_after_the_commit_keeps_the_files_a_case_names(parent, newborn, handlers, media):
    case = _submit(parent, newborn)
    name = case.materials.get().file.name
    with pytest.raises(RuntimeError), files.removed_unless_committed():
        files.note_stored(name)
        raise RuntimeError("e.g. an on-commit hook failing after the commit")
    assert _stored(media) == [name]


def test_the_sweeper_removes_an_old_unnamed_file_and_keeps_named_and_young_ones(
    parent, newborn, handlers, media
):
    case = _submit(parent, newborn)
    named = case.materials.get().file.name
    _age(named, dt.timedelta(days=1))
    old = _orphan(f"{THIS_MONTH}/TB-crashed-marriage.pdf", age=dt.timedelta(hours=2))
    young = _orphan(f"{THIS_MONTH}/TB-in-flight-marriage.pdf", age=dt.timedelta(minutes=5))
    result = files.sweep(grace=dt.timedelta(hours=1))
    assert result.removed == [old]
    assert (result.referenced, result.young) == (1, 1)
    assert sorted(_stored(media)) == sorted([named, young])


def test_the_hourly_sweep_looks_back_two_days_and_the_command_with_all_at_every_file(
    parent, newborn, handlers, media, capsys
):
    from tongban.cases.tasks import case_files_sweep

    long_ago = timezone.now() - dt.timedelta(days=300)
    ancient = _orphan(f"cases/{long_ago:%Y/%m}/TB-ancient-marriage.pdf", age=dt.timedelta(days=300))
    _orphan(f"{THIS_MONTH}/TB-recent-marriage.pdf", age=dt.timedelta(hours=3))
    case_files_sweep.call_local()
    assert _stored(media) == [ancient]
    call_command("cases", "sweep-files", "--all", "--dry-run")
    assert f"would remove {ancient}" in capsys.readouterr().out
    assert _stored(media) == [ancient]
    call_command("cases", "sweep-files", "--all")
    assert f"removed {ancient}" in capsys.readouterr().out
    assert _stored(media) == []


def test_the_sweeper_uses_the_configured_grace_period(settings, media):
    settings.TONGBAN_CASE_FILES_GRACE_MINUTES = 240
    kept = _orphan(f"{THIS_MONTH}/TB-three-hours.pdf", age=dt.timedelta(hours=3))
    assert files.sweep().removed == []
    settings.TONGBAN_CASE_FILES_GRACE_MINUTES = 120
    assert files.sweep().removed == [kept]


def test_the_sweeper_does_nothing_when_no_file_was_ever_stored(media):
    assert files.sweep().checked == 0


KILLED_SUBMISSION = """
import os, signal
import django
django.setup()
from django.contrib.auth import get_user_model
from tongban.cases import services
from tongban.workflow.tests.fixtures import newborn_files, newborn_form, pdf_upload
from tongban.workflow.models import Task
from tongban.catalog import selectors
stored = services._store_materials
def killed(*args, **kwargs):  # after the materials are written, before the commit
    stored(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
services._store_materials = killed
from tongban.identity.selectors import actor_for
services.case_submit(actor=actor_for(get_user_model().objects.get(username="chen.jing")), service=selectors.bundle_get("newborn"),
                     form_data=newborn_form(), files=newborn_files(), idempotency_key="killed")
"""


def _database_url():
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_kill_9_between_writing_a_file_and_the_commit_leaves_an_orphan_that_the_sweeper_removes(
    parent, newborn, handlers, media
):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tongban.settings",
        "DATABASE_URL": _database_url(),
        "TONGBAN_MEDIA_ROOT": str(media),
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
    }
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_SUBMISSION], env=env, capture_output=True, timeout=120
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    assert not Case.objects.filter(idempotency_key="killed").exists()
    orphans = _stored(media)
    assert len(orphans) == 1  # what a crash leaves: a file no committed row names
    assert files.sweep().removed == []  # younger than the grace period: perhaps still being committed
    assert files.sweep(grace=dt.timedelta(0)).removed == orphans
    assert _stored(media) == []
