"""Only the tenant API's routes, for generating its schema (``schema_views``)."""

from django.urls import include, path

from api.tenant.urls import v1_patterns

urlpatterns = [path("api/v1/", include(v1_patterns))]
