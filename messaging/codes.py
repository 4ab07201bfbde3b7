"""Coded lists of the formatted messages. Codes are language-neutral; labels go through gettext."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Priority(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class HandlingCode(models.TextChoices):
    """After Europol's handling codes."""

    H0 = "H0", _("H0 – no restriction within the operation")
    H1 = "H1", _("H1 – not for use in court without the sender's consent")
    H2 = "H2", _("H2 – no onward sharing without the sender's consent")
    H3 = "H3", _("H3 – other restriction (see note)")


class RiskIndicator(models.TextChoices):
    CASH_TICKET = "cash_ticket", _("Ticket paid in cash")
    LAST_MINUTE = "last_minute", _("Last-minute booking")
    ROUTE = "route", _("Route of concern")
    BEHAVIOUR = "behaviour", _("Behaviour")
    BAGGAGE = "baggage", _("Baggage")
    DOCUMENT_DOUBT = "document_doubt", _("Doubt about the document")
    INTELLIGENCE = "intelligence", _("Intelligence")


class DocumentType(models.TextChoices):
    PASSPORT = "passport", _("Passport")
    ID_CARD = "id_card", _("Identity card")
    RESIDENCE_PERMIT = "residence_permit", _("Residence permit")
    OTHER = "other", _("Other document")


class Outcome(models.TextChoices):
    POSITIVE = "positive", _("Controlled – positive")
    NEGATIVE = "negative", _("Controlled – negative")
    NO_SHOW = "no_show", _("Not found / no-show")
    NOT_CONTROLLED = "not_controlled", _("Not controlled")
