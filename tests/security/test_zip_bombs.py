"""Finding 2: xlsx zip bombs are refused before anything unpacks them.

A 2 MB workbook with a 2 GiB member used to take the process to 4.3 GB: the
variant patcher read every member whole. Every workbook that arrives
(template uploads on the API and the web page, app-user imports, Google
exports, stored sources read by a publish job) is now measured first by
``control_plane.archives.check_zip``: member count, declared and inflated
sizes, compression ratio.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from control_plane.archives import ArchiveLimits, ArchiveRefused, check_zip
from tests.api.helpers import api_client, error_of, issue_token
from tests.publishing.publishing_helpers import app_users, simple_form
from tests.security import zipbombs

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
TOO_LARGE = "The workbook is too large when unpacked (over 50 MB)."


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: zipbombs.honest_bomb(2048), TOO_LARGE),
        (lambda: zipbombs.honest_bomb(51), "too large when unpacked"),
        (lambda: zipbombs.many_members(1200), "too many parts (over 1000)"),
        (lambda: zipbombs.workbook_with(zipbombs.zeros("xl/media/a.bin", 8)), "200 times"),
        (
            lambda: zipbombs.workbook_with(
                *(zipbombs.deflated(f"xl/media/{i}.bin", os.urandom(MIB)) for i in range(3))
            ),
            "over 2 MB",
        ),
    ],
    ids=["2GiB-member", "just-over", "many-members", "ratio", "total"],
)
def test_bombs_are_refused_with_a_clear_message(build, message):
    limits = ArchiveLimits.from_settings()
    if message == "over 2 MB":
        limits = ArchiveLimits(max_unpacked_bytes=2 * MIB)
    with pytest.raises(ArchiveRefused) as excinfo:
        check_zip(build(), limits=limits)
    assert message in excinfo.value.message


def test_a_member_that_lies_about_its_size_is_refused_without_inflating_it():
    with pytest.raises(zipfile.BadZipFile):
        check_zip(zipbombs.lying_bomb(2048))


def test_real_workbooks_pass():
    check_zip(simple_form())
    check_zip(zipbombs.workbook_with())


MEMORY_PROBE = textwrap.dedent(
    """
    import json, os, resource, sys
    import django
    django.setup()
    from tenants.publishing.rendering import TemplateError, load_source
    from tenants.publishing.rendering import xlsx_patch
    from tests.security import zipbombs

    def peak_mib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

    bombs = {"honest": zipbombs.honest_bomb(2048), "lying": zipbombs.lying_bomb(2048)}
    # Fail fast (MemoryError) instead of eating the machine if a bomb goes off.
    size = int(open("/proc/self/statm").read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (size + 1536 * 2**20, resource.RLIM_INFINITY))
    before = peak_mib()
    outcome = {}
    for name, data in bombs.items():
        for step, call in (("load_source", load_source), ("prepare", xlsx_patch.prepare)):
            try:
                result = call(data)
                outcome[f"{name}.{step}"] = "returned " + type(result).__name__
            except TemplateError as exc:
                outcome[f"{name}.{step}"] = str(exc)
            except MemoryError:
                outcome[f"{name}.{step}"] = "MemoryError"
            except Exception as exc:
                outcome[f"{name}.{step}"] = type(exc).__name__ + ": " + str(exc)
    print(json.dumps({"grew_mib": peak_mib() - before, "outcome": outcome}))
    """
)


def test_bombs_are_refused_within_a_memory_bound():
    """In a fresh process (so the peak is this work's): +100 MB at most for two 2 GiB bombs."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "control_plane.settings",
        "LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    outcome = report["outcome"]
    assert TOO_LARGE in outcome["honest.load_source"], outcome
    assert "Bad CRC-32" in outcome["lying.load_source"], outcome
    assert outcome["honest.prepare"].startswith("ArchiveRefused"), outcome
    assert outcome["lying.prepare"] == "returned NoneType", outcome  # "not a zip we patch"
    assert report["grew_mib"] < 100, report


def test_api_template_upload_refuses_a_bomb(org_a, project, member_of):
    client = api_client(org_a, token=issue_token(org_a, member_of(org_a, "editor"), "editor"))
    response = client.post(
        "/api/v1/templates/",
        {
            "project": project.pk,
            "title_base": "Bomb",
            "form_id_base": "bomb",
            "source_kind": "upload",
            "source": SimpleUploadedFile("bomb.xlsx", zipbombs.honest_bomb(2048)),
        },
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert TOO_LARGE in error_of(response)["fields"]["source"][0]


def test_web_template_upload_refuses_a_bomb(workspace, as_role):
    import io

    upload = io.BytesIO(zipbombs.honest_bomb(2048))
    upload.name = "bomb.xlsx"
    response = as_role("editor").post(
        "/templates/new/",
        {
            "title_base": "Bomb",
            "form_id_base": "bomb",
            "source_kind": "upload",
            "source": upload,
        },
    )
    assert response.status_code == 200
    assert TOO_LARGE in response.content.decode()


def test_app_user_import_refuses_a_bomb(org_a, project, member_of):
    client = api_client(org_a, token=issue_token(org_a, member_of(org_a, "editor"), "editor"))
    bomb = zipbombs.archive([zipbombs.zeros("xl/worksheets/sheet1.xml", 2048)])
    response = client.post(
        "/api/v1/app-users/import/preview/",
        {"project": project.pk, "file": SimpleUploadedFile("users.xlsx", bomb)},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert "The file is too large when unpacked" in error_of(response)["fields"]["file"][0]


def _google_run(tx_project, fake_google, user, data: bytes):
    from tenants.publishing import credentials
    from tenants.publishing.services.publish import publish_start
    from tenants.publishing.services.publish_job import publish_run_execute
    from tenants.publishing.services.templates import template_create
    from tenants.secretstore.services.secrets import secret_put

    users = app_users(tx_project, ["alice"])
    url = fake_google.add_file("1BombSheetFileId", data, readable_by="ana@gmail.com")
    secret_put(
        credentials.google_refresh_token(user.pk),
        fake_google.issue_refresh_token("ana@gmail.com"),
        actor=None,
    )
    template = template_create(
        actor=None,
        project=tx_project,
        title_base="Bomb",
        form_id_base="bomb",
        source_kind="google_sheet",
        google_sheet_url=url,
        app_user_ids=[u.pk for u in users],
    )
    return publish_run_execute(publish_start(template=template, actor=user).pk)


def test_a_google_export_that_is_a_bomb_fails_the_run_before_central(
    tx_project, central, fake_google, committed_user
):
    before = len(central.requests)
    run = _google_run(tx_project, fake_google, committed_user, zipbombs.honest_bomb(2048))
    assert run.status == "failed" and run.error_code == "template_invalid"
    assert [issue["message"] for issue in run.issues] == [TOO_LARGE]
    assert run.items.get().error == TOO_LARGE
    assert len(central.requests) == before


def test_a_google_export_is_read_with_a_cap(tx_project, central, fake_google, committed_user):
    """No Content-Length to trust: the download stops counting at 10 MB."""
    fake_google.stream_exports = True
    run = _google_run(tx_project, fake_google, committed_user, os.urandom(11 * MIB))
    assert run.status == "failed" and run.error_code == "google_too_large"
    assert "over 10 MB" in run.error
