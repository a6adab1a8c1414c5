from django.apps import AppConfig


class PublishingConfig(AppConfig):
    """Central servers, projects, app users, variables, form templates and publish runs."""

    name = "tenants.publishing"
    label = "publishing"
    verbose_name = "Form publishing"
