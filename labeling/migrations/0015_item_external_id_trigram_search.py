"""A trigram index for the data browser's search by external id (a substring match,
Django's ``icontains``: ``UPPER(external_id::text) LIKE UPPER('%…%')``, hence the expression): without it the search read items until a page of matches was
found (0.7 s at 1M items when the matches are at the end).

PostgreSQL only, and only where the pg_trgm extension can be created (it ships with
PostgreSQL's contrib package; creating it needs the right to create extensions): elsewhere the
search works as before, unindexed. Not in the model's Meta on purpose: SQLite has no GIN.
"""

from django.db import DatabaseError, migrations

INDEX = "item_external_id_trgm"


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        cursor.execute("SAVEPOINT concord_trgm")
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError:  # no right to create extensions: leave the search unindexed
            cursor.execute("ROLLBACK TO SAVEPOINT concord_trgm")
            return
        cursor.execute("RELEASE SAVEPOINT concord_trgm")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON labeling_item USING gin ((upper(external_id::text)) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("labeling", "0014_password_change_required")]

    operations = [migrations.RunPython(forwards, backwards)]
