"""Versions: immutable in the database, templates archived instead of deleted, rollbacks.

The trigger refuses UPDATE and DELETE on published versions and their
variants, like the audit trail's. One change is let through: Django's
``SET NULL`` of ``formvariant.app_user_id`` when an app user is deleted (the
variant keeps ``app_user_name``; nothing it published changes). ``DROP
SCHEMA`` (purging an organization) and ``TRUNCATE`` fire no row trigger. A
later data migration that must rewrite these rows disables the trigger
explicitly, in the same transaction, and says why.
"""

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION publishing_version_is_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'publishing_formvariant'
       AND (to_jsonb(OLD) ->> 'app_user_id') IS NOT NULL
       AND (to_jsonb(NEW) ->> 'app_user_id') IS NULL
       AND (to_jsonb(NEW) - 'app_user_id') = (to_jsonb(OLD) - 'app_user_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'published versions are immutable (% on % refused)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER publishing_version_immutable
    BEFORE UPDATE OR DELETE ON publishing_formtemplateversion
    FOR EACH ROW EXECUTE FUNCTION publishing_version_is_immutable();
CREATE TRIGGER publishing_variant_immutable
    BEFORE UPDATE OR DELETE ON publishing_formvariant
    FOR EACH ROW EXECUTE FUNCTION publishing_version_is_immutable();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS publishing_variant_immutable ON publishing_formvariant;
DROP TRIGGER IF EXISTS publishing_version_immutable ON publishing_formtemplateversion;
DROP FUNCTION IF EXISTS publishing_version_is_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("publishing", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="formtemplate",
            options={"default_manager_name": "all_objects", "ordering": ["title_base"]},
        ),
        migrations.AlterModelManagers(
            name="formtemplate",
            managers=[
                ("all_objects", django.db.models.manager.Manager()),
            ],
        ),
        migrations.AddField(
            model_name="formtemplate",
            name="archived_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="formtemplateversion",
            name="rollback_of",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="publishing.formtemplateversion",
            ),
        ),
        migrations.AddField(
            model_name="publishrun",
            name="rollback_of",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="rollback_runs",
                to="publishing.formtemplateversion",
            ),
        ),
        migrations.AlterField(
            model_name="formtemplateversion",
            name="template",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="versions",
                to="publishing.formtemplate",
            ),
        ),
        migrations.AlterField(
            model_name="formvariant",
            name="version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="variants",
                to="publishing.formtemplateversion",
            ),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
