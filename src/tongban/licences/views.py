"""Pages of the e-licences: the holder's wallet, one licence with its QR code and PDF, the public verification
page behind the QR code, and the staff page that revokes a licence."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongban.core.exceptions import Conflict
from tongban.core.masking import mask_name, mask_resident_id
from tongban.identity.permissions import staff_required
from tongban.identity.selectors import actor_from_request, needs_second_factor

from . import selectors, services
from .pdf import field_rows, licence_pdf, verification_url

STATUS_LABELS = {
    services.VALID: ("有效", "Valid"),
    services.REVOKED: ("已撤销", "Revoked"),
    services.ALTERED: ("已被篡改", "Altered"),
    services.UNKNOWN: ("无法识别", "Unknown"),
}


def _verify_base(request) -> str:
    return request.build_absolute_uri(reverse("licences:verify"))


def _qr_svg(content: str, title: str, scale: int = 3) -> str:
    svg = segno.make(content, error="l").svg_inline(
        scale=scale, border=2, title=title, svgclass="tb-licence-qr"
    )
    return mark_safe(svg)  # noqa: S308 - segno's own markup; the title is escaped by segno


def _otp_redirect(request):
    return redirect(f"{reverse('identity:otp-verify')}?{urlencode({'next': request.get_full_path()})}")


def _staff_unverified(request) -> bool:
    return needs_second_factor(request.user) and not request.user.is_verified()


def _licence_card(request, licence, qr_scale: int = 3) -> dict:
    token = services.licence_token(licence)
    url = verification_url(_verify_base(request), token)
    return {
        "licence": licence,
        "fields": [
            {
                "label": (
                    spec.get("label_en")
                    if (get_language() or "").startswith("en") and spec.get("label_en")
                    else spec.get("label_zh", spec["name"])
                ),
                "label_en": spec.get("label_en", ""),
                "value": value,
            }
            for spec, value in field_rows(licence)
        ],
        "holder_id": mask_resident_id(licence.holder_id_number)
        if licence.holder_person_id
        else licence.holder_id_number,
        "verify_url": url,
        "token": token,
        "qr": _qr_svg(url, _("QR code to verify licence %(number)s") % {"number": licence.number}, qr_scale),
    }


@login_required
def wallet(request):
    """My licences (我的证照): mine and those of the organisations I act for."""
    if _staff_unverified(request):
        return _otp_redirect(request)
    cards = [
        _licence_card(request, licence, qr_scale=2)
        for licence in selectors.licence_list_for_holder(request.user)
    ]
    return render(request, "licences/wallet.html", {"cards": cards})


@login_required
def licence_detail(request, number: str):
    """One licence of the holder, with its QR code, the verification link and the PDF."""
    if _staff_unverified(request):
        return _otp_redirect(request)
    licence = selectors.licence_get_for_user(request.user, number)
    if licence is None or not selectors.licence_is_holder(request.user, licence):
        raise Http404(_("No such licence."))
    return render(request, "licences/detail.html", _licence_card(request, licence))


@login_required
def licence_pdf_download(request, number: str):
    """The licence as PDF, for its holder and for staff who issue licences of its department."""
    if _staff_unverified(request):
        return _otp_redirect(request)
    licence = selectors.licence_get_for_user(request.user, number)
    if licence is None:
        raise Http404(_("No such licence."))
    if not selectors.licence_is_holder(request.user, licence):
        services.licence_view_record(actor=actor_from_request(request), licence=licence, what="pdf")
    response = HttpResponse(
        licence_pdf(licence, verify_base_url=_verify_base(request)), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="licence-{licence.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def verify(request):
    """Anyone checks a licence (扫码核验): the token from its QR code, or pasted. Shows only public fields."""
    document = (request.GET.get("t") or "").replace("\x00", "").strip()[:20_000]
    result = services.licence_verify(document) if document else None
    context = {"document": document, "result": result}
    if result is not None:
        zh, en = STATUS_LABELS[result.status]
        context.update(status_zh=zh, status_en=en)
        if result.licence is not None:
            context["holder_masked"] = mask_name(result.licence.holder_name)
    response = render(request, "licences/verify.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


def _issuing_department(request, number):
    """The department whose ``licence.issue`` permission the page needs (None for an unknown number: the
    gate then checks the permission anywhere, and the page answers 404)."""
    licence = selectors.licence_get(number)
    return licence.department if licence else None


@staff_required(permission="licence.issue", department=_issuing_department)
@require_http_methods(["GET", "POST"])
def licence_revoke(request, number: str):
    """Revoke a licence of my department, with the reason (撤销)."""
    licence = selectors.licence_get(number)
    if licence is None:
        raise Http404(_("No such licence."))
    errors: list[str] = []
    reason = ""
    if request.method == "POST":
        reason = (request.POST.get("reason") or "").replace("\x00", "").strip()[:1000]
        try:
            services.licence_revoke(actor=actor_from_request(request), licence=licence, reason=reason)
        except ValidationError as exc:
            errors = [str(m) for m in exc.messages]
        except Conflict as exc:
            messages.info(request, str(exc))
            return redirect("licences:revoke", number=licence.number)
        else:
            messages.success(
                request,
                _("Licence %(number)s is revoked; it now verifies as revoked.") % {"number": licence.number},
            )
            return redirect("licences:revoke", number=licence.number)
    context = {
        "licence": licence,
        "holder_masked": mask_name(licence.holder_name),
        "holder_id": mask_resident_id(licence.holder_id_number)
        if licence.holder_person_id
        else licence.holder_id_number,
        "reason": reason,
        "reason_errors": errors,
    }
    return render(request, "licences/revoke.html", context)
