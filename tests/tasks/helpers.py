"""Sending messages for the background-work tests."""

from datetime import date

from messaging.formatted import AlertInput, SubjectInput
from messaging.routing import Targets
from messaging.services import message_send

PASSENGER = "Jane Roe"
DOCUMENT = "XK4471923"


def send_alert(sender, operation, priority="urgent", **targets):
    return message_send(
        sender=sender.user,
        operation=operation,
        kind="alert",
        subject="Courier on AT525",
        priority=priority,
        targets=Targets(**(targets or {"officers": True})),
        details=AlertInput(
            flight_number="AT525",
            flight_date=date.today(),
            departure_airport="GRU",
            destination_airport="DSS",
            subjects=(
                SubjectInput(name=PASSENGER, document_type="passport", document_number=DOCUMENT),
            ),
        ),
    )


def send_text(sender, operation, **targets):
    return message_send(
        sender=sender.user,
        operation=operation,
        subject="Briefing",
        body="Day 1 starts now.",
        targets=Targets(**(targets or {"officers": True})),
    )
