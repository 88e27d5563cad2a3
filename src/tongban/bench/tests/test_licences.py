"""``tongban bench licences`` measures both signature algorithms."""

import io
import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_benchmark_reports_both_algorithms(city, capsys):
    call_command("bench", "licences", "--ed25519", "4", "--sm2", "2", stdout=io.StringIO())
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["bench"] == "licences"
    for algorithm in ("ed25519", "sm2"):
        assert set(figures[algorithm]) >= {
            "sign_per_s",
            "verify_per_s",
            "issue_per_s",
            "licence_verify_per_s",
        }
