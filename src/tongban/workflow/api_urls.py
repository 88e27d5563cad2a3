from django.urls import path

from . import api

app_name = "workflow-api"
urlpatterns = [
    path("tasks/", api.TaskListApi.as_view(), name="task-list"),
    path("tasks/<uuid:task_id>/", api.TaskDetailApi.as_view(), name="task-detail"),
    path("processes/", api.ProcessListUploadApi.as_view(), name="process-list"),
    path("processes/<slug:key>/", api.ProcessDetailApi.as_view(), name="process-detail"),
]
