from django.urls import path

from tongban.workbench import views

app_name = "workbench"
urlpatterns = [
    path("", views.home, name="home"),
    # 一窗受理
    path("window/", views.window_home, name="window"),
    path("window/apply/<slug:kind>/<str:code>/", views.window_apply, name="window-apply"),
    path("window/done/<str:number>/", views.window_done, name="window-done"),
    path("window/awaiting/", views.window_awaiting, name="window-awaiting"),
    path("window/awaiting/<str:number>/accept/", views.window_accept, name="window-accept"),
    path("window/awaiting/<str:number>/refuse/", views.window_refuse, name="window-refuse"),
    # 待办
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<uuid:task_id>/", views.task_detail, name="task"),
    path("tasks/<uuid:task_id>/<slug:action>/", views.task_act, name="task-act"),
    # 办件
    path("cases/", views.case_list, name="cases"),
    path("cases/<str:number>/", views.case_detail, name="case"),
    path("cases/<str:number>/materials/<uuid:material_id>/", views.case_material, name="case-material"),
    # 流程定义
    path("processes/", views.process_list, name="processes"),
    path("processes/<slug:key>/<int:version>/", views.process_detail, name="process"),
    path("processes/<slug:key>/<int:version>/bpmn/", views.process_download, name="process-download"),
]
