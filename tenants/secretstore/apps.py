from django.apps import AppConfig


class SecretStoreConfig(AppConfig):
    name = "tenants.secretstore"
    label = "secretstore"
    verbose_name = "Secret store"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenants.secretstore import checks  # noqa: F401 - registers the system checks
