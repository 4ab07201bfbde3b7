"""Demo data: COCAIR VI (9-17 December 2017) and a second operation, with a few messages;
the closed COCAIR 2 (14-20 June 2010) with its published results as seizures."""

from base64 import b32encode
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import (
    Agency,
    Authenticator,
    Membership,
    Operation,
    OperationStatus,
    Role,
    User,
)
from accounts.two_factor import TOTP_DEVICE_NAME
from messaging.codes import DocumentType, HandlingCode, Outcome, Priority, RiskIndicator
from messaging.formatted import (
    AlertInput,
    ResponseInput,
    SeizureInput,
    SubjectInput,
    validate_seizure,
)
from messaging.models import Message, MessageKind
from messaging.routing import Targets
from messaging.services import message_send
from seizures.codes import Commodity, Concealment, Detection, Unit
from seizures.models import Seizure
from seizures.services import seizure_record

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

# The demo's live operations run from a few days ago to a few weeks ahead, whenever it is seeded,
# so that the scheduled lifecycle (accounts.operations_advance) keeps them active.
ACTIVE_FROM = date.today() - timedelta(days=3)
ACTIVE_UNTIL = date.today() + timedelta(days=28)

OPERATIONS = [
    {
        "slug": "cocair",
        "name": "COCAIR VI",
        "name_fr": "COCAIR VI",
        "description": "Joint customs and police operation against cocaine and cash "
        "smuggling by air between South America, Africa and Europe.",
        "description_fr": "Opération conjointe douane et police contre le trafic de cocaïne "
        "et d'espèces par voie aérienne entre l'Amérique du Sud, l'Afrique et l'Europe.",
        # Running now (the lifecycle task would close an operation whose end date is past).
        "start_date": ACTIVE_FROM,
        "end_date": ACTIVE_UNTIL,
    },
    {
        "slug": "caribe",
        "name": "AIRCOP Caribbean pilot",
        "description": "Pilot operation of the Caribbean airport task forces.",
        "start_date": ACTIVE_FROM,
        "end_date": ACTIVE_UNTIL,
    },
]

