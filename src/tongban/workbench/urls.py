app_name = "workbench"
urlpatterns = []
