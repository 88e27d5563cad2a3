from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemocityConfig(AppConfig):
    name = "tongban.demo"
    verbose_name = _("Demo city")
