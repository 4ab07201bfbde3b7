"""The audit page: filter, page, export to CSV. Thin: a form, a selector or the export service."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode

from aircop.exceptions import DomainError

from . import AuditAction
from .export import audit_export_csv
from .forms import AuditFilterForm
from .selectors import AuditFilters, audit_access, audit_events_for

PAGE_SIZE = 50
ACTION_LABELS = dict(AuditAction.choices)


@login_required
def audit_list(request):
    if not audit_access(user=request.user):
        raise Http404
    form = AuditFilterForm(request.GET or None, user=request.user)
    page, status = None, 200
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        filters = form.filters() if form.is_bound else AuditFilters()
        if request.GET.get("format") == "csv":
            try:
                content = audit_export_csv(user=request.user, filters=filters)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
                status = 400
            else:
                response = HttpResponse(content, content_type="text/csv; charset=utf-8")
                name = f"audit-{timezone.now():%Y%m%d-%H%M%S}.csv"
                response["Content-Disposition"] = f'attachment; filename="{name}"'
                return response
        events = audit_events_for(user=request.user, filters=filters)
        page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
        for event in page.object_list:
            event.action_label = ACTION_LABELS.get(event.action, event.action)
            event.details = json.dumps(event.data, ensure_ascii=False, sort_keys=True)
        export_query = urlencode({**filters.as_params(), "format": "csv"})
    context = {"form": form, "page": page}
    if page is not None:
        context["export_query"] = export_query
    return render(request, "accounts/audit.html", context, status=status)
