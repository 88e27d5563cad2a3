from django.urls import path

from . import views

app_name = "enterprise"
urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-in/challenge/", views.challenge, name="challenge"),
    path("sign-in/certificate/", views.sign_in_submit, name="sign-in-submit"),
    path("sign-in/tls/", views.sign_in_tls, name="sign-in-tls"),
    path("ca/root.pem", views.ca_certificate, name="ca-certificate"),
    path("ca/root.crl", views.crl, name="crl-root"),
    path("ca/<str:credit_code>.crl", views.crl, name="crl"),
    path("champions/", views.champions, name="champions"),
    path("certificates/<uuid:pk>/revoke/", views.certificate_revoke, name="certificate-revoke"),
    path("certificates/<uuid:pk>/download/", views.certificate_download, name="certificate-download"),
    path("requests/<uuid:pk>/issue/", views.request_issue, name="request-issue"),
    path("requests/<uuid:pk>/refuse/", views.request_refuse, name="request-refuse"),
    path("cases/<str:number>/sign/", views.case_sign, name="case-sign"),
    path("<str:credit_code>/", views.space, name="space"),
    path("<str:credit_code>/certificate/", views.organisation_certificate, name="organisation-certificate"),
]
