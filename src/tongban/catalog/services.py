"""Writes of the service catalogue: items, their materials, bundles (一件事), publication and search tokens.

Each service is atomic and keyword-only, takes the acting ``actor``, validates with ``full_clean()`` and the
form-schema check (bad input raises ``ValidationError`` with field messages), refreshes the search tokens,
and writes its audit entry and event (``catalog.item_created`` ...) in the same transaction.

Also here for the cases app: :func:`form_validate` (answers against a form) and :func:`required_materials`.
"""

import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tongban.core.audit import Actor, audit_record
from tongban.core.events import event_emit
from tongban.core.exceptions import Conflict

from .models import Bundle, BundleItem, Material, PublicationStatus, ServiceItem
from .schema import form_merge, form_validate, schema_check, ui_check  # noqa: F401 (form_validate: for the cases app)
from .text import search_text

ITEM_FIELDS = tuple(
    f.name
    for f in ServiceItem._meta.concrete_fields
    if f.name not in {"id", "created_at", "updated_at", "status", "search_text", "code"}
)
MATERIAL_FIELDS = (
    "name",
    "name_en",
    "source",
    "form",
    "copies",
    "necessity",
    "condition",
    "condition_en",
    "condition_field",
    "note",
    "note_en",
    "position",
    "satisfied_by",
    "evidence",
    "evidence_subject",
)
BUNDLE_FIELDS = (
    "name_zh",
    "name_en",
    "description",
    "description_en",
    "lead_department",
    "service_object",
    "legal_limit_days",
    "promised_limit_days",
    "visits_required",
    "visits_reason",
    "visits_reason_en",
    "process_key",
    "submission_checks",
)


def _unknown(changes, allowed):
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise TypeError(f"unknown or read-only fields: {', '.join(unknown)}")


def _audit(actor, action, subject_type, obj, **details):
    audit_record(actor=actor, action=action, subject_type=subject_type, subject_id=obj.code, details=details)
    event_emit(
        action,
        {"code": obj.code, "status": obj.status, **details},
        subject_type=subject_type,
        subject_id=obj.code,
    )


# --- search tokens -----------------------------------------------------------------------------------


def _department_names(department):
    names = [department.name_zh, department.name_en]
    if department.parent_id:
        names += [department.parent.name_zh, department.parent.name_en]
    return names


def item_tokens_refresh(*, item: ServiceItem) -> str:
    """Recompute and store the item's search tokens (name, department, result, materials, conditions)."""
    parts = [item.name_zh, item.name_en, item.code, item.basic_code, *_department_names(item.department)]
    parts += [item.result_name, item.conditions]
    parts += [m.name for m in item.materials.all()]
    parts += [m.condition for m in item.materials.all()]
    text = search_text(*parts)
    if text != item.search_text:
        item.search_text = text
        ServiceItem.objects.filter(pk=item.pk).update(search_text=text)
    return text


def bundle_tokens_refresh(*, bundle: Bundle) -> str:
    """Recompute and store the bundle's search tokens (its names, lead department and its items)."""
    parts = [bundle.name_zh, bundle.name_en, bundle.code, bundle.description]
    parts += _department_names(bundle.lead_department)
    for link in bundle.bundle_items.select_related("item"):
        parts += [link.item.name_zh, link.item.name_en, link.item.result_name]
    text = search_text(*parts)
    if text != bundle.search_text:
        bundle.search_text = text
        Bundle.objects.filter(pk=bundle.pk).update(search_text=text)
    return text


# --- items -------------------------------------------------------------------------------------------


def _item_check(item: ServiceItem):
    item.full_clean()
    schema_check(item.form_schema)
    ui_check(item.form_ui, item.form_schema)


def _conditions_check(item: ServiceItem, materials):
    """A material's condition field, and the field naming whose record stands for it (its evidence subject), must
    be properties of the item's form: a subject the form lacks leaves the data hub nobody to look up, and every
    applicant is asked to upload what the hub holds."""
    materials = list(materials)
    properties = (item.form_schema or {}).get("properties", {})
    errors = {}
    bad = [m.condition_field for m in materials if m.condition_field and m.condition_field not in properties]
    if bad:
        errors["condition_field"] = _("Condition fields not in the item's form: %(names)s.") % {
            "names": ", ".join(sorted(set(bad)))
        }
    bad = [
        m.evidence_subject for m in materials if m.evidence_subject and m.evidence_subject not in properties
    ]
    if bad:
        errors["evidence_subject"] = _("Evidence subjects not in the item's form: %(names)s.") % {
            "names": ", ".join(sorted(set(bad)))
        }
    if errors:
        raise ValidationError(errors)


