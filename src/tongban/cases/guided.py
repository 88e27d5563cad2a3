"""Guided application (好办): a few plain questions decide what applies to this person, then a personal guide
and a form prefilled from every record the data hub may provide.

The questions come from the service's form and materials, so a bundle or item gets them without code:

- ``role``: who the applicant is to the child (father, mother, or a guardian), when the form names the parents.
  It decides whose records fill the parents' fields (``prefill``), and a guardian's ``parents_relation``.
- ``married``: whether the parents are married to each other and registered (``parents_married`` /
  ``parents_relation``), which decides the marriage certificate or the out-of-wedlock statement.
- ``household_with``: with whom the baby is registered, an answer the form needs as it is.
- ``mailing``: whether post goes to the household address (then the mailing address is prefilled from it).
- for each conditional material that no form field decides, "does this apply to you?" (``m-<code>``), and for
  each yes/no form field that decides a material, the field as a question (``f-<field>``).

Answers travel as plain query parameters (GET steps, no JavaScript, no server state), then as hidden inputs of
the form, so the form shows only what is left: the applicant reviews the prefilled fields, types what no register
holds, and confirms. :func:`typed_fields` counts what is left to type (``tongban guided_measure`` prints it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tongban.catalog import selectors as catalog_selectors
from tongban.catalog.models import Bundle, Material, SatisfiedBy

from .prefill import ACCOUNT, FIELD_SOURCES, MOTHER_FIELDS, Prefilled, prefill

PARENT_FIELDS = ("mother_name", "mother_resident_id", "father_name", "father_resident_id")
YES_NO = (("yes", _("Yes")), ("no", _("No")))
# Conditional materials a question above already decides: (question, answer that asks for it).
DECIDED_BY = {"out-of-wedlock-statement": ("married", "no"), "marriage-certificate": ("married", "yes")}
# Fields the ``married`` question decides.
MARRIAGE_FIELDS = ("parents_married", "parents_relation")


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    choices: tuple[tuple[str, str], ...]
    help: str = ""


@dataclass
class Guide:
    """What applies to this person: the answers, the materials (obtained, to upload, optional), the form data."""

    questions: list[Question]
    answers: dict[str, str]
    form_data: dict  # decided by the answers
    obtained: list = field(default_factory=list)  # materials the platform obtains itself
    uploads: list = field(default_factory=list)  # materials the applicant provides
    optional: list = field(default_factory=list)
    items: list = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(q.key in self.answers for q in self.questions)

    @property
    def next_question(self) -> Question | None:
        return next((q for q in self.questions if q.key not in self.answers), None)


def _materials(service) -> list[Material]:
    if isinstance(service, Bundle):
        return catalog_selectors.bundle_materials_list(service)
    return list(service.materials.all())


def questions_for(service, materials=None) -> list[Question]:
    """The questions that decide what applies, in order (none for a simple form)."""
    properties = (service.form_schema or {}).get("properties", {})
    materials = _materials(service) if materials is None else materials
    found: list[Question] = []
    if any(name in properties for name in PARENT_FIELDS):
        found.append(
            Question(
                "role",
                _("Who are you to the child?"),
                (
                    ("father", _("I am the child's father")),
                    ("mother", _("I am the child's mother")),
                    ("other", _("I am a guardian or apply for the parents")),
                ),
                _("We then fill in your details and your spouse's from the registers."),
            )
        )
    if any(name in properties for name in MARRIAGE_FIELDS):
        found.append(
            Question(
                "married",
                _("Are the child's parents married to each other, with the marriage registered?"),
                (("yes", _("Yes, they are married")), ("no", _("No, they are not married to each other"))),
                _("If they are, nothing needs to be shown: the marriage register is checked for you."),
            )
        )
    if "household_with" in properties:
        found.append(
            Question(
                "household_with",
                _("In whose household is the baby to be registered?"),
                (("father", _("The father's household")), ("mother", _("The mother's household"))),
            )
        )
    if "mailing_address" in properties:
        found.append(
            Question(
                "mailing",
                _("Where should documents and cards be posted?"),
                (
                    ("home", _("To the household address")),
                    ("other", _("To another address (I will type it)")),
                ),
            )
        )
    decided_fields = set(MARRIAGE_FIELDS)
    for material in materials:
        if material.necessity != Material.Necessity.CONDITIONAL or material.code in DECIDED_BY:
            continue
        if material.condition_field:
            name = material.condition_field
            prop = properties.get(name) or {}
            if name in decided_fields or prop.get("type") != "boolean":
                continue
            decided_fields.add(name)
            found.append(Question(f"f-{name}", str(prop.get("title") or name), YES_NO))
        elif material.condition:
            found.append(
                Question(
                    f"m-{material.code}",
                    _("Does this apply to you: %(condition)s?") % {"condition": material.display_condition},
                    YES_NO,
                    _("If it does, you will be asked for: %(material)s.") % {"material": material.name},
                )
            )
    return found


def answers_from(data: Mapping, questions: list[Question]) -> dict[str, str]:
    """The valid answers in ``data`` (a query string or a POST), in question order; others are ignored."""
    answers = {}
    for question in questions:
        value = data.get(question.key)
        if value in {choice for choice, _label in question.choices}:
            answers[question.key] = value
    return answers


def form_data_from_answers(service, answers: Mapping) -> dict:
    """The form answers the questions decide."""
    properties = (service.form_schema or {}).get("properties", {})
    data: dict = {}
    married = answers.get("married")
    if married in ("yes", "no") and "parents_married" in properties:
        data["parents_married"] = married == "yes"
    if "parents_relation" in properties:
        if answers.get("role") == "other":
            data["parents_relation"] = "guardian"
        elif married == "no":
            data["parents_relation"] = "unmarried"
    if answers.get("household_with") and "household_with" in properties:
        data["household_with"] = answers["household_with"]
    for key, value in answers.items():
        if key.startswith("f-") and key[2:] in properties:
            data[key[2:]] = value == "yes"
    return data


def answered_fields(service, answers: Mapping) -> set[str]:
    """The form fields the answers settle: the form does not show them again (they travel as hidden inputs)."""
    properties = (service.form_schema or {}).get("properties", {})
    names = set()
    if "married" in answers or answers.get("role") == "other":
        names.update(n for n in MARRIAGE_FIELDS if n in properties)
    if "household_with" in answers:
        names.add("household_with")
    names.update(key[2:] for key in answers if key.startswith("f-"))
    return names & set(properties)


def _applies(material, answers: Mapping, data: Mapping) -> bool:
    if material.necessity == Material.Necessity.REQUIRED:
        return True
    if material.necessity != Material.Necessity.CONDITIONAL:
        return False
    if material.code in DECIDED_BY and DECIDED_BY[material.code][0] in answers:
        question, answer = DECIDED_BY[material.code]
        return answers[question] == answer
    if material.condition_field:
        return bool(data.get(material.condition_field))
    return answers.get(f"m-{material.code}") == "yes"


def guide_for(service, answers: Mapping, *, prefilled: Mapping | None = None, materials=None) -> Guide:
    """The personal guide: the materials that apply, split into obtained by the platform and to provide."""
    materials = _materials(service) if materials is None else materials
    questions = questions_for(service, materials)
    answers = answers_from(answers, questions)
    data = {name: p.value for name, p in (prefilled or {}).items()}
    data.update(form_data_from_answers(service, answers))
    guide = Guide(questions=questions, answers=answers, form_data=form_data_from_answers(service, answers))
    for material in materials:
        if material.necessity == Material.Necessity.OPTIONAL:
            guide.optional.append(material)
        elif not _applies(material, answers, data):
            continue
        elif material.satisfied_by in (SatisfiedBy.REGISTRY, SatisfiedBy.LICENCE):
            guide.obtained.append(material)
        else:
            guide.uploads.append(material)
    if isinstance(service, Bundle):
        guide.items = [link.item for link in service.bundle_items.select_related("item__department")]
    else:
        guide.items = [service]
    return guide


def material_source(material, prefilled: Mapping[str, Prefilled] | None = None) -> dict:
    """Where an obtained material comes from: the holding department and registry, and when it was read."""
    from tongban.exchange.resources import resource_spec
    from tongban.identity.selectors import department_get

    if material.satisfied_by == SatisfiedBy.LICENCE:
        return {"owner": _("the e-licence library"), "resource": material.evidence, "at": None}
    spec = resource_spec(material.evidence)
    if spec is None:
        return {"owner": material.evidence, "resource": "", "at": None}
    owner = department_get(spec.owner)
    read = [p.at for p in (prefilled or {}).values() if p.resource == spec.code and p.at]
    english = (get_language() or "").startswith("en")
    return {
        "owner": (owner.name_en if english and owner.name_en else owner.name_zh)
        if owner is not None
        else spec.owner,
        "resource": spec.name_en if english and spec.name_en else spec.name_zh,
        "at": max(read) if read else None,
    }


def prefill_help(found: Prefilled, *, for_staff: bool = False) -> str:
    """The note beside a prefilled field: where its value comes from."""
    if found.resource == ACCOUNT and for_staff:
        return str(_("Filled in from the applicant's record: please check it with them."))
    if found.resource == ACCOUNT:
        return str(_("Filled in from your account: please check it."))
    return str(_("Filled in from %(owner)s's records: please check it.") % {"owner": found.owner})


def default_answers(questions: list[Question]) -> dict[str, str]:
    """The common case, for measuring: "no" to every yes/no question, otherwise the first choice (the
    newborn bundle: the father applies, the parents are married, the baby joins his household, post goes home)."""
    return {q.key: "no" if q.choices == YES_NO else q.choices[0][0] for q in questions}


def role_of(answers: Mapping) -> str | None:
    """The role for prefill: the answer, or None (then the applicant's sex decides)."""
    return answers.get("role") or None


def guided_prefill(*, service, applicant_person, answers: Mapping) -> dict[str, Prefilled]:
    """``prefill`` with what the answers say: whose records fill the parents' fields, where post goes."""
    return prefill(
        service=service,
        applicant_person=applicant_person,
        role=role_of(answers),
        mailing_same=answers.get("mailing") == "home",
    )


def typed_fields(*, service, applicant_person, answers: Mapping) -> list[str]:
    """The form fields the applicant still types after the questions and the prefill (reads the hub)."""
    found = guided_prefill(service=service, applicant_person=applicant_person, answers=answers)
    settled = answered_fields(service, answers) | set(found)
    properties = (service.form_schema or {}).get("properties", {})
    return [name for name in properties if name not in settled]


def typed_fields_before(service, applicant_person) -> list[str]:
    """The fields the applicant typed on the form before guided application (issue 14): only the household
    address, the marriage checkbox, the applicant's own identity (and a mother's parents' fields) were filled."""
    properties = (service.form_schema or {}).get("properties", {})
    filled = set(FIELD_SOURCES)
    if getattr(applicant_person, "sex", "") == "F":
        filled |= set(MOTHER_FIELDS)
    return [name for name in properties if name not in filled]


def measure(*, service, applicant_person, answers: Mapping) -> dict:
    """Fields typed by this applicant before and after guided application, and the questions answered."""
    before = typed_fields_before(service, applicant_person)
    after = typed_fields(service=service, applicant_person=applicant_person, answers=answers)
    return {
        "service": service.code,
        "fields": len((service.form_schema or {}).get("properties", {})),
        "questions": len(questions_for(service)),
        "before": len(before),
        "after": len(after),
        "typed_after": after,
    }
