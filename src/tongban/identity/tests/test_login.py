import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.translation import override
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongban.core.models import AuditEntry
from tongban.identity.authentication import PENDING_SESSION_KEY
from tongban.identity.views import THROTTLED, WRONG_CODE

from .factories import PASSWORD, CitizenFactory, StaffFactory, UserFactory, login_verified, totp_now

pytestmark = pytest.mark.django_db

LOGIN = reverse("identity:login")
VERIFY = reverse("identity:otp-verify")
SETUP = reverse("identity:otp-setup")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with override("en"):
        yield


@pytest.fixture
def no_otp_delay(settings):
    """django-otp makes a device wait 1 s after a wrong code; these tests type the right one at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def actions():
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def staff_with_device(**kwargs):
    staff = StaffFactory(**kwargs)
    device = TOTPDevice.objects.create(user=staff.user, name="default", confirmed=True)
    return staff.user, device


def test_a_citizen_logs_in_with_username_and_password(client):
    citizen = CitizenFactory()
    response = client.post(LOGIN, {"username": citizen.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)
    assert client.session["_auth_user_id"] == str(citizen.pk)
    entry = AuditEntry.objects.get(action="login.succeeded")
    assert (entry.actor_kind, entry.actor_id) == ("citizen", str(citizen.pk))


def test_a_citizen_logs_in_with_the_resident_id_number(client):
    citizen = CitizenFactory()
    response = client.post(
        LOGIN, {"username": citizen.person.resident_id.lower(), "password": PASSWORD, "next": "/departments/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/departments/"


def test_a_foreign_next_url_is_ignored(client):
    citizen = CitizenFactory()
    response = client.post(
        LOGIN, {"username": citizen.username, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)


def test_a_wrong_password_gets_a_clear_message_and_is_audited_without_the_password(client):
    citizen = CitizenFactory()
    response = client.post(LOGIN, {"username": citizen.username, "password": "wrong-secret"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The user name (or resident ID number) or the password is not right. Please try again."
    ]
    entry = AuditEntry.objects.get(action="login.failed")
    assert entry.details_data["username"] == citizen.username
    assert "wrong-secret" not in entry.details
    assert "_auth_user_id" not in client.session


def test_a_resident_id_tried_is_masked_in_the_audit_log(client):
    citizen = CitizenFactory()
    client.post(LOGIN, {"username": citizen.person.resident_id, "password": "nope"})
    entry = AuditEntry.objects.get(action="login.failed")
    assert entry.details_data["username"] == citizen.person.masked_resident_id


def test_repeated_wrong_passwords_lock_the_account_out(client, settings):
    citizen = CitizenFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(LOGIN, {"username": citizen.username, "password": "bad"}).status_code == 200
    response = client.post(LOGIN, {"username": citizen.username, "password": "bad"})
    assert response.status_code == 429
    assert "locked" in response.content.decode().lower()
    # Even the right password is refused while locked out.
    response = client.post(LOGIN, {"username": citizen.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert actions().count("login.locked_out") == 2


def test_staff_password_alone_does_not_log_in(client):
    user, _device = staff_with_device(roles=["dept_handler"])
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == VERIFY
    assert "_auth_user_id" not in client.session
    assert client.session[PENDING_SESSION_KEY]["user_id"] == user.pk
    assert client.get(reverse("workbench:home")).status_code == 302


def test_staff_log_in_with_the_current_totp_code(client):
    user, device = staff_with_device(roles=["dept_handler"])
    client.post(LOGIN, {"username": user.username, "password": PASSWORD, "next": "/workbench/"})
    response = client.get(VERIFY)
    assert response.status_code == 200
    response = client.post(VERIFY, {"token": totp_now(device), "next": "/workbench/"})
    assert response.status_code == 302
    assert response["Location"] == "/workbench/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get(reverse("workbench:home")).status_code == 200
    entry = AuditEntry.objects.get(action="login.succeeded")
    assert entry.actor_kind == "staff"
    assert entry.details_data["factors"] == "password+totp"


def test_a_wrong_code_gets_a_clear_message_and_is_audited(client, no_otp_delay):
    user, device = staff_with_device(roles=["dept_handler"])
    client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    wrong = f"{(int(totp_now(device)) + 1) % 1_000_000:06d}"
    response = client.post(VERIFY, {"token": wrong})
    assert response.status_code == 200
    assert response.context["form"].errors["token"] == [str(WRONG_CODE)]
    assert "_auth_user_id" not in client.session
    assert "otp.failed" in actions()
    response = client.post(VERIFY, {"token": "12ab56"})
    assert response.context["form"].errors["token"] == ["The code is made of digits only."]
    # The right code still works afterwards.
    assert client.post(VERIFY, {"token": totp_now(device)}).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_an_immediate_retry_after_a_wrong_code_is_throttled(client):
    user, device = staff_with_device(roles=["dept_handler"])
    client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    client.post(VERIFY, {"token": "000000" if totp_now(device) != "000000" else "111111"})
    response = client.post(VERIFY, {"token": totp_now(device)})
    assert response.context["form"].errors["token"] == [str(THROTTLED)]


def test_wrong_codes_count_toward_the_lockout(client, settings, no_otp_delay):
    user, device = staff_with_device(roles=["dept_handler"])
    client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    wrong = f"{(int(totp_now(device)) + 500_000) % 1_000_000:06d}"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(VERIFY, {"token": wrong}).status_code == 200
    response = client.post(VERIFY, {"token": wrong})
    assert response.status_code == 429
    assert PENDING_SESSION_KEY not in client.session
    assert "login.locked_out" in actions()
    # Locked out: neither the password step nor the right code gets in.
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_successful_password_does_not_reset_the_count_of_wrong_codes(client, settings, no_otp_delay):
    """Otherwise someone who knows the password could guess codes forever, a few per login."""
    user, device = staff_with_device(roles=["dept_handler"])
    wrong = f"{(int(totp_now(device)) + 500_000) % 1_000_000:06d}"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(LOGIN, {"username": user.username, "password": PASSWORD})
        client.post(VERIFY, {"token": wrong})
    client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert client.post(VERIFY, {"token": wrong}).status_code == 429


def test_first_staff_login_sets_up_a_device_with_a_qr_code(client):
    user = StaffFactory(roles=["window_clerk"]).user
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response["Location"] == SETUP
    response = client.get(SETUP)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    assert client.get(VERIFY)["Location"] == SETUP  # no confirmed device yet
    assert client.get(SETUP).context["secret"] == response.context["secret"]  # same key on reload
    response = client.post(SETUP, {"token": totp_now(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.session["_auth_user_id"] == str(user.pk)
    assert {"otp.device_confirmed", "login.succeeded"} <= set(actions())


def test_setup_is_refused_once_a_device_exists(client):
    """Else a stolen password could enrol the thief's phone."""
    user, _device = staff_with_device(roles=["window_clerk"])
    client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    response = client.get(SETUP)
    assert response["Location"] == VERIFY
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_code_pages_without_a_password_step_send_to_login(client):
    assert client.get(VERIFY)["Location"].startswith(LOGIN)
    assert client.get(SETUP)["Location"].startswith(LOGIN)


