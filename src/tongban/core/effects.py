"""Named step effects: what approving a process step does to the data of the app that owns it.

The app that owns the data registers its effects when it is ready (``exchange/effects.py`` for the registries,
``licences/effects.py`` for e-licences); a catalogue item names the effects its process steps trigger
(``ServiceItem.step_effects``); ``cases`` runs them, in the transaction of the step, through one function. So a
service designer who builds a new bundle from existing items gets their effects without code, and nothing
below the case engine is keyed by an item code.

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

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .audit import Actor
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