def _bundles_rebuild_for(item: ServiceItem):
    for bundle in Bundle.objects.filter(bundle_items__item=item).distinct():
        try:
            _bundle_form_store(bundle)
        except ValidationError as exc:
            raise ValidationError(
                {
                    "form_schema": _("The form no longer merges into bundle %(bundle)s: %(error)s")
                    % {"bundle": bundle.code, "error": " ".join(exc.messages)}
                }
            ) from None
        bundle_tokens_refresh(bundle=bundle)


@transaction.atomic
def item_create(
    *, actor: Actor, code: str, materials=None, status=PublicationStatus.DRAFT, **fields
) -> ServiceItem:
    """Create a service item (a draft unless ``status`` says otherwise), with ``materials`` (dicts) if given."""
    _unknown(fields, ITEM_FIELDS)
    item = ServiceItem(code=code, status=PublicationStatus.DRAFT, **fields)
    _item_check(item)
    item.save()
    if materials is not None:
        _materials_replace(item, materials)
    item_tokens_refresh(item=item)
    _audit(actor, "catalog.item_created", "service_item", item)
    if status != PublicationStatus.DRAFT:
        item_status_set(actor=actor, item=item, status=status)
    return item


@transaction.atomic
def item_update(*, actor: Actor, item: ServiceItem, **changes) -> ServiceItem:
    """Change an item's fields; a changed form is re-merged into the bundles that hold the item."""
    _unknown(changes, ITEM_FIELDS)
    for name, value in changes.items():
        setattr(item, name, value)
    _item_check(item)
    _conditions_check(item, item.materials.all())
    item.save()
    if {"form_schema", "form_ui", "name_zh"} & set(changes):
        _bundles_rebuild_for(item)
    item_tokens_refresh(item=item)
    _audit(actor, "catalog.item_updated", "service_item", item, fields=sorted(changes))
    return item


def _material_build(item, data):
    data = dict(data)
    code = data.pop("code")
    _unknown(data, MATERIAL_FIELDS)
    material = Material.objects.filter(item=item, code=code).first() or Material(item=item, code=code)
    for name, value in data.items():
        setattr(material, name, value)
    material.full_clean()
    return material


def _materials_replace(item, materials):
    built = []
    for position, data in enumerate(materials):
        data = dict(data)
        data.setdefault("position", position)
        built.append(_material_build(item, data))
    codes = [m.code for m in built]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValidationError(
            {"code": _("Material codes used twice: %(codes)s.") % {"codes": ", ".join(duplicates)}}
        )
    _conditions_check(item, built)
    item.materials.exclude(code__in=codes).delete()
    for material in built:
        material.save()
    return built


@transaction.atomic
def item_materials_set(*, actor: Actor, item: ServiceItem, materials) -> list[Material]:
    """Replace the item's materials with ``materials`` (dicts with ``code`` and Material fields), kept in order.

    Materials of the same code are updated in place; those not listed are removed.
    """
    built = _materials_replace(item, materials)
    item_tokens_refresh(item=item)
    _audit(actor, "catalog.item_materials_set", "service_item", item, materials=[m.code for m in built])
    return built


@transaction.atomic
def material_save(*, actor: Actor, item: ServiceItem, code: str, **fields) -> Material:
    """Create or update one material of an item (by its code)."""
    material = _material_build(item, {"code": code, **fields})
    _conditions_check(item, [material])
    material.save()
    item_tokens_refresh(item=item)
    _audit(actor, "catalog.material_saved", "service_item", item, material=code)
    return material


@transaction.atomic
def item_publish(*, actor: Actor, item: ServiceItem) -> ServiceItem:
    """Publish an item: it appears in the public catalogue and can be applied for."""
    _item_check(item)
    _conditions_check(item, item.materials.all())
    if item.status == PublicationStatus.PUBLISHED:
        return item
    item.status = PublicationStatus.PUBLISHED
    item.save(update_fields=["status", "updated_at"])
    _audit(actor, "catalog.item_published", "service_item", item)
    return item


