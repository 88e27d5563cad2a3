app_name = "proactive-api"
urlpatterns = []
