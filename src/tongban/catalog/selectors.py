"""Reads of the service catalogue. The catalogue is public information: only published items and bundles
are listed unless a caller asks for drafts (``published=False``, the admin and the import)."""

from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Prefetch, Q, Value, When

from tongban.core.refcache import reference_cached
from tongban.identity.models import Department

from .models import (
    Bundle,
    BundleItem,
    ItemType,
    Material,
    PublicationStatus,
    ServiceItem,
    ServiceObject,
    in_language,
)
from .text import query_tokens

__all__ = [
    "SearchHit",
    "bundle_get",
    "bundle_list",
    "bundle_materials_list",
    "catalog_search",
    "item_get",
    "item_list",
    "power_list",
    "visits_list",
]


def _items(published):
    qs = ServiceItem.objects.select_related("department", "department__parent").prefetch_related("materials")
    return qs.filter(status=PublicationStatus.PUBLISHED) if published else qs


def _bundles(published):
    links = BundleItem.objects.select_related("item", "item__department").order_by("position", "pk")
    qs = Bundle.objects.select_related("lead_department").prefetch_related(
        Prefetch("bundle_items", queryset=links)
    )
    return qs.filter(status=PublicationStatus.PUBLISHED) if published else qs


def item_get(code: str, *, published: bool = True) -> ServiceItem | None:
    """A service item by its implementation code (published only, unless ``published=False``), or None."""
    return _items(published).filter(code=code).first()


def _department_filter(department):
    if isinstance(department, str):
        return Q(department__code=department) | Q(department__parent__code=department)
    return Q(department=department) | Q(department__parent=department)


def item_list(
    *,
    published: bool = True,
    department=None,
    level: str | None = None,
    service_object: str | None = None,
    item_type: str | None = None,
    visits: int | None = None,
):
    """Service items ordered by code.

    ``department`` (a Department or code) includes the items of its district branches; ``service_object``
    ``person`` or ``organisation`` includes items for both; ``visits=0`` lists the items needing no visit
    (零跑动), ``visits=1`` those needing at most one (最多跑一次).
    """
    qs = _items(published)
    if department:
        qs = qs.filter(_department_filter(department))
    if level:
        qs = qs.filter(level=level)
    if service_object:
        qs = qs.filter(service_object__in=[service_object, ServiceObject.BOTH])
    if item_type:
        qs = qs.filter(item_type=item_type)
    if visits is not None:
        qs = qs.filter(visits_required__lte=visits)
    return qs.order_by("code")


def bundle_get(code: str, *, published: bool = True) -> Bundle | None:
    """A bundle (一件事) by code (published only, unless ``published=False``), or None."""
    return _bundles(published).filter(code=code).first()


def bundle_list(*, published: bool = True, visits: int | None = None):
    """Bundles ordered by code."""
    qs = _bundles(published)
    if visits is not None:
        qs = qs.filter(visits_required__lte=visits)
    return qs.order_by("code")


def bundle_materials_list(bundle: Bundle) -> list[Material]:
    """Everything the bundle may ask for, once per material code ("one notice"): each material carries
    ``item_codes`` and ``item_names`` of the items asking for it. Materials the bundle itself produces (the
    licence type one of its items issues) are left out."""
    links = list(bundle.bundle_items.all())
    produced = {link.item.result_licence_type for link in links if link.item.result_licence_type}
    merged: dict[str, Material] = {}
    for link in links:
        for material in link.item.materials.all():
            if material.code in produced:
                continue
            if material.code not in merged:
                material.item_codes, material.item_names = [], []
                merged[material.code] = material
            merged[material.code].item_codes.append(link.item.code)
            merged[material.code].item_names.append(link.item.name)
    return list(merged.values())


# --- search ------------------------------------------------------------------------------------------


@dataclass
class SearchHit:
    """One search result: an item or a bundle, with how many query tokens it matched."""

    kind: str  # "item" | "bundle"
    object: ServiceItem | Bundle
    matched: int
    score: int
    tokens: list[str] = field(default_factory=list)

    @property
    def code(self):
        return self.object.code

    @property
    def name(self):
        return self.object.name

    @property
    def is_bundle(self):
        return self.kind == "bundle"


def _flag(condition, weight):
    return Case(When(condition, then=Value(weight)), default=Value(0), output_field=IntegerField())


