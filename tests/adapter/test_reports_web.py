"""The reports page and API over HTTP (Flask's test client, a real database, no
Asterisk): the page states the definitions, and the JSON, the CSV and the pure
report over the same hand-made hour agree to the digit."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.adapters.db.dial_refusals import DialRefusalRepository
from callcenter.adapters.db.migrate import upgrade
from callcenter.core.dial_policy import DialRefusal
from callcenter.core.queues import QueueSettings
from callcenter.services.console.reports import queue_report
from tests.adapter.test_reports_db import ESTIMATE_FIGURES, stored
from tests.support.console import ConsoleRig, console, login
from tests.unit.test_reports import NOW, PARIS, T0, TARGETS, period, records

QUERY = "from=2026-01-15T09:00&to=2026-01-15T10:00&interval=30"
PAGE_IDS = (
    "report-form", "report-from", "report-to", "report-interval", "report-queue", "report-agent",
    "report-message", "report-chart-volume", "report-chart-occupancy", "report-queues",
    "report-queue-intervals", "report-queues-csv", "report-agents", "report-agent-intervals",
    "report-agents-csv", "report-estimates", "report-refusals", "report-definitions",
)  # fmt: skip


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[ConsoleRig]:
    url = f"sqlite:///{tmp_path / 'callcenter.db'}"
    upgrade(url)
    stored(url).kw["bind"].dispose()  # the hour of calls of tests/unit/test_reports.py
    with console(url, timezone="Europe/Paris") as found:
        for name, target in TARGETS.items():
            found.admin.save_queue(QueueSettings(name=name, service_level_target=target), True)
        found.clock_at = NOW
        yield found


def test_the_page_is_for_supervisors_and_states_the_definitions(rig: ConsoleRig) -> None:
    rig.users.add("sue", "a long supervisor password", "supervisor")
    rig.users.add("al", "a long agent password", "agent", agent="alice")
    assert rig.client().get("/reports").status_code == 302
    agent = rig.client()
    login(agent, "al", "a long agent password", page=None)
    assert agent.get("/reports").status_code == 403
    assert agent.get(f"/api/reports/queues?{QUERY}").status_code == 403

    supervisor = rig.client()
    login(supervisor, "sue", "a long supervisor password", page="/reports")
    html = supervisor.get("/reports").get_data(as_text=True)
    for element in PAGE_IDS:
        assert f'id="{element}"' in html, element
    assert '<option value="sales">sales</option>' in html
    assert 'value="2026-01-15"' in html  # "today" in the site's zone, from the clock
    for words in (
        "Service level: legs answered within the queue&#39;s target, divided by offered",
        "ASA (average speed of answer): total wait of answered legs / answered legs",
        "AHT (average handle time): (talk + hold + wrap-up) / handled legs",
        "less the time the caller spent on hold",
        "Abandon rate: abandoned / offered",
        "Occupancy (per agent): time handling calls (ringing, talking, wrap-up)",
    ):
        assert words in " ".join(html.split()), words
    assert 'src="/static/reports.js"' in html and 'src="http' not in html  # no CDN


def test_json_csv_and_the_pure_report_agree(rig: ConsoleRig) -> None:
    client, headers = rig.client(), rig.token("supervisor")
    body = client.get(f"/api/reports/queues?{QUERY}", headers=headers).get_json()
    expected = queue_report(records(), TARGETS, period(), PARIS, NOW)
    assert body["totals"] == expected.totals
    assert [q["queue"] for q in body["queues"]] == ["sales", "support"]
    assert body["period"]["start"] == "2026-01-15T09:00+01:00"

    response = client.get(f"/api/reports/queues.csv?{QUERY}", headers=headers)
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    everything = next(r for r in rows if r["queue"] == "(all)")
    assert int(everything["offered"]) == body["totals"]["offered"]
    assert float(everything["service_level"]) == body["totals"]["service_level"]

    agents = client.get(f"/api/reports/agents?{QUERY}&agent=alice", headers=headers).get_json()
    assert [a["agent"] for a in agents["agents"]] == ["alice"]


def test_the_accuracy_of_wait_estimates_per_queue(rig: ConsoleRig) -> None:
    client, headers = rig.client(), rig.token("supervisor")
    when = "from=2026-01-15T09:00&to=2026-01-15T10:00"
    body = client.get(f"/api/reports/estimates?{when}", headers=headers).get_json()
    assert body["queues"] == [{"queue": q} | ESTIMATE_FIGURES[q] for q in ("sales", "support")]
    assert body["totals"] == ESTIMATE_FIGURES["all"]
    only = client.get(f"/api/reports/estimates?{when}&queue=sales", headers=headers).get_json()
    assert [q["queue"] for q in only["queues"]] == ["sales"]
    nothing = client.get("/api/reports/estimates?from=2026-01-16&to=2026-01-16", headers=headers)
    assert nothing.get_json()["totals"]["estimates"] == 0
    assert nothing.get_json()["totals"]["median_error"] is None


def refused(at: float, reason: str, number: str = "+19005551234") -> DialRefusal:
    return DialRefusal(at, "caller", "+12125550100", number, reason, "refused", "keep-place")  # type: ignore[arg-type]


def test_dial_refusals_counted_by_reason_and_listed(rig: ConsoleRig) -> None:
    audit = DialRefusalRepository(rig.sessions)
    for at, reason in [(T0 + 60, "number-type"), (T0 + 120, "number-type"),
                       (T0 + 180, "international-network"), (T0 + 4000, "country"),
                       (T0 - 600, "rate-limit")]:  # fmt: skip
        audit.add(refused(at, reason))
    audit.add(refused(T0 + 200, "bad-number", "=cmd|' /C calc'!A0"))
    client, headers = rig.client(), rig.token("supervisor")
    when = "from=2026-01-15T09:00&to=2026-01-15T10:00"
    body = client.get(f"/api/reports/dial-refusals?{when}", headers=headers).get_json()
    assert body["reasons"] == [
        {"reason": "number-type", "count": 2},
        {"reason": "bad-number", "count": 1},
        {"reason": "international-network", "count": 1},
    ]
    assert body["total"] == 4 and body["period"]["timezone"] == "Europe/Paris"
    listed = client.get("/api/dial-refusals?hours=1", headers=headers).get_json()
    assert listed["total"] == 5  # since an hour before NOW (T0 + 3510), newest first
    assert [r["reason"] for r in listed["refusals"]][:2] == ["country", "bad-number"]
    second = listed["refusals"][1]
    assert (second["origin_kind"], second["number"], second["where"]) == (
        "caller", "=cmd|' /C calc'!A0", "keep-place",
    )  # fmt: skip
    paged = client.get("/api/dial-refusals?hours=2&per_page=2&page=3", headers=headers)
    assert [r["reason"] for r in paged.get_json()["refusals"]] == ["number-type", "rate-limit"]
    assert client.get("/api/dial-refusals", headers=rig.token("agent")).status_code == 403
    assert client.get("/api/dial-refusals?hours=0", headers=headers).status_code == 422


def test_a_bad_query_names_the_field(rig: ConsoleRig) -> None:
    client, headers = rig.client(), rig.token("supervisor")
    response = client.get(
        "/api/reports/queues?from=2026-01-15&to=2026-01-14&interval=60", headers=headers
    )
    assert response.status_code == 422
    assert response.get_json()["detail"] == {"query": {"to": ["must be after 'from'"]}}
    response = client.get("/api/reports/agents?from=2026-01-15&to=2026-01-15&interval=20",
                          headers=headers)  # fmt: skip
    assert "must be 15, 30 or 60" in str(response.get_json())
