"""``tongban bench enterprise`` measures certificate sign-ins and policy checks."""

import io
import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_benchmark_reports_sign_ins_and_policy_checks(city, capsys, settings, tmp_path):
    settings.TONGBAN_ENTERPRISE_CA_DIR = tmp_path / "ca"
    call_command("bench", "enterprise", "--logins", "3", "--enterprises", "2", stdout=io.StringIO())
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["bench"] == "enterprise"
    assert figures["sign_in_per_s"] > 0 and figures["policy_checks_per_s"] > 0
    assert figures["enterprises"] == 2 and figures["offers"] == 1  # headcount reaches 30 for one of the two