@transaction.atomic
def item_withdraw(*, actor: Actor, item: ServiceItem) -> ServiceItem:
    """Withdraw an item from the public catalogue; refused while a published bundle holds it."""
    bundles = list(
        Bundle.objects.filter(bundle_items__item=item, status=PublicationStatus.PUBLISHED).values_list(
            "code", flat=True
        )
    )
    if bundles:
        raise Conflict(
            _("Withdraw the bundles that hold this item first: %(bundles)s.")
            % {"bundles": ", ".join(bundles)},
            code="item_in_published_bundle",
        )
    if item.status == PublicationStatus.WITHDRAWN:
        return item
    item.status = PublicationStatus.WITHDRAWN
    item.save(update_fields=["status", "updated_at"])
    _audit(actor, "catalog.item_withdrawn", "service_item", item)
    return item


@transaction.atomic
def item_status_set(*, actor: Actor, item: ServiceItem, status: str) -> ServiceItem:
    """Move an item to ``status`` (publish, withdraw, or back to draft) through the matching service."""
    if status == PublicationStatus.PUBLISHED:
        return item_publish(actor=actor, item=item)
    if status == PublicationStatus.WITHDRAWN:
        return item_withdraw(actor=actor, item=item)
    if status != PublicationStatus.DRAFT:
        raise ValidationError({"status": _("Unknown status %(status)s.") % {"status": status}})
    if item.status != status:
        if item.status == PublicationStatus.PUBLISHED:
            item_withdraw(actor=actor, item=item)
        item.status = status
        item.save(update_fields=["status", "updated_at"])
        _audit(actor, "catalog.item_drafted", "service_item", item)
    return item


# --- bundles -----------------------------------------------------------------------------------------


def bundle_form_build(bundle: Bundle) -> tuple[dict, dict]:
    """The bundle's merged ``(form_schema, form_ui)`` from its items' forms, in item order.

    Raises ``ValidationError`` on ``form_schema`` when two items define a same-named field differently.
    """
    links = list(bundle.bundle_items.select_related("item").order_by("position", "pk"))
    schema, ui = form_merge(
        [(link.item.code, link.item.name_zh, link.item.form_schema, link.item.form_ui) for link in links],
        title=bundle.name_zh,
    )
    english = {link.item.code: link.item.name_en for link in links if link.item.name_en}
    for section in ui.get("sections", []):
        if section.get("item") in english:
            section["title_en"] = english[section["item"]]  # an English page's section heading
    return schema, ui


def _bundle_form_store(bundle: Bundle):
    schema, ui = bundle_form_build(bundle)
    if schema != bundle.form_schema or ui != bundle.form_ui:
        bundle.form_schema, bundle.form_ui = schema, ui
        Bundle.objects.filter(pk=bundle.pk).update(form_schema=schema, form_ui=ui)


def _items_resolve(items):
    resolved = []
    for entry in items:
        item = entry
        if isinstance(entry, str):
            item = ServiceItem.objects.filter(code=entry).first()
            if item is None:
                raise ValidationError({"items": _("No service item with code %(code)s.") % {"code": entry}})
        resolved.append(item)
    codes = [i.code for i in resolved]
    if len(set(codes)) != len(codes):
        raise ValidationError({"items": _("A bundle holds each item once.")})
    return resolved


def _bundle_items_replace(bundle, items):
    items = _items_resolve(items)
    bundle.bundle_items.exclude(item__in=items).delete()
    for position, item in enumerate(items):
        BundleItem.objects.update_or_create(bundle=bundle, item=item, defaults={"position": position})
    if bundle.status == PublicationStatus.PUBLISHED:
        _bundle_publishable(bundle)
    _bundle_form_store(bundle)
    bundle_tokens_refresh(bundle=bundle)
    return items


@transaction.atomic
def bundle_create(*, actor: Actor, code: str, items=(), status=PublicationStatus.DRAFT, **fields) -> Bundle:
    """Create a bundle of ``items`` (ServiceItems or codes, in order) and build its merged form."""
    _unknown(fields, BUNDLE_FIELDS)
    bundle = Bundle(code=code, status=PublicationStatus.DRAFT, **fields)
    bundle.full_clean()
    bundle.save()
    items = _bundle_items_replace(bundle, items)
    _audit(actor, "catalog.bundle_created", "bundle", bundle, items=[i.code for i in items])
    if status == PublicationStatus.PUBLISHED:
        bundle_publish(actor=actor, bundle=bundle)
    return bundle


