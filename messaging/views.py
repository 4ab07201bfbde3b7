"""Pages of one operation: inbox, sent, message detail, the sending forms of every kind,
acknowledge, forward, the OCU's follow-up board. Thin: check, call, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.selectors import CURRENT_OPERATION_SESSION_KEY, membership_for
from aircop.exceptions import DomainError
from aircop.ratelimit import limit_page
from seizures.codes import CURRENCIES

from . import selectors, services
from .attachments import THUMBNAIL_CONTENT_TYPE, download_response
from .display import present, route_places
from .forms import AlertForm, ComposeForm, ForwardForm, ResponseForm, SearchForm, SeizureForm
from .models import Message, MessageKind

# --- pages ----------------------------------------------------------------------------------


def _page(request, queryset):
    return Paginator(queryset, settings.AIRCOP_INBOX_PAGE_SIZE).get_page(request.GET.get("page"))


def _context(membership, **extra) -> dict:
    return {"membership": membership, "operation": membership.operation, **extra}


def _flash_sent(request, message) -> None:
    count = len(message.sent_to)
    flash.success(
        request,
        ngettext(
            "Message sent to %(count)d recipient.", "Message sent to %(count)d recipients.", count
        )
        % {"count": count},
    )


def _alert_for(request, slug, alert_id) -> Message:
    """An Alert the user may read in this operation, or 404."""
    alert = selectors.message_for(user=request.user, message_id=alert_id, slug=slug)
    if alert.kind != MessageKind.ALERT:
        raise Http404
    return alert


@login_required
def inbox(request, slug):
    membership = membership_for(user=request.user, slug=slug)
    request.session[CURRENT_OPERATION_SESSION_KEY] = slug
    page = _page(request, selectors.inbox_for(user=request.user, membership=membership))
    services.deliveries_mark_delivered(
        user=request.user, message_ids=[d.message_id for d in page.object_list]
    )
    return render(request, "messaging/inbox.html", _context(membership, page=page))


@login_required
def sent(request, slug):
    membership = membership_for(user=request.user, slug=slug)
    page = _page(request, selectors.sent_by(user=request.user, membership=membership))
    return render(request, "messaging/sent.html", _context(membership, page=page))


@login_required
@limit_page("search", methods=("GET",))
def search(request, slug):
    """The messages database: the messages of the operation the user may read that match the
    filters (words, identifiers through the blind index, kind, sender, dates ...)."""
    membership = membership_for(user=request.user, slug=slug)
    form = SearchForm(request.GET or None)
    page = None
    if form.is_bound and form.is_valid() and any(form.cleaned_data.values()):
        try:
            results = selectors.search_messages(
                user=request.user, membership=membership, **form.search_arguments()
            )
            page = _page(request, results)
        except DomainError as error:
            form.add_domain_error(error.field, error.message)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "messaging/search.html",
        _context(membership, form=form, page=page, query=query.urlencode()),
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def detail(request, slug, message_id):
    membership = membership_for(user=request.user, slug=slug)
    message = selectors.message_for(user=request.user, message_id=message_id, slug=slug)
    delivery = services.delivery_mark_read(user=request.user, message=message)
    selectors.message_with_details(message)
    shown = message.shown
    thread = summary = alert_link = None
    cross_references = []
    if message.kind == MessageKind.ALERT:  # the alert itself, not a forward of it
        thread = selectors.thread_for(user=request.user, alert=message)
        summary = selectors.thread_summary(thread)
        cross_references = selectors.cross_references(
            user=request.user, membership=membership, alert=message
        )
    elif shown.alert_id is not None:
        try:
            alert_link = selectors.message_for(user=request.user, message_id=shown.alert_id)
        except Http404:
            alert_link = None
    present(shown, thread)
    recipients = (
        selectors.recipients_of(message=message) if message.sender_id == request.user.pk else None
    )
    attachments = selectors.attachments_of(message=message)
    return render(
        request,
        "messaging/detail.html",
        _context(
            membership,
            message=message,
            shown=shown,
            delivery=delivery,
            thread=thread,
            summary=summary,
            alert_link=alert_link,
            cross_references=cross_references,
            recipients=recipients,
            attachments=attachments,
            ack_due_at=selectors.ack_due_at(message) if message.is_alert else None,
        ),
    )


@login_required
@require_POST
def acknowledge(request, slug, message_id):
    message = selectors.message_for(user=request.user, message_id=message_id, slug=slug)
    try:
        services.delivery_acknowledge(user=request.user, message=message)
    except DomainError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, _("Alert acknowledged."))
    return redirect("messaging:detail", slug=slug, message_id=message.id)


def _send_page(request, slug, form_class, template, *, alert=None, **extra):
    """Show a sending form; on a valid POST send through ``message_send`` and go to the
    message. A refused input stays in the form with its error (400)."""
    membership = membership_for(user=request.user, slug=slug)
    data = request.POST if request.method == "POST" else None
    files = request.FILES if data is not None else None
    form = form_class(data, files, membership=membership, alert=alert)
    if data is not None and form.is_valid():
        try:
            message = services.message_send(
                sender=request.user,
                operation=membership.operation,
                alert_id=alert.pk if alert is not None else None,
                **form.send_arguments(),
            )
        except DomainError as error:
            form.add_domain_error(error.field, error.message)
        else:
            _flash_sent(request, message)
            return redirect("messaging:detail", slug=slug, message_id=message.id)
    return render(
        request,
        template,
        _context(membership, form=form, alert=alert, **extra),
        status=400 if data is not None else 200,
    )


@login_required
@limit_page("message_send")
def compose(request, slug):
    return _send_page(request, slug, ComposeForm, "messaging/compose.html")


@login_required
@limit_page("message_send")
def alert_new(request, slug):
    return _send_page(request, slug, AlertForm, "messaging/alert_form.html")


@login_required
@limit_page("message_send")
def respond(request, slug, message_id):
    alert = _alert_for(request, slug, message_id)
    return _send_page(request, slug, ResponseForm, "messaging/response_form.html", alert=alert)


@login_required
@limit_page("message_send")
def seizure_new(request, slug):
    alert = None
    alert_id = request.GET.get("alert")
    if alert_id:
        if not alert_id.isdigit():
            raise Http404
        alert = _alert_for(request, slug, int(alert_id))
    return _send_page(
        request,
        slug,
        SeizureForm,
        "messaging/seizure_form.html",
        alert=alert,
        route_places=route_places(),
        currencies=sorted(CURRENCIES),
    )


@login_required
@limit_page("message_send")
def forward(request, slug, message_id):
    membership = membership_for(user=request.user, slug=slug)
    message = selectors.message_for(user=request.user, message_id=message_id, slug=slug)
    selectors.message_with_details(message)
    present(message.shown)
    form = ForwardForm(request.POST if request.method == "POST" else None, membership=membership)
    if request.method == "POST" and form.is_valid():
        try:
            forwarded = services.message_forward(
                forwarder=request.user, message=message, **form.send_arguments()
            )
        except DomainError as error:
            form.add_domain_error(error.field, error.message)
        else:
            _flash_sent(request, forwarded)
            return redirect("messaging:detail", slug=slug, message_id=forwarded.id)
    return render(
        request,
        "messaging/forward.html",
        _context(membership, form=form, message=message, shown=message.shown),
        status=400 if request.method == "POST" else 200,
    )


@login_required
def followup(request, slug):
    """The OCU's follow-up board: every Alert, each recipient's progress (403 for others)."""
    membership = membership_for(user=request.user, slug=slug)
    board = selectors.followup_board(user=request.user, membership=membership)
    for row in board:
        present(row.alert)
    return render(request, "messaging/followup.html", _context(membership, board=board))


# --- attachments ----------------------------------------------------------------------------


@login_required
def attachment_download(request, slug, message_id, uid):
    """The file, for the message's sender and recipients (active members); 404 for others."""
    attachment = selectors.attachment_for(
        user=request.user, message_id=message_id, uid=uid, slug=slug
    )
    chunks = services.attachment_download(user=request.user, attachment=attachment)
    return download_response(
        chunks, content_type=attachment.content_type, filename=attachment.filename
    )


@login_required
def attachment_thumbnail(request, slug, message_id, uid):
    attachment = selectors.attachment_for(
        user=request.user, message_id=message_id, uid=uid, slug=slug
    )
    if not attachment.has_thumbnail:
        raise Http404
    chunks = services.attachment_download(user=request.user, attachment=attachment, thumbnail=True)
    return download_response(chunks, content_type=THUMBNAIL_CONTENT_TYPE, filename=None)
