from django.urls import path

from . import api

app_name = "licences-api"
urlpatterns = [
    path("licences/", api.LicenceWalletApi.as_view(), name="licence-list"),
    path("licences/verify/", api.LicenceVerifyApi.as_view(), name="licence-verify"),
    path("licences/<str:number>/", api.LicenceDetailApi.as_view(), name="licence-detail"),
    path("licences/<str:number>/revoke/", api.LicenceRevokeApi.as_view(), name="licence-revoke"),
]
