from django.urls import path

from . import api

app_name = "messaging-api"
urlpatterns = [
    path("inbox/", api.InboxListApi.as_view(), name="inbox"),
    path("inbox/<uuid:message_id>/read/", api.InboxReadApi.as_view(), name="inbox-read"),
    path(
        "notification-preferences/", api.NotificationPreferencesApi.as_view(), name="notification-preferences"
    ),
]
