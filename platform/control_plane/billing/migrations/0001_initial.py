from django.db import migrations, models


def seed(apps, schema_editor):
    from control_plane.billing.defaults import DEFAULT_PLANS

    Plan = apps.get_model("billing", "Plan")
    for row in DEFAULT_PLANS:
        Plan.objects.get_or_create(slug=row["slug"], defaults=row)


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Plan",
            fields=[
                ("slug", models.SlugField(max_length=40, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=100)),
                ("description", models.CharField(blank=True, max_length=300)),
                ("position", models.PositiveSmallIntegerField(default=0)),
                ("max_members", models.PositiveIntegerField(blank=True, null=True)),
                ("max_app_users", models.PositiveIntegerField(blank=True, null=True)),
                ("max_custom_domains", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "is_available",
                    models.BooleanField(
                        default=True,
                        help_text="Offered to new organizations; retired plans keep their members.",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["position", "slug"]},
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
