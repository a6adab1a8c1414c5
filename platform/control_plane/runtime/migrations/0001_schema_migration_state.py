"""A database function that finds tenant schemas behind on migrations in one call.

It loops over the schemas server-side (dynamic SQL needs PL/pgSQL), so a
deploy over hundreds of schemas costs one round trip instead of one query
per schema. Kept in ``public``; it reads each schema's ``django_migrations``.
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
        EXECUTE format(
            'SELECT count(DISTINCT app || ''.'' || name) FROM %I.django_migrations '
            'WHERE app || ''.'' || name = ANY($1)', schema_name
        ) INTO applied USING wanted;
        IF applied < cardinality(wanted) THEN
            RETURN NEXT schema_name;
        END IF;
    END LOOP;
END
$$;
"""

BACKWARD = "DROP FUNCTION IF EXISTS public.publishmdm_schemas_pending(text[], text[]);"


class Migration(migrations.Migration):
    dependencies: list = []

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
