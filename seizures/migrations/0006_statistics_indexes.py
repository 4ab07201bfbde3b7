# The statistics: an operation's seizures by date, and the seizures outside any operation by
# their reporter (the two branches of seizures_visible_to's scoping predicate).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('seizures', '0005_seizure_uid_unique'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='seizure',
            index=models.Index(fields=['operation', 'seized_at'], name='seizure_operation_seized'),
        ),
        migrations.AddIndex(
            model_name='seizure',
            index=models.Index(
                condition=models.Q(operation__isnull=True),
                fields=['reported_by', 'seized_at'],
                name='seizure_unassigned_reporter',
            ),
        ),
    ]