@transaction.atomic
def bundle_update(*, actor: Actor, bundle: Bundle, items=None, **changes) -> Bundle:
    """Change a bundle's fields, and its items when ``items`` is given; the merged form is rebuilt."""
    _unknown(changes, BUNDLE_FIELDS)
    for name, value in changes.items():
        setattr(bundle, name, value)
    bundle.full_clean()
    bundle.save()
    details = {"fields": sorted(changes)}
    if items is not None:
        details["items"] = [i.code for i in _bundle_items_replace(bundle, items)]
    else:
        _bundle_form_store(bundle)
        bundle_tokens_refresh(bundle=bundle)
    _audit(actor, "catalog.bundle_updated", "bundle", bundle, **details)
    return bundle


@transaction.atomic
def bundle_items_set(*, actor: Actor, bundle: Bundle, items) -> Bundle:
    """Replace a bundle's items (ServiceItems or codes, in order) and rebuild its merged form."""
    items = _bundle_items_replace(bundle, items)
    _audit(actor, "catalog.bundle_items_set", "bundle", bundle, items=[i.code for i in items])
    return bundle


def _bundle_publishable(bundle):
    links = list(bundle.bundle_items.select_related("item"))
    if len(links) < 2:
        raise ValidationError({"items": _("A bundle holds at least two service items.")})
    drafts = [link.item.code for link in links if link.item.status != PublicationStatus.PUBLISHED]
    if drafts:
        raise ValidationError(
            {"items": _("Publish these items first: %(codes)s.") % {"codes": ", ".join(sorted(drafts))}}
        )


@transaction.atomic
def bundle_publish(*, actor: Actor, bundle: Bundle) -> Bundle:
    """Publish a bundle of at least two published items whose forms merge."""
    bundle.full_clean()
    _bundle_publishable(bundle)
    _bundle_form_store(bundle)
    if bundle.status == PublicationStatus.PUBLISHED:
        return bundle
    bundle.status = PublicationStatus.PUBLISHED
    bundle.save(update_fields=["status", "updated_at"])
    _audit(actor, "catalog.bundle_published", "bundle", bundle)
    return bundle


@transaction.atomic
def bundle_withdraw(*, actor: Actor, bundle: Bundle) -> Bundle:
    """Withdraw a bundle from the public catalogue."""
    if bundle.status == PublicationStatus.WITHDRAWN:
        return bundle
    bundle.status = PublicationStatus.WITHDRAWN
    bundle.save(update_fields=["status", "updated_at"])
    _audit(actor, "catalog.bundle_withdrawn", "bundle", bundle)
    return bundle


@transaction.atomic
def bundle_status_set(*, actor: Actor, bundle: Bundle, status: str) -> Bundle:
    """Move a bundle to ``status`` through the matching service."""
    if status == PublicationStatus.PUBLISHED:
        return bundle_publish(actor=actor, bundle=bundle)
    if status == PublicationStatus.WITHDRAWN:
        return bundle_withdraw(actor=actor, bundle=bundle)
    if status != PublicationStatus.DRAFT:
        raise ValidationError({"status": _("Unknown status %(status)s.") % {"status": status}})
    if bundle.status != status:
        bundle.status = status
        bundle.save(update_fields=["status", "updated_at"])
        _audit(actor, "catalog.bundle_drafted", "bundle", bundle)
    return bundle


# --- materials an application needs ------------------------------------------------------------------


def _needed(material: Material, form_data: dict) -> bool:
    if material.necessity == Material.Necessity.REQUIRED:
        return True
    if material.necessity == Material.Necessity.CONDITIONAL and material.condition_field:
        return bool((form_data or {}).get(material.condition_field))
    return False


def service_items(service) -> list[ServiceItem]:
    """A service's items in order (the item itself, or a bundle's items), materials and department prefetched."""
    if isinstance(service, ServiceItem):
        return [service]
    return [
        link.item
        for link in service.bundle_items.select_related("item", "item__department")
        .prefetch_related("item__materials")
        .order_by("position", "pk")
    ]


def required_materials(service, form_data: dict | None = None, *, items=None) -> list[Material]:
    """The materials an application with ``form_data`` must provide, in order.

    For a ServiceItem: its required materials, plus conditional ones whose ``condition_field`` is true in
    ``form_data``. For a Bundle: the same over its items in order, one material per code (the first item's;
    ``item_code`` names that item and ``item_codes`` every item that asks for it), leaving out a material whose
    code is the licence type an item of the bundle issues: the bundle produces it (the birth medical
    certificate of the newborn bundle is not uploaded for the household registration).

    ``items`` may give the service's items in order with their materials prefetched (``service_items``), so a
    caller that needs them anyway spends no further query.
    """
    form_data = form_data or {}
    if isinstance(service, ServiceItem):
        found = [m for m in service.materials.all() if _needed(m, form_data)]
        for material in found:
            material.item_code = service.code
            material.item_codes = [service.code]
        return found
    bundle_items = items if items is not None else service_items(service)
    produced = {item.result_licence_type for item in bundle_items if item.result_licence_type}
    merged: dict[str, Material] = {}
    for item in bundle_items:
        for material in item.materials.all():
            if material.code in produced or not _needed(material, form_data):
                continue
            if material.code in merged:
                merged[material.code].item_codes.append(item.code)
                continue
            material.item_code = item.code
            material.item_codes = [item.code]
            merged[material.code] = material
    return list(merged.values())


