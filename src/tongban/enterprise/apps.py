from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterpriseConfig(AppConfig):
    """法人一证通 (the enterprise certificate authority, agents' certificates), the enterprise space and the
    enterprise service office's analytics (隐形冠军)."""

    name = "tongban.enterprise"
    label = "enterprise"
    verbose_name = _("Enterprises")
