"""Invitations of an organization, made by the platform (Terraform's ``publishmdm_invitation``)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.control.authentication import platform_actor
from api.control.serializers import InvitationCreateSerializer, InvitationSerializer
from api.control.views.base import ControlViewSet
from control_plane.accounts.models import Invitation
from control_plane.accounts.services.platform_invitations import (
    platform_invitation_ensure,
    platform_invitation_revoke,
)
from control_plane.organizations.models import Organization

ORG_PATH = OpenApiParameter("organization_slug", OpenApiTypes.STR, OpenApiParameter.PATH)
ID_PATH = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema(tags=["invitations"], parameters=[ORG_PATH])
class InvitationViewSet(ControlViewSet):
    """Invitations to join an organization, sent by the platform (e.g. its first owner)."""

    serializer_class = InvitationSerializer
    ordering = ("-created_at",)
    ordering_fields = ("created_at", "email")

    def organization(self) -> Organization:
        if not hasattr(self, "_organization"):
            self._organization = get_object_or_404(
                Organization, slug=self.kwargs["organization_slug"]
            )
        return self._organization

    def get_queryset(self) -> QuerySet[Invitation]:
        return Invitation.objects.filter(organization=self.organization()).select_related(
            "organization"
        )

    @extend_schema(responses=InvitationSerializer(many=True))
    def list(self, request: Request, organization_slug: str) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(parameters=[ID_PATH], responses=InvitationSerializer)
    def retrieve(self, request: Request, organization_slug: str, pk: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=InvitationCreateSerializer,
        responses={
            201: OpenApiResponse(InvitationSerializer, "Invited; the email is on its way."),
            200: OpenApiResponse(
                InvitationSerializer, "The same open invitation already exists (idempotent)."
            ),
        },
        description="Invite someone (role `owner` by default). The organization must be "
        "active. Asking again for an open invitation with the same role returns it.",
    )
    def create(self, request: Request, organization_slug: str) -> Response:
        incoming = InvitationCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        invitation, created = platform_invitation_ensure(
            organization=self.organization(),
            actor=platform_actor(request),
            **incoming.validated_data,
        )
        return Response(
            self.get_serializer(invitation).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        parameters=[ID_PATH],
        responses={204: None},
        description="Revoke an open invitation (a revoked one: nothing to do). An accepted "
        "invitation cannot be revoked: 409 `invitation_accepted`.",
    )
    def destroy(self, request: Request, organization_slug: str, pk: str) -> Response:
        platform_invitation_revoke(self.get_object(), actor=platform_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
