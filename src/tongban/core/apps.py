from importlib import import_module

from django.apps import AppConfig
from django.conf import settings
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "tongban.core"
    verbose_name = _("Core")

    def ready(self):
        from tongban.core import checks  # noqa: F401  (registers the deployment checks)

        # Event subscribers: every app's events.py, and any extra modules the settings name.
        autodiscover_modules("events")
        for module in settings.TONGBAN_EVENT_MODULES:
            import_module(module)
