"""Named step effects: what approving a process step does to the data of the app that owns it.

The app that owns the data registers its effects when it is ready (``exchange/effects.py`` for the registries,
``licences/effects.py`` for e-licences); a catalogue item names the effects its process steps trigger
(``ServiceItem.step_effects``); ``cases`` runs them, in the transaction of the step, through one function. So a
service designer who builds a new bundle from existing items gets their effects without code, and nothing
below the case engine is keyed by an item code.

**Prepared before the write transaction.** An effect may also be registered with a ``prepare`` half:
``prepare(context, param)`` runs before the step's transaction (no lock held: on SQLite the writers' lock is what
two case workers cannot share) and does the reads, number draws, validation, row building and signatures; it
writes nothing and returns a ``Writes`` plan (or None: then the step runs the effect whole, under the lock, as
an effect without a ``prepare``). Under the lock the step only applies the plans (``Writes.apply``): first its
checks, statements that must find what was read unchanged, then the INSERTs, whose unique constraints catch a
drawn number or an enrolment that someone else took meanwhile, then the audit entries and events. When a check
fails or a constraint refuses, ``EffectsChanged`` is raised: the caller rolls the step's transaction back and
runs the step again with the effects run whole under the lock (``effects_prepare`` is not asked again), so a
concurrent change never gives a wrong or half-written result. A refusal found while preparing (a missing form
field) is not raised there: the whole effect, run under the lock, refuses as before, in the same order.

A name is ``<effect>`` or ``<effect>:<parameter>`` (e.g. ``licence.issue:birth-medical-certificate``); an effect
registered with ``parametrised=True`` requires a parameter and gets it as ``param``. An effect is called as
``function(context, param)`` with an ``EffectContext`` and refuses with ``ValidationError`` on ``decision``
(the handler then refuses or asks for a supplement) when the application lacks what it needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _

from .audit import Actor, audit_record
from .db import fast
from .events import events_emit
from .exceptions import Conflict
from .transactions import all_or_nothing

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
PARAM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(:[A-Za-z0-9][A-Za-z0-9_.-]*)*$")


@dataclass(frozen=True)
class Effect:
    name: str
    function: Callable = field(repr=False, compare=False)
    owner: str  # the department (or app) that owns the data the effect changes
    label: str = ""
    parametrised: bool = False
    # Optional check of the parameter at design time: raises ValidationError with the reason.
    param_check: Callable | None = field(default=None, repr=False, compare=False)
    # Optional half run before the step's transaction: ``prepare(context, param) -> Writes | None``.
    prepare: Callable | None = field(default=None, repr=False, compare=False)


@dataclass
class EffectContext:
    """What an effect may use: the case it runs for (by id and number, never its model), the application's form,
    the applicant, the department and actor of the step; and ``values``, which the effects of one step share in
    their order (e.g. ``birth.record`` leaves ``certificate_number`` for ``licence.issue``; an effect that knows
    whom a licence is for leaves the person in ``values["holder"]``)."""

    actor: Actor
    department: Any  # identity.Department of the step
    case_id: Any
    case_number: str
    form: dict
    applicant_person: Any = None
    applicant_organisation: Any = None
    step: str = ""
    # The purpose written on the grants that let the step's department read other departments' data.
    purpose: str = ""
    values: dict = field(default_factory=dict)
    # What the effects issued, for the caller to record (e.g. an e-licence that is another item's evidence):
    # ``{"kind": "licence", "type": <licence type code>, "number": <licence number>, "name": <type name>}``.
    produced: list = field(default_factory=list)


EFFECTS: dict[str, Effect] = {}


def effect_register(
    name: str,
    function: Callable,
    *,
    owner: str,
    label: str = "",
    parametrised: bool = False,
    param_check: Callable | None = None,
    prepare: Callable | None = None,
) -> Effect:
    """Register ``function`` as the effect ``name`` (idempotent for the same function: apps may be readied twice
    in tests)."""
    if not NAME_RE.match(name):
        raise ValueError(f"effect names are dotted lower-case words, not {name!r}")
    effect = Effect(
        name=name,
        function=function,
        owner=owner,
        label=label,
        parametrised=parametrised,
        param_check=param_check,
        prepare=prepare,
    )
    EFFECTS[name] = effect
    return effect


def effect_split(name: str) -> tuple[str, str]:
    """``"licence.issue:birth-medical-certificate"`` → ``("licence.issue", "birth-medical-certificate")``."""
    base, _sep, param = str(name).partition(":")
    return base, param


def effect_get(name: str) -> Effect | None:
    """The registered effect a (possibly parametrised) name calls, or None."""
    return EFFECTS.get(effect_split(name)[0])


def effect_names() -> list[str]:
    return sorted(EFFECTS)


def effect_check(name: str, *, deep: bool = True) -> None:
    """Raise ValidationError saying why ``name`` names no runnable effect (unknown, parameter missing or wrong).

    ``deep`` also asks the effect's owner whether the parameter names something that exists (e.g. a licence
    type); the model's validator skips it, since a seed may create items before the things they name."""
    base, param = effect_split(name)
    effect = EFFECTS.get(base)
    if effect is None:
        raise ValidationError(
            _("Unknown step effect %(name)s (known: %(known)s).")
            % {"name": name, "known": ", ".join(effect_names())}
        )
    if effect.parametrised and not param:
        raise ValidationError(
            _("The step effect %(name)s needs a parameter: %(name)s:<value>.") % {"name": base}
        )
    if not effect.parametrised and param:
        raise ValidationError(_("The step effect %(name)s takes no parameter.") % {"name": base})
    if param and not PARAM_RE.match(param):
        raise ValidationError(_("The parameter of %(name)s is malformed.") % {"name": name})
    if deep and param and effect.param_check is not None:
        effect.param_check(param)


