"""The blind index of messages (``SearchToken``): which keyed digests a message gets.

Keywords of subject and body; of an Alert, its passengers' names (each word and the whole
name), document numbers, PNRs and flight number; of a Seizure, its flight number. Values are
normalised (``aircop.crypto.blind_index.normalise_token``) then HMAC'd with one key per field,
so the table holds no plaintext and equal tokens of different fields do not collide.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from aircop.crypto.blind_index import blind_index, normalise_token, tokens

from .models import AlertDetails, AlertSubject, Message, SearchField, SearchToken


def digest(field: str, value: str) -> str | None:
    """The digest of one search value of ``field``, or None when it normalises to nothing."""
    if field == SearchField.KEYWORD:
        raise ValueError("keywords are several tokens: use keyword_digests()")
    kind = "name" if field == SearchField.NAME else str(field)
    token = normalise_token(value, kind)
    return blind_index(token, purpose=str(field)) if token else None


def keyword_digests(text: str) -> set[str]:
    return {blind_index(t, purpose=SearchField.KEYWORD.value) for t in tokens(text)}


def name_digests(name: str) -> set[str]:
    """Each word of a name and the whole normalised name."""
    whole = normalise_token(name, "name")
    if not whole:
        return set()
    words = set(whole.split()) | {whole}
    return {blind_index(w, purpose=SearchField.NAME.value) for w in words}


def token_rows(
    message: Message,
    *,
    subjects: Iterable = (),  # AlertSubject rows or SubjectInput: name, document_number, pnr
    flights: Iterable[str] = (),
) -> list[SearchToken]:
    pairs: set[tuple[str, str]] = {
        (SearchField.KEYWORD, d) for d in keyword_digests(f"{message.subject}\n{message.body}")
    }
    for subject in subjects:
        pairs |= {(SearchField.NAME, d) for d in name_digests(subject.name)}
        for field, value in (
            (SearchField.DOCUMENT, subject.document_number),
            (SearchField.PNR, subject.pnr),
        ):
            if value and (d := digest(field, value)):
                pairs.add((field, d))
    for flight in flights:
        if flight and (d := digest(SearchField.FLIGHT, flight)):
            pairs.add((SearchField.FLIGHT, d))
    return [
        SearchToken(message_id=message.pk, operation_id=message.operation_id, field=field, digest=d)
        for field, d in sorted(pairs)
    ]


def _rows_from_database(message: Message) -> list[SearchToken]:
    from seizures.models import Seizure

    subjects = list(AlertSubject.objects.filter(message=message))
    flights = list(
        AlertDetails.objects.filter(message=message).values_list("flight_number", flat=True)
    )
    flights += Seizure.objects.filter(message=message).values_list("flight_number", flat=True)
    return token_rows(message, subjects=subjects, flights=flights)


@transaction.atomic
def index_messages(messages: Iterable[Message]) -> int:
    """(Re)write the search tokens of these messages, from what is stored; the number written."""
    messages = list(messages)
    SearchToken.objects.filter(message__in=[m.pk for m in messages]).delete()
    rows = [row for m in messages for row in _rows_from_database(m)]
    SearchToken.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
