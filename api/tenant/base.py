"""The base of every tenant API view: pipeline, roles, ETags, create/update glue.

Views stay thin (DESIGN.md §8): an *input* serializer checks the request's
shape, a service does the work with ``actor=``, and the *output* serializer
shows the result. ``TenantViewSet`` provides that glue once:

- ``input_serializer_classes``: action → serializer for the request body
  (the schema shows it as the request); ``serializer_class`` is the output;
- ``perform_create(data)`` / ``perform_update(instance, data)`` call the
  service and return the object to show;
- ``download_actions``: actions answering files; errors stay JSON whatever
  ``Accept`` says.

A viewset has only the routes of the mixins it names:
``class X(CreateMixin, UpdateMixin, DestroyMixin, RetrieveMixin, ListMixin, TenantViewSet)``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from rest_framework import mixins, status, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.concurrency import ETagMixin, ETagRetrieveModelMixin, etag_for
from api.common.views import ApiViewMixin
from control_plane.accounts.roles import Role


class TenantViewSet(ETagMixin, ApiViewMixin, viewsets.GenericViewSet):
    read_role = Role.VIEWER
    write_role = Role.EDITOR
    action_roles: dict[str, str] = {}
    input_serializer_classes: dict[str, type] = {}
    download_actions: frozenset[str] = frozenset()
    central_actions: tuple[str, ...] = ()
    # Name of the detail route, for ``Location`` headers (``<basename>-detail``).
    basename: str | None = None

    @property
    def actor(self) -> Any:
        return self.request.user

    # --- serializers -------------------------------------------------------------

    def get_input_serializer_class(self) -> type:
        return self.input_serializer_classes.get(self.action, self.get_serializer_class())

    def get_input_serializer(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("context", self.get_serializer_context())
        return self.get_input_serializer_class()(*args, **kwargs)

    def output(self, instance: Any) -> dict:
        return self.get_serializer(instance).data

    def detail_location(self, instance: Any) -> str | None:
        name = f"{self.basename}-detail" if self.basename else None
        if not name:
            return None
        try:
            return self.request.build_absolute_uri(reverse(name, kwargs={"pk": instance.pk}))
        except NoReverseMatch:
            return None

    # --- hooks for subclasses ----------------------------------------------------

    def perform_create(self, data: dict) -> Any:  # pragma: no cover - per resource
        raise NotImplementedError

    def perform_update(self, instance: Any, data: dict) -> Any:  # pragma: no cover
        raise NotImplementedError

    def perform_destroy(self, instance: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    # --- files -------------------------------------------------------------------

    def perform_content_negotiation(self, request: Request, force: bool = False):
        if getattr(self, "action", None) in self.download_actions:
            # Files are returned as plain HttpResponses; anything else (errors) is JSON.
            renderer = JSONRenderer()
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)


ListMixin = mixins.ListModelMixin
RetrieveMixin = ETagRetrieveModelMixin


class CreateMixin:
    """``POST`` → input serializer → ``perform_create`` → 201 with ``Location`` and ``ETag``."""

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            instance = self.perform_create(serializer.validated_data)
        data = self.output(instance)
        headers = {"ETag": etag_for(data)}
        location = self.detail_location(instance)
        if location:
            headers["Location"] = location
        return Response(data, status=status.HTTP_201_CREATED, headers=headers)


class UpdateMixin:
    """``PUT``/``PATCH`` with ``If-Match`` → ``perform_update`` → 200 with the new ``ETag``."""

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        with transaction.atomic():
            instance = self.get_object()
            serializer = self.get_input_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            instance = self.perform_update(instance, serializer.validated_data)
            data = self.output(instance)
        return Response(data, headers={"ETag": etag_for(data)})

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


class DestroyMixin:
    """``DELETE`` with ``If-Match`` → ``perform_destroy`` → 204."""

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            self.perform_destroy(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
