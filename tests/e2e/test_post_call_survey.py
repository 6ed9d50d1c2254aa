"""The post-call survey, end to end: a SIPp caller talks to a baresip agent, the agent
hangs up, and the caller, still on the line (Dial's `g` in cc-connect), rates two
questions on the keypad; a wrong key is asked again. A second caller hangs up at the
survey instead. The console's CSAT report shows both against that agent and queue:
one response of two offered, both ratings satisfied; so does the wallboard. In headless
Chromium, a supervisor sees surveys on the reports page and on the wallboard's tile.

Timeline of the answering caller (seconds after the IVR answers): the menu key at
about 1; the agent answers at about 1.5 and hangs up a second later; the survey's first
question (a beep, then up to 6 s for the key) is on from about 2.7 to 9; "4" at about
5.4, "9" (not a rating: asked again) at 6.8, "5" at 8.2; then thanks and goodbye.
A third test leaves a spoken comment after the ratings (Record() beside the call's
recording).
"""

from __future__ import annotations

import time
import wave
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver

from callcenter.adapters.db.models import CallRow, SurveyResultRow
from callcenter.core.events import SurveyFinished
from callcenter.simulate.procs import wait_for
from callcenter.simulate.softphone import Softphone
from callcenter.simulate.voices import greeting_pcap
from tests.e2e.browser import log_in, screenshot
from tests.e2e.conftest import CallCenter, PlacedCall
from tests.e2e.console import PASSWORD, add_user, poll, text
from tests.e2e.console import console as console
from tests.e2e.sites import one_queue_site, quiet_queue

pytestmark = pytest.mark.e2e

SURVEY: dict[str, Any] = {
    "enabled": True,
    "questions": [{"prompt": "beep"}, {"prompt": "beep"}],
    "timeout": 6,
    "retry_prompt": "beep",
    "opt_in_prompt": "beep",
    "thanks_prompt": "vm-goodbye",
}


def answered_then_agent_hangs_up(center: CallCenter, phone: Softphone, placed: PlacedCall) -> int:
    """The agent answers and hangs up a second later; the FastAGI round trips so far."""
    seen = len(phone.events)
    phone.wait_event("CALL_INCOMING", 15, after=seen)
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", 5, after=seen)
    trips = int(center.get(lambda c: c.agi.commands))
    time.sleep(1.0)
    phone.hangup()
    phone.wait_event("CALL_CLOSED", 5, after=seen)
    return trips


def survey_of(center: CallCenter, number: str) -> tuple[CallRow, SurveyResultRow]:
    (call,) = center.rows(CallRow, CallRow.caller_number.contains(number))

    def stored() -> list[SurveyResultRow]:
        return center.rows(SurveyResultRow, SurveyResultRow.call_id == call.id)

    (row,) = wait_for(stored, 10, f"the survey of {number} stored")
    return call, row


def test_a_caller_rates_the_call_after_the_agent_hangs_up_another_hangs_up_instead(
    callcenter: CallCenter,
) -> None:
    center = callcenter
    queue = quiet_queue("support", requirements={"support": 1}, survey=SURVEY)
    center.load_site(one_queue_site("ann", queue=queue))
    phone = center.softphone(center.account("ann"))
    center.login("ann")
    center.wait_available("ann")

    rates = center.place_call([1000, "1", 4000, "4", 1000, "9", 1000, "5"], "+15550301")
    before = answered_then_agent_hangs_up(center, phone, rates)
    result = rates.finish(40)  # the caller waits for the BYE after the thanks
    assert (result.successful, result.failed) == (1, 0), result.log
    center.wait_no_calls(15)
    # The dial-result session: a GET DATA per question, the retry's Read and read-back,
    # the thanks, CC_STATUS.
    trips = int(center.get(lambda c: c.agi.commands)) - before
    print(f"survey round trips (2 questions, one asked again): {trips}")
    assert trips <= 6, trips
    center.wait_available("ann", timeout=20)

    leaves = center.place_call([1000, "1", 4000], "+15550302", end="bye")
    answered_then_agent_hangs_up(center, phone, leaves)
    result = leaves.finish(40)
    assert (result.successful, result.failed) == (1, 0), result.log
    center.wait_no_calls(15)

    call, rated = survey_of(center, "5550301")
    assert (rated.queue, rated.agent, rated.scores, rated.responded) == (
        "support", "ann", [4, 5], True,
    )  # fmt: skip
    assert call.outcome == "completed" and call.agent == "ann"
    _, gone = survey_of(center, "5550302")
    assert (gone.agent, gone.scores, gone.responded) == ("ann", [None, None], False)

    # The console's report: that agent and queue, one response of two offered.
    web = center.controller.web
    assert web is not None
    client = web.app.test_client()  # type: ignore[attr-defined]
    token = center.controller.users.create_token("csat-supervisor", "supervisor")
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    today = center.controller.reports.zone.local(time.time()).date().isoformat()
    answer = client.get(f"/api/reports/csat?from={today}&to={today}")
    assert answer.status_code == 200, answer.get_json()
    found = answer.get_json()
    (agent,) = found["agents"]
    (queue_row,) = found["queues"]
    assert agent["agent"] == "ann" and queue_row["queue"] == "support"
    for row in (agent, queue_row, found["totals"]):
        assert (row["offered"], row["responded"], row["response_rate"]) == (2, 1, 0.5), row
        assert (row["ratings"], row["csat"], row["mean_score"]) == (2, 1.0, 4.5), row

    # The wallboard's tile for the queue: today's CSAT.
    tiles = client.get("/api/wallboard").get_json()["queues"]
    (tile,) = [t for t in tiles if t["queue"] == "support"]
    survey = tile["survey_today"]
    assert (survey["offered"], survey["responded"], survey["csat"]) == (2, 1, 1.0), survey


