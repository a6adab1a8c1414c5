"""One storage contract, run on local files and on S3 (a fake as strict as S3 about signatures).

Every file an organization owns - template sources, versions and their variants,
attachments, QR codes - lands under ``tenants/<schema>/``; downloads give back
exactly the stored bytes (streamed locally, through an expiring signed URL on
S3); a storage name of another organization is never served; purging an
organization deletes its files and nobody else's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django_tenants.utils import schema_context

from control_plane.accounts.models import Membership
from control_plane.organizations.services.lifecycle import (
    organization_archive,
    organization_purge,
)
from control_plane.storage import tenant_storage_prefix
from tenants.publishing.models import AppUser, FormTemplate, RunStatus
from tenants.publishing.services.app_users import app_user_ensure_central, app_user_qr_refresh
from tenants.publishing.services.clients import central_client_for
from tenants.publishing.services.templates import template_attachment_put
from tests.publishing.publishing_helpers import app_users, publish, template_for, with_district

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


class Storage:
    """What a test needs to know about the storage it runs on."""

    def __init__(self, kind: str, s3=None, bucket: str = "") -> None:
        self.kind, self.s3, self.bucket = kind, s3, bucket

    def names(self, prefix: str) -> list[str]:
        """Every stored name under ``prefix``, read from the backend itself."""
        if self.kind == "s3":
            return self.s3.keys(self.bucket, prefix)
        from django.conf import settings

        root = Path(settings.MEDIA_ROOT)
        base = root / prefix
        return sorted(str(p.relative_to(root)) for p in base.rglob("*") if p.is_file())

    def download(self, response) -> bytes:
        """The bytes a browser or API client ends up with for a download ``response``."""
        if self.kind == "local":
            assert response.status_code == 200, response.status_code
            return b"".join(response.streaming_content)
        assert response.status_code == 302, response.status_code
        url = response["Location"]
        assert url.startswith(self.s3.endpoint_url + "/" + self.bucket + "/")
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback fake
            return answer.read()


@pytest.fixture(params=["local", "s3"])
def storage(request, settings, tmp_path) -> Storage:
    if request.param == "s3":
        bucket = request.getfixturevalue("s3_storage")
        return Storage("s3", request.getfixturevalue("s3_server"), bucket)
    settings.MEDIA_ROOT = tmp_path / "media"  # this test's files only
    return Storage("local")


@pytest.fixture
def member_client(client_on, member_of):
    def make(organization, role="editor"):
        return client_on(organization, member_of(organization, role))

    return make


def _attach(template: FormTemplate) -> bytes:
    data = b"id,name\n1,North\n2,South\n"
    template_attachment_put(
        template, actor=None, name="villages list.csv", data=data, content_type="text/csv"
    )
    return data


def test_publishing_stores_every_file_under_the_organizations_prefix_and_serves_it_back(
    storage, tx_project, central, tenant_tx, committed_user, client_on
):
    with_district(tx_project)
    users = app_users(tx_project, ["ana", "ben"])
    template = template_for(tx_project, users)
    attachment_bytes = _attach(template)
    with default_storage.open(template.source_file, "rb") as handle:
        source_bytes = handle.read()

    run = publish(template)

    assert run.status == RunStatus.SUCCEEDED
    version = run.version
    variants = list(version.variants.order_by("app_user_name"))
    attachment = template.attachments.get()
    stored = [
        template.source_file,
        version.source_file,
        attachment.file,
        *(v.workbook_file for v in variants),
        *(v.xform_file for v in variants),
    ]
    prefix = tenant_storage_prefix(connection.schema_name) + "/"
    assert all(name.startswith(prefix) for name in stored), stored
    on_backend = storage.names("tenants/")
    assert set(stored) <= set(on_backend)
    assert all(name.startswith(prefix) for name in on_backend), on_backend

    Membership.objects.create(user=committed_user, organization=tenant_tx, role="viewer")
    web = api = client_on(tenant_tx, committed_user)
    base = f"/templates/{template.pk}"
    assert storage.download(web.get(f"{base}/source/")) == source_bytes
    assert storage.download(web.get(f"{base}/versions/{version.pk}/source/")) == source_bytes
    assert storage.download(web.get(f"{base}/attachments/{attachment.pk}/")) == attachment_bytes
    for variant in variants:
        xform = storage.download(web.get(f"{base}/variants/{variant.pk}/xml/"))
        assert f'id="{variant.form_id}"'.encode() in xform
        workbook = storage.download(web.get(f"{base}/variants/{variant.pk}/xlsx/"))
        assert workbook[:2] == b"PK"
    api_base = f"/api/v1/templates/{template.pk}"
    assert storage.download(api.get(f"{api_base}/source/")) == source_bytes
    assert storage.download(api.get(f"{api_base}/versions/{version.pk}/source/")) == source_bytes
    xform = storage.download(
        api.get(f"{api_base}/versions/{version.pk}/variants/{variants[0].pk}/xform/")
    )
    assert f'id="{variants[0].form_id}"'.encode() in xform


def test_qr_codes_are_stored_under_the_prefix_shown_inline_and_downloadable(
    storage, project, central, member_client, in_org_a
):
    app_user = AppUser.objects.create(project=project, name="alice")
    app_user_ensure_central(app_user, central_client_for(project.server))
    assert app_user_qr_refresh(app_user) is True

    assert app_user.qr_code.startswith("tenants/org_acme/app-users/")
    assert app_user.qr_code in storage.names("tenants/org_acme/")
    client = member_client(in_org_a)
    # Shown in the page: always from our own host (the CSP allows images from 'self' only).
    inline = client.get(f"/app-users/{app_user.pk}/qr.png")
    assert inline.status_code == 200 and b"".join(inline.streaming_content)[:8] == PNG
    api = client.get(f"/api/v1/app-users/{app_user.pk}/qr-code/")
    assert api.status_code == 200 and b"".join(api.streaming_content)[:8] == PNG
    # Downloaded: the file itself, or its signed URL on S3.
    assert storage.download(client.get(f"/app-users/{app_user.pk}/qr.png?download=1"))[:8] == PNG


def test_a_storage_name_of_another_organization_is_never_served(
    storage, project, member_client, in_org_a, org_b
):
    """Even if a row of A pointed at B's file, A's host answers 404 and B's file stays."""
    with schema_context(org_b.schema_name):
        theirs = default_storage.save(
            f"{tenant_storage_prefix(org_b.schema_name)}/templates/9/secret.xlsx",
            ContentFile(b"globex only"),
        )
    template = template_for(project, [])
    FormTemplate.objects.filter(pk=template.pk).update(source_file=theirs)
    client = member_client(in_org_a)

    assert client.get(f"/templates/{template.pk}/source/").status_code == 404
    assert client.get(f"/api/v1/templates/{template.pk}/source/").status_code == 404
    # Names that climb out of the prefix are refused the same way.
    with schema_context(in_org_a.schema_name):  # each request leaves the connection on public
        FormTemplate.objects.filter(pk=template.pk).update(
            source_file=f"tenants/org_acme/../{org_b.schema_name}/templates/9/secret.xlsx"
        )
    assert client.get(f"/templates/{template.pk}/source/").status_code == 404
    assert theirs in storage.names(f"tenants/{org_b.schema_name}/")


