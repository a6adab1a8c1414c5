from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("publishing", "0002_polish_value_max_length"),
        ("publishing", "0003_merge_appusers_versions"),
    ]

    operations = []
