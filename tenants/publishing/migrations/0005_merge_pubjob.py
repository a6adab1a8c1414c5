from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("publishing", "0002_pubjob_retry_reader_confirmed_files"),
        ("publishing", "0004_merge_polish"),
    ]

    operations = []
