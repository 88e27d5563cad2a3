app_name = "licences-api"
urlpatterns = []