def catalog_tokens_refresh() -> int:
    """Recompute every item's and bundle's search tokens (after a dictionary change); returns how many changed."""
    changed = 0
    for item in ServiceItem.objects.select_related("department__parent").prefetch_related("materials"):
        before = item.search_text
        changed += item_tokens_refresh(item=item) != before
    for bundle in Bundle.objects.select_related("lead_department__parent"):
        before = bundle.search_text
        changed += bundle_tokens_refresh(bundle=bundle) != before
    return changed


# --- step effects ----------------------------------------------------------------------------------------------
# What approving a process step changes in the owning departments' data is named on the items
# (``ServiceItem.step_effects``); a bundle's step triggers the effects its items name for that step, in the
# bundle's item order. Resolved from an in-process index (two queries to build it), so a transition costs no
# statement for this: a save in this process refreshes it at once, another process's save within
# ``STEP_EFFECTS_CACHE_SECONDS``.

STEP_EFFECTS_CACHE_SECONDS = 30.0
_effects_index: tuple | None = None  # (built at, {item id: {step: names}}, {bundle id: [item ids]}, steps)


def step_effects_forget(**_kwargs) -> None:
    """Drop the step-effects index (connected to the saves of items and bundles)."""
    global _effects_index
    _effects_index = None


def _step_effects_index() -> tuple:
    global _effects_index
    index = _effects_index
    now = time.monotonic()
    if index is not None and now - index[0] < STEP_EFFECTS_CACHE_SECONDS:
        return index
    items = {
        pk: {step: tuple(names) for step, names in effects.items() if names}
        for pk, effects in ServiceItem.objects.values_list("pk", "step_effects")
        if effects
    }
    bundles: dict = {}
    links = BundleItem.objects.filter(item_id__in=list(items)).order_by("bundle_id", "position", "pk")
    for bundle_id, item_id in links.values_list("bundle_id", "item_id"):
        bundles.setdefault(bundle_id, []).append(item_id)
    steps = frozenset(step for effects in items.values() for step in effects)
    _effects_index = index = (now, items, bundles, steps)
    return index


def step_has_effects(step: str) -> bool:
    """Does any item name an effect for a step with this id? (False: approving it changes no registry.)"""
    return step in _step_effects_index()[3]


def step_effects_for(*, step: str, item_id=None, bundle_id=None) -> tuple[str, ...]:
    """The effect names approving ``step`` of a case of the item ``item_id`` or the bundle ``bundle_id``
    triggers, in order and each once."""
    _built, items, bundles, steps = _step_effects_index()
    if step not in steps:
        return ()
    item_ids = bundles.get(bundle_id, ()) if bundle_id else ([item_id] if item_id else [])
    names: list[str] = []
    for pk in item_ids:
        for name in items.get(pk, {}).get(step, ()):
            if name not in names:
                names.append(name)
    return tuple(names)


def step_effect_evidence(*, item_id=None, bundle_id=None) -> dict[str, tuple]:
    """What an e-licence a step issues is evidence for, in a case of this item or bundle:
    ``{licence type or material code: ((item code, material code, material name), ...)}``. Cached with the index."""
    index = _step_effects_index()
    key = (item_id, bundle_id)
    cache = _evidence_cache.get(index[0])
    if cache is None:
        _evidence_cache.clear()
        cache = _evidence_cache[index[0]] = {}
    if key in cache:
        return cache[key]
    materials = Material.objects.filter(
        **({"item__bundles": bundle_id} if bundle_id else {"item_id": item_id})
    )
    found: dict[str, list] = {}
    for item_code, code, name, evidence in materials.order_by("item_id", "position").values_list(
        "item__code", "code", "name", "evidence"
    ):
        for wanted in {code, evidence} - {""}:
            found.setdefault(wanted, []).append((item_code, code, name))
    cache[key] = result = {k: tuple(v) for k, v in found.items()}
    return result


_evidence_cache: dict = {}
