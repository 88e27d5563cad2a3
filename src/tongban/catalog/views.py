"""Public pages of the service catalogue: search, guides, bundles, power lists and the visits lists.

The catalogue is public information: no login, only published items and bundles. Apply buttons link by path
to the cases app's guided application (``/cases/guide/item/<code>/``, ``/cases/guide/bundle/<code>/``).
"""

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.vary import vary_on_headers

from tongban.identity.models import Department
from tongban.identity.selectors import department_get, department_list

from . import selectors
from .models import Material, in_language
from .schema import field_order, field_title

SEARCH_LIMIT = 50


@vary_on_headers("HX-Request")
def search(request):
    """Search the catalogue; with htmx, typing swaps in just the results."""
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    hits = selectors.catalog_search(query, SEARCH_LIMIT) if query else []
    context = {
        "query": query,
        "hits": hits,
        "bundles": [] if query else selectors.bundle_list(),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    return render(request, "catalog/_search_results.html" if partial else "catalog/search.html", context)


def _form_fields(schema, ui):
    properties = (schema or {}).get("properties", {})
    required = set((schema or {}).get("required", []))
    return [
        {"name": name, "title": field_title(properties[name], name), "required": name in required}
        for name in field_order(schema, ui)
    ]


def item_detail(request, code):
    """An item's guide (办事指南)."""
    item = selectors.item_get(code)
    if item is None:
        raise Http404(_("No published service with this code."))
    context = {
        "item": item,
        "materials": list(item.materials.all()),
        "legal_bases": [
            line.strip() for line in in_language(item, "legal_basis").splitlines() if line.strip()
        ],
        "steps": [line.strip() for line in in_language(item, "procedure").splitlines() if line.strip()],
        "form_fields": _form_fields(item.form_schema, item.form_ui),
        "bundles": [b for b in item.bundles.all() if b.status == "published"],
        "apply_url": f"/cases/guide/item/{item.code}/",
        "Necessity": Material.Necessity,
    }
    return render(request, "catalog/item_detail.html", context)


def bundle_detail(request, code):
    """A bundle (一件事): its items, the merged list of materials, its limits."""
    bundle = selectors.bundle_get(code)
    if bundle is None:
        raise Http404(_("No published bundle with this code."))
    links = list(bundle.bundle_items.all())
    context = {
        "bundle": bundle,
        "links": links,
        "materials": selectors.bundle_materials_list(bundle),
        "form_fields": _form_fields(bundle.form_schema, bundle.form_ui),
        "legal_limit_sum": sum(link.item.legal_limit_days for link in links),
        "apply_url": f"/cases/guide/bundle/{bundle.code}/",
    }
    return render(request, "catalog/bundle_detail.html", context)


def departments(request):
    """The municipal departments, each linking to its power list."""
    context = {"departments": department_list(level=Department.Level.CITY)}
    return render(request, "catalog/departments.html", context)


def power_list(request, code):
    """A department's power list (权力清单) with the legal basis of each item."""
    department = department_get(code)
    if department is None:
        raise Http404(_("No department with this code."))
    groups = selectors.power_list(department)
    context = {"department": department, "groups": groups, "count": sum(len(g["items"]) for g in groups)}
    return render(request, "catalog/power_list.html", context)


def visits(request, max_visits):
    """The "0 visits" (零跑动) or "at most one visit" (最多跑一次) list."""
    found = selectors.visits_list(max_visits)
    context = {"max_visits": max_visits, "items": found["items"], "bundles": found["bundles"]}
    return render(request, "catalog/visits.html", context)
