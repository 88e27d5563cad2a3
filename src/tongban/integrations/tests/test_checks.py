"""``tongban check`` about the integrations' settings."""

from django.test import override_settings


def test_tongban_check_names_a_half_configured_sign_in():
    from tongban.integrations.checks import check_oidc_settings

    with override_settings(TONGBAN_OIDC_ENABLED=True, OIDC_RP_CLIENT_ID="", OIDC_RP_CLIENT_SECRET="x"):
        [error] = check_oidc_settings(None)
    assert error.id == "tongban.E160" and "TONGBAN_OIDC_CLIENT_ID" in error.msg
    assert check_oidc_settings(None) == []  # off: nothing to say
