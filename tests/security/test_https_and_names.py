"""Finding 10 (informational): HTTPS is enforced in production; infrastructure names stay ours.

Production sends HSTS (subdomains included, since every organization is a
subdomain), redirects plain http to https, and reads the scheme from the
proxy's header; ``/healthz`` stays reachable over http for probes. Slugs
that name mail, DNS, MTA-STS or CDN hosts, or look like spare schemas, are
refused, so that no organization can take ``mta-sts.<base>`` or
``autodiscover.<base>`` and answer for the whole domain.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from control_plane.organizations.models import Organization
from control_plane.organizations.services.provisioning import organization_create
from control_plane.organizations.services.slugs import validate_slug

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_CHECK = """
import importlib, json, os
NAMES = ("SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT",
         "SECURE_PROXY_SSL_HEADER", "SECURE_REDIRECT_EXEMPT", "SESSION_COOKIE_SECURE")
module = importlib.import_module("control_plane.settings")
values = [{name: getattr(module, name) for name in NAMES}]
os.environ.update(SECURE_PROXY_SSL_HEADER="X-Scheme", SECURE_HSTS_SECONDS="60")
module = importlib.reload(module)
values.append({name: getattr(module, name) for name in NAMES})
print(json.dumps(values))
"""


def production_settings() -> list[dict]:
    """The settings module as production evaluates it: defaults, then with two overrides."""
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "DEBUG": "false",
        "SECRET_KEY": "p" * 30 + "roduction-secret-key-for-this-test-only-0123456789",
        "SECRETS_MASTER_KEYS": "uM3vJm0xq8cQ2l1n7l3iW0D1p0mJ8r0x4bT1Q5q0x7w=",
    }
    for name in ("SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT"):
        env.pop(name, None)
    out = subprocess.run(
        [sys.executable, "-c", PRODUCTION_CHECK],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_turns_on_hsts_and_the_ssl_redirect_behind_the_proxy_header():
    values, other = production_settings()
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SESSION_COOKIE_SECURE"] is True
    assert other["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_SCHEME", "https"]
    assert other["SECURE_HSTS_SECONDS"] == 60


PRODUCTION_HTTPS = {
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "SECURE_REDIRECT_EXEMPT": [r"^healthz(/|$)"],
}


@override_settings(**PRODUCTION_HTTPS)
def test_with_production_settings_http_redirects_and_https_gets_hsts(org_a, client_on):
    client = client_on(org_a)
    plain = client.get("/login/")
    assert plain.status_code == 301
    assert plain["Location"] == f"https://{org_a.primary_domain}/login/"
    assert "Strict-Transport-Security" not in plain

    secure = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"

    assert client.get("/healthz").status_code in (200, 503)  # probes stay on http


@pytest.mark.parametrize(
    "slug",
    [
        "mta-sts",
        "autodiscover",
        "webmail",
        "mail",
        "ns1",
        "ns2",
        "ns3",
        "ns4",
        "smtp",
        "imap",
        "ftp",
        "cdn",
        "assets",
        "status",
        "spare",
        "spare-1",
        "spare-abc",
    ],
)
def test_infrastructure_names_are_reserved(db, slug):
    with pytest.raises(ValidationError) as excinfo:
        organization_create(name="Reserved", slug=slug, enqueue=False)
    assert excinfo.value.code == "reserved_slug"
    assert not Organization.objects.filter(slug=slug).exists()


def test_the_spare_rule_follows_the_configured_prefix(settings):
    settings.SPARE_SCHEMA_PREFIX = "pool_"
    with pytest.raises(ValidationError):
        validate_slug("pool-7")
    assert validate_slug("spare-7") == "spare-7"
    assert validate_slug("spareparts") == "spareparts"
