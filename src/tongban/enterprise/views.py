"""Pages of 法人一证通 and the enterprise space: sign in with a certificate, the space (cases, licences,
certificates and agents, policies, messages), the representative's certificate tools, signing a submission,
the CA's certificate and revocation lists, and the enterprise service office's hidden champions."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from tongban.core.exceptions import Conflict
from tongban.identity.permissions import staff_required
from tongban.identity.selectors import actor_from_request

from . import analytics, authentication, ca, selectors, services
from .models import SCOPES


def _message(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(getattr(exc, "message", exc))


def _space_or_404(request, credit_code):
    organisation, role = selectors.space_organisation_get(request.user, credit_code)
    if organisation is None:
        raise Http404(_("No such enterprise space."))
    return organisation, role


# --- signing in with a certificate -----------------------------------------------------------------------


@never_cache
def sign_in(request):
    """The certificate sign-in page (the browser's key signs a challenge; see certificate.js)."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = ""
    return render(
        request,
        "enterprise/sign_in.html",
        {"next": next_url or reverse("enterprise:home"), "tls": authentication.tls_header_enabled()},
    )


@require_POST
def challenge(request):
    """A fresh one-time nonce (JSON), for a sign-in or a certificate request."""
    item = services.challenge_create()
    return JsonResponse(
        {"nonce": item.nonce, "expires_at": item.expires_at.isoformat(), "prefix": services.LOGIN_PREFIX}
    )


@require_POST
def sign_in_submit(request):
    """JSON in ({serial or public_key, nonce, signature}), JSON out: 200 with where to go, or 403 with why."""
    try:
        body = json.loads(request.body or b"{}")
        fields = {
            name: str(body.get(name) or "")[:2000] for name in ("serial", "public_key", "nonce", "signature")
        }
    except (ValueError, AttributeError):
        return JsonResponse({"detail": _("Send JSON with serial, nonce and signature.")}, status=400)
    try:
        authentication.certificate_login(request=request, **fields)
    except services.CertificateRefused as refusal:
        return JsonResponse({"code": refusal.code, "detail": str(refusal)}, status=403)
    next_url = str(body.get("next") or "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = reverse("enterprise:home")
    return JsonResponse({"ok": True, "next": next_url})


def sign_in_tls(request):
    """The mutual-TLS path (behind a trusted proxy that verified the client certificate)."""
    try:
        authentication.tls_login(request=request)
    except services.CertificateRefused as refusal:
        return render(request, "enterprise/sign_in.html", {"error": str(refusal), "tls": True}, status=403)
    return redirect("enterprise:home")


# --- the CA's public files ----------------------------------------------------------------------------------


@require_GET
def ca_certificate(request):
    return HttpResponse(ca.root_pem(), content_type="application/x-pem-file")


@require_GET
def crl(request, credit_code=None):
    """The root's CRL (``root.crl``) or an organisation's (``<credit code>.crl``), DER, signed, valid a day."""
    organisation = None
    if credit_code is not None:
        from tongban.identity.models import Organisation

        organisation = Organisation.objects.filter(credit_code=credit_code.upper()[:18]).first()
        if organisation is None:
            raise Http404(_("No such enterprise."))
    data = selectors.crl_for(organisation)
    if not data:
        raise Http404(_("This enterprise has no certificate."))
    response = HttpResponse(data, content_type="application/pkix-crl")
    response["Cache-Control"] = "max-age=60"
    return response


# --- the enterprise space --------------------------------------------------------------------------------------


@login_required
def home(request):
    organisations = selectors.space_organisations(request.user)
    if len(organisations) == 1:
        return redirect("enterprise:space", organisations[0].credit_code)
    return render(request, "enterprise/home.html", {"organisations": organisations})


@login_required
def space(request, credit_code):
    organisation, role = _space_or_404(request, credit_code)
    context = selectors.space_contents(request.user, organisation)
    context.update(
        organisation=organisation,
        role=role,
        is_representative=role == selectors.REPRESENTATIVE,
        scopes=SCOPES,
    )
    context["signing_certificates"] = selectors.signing_certificates_for(request.user, organisation)
    context["signed_case_ids"] = selectors.signed_case_ids([case.pk for case in context["cases"]])
    for certificate in context["certificates"]:
        certificate.algorithm = ca.key_algorithm(certificate.pem)
    for use in context["uses"]:
        use.refusal = services.REFUSALS.get(use.reason, "") if not use.accepted else ""
    return render(request, "enterprise/space.html", context)


def _back(organisation):
    return redirect(reverse("enterprise:space", args=[organisation.credit_code]) + "#certificates")


@login_required
@require_POST
def organisation_certificate(request, credit_code):
    organisation, _role = _space_or_404(request, credit_code)
    try:
        services.organisation_certificate_issue(actor=actor_from_request(request), organisation=organisation)
    except (PermissionDenied, Conflict, ValidationError) as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, _("The organisation's certificate has been issued."))
    return _back(organisation)


@login_required
@require_POST
def request_issue(request, pk):
    item = selectors.request_get_for_representative(request.user, pk)
    if item is None:
        raise Http404(_("No such request."))
    try:
        days = int(request.POST.get("valid_days") or 0)
    except ValueError:
        days = 0
    try:
        services.agent_certificate_issue(
            actor=actor_from_request(request),
            certificate_request=item,
            scopes=request.POST.getlist("scopes"),
            valid_days=days,
        )
    except (PermissionDenied, Conflict, ValidationError) as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, _("The agent's certificate has been issued."))
    return _back(item.organisation)