# COCAIR 2, 14-20 June 2010 (seeds/001: "Operation COCAIR2 – Results"): closed, its seizures.
COCAIR2 = {
    "slug": "cocair2",
    "name": "COCAIR 2",
    "description": "Pilot drug enforcement operation in West and Central Africa, Morocco and "
    "Brazil (WCO, European Commission, INTERPOL, UNODC).",
    "description_fr": "Opération pilote de lutte contre la drogue en Afrique de l'Ouest et "
    "centrale, au Maroc et au Brésil (OMD, Commission européenne, INTERPOL, ONUDC).",
    "start_date": date(2010, 6, 14),
    "end_date": date(2010, 6, 20),
}
C, CAN, PRE = Commodity.COCAINE, Commodity.CANNABIS, Commodity.PRECURSORS
BAG, CABIN, BODY = Concealment.CHECKED_BAGGAGE, Concealment.CABIN_BAGGAGE, Concealment.INGESTED
POST, OTHER = Concealment.POSTAL, Concealment.OTHER
PROF, DOG, SCAN = Detection.PROFILING, Detection.DOG, Detection.SCANNER
# reporter, day of June 2010, airport, commodity, quantity, unit, concealment, detection,
# departure, transit, destination, persons arrested, nationalities, extra fields, notes
COCAIR2_SEIZURES = [
    (
        "lagos.customs",
        14,
        "LOS",
        C,
        "2.100",
        Unit.KG,
        BAG,
        PROF,
        "GRU",
        ("ADD",),
        "LOS",
        1,
        ("NG",),
        {},
        "",
    ),
    (
        "cns.nigeria",
        15,
        "LOS",
        C,
        "1.350",
        Unit.KG,
        BODY,
        SCAN,
        "GRU",
        ("JNB",),
        "LOS",
        1,
        ("NG",),
        {},
        "",
    ),
    (
        "lagos.customs",
        18,
        "LOS",
        C,
        "0.850",
        Unit.KG,
        BODY,
        PROF,
        "LOS",
        (),
        "AMS",
        1,
        ("NG",),
        {},
        "",
    ),
    (
        "dakar.customs",
        14,
        "DSS",
        C,
        "1.800",
        Unit.KG,
        BAG,
        PROF,
        "GRU",
        (),
        "DSS",
        1,
        ("BR",),
        {},
        "",
    ),
    (
        "dakar.police",
        17,
        "DSS",
        C,
        "0.900",
        Unit.KG,
        BODY,
        SCAN,
        "DSS",
        ("CMN",),
        "MAD",
        1,
        ("SN",),
        {},
        "",
    ),
    (
        "saopaulo.police",
        15,
        "GRU",
        C,
        "2.400",
        Unit.KG,
        BAG,
        DOG,
        "GRU",
        (),
        "LOS",
        1,
        ("NG",),
        {},
        "",
    ),
    (
        "saopaulo.police",
        19,
        "GRU",
        C,
        "1.600",
        Unit.KG,
        CABIN,
        PROF,
        "GRU",
        ("ADD",),
        "ACC",
        1,
        ("GH",),
        {},
        "",
    ),
    (
        "accra.customs",
        16,
        "ACC",
        C,
        "1.150",
        Unit.KG,
        BODY,
        SCAN,
        "ACC",
        (),
        "LHR",
        1,
        ("GH",),
        {},
        "",
    ),
    (
        "accra.customs",
        19,
        "ACC",
        C,
        "0.750",
        Unit.KG,
        CABIN,
        PROF,
        "GRU",
        ("LOS",),
        "ACC",
        1,
        ("NG",),
        {},
        "",
    ),
    (
        "praia.police",
        16,
        "RAI",
        C,
        "1.250",
        Unit.KG,
        BAG,
        PROF,
        "BR",
        (),
        "LIS",
        1,
        ("CV",),
        {},
        "",
    ),
    (
        "bamako.gendarmerie",
        17,
        "BKO",
        C,
        "0.950",
        Unit.KG,
        BODY,
        PROF,
        "GRU",
        ("DSS",),
        "BKO",
        1,
        ("ML",),
        {},
        "",
    ),
    (
        "ocu.dakar",
        18,
        "LBV",
        C,
        "0.700",
        Unit.KG,
        BAG,
        PROF,
        "GRU",
        ("ACC",),
        "LBV",
        1,
        ("GA",),
        {},
        "",
    ),
    (
        "ocu.dakar",
        15,
        "LBV",
        CAN,
        "1810",
        Unit.KG,
        OTHER,
        Detection.INTELLIGENCE,
        "",
        (),
        "",
        2,
        ("GA",),
        {},
        "In a truck.",
    ),
    (
        "accra.customs",
        17,
        "ACC",
        CAN,
        "10",
        Unit.KG,
        BAG,
        DOG,
        "ACC",
        (),
        "LHR",
        1,
        ("GH",),
        {},
        "In a luggage.",
    ),
    (
        "abidjan.customs",
        16,
        "ABJ",
        PRE,
        "3050",
        Unit.KG,
        Concealment.AIR_CARGO,
        Detection.INTELLIGENCE,
        "",
        (),
        "BJ",
        0,
        (),
        {"companies_incriminated": 1},
        "Chemical precursors, destination Benin and Guinea.",
    ),
    (
        "ocu.dakar",
        14,
        "DLA",
        Commodity.CURRENCY,
        "1",
        Unit.UNITS,
        BAG,
        PROF,
        "DLA",
        (),
        "CDG",
        1,
        ("CM",),
        {"currency": "USD", "amount": "80000", "usd_value": "80000"},
        "",
    ),
    (
        "ocu.dakar",
        19,
        "DLA",
        Commodity.CURRENCY,
        "1",
        Unit.UNITS,
        CABIN,
        PROF,
        "DLA",
        (),
        "BRU",
        1,
        ("CM",),
        {"currency": "USD", "amount": "50000", "usd_value": "50000"},
        "",
    ),
    (
        "ocu.dakar",
        17,
        "LBV",
        Commodity.ARMS,
        "3",
        Unit.UNITS,
        POST,
        SCAN,
        "",
        (),
        "LBV",
        0,
        (),
        {},
        "Hunting weapons with ammunition, in postal freight.",
    ),
    (
        "bamako.gendarmerie",
        18,
        "BKO",
        Commodity.CULTURAL_GOODS,
        "1",
        Unit.PIECES,
        BAG,
        PROF,
        "BKO",
        (),
        "CDG",
        1,
        ("FR",),
        {},
        "A statuette whose export is prohibited.",
    ),
    (
        "dakar.customs",
        20,
        "DSS",
        Commodity.FALSE_DOCUMENTS,
        "1",
        Unit.UNITS,
        POST,
        SCAN,
        "",
        (),
        "DSS",
        0,
        (),
        {},
        "A fake passport, in postal freight.",
    ),
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
            self._cocair2(users)
            keys = self._second_factors()
        self._print_logins(password, keys)

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

    @staticmethod
    def _second_factors() -> dict[str, str]:
        """Every demo login has an authenticator already (the same key on every run), so a
        tester can log in at once: the key goes into any TOTP app, or computes a code (see
        README). A user an administrator creates, or resets, sets one up at the first login."""
        keys = {}
        for user in User.objects.filter(username__in=[p[0] for p in PEOPLE] + ["admin"]):
            device = Authenticator.objects.filter(user=user, confirmed=True).first()
            if device is None:
                device = Authenticator.objects.create(
                    user=user, name=TOTP_DEVICE_NAME, confirmed=True
                )
            keys[user.username] = b32encode(device.bin_key).decode("ascii")
        return keys

    @staticmethod
    def _subjects(operation) -> set[str]:
        """The subjects already sent in an operation, decrypted here: the subject is
        encrypted at rest, so the database cannot compare it."""
        return {
            m.subject
            for m in Message.objects.filter(operation=operation).only(
                "uid", "operation_id", "subject"
            )
        }

    def _messages(self, users, operations):
        sent = {slug: self._subjects(operation) for slug, operation in operations.items()}
        for username, slug, subject, body, targets in MESSAGES:
            if subject in sent[slug]:
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
        if subject in self._subjects(cocair):
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
                seized_at=datetime.combine(ACTIVE_FROM + timedelta(days=1), time(6, 40), UTC),
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

    def _cocair2(self, users):
        """The closed COCAIR 2 with COCAIR VI's people as members and its published results."""
        data = dict(COCAIR2)
        operation, _created = Operation.objects.update_or_create(
            slug=data.pop("slug"), defaults={**data, "status": OperationStatus.CLOSED}
        )
        for username, *_rest, roles in PEOPLE:
            if "cocair" in roles:
                Membership.objects.update_or_create(
                    user=users[username],
                    operation=operation,
                    defaults={"role": roles["cocair"], "active": True},
                )
        if Seizure.objects.filter(operation=operation).exists():
            return
        for (
            reporter,
            day,
            airport,
            commodity,
            quantity,
            unit,
            concealment,
            detection,
            departure,
            transit,
            destination,
            persons,
            nationalities,
            extra,
            notes,
        ) in COCAIR2_SEIZURES:
            money = {k: Decimal(v) for k, v in extra.items() if k in ("amount", "usd_value")}
            seizure = validate_seizure(
                SeizureInput(
                    seized_at=datetime(2010, 6, day, 10, 30, tzinfo=UTC),
                    airport=airport,
                    commodity=commodity,
                    quantity=Decimal(quantity),
                    unit=unit,
                    concealment=concealment,
                    detection=detection,
                    currency=extra.get("currency", ""),
                    departure=departure,
                    transit=transit,
                    destination=destination,
                    persons_arrested=persons,
                    arrested_nationalities=nationalities,
                    companies_incriminated=extra.get("companies_incriminated", 0),
                    **money,
                )
            )
            seizure_record(
                reported_by=users[reporter], operation=operation, data=seizure, notes=notes
            )

    def _print_logins(self, password, keys):
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Logins (password for all: {password}):")
        )
        self.stdout.write(
            "  Second factor: add the user's key to any authenticator app (time-based, 6 digits),\n"
            "  or print the current code: python manage.py demo_totp_code USERNAME"
        )
        self.stdout.write(f"  {'user':<22} {'authenticator key':<33} who")
        self.stdout.write(
            f"  {'admin':<22} {keys['admin']:<33} administrator (Django admin at /admin/)"
        )
        for username, full_name, country, _agency, airport, roles in PEOPLE:
            where = ", ".join(f"{slug}: {Role(role).label}" for slug, role in roles.items())
            who = f"{full_name} ({airport}, {country}) — {where}"
            self.stdout.write(f"  {username:<22} {keys[username]:<33} {who}")
