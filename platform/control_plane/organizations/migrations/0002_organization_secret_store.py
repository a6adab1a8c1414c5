from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="secret_backend",
            field=models.CharField(
                choices=[
                    ("local", "Local (encrypted in the organization's schema)"),
                    ("infisical", "Infisical (a project of its own)"),
                ],
                default="local",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="organization",
            name="infisical_project_id",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
