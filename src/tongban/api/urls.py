from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from tongban.api import views

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("v1/me/", views.MeApi.as_view(), name="me"),
    path("v1/departments/", views.DepartmentListApi.as_view(), name="department-list"),
    path("v1/catalog/", include("tongban.catalog.api_urls")),
    path("v1/", include("tongban.cases.api_urls")),
    path("v1/", include("tongban.exchange.api_urls")),
    path("v1/", include("tongban.licences.api_urls")),
    path("v1/", include("tongban.messaging.api_urls")),
    path("v1/", include("tongban.proactive.api_urls")),
    path("v1/", include("tongban.hotline.api_urls")),
    path("v1/", include("tongban.workflow.api_urls")),
    path("v1/", include("tongban.supervision.api_urls")),
    path("v1/", include("tongban.evaluation.api_urls")),
    path("v1/", include("tongban.enterprise.api_urls")),
]
