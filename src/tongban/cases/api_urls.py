from django.urls import path

from . import api

app_name = "cases-api"
urlpatterns = [
    path("cases/", api.CaseListSubmitApi.as_view(), name="case-list"),
    path("cases/<str:number>/", api.CaseDetailApi.as_view(), name="case-detail"),
    path(
        "cases/<str:number>/materials/<uuid:material_id>/file/",
        api.CaseMaterialFileApi.as_view(),
        name="case-material-file",
    ),
    path("cases/<str:number>/withdraw/", api.CaseWithdrawApi.as_view(), name="case-withdraw"),
    path("cases/<str:number>/resubmit/", api.CaseResubmitApi.as_view(), name="case-resubmit"),
    path("cases/<str:number>/accept/", api.CaseAcceptApi.as_view(), name="case-accept"),
    path(
        "cases/<str:number>/refuse-acceptance/",
        api.CaseRefuseAcceptanceApi.as_view(),
        name="case-refuse-acceptance",
    ),
    path("window/cases/", api.WindowCaseSubmitApi.as_view(), name="window-case-submit"),
    path("tasks/<uuid:task_id>/claim/", api.TaskClaimApi.as_view(), name="task-claim"),
    path("tasks/<uuid:task_id>/complete/", api.TaskCompleteApi.as_view(), name="task-complete"),
    path("tasks/<uuid:task_id>/return/", api.TaskReturnApi.as_view(), name="task-return"),
    path("tasks/<uuid:task_id>/supplement/", api.TaskSupplementApi.as_view(), name="task-supplement"),
]
