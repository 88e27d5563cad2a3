from django.urls import path

from . import views, views_analytics

app_name = "hotline"
urlpatterns = [
    path("", views.console, name="console"),
    path("suggest/", views.suggest, name="suggest"),
    path("dispatch/", views.dispatch_queue, name="dispatch"),
    path("tickets/", views.department_tickets, name="tickets"),
    path("tickets/<str:number>/", views.ticket_detail, name="ticket"),
    path("tickets/<str:number>/attachments/<int:pk>/", views.attachment, name="attachment"),
    path("callbacks/", views.callbacks, name="callbacks"),
    path("faq/", views.faq_list, name="faq"),
    path("faq/new/", views.faq_edit, name="faq-new"),
    path("faq/<uuid:pk>/", views.faq_edit, name="faq-edit"),
    path("overview/", views_analytics.overview, name="overview"),
    path("blind-spots/", views_analytics.blind_spots, name="blind-spots"),
]
