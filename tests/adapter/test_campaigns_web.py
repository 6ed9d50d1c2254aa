"""Campaigns over HTTP on a real controller and database (no Asterisk): create and
configure campaigns, add leads, import CSV files good and bad, DNC lists, figures."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from callcenter.simulate.console import Console
from tests.adapter.console_support import login

HEADER = "phone,first_name,last_name,account,timezone\n"


@pytest.fixture(scope="module")
def supervisor(console: Console) -> FlaskClient:
    token = console.controller.users.create_token("campaigns-test", "supervisor")
    client = console.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def make(client: FlaskClient, name: str, **settings: Any) -> int:
    answer = client.post("/api/campaigns", json={"name": name, "settings": settings})
    assert answer.status_code == 201, answer.get_json()
    return int(answer.get_json()["id"])


def upload(client: FlaskClient, campaign: int, data: bytes, name: str = "leads.csv") -> Any:
    answer = client.post(
        f"/api/campaigns/{campaign}/imports?filename={name}",
        data=data,
        headers={"Content-Type": "text/csv"},
    )
    assert answer.status_code == 202, answer.get_json()
    return finished(client, answer.get_json()["id"])


def finished(client: FlaskClient, import_id: int, deadline: float = 60.0) -> Any:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        found = client.get(f"/api/lead-imports/{import_id}").get_json()
        if found["status"] != "running":
            return found
        time.sleep(0.05)
    raise AssertionError(f"import {import_id} still running after {deadline} s")


# -- campaigns ----------------------------------------------------------------------------------
def test_create_configure_and_run(supervisor: FlaskClient) -> None:
    campaign = make(supervisor, "spring", mode="predictive", abandon_rule="ofcom-24h")
    found = supervisor.get(f"/api/campaigns/{campaign}").get_json()
    assert found["status"] == "paused" and found["settings"]["mode"] == "predictive"
    assert found["settings"]["abandon_cap_pct"] == 3.0
    assert found["settings"]["windows"]["mon"] == ["09:00-20:00"]

    changed = supervisor.put(
        f"/api/campaigns/{campaign}/settings",
        json={"settings": {"mode": "preview", "amd_action": "message"}},
    )
    assert changed.status_code == 200 and changed.get_json()["settings"]["amd_action"] == "message"
    running = supervisor.post(f"/api/campaigns/{campaign}/status", json={"status": "running"})
    assert running.get_json()["status"] == "running"
    names = [c["name"] for c in supervisor.get("/api/campaigns").get_json()["campaigns"]]
    assert "spring" in names


def test_bad_settings_are_refused_naming_each_field(supervisor: FlaskClient) -> None:
    answer = supervisor.post(
        "/api/campaigns",
        json={"name": "broken", "settings": {"mode": "robo", "ring_seconds": 5}},
    )
    assert answer.status_code == 422
    problems = "\n".join(answer.get_json()["problems"])
    assert "mode" in problems and "ring_seconds" in problems
    assert supervisor.get("/api/campaigns").get_json()["campaigns"] == [
        c for c in supervisor.get("/api/campaigns").get_json()["campaigns"] if c["name"] != "broken"
    ]


@pytest.mark.parametrize(
    "caller_id", ["+12125550100\n", "+12125550100\r\nAction: Command", "+1212555010O"]
)
def test_a_caller_id_with_a_line_break_is_refused(supervisor: FlaskClient, caller_id: str) -> None:
    answer = supervisor.post(
        "/api/campaigns", json={"name": "newline", "settings": {"caller_id": caller_id}}
    )
    assert answer.status_code == 422, answer.get_json()
    assert "caller_id" in "\n".join(answer.get_json()["problems"])


def test_names_are_unique_and_checked(supervisor: FlaskClient) -> None:
    make(supervisor, "twice")
    assert supervisor.post("/api/campaigns", json={"name": "twice"}).status_code == 409
    assert supervisor.post("/api/campaigns", json={"name": "Bad Name!"}).status_code == 422
    assert supervisor.get("/api/campaigns/999999").status_code == 404


def test_agents_may_not(console: Console) -> None:
    token = console.controller.users.create_token("campaigns-agent", "agent")
    client = console.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    assert client.get("/api/campaigns").status_code == 403
    assert client.post("/api/dnc", json={"numbers": ["2125550100"]}).status_code == 403


# -- leads by API --------------------------------------------------------------------------------
def test_leads_by_api_good_bad_and_duplicate(supervisor: FlaskClient) -> None:
    campaign = make(supervisor, "api-leads")
    answer = supervisor.post(
        f"/api/campaigns/{campaign}/leads",
        json={
            "leads": [
                {"phone": "212 555 0100", "name": "Ann Lee", "data_plan": "gold"},
                {"phone": "not-a-number"},
                {"phone": "+12125550100"},
                {"phone": "3105550101", "timezone": "Mars/Base"},
            ]
        },
    )
    body = answer.get_json()
    assert answer.status_code == 200 and body["added"] == 1
    assert [r["index"] for r in body["refused"]] == [1, 2, 3]
    assert "duplicate" in body["refused"][1]["reason"]
    progress = supervisor.get(f"/api/campaigns/{campaign}/progress").get_json()
    assert progress["leads"] == {"new": 1}


# -- CSV imports -----------------------------------------------------------------------------------
def test_good_csv_is_imported(supervisor: FlaskClient) -> None:
    campaign = make(supervisor, "csv-good")
    data = (HEADER + "2125550100,Ann,Lee,A1,\n3105550101,Bob,Ray,A2,America/Los_Angeles\n").encode()
    found = upload(supervisor, campaign, data)
    assert (found["status"], found["rows"], found["good"], found["bad"]) == ("done", 2, 2, 0)
    assert found["percent"] == 100.0 and found["encoding"] == "utf-8"


def test_wrong_columns_refuse_the_file_naming_them(supervisor: FlaskClient) -> None:
    campaign = make(supervisor, "csv-columns")
    found = upload(supervisor, campaign, b"telephone_nr,email\n2125550100,a@b.c\n")
    assert found["status"] == "refused" and found["good"] == 0
    reason = found["errors"][0]["reason"]
    assert "'telephone_nr'" in reason and "'email'" in reason and "no phone column" in reason
    assert found["errors"][0]["line"] == 1


def test_bad_numbers_and_duplicates_are_reported_by_line(supervisor: FlaskClient) -> None:
    campaign = make(supervisor, "csv-bad")
    supervisor.post(f"/api/campaigns/{campaign}/leads", json={"leads": [{"phone": "2125550109"}]})
    data = (
        b"phone,name\n"
        b"2125550100,Ann\n"  # 2 good
        b"12345,Bob\n"  # 3 bad number
        b"call me,Cy\n"  # 4 bad number
        b"(212) 555-0100,Di\n"  # 5 duplicate of line 2
        b"2125550109,Ed\n"  # 6 already a lead
        b"2125550101,Flo\n"  # 7 good
    )
    found = upload(supervisor, campaign, data)
    assert (found["status"], found["rows"], found["good"], found["bad"]) == ("done", 6, 2, 4)
    lines = {e["line"]: e["reason"] for e in found["errors"]}
    assert set(lines) == {3, 4, 5, 6}
    assert lines[3].startswith("bad number") and lines[4].startswith("bad number")
    assert "line 2" in lines[5] and "already a lead" in lines[6]
    progress = supervisor.get(f"/api/campaigns/{campaign}/progress").get_json()
    assert progress["leads"] == {"new": 3}


def test_windows_1252_file_is_imported_with_a_warning(supervisor: FlaskClient) -> None:
    campaign = make(supervisor, "csv-cp1252")
    data = "phone,name\n2125550100,José Müller\n".encode("cp1252")
    found = upload(supervisor, campaign, data)
    assert found["status"] == "done" and found["good"] == 1 and found["encoding"] == "cp1252"
    assert "not UTF-8" in found["warning"] and "line 2" in found["warning"]


def test_file_that_is_no_text_is_refused_naming_the_line(supervisor: FlaskClient) -> None:
    campaign = make(supervisor, "csv-binary")
    found = upload(supervisor, campaign, b"phone,name\n2125550100,\x81\x8d\x90\n")
    assert found["status"] == "refused" and found["errors"][0]["line"] == 2
    found = upload(supervisor, campaign, "phone\n2125550100\n".encode("utf-16-le"))
    assert found["status"] == "refused" and "NUL" in found["errors"][0]["reason"]


def test_long_file_streams_with_progress_and_loses_nothing(supervisor: FlaskClient) -> None:
    campaign = make(supervisor, "csv-long")
    count = 60_000  # about 1.4 MB: more than the console's usual request limit
    rows = "".join(f"+1212{2_000_000 + i:07d},Lead {i}\n" for i in range(count))
    data = ("phone,name\n" + rows + "oops,Bad\n").encode()
    assert len(data) > 1024 * 1024
    found = upload(supervisor, campaign, data, name="../../etc/big list.csv")
    assert found["filename"] == "big list.csv"
    assert (found["status"], found["good"], found["bad"]) == ("done", count, 1)
    assert found["errors"][0]["line"] == count + 2
    assert found["read_bytes"] == found["size_bytes"] == len(data)


def test_upload_with_a_session_needs_the_csrf_token(console: Console) -> None:
    client = console.app.test_client()
    token = login(client, "supervisor")
    campaign = console.controller.campaigns.create("csv-session", {}).id
    url = f"/api/campaigns/{campaign}/imports"
    bare = client.post(url, data=b"phone\n", headers={"Content-Type": "text/csv"})
    assert bare.status_code == 400
    signed = client.post(
        url, data=b"phone\n2125550100\n", headers={"Content-Type": "text/csv", "X-CSRFToken": token}
    )
    assert signed.status_code == 202
    assert finished(client, signed.get_json()["id"])["good"] == 1
    page = client.get(f"/campaigns/{campaign}").get_data(as_text=True)
    assert 'id="cp-progress"' in page and 'id="cp-upload"' in page
    assert "csv-session" in client.get("/campaigns").get_data(as_text=True)


def test_unknown_campaign_upload_is_404(supervisor: FlaskClient) -> None:
    answer = supervisor.post(
        "/api/campaigns/999999/imports", data=b"phone\n", headers={"Content-Type": "text/csv"}
    )
    assert answer.status_code == 404


# -- DNC -------------------------------------------------------------------------------------------
def test_dnc_lists(supervisor: FlaskClient) -> None:
    campaign = make(supervisor, "dnc-test")
    site = supervisor.post("/api/dnc", json={"numbers": ["(212) 555-0100", "+12125550100"]})
    assert site.get_json() == {"count": 1}
    own = supervisor.post("/api/dnc", json={"campaign_id": campaign, "numbers": ["3105550101"]})
    assert own.get_json() == {"count": 1}
    listed = supervisor.get(f"/api/dnc?campaign_id={campaign}").get_json()
    assert (
        listed["scope"] == "campaign:dnc-test" and listed["numbers"][0]["number"] == "+13105550101"
    )
    bad = supervisor.post("/api/dnc", json={"numbers": ["2125550102", "nope"]})
    assert bad.status_code == 422 and "nope" in bad.get_json()["problems"][0]
    site_list = supervisor.get("/api/dnc").get_json()
    assert [n["number"] for n in site_list["numbers"]] == ["+12125550100"]
    gone = supervisor.delete("/api/dnc", json={"number": "212-555-0100"})
    assert gone.get_json() == {"count": 1}
    assert supervisor.get("/api/dnc").get_json()["total"] == 0


# -- the dial policy and the export -----------------------------------------------------------
def test_an_import_reports_the_numbers_the_dial_policy_refuses(supervisor: FlaskClient) -> None:
    campaign = make(supervisor, "fraudcheck")
    data = (
        "phone,first_name\n+19005551234,Premium\n011449098790000,UK premium\n"
        "0088213000000,Network\n+881631456789,Satellite\n+12125550142,Ann\n"
    )
    report = upload(supervisor, campaign, data.encode())
    assert (report["good"], report["bad"]) == (1, 4)
    reasons = [e["reason"] for e in report["errors"]]
    assert all(r.startswith("refused by the dial policy") for r in reasons), reasons
    listed = supervisor.get("/api/dial-refusals?hours=1&per_page=1000").get_json()["refusals"]
    mine = [r for r in listed if r["origin_id"] == "fraudcheck"]
    assert {r["number"] for r in mine} == {
        "+19005551234", "+449098790000", "+88213000000", "+881631456789",
    }  # fmt: skip
    assert {r["where"] for r in mine} == {"lead-import"}


def test_leads_export_neutralises_spreadsheet_formulas(supervisor: FlaskClient) -> None:
    campaign = make(supervisor, "exported")
    evil = "=cmd|' /C calc'!A0"
    leads = [
        {"phone": "+12125550143", "first_name": evil, "last_name": "@SUM(A1)"},
        {"phone": "+12125550144", "first_name": "-2+3", "last_name": "Plain", "data_x": "+1"},
    ]
    added = supervisor.post(f"/api/campaigns/{campaign}/leads", json={"leads": leads})
    assert added.get_json()["added"] == 2, added.get_json()
    answer = supervisor.get(f"/api/campaigns/{campaign}/leads.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0][:4] == ["id", "phone", "first_name", "last_name"]
    assert rows[1][1:4] == ["'+12125550143", "'" + evil, "'@SUM(A1)"]
    assert rows[2][1:4] == ["'+12125550144", "'-2+3", "Plain"]
    assert rows[2][-1] == '{"x": "+1"}'  # a JSON text starts with "{": safe as it is
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    assert supervisor.get("/api/campaigns/999999/leads.csv").status_code == 404
