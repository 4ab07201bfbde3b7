"""Coded lists of the seizure domain. Codes are language-neutral; labels go through gettext."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Commodity(models.TextChoices):
    COCAINE = "cocaine", _("Cocaine")
    HEROIN = "heroin", _("Heroin")
    CANNABIS = "cannabis", _("Cannabis")
    METHAMPHETAMINE = "methamphetamine", _("Methamphetamine")
    KHAT = "khat", _("Khat")
    TOBACCO = "tobacco", _("Tobacco and cigarettes")
    MEDICINES = "medicines", _("Medicines and falsified medicines")
    LSD = "lsd", _("LSD")
    OTHER_DRUGS = "other_drugs", _("Other drugs")
    PRECURSORS = "precursors", _("Chemical precursors")
    CITES = "cites", _("Protected species (CITES)")
    CURRENCY = "currency", _("Currency")
    ARMS = "arms", _("Arms and ammunition")
    CULTURAL_GOODS = "cultural_goods", _("Cultural goods")
    FALSE_DOCUMENTS = "false_documents", _("False documents")
    OTHER = "other", _("Other")


class Unit(models.TextChoices):
    KG = "kg", _("kilograms")
    G = "g", _("grams")
    L = "l", _("litres")
    UNITS = "units", _("units")
    PIECES = "pieces", _("pieces")


class Concealment(models.TextChoices):
    CHECKED_BAGGAGE = "checked_baggage", _("Checked baggage")
    CABIN_BAGGAGE = "cabin_baggage", _("Cabin baggage")
    ON_BODY = "on_body", _("On the body")
    INGESTED = "ingested", _("Ingested")
    AIR_CARGO = "air_cargo", _("Air cargo")
    POSTAL = "postal", _("Postal / express courier")
    OTHER = "other", _("Other")


class Detection(models.TextChoices):
    PROFILING = "profiling", _("Profiling / targeting")
    PASSENGER_DATA = "passenger_data", _("Risk analysis of passenger data")
    DOG = "dog", _("Detector dog")
    SCANNER = "scanner", _("Scanner / X-ray")
    RANDOM = "random", _("Random control")
    INTELLIGENCE = "intelligence", _("Intelligence")
    OTHER = "other", _("Other")


# ISO 4217 currency codes in circulation (funds and precious metals left out).
CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
    """.split()
)
