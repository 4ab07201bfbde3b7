"""The seizure register: what the operations exist for."""

from __future__ import annotations

from uuid import uuid4

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from accounts.models import Operation
from aircop.encrypted_fields import EncryptedTextField
from messaging.models import StoredFile

from .codes import Commodity, Concealment, Detection, Unit
from .routes import month_key, route_countries


def seizure_aad(seizure: Seizure) -> bytes:
    """The identity bound to the encrypted notes (see aircop.encrypted_fields)."""
    return f"seizures.seizure:{seizure.uid}:{seizure.operation_id or 'none'}".encode()


class RouteCountries(models.Model):
    """The countries a route passes through, once per distinct combination (see
    ``seizures.routes``): what the pivot's country rows are made of."""

    departure_country = models.CharField(max_length=2, blank=True)
    # The distinct transit countries, sorted, separated by spaces: "GH ML".
    transit_countries = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("route countries")
        verbose_name_plural = _("route countries")
        constraints = [
            models.UniqueConstraint(
                fields=["departure_country", "transit_countries"], name="one_route_countries"
            ),
        ]

    def __str__(self) -> str:
        return " > ".join(c for c in (self.departure_country, self.transit_countries) if c)

    @classmethod
    def for_route(cls, departure: str, transit) -> RouteCountries:
        first, stops = route_countries(departure, transit)
        found, _created = cls.objects.get_or_create(
            departure_country=first, transit_countries=" ".join(stops)
        )
        return found

    @property
    def transit_list(self) -> list[str]:
        return self.transit_countries.split()


class Seizure(models.Model):
    uid = models.UUIDField(default=uuid4, unique=True, editable=False)
    operation = models.ForeignKey(
        Operation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="seizures",
        verbose_name=_("operation"),
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reported_seizures",
        verbose_name=_("reported by"),
    )
    # The Seizure message that reported it, and the Alert it came from, if any.
    message = models.OneToOneField(
        "messaging.Message",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="seizure",
    )
    alert = models.ForeignKey(
        "messaging.Message",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alert_seizures",
        verbose_name=_("alert"),
    )
    seized_at = models.DateTimeField(_("date and time of seizure"))
    airport = models.CharField(_("airport of seizure"), max_length=3)
    country = CountryField(_("country of seizure"))
    commodity = models.CharField(_("commodity"), max_length=20, choices=Commodity.choices)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    usd_value = models.DecimalField(
        _("value in USD"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("For currency: the amount in US dollars at the rate of the day."),
    )
    concealment = models.CharField(
        _("concealment method"), max_length=20, choices=Concealment.choices
    )
    detection = models.CharField(_("detection method"), max_length=20, choices=Detection.choices)
    flight_number = models.CharField(_("flight number"), max_length=8, blank=True)
    # Route: each stop an IATA airport code or an ISO 3166 country code.
    departure = models.CharField(_("departure"), max_length=3, blank=True)
    transit = models.JSONField(_("transit"), default=list, blank=True)
    destination = models.CharField(_("destination"), max_length=3, blank=True)
    persons_arrested = models.PositiveIntegerField(_("persons arrested"), default=0)
    arrested_nationalities = models.JSONField(
        _("nationalities of the persons arrested"), default=list, blank=True
    )
    companies_incriminated = models.PositiveIntegerField(_("companies incriminated"), default=0)
    notes = EncryptedTextField(_("notes"), blank=True, aad=seizure_aad)  # encrypted at rest
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    # Derived by save() from seized_at, departure and transit, for the statistics.
    seized_month = models.PositiveIntegerField(editable=False)  # YYYYMM
    route_countries = models.ForeignKey(
        RouteCountries, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("seizure")
        verbose_name_plural = _("seizures")
        ordering = ["-seized_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="seizure_quantity_positive"),
            models.CheckConstraint(
                condition=~Q(commodity="currency") | ~Q(currency=""),
                name="seizure_currency_has_code",
            ),
        ]
        indexes = [
            models.Index(fields=["operation", "commodity"]),
            models.Index(fields=["seized_at"]),
            # The statistics: an operation's seizures by date, and the seizures outside any
            # operation by their reporter (the scoping of seizures_visible_to).
            models.Index(fields=["operation", "seized_at"], name="seizure_operation_seized"),
            models.Index(
                fields=["reported_by", "seized_at"],
                condition=Q(operation__isnull=True),
                name="seizure_unassigned_reporter",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_commodity_display()} {self.quantity} {self.unit} ({self.airport})"

    def save(self, **kwargs) -> None:
        """Derive the month and the route's countries from the fields they come from."""
        self.seized_month = month_key(self.seized_at)
        self.route_countries = RouteCountries.for_route(self.departure, self.transit)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "seized_month", "route_countries"}
        super().save(**kwargs)


class SeizureRevision(models.Model):
    """One correction of a seizure: who, when, the fields before and after."""

    seizure = models.ForeignKey(Seizure, on_delete=models.CASCADE, related_name="revisions")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    before = models.JSONField(_("before"), default=dict)
    after = models.JSONField(_("after"), default=dict)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("seizure correction")
        verbose_name_plural = _("seizure corrections")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.seizure_id} @ {self.changed_at:%Y-%m-%d %H:%M}"


def seizure_photo_aad(photo: SeizurePhoto) -> bytes:
    """The identity of a photo: bound to its file on disk and to its encrypted name."""
    return f"seizures.photo:{photo.uid}:{photo.seizure_id}".encode()


class SeizurePhoto(StoredFile):
    """A photo added to a seizure in the register (at entry or by a correction), stored like a
    message's attachments (``messaging.attachments``). The photos of the Seizure message that
    reported a seizure stay that message's attachments. A removed photo's files are deleted;
    its row stays, so that the history can still name it."""

    seizure = models.ForeignKey(Seizure, on_delete=models.PROTECT, related_name="photos")
    # Personal data (a name can say who or what is in it): encrypted at rest.
    filename = EncryptedTextField(_("file name"), max_length=255, aad=seizure_photo_aad)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("added by"),
    )
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("removed by"),
    )

    class Meta:
        verbose_name = _("seizure photo")
        verbose_name_plural = _("seizure photos")
        ordering = ["seizure", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True, removed_by__isnull=True)
                | Q(removed_at__isnull=False, removed_by__isnull=False),
                name="seizure_photo_removed_by_whom",
            ),
        ]

    def file_aad(self) -> bytes:
        return seizure_photo_aad(self)


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Refused")


