"""Helpers for messaging tests."""

from tongban.core.audit import SYSTEM
from tongban.messaging.services import message_send

NEWBORN_CONTEXT = {"name": "李明", "baby_name": "李小宝", "link": "/offers/1/"}
CASE_CONTEXT = {
    "name": "李明",
    "case_number": "C-2026-0001",
    "service": "出生医学证明",
    "status": "已受理",
    "link": "/cases/1/",
}


def send_newborn(person=None, organisation=None, *, channels=("inbox",), dedupe_key=""):
    return message_send(
        actor=SYSTEM,
        person=person,
        organisation=organisation,
        topic="newborn",
        template="newborn-offer",
        context=NEWBORN_CONTEXT,
        channels=channels,
        dedupe_key=dedupe_key,
    )


def send_case(person, *, channels=("inbox",)):
    return message_send(
        actor=SYSTEM,
        person=person,
        topic="case",
        template="case-status",
        context=CASE_CONTEXT,
        channels=channels,
    )
