"""The test provider's pages: a plain login form and django-oauth-toolkit's OAuth 2 / OpenID Connect endpoints.

A user's ``first_name`` holds the resident ID the provider vouches for and ``last_name`` says "verified" when the
provider has verified it (real-name authentication); they become the ``resident_id`` and ``resident_id_verified``
claims."""

from django.contrib.auth import authenticate, login
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import include, path
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.oauth2_validators import OAuth2Validator


class ResidentClaimsValidator(OAuth2Validator):
    oidc_claim_scope = None  # every claim, whatever the scope

    def get_additional_claims(self, request):
        user = request.user
        claims = {"name": user.username, "resident_id_verified": user.last_name == "verified"}
        if user.first_name:
            claims["resident_id"] = user.first_name
        return claims


@csrf_exempt
def login_page(request):
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    if request.method == "POST":
        user = authenticate(
            request, username=request.POST.get("username"), password=request.POST.get("password")
        )
        if user is None:
            return HttpResponse("wrong user name or password", status=401)
        login(request, user)
        return HttpResponseRedirect(next_url)
    return HttpResponse(
        '<form method="post"><input name="username"><input name="password" type="password">'
        f'<input type="hidden" name="next" value="{escape(next_url)}"><button>Sign in</button></form>'
    )


urlpatterns = [
    path("login/", login_page),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
