import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("seizures", "0009_fill_route_countries_and_month"),
    ]

    operations = [
        migrations.AlterField(
            model_name="seizure",
            name="seized_month",
            field=models.PositiveIntegerField(editable=False),
        ),
        migrations.AlterField(
            model_name="seizure",
            name="route_countries",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="seizures.routecountries",
            ),
        ),
    ]