def test_a_supervisor_sees_csat_on_the_reports_page_and_the_wallboard(
    console: CallCenter, browser: webdriver.Chrome
) -> None:
    center = console
    queue = quiet_queue("support", requirements={"support": 1}, survey=SURVEY)
    center.load_site(one_queue_site("ann", queue=queue))
    add_user(center, "sue", "supervisor")
    log_in(browser, center.base_url, "sue", PASSWORD)
    browser.get(f"{center.base_url}/wallboard")
    poll(lambda: text(browser, "#wb-status") == "Live", 10, "the wallboard live")
    tile = '[data-queue="support"] [data-field="csat"]'
    poll(lambda: text(browser, tile) == "\u2013", 10, "no surveys yet (a dash)")

    # Surveys as the dial-result route reports them: the records writer stores them,
    # the wallboard counts them live.
    now = time.time()
    for call_id, scores in (("s1", (5, 4)), ("s2", (2, None)), ("s3", (None, None))):
        finished = SurveyFinished(
            at=now, call_id=call_id, queue="support", agent="ann", scores=scores
        )
        center.get(lambda c, e=finished: c.notifier.publish(e))
    try:
        poll(lambda: text(browser, tile) == "67 % (2/3)", 10, "today's CSAT on the tile")
    except AssertionError:
        screenshot(browser, "csat-wallboard")
        raise
    assert center.controller.records.flush(10)

    browser.get(f"{center.base_url}/reports")  # today, in the site's zone
    try:
        poll(lambda: "support" in text(browser, "#csat-queues tbody"), 15, "the CSAT section")
    except AssertionError:
        screenshot(browser, "csat-reports")
        raise
    # Queue, offered, responded, response rate, ratings, CSAT, mean rating.
    row = text(browser, "#csat-queues tbody").split()
    assert row == ["support", "3", "2", "66.7", "%", "3", "66.7", "%", "3.67"], row


def test_a_caller_leaves_a_spoken_comment_after_the_ratings(
    callcenter: CallCenter, tmp_path: Path
) -> None:
    center = callcenter
    survey = {**SURVEY, "comment_prompt": "beep", "comment_seconds": 6}
    queue = quiet_queue("support", requirements={"support": 1}, survey=survey)
    center.load_site(one_queue_site("ann", queue=queue))
    phone = center.softphone(center.account("ann"))
    center.login("ann")
    center.wait_available("ann")

    # "5" at about 7.2 s; the comment's beep and Record's own at about 7.7; the caller
    # speaks from about 8.7 (then silence: Record stops after 3 s of it, or at 6 s).
    speech = greeting_pcap(
        "The agent was very helpful, thank you.", tmp_path / "voices" / "comment.pcap", 4.0
    )
    steps: list[str | int | Path] = [1000, "1", 4000, "4", 1000, "5", 1500, speech, 2000]
    placed = center.place_call(steps, "+15550303")
    answered_then_agent_hangs_up(center, phone, placed)
    result = placed.finish(40)
    assert (result.successful, result.failed) == (1, 0), result.log
    center.wait_no_calls(15)

    call, row = survey_of(center, "5550303")
    assert row.scores == [4, 5] and row.comment, row.comment
    assert row.comment.endswith(f"/{call.id}-comment.wav"), row.comment  # YYYY/MM/DD/...
    path = center.controller.recordings.host_path(row.comment)
    wait_for(path.exists, 10, f"the comment {path}")
    with wave.open(str(path)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert 1.5 <= seconds <= 7, seconds
    print(f"comment recorded: {seconds:.2f} s")
