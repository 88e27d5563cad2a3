from django.urls import path

from tongban.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.search, name="search"),
    path("items/<str:code>/", views.item_detail, name="item"),
    path("bundles/<slug:code>/", views.bundle_detail, name="bundle"),
    path("departments/", views.departments, name="departments"),
    path("departments/<slug:code>/power-list/", views.power_list, name="power-list"),
    path("zero-visits/", views.visits, {"max_visits": 0}, name="zero-visits"),
    path("one-visit/", views.visits, {"max_visits": 1}, name="one-visit"),
]
