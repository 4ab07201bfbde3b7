"""Pages of one operation: inbox, sent, message detail, compose. Thin: check, call, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import ngettext

from accounts.selectors import CURRENT_OPERATION_SESSION_KEY, membership_for
from aircop.exceptions import DomainError

from . import selectors, services
from .forms import ComposeForm


def _page(request, queryset):
    return Paginator(queryset, settings.AIRCOP_INBOX_PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
def inbox(request, slug):
    membership = membership_for(user=request.user, slug=slug)
    request.session[CURRENT_OPERATION_SESSION_KEY] = slug
    page = _page(request, selectors.inbox_for(user=request.user, membership=membership))
    services.deliveries_mark_delivered(
        user=request.user, message_ids=[d.message_id for d in page.object_list]
    )
    return render(
        request,
        "messaging/inbox.html",
        {"membership": membership, "operation": membership.operation, "page": page},
    )


@login_required
def sent(request, slug):
    membership = membership_for(user=request.user, slug=slug)
    page = _page(request, selectors.sent_by(user=request.user, membership=membership))
    return render(
        request,
        "messaging/sent.html",
        {"membership": membership, "operation": membership.operation, "page": page},
    )


@login_required
def detail(request, slug, message_id):
    membership = membership_for(user=request.user, slug=slug)
    message = selectors.message_for(user=request.user, message_id=message_id, slug=slug)
    services.delivery_mark_read(user=request.user, message=message)
    recipients = (
        selectors.recipients_of(message=message) if message.sender_id == request.user.pk else None
    )
    return render(
        request,
        "messaging/detail.html",
        {
            "membership": membership,
            "operation": membership.operation,
            "message": message,
            "recipients": recipients,
        },
    )


@login_required
def compose(request, slug):
    membership = membership_for(user=request.user, slug=slug)
    form = ComposeForm(request.POST or None, membership=membership)
    if request.method == "POST" and form.is_valid():
        try:
            message = services.message_send(
                sender=request.user,
                operation=membership.operation,
                kind=form.cleaned_data["kind"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                targets=form.targets(),
            )
        except DomainError as error:
            form.add_domain_error(error.field, error.message)
        else:
            flash.success(
                request,
                ngettext(
                    "Message sent to %(count)d recipient.",
                    "Message sent to %(count)d recipients.",
                    len(message.recipient_memberships),
                )
                % {"count": len(message.recipient_memberships)},
            )
            return redirect("messaging:detail", slug=slug, message_id=message.id)
    return render(
        request,
        "messaging/compose.html",
        {"membership": membership, "operation": membership.operation, "form": form},
        status=400 if request.method == "POST" else 200,
    )
