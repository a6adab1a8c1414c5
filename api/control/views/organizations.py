"""Organizations: create (202, idempotent on slug), read, update, suspend/resume, archive."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.control.authentication import platform_actor
from api.control.serializers import (
    ArchiveSerializer,
    OrganizationCreateSerializer,
    OrganizationSerializer,
    OrganizationUpdateSerializer,
    SuspendSerializer,
)
from api.control.views.base import ControlViewSet
from control_plane.errors import InvalidState
from control_plane.organizations.models import Organization, OrganizationStatus
from control_plane.organizations.services.changes import (
    organization_archive_checked,
    organization_ensure,
    organization_update,
)
from control_plane.organizations.services.lifecycle import (
    organization_resume,
    organization_suspend,
)

SLUG_PATH = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH)
STATUS_FILTER = OpenApiParameter(
    "status",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=OrganizationStatus.values,
    description="Only organizations in this status.",
)


@extend_schema(tags=["organizations"], parameters=[SLUG_PATH])
class OrganizationViewSet(ControlViewSet):
    """Organizations of the platform: their status, provisioning steps, plan and domains."""

    serializer_class = OrganizationSerializer
    lookup_field = "slug"
    lookup_value_regex = "[a-z0-9-]+"
    ordering = ("slug",)
    ordering_fields = ("slug", "created_at")

    def get_queryset(self) -> QuerySet[Organization]:
        queryset = Organization.objects.prefetch_related("domains", "provisioning_steps")
        if getattr(self, "action", None) == "list":
            wanted = self.request.query_params.get("status")
            if wanted:
                queryset = queryset.filter(status=wanted)
        return queryset

    def _respond(self, organization: Organization, code: int = status.HTTP_200_OK) -> Response:
        organization = self.get_queryset().get(pk=organization.pk)
        return Response(self.get_serializer(organization).data, status=code)

    @extend_schema(parameters=[STATUS_FILTER], responses=OrganizationSerializer(many=True))
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses=OrganizationSerializer)
    def retrieve(self, request: Request, slug: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=OrganizationCreateSerializer,
        responses={
            202: OpenApiResponse(OrganizationSerializer, "Created; provisioning has started."),
            200: OpenApiResponse(
                OrganizationSerializer, "It already exists with these settings (idempotent)."
            ),
        },
        description="Create an organization and start provisioning it (poll `status` until "
        "`active`, or `failed` with `failed_step`). Idempotent on the slug: the same settings "
        "again return the existing organization with 200; different settings are a 409.",
    )
    def create(self, request: Request) -> Response:
        incoming = OrganizationCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        ensured = organization_ensure(actor=platform_actor(request), **incoming.validated_data)
        response = self._respond(
            ensured.organization,
            status.HTTP_202_ACCEPTED if ensured.created else status.HTTP_200_OK,
        )
        response["Location"] = f"{request.path}{ensured.organization.slug}/"
        return response

    @extend_schema(
        request=OrganizationUpdateSerializer,
        responses=OrganizationSerializer,
        description="Change the name, plan or custom domains (the complete list); fields left "
        "out are kept.",
    )
    def partial_update(self, request: Request, slug: str) -> Response:
        organization = self.get_object()
        incoming = OrganizationUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        organization = organization_update(
            organization, actor=platform_actor(request), **incoming.validated_data
        )
        return self._respond(organization)

    @extend_schema(request=SuspendSerializer, responses=OrganizationSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, slug: str) -> Response:
        """Suspend an active organization: its hosts answer 403, its data is kept."""
        incoming = SuspendSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        organization = self.get_object()
        if organization.status != OrganizationStatus.SUSPENDED:
            organization = organization_suspend(
                organization,
                actor=platform_actor(request),
                reason=incoming.validated_data.get("reason", ""),
            )
        return self._respond(organization)

    @extend_schema(request=None, responses=OrganizationSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, slug: str) -> Response:
        """Resume a suspended organization (an active one is left as it is)."""
        organization = self.get_object()
        if organization.status != OrganizationStatus.ACTIVE:
            organization = organization_resume(organization, actor=platform_actor(request))
        return self._respond(organization)

    @extend_schema(request=ArchiveSerializer, responses=OrganizationSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, slug: str) -> Response:
        """Archive: the hosts answer 404 and the schema is kept (``org_lifecycle purge`` drops it).

        An organization holding data (members, rows in its schema) needs
        ``confirm: true``; without it the answer is 409 ``confirmation_required``.
        Archiving an archived organization returns it unchanged.
        """
        incoming = ArchiveSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        organization = organization_archive_checked(
            self.get_object(),
            actor=platform_actor(request),
            confirm=incoming.validated_data["confirm"],
        )
        return self._respond(organization)

    @extend_schema(request=None, responses={202: OrganizationSerializer})
    @action(detail=True, methods=["post"])
    def provision(self, request: Request, slug: str) -> Response:
        """Queue provisioning again, to finish a ``failed`` (or stuck) organization."""
        from control_plane.organizations.tasks import provision_organization

        organization = self.get_object()
        if organization.status not in (
            OrganizationStatus.PENDING,
            OrganizationStatus.PROVISIONING,
            OrganizationStatus.FAILED,
        ):
            raise InvalidState(
                f"{organization.slug} is {organization.status}; nothing to provision."
            )
        provision_organization.defer(organization_id=organization.pk)
        return self._respond(organization, status.HTTP_202_ACCEPTED)
