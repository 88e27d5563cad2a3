from django.urls import path

from tongban.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("apply/item/<str:code>/", views.apply, {"kind": "item"}, name="apply_item"),
    path("apply/bundle/<str:code>/", views.apply, {"kind": "bundle"}, name="apply_bundle"),
    path("guide/item/<str:code>/", views.guide, {"kind": "item"}, name="guide_item"),
    path("guide/bundle/<str:code>/", views.guide, {"kind": "bundle"}, name="guide_bundle"),
    path("track/<str:number>/<str:token>/", views.case_track, name="track"),
    path("<str:number>/", views.case_detail, name="detail"),
    path("<str:number>/receipt.pdf", views.case_receipt, name="receipt"),
    path("<str:number>/supplement/", views.case_supplement, name="supplement"),
    path("<str:number>/withdraw/", views.case_withdraw, name="withdraw"),
]
