from django.urls import path

from tongban.licences import views

app_name = "licences"
urlpatterns = [
    path("", views.wallet, name="wallet"),
    path("verify/", views.verify, name="verify"),
    path("<str:number>.pdf", views.licence_pdf_download, name="pdf"),
    path("<str:number>/", views.licence_detail, name="detail"),
    path("<str:number>/revoke/", views.licence_revoke, name="revoke"),
]
