"""Back office of 法人一证通: certificates, requests, uses and signed submissions, read only (issuing and revoking
go through the services, which check the legal representative against the business register)."""

from django.contrib import admin

from .models import CaseSignature, Certificate, CertificateRequest, CertificateUse


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ("subject", "kind", "organisation", "holder", "not_after", "revoked_at")
    list_filter = ("kind",)
    search_fields = (
        "serial",
        "subject",
        "organisation__name",
        "organisation__credit_code",
        "holder__username",
    )
    list_select_related = ("organisation", "holder")


@admin.register(CertificateRequest)
class CertificateRequestAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "agent", "created_at", "decided_at", "certificate")
    list_select_related = ("organisation", "agent", "certificate")


@admin.register(CertificateUse)
class CertificateUseAdmin(ReadOnlyAdmin):
    list_display = ("at", "certificate", "purpose", "accepted", "reason", "case_number", "address")
    list_filter = ("purpose", "accepted")
    list_select_related = ("certificate",)


@admin.register(CaseSignature)
class CaseSignatureAdmin(ReadOnlyAdmin):
    list_display = ("case_number", "certificate", "created_at", "payload_sha256")
    search_fields = ("case_number",)
    list_select_related = ("certificate",)
