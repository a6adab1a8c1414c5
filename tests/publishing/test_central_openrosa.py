"""The fake Central's app-user side: what ODK Collect sees with a key, and deleting app users.

Plain functions against the fake over HTTP (no database), like test_central_client.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET  # noqa: S405 - parsing the fake's answers

import pytest
import requests

from tenants.publishing.central import CentralNotFound
from tests.publishing.test_central_client import ANA, ANA_PASSWORD, client_for, xform

OPENROSA = {"X-OpenRosa-Version": "1.0"}
XFORMS = "{http://openrosa.org/xforms/xformsList}"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"


@pytest.fixture
def central(fake_central):
    fake_central.add_account(ANA, ANA_PASSWORD)
    return fake_central


@pytest.fixture
def field(central):
    """Project with app users alice and bob; alice has a published form with files and a
    draft-only form, bob a published form of his own."""
    client = client_for(central)
    pid = client.create_project("Field")["id"]
    alice = client.create_app_user(pid, "alice")
    bob = client.create_app_user(pid, "bob")
    role = client.app_user_role_id()
    for form_id, user, publish in [
        ("household_alice", alice, True),
        ("household_bob", bob, True),
        ("draft_alice", alice, False),
    ]:
        client.create_form(pid, xform(form_id, "1"))
        if publish:
            client.upload_draft_attachment(pid, form_id, "logo.png", b"\x89PNG-logo", "image/png")
            client.publish_draft(pid, form_id, "1")
        client.assign_form(pid, form_id, role, user["id"])
    return {"client": client, "pid": pid, "alice": alice, "bob": bob}


def get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, timeout=5, **kwargs)


def key_url(central, user: dict, pid: int) -> str:
    return f"{central.base_url}/v1/key/{user['token']}/projects/{pid}"


def form_list(url: str, **params) -> ET.Element:
    response = requests.get(f"{url}/formList", headers=OPENROSA, params=params, timeout=5)
    assert response.status_code == 200, response.text
    return ET.fromstring(response.content)  # noqa: S314 - the fake's answer


def test_form_list_holds_only_the_app_users_published_forms_as_openrosa(central, field):
    url = key_url(central, field["alice"], field["pid"])
    response = requests.get(f"{url}/formList", headers=OPENROSA, timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["X-OpenRosa-Accept-Content-Length"] == "100000000"
    root = ET.fromstring(response.content)  # noqa: S314
    assert root.tag == f"{XFORMS}xforms"
    (item,) = root.findall(f"{XFORMS}xform")
    assert item.findtext(f"{XFORMS}formID") == "household_alice"
    assert item.findtext(f"{XFORMS}version") == "1"
    assert item.findtext(f"{XFORMS}hash").startswith("md5:")
    download = item.findtext(f"{XFORMS}downloadUrl")
    assert download == f"{url}/forms/household_alice.xml"
    assert item.findtext(f"{XFORMS}manifestUrl") == f"{url}/forms/household_alice/manifest"
    # formID narrows the list; bob's key sees only bob's form.
    assert form_list(url, formID="household_bob").findall(f"{XFORMS}xform") == []
    bob_ids = [
        x.findtext(f"{XFORMS}formID")
        for x in form_list(key_url(central, field["bob"], field["pid"]))
    ]
    assert bob_ids == ["household_bob"]


def test_the_form_its_manifest_and_files_download_with_the_key(central, field):
    url = key_url(central, field["alice"], field["pid"])
    xml = requests.get(f"{url}/forms/household_alice.xml", timeout=5)
    assert xml.status_code == 200 and xml.headers["Content-Type"].startswith("application/xml")
    assert b'id="household_alice"' in xml.content

    manifest = requests.get(f"{url}/forms/household_alice/manifest", headers=OPENROSA, timeout=5)
    assert manifest.status_code == 200 and manifest.headers["X-OpenRosa-Version"] == "1.0"
    files = ET.fromstring(manifest.content).findall(f"{MANIFEST}mediaFile")  # noqa: S314
    # villages.csv was never uploaded: Central lists only files with content.
    assert [f.findtext(f"{MANIFEST}filename") for f in files] == ["logo.png"]
    digest = hashlib.md5(b"\x89PNG-logo", usedforsecurity=False).hexdigest()
    assert files[0].findtext(f"{MANIFEST}hash") == f"md5:{digest}"
    media = requests.get(files[0].findtext(f"{MANIFEST}downloadUrl"), timeout=5)
    assert media.status_code == 200 and media.content == b"\x89PNG-logo"
    assert media.headers["Content-Type"] == "image/png"


def test_openrosa_endpoints_require_their_header_and_answer_errors_in_xml(central, field):
    url = key_url(central, field["alice"], field["pid"])
    response = requests.get(f"{url}/formList", timeout=5)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/xml")
    assert b"<OpenRosaResponse" in response.content and b"X-OpenRosa-Version" in response.content


def test_keys_are_checked_like_centrals(central, field):
    pid = field["pid"]
    base = f"{central.base_url}/v1/key"
    malformed = get(f"{base}/not-a-token/projects/{pid}/formList", headers=OPENROSA)
    unknown = get(f"{base}/{'A' * 64}/projects/{pid}/formList", headers=OPENROSA)
    assert malformed.status_code == 401 and unknown.status_code == 403
    # Someone else's form: 403 for the manifest, the form and its files.
    alice = key_url(central, field["alice"], pid)
    assert get(f"{alice}/forms/household_bob/manifest", headers=OPENROSA).status_code == 403
    other = requests.get(f"{alice}/forms/household_bob.xml", timeout=5)
    assert other.status_code == 403 and other.json()["code"] == 403.1
    # An assigned form that was never published is not served either.
    assert requests.get(f"{alice}/forms/draft_alice.xml", timeout=5).status_code == 403
    # The key path only exists under the API version (the proxy forwards only /v1/...).
    token = field["alice"]["token"]
    unversioned = f"{central.base_url}/key/{token}/projects/{pid}/formList"
    assert requests.get(unversioned, headers=OPENROSA, timeout=5).status_code == 404


def test_app_user_tokens_look_like_centrals(central, field):
    token = field["alice"]["token"]
    assert len(token) == 64 and set(token) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!$"
    )


def test_deleting_an_app_user_answers_200_and_its_key_stops_working(central, field):
    client, pid, alice = field["client"], field["pid"], field["alice"]
    url = key_url(central, alice, pid)
    assert len(form_list(url)) == 1

    client.delete_app_user(pid, alice["id"])

    assert central.requests[-1][:2] == ("DELETE", f"/v1/projects/{pid}/app-users/{alice['id']}")
    assert requests.get(f"{url}/formList", headers=OPENROSA, timeout=5).status_code == 403
    assert [u["displayName"] for u in client.list_app_users(pid)] == ["bob"]
    assert central.assignments(pid, "household_alice") == []
    with pytest.raises(CentralNotFound):  # deleting again: already gone
        client.delete_app_user(pid, alice["id"])
    other = client.create_project("Other")["id"]
    with pytest.raises(CentralNotFound):  # only the project's own app users
        client.delete_app_user(other, field["bob"]["id"])
    assert [u["displayName"] for u in client.list_app_users(pid)] == ["bob"]
