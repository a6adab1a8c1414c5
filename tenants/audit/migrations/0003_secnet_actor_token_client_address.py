from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="actor_token",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="client_address",
            field=models.GenericIPAddressField(blank=True, null=True),
        ),
    ]
