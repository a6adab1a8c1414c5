"""Finding 3: SSRF is checked when each connection opens, for every outbound client.

The attacks: a Central URL that passes the save-time check and then redirects
to the metadata service or an internal host; a name that answers a public
address when checked and a private one when we connect (DNS rebinding,
played by the fake DNS); and the same against Google and Infisical, whose
URLs are settings. Internal targets are small HTTP servers on 127.0.0.1 that
record what reaches them: none may be reached, and nothing they would answer
may appear in an error.
"""

from __future__ import annotations

import datetime
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from control_plane.outbound import OutboundRedirectRefused, OutboundRefused, guarded_session
from tests.fakes import central as central_fake
from tests.fakes import dns
from tests.publishing import fixtures as publishing_fixtures
from tests.publishing.fixtures import CENTRAL_EMAIL, CENTRAL_PASSWORD

# Fixtures used here (module-local: tests/security/conftest.py belongs to the whole suite).
fake_central = central_fake.fake_central
fake_dns = dns.fake_dns
central = publishing_fixtures.central
in_org_a = publishing_fixtures.in_org_a

SECRET = "AKIA-INTERNAL-METADATA-SECRET"


class Upstream:
    """An HTTP server on 127.0.0.1 that records requests; ``redirects`` maps paths to Locations."""

    def __init__(self, redirects: dict[str, str] | None = None, status: int = 302) -> None:
        self.redirects = redirects or {}
        self.status = status
        self.requests: list[tuple[str, str]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                upstream.requests.append((self.command, self.path))
                location = upstream.redirects.get(self.path.split("?")[0])
                if location is not None:
                    self.send_response(upstream.status)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps({"token": SECRET, "message": SECRET}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstreams():
    started: list[Upstream] = []

    def start(**kwargs) -> Upstream:
        upstream = Upstream(**kwargs)
        started.append(upstream)
        return upstream

    yield start
    for upstream in started:
        upstream.stop()


@pytest.fixture
def internal(upstreams, fake_dns):
    """An internal service (think 169.254.169.254) reachable as ``metadata.internal``."""
    fake_dns.add("metadata.internal", "127.0.0.1")
    return upstreams()


def allow(settings, name: str, *entries: str) -> None:
    setattr(settings, name, [*getattr(settings, name), *entries])


# --- Central ------------------------------------------------------------------------


def test_central_redirect_to_an_internal_address_is_refused(
    in_org_a, central, internal, upstreams, settings
):
    from tenants.publishing.services.servers import CentralServerInvalid, central_server_save

    redirector = upstreams(
        redirects={"/v1/sessions": f"http://metadata.internal:{internal.port}/latest/meta-data/"},
        status=307,  # a 307 would even repeat the POST, password included
    )
    allow(settings, "CENTRAL_ALLOWED_INTERNAL_HOSTS", f"127.0.0.1:{redirector.port}")
    with pytest.raises(CentralServerInvalid) as caught:
        central_server_save(
            actor=None,
            name="Redirecting",
            base_url=f"http://127.0.0.1:{redirector.port}",
            username=CENTRAL_EMAIL,
            password=CENTRAL_PASSWORD,
        )
    assert caught.value.field == "base_url"
    assert "redirect" in caught.value.message
    assert SECRET not in caught.value.message and "meta-data" not in caught.value.message
    assert redirector.requests == [("POST", "/v1/sessions")]
    assert internal.requests == []


def test_redirects_are_not_followed_even_to_an_allowed_host(in_org_a, central, upstreams, settings):
    """No hop-by-hop trust: the password POST must never be repeated elsewhere."""
    from tenants.publishing.central import CentralClient, CentralUnavailable

    elsewhere = upstreams()
    redirector = upstreams(redirects={"/v1/sessions": f"http://127.0.0.1:{elsewhere.port}/x"})
    allow(
        settings,
        "CENTRAL_ALLOWED_INTERNAL_HOSTS",
        f"127.0.0.1:{redirector.port}",
        f"127.0.0.1:{elsewhere.port}",
    )
    client = CentralClient(f"http://127.0.0.1:{redirector.port}", CENTRAL_EMAIL, CENTRAL_PASSWORD)
    with pytest.raises(CentralUnavailable) as caught:
        client.probe_login()
    assert "redirect (HTTP 302)" in caught.value.message
    assert elsewhere.requests == []
    assert redirector.requests == [("POST", "/v1/sessions")]  # refused, not retried


def test_dns_rebinding_is_refused_at_connect_time(in_org_a, central, fake_dns):
    """The name is public when the URL is checked, then points at our own network."""
    from tenants.publishing.models import CentralServer
    from tenants.publishing.services.servers import CentralServerInvalid, central_server_save

    port = central.base_url.rsplit(":", 1)[1]
    fake_dns.add("central.rebind.example", "93.184.216.34", "127.0.0.1")
    with pytest.raises(CentralServerInvalid) as caught:
        central_server_save(
            actor=None,
            name="Rebinding",
            base_url=f"http://central.rebind.example:{port}",
            username=CENTRAL_EMAIL,
            password=CENTRAL_PASSWORD,
        )
    assert "private or internal network address" in caught.value.message
    assert fake_dns.queries["central.rebind.example"] == 2  # checked on save, then on connect
    assert central.requests == []  # the fake Central on 127.0.0.1 was never reached
    assert not CentralServer.objects.exists()


def test_publishing_clients_check_every_connection(in_org_a, central, fake_dns):
    """A saved server whose name now points inside is refused when a job connects."""
    from tenants.publishing import credentials
    from tenants.publishing.central import CentralUnavailable
    from tenants.publishing.models import CentralServer
    from tenants.publishing.services.clients import central_client_for
    from tenants.secretstore.services.secrets import secret_put

    port = central.base_url.rsplit(":", 1)[1]
    fake_dns.add("central.repointed.example", "127.0.0.1")
    server = CentralServer.objects.create(
        name="Repointed", base_url=f"http://central.repointed.example:{port}"
    )
    secret_put(credentials.central_username(server.pk), CENTRAL_EMAIL, actor=None)
    secret_put(credentials.central_password(server.pk), CENTRAL_PASSWORD, actor=None)
    with pytest.raises(CentralUnavailable) as caught:
        central_client_for(server).list_projects()
    assert "private or internal network address" in caught.value.message
    assert central.requests == []


# --- Google ---------------------------------------------------------------------------


def test_google_drive_is_reached_only_through_the_guard(internal, settings):
    from tenants.publishing.google import GoogleError, export_sheet_xlsx

    settings.GOOGLE_DRIVE_API_URL = f"http://metadata.internal:{internal.port}"
    with pytest.raises(GoogleError) as caught:
        export_sheet_xlsx(
            "https://docs.google.com/spreadsheets/d/abcdefghijklmnop/edit",
            access_token="ya29.token",
            backoff=0,
        )
    assert caught.value.code == "google_unavailable"
    assert "private or internal network address" in caught.value.message
    assert SECRET not in caught.value.message
    assert internal.requests == []


def test_google_token_endpoint_redirect_is_refused(internal, upstreams, settings):
    from tenants.publishing.google import GoogleError, refresh_access_token

    redirector = upstreams(
        redirects={"/token": f"http://metadata.internal:{internal.port}/token"}, status=307
    )
    allow(settings, "OUTBOUND_ALLOWED_INTERNAL_HOSTS", f"127.0.0.1:{redirector.port}")
    settings.GOOGLE_OAUTH_TOKEN_URL = f"http://127.0.0.1:{redirector.port}/token"
    with pytest.raises(GoogleError) as caught:
        refresh_access_token("1//refresh-token")
    assert "redirect" in caught.value.message
    assert internal.requests == []


# --- Infisical --------------------------------------------------------------------------


def _infisical_client(settings, url: str):
    from tenants.secretstore.infisical_client import InfisicalClient, InfisicalConfig

    settings.INFISICAL_URL = url
    settings.INFISICAL_CLIENT_ID = "machine-identity"
    settings.INFISICAL_CLIENT_SECRET = "machine-secret-value"
    settings.INFISICAL_READ_RETRIES = 2
    settings.INFISICAL_RETRY_BACKOFF = 0.0
    return InfisicalClient(InfisicalConfig.from_settings(), schema_name="org_acme")


def test_infisical_is_reached_only_through_the_guard(internal, settings):
    from tenants.secretstore.errors import SecretStoreUnavailable
    from tenants.secretstore.infisical_client import forget_tokens

    forget_tokens()
    client = _infisical_client(settings, f"http://metadata.internal:{internal.port}")
    with pytest.raises(SecretStoreUnavailable) as caught:
        client.get_project("project-1")
    assert "private or internal network address" in caught.value.message
    assert "1 attempt" in caught.value.message  # a refusal is final, not retried
    assert internal.requests == []


def test_infisical_redirect_is_refused(internal, upstreams, settings):
    from tenants.secretstore.errors import SecretStoreUnavailable
    from tenants.secretstore.infisical_client import forget_tokens

    forget_tokens()
    target = f"http://metadata.internal:{internal.port}/api/v1/auth/universal-auth/login"
    redirector = upstreams(redirects={"/api/v1/auth/universal-auth/login": target}, status=307)
    allow(settings, "OUTBOUND_ALLOWED_INTERNAL_HOSTS", f"127.0.0.1:{redirector.port}")
    client = _infisical_client(settings, f"http://127.0.0.1:{redirector.port}")
    with pytest.raises(SecretStoreUnavailable) as caught:
        client.get_project("project-1")
    assert "redirect" in caught.value.message
    assert internal.requests == []


# --- the transport itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "10.0.0.8", "127.0.0.1", "::1", "::ffff:127.0.0.1", "100.100.100.200"],
)
def test_internal_answers_are_refused_before_connecting(address, fake_dns, settings):
    fake_dns.add("api.vendor.example", address)
    with pytest.raises(OutboundRefused) as caught:
        guarded_session(timeout=2).get("http://api.vendor.example/v1/things")
    assert not isinstance(caught.value, OutboundRedirectRefused)
    assert fake_dns.queries["api.vendor.example"] == 1


def test_a_name_with_one_internal_address_is_refused(fake_dns):
    fake_dns.add("mixed.example", ["93.184.216.34", "127.0.0.1"])
    with pytest.raises(OutboundRefused):
        guarded_session(timeout=2).get("http://mixed.example/")


def _certificate(tmp_path, hostname: str):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_pinned_connections_still_verify_tls_against_the_host_name(
    tmp_path, upstreams, fake_dns, settings
):
    """The socket goes to the checked address; SNI and the certificate check use the name."""
    upstream = upstreams()
    cert_path, key_path = _certificate(tmp_path, "secure.vendor.example")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    seen_sni: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
    upstream.server.socket = context.wrap_socket(upstream.server.socket, server_side=True)
    for name in ("secure.vendor.example", "impostor.vendor.example"):
        fake_dns.add(name, "127.0.0.1")
        allow(settings, "OUTBOUND_ALLOWED_INTERNAL_HOSTS", f"{name}:{upstream.port}")
    session = guarded_session(timeout=5)

    answer = session.get(f"https://secure.vendor.example:{upstream.port}/", verify=str(cert_path))
    assert answer.status_code == 200
    assert seen_sni == ["secure.vendor.example"]
    with pytest.raises(requests.exceptions.SSLError):
        session.get(f"https://impostor.vendor.example:{upstream.port}/", verify=str(cert_path))


def test_proxies_from_the_environment_are_ignored(monkeypatch, upstreams, fake_dns, settings):
    """A proxy would connect for us, past the address check."""
    proxy = upstreams()
    allow(settings, "OUTBOUND_ALLOWED_INTERNAL_HOSTS", f"127.0.0.1:{proxy.port}")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    fake_dns.add("metadata.example", "169.254.169.254")
    with pytest.raises(OutboundRefused):
        guarded_session(timeout=2).get("http://metadata.example/latest/meta-data/")
    assert proxy.requests == []


def test_internal_address_literals_in_urls_are_refused():
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8000/",
        "http://10.1.2.3/",
    ):
        with pytest.raises(OutboundRefused):
            guarded_session(timeout=2).get(url)
