"""Published versions of a template: immutable sources and rendered variants, with links.

``/templates/{template}/versions/`` lists them newest first; each version
links its source workbook and, per app user, the rendered workbook and
XForm, all downloadable as stored (with their SHA-256 to verify).
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request

from api.tenant.base import ListMixin, RetrieveMixin, TenantViewSet
from api.tenant.downloads import XLSX, XML, file_response
from tenants.publishing.models import FormTemplate, FormTemplateVersion, FormVariant


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
            "variants",
            "created_at",
        ]
        read_only_fields = fields

    def get_source_url(self, version: FormTemplateVersion) -> str:
        return _link(
            self, "template-version-source", template_pk=version.template_id, pk=version.pk
        )


_VARIANT = OpenApiParameter("variant_pk", OpenApiTypes.INT, OpenApiParameter.PATH)


class VersionViewSet(RetrieveMixin, ListMixin, TenantViewSet):
    """Versions of one template (read-only: versions are immutable)."""

    serializer_class = VersionSerializer
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at"]
    download_actions = frozenset({"source", "variant_workbook", "variant_xform"})

    def get_template(self) -> FormTemplate:
        if not hasattr(self, "_template"):
            self._template = get_object_or_404(
                FormTemplate.objects.all(), pk=self.kwargs["template_pk"]
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
