# Encryption at rest, step 2 of 3: give every seizure a uid and encrypt its notes, in batches; the reverse
# decrypts back. The identity formula is frozen here (seizures.models has the live one).

from django.db import migrations

from aircop.encrypted_fields import decrypt_existing_rows, encrypt_existing_rows


def _aad(row):
    return f"seizures.seizure:{row['uid']}:{row['operation_id'] or 'none'}".encode()


def encrypt(apps, schema_editor):
    model = apps.get_model("seizures", "Seizure")
    encrypt_existing_rows(model, fields=["notes"], identity=["operation_id"], row_aad=_aad)


def decrypt(apps, schema_editor):
    model = apps.get_model("seizures", "Seizure")
    decrypt_existing_rows(model, fields=["notes"], identity=["operation_id"], row_aad=_aad)


class Migration(migrations.Migration):

    dependencies = [
        ('seizures', '0003_encrypted_notes_schema'),
    ]

    operations = [
        migrations.RunPython(encrypt, decrypt),
    ]