def step_effects_check(value, *, deep: bool = False) -> None:
    """Validate a ``{step id: [effect name, ...]}`` mapping; every problem becomes one message."""
    if value in (None, ""):
        return
    if not isinstance(value, dict):
        raise ValidationError(
            _('Step effects are a mapping of step ids to lists of effect names: {"step": ["effect"]}.')
        )
    errors = []
    for step, names in value.items():
        if not isinstance(step, str) or not step.strip():
            errors.append(_("A step id is a non-empty text."))
            continue
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            errors.append(_("The effects of step %(step)s are a list of names.") % {"step": step})
            continue
        for name in names:
            try:
                effect_check(name, deep=deep)
            except ValidationError as exc:
                errors.extend(f"{step}: {message}" for message in exc.messages)
    if errors:
        raise ValidationError(errors)


def effect_run(name: str, context: EffectContext) -> None:
    """Run the effect ``name`` in ``context`` (inside the caller's transaction)."""
    base, param = effect_split(name)
    effect = EFFECTS.get(base)
    if effect is None:
        # A catalogue edited to name an effect that this deployment lacks: the handler is told, nothing is half-done.
        raise ValidationError(
            {
                "decision": [
                    _("The step names an unknown effect %(name)s; tell the service designer.")
                    % {"name": name}
                ]
            }
        )
    with all_or_nothing():  # a refused write fails the whole step: its services need no savepoints
        effect.function(context, param)


class EffectsChanged(Exception):
    """What a prepared effect read or drew changed before it was applied: run the step again, whole, under the lock."""


@dataclass
class Writes:
    """What a prepared effect writes under the lock, in this order (see the module docstring).

    ``checks``: ``(sql, params, expected)``: a SELECT whose first row must equal ``expected`` (a tuple, or None for
    no row), or, with ``expected`` an int, an UPDATE that must change that many rows. ``rows``: unsaved, validated
    instances, inserted model by model in their order (one statement a model). ``audits``: ``audit_record`` keyword
    arguments. ``events``: ``(name, payload, subject_type, subject_id)``. ``values`` and ``produced`` are what the
    effect leaves in its context, set when it is applied.
    """

    checks: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    audits: list = field(default_factory=list)
    events: list = field(default_factory=list)
    values: dict = field(default_factory=dict)
    produced: list = field(default_factory=list)

    def apply(self, context: EffectContext) -> None:
        for sql, params, expected in self.checks:
            if isinstance(expected, int):
                if fast.execute(sql, params) != expected:
                    raise EffectsChanged(sql)
            elif fast.fetchone(sql, params) != expected:
                raise EffectsChanged(sql)
        groups: list[list] = []
        for row in self.rows:
            if groups and type(groups[-1][0]) is type(row):
                groups[-1].append(row)
            else:
                groups.append([row])
        try:
            for group in groups:
                if fast.plain(type(group[0])):
                    fast.insert(group)
                else:  # a model with its own save() or listeners: saved as the services save it
                    for row in group:
                        row.save(force_insert=True)
        except IntegrityError as exc:
            # A drawn number or an enrolment taken meanwhile: the step runs again whole.
            raise EffectsChanged(str(exc)) from exc
        for audit in self.audits:
            audit_record(**audit)
        if self.events:
            events_emit(self.events)
        context.values.update(self.values)
        context.produced.extend(self.produced)


def effects_prepare(names, context: EffectContext) -> list | None:
    """Before the step's transaction: the ``Writes`` of each effect of ``names`` in order, or None when one of them
    has no ``prepare`` or declines (then the step runs them all whole, under the lock). Each plan's ``values`` are
    left in ``context`` for the effects after it (``birth.record``'s certificate number for its licence)."""
    plans = []
    for name in names:
        base, param = effect_split(name)
        effect = EFFECTS.get(base)
        if effect is None or effect.prepare is None:
            return None
        try:
            plan = effect.prepare(context, param)
        except (ValidationError, Conflict, ObjectDoesNotExist):
            # Refused: the effect run whole under the lock refuses the same way, after the step's own checks.
            return None
        if plan is None:
            return None
        context.values.update(plan.values)
        plans.append(plan)
    return plans


def effects_apply(plans: list, context: EffectContext) -> None:
    """Under the lock: apply the prepared ``plans`` in order (``EffectsChanged`` when one of them is stale)."""
    with all_or_nothing():
        for plan in plans:
            plan.apply(context)
