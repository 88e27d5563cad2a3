from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "tongban.exchange"
    verbose_name = _("Data hub")

    def ready(self):
        from .effects import effects_register

        effects_register()
