"""``tongban check``: federated sign-in switched on without what it needs."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_oidc_settings(app_configs, **kwargs):
    if not settings.TONGBAN_OIDC_ENABLED:
        return []
    missing = [
        name
        for name, value in (
            ("TONGBAN_OIDC_CLIENT_ID", settings.OIDC_RP_CLIENT_ID),
            ("TONGBAN_OIDC_CLIENT_SECRET", settings.OIDC_RP_CLIENT_SECRET),
        )
        if not value
    ]
    if not missing:
        return []
    return [
        Error(
            f"TONGBAN_OIDC_ISSUER is set but {', '.join(missing)} is not: federated sign-in cannot work.",
            hint="Set the client registered at the identity provider (docs/integration.md), or unset the issuer.",
            id="tongban.E160",
        )
    ]
