"""Audit events as sentences people read: “Ada asked to publish Household visit”.

Events keep their dotted code (the API, filters and tooltips show it); pages
show the sentence. ``SENTENCES`` has one entry per code recorded anywhere in
the codebase — the organization's trail (``audit_record``) and the control
plane's (``platform_audit_record``). ``tests/foundation/test_audit_sentences.py``
finds every code in the source and fails when one has no sentence here.

A sentence is a ``str.format`` template. Its fields: ``actor`` (a person's
name, else their email, else “Publish MDM” for the system), ``target`` (the
object's label when it was recorded) and the event's ``data`` keys. A field
the event lacks reads as “?” rather than failing the page.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from typing import Any

SYSTEM = "Publish MDM"

SENTENCES: dict[str, str] = {
    # The organization and its members (tenant trail, written by the control plane).
    "organization.provisioned": "{actor} set up the organization",
    "organization.member.invited": "{actor} invited {target} as {role}",
    "organization.invitation.resent": "{actor} sent the invitation to {target} again",
    "organization.invitation.revoked": "{actor} revoked the invitation to {target}",
    "organization.member.joined": "{actor} joined as {role}",
    "organization.member.role_changed": "{actor} changed the role of {target} from {from} to {to}",
    "organization.member.left": "{actor} left the organization",
    "organization.member.removed": "{actor} removed {target} from the organization",
    "organization.api_token.created": "{actor} created the API token “{target}” ({role})",
    "organization.api_token.revoked": "{actor} revoked the API token “{target}”",
    # Publishing.
    "publishing.central_server.created": "{actor} added the Central server {target}",
    "publishing.central_server.updated": "{actor} changed the Central server {target}",
    "publishing.central_server.deleted": "{actor} removed the Central server {target}",
    "publishing.project.created": "{actor} created the project {target} in Central",
    "publishing.project.imported": "{actor} imported the project {target} from Central",
    "publishing.project.updated": "{actor} changed the project {target}",
    "publishing.project.variable_set": "{actor} changed {variable} for the project {target}",
    "publishing.variable.created": "{actor} added the template variable {target}",
    "publishing.variable.updated": "{actor} changed the template variable {target}",
    "publishing.variable.deleted": "{actor} deleted the template variable {target}",
    "publishing.app_user.created": "{actor} added the app user {target}",
    "publishing.app_user.deleted": "{actor} deleted the app user {target}",
    "publishing.app_user.central_revoked": "The app user {target} lost its access in Central",
    "publishing.app_user.central_revoke_failed": (
        "Removing the app user {target} from Central failed: {error}"
    ),
    "publishing.app_user.variable_set": "{actor} changed {variable} for the app user {target}",
    "publishing.app_users.imported": (
        "{actor} imported app users into {target} ({created} added, {updated} updated)"
    ),
    "publishing.template.created": "{actor} added the form template {target}",
    "publishing.template.updated": "{actor} changed the form template {target}",
    "publishing.template.archived": "{actor} archived the form template {target}",
    "publishing.template.restored": "{actor} restored the form template {target}",
    "publishing.template.rollback_requested": "{actor} asked to roll back {target}",
    "publishing.template.source_uploaded": "{actor} uploaded a new spreadsheet for {target}",
    "publishing.template.attachment_set": "{actor} attached {name} to {target}",
    "publishing.template.app_users_set": "{actor} changed which app users get {target}",
    "publishing.template.publish_requested": "{actor} asked to publish {target}",
    "publishing.template.published": "{actor} published {target} ({version})",
    "publishing.template.publish_failed": "Publishing {target} did not fully succeed ({status})",
    "publishing.app_user.recreated": (
        "The app user {target} was deleted in Central and made again while publishing"
    ),
    "publishing.run.retried": "{actor} retried publishing {target}",
    "publishing.template.access_revoked": (
        "{actor} withdrew {target} from the app user {app_user} in Central"
    ),
    # The secret store.
    "secrets.store.created": "{actor} created the organization's secret store ({backend})",
    "secrets.secret.written": "{actor} stored the secret {name}",
    "secrets.secret.deleted": "{actor} deleted the secret {name}",
    "secrets.keys.rotated": "{actor} re-encrypted {count} secrets with a new key",
    "secrets.backend.moved": "{actor} moved {count} secrets from {from} to {to}",
    # The control plane's own trail (PlatformAuditEvent).
    "organization.created": "{actor} created the organization {name}",
    "organization.provisioning_failed": "Setting up the organization failed at the {step} step",
    "organization.renamed": "{actor} renamed the organization from {from} to {to}",
    "organization.plan_changed": "{actor} changed the plan from {from} to {to}",
    "organization.domains_changed": "{actor} changed the organization's custom domains",
    "organization.suspended": "{actor} suspended the organization",
    "organization.resumed": "{actor} resumed the organization",
    "organization.archived": "{actor} archived the organization",
    "organization.purged": "{actor} deleted the organization's data",
    "organization.invitation.created": "{actor} invited {email} as {role}",
    "organization.secret_backend_moved": "{actor} moved the secret store from {from} to {to}",
    "organization.secret_store_deleted": "{actor} deleted the organization's secret store",
    "platform.token.created": "{actor} created the platform token “{name}”",
    "platform.token.revoked": "{actor} revoked the platform token “{name}”",
}

_ROLE_WORDS = {"owner": "owner", "admin": "admin", "editor": "editor", "viewer": "viewer"}


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return _ROLE_WORDS.get(value, str(value)) if isinstance(value, str) else str(value)


def audit_sentence(
    code: str, *, actor: str = "", target: str = "", data: Mapping[str, Any] | None = None
) -> str:
    """The sentence for one event; an unknown code reads as the code itself."""
    template = SENTENCES.get(code)
    if template is None:
        return code
    fields = _Fields({key: _word(value) for key, value in (data or {}).items()})
    fields.update(actor=actor or SYSTEM, target=target or "?")
    sentence = string.Formatter().vformat(template, (), fields)
    if template.startswith("{"):
        return sentence  # a name or an email, as written
    return sentence[:1].upper() + sentence[1:]


def actor_names(actor_ids: Iterable[int | None]) -> dict[int, str]:
    """People's names (or emails) by user id, in one query, for a page of events."""
    from control_plane.accounts.models import User

    ids = {pk for pk in actor_ids if pk is not None}
    if not ids:
        return {}
    return {
        pk: name or email
        for pk, name, email in User.objects.filter(pk__in=ids).values_list(
            "pk", "full_name", "email"
        )
    }


def describe_events(events: Iterable[Any]) -> list[Any]:
    """Give each event a ``sentence`` attribute (names looked up once for all of them)."""
    events = list(events)
    names = actor_names(event.actor_id for event in events)
    for event in events:
        actor = names.get(event.actor_id) or (
            "" if event.actor_label == "system" else event.actor_label
        )
        event.sentence = audit_sentence(
            event.code, actor=actor, target=event.target_label, data=event.data
        )
    return events
