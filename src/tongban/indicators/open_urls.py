from django.urls import path

from . import views

app_name = "open_data"
urlpatterns = [
    path("", views.open_data, name="home"),
    path("export/<slug:table>.<str:fmt>", views.open_data_export, name="export"),
]
