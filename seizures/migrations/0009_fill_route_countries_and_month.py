# The month and the route's countries of the seizures recorded before 0008 (what
# Seizure.save derives from now on), in batches. A copy of seizures.routes as it was.

from django.db import migrations
from django.utils import timezone

BATCH = 2000


def _country_of(code, cache):
    if code not in cache:
        from accounts.airports import airport

        found = airport(code) if len(code) == 3 else None
        cache[code] = code if len(code) == 2 else (found.country if found else None)
    return cache[code]


def fill(apps, schema_editor):
    Seizure = apps.get_model("seizures", "Seizure")
    RouteCountries = apps.get_model("seizures", "RouteCountries")
    zone = timezone.get_default_timezone()
    countries, routes = {}, {}

    def route_id(departure, transit):
        first = (_country_of(departure, countries) or "") if departure else ""
        stops = sorted({c for c in (_country_of(t, countries) for t in transit or ()) if c})
        key = (first, " ".join(stops))
        if key not in routes:
            found, _created = RouteCountries.objects.get_or_create(
                departure_country=key[0], transit_countries=key[1]
            )
            routes[key] = found.pk
        return routes[key]

    last = 0
    while True:
        batch = list(
            Seizure.objects.filter(pk__gt=last)
            .order_by("pk")
            .only("pk", "seized_at", "departure", "transit")[:BATCH]
        )
        if not batch:
            return
        for seizure in batch:
            local = timezone.localtime(seizure.seized_at, zone)
            seizure.seized_month = local.year * 100 + local.month
            seizure.route_countries_id = route_id(seizure.departure, seizure.transit)
        Seizure.objects.bulk_update(batch, ["seized_month", "route_countries"])
        last = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ("seizures", "0008_route_countries_and_month"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
