"""Control-plane pages: landing, login (and Sign in with Google), password reset, picker."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from control_plane.accounts.models import User
from frontend import google_auth
from tenants.publishing import credentials
from tenants.secretstore.store import secret_store
from tests.factories import PASSWORD


@pytest.fixture
def google(settings):
    settings.GOOGLE_CLIENT_ID = "client-id.apps.googleusercontent.com"
    settings.GOOGLE_CLIENT_SECRET = "client-secret"
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = settings.GOOGLE_CLIENT_ID
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = settings.GOOGLE_CLIENT_SECRET


def test_landing_and_signup_pages(client_on):
    client = client_on(None)

    landing = client.get("/")
    signup = client.get("/signup/").content.decode()

    assert landing.status_code == 200 and "Create your organization" in landing.content.decode()
    assert "Content-Security-Policy" in landing
    assert 'autocomplete="new-password"' in signup
    assert "Sign up with Google" not in signup


def test_google_buttons_appear_only_when_configured(org_a, client_on, google):
    public = client_on(None).get("/login/").content.decode()
    tenant = client_on(org_a).get("/login/?next=/templates/").content.decode()

    assert "Sign in with Google" in public
    assert 'action="http://publishmdm.localhost:8000/auth/google/"' in tenant
    # The flow runs on the control plane and comes back to the organization's page.
    assert 'name="return_to" value="http://acme.publishmdm.localhost:8000/templates/"' in tenant


def test_google_is_404_when_not_configured(client_on):
    assert client_on(None).post("/auth/google/").status_code == 404
    assert client_on(None).post("/auth/login/google-oauth2/").status_code == 404


def test_google_flow_asks_for_drive_file_and_offline_access(org_a, member_of, client_on, google):
    client = client_on(None, member_of(org_a, "editor"))

    assert client.get("/auth/google/").status_code == 405  # started by a form (CSRF) only
    to_google = client.post(
        "/auth/google/", {"return_to": "http://acme.publishmdm.localhost:8000/templates/"}
    )

    assert client.session[google_auth.SESSION_ORGANIZATION] == org_a.pk
    assert to_google["Location"].startswith("https://accounts.google.com/")
    query = parse_qs(urlsplit(to_google["Location"]).query)
    assert "https://www.googleapis.com/auth/drive.file" in query["scope"][0].split()
    assert query["access_type"] == ["offline"]
    assert query["redirect_uri"][0] == "http://publishmdm.localhost/auth/complete/google-oauth2/"
    done = client.get("/auth/done/")
    assert done["Location"] == "http://acme.publishmdm.localhost:8000/templates/"


def test_google_flow_refuses_to_return_to_foreign_sites(db, client_on, google):
    client = client_on(None)

    client.post("/auth/google/", {"return_to": "https://evil.example.com/"})

    assert client.session[google_auth.SESSION_ORGANIZATION] is None
    assert client.get("/auth/done/")["Location"] == "/organizations/"


class _Strategy:
    def __init__(self, session):
        self.session = session

    def session_get(self, name):
        return self.session.get(name)

    def session_set(self, name, value):
        self.session[name] = value


def test_the_refresh_token_goes_to_the_organizations_secret_store(org_a, org_b, member_of):
    member = member_of(org_a, "editor")
    strategy = _Strategy({google_auth.SESSION_ORGANIZATION: org_a.pk})

    google_auth.store_refresh_token(
        strategy, backend=None, user=member, response={"refresh_token": "1//refresh"}
    )
    # Not a member of B: nothing is stored there.
    google_auth.store_refresh_token(
        _Strategy({google_auth.SESSION_ORGANIZATION: org_b.pk}),
        backend=None,
        user=member,
        response={"refresh_token": "1//other"},
    )

    name = credentials.google_refresh_token(member.pk)
    with schema_context(org_a.schema_name):
        assert secret_store().get(name).reveal() == "1//refresh"
    with schema_context(org_b.schema_name):
        assert secret_store().get_optional(name) is None
    assert strategy.session[google_auth.SESSION_ORGANIZATION] is None


def test_google_creates_accounts_for_new_addresses_only(db, make_user):
    existing = make_user()

    known = google_auth.create_user(None, {"email": existing.email}, None, user=existing)
    new = google_auth.create_user(
        None, {"email": "new@example.org", "fullname": "New Person"}, None
    )

    assert known == {"is_new": False}
    assert new["is_new"] and User.objects.get(email="new@example.org").full_name == "New Person"
    assert not new["user"].has_usable_password()


def test_password_reset_sends_a_working_link(make_user, client_on, mailoutbox):
    user = make_user()
    client = client_on(None)

    sent = client.post("/password-reset/", {"email": user.email})

    assert sent["Location"] == "/password-reset/sent/"
    (message,) = mailoutbox
    link = re.search(r"http://publishmdm\.localhost:8000/reset/\S+/", message.body).group(0)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "another-good-pass-42", "new_password2": "another-good-pass-42"},
    )
    assert done["Location"] == "/reset/done/"
    user.refresh_from_db()
    assert user.check_password("another-good-pass-42") and not user.check_password(PASSWORD)


def test_organization_picker_lists_memberships_with_roles(org_a, org_b, member_of, client_on):
    user = member_of(org_a, "viewer")
    from control_plane.accounts.models import Membership

    Membership.objects.create(user=user, organization=org_b, role="admin")

    page = client_on(None, user).get("/organizations/").content.decode()

    assert "Acme Health" in page and "Globex Research" in page
    assert "Viewer" in page and "Admin" in page
    assert "Create another organization" in page
    assert connection.schema_name == "public"


def test_theme_cookie_sets_the_theme(org_a, member_of, client_on):
    client = client_on(org_a, member_of(org_a, "viewer"))
    client.cookies["theme"] = "dark"

    assert '<html lang="en" data-theme="dark">' in client.get("/").content.decode()


def test_picker_tokens_need_the_picker_and_a_connected_account(
    org_a, member_of, client_on, google, settings
):
    client = client_on(org_a, member_of(org_a, "editor"))
    assert client.post("/google/picker-token/").status_code == 404

    settings.GOOGLE_PICKER_API_KEY = "browser-key"
    response = client.post("/google/picker-token/")

    assert response.status_code == 409
    assert response.json() == {"error": "google_not_connected"}


def test_google_origins_enter_the_policy_only_with_the_picker(client_on, google, settings):
    plain = client_on(None).get("/login/")["Content-Security-Policy"]
    settings.GOOGLE_PICKER_API_KEY = "browser-key"
    picker = client_on(None).get("/login/")["Content-Security-Policy"]

    assert "apis.google.com" not in plain and "frame-src 'none'" in plain
    assert "script-src 'self' https://apis.google.com" in picker
    assert (
        "form-action 'self' http://publishmdm.localhost:8000 http://*.publishmdm.localhost:8000"
        in plain
    )
