from django.urls import path

from . import views

app_name = "proactive"
urlpatterns = [
    path("", views.offer_list, name="list"),
    # Service designers' pages (workbench/base.html).
    path("rules/", views.rule_list, name="rules"),
    path("policies/", views.policy_list, name="policies"),
    path("rules/new/", views.rule_edit, name="rule-new"),
    path("rules/<slug:code>/", views.rule_edit, name="rule-edit"),
    path("rules/<slug:code>/dry-run/", views.rule_dry_run, name="rule-dry-run"),
    path("<uuid:pk>/", views.offer_detail, name="offer"),
    path("<uuid:pk>/accept/", views.offer_accept, name="offer-accept"),
    path("<uuid:pk>/decline/", views.offer_decline, name="offer-decline"),
]
