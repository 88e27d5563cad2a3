from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "tongban.integrations"
    verbose_name = _("Integrations")

    def ready(self):
        from . import schema  # noqa: F401  (the OpenAPI security scheme of API clients)
