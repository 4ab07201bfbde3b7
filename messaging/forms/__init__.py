"""The sending forms: a plain message, an Alert, a Response, a Seizure, a forward.

They parse what the browser sends (dates, numbers, choices) and build the inputs of
:mod:`messaging.formatted`; the domain rules (airport and country codes, dates, quantities,
currencies, handling codes) are applied once, by ``message_send``, whose ``DomainError`` the
form places on the field it names (:meth:`RecipientsForm.add_domain_error`).
"""

from .base import ComposeForm, ForwardForm, MessageForm, RecipientsForm
from .fields import MessageBodyField
from .formatted import AlertForm, ResponseForm, SeizureForm, SubjectForm
from .search import SearchForm

__all__ = [
    "AlertForm",
    "ComposeForm",
    "ForwardForm",
    "MessageBodyField",
    "MessageForm",
    "RecipientsForm",
    "ResponseForm",
    "SearchForm",
    "SeizureForm",
    "SubjectForm",
]
