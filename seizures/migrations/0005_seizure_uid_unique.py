# Encryption at rest, step 3 of 3: every seizure has its uid now: unique, and a default for new rows.

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('seizures', '0004_encrypt_existing_notes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='seizure',
            name='uid',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