def _ranked(qs, tokens, query, *, require_all):
    count = sum((_flag(Q(search_text__contains=t), 1) for t in tokens), Value(0))
    # The whole query in the name counts most, then each token found in the name.
    name_bonus = sum(
        (_flag(Q(name_zh__icontains=t), 5) for t in tokens), _flag(Q(name_zh__icontains=query), 100)
    )
    condition = Q()
    for token in tokens:
        if require_all:
            condition &= Q(search_text__contains=token)
        else:
            condition |= Q(search_text__contains=token)
    return qs.filter(condition).annotate(tb_matched=count, tb_bonus=name_bonus)


def catalog_search(query: str, limit: int = 20) -> list[SearchHit]:
    """Published items and bundles matching ``query`` (Chinese full text, jieba tokens), best first.

    A hit holds every token of the query; when nothing does, the hits are those holding any token, ranked by
    how many they hold. A name containing the whole query ranks first; bundles before items on a tie (one
    application does more). Works the same on SQLite and PostgreSQL (``LIKE`` over the stored tokens).
    """
    query = (query or "").replace("\x00", "").strip()[:100]
    tokens = query_tokens(query)
    if not tokens:
        return []
    hits = []
    for require_all in (True, False):
        for kind, qs in (("bundle", _bundles(True)), ("item", _items(True))):
            for obj in _ranked(qs, tokens, query.lower(), require_all=require_all)[: limit * 2]:
                score = obj.tb_matched * 10 + obj.tb_bonus + (1 if kind == "bundle" else 0)
                hits.append(
                    SearchHit(kind=kind, object=obj, matched=obj.tb_matched, score=score, tokens=tokens)
                )
        if hits:
            break
    hits.sort(key=lambda h: (-h.score, h.object.code))
    return hits[:limit]


# --- power list and visits ---------------------------------------------------------------------------


def power_list(department) -> list[dict]:
    """The power list (权力清单) of a department and its district branches: published items grouped by item
    type in the order of ``ItemType``, each group ``{"item_type", "label", "items"}``; every item carries its
    ``legal_basis`` (one law or regulation a line, see ``legal_bases``)."""
    if isinstance(department, str):
        department = Department.objects.filter(code=department).first()
        if department is None:
            return []
    items = list(item_list(department=department).order_by("department__level", "code"))
    groups = []
    for value, label in ItemType.choices:
        members = [i for i in items if i.item_type == value]
        for item in members:
            item.legal_bases = [
                line.strip() for line in in_language(item, "legal_basis").splitlines() if line.strip()
            ]
        if members:
            groups.append({"item_type": value, "label": label, "items": members})
    return groups


def visits_list(max_visits: int) -> dict:
    """Published items and bundles needing at most ``max_visits`` visits: ``{"items": ..., "bundles": ...}``."""
    return {"items": item_list(visits=max_visits), "bundles": bundle_list(visits=max_visits)}


@reference_cached(ServiceItem, Bundle)
def _service_names_by_code() -> dict:
    """Every item's and bundle's ``(Chinese name, English name)`` by code (bundles win a shared code)."""
    names = {code: (zh, en) for code, zh, en in ServiceItem.objects.values_list("code", "name_zh", "name_en")}
    names |= {code: (zh, en) for code, zh, en in Bundle.objects.values_list("code", "name_zh", "name_en")}
    return names


def service_name_get(code: str) -> str:
    """The name of the item or bundle ``code`` in the page's language ("" when there is none)."""
    from django.utils.translation import get_language

    zh, en = _service_names_by_code().get(code or "", ("", ""))
    return en if en and (get_language() or "").startswith("en") else zh


@reference_cached(Material)
def material_names_en() -> dict:
    """Every material's English name by ``(item code, material code)``, for pages that name a case's materials in
    English (a case stores the Chinese name it was submitted under; kept a minute per process)."""
    return {
        (item, code): name
        for item, code, name in Material.objects.exclude(name_en="").values_list(
            "item__code", "code", "name_en"
        )
    }


@reference_cached(ServiceItem, Bundle)
def service_names_en() -> dict:
    """Every item's and bundle's English name by ``("item" | "bundle", pk)``, for pages that name a case's service
    in English (kept a minute per process, forgotten when a service is saved here)."""
    names = {
        ("item", pk): name
        for pk, name in ServiceItem.objects.exclude(name_en="").values_list("pk", "name_en")
    }
    names |= {
        ("bundle", pk): name for pk, name in Bundle.objects.exclude(name_en="").values_list("pk", "name_en")
    }
    return names
