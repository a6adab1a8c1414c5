"""Every list endpoint of the tenant API runs a constant number of queries, whatever its rows.

Each list route (discovered, never listed by hand), and the other reads whose
size grows with rows (a run's items, a run's events, the app-user export), is
read at two sizes; the larger may not run more queries than the smaller. A new
list route fails ``test_every_list_route_is_measured`` until it gets a grower.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api.helpers import tenant
from tests.api.routes import api_routes

SMALL, LARGE = 2, 7
_serial = count()


class Workspace:
    """Organization A with one of each parent object; growers add listed rows to it."""

    def __init__(self, org_a, member_of) -> None:
        from tenants.publishing import models as m

        self.org, self.member_of = org_a, member_of
        self.m = m
        self.inviter = member_of(org_a, "admin")
        with tenant(org_a):
            self.server = m.CentralServer.objects.create(
                name="S", base_url="https://counts.example.org"
            )
            self.project = m.Project.objects.create(
                name="P", server=self.server, central_project_id=1
            )
            self.variables = [
                m.TemplateVariable.objects.create(name=name) for name in ("district", "region")
            ]
            self.template = m.FormTemplate.objects.create(
                project=self.project, title_base="T", form_id_base="t", source_kind="upload"
            )
            self.run = m.PublishRun.objects.create(template=self.template, status="succeeded")

    def _n(self) -> int:
        return next(_serial)

    # One grower per list route: add ``n`` rows that carry what the serializer shows.

    def servers(self, n: int) -> str:
        for _ in range(n):
            i = self._n()
            self.m.CentralServer.objects.create(name=f"S{i}", base_url=f"https://s{i}.example.org")
        return "/api/v1/servers/"

    def projects(self, n: int) -> str:
        for _ in range(n):
            project = self.m.Project.objects.create(
                name=f"P{self._n()}", server=self.server, central_project_id=100 + self._n()
            )
            for variable in self.variables:
                self.m.ProjectVariableValue.objects.create(
                    project=project, variable=variable, value="x"
                )
        return "/api/v1/projects/"

    def variables_(self, n: int) -> str:
        for _ in range(n):
            self.m.TemplateVariable.objects.create(name=f"v{self._n()}")
        return "/api/v1/variables/"

    def app_users(self, n: int) -> str:
        for _ in range(n):
            user = self.m.AppUser.objects.create(project=self.project, name=f"u{self._n()}")
            for variable in self.variables:
                self.m.AppUserVariableValue.objects.create(
                    app_user=user, variable=variable, value="x"
                )
            self.m.FormTemplateAppUser.objects.create(template=self.template, app_user=user)
        return "/api/v1/app-users/"

    def templates(self, n: int) -> str:
        users = [
            self.m.AppUser.objects.create(project=self.project, name=f"t{self._n()}")
            for _ in range(2)
        ]
        for _ in range(n):
            template = self.m.FormTemplate.objects.create(
                project=self.project,
                title_base="T",
                form_id_base=f"f{self._n()}",
                source_kind="upload",
            )
            for user in users:
                self.m.FormTemplateAppUser.objects.create(template=template, app_user=user)
            self.m.PublishRun.objects.create(template=template, status="failed")
        return "/api/v1/templates/"

    def versions(self, n: int) -> str:
        for _ in range(n):
            version = self.m.FormTemplateVersion.objects.create(
                template=self.template,
                version=f"v{self._n()}",
                source_file="s.xlsx",
                source_sha256="0" * 64,
            )
            for name in ("a", "b"):
                self.m.FormVariant.objects.create(
                    version=version,
                    app_user_name=name,
                    form_id=f"t_{name}",
                    workbook_file="w.xlsx",
                    workbook_sha256="0" * 64,
                    xform_file="x.xml",
                    xform_sha256="0" * 64,
                )
        return f"/api/v1/templates/{self.template.pk}/versions/"

    def runs(self, n: int) -> str:
        for _ in range(n):
            run = self.m.PublishRun.objects.create(template=self.template, status="failed")
            for status in ("published", "failed", "skipped"):
                self.m.PublishRunItem.objects.create(
                    run=run, app_user_name=f"{status}{self._n()}", status=status
                )
        return "/api/v1/publish-runs/"

    def run_items(self, n: int) -> str:
        for _ in range(n):
            user = self.m.AppUser.objects.create(project=self.project, name=f"r{self._n()}")
            self.m.PublishRunItem.objects.create(
                run=self.run, app_user=user, app_user_name=user.name, status="published"
            )
        return f"/api/v1/publish-runs/{self.run.pk}/"

    def app_user_export(self, n: int) -> str:
        self.app_users(n)
        return f"/api/v1/app-users/export/?project={self.project.pk}&format=csv"

    def events(self, n: int) -> str:
        item = self.m.PublishRunItem.objects.create(run=self.run, app_user_name=f"e{self._n()}")
        for _ in range(n):
            self.m.PublishEvent.objects.create(run=self.run, item=item, step="form", state="ok")
        return f"/api/v1/publish-runs/{self.run.pk}/events/"

    def audit_events(self, n: int) -> str:
        from tenants.audit.models import AuditEvent

        for _ in range(n):
            AuditEvent.objects.create(code="test.event", actor_label="x")
        return "/api/v1/audit-events/"

    def members(self, n: int) -> str:
        for _ in range(n):
            self.member_of(self.org, "viewer")
        return "/api/v1/members/"

    def invitations(self, n: int) -> str:
        from control_plane.accounts.models import Invitation

        for _ in range(n):
            Invitation.objects.create(
                organization=self.org,
                email=f"i{self._n()}@example.org",
                role="viewer",
                token_hash=secrets.token_hex(32),
                invited_by=self.inviter,
                expires_at=timezone.now() + timezone.timedelta(days=1),
            )
        return "/api/v1/invitations/"

    def tokens(self, n: int) -> str:
        from tests.api.helpers import issue_token

        for _ in range(n):
            issue_token(self.org, self.member_of(self.org, "editor"), "editor")
        return "/api/v1/tokens/"


# list route name → grower (method of Workspace)
GROWERS: dict[str, Callable[[Workspace, int], str]] = {
    "server-list": Workspace.servers,
    "project-list": Workspace.projects,
    "variable-list": Workspace.variables_,
    "app-user-list": Workspace.app_users,
    "template-list": Workspace.templates,
    "template-version-list": Workspace.versions,
    "publish-run-list": Workspace.runs,
    "publish-run-events": Workspace.events,
    "publish-run-detail": Workspace.run_items,
    "app-user-export": Workspace.app_user_export,
    "audit-event-list": Workspace.audit_events,
    "member-list": Workspace.members,
    "invitation-list": Workspace.invitations,
    "token-list": Workspace.tokens,
}
PUBLIC_ROWS = {"member-list", "invitation-list", "token-list"}


def test_every_list_route_is_measured():
    lists = {r.name for r in api_routes() if "GET" in r.methods and r.name.endswith("-list")}
    assert lists - set(GROWERS) == set(), "add a grower for each new list route"


def _rows(response) -> int:
    assert response.status_code == 200, response.content
    if response["Content-Type"].startswith("text/csv"):
        content = getattr(response, "content", None) or b"".join(response.streaming_content)
        return len(content.splitlines()) - 1
    body = response.json()
    return len(body["results"] if "results" in body else body["items"])


def _queries(client, url: str, rows_at_least: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url + ("&" if "?" in url else "?") + "page_size=50")
    assert _rows(response) >= rows_at_least
    return len(captured.captured_queries)


@pytest.mark.parametrize("route", sorted(GROWERS))
def test_list_queries_do_not_grow_with_rows(
    route, org_a, member_of, client_for, django_assert_max_num_queries
):
    workspace = Workspace(org_a, member_of)
    client = client_for("owner")
    grow = GROWERS[route]

    def add(n: int) -> str:
        if route in PUBLIC_ROWS:
            return grow(workspace, n)
        with tenant(org_a):
            return grow(workspace, n)

    url = add(SMALL)
    _queries(client, url, SMALL)  # warm-up: caches, content types
    small = _queries(client, url, SMALL)
    add(LARGE - SMALL)
    with django_assert_max_num_queries(small):
        response = client.get(url + ("&" if "?" in url else "?") + "page_size=50")
    assert _rows(response) >= LARGE


def test_run_list_summaries_count_each_runs_items(org_a, member_of, client_for):
    workspace = Workspace(org_a, member_of)
    with tenant(org_a):
        workspace.runs(2)
        last = workspace.m.PublishRun.objects.create(template=workspace.template, status="running")
        for i, status in enumerate(["pending", "pending", "running", "published"]):
            workspace.m.PublishRunItem.objects.create(
                run=last, app_user_name=f"x{i}", status=status
            )

    runs = client_for("viewer").get("/api/v1/publish-runs/").json()["results"]

    summaries = {run["id"]: run["summary"] for run in runs}
    assert summaries[last.pk] == {
        "pending": 2,
        "running": 1,
        "published": 1,
        "failed": 0,
        "skipped": 0,
    }
    assert summaries[workspace.run.pk] == dict.fromkeys(summaries[last.pk], 0)
    others = [s for pk, s in summaries.items() if pk not in (last.pk, workspace.run.pk)]
    assert others == [{"pending": 0, "running": 0, "published": 1, "failed": 1, "skipped": 1}] * 2
