"""Finding 6: rate limits keyed on an address nobody can forge, and the limits that were missing.

The attack: a new ``X-Forwarded-For`` on every request made every per-address
limit start afresh (``serve`` ran daphne with proxy headers trusted from
anyone, and DRF keyed throttles on the raw header). Now the header is believed
only from ``TRUSTED_PROXIES``; web signup, login (per account, with back-off,
and per address), password reset and invitation pages have limits; and the
audit trail records the same address.
"""

from __future__ import annotations

import itertools
import time

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client

from control_plane.client_address import client_address_from

PASSWORD = "correct horse battery staple 42"
_spoofed = (f"198.51.100.{n}" for n in itertools.count(1))


def spoof() -> dict:
    """A fresh forged client address per request (the attack)."""
    return {"HTTP_X_FORWARDED_FOR": next(_spoofed)}


def public_client(**extra) -> Client:
    return Client(HTTP_HOST=django_settings.BASE_DOMAIN, **extra)


# --- the one client-address function -----------------------------------------------------------


def test_forwarded_headers_are_ignored_unless_the_peer_is_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address_from("203.0.113.7", "198.51.100.1") == "203.0.113.7"
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address_from("203.0.113.7", "198.51.100.1") == "203.0.113.7"


def test_behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.10"]
    # The client wrote "1.2.3.4"; our proxies appended the real peer and themselves.
    header = "1.2.3.4, 203.0.113.7, 10.1.1.1"
    assert client_address_from("192.0.2.10", header) == "203.0.113.7"
    assert client_address_from("10.0.0.2", "not-an-ip, 203.0.113.7") == "203.0.113.7"
    assert client_address_from("10.0.0.2", "garbage") == "10.0.0.2"
    assert client_address_from("10.0.0.2", "[2001:db8::5]:443") == "2001:db8::5"


# --- API throttles ------------------------------------------------------------------------------


def _api_signup(client: Client, **extra):
    return client.post("/api/v1/signup/", {}, content_type="application/json", **extra)


@pytest.mark.django_db
def test_api_signup_limit_is_not_reset_by_a_forged_header(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "signup": "2/hour",
        },
    }
    client = public_client()
    codes = [_api_signup(client, **spoof()).status_code for _ in range(3)]
    assert codes == [400, 400, 429]


