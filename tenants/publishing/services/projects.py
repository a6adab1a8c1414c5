"""Projects: created in Central, or imported from it with their app users and forms."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from control_plane.errors import Conflict
from tenants.audit.services import audit_record
from tenants.publishing import credentials
from tenants.publishing.models import (
    AppUser,
    CentralServer,
    FormTemplate,
    FormTemplateAppUser,
    Project,
    SourceKind,
)
from tenants.publishing.services.clients import central_client_for
from tenants.secretstore.services.secrets import secret_put

_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")


def _check_language(app_language: str) -> str:
    app_language = (app_language or "en").strip()
    if not _LANGUAGE_RE.fullmatch(app_language):
        raise ValidationError({"app_language": "Use a language code such as en, fr or pt-BR."})
    return app_language


def project_create(
    *, actor: Any, server: CentralServer, name: str, app_language: str = "en"
) -> Project:
    """Create the project in Central, then here (a Central failure leaves nothing here)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the project a name."})
    app_language = _check_language(app_language)
    remote = central_client_for(server).create_project(name)
    with transaction.atomic():
        project = Project.objects.create(
            name=name, server=server, central_project_id=remote["id"], app_language=app_language
        )
        audit_record(
            "publishing.project.created",
            actor=actor,
            target=project,
            data={"central_project_id": remote["id"]},
        )
    return project


def project_update(project: Project, *, actor: Any, name: str, app_language: str) -> Project:
    app_language = _check_language(app_language)
    name = (name or "").strip() or project.name
    changed = (name, app_language) != (project.name, project.app_language)
    with transaction.atomic():
        project.name, project.app_language = name, app_language
        project.save()
        audit_record(
            "publishing.project.updated",
            actor=actor,
            target=project,
            data={"app_language": app_language},
        )
        if changed:
            from tenants.publishing.tasks import refresh_project_qr_codes

            refresh_project_qr_codes.defer(schema_name=_schema(), project_id=project.pk)
    return project


def _schema() -> str:
    from django.db import connection

    return connection.schema_name


def central_projects(server: CentralServer) -> list[dict]:
    """Projects the server's account can see, for the import picker."""
    return [
        {
            "id": p["id"],
            "name": p["name"],
            "imported": Project.objects.filter(server=server, central_project_id=p["id"]).exists(),
        }
        for p in central_client_for(server).list_projects()
        if not p.get("archived")
    ]


def infer_templates(form_ids: list[str], app_user_names: list[str]) -> dict[str, list[str]]:
    """Group Central form ids ``<base>_<appuser>`` by base, for known app users only.

    The longest matching app-user suffix wins, so ``survey_north_alice`` with
    app users ``alice`` and ``north_alice`` is base ``survey`` for ``north_alice``.
    """
    names = sorted(app_user_names, key=len, reverse=True)
    groups: dict[str, list[str]] = {}
    for form_id in form_ids:
        for name in names:
            suffix = f"_{name}"
            if form_id.endswith(suffix) and len(form_id) > len(suffix):
                groups.setdefault(form_id[: -len(suffix)], []).append(name)
                break
    return groups


def project_import(
    *, actor: Any, server: CentralServer, central_project_id: int, app_language: str = "en"
) -> Project:
    """Import a Central project with its app users and the templates its form ids imply."""
    if Project.objects.filter(server=server, central_project_id=central_project_id).exists():
        raise Conflict("This project is already imported.", code="project_exists")
    client = central_client_for(server)
    remote = client.get_project(central_project_id)
    remote_users = [u for u in client.list_app_users(central_project_id) if not u.get("deletedAt")]
    remote_forms = client.list_forms(central_project_id)
    titles = {f["xmlFormId"]: f.get("name") or f["xmlFormId"] for f in remote_forms}
    with transaction.atomic():
        project = Project.objects.create(
            name=remote["name"],
            server=server,
            central_project_id=central_project_id,
            app_language=_check_language(app_language),
        )
        app_users: dict[str, AppUser] = {}
        for remote_user in remote_users:
            name = remote_user.get("displayName", "")
            if not re.fullmatch(r"[A-Za-z0-9_]{1,60}", name) or name.lower() in {
                n.lower() for n in app_users
            }:
                continue  # names we could not publish to are left in Central untouched
            app_users[name] = AppUser.objects.create(
                project=project, name=name, central_id=remote_user["id"]
            )
            if remote_user.get("token"):
                secret_put(
                    credentials.app_user_token(app_users[name].pk),
                    remote_user["token"],
                    actor=actor,
                )
        groups = infer_templates(list(titles), list(app_users))
        for base, names in groups.items():
            first_title = titles[f"{base}_{names[0]}"]
            template = FormTemplate.objects.create(
                project=project,
                form_id_base=base,
                title_base=re.sub(r"\s*\[[^\]]*\]\s*$", "", first_title) or base,
                source_kind=SourceKind.UPLOAD,
            )
            FormTemplateAppUser.objects.bulk_create(
                [FormTemplateAppUser(template=template, app_user=app_users[n]) for n in names]
            )
        audit_record(
            "publishing.project.imported",
            actor=actor,
            target=project,
            data={
                "central_project_id": central_project_id,
                "app_users": len(app_users),
                "templates": len(groups),
            },
        )
        from tenants.publishing.tasks import refresh_project_qr_codes

        refresh_project_qr_codes.defer(schema_name=_schema(), project_id=project.pk)
    return project
