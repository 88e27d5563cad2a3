"""Federated sign-in: the names are mozilla-django-oidc's own (it reverses them without a namespace)."""

from django.urls import path

from . import oidc

urlpatterns = [
    path("authenticate/", oidc.ResidentAuthenticateView.as_view(), name="oidc_authentication_init"),
    path("callback/", oidc.ResidentCallbackView.as_view(), name="oidc_authentication_callback"),
    path("refused/", oidc.refused, name="oidc_refused"),
]
