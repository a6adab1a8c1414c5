"""Revoking an app user's access to a template's form in Central."""

from __future__ import annotations

from tenants.audit.services import audit_record
from tenants.publishing.central.errors import CentralNotFound
from tenants.publishing.models import AppUser, FormTemplate
from tenants.publishing.services.clients import central_client_for


def form_access_revoke(*, template_id: int, app_user_id: int) -> bool:
    """Unassign the app user from ``<form id base>_<app user>``; True if it was assigned.

    Still-assigned app users are left alone (a re-assignment raced the job).
    """
    # Archived templates too: a revocation queued before the archive still happens.
    template = (
        FormTemplate.all_objects.select_related("project__server").filter(pk=template_id).first()
    )
    app_user = AppUser.objects.filter(pk=app_user_id).first()
    if template is None or app_user is None or app_user.central_id is None:
        return False
    if template.app_users.filter(pk=app_user.pk).exists():
        return False
    client = central_client_for(template.project.server)
    form_id = f"{template.form_id_base}_{app_user.name}"
    role_id = client.app_user_role_id()
    try:
        assigned = client.list_form_assignments(
            template.project.central_project_id, form_id, role_id
        )
    except CentralNotFound:
        return False
    if not any(a.get("id") == app_user.central_id for a in assigned):
        return False
    client.unassign_form(template.project.central_project_id, form_id, role_id, app_user.central_id)
    audit_record(
        "publishing.template.access_revoked",
        actor=None,
        target=template,
        data={"app_user": app_user.name, "form_id": form_id},
    )
    return True
