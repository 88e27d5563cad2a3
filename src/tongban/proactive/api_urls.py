from django.urls import path

from . import api

app_name = "proactive-api"
urlpatterns = [
    path("offers/", api.OfferListApi.as_view(), name="offer-list"),
    path("offers/<uuid:pk>/accept/", api.OfferAcceptApi.as_view(), name="offer-accept"),
    path("offers/<uuid:pk>/decline/", api.OfferDeclineApi.as_view(), name="offer-decline"),
    path("proactive/rules/", api.ProactiveRuleListApi.as_view(), name="rule-list"),
    path("proactive/policies/", api.PolicyListApi.as_view(), name="policy-list"),
    path("proactive/rules/<slug:code>/dry-run/", api.ProactiveRuleDryRunApi.as_view(), name="rule-dry-run"),
]
