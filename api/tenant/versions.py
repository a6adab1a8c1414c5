"""Published versions of a template: immutable sources and rendered variants, with links.

``/templates/{template}/versions/`` lists them newest first; each version
links its source workbook and, per app user, the rendered workbook and
XForm, all downloadable as stored (with their SHA-256 to verify).
``.../versions/{a}/diff/{b}/`` compares two versions' sources, and
``.../versions/{v}/rollback/`` publishes an old version's source again as a
new version (202 with the run). Versions of archived templates stay readable.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.concurrency import etag_for
from api.common.idempotency import idempotent
from api.common.schema import ErrorSerializer
from api.tenant.base import ListMixin, RetrieveMixin, TenantViewSet
from api.tenant.downloads import XLSX, XML, file_response
from api.tenant.publish_runs import RunDetailSerializer
from tenants.publishing.models import (
    AppUser,
    FormTemplate,
    FormTemplateVersion,
    FormVariant,
    PublishRun,
)
from tenants.publishing.services.versions import version_diff, version_rollback


def _link(serializer: serializers.Serializer, name: str, **kwargs: Any) -> str:
    return serializer.context["request"].build_absolute_uri(reverse(name, kwargs=kwargs))


class VariantSerializer(serializers.ModelSerializer):
    workbook_url = serializers.SerializerMethodField()
    xform_url = serializers.SerializerMethodField()

    class Meta:
        model = FormVariant
        fields = [
            "id",
            "app_user",
            "app_user_name",
            "form_id",
            "workbook_sha256",
            "workbook_url",
            "xform_sha256",
            "xform_url",
            "attachments",
            "warnings",
        ]
        read_only_fields = fields

    def _route_kwargs(self, variant: FormVariant) -> dict:
        return {
            "template_pk": variant.version.template_id,
            "pk": variant.version_id,
            "variant_pk": variant.pk,
        }

    def get_workbook_url(self, variant: FormVariant) -> str:
        return _link(self, "template-version-variant-workbook", **self._route_kwargs(variant))

    def get_xform_url(self, variant: FormVariant) -> str:
        return _link(self, "template-version-variant-xform", **self._route_kwargs(variant))


class VersionSerializer(serializers.ModelSerializer):
    source_url = serializers.SerializerMethodField()
    variants = VariantSerializer(many=True, read_only=True)

    class Meta:
        model = FormTemplateVersion
        fields = [
            "id",
            "template",
            "version",
            "source_sha256",
            "source_url",
            "published_by_label",
            "app_user_names",
            "rollback_of",
            "variants",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "rollback_of": {
                "help_text": "The version whose source this one published again "
                "(a rollback), or null."
            }
        }

    def get_source_url(self, version: FormTemplateVersion) -> str:
        return _link(
            self, "template-version-source", template_pk=version.template_id, pk=version.pk
        )


class VersionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = FormTemplateVersion
        fields = ["id", "version", "source_sha256", "created_at"]
        read_only_fields = fields


class CellChangeSerializer(serializers.Serializer):
    column = serializers.CharField(help_text="The column header, as in the workbook.")
    old = serializers.CharField(allow_null=True, help_text="Null where the cell was empty.")
    new = serializers.CharField(allow_null=True, help_text="Null where the cell is empty.")


class RowChangeSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text="What the row is matched by: the survey row's or choice's `name` "
        "(`end group#2` for the second nameless `end group`, `age#2` for a repeated "
        "name), the setting's column."
    )
    list_name = serializers.CharField(
        allow_null=True, help_text="The choice's list (choices only, else null)."
    )
    old_row = serializers.IntegerField(
        allow_null=True, help_text="Spreadsheet row in the first version (header is row 1)."
    )
    new_row = serializers.IntegerField(
        allow_null=True, help_text="Spreadsheet row in the second version."
    )
    old = serializers.DictField(
        child=serializers.CharField(), allow_null=True, help_text="Filled cells before."
    )
    new = serializers.DictField(
        child=serializers.CharField(), allow_null=True, help_text="Filled cells after."
    )
    cells = CellChangeSerializer(many=True, help_text="The cells that differ.")
    moved = serializers.BooleanField(
        help_text="The row's order relative to the rows both versions share changed."
    )


class SheetDiffSerializer(serializers.Serializer):
    added = RowChangeSerializer(many=True)
    removed = RowChangeSerializer(many=True)
    changed = RowChangeSerializer(many=True)


class VersionDiffSerializer(serializers.Serializer):
    template = serializers.IntegerField()
    from_version = VersionRefSerializer()
    to_version = VersionRefSerializer()
    identical = serializers.BooleanField(
        help_text="No survey row, choice or setting differs (formatting is not compared)."
    )
    survey = SheetDiffSerializer(help_text="Survey rows, matched by name.")
    choices = SheetDiffSerializer(help_text="Choices, matched by list name and name.")
    settings = SheetDiffSerializer(help_text="Settings, matched by column.")


class RollbackSerializer(serializers.Serializer):
    app_users = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=AppUser.objects.all(),
        required=False,
        help_text="Publish to these assigned app users only (default: all assigned today).",
    )


_VARIANT = OpenApiParameter("variant_pk", OpenApiTypes.INT, OpenApiParameter.PATH)
_OTHER = OpenApiParameter(
    "other_pk",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="The version to compare with (same template); `{id}` is the older side.",
)


class VersionViewSet(RetrieveMixin, ListMixin, TenantViewSet):
    """Versions of one template (read-only: versions are immutable)."""

    serializer_class = VersionSerializer
    input_serializer_classes = {"rollback": RollbackSerializer}
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at"]
    download_actions = frozenset({"source", "variant_workbook", "variant_xform"})

    def get_template(self) -> FormTemplate:
        if not hasattr(self, "_template"):
            # Archived templates' versions stay readable (history and downloads).
            self._template = get_object_or_404(
                FormTemplate.all_objects.all(), pk=self.kwargs["template_pk"]
            )
        return self._template

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FormTemplateVersion.objects.none()
        return FormTemplateVersion.objects.filter(template=self.get_template()).prefetch_related(
            "variants__version"
        )

    def _variant(self, version: FormTemplateVersion) -> FormVariant:
        return get_object_or_404(version.variants.all(), pk=self.kwargs["variant_pk"])

    @extend_schema(
        summary="Download the version's source workbook",
        responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description=".xlsx file")},
    )
    @action(detail=True, methods=["get"], url_path="source")
    def source(self, request: Request, *args: Any, **kwargs: Any):
        version = self.get_object()
        return file_response(
            version.source_file,
            content_type=XLSX,
            filename=f"{self.get_template().form_id_base}-{version.version}.xlsx",
        )

    @extend_schema(
        summary="Download one app user's rendered workbook",
        parameters=[_VARIANT],
        responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description=".xlsx file")},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"variants/(?P<variant_pk>[0-9]+)/workbook",
        url_name="variant-workbook",
    )
    def variant_workbook(self, request: Request, *args: Any, **kwargs: Any):
        variant = self._variant(self.get_object())
        return file_response(
            variant.workbook_file, content_type=XLSX, filename=f"{variant.form_id}.xlsx"
        )

    @extend_schema(
        summary="Download one app user's XForm (XML)",
        parameters=[_VARIANT],
        responses={(200, XML): OpenApiResponse(OpenApiTypes.BINARY, description="XForm XML")},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"variants/(?P<variant_pk>[0-9]+)/xform",
        url_name="variant-xform",
    )
    def variant_xform(self, request: Request, *args: Any, **kwargs: Any):
        variant = self._variant(self.get_object())
        return file_response(
            variant.xform_file, content_type=XML, filename=f"{variant.form_id}.xml"
        )

    @extend_schema(
        summary="Compare two versions: survey rows, choices and settings",
        description="Computed from the two stored source workbooks. `{id}` is the first "
        '("from") version and `{other_pk}` the second; any two versions of the template, '
        "in either order. 409 `artifact_unavailable`/`artifact_altered` when a stored source "
        "is missing or no longer matches its SHA-256.",
        parameters=[_OTHER],
        responses={
            200: VersionDiffSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                description="A stored source is missing, altered or unreadable "
                "(`artifact_unavailable`, `artifact_altered`, `artifact_unreadable`).",
            ),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"diff/(?P<other_pk>[0-9]+)",
        url_name="diff",
        filter_backends=[],
    )
    def diff(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        version = self.get_object()
        other = get_object_or_404(self.get_queryset(), pk=self.kwargs["other_pk"])
        result = version_diff(version, other)
        data = {
            "template": version.template_id,
            "from_version": VersionRefSerializer(version).data,
            "to_version": VersionRefSerializer(other).data,
            **result.as_dict(),
        }
        return Response(data, headers={"ETag": etag_for(data)})

    @extend_schema(
        summary="Roll back: publish this version's source again as a new version",
        description="Starts the usual publish run with this version's stored source (never "
        "re-read from Google), for the template's app users (or the chosen ones). The run "
        "stores the next `YYYY-MM-DD-vN` version, whose `rollback_of` names this one.",
        responses={
            202: OpenApiResponse(
                RunDetailSerializer, description="The run, queued; follow `Location` for its state."
            )
        },
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def rollback(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        version = self.get_object()
        serializer = self.get_input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        app_users = serializer.validated_data.get("app_users")
        run = version_rollback(
            version,
            actor=self.actor,
            app_user_ids=[a.pk for a in app_users] if app_users is not None else None,
        )
        run = PublishRun.objects.prefetch_related("items").get(pk=run.pk)
        data = RunDetailSerializer(run, context=self.get_serializer_context()).data
        location = request.build_absolute_uri(reverse("publish-run-detail", kwargs={"pk": run.pk}))
        return Response(
            data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location, "ETag": etag_for(data)},
        )