@pytest.mark.django_db
def test_a_trusted_proxy_is_believed(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "signup": "1/hour",
        },
    }
    client = public_client()
    assert _api_signup(client, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 400
    # Forging hops further left changes nothing: the proxy vouches for the last one only.
    forged = {"HTTP_X_FORWARDED_FOR": "198.51.100.9, 203.0.113.1"}
    assert _api_signup(client, **forged).status_code == 429
    assert _api_signup(client, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 400


# --- web signup ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_web_signup_shares_the_address_budget_and_ignores_forged_headers(settings):
    from control_plane.accounts.models import User

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "signup": "2/hour",
        },
    }
    client = public_client()
    for _ in range(2):
        _api_signup(client, **spoof())
    response = client.post(
        "/signup/",
        {
            "full_name": "Mallory",
            "email": "mallory@example.org",
            "password": PASSWORD,
            "organization_name": "Mallory Inc",
            "slug": "mallory-inc",
        },
        **spoof(),
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert not User.objects.filter(email="mallory@example.org").exists()


# --- login ----------------------------------------------------------------------------------------


def _login(client: Client, email: str, password: str, **extra):
    return client.post("/login/", {"username": email, "password": password}, **extra)


@pytest.fixture
def victim(make_user):
    return make_user(email="victim@example.org", password=PASSWORD)


@pytest.mark.django_db
def test_login_locks_the_account_after_failures_whatever_the_address(victim, settings):
    settings.LOGIN_LOCKOUT_AFTER = 3
    settings.LOGIN_LOCKOUT_SECONDS = 60
    client = public_client()
    for _ in range(3):
        assert _login(client, victim.email, "wrong", **spoof()).status_code == 200
    assert _login(client, victim.email, "wrong", **spoof()).status_code == 200  # locks 60 s

    response = _login(client, victim.email, PASSWORD, **spoof())  # right password, too late
    assert response.status_code == 429
    assert response["Retry-After"] in {"59", "60"}
    assert "Too many failed logins for this account" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_lockout_ends_and_backs_off(victim, settings):
    """Not a permanent lock (someone else could keep the owner out forever)."""
    settings.LOGIN_LOCKOUT_AFTER = 1
    settings.LOGIN_LOCKOUT_SECONDS = 1
    client = public_client()
    _login(client, victim.email, "wrong")  # free
    _login(client, victim.email, "wrong")  # locks 1 s
    assert _login(client, victim.email, PASSWORD).status_code == 429
    time.sleep(1.1)
    _login(client, victim.email, "wrong")  # the next failure locks twice as long
    assert _login(client, victim.email, PASSWORD)["Retry-After"] == "2"
    time.sleep(2.1)
    assert _login(client, victim.email, PASSWORD).status_code == 302  # and a success clears it
    assert _login(public_client(), victim.email, "wrong").status_code == 200


@pytest.mark.django_db
def test_unknown_accounts_lock_like_real_ones(settings):
    settings.LOGIN_LOCKOUT_AFTER = 1
    client = public_client()
    _login(client, "nobody@example.org", "wrong")
    _login(client, "nobody@example.org", "wrong")
    assert _login(client, "nobody@example.org", "wrong").status_code == 429


@pytest.mark.django_db
def test_login_failures_are_limited_per_address(make_user, settings):
    settings.RATE_LIMIT_LOGIN_ADDRESS = "3/hour"
    client = public_client()
    for n in range(3):
        assert _login(client, f"user{n}@example.org", "wrong", **spoof()).status_code == 200
    someone = make_user(email="someone@example.org", password=PASSWORD)
    response = _login(client, someone.email, PASSWORD, **spoof())
    assert response.status_code == 429
    assert "from your address" in response.content.decode()
    other_address = public_client(REMOTE_ADDR="203.0.113.50")
    assert _login(other_address, someone.email, PASSWORD).status_code == 302


# --- password reset and invitations -------------------------------------------------------------


@pytest.mark.django_db
def test_password_reset_is_limited_per_address(victim, settings):
    settings.RATE_LIMIT_PASSWORD_RESET_ADDRESS = "2/hour"
    client = public_client()
    codes = [
        client.post("/password-reset/", {"email": victim.email}, **spoof()).status_code
        for _ in range(3)
    ]
    assert codes == [302, 302, 429]
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_password_reset_emails_are_limited_per_account(victim, settings):
    settings.RATE_LIMIT_PASSWORD_RESET_ACCOUNT = "1/hour"
    for n in range(3):
        response = public_client(REMOTE_ADDR=f"203.0.113.{n + 1}").post(
            "/password-reset/", {"email": victim.email}
        )
        assert response.status_code == 302  # the page says "sent" either way
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_invitation_pages_are_limited_per_address(org_a, settings):
    from control_plane.accounts.services.invitations import invitation_create

    settings.RATE_LIMIT_INVITATION_ADDRESS = "2/hour"
    issued = invitation_create(
        organization=org_a, email="new@example.org", role="viewer", actor=None
    )
    client = public_client()
    path = f"/invitations/{issued.token}/"
    codes = [client.get(path, **spoof()).status_code for _ in range(2)]
    codes.append(client.post(path, {"password": PASSWORD}, **spoof()).status_code)
    assert codes == [200, 200, 429]


# --- the audit trail ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_audit_trail_records_the_real_address_not_a_forged_one(org_a, member_of):
    from tenants.audit.models import AuditEvent
    from tests.api.helpers import api_client, issue_token, tenant

    admin = member_of(org_a, "admin")
    client = api_client(org_a, token=issue_token(org_a, admin, "admin"))
    response = client.post(
        "/api/v1/tokens/",
        {"name": "CI", "role": "viewer"},
        format="json",
        REMOTE_ADDR="203.0.113.77",
        HTTP_X_FORWARDED_FOR="198.51.100.200",
    )
    assert response.status_code == 201
    with tenant(org_a):
        event = AuditEvent.objects.filter(code="organization.api_token.created").latest("id")
    assert event.client_address == "203.0.113.77"
