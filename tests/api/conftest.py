"""Fixtures of the API tests: clients by role on organization A, B's equivalents."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from tests.api.helpers import api_client, issue_token
from tests.fakes.central import fake_central  # noqa: F401
from tests.publishing.fixtures import (  # noqa: F401
    central,
    central_server,
    in_org_a,
    project,
    tenant_tx,
    tx_project,
    tx_server,
)

ROLES = ("viewer", "editor", "admin", "owner")


@pytest.fixture(autouse=True)
def _api_settings(settings):
    """Generous limits (tests that check throttling lower them) and fresh counters."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "token": "100000/min",
            "user": "100000/min",
            "anon": "100000/min",
        },
    }
    caches[settings.API_THROTTLE_CACHE].clear()
    yield


@pytest.fixture
def no_dns(monkeypatch):
    """Central URLs never resolve through DNS in tests: any name but localhost is unknown."""
    from tenants.publishing import network

    def resolve(host: str, port: int) -> list[str]:
        if host in ("localhost", "127.0.0.1"):
            return ["127.0.0.1"]
        raise network.UnsafeURL(f"The host “{host}” could not be resolved.", field="base_url")

    monkeypatch.setattr(network, "resolve", resolve)


@pytest.fixture
def client_for(org_a, member_of):
    """``client_for(role, org=org_a, auth="token")`` → an APIClient of a new member."""

    def make(role: str = "editor", organization=None, *, auth: str = "token", user=None):
        organization = organization or org_a
        user = user or member_of(organization, role)
        if auth == "token":
            return api_client(organization, token=issue_token(organization, user, role))
        return api_client(organization, user=user)

    return make


@pytest.fixture
def editor(client_for):
    return client_for("editor")


@pytest.fixture
def admin(client_for):
    return client_for("admin")


@pytest.fixture
def a_objects(org_a, org_b, member_of):
    """One object of every kind in organization A, keyed by viewset (for ``pk``) or kwarg name.

    Ids are checked not to exist in B, so that B's host can only answer 404 for them.
    """
    from django.utils import timezone

    from api.tenant.app_users import AppUserViewSet
    from api.tenant.audit import AuditEventViewSet
    from api.tenant.invitations import InvitationViewSet
    from api.tenant.members import MemberViewSet
    from api.tenant.projects import ProjectViewSet
    from api.tenant.publish_runs import PublishRunViewSet
    from api.tenant.servers import ServerViewSet
    from api.tenant.templates import TemplateViewSet
    from api.tenant.tokens import TokenViewSet
    from api.tenant.variables import VariableViewSet
    from api.tenant.versions import VersionViewSet
    from control_plane.accounts.models import ApiToken, Invitation, Membership
    from tenants.audit.models import AuditEvent
    from tenants.publishing import models as m
    from tests.api.helpers import tenant

    def unused_in_b(model, make):
        obj = make()
        with tenant(org_b):
            while model.objects.filter(pk=obj.pk).exists():
                with tenant(org_a):
                    obj = make()
        return obj

    admin = member_of(org_a, "admin")
    issue_token(org_a, admin, "admin")
    with tenant(org_a):
        server = unused_in_b(
            m.CentralServer,
            lambda: m.CentralServer.objects.create(
                name="A server", base_url=f"https://a{m.CentralServer.objects.count()}.invalid"
            ),
        )
        project = m.Project.objects.create(name="A project", server=server, central_project_id=7)
        app_user = m.AppUser.objects.create(project=project, name="alice")
        variable = m.TemplateVariable.objects.create(name="district")
        template = m.FormTemplate.objects.create(
            project=project, title_base="T", form_id_base="household", source_kind="upload"
        )
        version = m.FormTemplateVersion.objects.create(
            template=template, version="v1", source_file="x.xlsx", source_sha256="0" * 64
        )
        other_version = m.FormTemplateVersion.objects.create(
            template=template, version="v2", source_file="y.xlsx", source_sha256="1" * 64
        )
        variant = m.FormVariant.objects.create(
            version=version,
            app_user=app_user,
            app_user_name="alice",
            form_id="household_alice",
            workbook_file="w.xlsx",
            workbook_sha256="0" * 64,
            xform_file="x.xml",
            xform_sha256="0" * 64,
        )
        run = m.PublishRun.objects.create(template=template, status="failed")
        m.PublishEvent.objects.create(run=run, step="render", state="failed")
        audit = unused_in_b(AuditEvent, lambda: AuditEvent.objects.create(code="test.event"))
    invitation = Invitation.objects.create(
        organization=org_a,
        email="invitee@example.org",
        role="editor",
        token_hash="f" * 64,
        expires_at=timezone.now() + timezone.timedelta(days=1),
    )
    return {
        MemberViewSet: Membership.objects.get(user=admin, organization=org_a).pk,
        InvitationViewSet: invitation.pk,
        TokenViewSet: ApiToken.objects.filter(organization=org_a).first().pk,
        ServerViewSet: server.pk,
        ProjectViewSet: project.pk,
        VariableViewSet: variable.pk,
        AppUserViewSet: app_user.pk,
        TemplateViewSet: template.pk,
        VersionViewSet: version.pk,
        PublishRunViewSet: run.pk,
        AuditEventViewSet: audit.pk,
        "template_pk": template.pk,
        "variant_pk": variant.pk,
        "other_pk": other_version.pk,
    }
