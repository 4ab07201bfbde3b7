"""Hypothesis over the sending forms (free text, Alert, Response, Seizure): whatever a browser
posts, a form either refuses it with field errors or yields arguments that ``message_send``
accepts or refuses with a DomainError; through the pages, never a 500."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aircop.exceptions import DomainError
from messaging.forms import AlertForm, ComposeForm, ResponseForm, SeizureForm
from messaging.services import message_send

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
THROUGH_PAGES = settings(FUZZ, max_examples=15)

FORMS = {
    "compose": (ComposeForm, "messaging:compose", False),
    "alert": (AlertForm, "messaging:alert_new", False),
    "response": (ResponseForm, "messaging:respond", True),
    "seizure": (SeizureForm, "messaging:seizure_new", False),
}

# Values a field may plausibly hold, mixed with arbitrary text: codes, numbers, dates.
PLAUSIBLE = st.sampled_from(
    [
        "",
        "on",
        "DSS",
        "GRU",
        "SN",
        "cocaine",
        "kg",
        "2.5",
        "-1",
        "1e400",
        "NaN",
        "9" * 40,
        "2017-12-10",
        "2017-12-10T10:00",
        "9999-99-99",
        "H2",
        "urgent",
        "positive",
        "officer",
        "contact",
        "\x00",
        "<script>alert(1)</script>",
        "a" * 20_001,
    ]
)
VALUE = st.one_of(st.text(max_size=60), PLAUSIBLE)


def field_names(form) -> list[str]:
    """Every name the rendered form posts, repeated rows included (subjects-0-name ...)."""
    return sorted(set(re.findall(r'name="([^"]+)"', str(form))) - {"csrfmiddlewaretoken"})


def posted(names):
    return st.dictionaries(
        st.one_of(st.sampled_from(names), st.text(min_size=1, max_size=12)),
        st.one_of(VALUE, st.lists(VALUE, max_size=3)),
        max_size=len(names) + 2,
    )


def query_dict(data: dict) -> QueryDict:
    q = QueryDict(mutable=True)
    for key, value in data.items():
        q.setlist(key, value if isinstance(value, list) else [value])
    return q


@pytest.mark.parametrize("kind", FORMS)
def test_a_form_refuses_or_sends_never_raises(kind, world):
    form_class, _url_name, needs_alert = FORMS[kind]
    membership = world.ocu
    alert = world.alert if needs_alert else None
    if needs_alert:
        membership = world.officer
    names = field_names(form_class(membership=membership, alert=alert))

    @FUZZ
    @given(data=posted(names))
    def check(data):
        form = form_class(query_dict(data), {}, membership=membership, alert=alert)
        if not form.is_valid():
            assert form.errors
            return
        try:
            with transaction.atomic():
                message_send(
                    sender=membership.user,
                    operation=membership.operation,
                    alert_id=alert.pk if alert else None,
                    **form.send_arguments(),
                )
                transaction.set_rollback(True)
        except DomainError as error:
            form.add_domain_error(error.field, error.message)
            assert form.errors

    check()


@pytest.mark.parametrize("kind", FORMS)
def test_posting_anything_to_a_sending_page_never_fails(kind, world):
    form_class, url_name, needs_alert = FORMS[kind]
    membership = world.officer if needs_alert else world.ocu
    kwargs = {"slug": world.operation.slug}
    if needs_alert:
        kwargs["message_id"] = world.alert.pk
    url = reverse(url_name, kwargs=kwargs)
    client = Client()
    client.force_login(membership.user)
    names = field_names(
        form_class(membership=membership, alert=world.alert if needs_alert else None)
    )

    @THROUGH_PAGES
    @given(data=posted(names))
    def check(data):
        with transaction.atomic():
            response = client.post(url, data=data)
            transaction.set_rollback(True)
        assert response.status_code in (302, 400), response.status_code

    check()
