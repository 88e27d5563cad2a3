from django.urls import path

from . import api

app_name = "hotline-api"
urlpatterns = [
    path("tickets/", api.TicketListCreateApi.as_view(), name="tickets"),
    path("my/tickets/", api.MyTicketsApi.as_view(), name="my-tickets"),
    path("hotline/faq/", api.FaqListApi.as_view(), name="faq"),
    path("tickets/<str:number>/", api.TicketDetailApi.as_view(), name="ticket"),
    path("tickets/<str:number>/<slug:action>/", api.TicketActionApi.as_view(), name="ticket-action"),
    path("hotline/classify/", api.ClassifyApi.as_view(), name="classify"),
]
