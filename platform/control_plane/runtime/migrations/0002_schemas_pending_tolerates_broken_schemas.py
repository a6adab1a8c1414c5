"""Count a schema whose ``django_migrations`` cannot be read as pending, instead of failing.

Before, one schema with a damaged or foreign ``django_migrations`` table made
the whole check raise, so ``migrate_tenants`` stopped before migrating any
schema. Now that schema is returned as pending: migrating it fails on its own,
is reported by name, and the others finish.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION public.publishmdm_schemas_pending(schemas text[], wanted text[])
RETURNS SETOF text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    schema_name text;
    applied integer;
BEGIN
    FOR schema_name IN
        SELECT nspname FROM pg_namespace WHERE nspname = ANY(schemas) ORDER BY nspname
    LOOP
        IF to_regclass(format('%I.django_migrations', schema_name)) IS NULL THEN
            RETURN NEXT schema_name;
            CONTINUE;
        END IF;
        BEGIN
            EXECUTE format(
                'SELECT count(DISTINCT app || ''.'' || name) FROM %I.django_migrations '
                'WHERE app || ''.'' || name = ANY($1)', schema_name
            ) INTO applied USING wanted;
        EXCEPTION WHEN OTHERS THEN
            applied := -1;
        END;
        IF applied < cardinality(wanted) THEN
            RETURN NEXT schema_name;
        END IF;
    END LOOP;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("runtime", "0001_schema_migration_state")]

    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
