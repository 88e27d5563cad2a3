app_name = "workflow-api"
urlpatterns = []
