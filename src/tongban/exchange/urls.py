from django.urls import path

from . import views, views_births, views_registries

app_name = "exchange"
urlpatterns = [
    # Sharing (the "sharing" half): the public catalogue, who used my data, grants for data stewards.
    path("resources/", views.resource_catalogue, name="resources"),
    path("uses/", views.data_uses, name="uses"),
    path("grants/", views.grants, name="grants"),
    path("grants/new/", views.grant_new, name="grant-new"),
    path("grants/<uuid:pk>/approve/", views.grant_approve, name="grant-approve"),
    path("grants/<uuid:pk>/refuse/", views.grant_refuse, name="grant-refuse"),
    path("grants/<uuid:pk>/revoke/", views.grant_revoke, name="grant-revoke"),
    # Registries (the "registries" half): the owning department's staff browse their registries.
    path("registries/", views_registries.registry_home, name="registries"),
    path("registries/births/new/", views_births.birth_record_new, name="birth-new"),
    path("registries/<slug:register>/", views_registries.registry_list, name="registry-list"),
    path("registries/<slug:register>/<uuid:pk>/", views_registries.registry_record, name="registry-record"),
]
