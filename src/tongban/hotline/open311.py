"""Open311 GeoReport v2 at ``/open311/v2/``: discovery, services, requests and tokens, in JSON and XML.

A POST (form-encoded, with an ``api_key``) takes a ticket on the ``open311`` channel through
``services.ticket_create``; the answer is synchronous, so the service_request_id is the ticket number and a
token is that same number. Reads are public and list the tickets that came in through Open311. Errors use the
spec's format, ``[{"code": 400, "description": "..."}]``, with the same HTTP status. Each client may POST at most
``TONGBAN_OPEN311_POSTS_PER_MINUTE`` requests in a fixed one-minute window (429 above it): each accepted POST is
a ticket, each refused one gets an error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from tongban.core.audit import Actor, audit_record
from tongban.core.ids import DISTRICTS
from tongban.identity.selectors import actor_for

from . import services
from .models import Open311Client, Open311Request, Ticket

MAX_RESULTS = 1000
DEFAULT_DAYS = 90
KEY_PREFIX_LENGTH = 8
CLOSED = (Ticket.Status.CLOSED, Ticket.Status.ANSWERED, Ticket.Status.MERGED)


def posts_per_minute() -> int:
    return int(getattr(settings, "TONGBAN_OPEN311_POSTS_PER_MINUTE", 60))


# ---------------------------------------------------------------------------------------------------------
# Services: each ticket type × a handful of common topics.


@dataclass(frozen=True)
class Topic:
    code: str
    name: str
    group: str
    keywords: tuple[str, ...]


TOPICS = (
    Topic("noise", "噪声扰民", "环境", ("噪音", "施工", "夜间", "扰民")),
    Topic("sewer", "排水管道", "市政设施", ("下水道", "堵塞", "污水", "窨井")),
    Topic("road-damage", "道路破损", "市政设施", ("路面", "坑洼", "人行道", "井盖")),
    Topic("illegal-parking", "违章停车", "交通", ("停车", "占道", "堵路", "消防通道")),
    Topic("prepaid-card", "预付卡退费", "消费维权", ("预付卡", "退费", "健身房", "培训机构")),
    Topic("garbage", "垃圾清运", "市容环卫", ("垃圾", "分类", "清运", "异味")),
    Topic("other", "其他事项", "其他", ("其他",)),
)
TYPE_NAMES = {
    Ticket.Type.CONSULT: ("咨询", "咨询政策、办事流程或进展"),
    Ticket.Type.COMPLAINT: ("投诉", "投诉影响生活或权益的问题，要求处理"),
    Ticket.Type.SUGGESTION: ("建议", "对城市管理和公共服务提出意见建议"),
    Ticket.Type.HELP: ("求助", "遇到困难请求帮助"),
    Ticket.Type.REPORT: ("举报", "举报违法违规行为"),
}
URGENCY_NAMES = {
    Ticket.Urgency.GENERAL: "一般",
    Ticket.Urgency.URGENT: "紧急",
    Ticket.Urgency.VERY_URGENT: "特急",
}


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    description: str
    group: str
    keywords: tuple[str, ...]
    ticket_type: str


SERVICES = {
    f"{topic.code}-{ticket_type}": Service(
        code=f"{topic.code}-{ticket_type}",
        name=f"{topic.name}{type_name}",
        description=f"{topic.name}：{type_help}。",
        group=topic.group,
        keywords=topic.keywords,
        ticket_type=str(ticket_type),
    )
    for topic in TOPICS
    for ticket_type, (type_name, type_help) in TYPE_NAMES.items()
}


def service_attributes() -> list[dict]:
    return [
        {
            "variable": True,
            "code": "district",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "上海市的区，填行政区划代码",
            "order": 1,
            "description": "所在区",
            "values": [{"key": code, "name": names[0]} for code, names in DISTRICTS.items()],
        },
        {
            "variable": True,
            "code": "urgency",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "缺省为一般",
            "order": 2,
            "description": "紧急程度",
            "values": [{"key": str(k), "name": v} for k, v in URGENCY_NAMES.items()],
        },
    ]


def service_item(service: Service) -> dict:
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": service.description,
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(service.keywords),
        "group": service.group,
    }


# ---------------------------------------------------------------------------------------------------------
# API keys.


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open311_client_create(*, actor: Actor, name: str) -> tuple[Open311Client, str]:
    """A new client and its api_key; the key is returned once and only its hash is kept."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the client a name."]})
    with transaction.atomic():
        while True:
            key = secrets.token_urlsafe(32)
            prefix = key[:KEY_PREFIX_LENGTH]
            if not Open311Client.objects.filter(key_prefix=prefix).exists():
                break
        client = Open311Client.objects.create(name=name[:100], key_prefix=prefix, key_hash=_hash(key))
        audit_record(
            actor=actor,
            action="open311.client_created",
            subject_type="open311_client",
            subject_id=str(client.pk),
            details={"name": client.name, "key_prefix": prefix},
        )
    return client, key


