from django.urls import path

from . import api

app_name = "partner-api"
urlpatterns = [
    path("cases/", api.PartnerCaseListApi.as_view(), name="case-list"),
    path("cases/<str:number>/", api.PartnerCaseDetailApi.as_view(), name="case-detail"),
    path("cases/<str:number>/form/", api.PartnerCaseFormApi.as_view(), name="case-form"),
    path("cases/<str:number>/accept/", api.PartnerCaseAcceptApi.as_view(), name="case-accept"),
    path("lookups/", api.PartnerLookupApi.as_view(), name="lookup"),
    path("tickets/", api.PartnerTicketCreateApi.as_view(), name="ticket-create"),
]
