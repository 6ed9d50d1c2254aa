"""Voicemail over HTTP on a real controller and database (no Asterisk): a message in the
spool is found by a scan, listed to those who may see it, played (audited), taken,
called back through the callbacks service and marked handled."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from callcenter.adapters.db.models import AuditRow, CallRow, VoicemailRow
from callcenter.adapters.db.voicemails import VoicemailRepository
from callcenter.adapters.pbx.voicemail_spool import VoicemailInbox
from callcenter.core.voicemail import LeftMessage, VoicemailError
from callcenter.simulate.console import Console
from tests.adapter.console_support import AGENT, login

TXT = """[message]
origmailbox={box}
context=cc-voicemail
callerid="Patient" <{number}>
origtime={at}
category={call}
msg_id={msg}
duration=3
"""


def leave(spool: Path, box: str, n: int, number: str, call: str, at: float = 1796652900) -> None:
    inbox = spool / box / "INBOX"
    inbox.mkdir(parents=True, exist_ok=True)
    with wave.open(str(inbox / f"msg{n:04d}.wav"), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\x00\x01" * 8000)
    text = TXT.format(box=box, number=number, at=at, call=call, msg=f"{at}-{box}-{n}")
    (inbox / f"msg{n:04d}.txt").write_text(text)


@pytest.fixture(scope="module")
def agent(console: Console) -> FlaskClient:
    client = console.app.test_client()
    client.environ_base["HTTP_X_CSRFTOKEN"] = login(client, "agent")
    return client


@pytest.fixture(scope="module")
def supervisor(console: Console) -> FlaskClient:
    token = console.controller.users.create_token("voicemail-supervisor", "supervisor")
    client = console.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_the_scan_stores_each_message_once_linked_to_its_call(
    console: Console, tmp_path: Path
) -> None:
    sessions = console.controller.storage.sessions
    with sessions.begin() as session:
        session.add(CallRow(id="c0ffee01", unique_id="1.1", queue="support", entered_at=1.0,
                            ivr_path=[{"node": "menu", "key": "1"}]))  # fmt: skip
    inbox = VoicemailInbox(
        VoicemailRepository(sessions), tmp_path, lambda: {"300": "billing"}, lambda: "US"
    )
    leave(tmp_path, "200", 0, "2125550101", "c0ffee01")
    leave(tmp_path, "300", 0, "2125550102", "")
    (tmp_path / "300" / "INBOX" / "msg0001.txt").write_text("[message]\n")  # being written
    assert inbox.scan() == 2
    assert inbox.scan() == 0
    with sessions() as session:
        rows = {r.box: r for r in session.query(VoicemailRow).filter(VoicemailRow.box != "x")}
    linked = rows["200"]
    assert (linked.queue, linked.call_id, linked.caller_number) == (
        "support", "c0ffee01", "+12125550101",
    )  # fmt: skip
    assert (linked.duration, linked.path) == (3.0, "200/INBOX/msg0000")
    assert rows["300"].queue == "billing"  # no call: the box's queue
    found = inbox.repository.get(linked.id)
    assert found is not None and found.ivr_path == [{"node": "menu", "key": "1"}]


def test_messages_left_on_each_node_are_found_and_played_from_its_spool(
    console: Console, tmp_path: Path
) -> None:
    """[[pbx.nodes]]: each node's spool scanned too; the path names the node, and the
    same Asterisk id on two nodes is two messages."""
    sessions = console.controller.storage.sessions
    own, alpha, beta = tmp_path / "own", tmp_path / "alpha", tmp_path / "beta"
    inbox = VoicemailInbox(
        VoicemailRepository(sessions), own, lambda: {"700": "support"}, lambda: "US",
        {"alpha": alpha, "beta": beta},
    )  # fmt: skip
    leave(alpha, "700", 0, "2125550171", "", at=1796652970)
    leave(beta, "700", 0, "2125550172", "", at=1796652970)  # the same msg_id as alpha's
    assert inbox.scan() == 2
    assert inbox.scan() == 0
    with sessions() as session:
        rows = {r.path: r for r in session.query(VoicemailRow).filter(VoicemailRow.box == "700")}
    assert sorted(rows) == ["@alpha/700/INBOX/msg0000", "@beta/700/INBOX/msg0000"]
    assert rows["@beta/700/INBOX/msg0000"].msg_id.startswith("beta:")
    assert inbox.audio("@beta/700/INBOX/msg0000") == (beta / "700/INBOX/msg0000.wav").resolve()
    with pytest.raises(VoicemailError):
        inbox.audio("@gamma/700/INBOX/msg0000")
    with pytest.raises(VoicemailError):
        inbox.audio("@alpha/../beta/700/INBOX/msg0000")


def test_an_agent_works_a_message_of_their_queue(
    console: Console, agent: FlaskClient, supervisor: FlaskClient
) -> None:
    controller = console.controller
    spool = controller.voicemail.spool
    leave(spool, "210", 0, "2125550103", "", at=1796652999)
    assert controller.voicemail.scan() >= 1
    with controller.storage.sessions.begin() as session:
        row = session.query(VoicemailRow).filter_by(box="210").one()
        row.queue = "support"
        other = VoicemailRow(msg_id="elsewhere", box="220", queue="sales", left_at=1.0,
                             path="220/INBOX/msg0000", status="new")  # fmt: skip
        session.add(other)
    listed = agent.get("/api/voicemail?status=new").get_json()["voicemails"]
    mine = [m for m in listed if m["caller"] == "+12125550103"]
    assert len(mine) == 1 and all(m["queue"] == "support" for m in listed)
    message = mine[0]
    assert (message["duration"], message["status"]) == (3.0, "new")
    everyone = supervisor.get("/api/voicemail").get_json()["voicemails"]
    assert "sales" in {m["queue"] for m in everyone}
    elsewhere = next(m for m in everyone if m["queue"] == "sales")
    assert agent.get(f"/api/voicemail/{elsewhere['id']}/audio").status_code == 404
    assert agent.post(f"/api/voicemail/{elsewhere['id']}/take").status_code == 404

    played = agent.get(f"/api/voicemail/{message['id']}/audio")
    assert played.status_code == 200 and played.data[:4] == b"RIFF"
    assert played.headers["Cache-Control"] == "private, no-store"

    taken = agent.post(f"/api/voicemail/{message['id']}/take")
    assert taken.status_code == 200 and taken.get_json()["owner"] == AGENT
    refused = supervisor.post(f"/api/voicemail/{message['id']}/take")
    assert refused.status_code == 409 and refused.get_json()["code"] == "taken"

    called = agent.post(f"/api/voicemail/{message['id']}/callback", json={})
    assert called.status_code == 201, called.get_json()
    callback_id = called.get_json()["callback_id"]
    assert callback_id is not None
    booked = supervisor.get("/api/callbacks").get_json()["callbacks"]
    assert any(c["id"] == callback_id and c["number"] == "+12125550103" for c in booked)

    done = agent.post(f"/api/voicemail/{message['id']}/handled")
    assert done.status_code == 200 and done.get_json()["status"] == "handled"
    again = agent.post(f"/api/voicemail/{message['id']}/handled")
    assert again.status_code == 409 and again.get_json()["code"] == "handled"

    with controller.storage.sessions() as session:
        actions = [
            a.action
            for a in session.query(AuditRow).filter(AuditRow.target == f"voicemail:{message['id']}")
        ]
    assert actions == ["voicemail.played", "voicemail.taken", "voicemail.callback",
                       "voicemail.handled"]  # fmt: skip


def test_a_bad_filter_is_refused(agent: FlaskClient) -> None:
    assert agent.get("/api/voicemail?status=lost").status_code == 400
    assert agent.get("/api/voicemail?queue=a%20b").status_code == 400


def test_the_desktop_shows_the_inbox_with_its_script(agent: FlaskClient) -> None:
    page = agent.get("/desktop").get_data(as_text=True)
    assert 'id="vm"' in page and "voicemail.js" in page
    script = agent.get("/static/voicemail.js")
    assert script.status_code == 200 and b"/api/voicemail" in script.data


def test_retention_deletes_old_messages_files_and_rows(console: Console, tmp_path: Path) -> None:
    repository = VoicemailRepository(console.controller.storage.sessions)
    inbox = VoicemailInbox(repository, tmp_path, lambda: {"400": "support"}, lambda: "US")
    leave(tmp_path, "400", 0, "2125550104", "", at=1000)
    leave(tmp_path, "400", 1, "2125550105", "", at=5000)
    assert inbox.scan() == 2
    removed, errors = inbox.expire(2000)
    # (rows of other tests left before the cutoff go too: their files are not here)
    assert errors == [] and 1000.0 in [r[2] for r in removed]
    assert 5000.0 not in [r[2] for r in removed]
    assert sorted(p.name for p in (tmp_path / "400" / "INBOX").iterdir()) == [
        "msg0001.txt",
        "msg0001.wav",
    ]
    assert all(repository.get(r[0]) is None for r in removed)
    assert inbox.scan() == 0  # the kept one is not found again


def test_a_message_stored_directly_is_listed(console: Console) -> None:
    repository = VoicemailRepository(console.controller.storage.sessions)
    message = LeftMessage("direct-1", "500", "+12125550106", "", 10.0, 2.0, "")
    stored = repository.get(repository.add(message, "support", "500/INBOX/msg0000"))
    assert stored is not None and (stored.queue, stored.status) == ("support", "new")
    assert repository.take(stored.id, "agent2") and not repository.take(stored.id, AGENT)


def test_the_retention_run_expires_voicemail_with_the_recordings(console: Console) -> None:
    controller = console.controller
    leave(controller.voicemail.spool, "600", 0, "2125550107", "", at=2000)
    assert controller.voicemail.scan() >= 1
    report = controller.retention.run("retention-test")
    assert (
        report.voicemails_removed
        and not (controller.voicemail.spool / "600" / "INBOX" / "msg0000.wav").exists()
    )
    with controller.storage.sessions() as session:
        audited = session.query(AuditRow).filter(AuditRow.action == "voicemail.deleted").count()
    assert audited >= 1


def test_the_voicemail_report_counts_per_queue(console: Console, supervisor: FlaskClient) -> None:
    answer = supervisor.get("/api/reports/voicemail?from=2026-12-01&to=2026-12-31")
    assert answer.status_code == 200, answer.get_json()
    report = answer.get_json()
    support = next(q for q in report["queues"] if q["queue"] == "support")
    # The message worked above (left 2026-12-...): handled and called back.
    assert support["handled"] >= 1 and support["called_back"] >= 1
    assert support["mean_handle_seconds"] is not None
    assert report["total"] == sum(q["messages"] for q in report["queues"])