def client_for_key(key: str) -> Open311Client | None:
    key = (key or "").strip()
    if len(key) < KEY_PREFIX_LENGTH:
        return None
    client = Open311Client.objects.filter(key_prefix=key[:KEY_PREFIX_LENGTH], active=True).first()
    if client is None or not hmac.compare_digest(client.key_hash, _hash(key)):
        return None
    return client


def _allow_post(client: Open311Client) -> bool:
    """A fixed one-minute window per client, counted in the cache."""
    window = int(time.time() // 60)
    key = f"tongban:open311:posts:{client.pk}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    return count <= posts_per_minute()


# ---------------------------------------------------------------------------------------------------------
# Rendering.

LIST_ITEMS = {"services": "service", "service_requests": "request", "errors": "error", "values": "value"}


def _xml_value(parent, name, value):
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, inner in value.items():
            _xml_value(element, key, inner)
    elif isinstance(value, list):
        item = LIST_ITEMS.get(name, "item")
        for inner in value:
            _xml_value(element, item, inner)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


def _render(data, fmt: str, root: str, status: int = 200) -> HttpResponse:
    if fmt == "json":
        return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})
    if isinstance(data, list):
        element = ET.Element(root)
        for item in data:
            _xml_value(element, LIST_ITEMS.get(root, "item"), item)
    else:
        element = _xml_value(ET.Element("_"), root, data)
    body = ET.tostring(element, encoding="unicode")
    return HttpResponse(
        f'<?xml version="1.0" encoding="utf-8"?>{body}',
        status=status,
        content_type="text/xml; charset=utf-8",
    )


def _error(fmt: str, status: int, description: str) -> HttpResponse:
    return _render([{"code": status, "description": description}], fmt, "errors", status=status)


