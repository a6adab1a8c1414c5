"""The project a person is working in, remembered per organization in their session."""

from __future__ import annotations

from tenants.publishing.models import Project


def _key(request) -> str:
    return f"project:{request.tenant.schema_name}"


def current_project(request) -> Project | None:
    """The chosen project, else the first one; None when the organization has none."""
    if getattr(request, "tenant", None) is None:
        return None
    cached = getattr(request, "_current_project", False)
    if cached is not False:
        return cached
    projects = Project.objects.select_related("server")
    chosen = request.session.get(_key(request))
    project = projects.filter(pk=chosen).first() if chosen else None
    project = project or projects.order_by("name", "pk").first()
    request._current_project = project
    return project


def set_current_project(request, project: Project) -> None:
    request.session[_key(request)] = project.pk
    request._current_project = project
