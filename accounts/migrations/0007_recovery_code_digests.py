from django.db import migrations

# accounts.two_factor.recovery_code_digest as of this migration.
DIGEST_LENGTH = 16


def digest_codes(apps, schema_editor):
    """Each recovery code stored in clear (8 characters) is replaced by its keyed digest (16):
    users keep the codes they hold."""
    from aircop.crypto.blind_index import blind_index

    StaticToken = apps.get_model("otp_static", "StaticToken")
    for token in StaticToken.objects.exclude(token__regex=r"^[0-9a-f]{16}$"):
        token.token = blind_index(token.token, purpose="recovery-code")[:DIGEST_LENGTH]
        token.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_authenticator"),
        ("otp_static", "0003_add_timestamps"),
    ]

    # Not reversible into clear: after going back, users generate new recovery codes.
    operations = [migrations.RunPython(digest_codes, migrations.RunPython.noop)]
