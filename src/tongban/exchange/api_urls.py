from django.urls import path

from . import api

app_name = "exchange-api"
urlpatterns = [
    path("data/resources/", api.DataResourceListApi.as_view(), name="resource-list"),
    path("data/lookups/", api.LookupCreateApi.as_view(), name="lookup"),
    path("data/grants/", api.GrantListCreateApi.as_view(), name="grant-list"),
    path("data/grants/<uuid:pk>/approve/", api.GrantApproveApi.as_view(), name="grant-approve"),
    path("data/grants/<uuid:pk>/refuse/", api.GrantRefuseApi.as_view(), name="grant-refuse"),
    path("data/grants/<uuid:pk>/revoke/", api.GrantRevokeApi.as_view(), name="grant-revoke"),
    path("data/uses/", api.DataUseListApi.as_view(), name="data-use-list"),
]
