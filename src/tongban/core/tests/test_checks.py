"""``tongban check --deploy``: the demo defaults are named, a production configuration passes."""

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tongban.core.checks import check_production_settings


def ids(settings_problems):
    return sorted(problem.id for problem in settings_problems)


def raw_key():
    key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(key).decode()


def test_the_demo_defaults_are_each_named(settings, monkeypatch):
    from tongban.settings import DEMO_SECRET_KEY

    settings.SECRET_KEY = DEMO_SECRET_KEY
    settings.TONGBAN_AUDIT_SIGNING_KEY = ""
    settings.TONGBAN_AUDIT_CHAIN_KEY_FILE = str(settings.VAR_DIR / "keys" / "audit-chain.keys")
    settings.TONGBAN_AUDIT_WITNESS_DIR = str(settings.VAR_DIR / "witness")
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "django.db.backends.sqlite3")
    assert ids(check_production_settings(None)) == [
        "tongban.W001",
        "tongban.W002",
        "tongban.W003",
        "tongban.W010",
        "tongban.W011",
    ]


def test_a_production_configuration_has_no_problems(settings, monkeypatch, tmp_path):
    settings.SECRET_KEY = "x" * 64
    settings.TONGBAN_AUDIT_CHAIN_KEY_FILE = str(tmp_path / "etc" / "audit-chain.keys")
    settings.TONGBAN_AUDIT_WITNESS_DIR = str(tmp_path / "witness")
    settings.TONGBAN_AUDIT_SIGNING_KEY = raw_key()
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "django.db.backends.postgresql")
    assert check_production_settings(None) == []


def test_a_signing_key_that_is_not_an_ed25519_key_is_an_error(settings, monkeypatch, tmp_path):
    settings.SECRET_KEY = "x" * 64
    settings.TONGBAN_AUDIT_CHAIN_KEY_FILE = str(tmp_path / "audit-chain.keys")
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "django.db.backends.postgresql")
    for bad in (
        "x",
        base64.b64encode(b"short").decode(),
        "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----",
    ):
        settings.TONGBAN_AUDIT_SIGNING_KEY = bad
        assert ids(check_production_settings(None)) == ["tongban.E001"], bad
