from django.urls import path

from . import api

app_name = "evaluation-api"
urlpatterns = [
    path("cases/<str:number>/rating/", api.CaseRatingApi.as_view(), name="case-rating"),
    path("ratings/summary/", api.RatingSummaryApi.as_view(), name="rating-summary"),
]