@login_required
@require_POST
def request_refuse(request, pk):
    item = selectors.request_get_for_representative(request.user, pk)
    if item is None:
        raise Http404(_("No such request."))
    try:
        services.certificate_request_refuse(
            actor=actor_from_request(request), certificate_request=item, reason=request.POST.get("reason", "")
        )
    except (PermissionDenied, Conflict) as exc:
        messages.error(request, _message(exc))
    return _back(item.organisation)


@login_required
@require_POST
def certificate_revoke(request, pk):
    certificate = selectors.certificate_get_for(request.user, pk)
    if certificate is None:
        raise Http404(_("No such certificate."))
    try:
        services.certificate_revoke(
            actor=actor_from_request(request), certificate=certificate, reason=request.POST.get("reason", "")
        )
    except (PermissionDenied, Conflict, ValidationError) as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, _("The certificate has been revoked; it can no longer be used."))
    return _back(certificate.organisation)


@login_required
def certificate_download(request, pk):
    certificate = selectors.certificate_get_for(request.user, pk)
    if certificate is None:
        raise Http404(_("No such certificate."))
    response = HttpResponse(certificate.pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="{certificate.serial}.pem"'
    return response


# --- signing a submission ---------------------------------------------------------------------------------------


def _case_for_agent(request, number):
    from tongban.cases.selectors import case_get_for_user, case_is_applicant

    case = case_get_for_user(request.user, number)
    if case is None or not case_is_applicant(request.user, case) or not case.applicant_organisation_id:
        raise Http404(_("No such case."))
    return case


@login_required
def case_sign(request, number):
    """GET: the submission's canonical JSON to sign (JSON); POST {serial, signature}: keep the signature."""
    case = _case_for_agent(request, number)
    if request.method == "GET":
        return JsonResponse({"case": case.number, "payload": services.submission_payload(case)})
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        body = json.loads(request.body or b"{}")
        serial, signature = str(body.get("serial") or ""), str(body.get("signature") or "")
    except (ValueError, AttributeError):
        return JsonResponse({"detail": _("Send JSON with serial and signature.")}, status=400)
    try:
        record = services.case_signature_add(
            actor=actor_from_request(request),
            case=case,
            serial=serial,
            signature=signature,
            address=authentication._address(request),
        )
    except services.CertificateRefused as refusal:
        return JsonResponse({"code": refusal.code, "detail": str(refusal)}, status=403)
    except PermissionDenied as exc:
        return JsonResponse({"code": "forbidden", "detail": str(exc)}, status=403)
    return JsonResponse({"ok": True, "sha256": record.payload_sha256})


# --- hidden champions (the enterprise service office) -----------------------------------------------------------


@staff_required(permission="enterprise.analytics")
def champions(request):
    filters = analytics.filters_from(request.GET)
    export = request.GET.get("format") == "xlsx"
    rows = analytics.champions_for(actor_from_request(request), **filters, export=export)
    if export:
        response = HttpResponse(
            analytics.champions_xlsx(rows),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = 'attachment; filename="hidden-champions.xlsx"'
        return response
    return render(
        request,
        "enterprise/champions.html",
        {
            "rows": rows,
            "filters": filters,
            "districts": analytics.district_choices(),
            "sections": analytics.SECTIONS,
        },
    )
