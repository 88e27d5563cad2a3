from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterpriseConfig(AppConfig):
    """法人一证通 (the enterprise certificate authority, agents' certificates), the enterprise space and the
    enterprise service office's analytics (隐形冠军)."""

    name = "tongban.enterprise"
    label = "enterprise"
    verbose_name = _("Enterprises")

    def ready(self):
        from . import checks  # noqa: F401  (registers the deployment check of the CA's key directory)
