"""Bulk import (preview, then confirm: all or nothing) and export of app users.

``POST /app-users/import/preview/`` reads the file and reports what each row
would do, or its errors, and changes nothing. ``POST /app-users/import/``
applies the same file (``expected_sha256`` from the preview guards against
a different file) in one transaction: any bad row and nothing is written,
and the answer is a 400 whose ``fields`` name each bad cell
(``rows.<row>.<column>``). ``GET /app-users/export/?project=..&format=csv``
writes the same columns back.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.idempotency import idempotent
from api.common.parsers import LimitedMultiPartParser
from tenants.publishing.models import Project
from tenants.publishing.services.app_user_import import (
    MAX_FILE_BYTES,
    ImportPlan,
    app_users_export,
    app_users_import_apply,
    app_users_import_plan,
)

_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ImportUploadSerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    file = serializers.FileField(
        help_text="CSV (UTF-8) or XLSX: a `name` column and one column per template variable."
    )
    expected_sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        required=False,
        help_text="The `sha256` of the preview: refuses to apply a different file.",
    )

    def validate_file(self, value):
        if value.size > MAX_FILE_BYTES:
            raise serializers.ValidationError(f"Files are limited to {MAX_FILE_BYTES} bytes.")
        return value


class ImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row number in the spreadsheet (header is 1).")
    name = serializers.CharField()
    action = serializers.ChoiceField(choices=["create", "update", "unchanged", "error"])
    values = serializers.DictField(child=serializers.CharField())
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ImportSummarySerializer(serializers.Serializer):
    create = serializers.IntegerField()
    update = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error = serializers.IntegerField()


class ImportPreviewSerializer(serializers.Serializer):
    sha256 = serializers.CharField(help_text="Send back as `expected_sha256` to confirm.")
    valid = serializers.BooleanField(help_text="True when confirming would apply every row.")
    columns = serializers.ListField(child=serializers.CharField())
    summary = ImportSummarySerializer()
    file_errors = serializers.ListField(child=serializers.CharField())
    rows = ImportRowSerializer(many=True)


class ImportResultSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    summary = ImportSummarySerializer()
    created = serializers.ListField(child=serializers.IntegerField(), help_text="New app user ids.")
    updated = serializers.ListField(child=serializers.IntegerField())


class ExportQuerySerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    format = serializers.ChoiceField(choices=["csv", "xlsx"], default="csv")


def _preview_data(plan: ImportPlan) -> dict:
    return {
        "sha256": plan.sha256,
        "valid": plan.valid,
        "columns": plan.columns,
        "summary": plan.summary,
        "file_errors": plan.file_errors,
        "rows": [
            {
                "row": r.row,
                "name": r.name,
                "action": r.action,
                "values": r.values,
                "errors": r.errors,
            }
            for r in plan.rows
        ],
    }


def _read(upload) -> bytes:
    return b"".join(upload.chunks())


class AppUserTransferMixin:
    """Import/export actions of the app-user viewset (kept apart to keep modules small)."""

    transfer_input_serializers = {
        "import_preview": ImportUploadSerializer,
        "import_apply": ImportUploadSerializer,
    }

    @extend_schema(
        summary="Preview a bulk import: what each row would do, or its errors",
        responses={200: ImportPreviewSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import/preview",
        parser_classes=[LimitedMultiPartParser],
    )
    def import_preview(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan = app_users_import_plan(data["project"], _read(data["file"]))
        return Response(_preview_data(plan))

    @extend_schema(
        summary="Apply a bulk import: every row, or nothing if any row is wrong",
        responses={200: ImportResultSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[LimitedMultiPartParser],
    )
    @idempotent
    def import_apply(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = app_users_import_apply(
            data["project"],
            _read(data["file"]),
            actor=self.actor,
            expected_sha256=data.get("expected_sha256"),
        )
        return Response(
            {
                "sha256": result.plan.sha256,
                "summary": result.plan.summary,
                "created": [a.pk for a in result.created],
                "updated": [a.pk for a in result.updated],
            }
        )

    @extend_schema(
        summary="Export a project's app users as CSV or XLSX",
        parameters=[
            OpenApiParameter("project", OpenApiTypes.INT, required=True),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "xlsx"], default="csv"),
        ],
        filters=False,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV file"),
            (200, _CONTENT_TYPES["xlsx"]): OpenApiResponse(
                OpenApiTypes.BINARY, description="XLSX file"
            ),
        },
    )
    @action(detail=False, methods=["get"], url_path="export", pagination_class=None)
    def export(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        project, file_format = query.validated_data["project"], query.validated_data["format"]
        body = app_users_export(project, file_format)
        response = HttpResponse(body, content_type=_CONTENT_TYPES[file_format])
        response["Content-Disposition"] = (
            f'attachment; filename="app-users-project-{project.pk}.{file_format}"'
        )
        return response
