"""Figures of the seizure register: an operation's results and the pivot across operations.

Every figure is computed from ``seizures_visible_to(user=...)`` (and, for an operation's results,
from the operation the user is an active member of), so nobody sees a figure drawn from an
operation they are not in. The database groups; Python only folds the grouped rows (route codes
into countries, one seizure into several transit countries).

Counting rules of the pivot (also shown on the statistics page):

- a departure or transit stop given as an IATA airport counts as the airport's country;
- ``transit_country``: a seizure counts once in each *distinct* country of its transit list;
- ``departure_or_transit_country``: once in each distinct country among its departure and transit
  stops (a seizure leaving Lagos and transiting Accra counts for Nigeria and for Ghana, a seizure
  leaving Lagos via Lagos only for Nigeria);
- the totals count each seizure once: a column total is the number (or quantity) of the seizures
  that appear in at least one row, so the rows of a country dimension can add up to more than it;
- ``quantity`` is summed per unit (kg, g, l, units, pieces), and needs a commodity filter unless
  the rows are the commodities themselves.
"""

from ..routes import country_of
from .pivot import (
    COUNTRY_DIMENSIONS,
    ColumnDimension,
    Measure,
    Pivot,
    PivotQuery,
    RowDimension,
    pivot_as_dict,
    pivot_lines,
    pivot_query_from,
    seizure_pivot,
)
from .results import operation_results, results_access

__all__ = [
    "COUNTRY_DIMENSIONS",
    "ColumnDimension",
    "Measure",
    "Pivot",
    "PivotQuery",
    "RowDimension",
    "country_of",
    "operation_results",
    "pivot_as_dict",
    "pivot_lines",
    "pivot_query_from",
    "results_access",
    "seizure_pivot",
]
