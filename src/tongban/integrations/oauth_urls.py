"""The OAuth 2 endpoints API clients use: the token (client credentials) and its revocation."""

from django.urls import path
from oauth2_provider import views

app_name = "oauth2_provider"
urlpatterns = [
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
]
