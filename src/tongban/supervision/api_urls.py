from django.urls import path

from . import api

app_name = "supervision-api"
urlpatterns = [
    path("warnings/", api.WarningListApi.as_view(), name="warning-list"),
    path("supervised-cases/", api.WatchedCaseListApi.as_view(), name="watched-case-list"),
    path("compliance/", api.ComplianceApi.as_view(), name="compliance"),
    path("rectifications/", api.RectificationListApi.as_view(), name="rectification-list"),
    path("rectifications/<uuid:pk>/close/", api.RectificationCloseApi.as_view(), name="rectification-close"),
    path(
        "rectifications/<uuid:pk>/respond/",
        api.RectificationRespondApi.as_view(),
        name="rectification-respond",
    ),
]