def test_logout_is_audited_and_needs_post(client):
    citizen = CitizenFactory()
    client.force_login(citizen)
    assert client.get(reverse("identity:logout")).status_code == 200
    assert client.session.get("_auth_user_id") == str(citizen.pk)
    response = client.post(reverse("identity:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.get(action="logout").actor_id == str(citizen.pk)


def test_admin_needs_the_second_factor(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 302
    response = client.get(response["Location"])  # the admin's own login page hands over to ours
    assert response["Location"] == f"{LOGIN}?next=/admin/"
    assert client.get(response["Location"])["Location"] == f"{VERIFY}?next=%2Fadmin%2F"
    login_verified(client, admin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/identity/person/").status_code == 200


def test_totp_command_prints_the_code_only_in_the_demo(monkeypatch, capsys, settings):
    user, device = staff_with_device(roles=["dept_handler"])
    settings.DEBUG = False
    monkeypatch.delenv("TONGBAN_DEMO", raising=False)
    with pytest.raises(CommandError, match="Refused"):
        call_command("totp", user.username)
    monkeypatch.setenv("TONGBAN_DEMO", "1")
    call_command("totp", user.username)
    assert capsys.readouterr().out.strip() == totp_now(device)
    with pytest.raises(CommandError):
        call_command("totp", "nobody")
