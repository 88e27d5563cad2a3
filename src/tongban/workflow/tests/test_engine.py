"""Parsing and checking BPMN files, and the restricted expressions."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tongban.workflow import engine
from tongban.workflow.services import definition_parse

PROCESSES = Path(__file__).resolve().parents[1] / "processes"
NEWBORN = (PROCESSES / "newborn.bpmn").read_text()
STANDARD = (PROCESSES / "standard.bpmn").read_text()


def _reason(xml):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        definition_parse(xml)
    return " ".join(caught.value.message_dict["bpmn"])


@pytest.mark.parametrize("name", ["newborn", "real-estate-transfer", "standard", "immediate"])
def test_the_shipped_processes_parse(name):
    parsed = definition_parse((PROCESSES / f"{name}.bpmn").read_text())
    assert parsed.user_tasks
    assert all(task["lane"] in parsed.lanes for task in parsed.user_tasks)


def test_lanes_name_department_roles_and_district_branches():
    parsed = definition_parse(NEWBORN)
    assert parsed.lanes["public-security@district/dept_handler"] == {
        "department": "public-security",
        "role": "dept_handler",
        "district": True,
    }
    limits = {t["id"]: t["limit_days"] for t in parsed.user_tasks}
    assert limits["household_registration"] == 2


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        ("not xml at all", "not well-formed XML"),
        ("<root/>", "not a BPMN 2.0"),
        (NEWBORN.replace("hrss/dept_handler", "nowhere/dept_handler"), "unknown department 'nowhere'"),
        (NEWBORN.replace("hrss/dept_handler", "hrss/janitor"), "unknown role 'janitor'"),
        (NEWBORN.replace('name="hrss/dept_handler"', 'name="hrss"'), "DEPARTMENT/ROLE"),
        (
            NEWBORN.replace(
                '<bpmn:userTask id="social_security_card"', '<bpmn:scriptTask id="social_security_card"'
            ).replace(
                '<bpmn:userTask id="social_security_card" name="社会保障卡申领" tongban:limitDays="2"/>', ""
            ),
            "scriptTask",
        ),
        (NEWBORN.replace("<bpmn:flowNodeRef>social_security_card</bpmn:flowNodeRef>", ""), "is in no lane"),
        (NEWBORN.replace('tongban:limitDays="2"', 'tongban:limitDays="two"', 1), "invalid limitDays"),
        (
            STANDARD.replace("needs_approval == True", "__import__('os').system('id')"),
            "Condition not allowed",
        ),
        (STANDARD.replace("needs_approval == True", "needs_approval.__class__"), "Condition not allowed"),
        (
            NEWBORN.replace('sourceRef="join" targetRef="end"', 'sourceRef="join" targetRef="nowhere"'),
            "cannot be run",
        ),
    ],
)
def test_a_broken_process_is_refused_with_the_reason(xml, reason):
    assert reason in _reason(xml)


def test_an_entity_expansion_attack_is_not_expanded():
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><x>&a;</x>'
    assert "not a BPMN" in _reason(bomb) or "XML" in _reason(bomb)


@pytest.mark.parametrize(
    "expression", ["a == 1 and b in [1, 2]", "len(items) > 2", "not flag", "x if y else z"]
)
def test_safe_expressions_pass(expression):
    engine.check_expression(expression)


@pytest.mark.parametrize(
    "expression",
    ["open('/etc/passwd')", "x.__class__", "[i for i in range(3)]", "lambda: 1", "(yield)", "a := 1"],
)
def test_unsafe_expressions_are_refused(expression):
    with pytest.raises(ValueError):
        engine.check_expression(expression)


def test_gateway_conditions_run_in_the_restricted_engine():
    spec = definition_parse(STANDARD).spec
    for needs_approval, expected in ((True, ["approval"]), (False, [])):
        workflow = engine.new_workflow(spec, {"needs_approval": needs_approval})
        engine.ready_user_tasks(workflow)[0].run()
        workflow.do_engine_steps()
        assert [t.task_spec.name for t in engine.ready_user_tasks(workflow)] == expected


def test_a_workflow_survives_a_round_trip_without_its_spec():
    spec = definition_parse(NEWBORN).spec
    workflow = engine.new_workflow(spec, {"a": 1})
    state = engine.dump(workflow)
    assert '"spec"' not in state
    again = engine.load(state, spec)
    assert [t.task_spec.name for t in engine.ready_user_tasks(again)] == ["birth_certificate"]
