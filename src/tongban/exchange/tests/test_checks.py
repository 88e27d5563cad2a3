"""The registry of submission checks: named checks a catalogue item reuses without code."""

import datetime

from django.utils import translation

from tongban.core.audit import SYSTEM
from tongban.core.ids import make_resident_id
from tongban.exchange import checks
from tongban.exchange.checks import CheckContext, SubmissionCheck, submission_checks_run

MAN = make_resident_id("310101", datetime.date(1990, 5, 12), 111)
WOMAN = make_resident_id("310101", datetime.date(1992, 9, 3), 124)


def _context(**form):
    return CheckContext(actor=SYSTEM, department=None, purpose="办件受理核验", form_data=form)


def test_the_demo_checks_are_registered_with_the_fields_and_resources_they_read():
    assert {"newborn-parents", "seller-owns-unit"} <= set(checks.submission_check_names())
    parents = checks.submission_check_get("newborn-parents")
    assert parents.fields == (
        "mother_resident_id",
        "father_resident_id",
        "parents_married",
        "parents_relation",
    )
    assert parents.resources == ("marriage-status",)


def test_an_unknown_check_name_is_said_on_the_whole_form():
    with translation.override("en"):
        errors = submission_checks_run(["no-such-check"], context=_context())
    assert "no-such-check" in errors["__all__"][0]


def test_a_check_is_skipped_while_a_field_it_reads_has_an_error(monkeypatch):
    calls = []
    monkeypatch.setitem(
        checks.SUBMISSION_CHECKS,
        "probe",
        SubmissionCheck("probe", "probe", ("x",), (), lambda context: calls.append(1) or {"x": ["no"]}),
    )
    assert submission_checks_run(["probe"], context=_context(x="1"), errors={"x": ["bad"]}) == {}
    assert calls == []
    assert submission_checks_run(["probe", "probe"], context=_context(x="1")) == {"x": ["no"]}
    assert calls == [1]  # a name listed twice runs once


def test_a_mans_number_for_the_mother_and_a_womans_for_the_father_are_refused_without_a_register():
    with translation.override("en"):
        errors = checks.newborn_parents(_context(mother_resident_id=MAN, father_resident_id=WOMAN))
    assert "man's" in errors["mother_resident_id"][0]
    assert "woman's" in errors["father_resident_id"][0]
    assert checks.newborn_parents(_context(mother_resident_id=WOMAN, father_resident_id=MAN)) == {}
