from django.urls import path

from . import views

app_name = "evaluation"
urlpatterns = [
    path("case/<str:number>/", views.rate, name="rate"),
    path("case/<str:number>/thanks/", views.thanks, name="thanks"),
]
