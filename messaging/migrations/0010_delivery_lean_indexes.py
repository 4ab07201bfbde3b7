"""Deliveries: two indexes fewer, and room in each page for the delivered and read marks.

A broadcast inserts one delivery per recipient, and each is updated moments later (delivered)
and again when read. Every insert writes every index of the table; so does every update that
cannot stay on its page (PostgreSQL's heap-only tuples, which write no index). The foreign keys'
own indexes duplicated the leading column of the unique constraint (message) and of two
composite indexes (recipient): dropped. On PostgreSQL, the table's pages are filled to 70 %,
leaving the marks room to stay on their page (docs/performance.md, "Fourth round").
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DELIVERY_FILLFACTOR = 70


def leave_room_for_updates(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE messaging_delivery SET (fillfactor = {DELIVERY_FILLFACTOR})"
        )


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE messaging_delivery RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0009_delivery_recipient_order"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="message",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="messaging.message",
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="recipient",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(leave_room_for_updates, fill_pages),
    ]
