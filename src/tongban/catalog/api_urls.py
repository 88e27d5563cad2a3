from django.urls import path

from tongban.catalog import api

app_name = "catalog-api"
urlpatterns = [
    path("items/", api.ServiceItemListApi.as_view(), name="item-list"),
    path("items/<str:code>/", api.ServiceItemDetailApi.as_view(), name="item-detail"),
    path("bundles/", api.BundleListApi.as_view(), name="bundle-list"),
    path("bundles/<slug:code>/", api.BundleDetailApi.as_view(), name="bundle-detail"),
]
