app_name = "messaging-api"
urlpatterns = []
