"""Tombstones for revoking deleted app users in Central; regenerate every stored QR code.

QR codes made before this migration point Collect at ``<base>/key/...``, which a
real Central answers 404: it serves app-user keys only under ``/v1``. The
regeneration itself needs the organization's secret store (the tokens) and its
file storage, which a migration must not call: it runs inside the schema's
migration transaction, on every organization and on spare schemas, possibly
before the services are reachable. So this migration only queues, in the same
transaction, one refresh job per project that has QR codes; the worker then
rewrites every QR code whose settings changed (all of them: the URL is part of
the fingerprint). Spare schemas have no app users and queue nothing; re-running
queues nothing twice (queueing lock).
"""

import django.db.models.deletion
from django.db import migrations, models, transaction

REFRESH_TASK = "publishing.refresh_project_qr_codes"


def queue_qr_refresh(apps, schema_editor):
    connection = schema_editor.connection
    schema = getattr(connection, "schema_name", "public")
    if schema == "public":
        return
    app_user = apps.get_model("publishing", "AppUser")
    project_ids = sorted(
        set(
            app_user.objects.using(connection.alias)
            .exclude(qr_code="")
            .values_list("project_id", flat=True)
        )
    )
    if not project_ids:
        return
    from procrastinate.contrib.django import app
    from procrastinate.exceptions import AlreadyEnqueued

    for project_id in project_ids:
        task = app.configure_task(
            REFRESH_TASK, queue="publishing", queueing_lock=f"qr-v1-key:{schema}:{project_id}"
        )
        try:
            with transaction.atomic(using=connection.alias):  # a refused insert must not abort
                task.defer(schema_name=schema, project_id=project_id)
        except AlreadyEnqueued:
            continue


class Migration(migrations.Migration):
    dependencies = [
        ("publishing", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="AppUserRevocation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("central_project_id", models.PositiveIntegerField()),
                ("central_id", models.PositiveIntegerField()),
                ("app_user_id", models.BigIntegerField()),
                ("app_user_name", models.CharField(max_length=60)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("revoked", "Revoked"),
                            ("already_gone", "Already gone from Central"),
                            ("skipped", "Skipped"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=20,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("error", models.TextField(blank=True)),
                ("requested_by_label", models.CharField(blank=True, max_length=254)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "project",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="publishing.project",
                    ),
                ),
                (
                    "server",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="publishing.centralserver",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.RunPython(queue_qr_refresh, migrations.RunPython.noop, elidable=True),
    ]
