"""Form templates: create, change, assign app users, upload a new source .xlsx, archive.

``DELETE`` archives a template: it leaves lists (``?archived=true`` lists the
archived ones), keeps its versions and downloads, and an admin restores it
with ``POST /templates/{id}/restore/``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import transaction
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.concurrency import etag_for
from api.common.parsers import LimitedJSONParser, LimitedMultiPartParser
from api.tenant.base import (
    CreateMixin,
    DestroyMixin,
    ListMixin,
    RetrieveMixin,
    TenantViewSet,
    UpdateMixin,
)
from api.tenant.downloads import XLSX, file_response
from control_plane.accounts.roles import Role
from tenants.publishing.models import AppUser, FormTemplate, Project, SourceKind
from tenants.publishing.services.templates import (
    MAX_SOURCE_BYTES,
    check_active,
    template_archive,
    template_create,
    template_restore,
    template_set_app_users,
    template_update,
    template_upload_source,
)


class TemplateSerializer(serializers.ModelSerializer):
    app_users = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    source_url = serializers.SerializerMethodField(
        help_text="Download link of the current uploaded source, or null."
    )

    class Meta:
        model = FormTemplate
        fields = [
            "id",
            "project",
            "title_base",
            "form_id_base",
            "source_kind",
            "google_sheet_url",
            "source_sha256",
            "source_url",
            "app_users",
            "created_at",
            "updated_at",
            "archived_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "archived_at": {"help_text": "When the template was deleted (archived), or null."}
        }

    def get_source_url(self, template: FormTemplate) -> str | None:
        if not template.source_file:
            return None
        path = reverse("template-source", kwargs={"pk": template.pk})
        return self.context["request"].build_absolute_uri(path)


def _source_file(value):
    if value.size > MAX_SOURCE_BYTES:
        raise serializers.ValidationError("The workbook is larger than 10 MB.")
    return value


class TemplateCreateSerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    title_base = serializers.CharField(max_length=200)
    form_id_base = serializers.CharField(
        max_length=60, help_text="Forms are named `<form_id_base>_<app user>`; fixed once created."
    )
    source_kind = serializers.ChoiceField(choices=SourceKind.choices)
    google_sheet_url = serializers.CharField(max_length=500, required=False, allow_blank=True)
    source = serializers.FileField(
        required=False, help_text="The .xlsx source (multipart requests only)."
    )
    app_users = serializers.PrimaryKeyRelatedField(
        many=True, queryset=AppUser.objects.all(), required=False
    )

    validate_source = staticmethod(_source_file)


class TemplateUpdateSerializer(serializers.Serializer):
    title_base = serializers.CharField(max_length=200)
    source_kind = serializers.ChoiceField(choices=SourceKind.choices)
    google_sheet_url = serializers.CharField(max_length=500, required=False, allow_blank=True)
    app_users = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=AppUser.objects.all(),
        required=False,
        help_text="Exactly these app users; those removed lose access to the form in Central.",
    )


class SourceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The new .xlsx source.")

    validate_file = staticmethod(_source_file)


class RestoreSerializer(serializers.Serializer):
    """No body."""


class TemplateFilter(django_filters.FilterSet):
    title_base = django_filters.CharFilter(lookup_expr="icontains")
    archived = django_filters.BooleanFilter(
        field_name="archived_at",
        lookup_expr="isnull",
        exclude=True,
        help_text="`true` lists archived (deleted) templates instead of those in use "
        "(the default).",
    )

    class Meta:
        model = FormTemplate
        fields = ["project", "source_kind", "title_base", "form_id_base", "archived"]


class TemplateViewSet(
    CreateMixin, UpdateMixin, DestroyMixin, RetrieveMixin, ListMixin, TenantViewSet
):
    """Form templates of the organization's projects."""

    basename = "template"
    action_roles = {"restore": Role.ADMIN}
    serializer_class = TemplateSerializer
    input_serializer_classes = {
        "create": TemplateCreateSerializer,
        "update": TemplateUpdateSerializer,
        "partial_update": TemplateUpdateSerializer,
        "upload_source": SourceUploadSerializer,
        "restore": RestoreSerializer,
    }
    parser_classes = [LimitedJSONParser, LimitedMultiPartParser]
    filterset_class = TemplateFilter
    ordering_fields = ["title_base", "created_at", "id"]
    ordering = ["title_base"]
    download_actions = frozenset({"source"})

    def get_queryset(self):
        # Archived templates are readable by id and listed only with ``?archived=true``.
        queryset = FormTemplate.all_objects.prefetch_related("app_users")
        if self.action == "list" and not self.request.query_params.get("archived"):
            queryset = queryset.filter(archived_at__isnull=True)
        return queryset

    def perform_create(self, data: dict) -> FormTemplate:
        source = data.get("source")
        template = template_create(
            actor=self.actor,
            project=data["project"],
            title_base=data["title_base"],
            form_id_base=data["form_id_base"],
            source_kind=data["source_kind"],
            google_sheet_url=data.get("google_sheet_url", ""),
            source=b"".join(source.chunks()) if source else None,
            app_user_ids=[a.pk for a in data.get("app_users", [])],
        )
        return self.get_queryset().get(pk=template.pk)

    def perform_update(self, instance: FormTemplate, data: dict) -> FormTemplate:
        check_active(instance)
        fields = {"title_base", "source_kind", "google_sheet_url"}
        if fields & data.keys():
            kind = data.get("source_kind", instance.source_kind)
            template_update(
                instance,
                actor=self.actor,
                title_base=data.get("title_base", instance.title_base),
                source_kind=kind,
                google_sheet_url=data.get(
                    "google_sheet_url",
                    instance.google_sheet_url if kind == SourceKind.GOOGLE_SHEET else "",
                ),
            )
        if "app_users" in data:
            template_set_app_users(instance, [a.pk for a in data["app_users"]], actor=self.actor)
        return self.get_queryset().get(pk=instance.pk)

    @extend_schema(
        summary="Delete (archive) a template",
        description="The template leaves lists; its versions, downloads and runs stay, and "
        "an admin can restore it. Forms already in Central stay there. Deleting an archived "
        "template changes nothing.",
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance: FormTemplate) -> None:
        template_archive(instance, actor=self.actor)

    @extend_schema(
        summary="Restore an archived template (admins)",
        request=None,
        responses={200: TemplateSerializer},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            template = template_restore(self.get_object(), actor=self.actor)
            data = self.output(self.get_queryset().get(pk=template.pk))
        return Response(data, headers={"ETag": etag_for(data)})

    @extend_schema(
        summary="Upload a new source .xlsx (the next publish uses it)",
        request={"multipart/form-data": SourceUploadSerializer},
        responses={200: TemplateSerializer},
    )
    @action(
        detail=True,
        methods=["put"],
        url_path="source",
        url_name="source",
        parser_classes=[LimitedMultiPartParser],
    )
    def upload_source(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            template = self.get_object()  # 404 and If-Match before reading the body
            serializer = self.get_input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            template_upload_source(
                template, b"".join(serializer.validated_data["file"].chunks()), actor=self.actor
            )
            data = self.output(self.get_queryset().get(pk=template.pk))
        return Response(data, headers={"ETag": etag_for(data)})

    @extend_schema(
        summary="Download the current uploaded source .xlsx",
        responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description=".xlsx file")},
    )
    @upload_source.mapping.get
    def source(self, request: Request, *args: Any, **kwargs: Any):
        template = self.get_object()
        return file_response(
            template.source_file, content_type=XLSX, filename=f"{template.form_id_base}.xlsx"
        )
