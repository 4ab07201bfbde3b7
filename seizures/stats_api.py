"""The figures as JSON: an operation's results, and the pivot of the seizures visible to me."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ninja import Query, Router

from aircop.api_auth import UNSCOPED

from .statistics import operation_results, pivot_as_dict, pivot_query_from, seizure_pivot

router = Router(tags=["statistics"])


def _jsonable(value):
    """Decimals as numbers, dates as ISO strings, all the way down."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@router.get(
    "/operations/{slug}/results",
    summary="The results of an operation (members and administrators)",
    auth=UNSCOPED,  # administrators too: results_access decides
    description="Seizures per commodity (count, quantity per unit), currency (count, USD), "
    "persons arrested, companies incriminated, airports and countries, messages per kind, "
    "alerts sent / answered / positive and the seizures they led to, seizures per day.",
)
def results(request, slug: str):
    return _jsonable(operation_results(user=request.auth, slug=slug))


@router.get(
    "/seizures/pivot",
    summary="Pivot of the seizures visible to me",
    description="`rows`: departure_country, transit_country, departure_or_transit_country, "
    "airport, commodity, detection, concealment. `columns`: year, month, operation. "
    "`measure`: count, or quantity (summed per unit: each value is {unit: quantity}; needs "
    "`commodity` unless rows=commodity). Airport codes count as their country; a seizure counts "
    "once in each distinct country of its route for the country rows, once in the totals. "
    "A bad parameter answers 400 naming the field.",
)
def pivot(
    request,
    rows: str = "departure_or_transit_country",
    columns: str = "year",
    measure: str = "count",
    commodity: str = "",
    date_from: str = Query("", alias="from"),
    to: str = "",
):
    query = pivot_query_from(
        {
            "rows": rows,
            "columns": columns,
            "measure": measure,
            "commodity": commodity,
            "from": date_from,
            "to": to,
        }
    )
    return _jsonable(pivot_as_dict(seizure_pivot(user=request.auth, query=query)))
