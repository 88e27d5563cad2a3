from django.urls import path

from . import views

app_name = "supervision"
urlpatterns = [
    path("", views.warnings, name="warnings"),
    path("compliance/", views.compliance, name="compliance"),
    path("rectifications/", views.rectifications, name="rectifications"),
    path("rectifications/<uuid:pk>/close/", views.rectification_close, name="rectification-close"),
    path("rectifications/<uuid:pk>/respond/", views.rectification_respond, name="rectification-respond"),
]
