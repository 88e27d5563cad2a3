"""Deployment checks added to ``tongban check --deploy``."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_production_settings(app_configs, **kwargs):
    from tongban.settings import DEMO_SECRET_KEY

    problems = []
    if settings.SECRET_KEY == DEMO_SECRET_KEY:
        problems.append(
            Warning(
                "TONGBAN_SECRET_KEY is not set: the public demo key is in use.",
                hint="Set TONGBAN_SECRET_KEY to a long random value (python -c 'import secrets; print(secrets.token_urlsafe(64))').",
                id="tongban.W001",
            )
        )
    if settings.TONGBAN_AUDIT_SIGNING_KEY:
        from django.core.exceptions import ImproperlyConfigured

        from tongban.core.audit import _load_private_key

        try:
            _load_private_key(settings.TONGBAN_AUDIT_SIGNING_KEY)
        except (ImproperlyConfigured, ValueError, TypeError) as exc:
            problems.append(
                Error(
                    f"TONGBAN_AUDIT_SIGNING_KEY is not a usable Ed25519 private key: {exc}",
                    hint="Generate one with `tongban audit keygen`.",
                    id="tongban.E001",
                )
            )
    else:
        problems.append(
            Warning(
                "TONGBAN_AUDIT_SIGNING_KEY is not set: audit checkpoints are signed with a key file made on first use.",
                hint="Generate one with `tongban audit keygen` and keep it in your secret store.",
                id="tongban.W002",
            )
        )
    from pathlib import Path

    var = Path(settings.VAR_DIR).resolve()
    for name in ("TONGBAN_AUDIT_CHAIN_KEY_FILE", "TONGBAN_AUDIT_WITNESS_DIR"):
        if Path(getattr(settings, name)).resolve().is_relative_to(var):
            problems.append(
                Warning(
                    f"{name} is under var/, beside the database: whoever copies var/ gets it with the data.",
                    hint="Keep the audit chain keys and the checkpoint witness outside var/ and out of the "
                    "database account's reach (docs/deployment.md).",
                    id="tongban.W010" if name.endswith("KEY_FILE") else "tongban.W011",
                )
            )
    if settings.DATABASES["default"]["ENGINE"] in ("django.db.backends.sqlite3", "tongban.core.db"):
        problems.append(
            Warning(
                "The embedded SQLite database is in use.",
                hint="Set DATABASE_URL=postgres://... for a production deployment.",
                id="tongban.W003",
            )
        )
    return problems


@register()
def check_pdf_font(app_configs, **kwargs):
    """The receipts and licences embed a Chinese TrueType font; without one they only name STSong-Light."""
    from tongban.core.pdf_fonts import DEBIAN_PACKAGE, cjk_font_file

    if cjk_font_file() is not None:
        return []
    return [
        Warning(
            "No Chinese TrueType font found: PDF receipts and licences will not embed their Chinese font.",
            hint=f"Install it (sudo apt-get install {DEBIAN_PACKAGE}) or set TONGBAN_PDF_FONT to a .ttf/.ttc file.",
            id="tongban.W004",
        )
    ]
