"""``tongban licences``: rotate-key, verify, types."""

import pytest
from django.core.management import call_command

from tongban.licences import services
from tongban.licences.models import SigningKey

from .factories import issue_birth_certificate

pytestmark = pytest.mark.django_db


def test_rotate_key_gives_a_new_key_and_verify_still_reads_old_licences(citizen, capsys):
    licence = issue_birth_certificate(citizen)
    call_command("licences", "rotate-key", "health", "--algorithm", "sm2")
    out = capsys.readouterr().out
    active = SigningKey.objects.get(department__code="health", active=True)
    assert active.algorithm == "sm2"
    assert active.key_id in out
    assert SigningKey.objects.filter(department__code="health").count() == 2
    call_command("licences", "verify", services.licence_token(licence))
    assert capsys.readouterr().out.startswith(f"valid {licence.number}")


def test_verify_exits_non_zero_unless_valid(citizen, capsys):
    with pytest.raises(SystemExit) as caught:
        call_command("licences", "verify", "nonsense")
    assert caught.value.code == 1
    assert capsys.readouterr().out.strip() == "unknown"


def test_types_creates_the_demo_types(city, capsys):
    call_command("licences", "types")
    assert "licence types" in capsys.readouterr().out
    assert services.licence_type_get("marriage-certificate") is not None
