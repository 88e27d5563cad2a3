from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class APIConfig(AppConfig):
    name = "tongban.api"
    verbose_name = _("API")

    def ready(self):
        from . import authentication  # noqa: F401  (the session's OpenAPI security scheme)
