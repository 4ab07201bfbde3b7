# Encryption at rest, step 2 of 3: give every row a uid and encrypt its plaintext, in batches; the reverse
# decrypts back. The identity formulas are frozen here (messaging.models has the live ones).

from django.db import migrations

from aircop.encrypted_fields import decrypt_existing_rows, encrypt_existing_rows

TABLES = {
    "Message": (
        ["subject", "body"],
        ["operation_id"],
        lambda r: f"messaging.message:{r['uid']}:{r['operation_id']}".encode(),
    ),
    "AlertDetails": (
        ["requested_action", "consignor", "consignee"],
        ["message_id"],
        lambda r: f"messaging.alertdetails:{r['uid']}:{r['message_id']}".encode(),
    ),
    "AlertSubject": (
        ["name", "date_of_birth", "document_number", "pnr", "seat"],
        ["message_id"],
        lambda r: f"messaging.alertsubject:{r['uid']}:{r['message_id']}".encode(),
    ),
    "ResponseDetails": (
        ["action_taken", "not_controlled_reason"],
        ["message_id"],
        lambda r: f"messaging.responsedetails:{r['uid']}:{r['message_id']}".encode(),
    ),
}


def encrypt(apps, schema_editor):
    for name, (fields, identity, row_aad) in TABLES.items():
        model = apps.get_model("messaging", name)
        encrypt_existing_rows(model, fields=fields, identity=identity, row_aad=row_aad)


def decrypt(apps, schema_editor):
    for name, (fields, identity, row_aad) in TABLES.items():
        model = apps.get_model("messaging", name)
        decrypt_existing_rows(model, fields=fields, identity=identity, row_aad=row_aad)


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0003_encrypted_fields_schema'),
    ]

    operations = [
        migrations.RunPython(encrypt, decrypt),
    ]
