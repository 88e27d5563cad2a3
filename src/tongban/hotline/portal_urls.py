from django.urls import path

from . import portal_views

app_name = "hotline-portal"
urlpatterns = [
    path("", portal_views.my_tickets, name="list"),
    path("new/", portal_views.ticket_new, name="new"),
    path("<str:number>/", portal_views.my_ticket, name="ticket"),
]
