"""Pages of the figures: an operation's results, the statistics across operations.
Thin: read the parameters, call a selector, render or export."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.selectors import memberships_of
from aircop.exceptions import DomainError

from . import charts, export_services, exports
from .codes import Commodity
from .statistics import (
    ColumnDimension,
    Measure,
    RowDimension,
    operation_results,
    pivot_lines,
    pivot_query_from,
    results_access,
    seizure_pivot,
)

EXPORTS = {
    "csv": (exports.CSV_CONTENT_TYPE, "csv"),
    "xlsx": (exports.XLSX_CONTENT_TYPE, "xlsx"),
}


def _download(content: bytes, fmt: str, name: str) -> HttpResponse:
    content_type, extension = EXPORTS[fmt]
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response


@login_required
def results(request, slug):
    """The results of one operation, for its members and administrators (404 for anyone else)."""
    operation, membership = results_access(user=request.user, slug=slug)
    figures = operation_results(user=request.user, slug=slug, operation=operation)
    fmt = request.GET.get("format", "")
    if fmt in EXPORTS:
        content = export_services.results_export(
            user=request.user, operation=operation, figures=figures, fmt=fmt
        )
        return _download(content, fmt, f"{slug}-results")
    name = figures["operation"]["name"]
    context = {
        "operation": operation,
        "membership": membership,
        "figures": figures,
        "chart_commodities": charts.bar_chart(
            chart_id="chart-commodities",
            title=_("Seizures per commodity"),
            description=_("Number of seizures of each commodity in %(name)s.") % {"name": name},
            items=[(c["label"], c["count"]) for c in figures["commodities"]],
        ),
        "chart_airports": charts.bar_chart(
            chart_id="chart-airports",
            title=_("Seizures per airport"),
            description=_("Number of seizures at each airport in %(name)s.") % {"name": name},
            items=[(a["label"], a["seizures"]) for a in figures["airports"] if a["seizures"]],
        ),
        "chart_timeline": charts.timeline_chart(
            chart_id="chart-timeline",
            title=_("Seizures per day"),
            description=_("Number of seizures on each day of %(name)s.") % {"name": name},
            days=[(d["date"], d["count"]) for d in figures["timeline"]],
        ),
    }
    return render(request, "seizures/results.html", context)


def _choices(request) -> dict:
    return {
        "row_choices": RowDimension.choices,
        "column_choices": ColumnDimension.choices,
        "measure_choices": Measure.choices,
        "commodity_choices": Commodity.choices,
        "memberships": memberships_of(user=request.user),
    }


@login_required
def statistics(request):
    """A pivot of the seizures visible to the user, exportable."""
    try:
        query = pivot_query_from(request.GET)
    except DomainError as exc:
        context = {"query": request.GET.dict(), "error": exc, **_choices(request)}
        return render(request, "seizures/statistics.html", context, status=400)
    pivot = seizure_pivot(user=request.user, query=query)
    fmt = request.GET.get("format", "")
    if fmt in EXPORTS:
        content = export_services.pivot_export(user=request.user, pivot=pivot, query=query, fmt=fmt)
        return _download(content, fmt, f"seizures-{query.rows}-{query.columns}")
    body, footer = pivot_lines(pivot)
    chart = None
    if not pivot.by_unit and pivot.rows:
        chart = charts.bar_chart(
            chart_id="chart-pivot",
            title=exports.pivot_title(pivot),
            description=_("Total of each row of the table below (the 20 largest)."),
            items=[(pivot.row_labels[k], pivot.row_totals[k]) for k in pivot.rows[:20]],
        )
    context = {
        "query": query.as_params(),
        "pivot": pivot,
        "title": exports.pivot_title(pivot),
        "body": body,
        "footer": footer,
        "rows_label": RowDimension(query.rows).label,
        "column_headers": [pivot.column_labels[c] for c in pivot.columns],
        "chart": chart,
        "export_query": urlencode(query.as_params()),
        **_choices(request),
    }
    return render(request, "seizures/statistics.html", context)
