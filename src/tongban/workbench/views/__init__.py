"""Staff pages (工作台): the home, the window (一窗受理), department inboxes, cases and process definitions."""

from .cases import case_detail, case_list, case_material
from .home import home
from .processes import process_detail, process_download, process_list
from .tasks import task_act, task_detail, task_list
from .window import window_accept, window_apply, window_awaiting, window_done, window_home, window_refuse

__all__ = [
    "case_detail",
    "case_list",
    "case_material",
    "home",
    "process_detail",
    "process_download",
    "process_list",
    "task_act",
    "task_detail",
    "task_list",
    "window_accept",
    "window_apply",
    "window_awaiting",
    "window_done",
    "window_home",
    "window_refuse",
]
