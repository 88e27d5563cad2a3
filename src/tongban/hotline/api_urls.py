from django.urls import path

from . import api, api_analytics

app_name = "hotline-api"
urlpatterns = [
    path("tickets/", api.TicketListCreateApi.as_view(), name="tickets"),
    path("my/tickets/", api.MyTicketsApi.as_view(), name="my-tickets"),
    path("hotline/faq/", api.FaqListApi.as_view(), name="faq"),
    path("tickets/<str:number>/", api.TicketDetailApi.as_view(), name="ticket"),
    path("tickets/<str:number>/<slug:action>/", api.TicketActionApi.as_view(), name="ticket-action"),
    path("hotline/classify/", api.ClassifyApi.as_view(), name="classify"),
    path("hotline/hotspots/", api_analytics.HotspotsApi.as_view(), name="hotspots"),
    path("hotline/spikes/", api_analytics.SpikeListApi.as_view(), name="spikes"),
    path("hotline/blind-spots/", api_analytics.BlindSpotListApi.as_view(), name="blind-spots"),
]
