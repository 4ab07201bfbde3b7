"""An operation's results and the pivot across operations: figures, exports, scoping, errors."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.http import Http404
from openpyxl import load_workbook

from accounts.models import OperationStatus, Role
from messaging.codes import Outcome
from messaging.models import Message, MessageKind, ResponseDetails
from seizures.charts import bar_chart
from seizures.models import Seizure
from seizures.statistics import (
    PivotQuery,
    operation_results,
    pivot_query_from,
    seizure_pivot,
)
from tests.factories import OperationFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def seizure(operation, reporter, **fields) -> Seizure:
    values = {
        "seized_at": datetime(2017, 12, 10, 8, 0, tzinfo=UTC),
        "airport": "DSS",
        "country": "SN",
        "commodity": "cocaine",
        "quantity": Decimal("1"),
        "unit": "kg",
        "concealment": "checked_baggage",
        "detection": "profiling",
        **fields,
    }
    return Seizure.objects.create(operation=operation, reported_by=reporter, **values)


def message(operation, sender, kind, alert=None, outcome=None) -> Message:
    m = Message.objects.create(
        operation=operation, sender=sender, kind=kind, subject=kind, alert=alert
    )
    if outcome:
        ResponseDetails.objects.create(message=m, outcome=outcome)
    return m


@pytest.fixture
def op():
    return OperationFactory(slug="cocair", name="COCAIR VI")


@pytest.fixture
def ocu(op):
    return member(op, Role.OCU, "BE", "BRU", username="ocu").user


@pytest.fixture
def officer(op):
    return member(op, Role.OFFICER, "SN", "DSS", username="officer").user


@pytest.fixture
def elsewhere():
    return OperationFactory(slug="elsewhere", name="Elsewhere")


@pytest.fixture
def outsider(elsewhere):
    """An active member of another operation only."""
    return member(elsewhere, Role.OCU, "NG", "LOS", username="outsider").user


@pytest.fixture
def known_results(op, ocu, officer, elsewhere, outsider):
    """Given: three alerts (one answered positive, one negative, one not answered), six
    seizures in the operation and one in another operation."""
    a1 = message(op, ocu, MessageKind.ALERT)
    a2 = message(op, ocu, MessageKind.ALERT)
    message(op, ocu, MessageKind.ALERT)
    message(op, officer, MessageKind.RESPONSE, alert=a1, outcome=Outcome.POSITIVE)
    message(op, officer, MessageKind.RESPONSE, alert=a2, outcome=Outcome.NEGATIVE)
    message(op, ocu, MessageKind.FREE_TEXT)
    message(op, officer, MessageKind.FREE_TEXT)
    report = message(op, officer, MessageKind.SEIZURE, alert=a1)
    seizure(op, officer, quantity=Decimal("2.5"), persons_arrested=1, alert=a1, message=report)
    seizure(op, officer, quantity=Decimal("1.25"), persons_arrested=2)
    seizure(
        op,
        officer,
        airport="LOS",
        country="NG",
        quantity=Decimal("500"),
        unit="g",
        seized_at=datetime(2017, 12, 12, 9, 0, tzinfo=UTC),
    )
    seizure(
        op,
        officer,
        airport="ACC",
        country="GH",
        commodity="cannabis",
        quantity=Decimal("10"),
        companies_incriminated=1,
    )
    for currency, amount, usd in (("USD", "50000", "50000"), ("EUR", "40000", "44000.50")):
        seizure(
            op,
            officer,
            airport="DLA",
            country="CM",
            commodity="currency",
            quantity=Decimal("1"),
            unit="units",
            currency=currency,
            amount=Decimal(amount),
            usd_value=Decimal(usd),
            seized_at=datetime(2017, 12, 16, 9, 0, tzinfo=UTC),
        )
    seizure(elsewhere, outsider, airport="LOS", country="NG", quantity=Decimal("99"))
    return op


# --- the results of an operation -------------------------------------------------------------


def test_results_figures_match_hand_computed_totals(known_results, officer):
    r = operation_results(user=officer, slug="cocair")

    assert r["seizures"] == {"total": 6, "with_alert": 1}
    by_commodity = {c["commodity"]: c for c in r["commodities"]}
    assert by_commodity["cocaine"]["count"] == 3
    assert {q["unit"]: q["quantity"] for q in by_commodity["cocaine"]["quantities"]} == {
        "kg": Decimal("3.75"),
        "g": Decimal("500"),
    }
    assert by_commodity["cannabis"]["count"] == 1
    assert r["currency"]["count"] == 2
    assert r["currency"]["usd_total"] == Decimal("94000.5")
    assert {c["currency"]: c["amount"] for c in r["currency"]["by_currency"]} == {
        "EUR": Decimal("40000"),
        "USD": Decimal("50000"),
    }
    assert r["persons_arrested"] == 3
    assert r["companies_incriminated"] == 1
    assert r["alerts"] == {"sent": 3, "answered": 2, "positive": 1, "seizures": 1}
    assert {k["kind"]: k["count"] for k in r["messages"]["by_kind"]} == {
        "free_text": 2,
        "alert": 3,
        "response": 2,
        "seizure": 1,
    }
    assert r["messages"]["total"] == 8
    airports = {a["code"]: (a["seizures"], a["members"]) for a in r["airports"]}
    assert airports == {"DSS": (2, 1), "LOS": (1, 0), "ACC": (1, 0), "DLA": (2, 0), "BRU": (0, 1)}
    countries = {c["code"]: (c["seizures"], c["members"]) for c in r["countries"]}
    assert countries == {"SN": (2, 1), "NG": (1, 0), "GH": (1, 0), "CM": (2, 0), "BE": (0, 1)}
    timeline = {d["date"]: d["count"] for d in r["timeline"]}
    assert len(timeline) == 9  # 9 to 17 December, every day even without a seizure
    assert timeline[date(2017, 12, 10)] == 3
    assert timeline[date(2017, 12, 12)] == 1
    assert timeline[date(2017, 12, 16)] == 2
    assert timeline[date(2017, 12, 9)] == 0


def test_results_page_shows_figures_and_accessible_charts(client, known_results, officer):
    client.force_login(officer)
    response = client.get("/o/cocair/results/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="total-seizures">6<' in html
    assert html.count('role="img"') == 3
    assert '<title id="chart-commodities-title">Seizures per commodity</title>' in html
    assert "css/print.css" in html and 'media="print"' in html
    assert "94,000.5" in html  # grouped in the reader's locale


def test_results_export_csv_parses_back(client, known_results, officer):
    client.force_login(officer)
    response = client.get("/o/cocair/results/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Section", "Item", "Measure", "Unit", "Value"]
    values = {(r[0], r[1], r[2], r[3]): r[4] for r in rows[1:]}
    assert values[("Seizures", "Cocaine", "Number of seizures", "")] == "3"
    assert values[("Seizures", "Cocaine", "Quantity", "kilograms")] == "3.75"
    assert values[("Currency", "All currencies", "Value in USD", "USD")] == "94000.5"
    assert values[("Alerts", "Alerts with a positive response", "Number", "")] == "1"


def test_results_export_xlsx_parses_back(client, known_results, officer):
    client.force_login(officer)
    response = client.get("/o/cocair/results/?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Section", "Item", "Measure", "Unit", "Value")
    values = {r[:4]: r[4] for r in rows[1:]}
    assert values[("Seizures", "Cocaine", "Number of seizures", None)] == 3
    assert values[("Seizures", "Cocaine", "Quantity", "kilograms")] == 3.75
    assert values[("People and companies", "Persons arrested", "Number", None)] == 3


def test_results_api_gives_the_same_figures(client, known_results, officer):
    client.force_login(officer)
    body = client.get("/api/v1/operations/cocair/results").json()
    assert body["seizures"]["total"] == 6
    assert body["currency"]["usd_total"] == 94000.5
    assert body["alerts"] == {"sent": 3, "answered": 2, "positive": 1, "seizures": 1}
    assert body["timeline"][0] == {"date": "2017-12-09", "count": 0}


@pytest.mark.parametrize(
    "url",
    [
        "/o/cocair/results/",
        "/o/cocair/results/?format=csv",
        "/o/cocair/results/?format=xlsx",
        "/api/v1/operations/cocair/results",
    ],
)
def test_non_member_gets_404_on_the_results(client, known_results, outsider, url):
    client.force_login(outsider)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/o/cocair/results/",
        "/o/cocair/results/?format=csv",
        "/o/cocair/results/?format=xlsx",
        "/api/v1/operations/cocair/results",
    ],
)
def test_staff_non_member_sees_any_operations_results(client, known_results, url):
    admin = UserFactory(username="admin", is_staff=True, country="FR", airport="CDG")
    client.force_login(admin)
    assert client.get(url).status_code == 200
    figures = operation_results(user=admin, slug="cocair")
    assert figures["seizures"]["total"] == 6  # the operation's seizures, not the other one's
    assert client.get(url.replace("cocair", "nosuchoperation")).status_code == 404


def test_non_staff_non_member_still_gets_404_on_the_results(client, known_results, outsider):
    client.force_login(outsider)
    assert client.get("/o/cocair/results/").status_code == 404
    assert client.get("/api/v1/operations/cocair/results").status_code == 404
    with pytest.raises(Http404):
        operation_results(user=outsider, slug="cocair")


def test_inactive_member_gets_404_on_the_results(client, op):
    membership = member(op, Role.OFFICER, username="gone")
    membership.active = False
    membership.save()
    client.force_login(membership.user)
    assert client.get("/o/cocair/results/").status_code == 404


def test_closed_operation_still_shows_its_results(client, known_results, officer):
    known_results.status = OperationStatus.CLOSED
    known_results.save()
    client.force_login(officer)
    assert client.get("/o/cocair/results/").status_code == 200


# --- the pivot ----------------------------------------------------------------------------------


@pytest.fixture
def routes(op, officer, elsewhere, outsider):
    """Given the seizures of the transit rules (s1..s6) and one of another operation."""

    def at(year, **fields):
        return seizure(op, officer, seized_at=datetime(year, 6, 1, 12, 0, tzinfo=UTC), **fields)

    at(2007, departure="LOS", transit=["ACC", "GH"])  # s1: NG; via Ghana twice
    at(2007, departure="SN", transit=["LOS", "NG", "CMN"], quantity=Decimal("2"))  # s2
    at(2008, departure="GRU", transit=[], quantity=Decimal("500"), unit="g")  # s3: BR
    at(2008, departure="NG", transit=["NG"], quantity=Decimal("3"))  # s4: NG only, once
    at(2008, departure="", transit=[])  # s5: no country known
    at(2008, departure="LOS", commodity="cannabis", quantity=Decimal("10"))  # s6
    seizure(
        elsewhere,
        outsider,
        departure="NG",
        seized_at=datetime(2007, 6, 1, tzinfo=UTC),
        quantity=Decimal("50"),
    )


def pivot(user, **params):
    return seizure_pivot(user=user, query=pivot_query_from(params))


def test_departure_or_transit_country_counts_each_distinct_country_once(officer, routes):
    p = pivot(officer, rows="departure_or_transit_country", columns="year", commodity="cocaine")
    assert p.cells == {
        "NG": {"2007": 2, "2008": 1},
        "GH": {"2007": 1},
        "SN": {"2007": 1},
        "MA": {"2007": 1},
        "BR": {"2008": 1},
    }
    assert p.row_totals == {"NG": 3, "GH": 1, "SN": 1, "MA": 1, "BR": 1}
    # Each seizure once in the totals (s5 has no country: in no row, so in no total).
    assert p.column_totals == {"2007": 2, "2008": 2}
    assert p.total == 4
    assert p.rows[0] == "NG"
    assert p.columns == ["2007", "2008"]
    assert p.row_labels["MA"] == "Morocco"


def test_transit_country_counts_once_per_distinct_transit_country(officer, routes):
    p = pivot(officer, rows="transit_country", columns="year", commodity="cocaine")
    assert p.cells == {"GH": {"2007": 1}, "NG": {"2007": 1, "2008": 1}, "MA": {"2007": 1}}
    assert p.column_totals == {"2007": 2, "2008": 1}
    assert p.total == 3


def test_departure_country_without_filter_and_airports_as_countries(officer, routes):
    p = pivot(officer, rows="departure_country", columns="year")
    assert p.cells == {"NG": {"2007": 1, "2008": 2}, "SN": {"2007": 1}, "BR": {"2008": 1}}
    assert p.total == 5


def test_quantity_is_summed_per_unit(officer, routes):
    p = pivot(officer, rows="departure_country", measure="quantity", commodity="cocaine")
    assert p.cells["NG"] == {"2007": {"kg": Decimal("1")}, "2008": {"kg": Decimal("3")}}
    assert p.cells["BR"] == {"2008": {"g": Decimal("500")}}
    assert p.total == {"kg": Decimal("6"), "g": Decimal("500")}
    assert p.units == ["g", "kg"]


def test_quantity_by_commodity_rows_needs_no_commodity_filter(officer, routes):
    p = pivot(officer, rows="commodity", columns="year", measure="quantity")
    assert p.row_totals["cannabis"] == {"kg": Decimal("10")}
    assert p.row_labels["cannabis"] == "Cannabis"


def test_columns_by_month_and_by_operation(officer, routes, op):
    by_month = pivot(officer, rows="commodity", columns="month", commodity="cocaine")
    assert by_month.columns[0] == "2007-06" and by_month.columns[-1] == "2008-06"
    assert len(by_month.columns) == 13  # the months between are shown, empty
    by_operation = pivot(officer, rows="commodity", columns="operation")
    assert by_operation.columns == [str(op.pk)]
    assert by_operation.column_labels == {str(op.pk): "COCAIR VI"}


def test_date_filters(officer, routes):
    p = pivot(officer, rows="departure_country", **{"from": "2008-01-01", "to": "2008-12-31"})
    assert p.columns == ["2008"] and p.total == 3


def test_statistics_never_include_another_operations_seizures(client, officer, outsider, routes):
    mine = pivot(officer, rows="departure_country", columns="operation")
    assert mine.total == 5  # not the one of "elsewhere"
    theirs = pivot(outsider, rows="departure_country", columns="operation")
    assert theirs.total == 1
    client.force_login(officer)
    body = client.get("/api/v1/seizures/pivot?rows=departure_country&columns=operation").json()
    assert body["total"] == 5
    assert len(body["columns"]) == 1


def test_pivot_api_shape(client, officer, routes):
    client.force_login(officer)
    response = client.get(
        "/api/v1/seizures/pivot?rows=departure_or_transit_country&columns=year"
        "&measure=count&commodity=cocaine"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["rows"][0] == "NG"
    assert body["columns"] == ["2007", "2008"]
    assert body["cells"]["NG"] == {"2007": 2, "2008": 1}
    assert body["row_totals"]["NG"] == 3
    assert body["column_totals"] == {"2007": 2, "2008": 2}
    assert body["total"] == 4
    quantity = client.get(
        "/api/v1/seizures/pivot?rows=departure_country&measure=quantity&commodity=cocaine"
    ).json()
    assert quantity["cells"]["BR"] == {"2008": {"g": 500}}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("rows=planet", "rows"),
        ("columns=week", "columns"),
        ("measure=weight", "measure"),
        ("commodity=gold", "commodity"),
        ("measure=quantity", "commodity"),
        ("from=yesterday", "from"),
        ("from=2008-01-02&to=2008-01-01", "to"),
    ],
)
def test_bad_pivot_parameters_are_4xx_naming_the_field(client, officer, query, field):
    client.force_login(officer)
    response = client.get(f"/api/v1/seizures/pivot?{query}")
    assert response.status_code in (400, 422)
    assert response.json()["field"] == field
    page = client.get(f"/statistics/?{query}")
    assert page.status_code == 400
    assert f"{field}: " in page.content.decode()


def test_pivot_api_requires_authentication(client):
    assert client.get("/api/v1/seizures/pivot").status_code == 401


def test_statistics_page_renders_the_table_with_totals(client, officer, routes):
    client.force_login(officer)
    response = client.get("/statistics/?rows=departure_or_transit_country&commodity=cocaine")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<th scope="row">Nigeria</th>' in html
    assert 'role="img"' in html
    assert "/o/cocair/results/" in html  # the results of my operations


def test_statistics_csv_parses_back(client, officer, routes):
    client.force_login(officer)
    response = client.get(
        "/statistics/?rows=departure_or_transit_country&columns=year&commodity=cocaine&format=csv"
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Country of departure or transit", "2007", "2008", "Total"]
    assert rows[1] == ["Nigeria", "2", "1", "3"]
    assert rows[-1] == ["Total", "2", "2", "4"]


def test_statistics_xlsx_parses_back_with_units(client, officer, routes):
    client.force_login(officer)
    response = client.get(
        "/statistics/?rows=departure_country&measure=quantity&commodity=cocaine&format=xlsx"
    )
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("Country of departure", "Unit", "2007", "2008", "Total")
    lines = {(r[0], r[1]): r[2:] for r in rows[1:]}
    assert lines[("Nigeria", "kilograms")] == (1, 3, 4)
    assert lines[("Brazil", "grams")] == (0, 500, 500)
    assert lines[("Total", "kilograms")] == (3, 3, 6)


def test_the_seed_documents_table_shape(officer, op):
    """Rows departure_or_transit_country × columns year, count: the 2005-2008 table."""
    for year, count in ((2005, 3), (2006, 1), (2008, 2)):
        for _n in range(count):
            seizure(op, officer, seized_at=datetime(year, 3, 1, tzinfo=UTC), departure="NG")
    seizure(
        op, officer, seized_at=datetime(2007, 3, 1, tzinfo=UTC), departure="GRU", transit=["DSS"]
    )
    p = pivot(officer, rows="departure_or_transit_country", columns="year", commodity="cocaine")
    assert p.columns == ["2005", "2006", "2007", "2008"]
    assert p.cells["NG"] == {"2005": 3, "2006": 1, "2008": 2}
    assert p.cells["SN"] == {"2007": 1}
    assert p.total == 7


def test_pivot_query_defaults():
    assert pivot_query_from({}) == PivotQuery()


def test_chart_escapes_labels_and_is_labelled():
    svg = str(bar_chart(chart_id="c", title="T<", description="D", items=[("<b>", 3)]))
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert 'aria-labelledby="c-title c-desc"' in svg and '<title id="c-title">T&lt;</title>' in svg


# --- the demo data ------------------------------------------------------------------------------


def test_seed_demo_loads_cocair2_results_idempotently(settings, client):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    from accounts.models import Operation, User

    cocair2 = Operation.objects.get(slug="cocair2")
    assert cocair2.status == OperationStatus.CLOSED
    assert (cocair2.start_date, cocair2.end_date) == (date(2010, 6, 14), date(2010, 6, 20))
    r = operation_results(user=User.objects.get(username="ocu.brussels"), slug="cocair2")
    by_commodity = {c["commodity"]: c for c in r["commodities"]}
    assert by_commodity["cocaine"]["count"] == 12
    assert by_commodity["cocaine"]["quantities"][0]["quantity"] > 15
    assert by_commodity["cannabis"]["count"] == 2
    assert by_commodity["cannabis"]["quantities"][0]["quantity"] == Decimal("1820")
    assert by_commodity["precursors"]["quantities"][0]["quantity"] > 3000
    assert r["currency"] == {
        "count": 2,
        "usd_total": Decimal("130000"),
        "by_currency": [{"currency": "USD", "count": 2, "amount": Decimal("130000")}],
    }
    for single in ("arms", "cultural_goods", "false_documents"):
        assert by_commodity[single]["count"] == 1
    cocaine_countries = set(
        Seizure.objects.filter(operation=cocair2, commodity="cocaine").values_list(
            "country", flat=True
        )
    )
    assert cocaine_countries == {"NG", "SN", "BR", "GH", "CV", "ML", "GA"}
    client.force_login(User.objects.get(username="dakar.customs"))
    assert client.get("/o/cocair2/results/").status_code == 200


@pytest.mark.integration
@pytest.mark.parametrize("columns", ["year", "month", "operation"])
def test_pivot_on_postgresql_gives_the_hand_computed_cells(officer, routes, columns):
    """The same known set on PostgreSQL (raw rows: jsonb text, numeric sums, filtered counts)."""
    p = pivot(officer, rows="departure_or_transit_country", columns=columns, commodity="cocaine")
    assert p.row_totals == {"NG": 3, "GH": 1, "SN": 1, "MA": 1, "BR": 1}
    assert p.total == 4
    q = pivot(
        officer, rows="departure_country", columns=columns, measure="quantity", commodity="cocaine"
    )
    assert q.total == {"kg": Decimal("6"), "g": Decimal("500")}


def test_a_correction_moves_the_seizure_in_the_pivot(officer, op):
    """The route's countries and the month the pivot groups by follow a correction."""
    from messaging.formatted import SeizureInput
    from seizures.services import seizure_correct

    s = seizure(op, officer, departure="LOS", transit=["ACC"])
    before = pivot(officer, rows="departure_or_transit_country", columns="year")
    assert before.cells == {"NG": {"2017": 1}, "GH": {"2017": 1}}
    data = SeizureInput(
        seized_at=datetime(2019, 1, 5, 9, 0, tzinfo=UTC),
        airport="DSS",
        commodity="cocaine",
        quantity=Decimal("1"),
        unit="kg",
        concealment="checked_baggage",
        detection="profiling",
        departure="GRU",
        transit=("CMN", "MA"),
    )
    seizure_correct(user=officer, seizure=s, data=data, reason="Route checked.")
    after = pivot(officer, rows="departure_or_transit_country", columns="month")
    assert after.cells == {"BR": {"2019-01": 1}, "MA": {"2019-01": 1}}
    assert after.total == 1
