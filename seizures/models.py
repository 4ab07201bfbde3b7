"""The seizure register: what the operations exist for."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from accounts.models import Operation

from .codes import Commodity, Concealment, Detection, Unit


class Seizure(models.Model):
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
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

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
        ]

    def __str__(self) -> str:
        return f"{self.get_commodity_display()} {self.quantity} {self.unit} ({self.airport})"
