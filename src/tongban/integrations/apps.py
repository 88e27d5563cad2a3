from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "tongban.integrations"
    verbose_name = _("Integrations")

    def ready(self):
        from oauth2_provider.signals import app_authorized

        from . import checks, schema  # noqa: F401  (the OIDC settings check; the API clients' OpenAPI scheme)
        from .services import api_token_issued

        def token_issued(sender, request, token, **kwargs):
            api_token_issued(token=token)

        app_authorized.connect(token_issued, dispatch_uid="tongban.integrations.token_issued", weak=False)