def _w3(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return f"{value.isoformat()}T23:59:59+08:00"
    return timezone.localtime(value).isoformat(timespec="seconds")


def _request_item(ticket: Ticket) -> dict:
    extra = getattr(ticket, "open311", None)
    service = SERVICES.get(extra.service_code) if extra else None
    closed = ticket.status in CLOSED
    notes = ticket.reply or ticket.answer or ticket.get_status_display()
    return {
        "service_request_id": ticket.number,
        "status": "closed" if closed else "open",
        "status_notes": str(notes),
        "service_name": service.name if service else "",
        "service_code": extra.service_code if extra else "",
        "description": ticket.text,
        "agency_responsible": ticket.department.name if ticket.department_id else "12345",
        "service_notice": "",
        "requested_datetime": _w3(ticket.created_at),
        "updated_datetime": _w3(ticket.updated_at),
        "expected_datetime": _w3(ticket.due_date),
        "address": " ".join(
            part for part in (ticket.district.name if ticket.district_id else "", ticket.address) if part
        ),
        "address_id": "",
        "zipcode": "",
        "lat": extra.lat if extra else None,
        "long": extra.long if extra else None,
        "media_url": "",
    }


def _open311_tickets():
    return Ticket.objects.filter(open311__isnull=False).select_related("open311", "department", "district")


# ---------------------------------------------------------------------------------------------------------
# Views.


@require_GET
def discovery(request, fmt):
    base = request.build_absolute_uri("/open311/v2/")
    data = {
        "changeset": "2026-01-01T00:00:00+08:00",
        "contact": "上海市12345市民服务热线 12345@sh.gov.cn",
        "key_service": "API keys are issued by the 12345 hotline centre (see docs/open311.md).",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-01-01T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    if fmt == "xml":
        element = ET.Element("discovery")
        for key in ("changeset", "contact", "key_service"):
            ET.SubElement(element, key).text = data[key]
        endpoints = ET.SubElement(element, "endpoints")
        for endpoint in data["endpoints"]:
            node = ET.SubElement(endpoints, "endpoint")
            for key in ("specification", "url", "changeset", "type"):
                ET.SubElement(node, key).text = endpoint[key]
            formats = ET.SubElement(node, "formats")
            for value in endpoint["formats"]:
                ET.SubElement(formats, "format").text = value
        body = ET.tostring(element, encoding="unicode")
        return HttpResponse(
            f'<?xml version="1.0" encoding="utf-8"?>{body}', content_type="text/xml; charset=utf-8"
        )
    return _render(data, fmt, "discovery")


@require_GET
def service_list(request, fmt):
    return _render([service_item(s) for s in SERVICES.values()], fmt, "services")


@require_GET
def service_definition(request, code, fmt):
    if code not in SERVICES:
        return _error(fmt, 404, f"Unknown service_code {code}.")
    attributes = service_attributes()
    if fmt == "xml":
        element = ET.Element("service_definition")
        ET.SubElement(element, "service_code").text = code
        node = ET.SubElement(element, "attributes")
        for attribute in attributes:
            _xml_value(node, "attribute", attribute)
        body = ET.tostring(element, encoding="unicode")
        return HttpResponse(
            f'<?xml version="1.0" encoding="utf-8"?>{body}', content_type="text/xml; charset=utf-8"
        )
    return _render({"service_code": code, "attributes": attributes}, fmt, "service_definition")


def _float(value, limit: float = 180.0):
    """A coordinate: a finite number within ±``limit`` (NaN and infinities are not places)."""
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValidationError("not a number") from None
    if not math.isfinite(number) or abs(number) > limit:
        raise ValidationError(f"must be a number between -{limit:g} and {limit:g}")
    return number


@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests_view(request, fmt):
    if request.method == "POST":
        return _post_request(request, fmt)
    return _get_requests(request, fmt)


def _post_request(request, fmt):
    data = request.POST
    client = client_for_key(data.get("api_key", ""))
    if client is None:
        return _error(fmt, 403, "api_key is missing or invalid.")
    if not _allow_post(client):
        return _error(
            fmt, 429, f"Too many requests: at most {posts_per_minute()} POSTs a minute per api_key."
        )
    code = data.get("service_code", "").strip()
    if not code:
        return _error(fmt, 400, "service_code is required.")
    service = SERVICES.get(code)
    if service is None:
        return _error(fmt, 404, f"Unknown service_code {code}.")
    district = data.get("attribute[district]", "").strip()
    if district and district not in DISTRICTS:
        return _error(fmt, 400, f"attribute[district]: unknown district {district}.")
    urgency = data.get("attribute[urgency]", "").strip() or Ticket.Urgency.GENERAL
    if urgency not in URGENCY_NAMES:
        return _error(fmt, 400, f"attribute[urgency]: unknown value {urgency}.")
    try:
        lat, long = _float(data.get("lat"), 90.0), _float(data.get("long"))
    except ValidationError:
        return _error(fmt, 400, "lat and long must be numbers.")
    address = data.get("address_string", "").strip()
    if not address and (lat is None or long is None) and not district:
        return _error(
            fmt, 400, "A location is required: lat and long, address_string or attribute[district]."
        )
    description = data.get("description", "").strip()
    text = f"{service.name}：{description}" if description else service.name
    name = " ".join(p for p in (data.get("last_name", "").strip(), data.get("first_name", "").strip()) if p)
    try:
        with transaction.atomic():
            ticket = services.ticket_create(
                actor=actor_for(AnonymousUser()),
                channel=Ticket.Channel.OPEN311,
                ticket_type=service.ticket_type,
                text=text,
                urgency=urgency,
                district_code=district,
                address=address or (f"{lat},{long}" if lat is not None and long is not None else ""),
                contact_name=name,
                contact_phone=data.get("phone", "").strip(),
            )
            Open311Request.objects.create(
                ticket=ticket, client=client, service_code=service.code, lat=lat, long=long
            )
    except ValidationError as exc:
        messages = "; ".join(
            f"{field}: {' '.join(str(m) for m in errors)}" for field, errors in exc.message_dict.items()
        )
        return _error(fmt, 400, messages)
    notice = f"已受理，工单号 {ticket.number}。"
    if ticket.due_date:
        notice += f"办理期限至 {ticket.due_date:%Y-%m-%d}。"
    return _render(
        [{"service_request_id": ticket.number, "service_notice": notice, "account_id": None}],
        fmt,
        "service_requests",
    )


def _when(value: str, name: str):
    try:  # parse_datetime raises ValueError for a well-formed impossible date (2026-02-30)
        parsed = parse_datetime(value.replace(" ", "+")) if value else None
    except ValueError:
        parsed = None
    if value and parsed is None:
        raise ValidationError(f"{name} must be a w3 datetime, e.g. 2026-01-01T00:00:00Z.")
    if parsed is not None and not 1900 <= parsed.year <= 2100:  # the 90-day window must stay computable
        raise ValidationError(f"{name} must be between the years 1900 and 2100.")
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _get_requests(request, fmt):
    params = request.GET
    tickets = _open311_tickets()
    ids = [v.strip() for v in params.get("service_request_id", "").split(",") if v.strip()]
    if ids:  # overrides every other parameter
        tickets = tickets.filter(number__in=ids[:MAX_RESULTS])
    else:
        try:
            start = _when(params.get("start_date", ""), "start_date")
            end = _when(params.get("end_date", ""), "end_date")
        except ValidationError as exc:
            return _error(fmt, 400, exc.messages[0])
        if start is None and end is None:
            start = timezone.now() - dt.timedelta(days=DEFAULT_DAYS)
        elif start is None:
            start = end - dt.timedelta(days=DEFAULT_DAYS)
        elif end is None:
            end = start + dt.timedelta(days=DEFAULT_DAYS)
        tickets = tickets.filter(created_at__gte=start)
        if end is not None:
            tickets = tickets.filter(created_at__lte=end)
        codes = [v.strip() for v in params.get("service_code", "").split(",") if v.strip()]
        if codes:
            tickets = tickets.filter(open311__service_code__in=codes)
        statuses = {v.strip() for v in params.get("status", "").split(",") if v.strip()}
        if statuses - {"open", "closed"}:
            return _error(fmt, 400, "status must be open or closed.")
        if statuses == {"open"}:
            tickets = tickets.exclude(status__in=CLOSED)
        elif statuses == {"closed"}:
            tickets = tickets.filter(status__in=CLOSED)
    rows = [_request_item(t) for t in tickets.order_by("-created_at")[:MAX_RESULTS]]
    return _render(rows, fmt, "service_requests")


@require_GET
def request_detail(request, number, fmt):
    ticket = _open311_tickets().filter(number=number).first()
    if ticket is None:
        return _error(fmt, 404, f"Unknown service_request_id {number}.")
    return _render([_request_item(ticket)], fmt, "service_requests")


@require_GET
def token_detail(request, token, fmt):
    """Requests are taken synchronously: a token is the ticket number."""
    if not _open311_tickets().filter(number=token).exists():
        return _error(fmt, 404, f"Unknown token {token}.")
    return _render([{"service_request_id": token, "token": token}], fmt, "service_requests")
