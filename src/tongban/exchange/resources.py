"""The contract between the registries and the sharing layer: what data resources exist and how to read them.

A registry module (``exchange/registries/*.py``) describes each resource it owns with ``register_resource``:

    register_resource(ResourceSpec(
        code="birth-record",
        owner="health",                      # the owning department's code
        name_zh="出生医学证明信息", name_en="Birth medical certificate data",
        subject="person",                    # what a lookup names: person | organisation | property_unit
        fields={"certificate_number": Field("string", "internal"), "baby_name": Field("string", "personal"), ...},
        sharing="conditional",               # unconditional | conditional | not_shared
        frequency="realtime", legal_basis="《母婴保健法》...",
        fetch=fetch_birth_record,            # (subject_key, fields) -> dict | list[dict] | None
    ))

``subject_key`` is a resident ID for ``person``, a credit code for ``organisation``, a 不动产单元号 for
``property_unit``. ``fetch`` returns the record(s) restricted to ``fields`` (the sharing layer passes only granted
fields), or None when the registry holds nothing for the subject. It reads; it never writes, audits or checks
grants: the sharing layer (``exchange.services.lookup``) does that around it, and ``person_ids`` tells it whose
personal data a lookup touched (for "who used my data").

Sensitivity of a field: ``public`` (may show on a public verification page), ``internal``, ``personal``,
``sensitive`` (health, finance, identity numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

SUBJECTS = ("person", "organisation", "property_unit")
SHARING_CLASSES = ("unconditional", "conditional", "not_shared")
SENSITIVITIES = ("public", "internal", "personal", "sensitive")


@dataclass(frozen=True)
class Field:
    type: str  # string | integer | number | boolean | date | datetime | list
    sensitivity: str = "personal"
    label_zh: str = ""
    label_en: str = ""


@dataclass(frozen=True)
class ResourceSpec:
    code: str
    owner: str
    name_zh: str
    name_en: str
    subject: str
    fields: dict[str, Field]
    sharing: str
    frequency: str
    legal_basis: str
    fetch: Callable = field(compare=False, repr=False)
    # Optional: the Person ids a lookup of ``subject_key`` concerns (default: the person with that resident ID).
    person_ids: Callable | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.subject not in SUBJECTS:
            raise ValueError(f"{self.code}: subject must be one of {SUBJECTS}")
        if self.sharing not in SHARING_CLASSES:
            raise ValueError(f"{self.code}: sharing must be one of {SHARING_CLASSES}")
        for name, spec in self.fields.items():
            if spec.sensitivity not in SENSITIVITIES:
                raise ValueError(f"{self.code}.{name}: sensitivity must be one of {SENSITIVITIES}")


RESOURCES: dict[str, ResourceSpec] = {}


def register_resource(spec: ResourceSpec) -> ResourceSpec:
    RESOURCES[spec.code] = spec
    return spec


def resource_spec(code: str) -> ResourceSpec | None:
    _load()
    return RESOURCES.get(code)


def resource_specs() -> list[ResourceSpec]:
    _load()
    return sorted(RESOURCES.values(), key=lambda s: s.code)


_loaded = False


def _load() -> None:
    """Import every module of ``exchange/registries`` once, so their ``register_resource`` calls run."""
    global _loaded
    if _loaded:
        return
    import importlib
    import pkgutil

    from . import registries

    for module in pkgutil.iter_modules(registries.__path__):
        importlib.import_module(f"{registries.__name__}.{module.name}")
    _loaded = True
