"""Submission checks (提交核验): cross-field rules that read the registers when an application is submitted.

A check is a named function registered here by the app that owns the data it reads. A catalogue item or bundle
names the checks it needs (``ServiceItem.submission_checks`` / ``Bundle.submission_checks``; a bundle runs its
own and its items'), so a service designer reuses them without code. ``cases`` runs them while it validates a
submission, after the form's own rules, through :func:`submission_checks_run`.

Every register read goes through :func:`tongban.exchange.services.lookup` as the service's department for the
purpose of checking the application, with the submission's id: the grant is checked and the read recorded in
the person's "who used my data" (and marked "submission refused" when the submission is then refused).

A check returns field errors ``{field: [message, ...]}``; it never raises for a missing record or grant — it
says on the field that the register could not confirm the answer, and what the applicant can do instead.

Registered checks (names are stable, the designer's vocabulary):

* ``newborn-parents`` — the mother and father named for a newborn must be the applicant or the applicant's
  spouse in the marriage register, and the mother's number a woman's (the father's a man's). When the applicant
  says why not (form field ``parents_relation``: the parents are not married, a guardian applies, ...), the
  item asks for the document instead (a material conditional on that field); the register is then compared only
  for "not married" said by a parent: the other parent may not be the applicant's spouse in the register.
  When the other parent named is the applicant's spouse, the form may not say the parents are unmarried
  (``parents_married`` unticked): the register says otherwise.
* ``seller-owns-unit`` — the seller named in a real-estate transfer must be a current owner of the unit in the
  real-estate register.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.core.audit import Actor
from tongban.core.exceptions import DomainError
from tongban.core.ids import normalize_resident_id, parse_resident_id

from .services import MARRIAGE_RESOURCE, PROPERTY_OWNERSHIP_RESOURCE, lookup

__all__ = [
    "CheckContext",
    "SubmissionCheck",
    "submission_check",
    "submission_check_get",
    "submission_check_names",
    "submission_checks_run",
]

NON_FIELD = "__all__"


@dataclass(frozen=True)
class CheckContext:
    """What a check may know of the submission it checks."""

    actor: Actor  # who reads the registers: the system, as the service's department
    department: object  # identity.Department: the service's (lead) department
    purpose: str
    form_data: Mapping
    applicant_person: object = None  # identity.Person
    applicant_organisation: object = None  # identity.Organisation
    case_id: object = None  # the submission's id: the case's when it is written
    case_number: str = ""


@dataclass(frozen=True)
class SubmissionCheck:
    name: str
    label: object  # a lazy translation: what the check makes sure of, for designers
    fields: tuple[str, ...]  # the form fields it reads: it is skipped while one of them has an error
    resources: tuple[str, ...]  # the data resources it reads: the service's department needs a grant
    run: Callable[[CheckContext], dict[str, list[str]]] = field(repr=False)


SUBMISSION_CHECKS: dict[str, SubmissionCheck] = {}


def submission_check(name: str, *, label, fields: Iterable[str], resources: Iterable[str] = ()):
    """Register the decorated function as the submission check ``name``."""

    def register(function):
        if name in SUBMISSION_CHECKS:
            raise ValueError(f"submission check {name!r} is registered twice")
        SUBMISSION_CHECKS[name] = SubmissionCheck(
            name=name, label=label, fields=tuple(fields), resources=tuple(resources), run=function
        )
        return function

    return register


def submission_check_get(name: str) -> SubmissionCheck | None:
    return SUBMISSION_CHECKS.get(name)


def submission_check_names() -> list[str]:
    return sorted(SUBMISSION_CHECKS)


def submission_checks_run(
    names: Iterable[str], *, context: CheckContext, errors: Mapping | None = None
) -> dict:
    """Run the checks ``names`` in order: their field errors, merged. A check whose fields already have an error
    (``errors``, e.g. the form's own) is skipped, so a register is not asked about a number that is not one. An
    unknown name is a configuration error of the service, said on the whole form."""
    errors = errors or {}
    found: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        check = SUBMISSION_CHECKS.get(name)
        if check is None:
            found.setdefault(NON_FIELD, []).append(
                _(
                    "This service names a submission check that does not exist (%(name)s); please tell the service desk."
                )
                % {"name": name}
            )
            continue
        if any(f in errors for f in check.fields):
            continue
        for key, messages in (check.run(context) or {}).items():
            bucket = found.setdefault(key, [])
            bucket.extend(m for m in messages if m not in bucket)
    return found


def _lookup(context: CheckContext, resource: str, subject_key: str, fields: list[str]):
    """The register's answer, or None and why not (no grant, unknown resource): never raises."""
    try:
        result = lookup(
            actor=context.actor,
            department=context.department,
            resource_code=resource,
            subject_key=subject_key,
            fields=fields,
            purpose=context.purpose,
            case_id=context.case_id,
            case_number=context.case_number,
            raise_refused=False,
        )
    except DomainError as exc:
        return None, str(exc)
    if not result.allowed:
        return None, result.missing or result.reason
    data = result.data[0] if isinstance(result.data, list) and result.data else result.data
    return (data or {}), ""


def _value(form_data: Mapping, name: str) -> str:
    return normalize_resident_id(form_data.get(name) or "")


# --- newborn: the parents ------------------------------------------------------------------------------------

PARENTS_MARRIED = "parents_married"  # the form's tick: the parents are married to each other and registered
MOTHER, FATHER = "mother_resident_id", "father_resident_id"
PARENTS_RELATION = "parents_relation"  # why the parents are not the applicant and spouse (blank: they are)
UNMARRIED = "unmarried"  # the parents named are the applicant and someone not married to them


def _sex(number: str) -> str | None:
    try:
        return parse_resident_id(number).sex
    except ValidationError:  # the form's own format check reports a bad number
        return None


@submission_check(
    "newborn-parents",
    label=gettext_lazy(
        "The newborn's parents are the applicant and the applicant's spouse (marriage register)"
    ),
    fields=(MOTHER, FATHER, PARENTS_MARRIED, PARENTS_RELATION),
    resources=(MARRIAGE_RESOURCE,),
)
def newborn_parents(context: CheckContext) -> dict[str, list[str]]:
    form = context.form_data
    named = {name: _value(form, name) for name in (MOTHER, FATHER) if _value(form, name)}
    errors: dict[str, list[str]] = {}
    if MOTHER in named and _sex(named[MOTHER]) == "M":
        errors[MOTHER] = [
            _("This is a man's resident ID number (its 17th digit is odd): enter the mother's.")
        ]
    if FATHER in named and _sex(named[FATHER]) == "F":
        errors[FATHER] = [
            _("This is a woman's resident ID number (its 17th digit is even): enter the father's.")
        ]
    relation = form.get(PARENTS_RELATION)
    if context.applicant_person is None or (relation and relation != UNMARRIED):
        return errors  # a guardian or another reason: the relationship document is asked for instead
    applicant = normalize_resident_id(context.applicant_person.resident_id)
    others = [name for name, number in named.items() if number != applicant and name not in errors]
    if not others:
        return errors  # the applicant is the only parent named: nothing to ask the register
    if relation == UNMARRIED and applicant not in named.values():
        return errors  # "unmarried" said of two other people: nothing of the applicant's to compare
    facts, why_not = _lookup(context, MARRIAGE_RESOURCE, applicant, ["married", "spouse_resident_id"])
    spouse = normalize_resident_id((facts or {}).get("spouse_resident_id") or "") if facts else ""
    if relation == UNMARRIED:
        # The applicant, a parent, says the parents are not married to each other: the document is asked for
        # instead, unless the register has the other parent as the applicant's spouse.
        if not why_not and any(named[name] == spouse for name in others):
            errors.setdefault(PARENTS_RELATION, []).append(
                _(
                    "The marriage register shows you married to the other parent named here. If they are the "
                    "child's other parent, the parents are married: clear this choice and tick that the parents "
                    "are married. If the child's other parent is someone else, name them instead. If the register "
                    "is wrong, ask the marriage registry to correct it first."
                )
            )
        return errors
    if not why_not and form.get(PARENTS_MARRIED) is False and any(named[name] == spouse for name in others):
        # The form says the parents are not married while the register has the other parent as the applicant's
        # spouse: the marriage certificate would not be asked for (the register holds it) and the handler would
        # read "no" beside a register that says married.
        errors.setdefault(PARENTS_MARRIED, []).append(
            _(
                "The marriage register shows you married to the other parent named here: tick this box. If the "
                "register is wrong, ask the marriage registry to correct it first."
            )
        )
    for name in others:
        if why_not:
            message = _(
                "The marriage register could not be consulted to confirm this parent (%(reason)s). Say below "
                "why the parents are not you and your spouse, and provide the document that shows the relationship."
            ) % {"reason": why_not}
        elif named[name] == spouse:
            continue
        elif name == MOTHER:
            message = _(
                "The mother named here is neither you nor your spouse in the marriage register. If the parents "
                "are not married to each other, or you apply for another person's child, say why below and "
                "provide the document that shows the relationship."
            )
        else:
            message = _(
                "The father named here is neither you nor your spouse in the marriage register. If the parents "
                "are not married to each other, or you apply for another person's child, say why below and "
                "provide the document that shows the relationship."
            )
        errors.setdefault(name, []).append(message)
    return errors


# --- real estate: the seller ---------------------------------------------------------------------------------

SELLER, UNIT = "seller_resident_id", "property_unit"


@submission_check(
    "seller-owns-unit",
    label=gettext_lazy("The seller owns the unit (real-estate register)"),
    fields=(SELLER, UNIT),
    resources=(PROPERTY_OWNERSHIP_RESOURCE,),
)
def seller_owns_unit(context: CheckContext) -> dict[str, list[str]]:
    seller = _value(context.form_data, SELLER)
    unit = str(context.form_data.get(UNIT) or "").strip()
    if not seller or not unit:
        return {}  # a required field left blank is the form's own error
    facts, why_not = _lookup(context, PROPERTY_OWNERSHIP_RESOURCE, unit, ["unit_number", "owners"])
    if why_not:
        return {
            SELLER: [
                _("The real-estate register could not be consulted to confirm the seller (%(reason)s).")
                % {"reason": why_not}
            ]
        }
    if not facts:
        return {UNIT: [_("The real-estate register holds no unit with this number.")]}
    owners = {
        normalize_resident_id(o.get("id_number") or "")
        for o in facts.get("owners") or []
        if o.get("kind") == "person"
    }
    if seller not in owners:
        return {
            SELLER: [_("The seller named here is not an owner of this unit in the real-estate register.")]
        }
    return {}
