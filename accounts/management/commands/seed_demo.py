"""Demo data: COCAIR VI (9-17 December 2017) and a second operation, with a few messages."""

from datetime import UTC, date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Agency, Membership, Operation, OperationStatus, Role, User
from messaging.codes import DocumentType, HandlingCode, Outcome, Priority, RiskIndicator
from messaging.formatted import AlertInput, ResponseInput, SeizureInput, SubjectInput
from messaging.models import Message, MessageKind
from messaging.routing import Targets
from messaging.services import message_send
from seizures.codes import Commodity, Concealment, Detection, Unit

DEFAULT_PASSWORD = "aircop-demo-2017"  # noqa: S105 (demo only)

# username, full name, country, agency, airport, {operation slug: role}
PEOPLE = [
    ("ocu.brussels", "Anne Dubois", "BE", Agency.CUSTOMS, "BRU", {"cocair": Role.OCU}),
    ("ocu.dakar", "Mamadou Diallo", "SN", Agency.CUSTOMS, "DSS", {"cocair": Role.OCU}),
    ("cns.senegal", "Awa Ndiaye", "SN", Agency.POLICE, "DSS", {"cocair": Role.NATIONAL_CONTACT}),
    ("dakar.customs", "Ibrahima Sow", "SN", Agency.CUSTOMS, "DSS", {"cocair": Role.OFFICER}),
    ("dakar.police", "Fatou Sarr", "SN", Agency.POLICE, "DSS", {"cocair": Role.OFFICER}),
    (
        "cns.nigeria",
        "Chinedu Okafor",
        "NG",
        Agency.POLICE,
        "LOS",
        {"cocair": Role.NATIONAL_CONTACT},
    ),
    ("lagos.customs", "Ngozi Adeyemi", "NG", Agency.CUSTOMS, "LOS", {"cocair": Role.OFFICER}),
    ("cns.brazil", "Rafael Souza", "BR", Agency.POLICE, "GRU", {"cocair": Role.NATIONAL_CONTACT}),
    ("saopaulo.police", "Juliana Pereira", "BR", Agency.POLICE, "GRU", {"cocair": Role.OFFICER}),
    ("lome.customs", "Kossi Agbeko", "TG", Agency.CUSTOMS, "LFW", {"cocair": Role.OFFICER}),
    (
        "bamako.gendarmerie",
        "Oumar Traoré",
        "ML",
        Agency.GENDARMERIE,
        "BKO",
        {"cocair": Role.OFFICER},
    ),
    ("praia.police", "Carla Tavares", "CV", Agency.POLICE, "RAI", {"cocair": Role.OFFICER}),
    ("accra.customs", "Kwame Mensah", "GH", Agency.CUSTOMS, "ACC", {"cocair": Role.OFFICER}),
    ("abidjan.customs", "Yao Kouassi", "CI", Agency.CUSTOMS, "ABJ", {"cocair": Role.OFFICER}),
    # Second operation, other people: shows the closed user groups.
    ("ocu.panama", "Lucía Herrera", "PA", Agency.CUSTOMS, "PTY", {"caribe": Role.OCU}),
    ("kingston.police", "Marcus Campbell", "JM", Agency.POLICE, "KIN", {"caribe": Role.OFFICER}),
    (
        "santodomingo.customs",
        "José Martínez",
        "DO",
        Agency.CUSTOMS,
        "SDQ",
        {"caribe": Role.OFFICER},
    ),
    # Both operations, a different role in each.
    (
        "cns.capeverde",
        "Helena Lopes",
        "CV",
        Agency.POLICE,
        "RAI",
        {"cocair": Role.NATIONAL_CONTACT, "caribe": Role.OFFICER},
    ),
]

OPERATIONS = [
    {
        "slug": "cocair",
        "name": "COCAIR VI",
        "name_fr": "COCAIR VI",
        "description": "Joint customs and police operation against cocaine and cash "
        "smuggling by air between South America, Africa and Europe.",
        "description_fr": "Opération conjointe douane et police contre le trafic de cocaïne "
        "et d'espèces par voie aérienne entre l'Amérique du Sud, l'Afrique et l'Europe.",
        "start_date": date(2017, 12, 9),
        "end_date": date(2017, 12, 17),
    },
    {
        "slug": "caribe",
        "name": "AIRCOP Caribbean pilot",
        "description": "Pilot operation of the Caribbean airport task forces.",
        "start_date": date(2018, 3, 5),
        "end_date": date(2018, 3, 11),
    },
]

MESSAGES = [
    (
        "ocu.brussels",
        "cocair",
        "Operation COCAIR VI has started",
        "The OCU is open around the clock until 17 December. Report every control and "
        "every seizure through this system.",
        Targets(ocus=True, national_contacts=True, officers=True),
    ),
    (
        "saopaulo.police",
        "cocair",
        "Passenger GRU-DSS with cash ticket",
        "Passenger booked last minute, paid cash, one checked bag. Travelling tonight "
        "GRU → DSS. Please control on arrival.",
        Targets(ocus=True, users=("cns.brazil",)),
    ),
    (
        "dakar.customs",
        "cocair",
        "Control result: 2 kg in false bottom",
        "Bag controlled on arrival: about 2 kg of cocaine in a false bottom. Passenger detained.",
        Targets(ocus=True, my_country=True),
    ),
    (
        "ocu.panama",
        "caribe",
        "Caribbean pilot briefing",
        "Briefing notes for the Caribbean task forces.",
        Targets(officers=True),
    ),
]


