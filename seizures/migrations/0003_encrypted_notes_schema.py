# Encryption at rest, step 1 of 3: the uid (nullable until filled), the notes column for ciphertext.

import aircop.encrypted_fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('seizures', '0002_revisions_and_imports'),
    ]

    operations = [
        migrations.AddField(
            model_name='seizure',
            name='uid',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AlterField(
            model_name='seizure',
            name='notes',
            field=aircop.encrypted_fields.EncryptedTextField(blank=True, verbose_name='notes'),
        ),
    ]
