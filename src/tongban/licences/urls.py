app_name = "licences"
urlpatterns = []
