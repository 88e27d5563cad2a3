app_name = "cases-api"
urlpatterns = []
