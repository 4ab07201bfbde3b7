# PostgreSQL: the number of distinct (route countries, year / month / operation) groups, so
# that the planner sizes the pivot's GROUP BY right (it guessed 20,000 groups for ~3,500 and
# so never ran it in parallel). ANALYZE fills these statistics. Nothing on other databases.

from django.db import migrations

NAME = "seizures_seizure_pivot_groups"
CREATE = (
    f"CREATE STATISTICS IF NOT EXISTS {NAME} (ndistinct) ON route_countries_id, seized_month, "
    "operation_id, (seized_month / 100) FROM seizures_seizure"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {NAME}")


class Migration(migrations.Migration):

    dependencies = [
        ("seizures", "0010_route_countries_and_month_required"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
