from django.urls import path

from . import views

app_name = "indicators"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("reform/", views.reform, name="reform"),
    path("export/<slug:table>.<str:fmt>", views.export, name="export"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:year>-<int:month>.pdf", views.report_download, name="report"),
]
