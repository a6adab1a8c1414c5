"""Publish runs: start one (202 + Location), follow it, retry it, page through its events.

Starting and retrying honour ``Idempotency-Key``: a script that lost the
answer sends the same request again and gets the first run back, never a
second one. Events are paged with ``?after=<event id>`` (and the usual
cursor), oldest first, so a client polls with the last id it saw.
"""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.concurrency import etag_for
from api.common.idempotency import idempotent
from api.tenant.base import ListMixin, RetrieveMixin, TenantViewSet
from tenants.publishing.models import (
    AppUser,
    FormTemplate,
    PublishEvent,
    PublishRun,
    PublishRunItem,
    RunStatus,
)
from tenants.publishing.selectors import run_item_counts, runs_with_item_counts
from tenants.publishing.services.publish import publish_retry, publish_start


class RunItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = PublishRunItem
        fields = [
            "id",
            "app_user",
            "app_user_name",
            "status",
            "step",
            "error",
            "central_error",
            "attempts",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class RunSummarySerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    running = serializers.IntegerField()
    published = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()


class RunSerializer(serializers.ModelSerializer):
    summary = serializers.SerializerMethodField()

    class Meta:
        model = PublishRun
        fields = [
            "id",
            "template",
            "status",
            "attempt",
            "version",
            "rollback_of",
            "requested_by_label",
            "retried_by_label",
            "error_code",
            "error",
            "issues",
            "summary",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "rollback_of": {"help_text": "The version this run publishes again, or null."}
        }

    @extend_schema_field(RunSummarySerializer)
    def get_summary(self, run: PublishRun) -> dict:
        return run_item_counts(run)


class RunDetailSerializer(RunSerializer):
    items = RunItemSerializer(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "items"]
        read_only_fields = fields


class RunStartSerializer(serializers.Serializer):
    template = serializers.PrimaryKeyRelatedField(queryset=FormTemplate.objects.all())
    app_users = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=AppUser.objects.all(),
        required=False,
        help_text="Publish to these assigned app users only (default: all assigned).",
    )


class RetrySerializer(serializers.Serializer):
    """No body."""


class EventSerializer(serializers.ModelSerializer):
    app_user = serializers.CharField(source="app_user_name", allow_blank=True)

    class Meta:
        model = PublishEvent
        fields = ["id", "app_user", "step", "state", "message", "data", "created_at"]
        read_only_fields = fields


class EventQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, max_value=2**63 - 1, required=False)


class RunFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = PublishRun
        fields = ["template", "status"]


class PublishRunViewSet(RetrieveMixin, ListMixin, TenantViewSet):
    """Publish runs of the organization's templates."""

    basename = "publish-run"
    serializer_class = RunSerializer
    input_serializer_classes = {"create": RunStartSerializer, "retry": RetrySerializer}
    filterset_class = RunFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if self.action == "list":  # the summary of every run in one grouped query
            return runs_with_item_counts(PublishRun.objects.all())
        return PublishRun.objects.all()

    def get_serializer_class(self):
        if self.action in ("retrieve", "create", "retry"):
            return RunDetailSerializer
        if self.action == "events":
            return EventSerializer
        return RunSerializer

    def _accepted(self, run: PublishRun) -> Response:
        run = PublishRun.objects.prefetch_related("items").get(pk=run.pk)
        data = RunDetailSerializer(run, context=self.get_serializer_context()).data
        return Response(
            data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": self.detail_location(run), "ETag": etag_for(data)},
        )

    @extend_schema(
        summary="Start a publish run",
        responses={
            202: OpenApiResponse(
                RunDetailSerializer, description="The run, queued; follow `Location` for its state."
            )
        },
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        app_users = data.get("app_users")
        run = publish_start(
            template=data["template"],
            actor=self.actor,
            app_user_ids=[a.pk for a in app_users] if app_users is not None else None,
        )
        return self._accepted(run)

    @extend_schema(
        summary="Retry what did not succeed",
        request=None,
        responses={202: OpenApiResponse(RunDetailSerializer, description="The run, queued again.")},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def retry(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        run = publish_retry(self.get_object(), actor=self.actor)
        return self._accepted(run)

    @extend_schema(
        summary="Events of the run, oldest first",
        parameters=[
            OpenApiParameter(
                "after",
                OpenApiTypes.INT,
                description="Only events with a greater id (the last id you saw).",
            )
        ],
    )
    @action(detail=True, methods=["get"], filter_backends=[], ordering=["id"])
    def events(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        run = self.get_object()
        events = PublishEvent.objects.filter(run=run)
        query = EventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if query.validated_data.get("after") is not None:
            events = events.filter(pk__gt=query.validated_data["after"])
        page = self.paginate_queryset(events)
        return self.get_paginated_response(EventSerializer(page, many=True).data)
