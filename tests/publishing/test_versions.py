"""Versions are immutable (code and database), templates are archived rather than deleted,
stored sources are checked against their hash, and an organization with versions can
still be purged."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction

from control_plane.errors import Conflict, InvalidState
from tenants.audit.models import AuditEvent
from tenants.publishing.immutable import ImmutableRow
from tenants.publishing.models import (
    AppUser,
    FormTemplate,
    FormTemplateVersion,
    FormVariant,
    PublishRun,
    RunStatus,
)
from tenants.publishing.services.publish import publish_start
from tenants.publishing.services.templates import (
    store_source,
    template_archive,
    template_create,
    template_restore,
    template_update,
)
from tenants.publishing.services.versions import (
    ArtifactUnavailable,
    version_diff,
    version_rollback,
    version_source,
)
from tests.publishing.publishing_helpers import app_users, simple_form, template_for
from tests.xlsforms import make_xlsform


def make_version(template, label="v1", source: bytes | None = None) -> FormTemplateVersion:
    """A stored version as the publish job writes it (source under its hash, one variant)."""
    data = source if source is not None else simple_form()
    name, sha = store_source(template.pk, data)
    version = FormTemplateVersion.objects.create(
        template=template, version=label, source_file=name, source_sha256=sha
    )
    app_user = template.app_users.order_by("name").first()
    FormVariant.objects.create(
        version=version,
        app_user=app_user,
        app_user_name=app_user.name,
        form_id=f"{template.form_id_base}_{app_user.name}",
        workbook_file=default_storage.save(f"tenants/org_acme/t/{label}.xlsx", ContentFile(b"x")),
        workbook_sha256="0" * 64,
        xform_file="x.xml",
        xform_sha256="0" * 64,
    )
    return version


@pytest.fixture
def template(in_org_a, project):
    return template_for(project, app_users(project, ["alice", "bob"]))


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


# --- immutability ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE publishing_formtemplateversion SET version = 'forged' WHERE id = %s",
        "DELETE FROM publishing_formtemplateversion WHERE id = %s",
        "UPDATE publishing_formvariant SET xform_sha256 = 'forged' WHERE version_id = %s",
        "DELETE FROM publishing_formvariant WHERE version_id = %s",
        # Unlinking the app user is allowed only on its own, not to smuggle in a change.
        "UPDATE publishing_formvariant SET app_user_id = NULL, form_id = 'x' WHERE version_id = %s",
    ],
)
def test_the_database_refuses_to_change_a_version(template, statement):
    version = make_version(template)

    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        _sql(statement, [version.pk])

    stored = FormTemplateVersion.objects.get(pk=version.pk)
    assert stored.version == "v1" and stored.variants.get().form_id == "household_alice"


def test_our_code_refuses_to_change_a_version(template):
    version = make_version(template)
    variant = version.variants.get()

    version.version = "forged"
    with pytest.raises(ImmutableRow):
        version.save()
    with pytest.raises(ImmutableRow):
        variant.delete()
    with pytest.raises(ImmutableRow):
        FormTemplateVersion.objects.filter(pk=version.pk).update(version="forged")
    with pytest.raises(ImmutableRow):
        template.versions.all().delete()
    with pytest.raises(ImmutableRow):
        FormVariant.objects.filter(version=version).delete()
    assert FormTemplateVersion.objects.get(pk=version.pk).version == "v1"


def test_deleting_an_app_user_only_unlinks_its_variants(template):
    version = make_version(template)
    alice = AppUser.objects.get(name="alice")

    alice.delete()

    variant = version.variants.get()
    assert variant.app_user_id is None and variant.app_user_name == "alice"


# --- archive and restore ---------------------------------------------------------------------


def test_deleting_a_template_archives_it_and_keeps_its_versions(template):
    version = make_version(template)
    run = PublishRun.objects.create(template=template, status=RunStatus.SUCCEEDED, version=version)

    template_archive(template, actor=None)

    assert not FormTemplate.objects.filter(pk=template.pk).exists()  # hidden
    archived = FormTemplate.all_objects.get(pk=template.pk)
    assert archived.archived_at is not None
    assert list(archived.versions.all()) == [version]
    assert PublishRun.objects.get(pk=run.pk).version_id == version.pk
    assert version_source(version) == default_storage.open(version.source_file).read()
    assert AuditEvent.objects.filter(code="publishing.template.archived").exists()
    # Archived templates are read-only and cannot be published.
    with pytest.raises(InvalidState, match="archived"):
        template_update(archived, actor=None, title_base="New", source_kind="upload")
    with pytest.raises(InvalidState, match="archived"):
        publish_start(template=archived, actor=None)
    with pytest.raises(InvalidState, match="archived"):
        version_rollback(version, actor=None)

    template_restore(archived, actor=None)

    assert FormTemplate.objects.get(pk=template.pk).archived_at is None
    assert AuditEvent.objects.filter(code="publishing.template.restored").exists()
    with pytest.raises(InvalidState, match="not archived"):
        template_restore(archived, actor=None)


def test_a_template_being_published_is_not_archived(template):
    PublishRun.objects.create(template=template, status=RunStatus.RUNNING)

    with pytest.raises(Conflict) as caught:
        template_archive(template, actor=None)

    assert caught.value.code == "publish_in_progress"
    assert FormTemplate.objects.filter(pk=template.pk).exists()


def test_an_archived_template_keeps_its_form_id(template, project):
    template_archive(template, actor=None)

    with pytest.raises(Conflict, match="archived template uses form id Household"):
        template_create(
            actor=None,
            project=project,
            title_base="Again",
            form_id_base="Household",
            source_kind="upload",
            source=simple_form(),
        )


# --- stored sources ----------------------------------------------------------------------------


def test_a_changed_or_missing_source_is_refused(template):
    version = make_version(template)
    path = default_storage.path(version.source_file)
    with open(path, "ab") as handle:
        handle.write(b"tampered")

    with pytest.raises(ArtifactUnavailable) as caught:
        version_diff(version, version)
    assert caught.value.code == "artifact_altered"
    with pytest.raises(ArtifactUnavailable):
        version_rollback(version, actor=None)
    assert not PublishRun.objects.exists()

    default_storage.delete(version.source_file)
    with pytest.raises(ArtifactUnavailable, match="missing"):
        version_source(version)


def test_diff_compares_the_stored_sources(template):
    old = make_version(template, "v1")
    changed = make_xlsform(
        [
            {"type": "text", "name": "respondent", "label": "Full name"},
            {"type": "calculate", "name": "district", "calculation": "''"},
            {"type": "integer", "name": "age", "label": "Age"},
        ],
        settings={"form_title": "x", "form_id": "x"},
    )
    new = make_version(template, "v2", changed)

    diff = version_diff(old, new)

    assert [c.key for c in diff.survey.added] == ["age"]
    assert [c.key for c in diff.survey.removed] == ["n1"]
    assert [c.key for c in diff.survey.changed] == ["respondent"]
    assert version_diff(new, old).survey.added[0].key == "n1"  # either order
    other = template_for(template.project, [], form_id_base="other")
    name, sha = store_source(other.pk, simple_form())
    foreign = FormTemplateVersion.objects.create(
        template=other, version="v1", source_file=name, source_sha256=sha
    )
    with pytest.raises(InvalidState, match="same template"):
        version_diff(old, foreign)


# --- purge -------------------------------------------------------------------------------------


def test_an_organization_with_versions_can_still_be_purged(new_organization):
    from control_plane.organizations.services import schemas
    from control_plane.organizations.services.lifecycle import (
        organization_archive,
        organization_purge,
    )
    from tenants.publishing.models import CentralServer, Project

    organization = new_organization("versions-purge")
    connection.set_tenant(organization)
    server = CentralServer.objects.create(name="C", base_url="https://c.invalid")
    project = Project.objects.create(name="P", server=server, central_project_id=1)
    template = FormTemplate.objects.create(
        project=project, title_base="T", form_id_base="t", source_kind="upload"
    )
    FormTemplateVersion.objects.create(
        template=template, version="v1", source_file="s.xlsx", source_sha256="0" * 64
    )
    # As if committed earlier: run the deferred foreign-key checks of these inserts now
    # (PostgreSQL refuses to drop tables with checks pending in the same transaction).
    _sql("SET CONSTRAINTS ALL IMMEDIATE")
    connection.set_schema_to_public()
    organization = organization_archive(organization, actor=None)

    organization_purge(organization, actor=None, confirm="versions-purge")

    assert not schemas.exists(organization.schema_name)
