"""Published versions: reading their stored source, comparing two, rolling back to one.

A version's files are read back only through ``version_source``, which checks
the bytes against the SHA-256 recorded when the version was stored: a diff
or a rollback never works from a file that changed behind our back.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.storage import default_storage

from control_plane.errors import InvalidState
from tenants.publishing.form_diff import FormDiff, form_diff
from tenants.publishing.models import FormTemplate, FormTemplateVersion, PublishRun
from tenants.publishing.rendering import TemplateError, load_source


class ArtifactUnavailable(InvalidState):
    """A stored file of a version is missing or no longer matches its hash."""

    code = "artifact_unavailable"


def version_source(version: FormTemplateVersion) -> bytes:
    """The version's source workbook exactly as published (hash checked)."""
    name = version.source_file
    if not name or not default_storage.exists(name):
        raise ArtifactUnavailable(
            f"The source workbook of version {version.version} is missing from storage."
        )
    with default_storage.open(name, "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != version.source_sha256:
        raise ArtifactUnavailable(
            f"The stored source of version {version.version} does not match the SHA-256 "
            "recorded when it was published; it was changed outside Publish MDM.",
            code="artifact_altered",
        )
    return data


def _parsed(version: FormTemplateVersion):
    try:
        return load_source(version_source(version))
    except TemplateError as exc:  # it was readable when published: storage damage
        raise ArtifactUnavailable(
            f"The stored source of version {version.version} cannot be read.",
            code="artifact_unreadable",
        ) from exc


def version_diff(old: FormTemplateVersion, new: FormTemplateVersion) -> FormDiff:
    """What changed from ``old`` to ``new`` (two versions of one template, any order)."""
    if old.template_id != new.template_id:
        raise InvalidState(
            "Only versions of the same template can be compared.", code="other_template"
        )
    old_form = _parsed(old)
    new_form = old_form if new.source_sha256 == old.source_sha256 else _parsed(new)
    return form_diff(old_form, new_form)


def version_rollback(
    version: FormTemplateVersion, *, actor: Any, app_user_ids: list[int] | None = None
) -> PublishRun:
    """Publish ``version``'s stored source again, as a new version, with the usual run.

    The run renders the old source for the template's app users of today (or
    the chosen ones) and publishes it as the next ``YYYY-MM-DD-vN``: Central
    only accepts new versions, and the history keeps both. The source is read
    from storage, never from Google.
    """
    from tenants.publishing.services.publish import publish_start

    version_source(version)  # refuse now rather than fail in the worker
    template = FormTemplate.all_objects.select_related("project").get(pk=version.template_id)
    return publish_start(
        template=template, actor=actor, app_user_ids=app_user_ids, rollback_of=version
    )
