"""Deployment check of 法人一证通: the CA's keys belong outside ``var/``, like the audit chain's keys."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_ca_dir(app_configs, **kwargs):
    var = Path(settings.VAR_DIR).resolve()
    if Path(settings.TONGBAN_ENTERPRISE_CA_DIR).resolve().is_relative_to(var):
        return [
            Warning(
                "TONGBAN_ENTERPRISE_CA_DIR is under var/, beside the database: whoever copies var/ gets the "
                "enterprise CA's keys with the data.",
                hint="Keep the CA's keys outside var/ and out of the database account's reach (docs/enterprise.md).",
                id="tongban.W020",
            )
        ]
    return []
