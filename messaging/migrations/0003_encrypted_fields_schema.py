# Encryption at rest, step 1 of 3: the uids (nullable until filled) and the columns as text; the body length
# constraint goes (a constraint cannot measure a ciphertext; the service checks it).

import aircop.encrypted_fields
import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0002_alertdetails_alertsubject_responsedetails_and_more'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='message',
            name='message_body_max_length',
        ),
        migrations.AddField(
            model_name='alertdetails',
            name='uid',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='alertsubject',
            name='uid',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='message',
            name='uid',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='responsedetails',
            name='uid',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AlterField(
            model_name='alertdetails',
            name='consignee',
            field=aircop.encrypted_fields.EncryptedTextField(blank=True, max_length=200, verbose_name='consignee'),
        ),
        migrations.AlterField(
            model_name='alertdetails',
            name='consignor',
            field=aircop.encrypted_fields.EncryptedTextField(blank=True, max_length=200, verbose_name='consignor'),
        ),
        migrations.AlterField(
            model_name='alertdetails',
            name='requested_action',
            field=aircop.encrypted_fields.EncryptedTextField(blank=True, max_length=500, verbose_name='requested action'),
        ),
        migrations.AlterField(
            model_name='alertsubject',
            name='date_of_birth',
            field=aircop.encrypted_fields.EncryptedDateField(blank=True, null=True, verbose_name='date of birth'),
        ),
        migrations.AlterField(
            model_name='alertsubject',
            name='document_number',
            field=aircop.encrypted_fields.EncryptedTextField(blank=True, max_length=40, verbose_name='document number'),
        ),
        migrations.AlterField(
            model_name='alertsubject',
            name='name',
            field=aircop.encrypted_fields.EncryptedTextField(max_length=200, verbose_name='name'),
        ),
        migrations.AlterField(
            model_name='alertsubject',
            name='pnr',
            field=aircop.encrypted_fields.EncryptedTextField(blank=True, max_length=40, verbose_name='ticket / PNR reference'),
        ),
        migrations.AlterField(
            model_name='alertsubject',
            name='seat',
            field=aircop.encrypted_fields.EncryptedTextField(blank=True, max_length=5, verbose_name='seat'),
        ),
        migrations.AlterField(
            model_name='message',
            name='body',
            field=aircop.encrypted_fields.EncryptedTextField(blank=True, validators=[django.core.validators.MaxLengthValidator(20000)], verbose_name='body'),
        ),
        migrations.AlterField(
            model_name='message',
            name='subject',
            field=aircop.encrypted_fields.EncryptedTextField(max_length=200, verbose_name='subject'),
        ),
        migrations.AlterField(
            model_name='responsedetails',
            name='action_taken',
            field=aircop.encrypted_fields.EncryptedTextField(blank=True, max_length=500, verbose_name='action taken'),
        ),
        migrations.AlterField(
            model_name='responsedetails',
            name='not_controlled_reason',
            field=aircop.encrypted_fields.EncryptedTextField(blank=True, max_length=300, verbose_name='reason not controlled'),
        ),
    ]