def import_content_aad(job: ImportJob) -> bytes:
    """The identity the uploaded file of an import is bound to (its encryption's AAD)."""
    return f"seizures.importjob:{job.pk}:{job.created_by_id}".encode()


class ImportJob(models.Model):
    """A bulk import of seizures from CSV or XLSX: all rows or none, with its progress."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    operation = models.ForeignKey(
        Operation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("operation"),
    )
    filename = models.CharField(_("file"), max_length=200)
    # The uploaded file, encrypted (aircop.crypto, ``import_content_aad``), kept only until it
    # is processed.
    content = models.BinaryField(null=True, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    imported = models.PositiveIntegerField(_("seizures imported"), default=0)
    # [{"line": 7, "field": "quantity", "message": "..."}]
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("seizure import")
        verbose_name_plural = _("seizure imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


class ExportKind(models.TextChoices):
    RESULTS = "results", _("Operation results")
    REGISTER = "register", _("Seizure register")


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class ExportError(models.TextChoices):
    FORBIDDEN = "forbidden", _("You can no longer see what this export contains.")
    FAILED = "failed", _("The export could not be built.")
    INTERRUPTED = "interrupted", _("The export was interrupted.")


class ExportJob(models.Model):
    """An export built in the background: the results of an operation or the register (with its
    filters), for the user who asked, in that user's language. The file is stored encrypted
    outside any public URL and deleted when it expires."""

    uid = models.UUIDField(default=uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("requested by"),
    )
    kind = models.CharField(_("export"), max_length=10, choices=ExportKind.choices)
    format = models.CharField(_("format"), max_length=4, choices=ExportFormat.choices)
    operation = models.ForeignKey(
        Operation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("operation"),
    )
    # The register's filters (seizures.register.RegisterFilters, dates as ISO strings).
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    language = models.CharField(max_length=8, default=settings.LANGUAGE_CODE)
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    rows = models.PositiveIntegerField(_("rows"), default=0)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    storage_name = models.CharField(max_length=64, blank=True, editable=False)
    error = models.CharField(_("error"), max_length=20, choices=ExportError.choices, blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["requested_by", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.format} ({self.get_status_display()})"

    @property
    def filename(self) -> str:
        stamp = (self.finished_at or self.created_at).strftime("%Y%m%d-%H%M")
        name = f"{self.operation.slug}-results" if self.operation_id else "seizure-register"
        return f"{name}-{stamp}.{self.format}"