class Command(BaseCommand):
    help = "Create the demo operations, members and a few messages (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEFAULT_PASSWORD)
        parser.add_argument("--force", action="store_true", help="run even when DEBUG is off")

    def handle(self, *args, password, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: this looks like production. Use --force to seed anyway."
            )
        with transaction.atomic():
            operations = self._operations()
            users = self._people(password, operations)
            self._admin(password)
            self._messages(users, operations)
        self._print_logins(password)

    def _operations(self):
        operations = {}
        for data in OPERATIONS:
            data = dict(data)
            slug = data.pop("slug")
            operation, _created = Operation.objects.update_or_create(
                slug=slug, defaults={**data, "status": OperationStatus.ACTIVE}
            )
            operations[slug] = operation
        return operations

    def _people(self, password, operations):
        users = {}
        for username, full_name, country, agency, airport, roles in PEOPLE:
            user, _created = User.objects.get_or_create(
                username=username,
                defaults={
                    "full_name": full_name,
                    "email": f"{username}@example.org",
                    "country": country,
                    "agency": agency,
                    "airport": airport,
                    "preferred_language": {"BR": "pt", "CV": "pt", "PA": "es", "DO": "es"}.get(
                        country, "fr" if country in {"SN", "TG", "ML", "CI", "BE"} else "en"
                    ),
                },
            )
            user.set_password(password)
            user.save()
            users[username] = user
            for slug, role in roles.items():
                Membership.objects.update_or_create(
                    user=user, operation=operations[slug], defaults={"role": role, "active": True}
                )
        return users

    def _admin(self, password):
        admin, _created = User.objects.get_or_create(
            username="admin",
            defaults={
                "full_name": "Operations administrator",
                "email": "admin@example.org",
                "is_staff": True,
                "is_superuser": True,
            },
        )
        admin.set_password(password)
        admin.save()

    def _messages(self, users, operations):
        for username, slug, subject, body, targets in MESSAGES:
            if Message.objects.filter(operation=operations[slug], subject=subject).exists():
                continue
            message_send(
                sender=users[username],
                operation=operations[slug],
                subject=subject,
                body=body,
                targets=targets,
            )

        self._alert_chain(users, operations["cocair"])

    def _alert_chain(self, users, cocair):
        """An urgent Alert from the OCU to Dakar, a positive Response and the Seizure."""
        subject = "ET908 GRU→DSS 2017-12-10"
        if Message.objects.filter(operation=cocair, subject=subject).exists():
            return
        alert = message_send(
            sender=users["ocu.brussels"],
            operation=cocair,
            kind=MessageKind.ALERT,
            priority=Priority.URGENT,
            handling_code=HandlingCode.H1,
            body="Booked the day before departure, ticket paid in cash in São Paulo.",
            targets=Targets(users=("cns.senegal", "dakar.customs", "dakar.police")),
            details=AlertInput(
                flight_number="ET908",
                airline="Ethiopian Airlines",
                flight_date=date(2017, 12, 10),
                departure_airport="GRU",
                transit_airports=("ADD",),
                destination_airport="DSS",
                subjects=(
                    SubjectInput(
                        name="DOE John",
                        date_of_birth=date(1988, 4, 2),
                        nationality="NG",
                        document_type=DocumentType.PASSPORT,
                        document_number="A07734521",
                        pnr="K7QX2M",
                        seat="23C",
                    ),
                ),
                suspected_commodity=Commodity.COCAINE,
                risk_indicators=(
                    RiskIndicator.CASH_TICKET,
                    RiskIndicator.LAST_MINUTE,
                    RiskIndicator.ROUTE,
                ),
                requested_action="Control the passenger and his checked bag on arrival.",
            ),
        )
        message_send(
            sender=users["dakar.customs"],
            operation=cocair,
            kind=MessageKind.RESPONSE,
            alert_id=alert.pk,
            body="Passenger and bag controlled at arrival.",
            details=ResponseInput(
                outcome=Outcome.POSITIVE, action_taken="Passenger detained, bag seized."
            ),
        )
        message_send(
            sender=users["dakar.customs"],
            operation=cocair,
            kind=MessageKind.SEIZURE,
            alert_id=alert.pk,
            body="White powder in the false bottom of the checked bag; field test positive.",
            details=SeizureInput(
                seized_at=datetime(2017, 12, 10, 6, 40, tzinfo=UTC),
                airport="DSS",
                commodity=Commodity.COCAINE,
                quantity=Decimal("2.150"),
                unit=Unit.KG,
                concealment=Concealment.CHECKED_BAGGAGE,
                detection=Detection.PROFILING,
                flight_number="ET908",
                departure="GRU",
                transit=("ADD",),
                destination="DSS",
                persons_arrested=1,
                arrested_nationalities=("NG",),
            ),
        )

    def _print_logins(self, password):
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Logins (password for all: {password}):")
        )
        self.stdout.write(f"  {'admin':<22} administrator (Django admin at /admin/)")
        for username, full_name, country, _agency, airport, roles in PEOPLE:
            where = ", ".join(f"{slug}: {Role(role).label}" for slug, role in roles.items())
            self.stdout.write(f"  {username:<22} {full_name} ({airport}, {country}) — {where}")
