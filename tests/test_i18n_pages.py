"""Pages in the reader's language: each of the seven, coded fields, translated operation names.

Expected texts come from the committed catalogues, so these tests check that the pages go
through them (and that `make` compiled them), not any particular wording.
"""

from datetime import date
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Role
from messaging.formatted import AlertInput, SubjectInput
from messaging.routing import Targets
from messaging.services import message_send
from tests.factories import OperationFactory, member

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = [code for code, _name in settings.LANGUAGES]


def translation(code: str, msgid: str) -> str:
    if code == "en":
        return msgid
    po = polib.pofile(str(ROOT / "locale" / code / "LC_MESSAGES" / "django.po"))
    entry = po.find(msgid)
    assert entry is not None and entry.msgstr, (code, msgid)
    return entry.msgstr


@pytest.mark.parametrize("code", LANGUAGES)
def test_login_page_speaks_the_browsers_language(client, code):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE=code)
    html = response.content.decode()
    assert response["Content-Language"] == code
    assert f'<html lang="{code}" dir="{"rtl" if code == "ar" else "ltr"}">' in html
    assert (
        translation(code, "Restricted to the members of operations of the airport task forces.")
        in html
    )
    if code != "en":
        assert "Restricted to the members of operations" not in html


@pytest.mark.parametrize("code", LANGUAGES)
def test_inbox_in_the_users_preferred_language(client, code):
    operation = OperationFactory(slug="cocair", name="COCAIR VI")
    officer = member(operation, Role.OFFICER, username="officer", preferred_language=code)
    client.force_login(officer.user)
    html = client.get(reverse("messaging:inbox", args=["cocair"])).content.decode()
    assert translation(code, "Inbox") in html
    assert translation(code, "Log out") in html


@pytest.fixture
def alert_from_a_portuguese_speaker():
    operation = OperationFactory(slug="cocair", name="COCAIR VI")
    sender = member(
        operation, Role.OFFICER, "BR", "GRU", username="saopaulo", preferred_language="pt"
    )
    member(operation, Role.OCU, "FR", "CDG", username="ocu_fr", preferred_language="fr")
    member(operation, Role.OCU, "DE", "FRA", username="ocu_de", preferred_language="de")
    alert = message_send(
        sender=sender.user,
        operation=operation,
        kind="alert",
        body="Passageiro nervoso no check-in.",
        targets=Targets(ocus=True),
        details=AlertInput(
            flight_number="TP76",
            flight_date=date.today(),
            departure_airport="GRU",
            destination_airport="LIS",
            subjects=(SubjectInput(name="Jane Roe"),),
            suspected_commodity="cocaine",
            risk_indicators=("cash_ticket", "last_minute"),
        ),
    )
    return alert


@pytest.mark.parametrize("reader", ["ocu_fr", "ocu_de"])
def test_coded_fields_show_in_the_readers_language_free_text_as_written(
    client, alert_from_a_portuguese_speaker, reader
):
    from accounts.models import User

    user = User.objects.get(username=reader)
    code = user.preferred_language
    client.force_login(user)
    url = reverse("messaging:detail", args=["cocair", alert_from_a_portuguese_speaker.pk])
    html = client.get(url).content.decode()
    for msgid in ("Cocaine", "Ticket paid in cash", "Last-minute booking", "Alert"):
        assert translation(code, msgid) in html, msgid
    assert "Passageiro nervoso no check-in." in html  # free text stays as written
    other = "de" if code == "fr" else "fr"
    assert translation(other, "Ticket paid in cash") not in html


def test_operation_name_and_description_show_in_the_readers_language(client):
    operation = OperationFactory(slug="cocair", name="Joint operation")
    operation.name_fr = "Opération conjointe"
    operation.description_en = "Against cocaine by air."
    operation.description_fr = "Contre la cocaïne par voie aérienne."
    operation.save()
    french = member(operation, Role.OFFICER, username="fr_reader", preferred_language="fr")
    english = member(operation, Role.OFFICER, username="en_reader", preferred_language="en")
    client.force_login(french.user)
    html = client.get(reverse("accounts:operations")).content.decode()
    assert "Opération conjointe" in html and "Contre la cocaïne" in html
    client.force_login(english.user)
    html = client.get(reverse("accounts:operations")).content.decode()
    assert "Joint operation" in html and "Against cocaine by air." in html
    assert "Opération conjointe" not in html


def test_numbers_and_dates_follow_the_locale(client):
    operation = OperationFactory(slug="cocair", name="COCAIR VI")
    german = member(operation, Role.OCU, "DE", "FRA", username="de_reader", preferred_language="de")
    member(operation, Role.OFFICER, username="someone")
    message_send(
        sender=german.user,
        operation=operation,
        subject="s",
        body="b",
        targets=Targets(officers=True),
    )
    client.force_login(german.user)
    html = client.get(reverse("accounts:operations")).content.decode()
    assert "09.12.2017" in html  # German short date of the operation's start