def test_purging_an_organization_deletes_its_files_and_nobody_elses(
    storage, new_organization, org_b, django_capture_on_commit_callbacks
):
    organization = new_organization()
    prefix = tenant_storage_prefix(organization.schema_name)
    with schema_context(organization.schema_name):
        for name in (
            "templates/1/source.xlsx",
            "templates/1/versions/1/a.xml",
            "app-users/2/q.png",
        ):
            default_storage.save(f"{prefix}/{name}", ContentFile(b"x"))
    with schema_context(org_b.schema_name):
        kept = default_storage.save(
            f"{tenant_storage_prefix(org_b.schema_name)}/templates/1/keep.xlsx",
            ContentFile(b"globex"),
        )
    assert len(storage.names(prefix + "/")) == 4  # the three and the provisioning marker

    organization = organization_archive(organization, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        organization_purge(organization, actor=None, confirm=organization.slug)

    assert storage.names(prefix + "/") == []
    assert kept in storage.names(f"tenants/{org_b.schema_name}/")


# --- S3 only: signed URLs ----------------------------------------------------------------


@pytest.fixture
def two_downloads(s3_storage, s3_server, project, member_client, in_org_a, org_b):
    """A's redirect to its template source, and the storage name of a file of B."""
    template = template_for(project, [])
    response = member_client(in_org_a).get(f"/templates/{template.pk}/source/")
    assert response.status_code == 302
    with schema_context(org_b.schema_name):
        theirs = default_storage.save(
            f"{tenant_storage_prefix(org_b.schema_name)}/templates/{template.pk}/source.xlsx",
            ContentFile(b"globex only"),
        )
    return response["Location"], template.source_file, theirs


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback fake
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_signed_urls_are_for_one_object_and_expire(two_downloads, s3_server):
    url, ours, theirs = two_downloads
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["120"]
    assert query["response-content-disposition"][0].startswith("attachment; filename=")

    status, body = _fetch(url)
    assert status == 200 and body[:2] == b"PK"

    # A's signature does not open B's key (nor any other).
    tampered = url.replace(ours, theirs)
    assert tampered != url
    status, body = _fetch(tampered)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body

    # After its lifetime the URL is refused.
    s3_server.clock_offset = 121
    status, body = _fetch(url)
    assert status == 403 and b"Request has expired" in body


def test_the_bucket_is_private(two_downloads, s3_server, s3_storage):
    _, ours, _ = two_downloads
    status, body = _fetch(f"{s3_server.endpoint_url}/{s3_storage}/{ours}")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body


def test_settings_build_the_s3_storage_from_the_environment():
    code = (
        "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'control_plane.settings';"
        "from django.conf import settings; print(json.dumps(settings.STORAGES['default']))"
    )
    env = {
        **os.environ,
        "S3_BUCKET": "publishmdm-files",
        "S3_ENDPOINT_URL": "https://s3.example.org",
        "S3_REGION": "eu-west-3",
        "S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "S3_SECRET_ACCESS_KEY": "secret",
        "S3_URL_EXPIRY": "90",
        "S3_ADDRESSING_STYLE": "path",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    import json

    options = json.loads(result.stdout.strip().splitlines()[-1])["OPTIONS"]
    assert options["bucket_name"] == "publishmdm-files"
    assert options["endpoint_url"] == "https://s3.example.org"
    assert options["region_name"] == "eu-west-3"
    assert options["signature_version"] == "s3v4"
    assert options["addressing_style"] == "path"
    assert options["querystring_expire"] == 90
    assert options["querystring_auth"] is True and options["file_overwrite"] is False

    bad = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "S3_ADDRESSING_STYLE": "sideways"},
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "S3_ADDRESSING_STYLE must be one of" in bad.stderr
