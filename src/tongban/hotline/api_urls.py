app_name = "hotline-api"
urlpatterns = []
