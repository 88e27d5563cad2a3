from django.urls import path

from . import api

app_name = "enterprise-api"
urlpatterns = [
    path("enterprise/challenges/", api.ChallengeApi.as_view(), name="challenge"),
    path("enterprise/sign-in/", api.CertificateSignInApi.as_view(), name="sign-in"),
    path("enterprise/organisations/", api.SpaceListApi.as_view(), name="space-list"),
    path(
        "enterprise/organisations/<str:credit_code>/certificates/",
        api.CertificateListApi.as_view(),
        name="certificate-list",
    ),
    path(
        "enterprise/organisations/<str:credit_code>/certificate/",
        api.OrganisationCertificateApi.as_view(),
        name="organisation-certificate",
    ),
    path(
        "enterprise/organisations/<str:credit_code>/certificate-requests/",
        api.CertificateRequestApi.as_view(),
        name="certificate-request",
    ),
    path("enterprise/certificate-requests/<uuid:pk>/issue/", api.CertificateIssueApi.as_view(), name="issue"),
    path("enterprise/certificates/<uuid:pk>/revoke/", api.CertificateRevokeApi.as_view(), name="revoke"),
    path("enterprise/cases/<str:number>/signatures/", api.CaseSignatureApi.as_view(), name="case-signatures"),
    path("enterprise/champions/", api.ChampionsApi.as_view(), name="champions"),
]
