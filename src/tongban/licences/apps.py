from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    name = "tongban.licences"
    verbose_name = _("E-licences")

    def ready(self):
        from .effects import effects_register

        effects_register()
