"""QA scoring in a real headless Chromium, on a real recorded call: an admin makes a form
on the Evaluation forms page; a SIPp caller talks to a baresip agent (Asterisk records the
call); the supervisor draws it on the Quality page, plays it beside the form, answers it
and saves the evaluation; the agent logs in, sees it under My evaluations, plays the call
and acknowledges it with a comment."""

from __future__ import annotations

import time

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from callcenter.adapters.db.models import QaEvaluationRow, RecordingRow
from callcenter.simulate.procs import wait_for
from tests.e2e.browser import log_in, screenshot
from tests.e2e.conftest import CallCenter
from tests.e2e.console import PASSWORD, add_user, poll, record_figures, text
from tests.e2e.console import console as console
from tests.e2e.sites import agent, queue_node, quiet_queue, site

pytestmark = pytest.mark.e2e

SITE = site(
    agents=[agent("amy", 1001, support=3)],
    queues=[quiet_queue("support", requirements={"support": 1})],
    choices={"1": "support"},
    nodes={"support": queue_node("support")},
)
# The example form of the page: greeting (w1), verified (w2, critical, n/a allowed),
# empathy (0-5, w3), resolved (w3), and a question the admin adds: recap (w1).
# Yes, yes, 4, yes, yes: (1 + 2 + 3 * 4/5 + 3 + 1) / 10 = 94 %.
ANSWERS = {"greeting": "yes", "verified": "yes", "empathy": "4", "resolved": "yes", "recap": "yes"}
AUDIO_READY = (
    "const a = document.getElementById(arguments[0]); return a.readyState >= 1 && a.duration;"
)


def _recorded_call(center: CallCenter) -> RecordingRow:
    amy = center.softphone(center.account("amy"))
    center.login("amy")
    center.wait_available("amy")
    placed = center.place_call([800, "1", 4000], "2125550700", "Scored")
    amy.wait_event("CALL_INCOMING", 20)
    amy.accept()
    amy.wait_event("CALL_ESTABLISHED", 5)
    placed.wait_listening()
    amy.hangup()
    result = placed.finish(20)
    assert (result.successful, result.failed) == (1, 0), result.log
    center.wait_no_calls()
    (recording,) = wait_for(
        lambda: [r for r in center.rows(RecordingRow) if r.ended_at is not None],
        10,
        "the call's recording closed",
    )
    path = center.controller.recordings.host_path(recording.path)
    wait_for(path.exists, 10, f"the recording {path}")
    return recording


def test_a_supervisor_scores_a_recording_and_the_agent_acknowledges_it(
    console: CallCenter, browser: webdriver.Chrome
) -> None:
    center = console
    center.load_site(SITE)
    add_user(center, "ada", "admin")
    add_user(center, "sue", "supervisor")
    add_user(center, "ann", "agent", agent="amy")

    # The admin makes a form from the page's example.
    log_in(browser, center.base_url, "ada", PASSWORD)
    browser.get(f"{center.base_url}/qa/forms")
    browser.find_element(By.ID, "qa-new").click()
    browser.find_element(By.ID, "qa-editor-name").send_keys("support")
    poll(lambda: browser.find_elements(By.CSS_SELECTOR, "#qa-preview fieldset"), 5, "the preview")
    browser.find_elements(By.CSS_SELECTOR, "#qa-builder .qa-add-question")[1].click()
    added = browser.find_elements(By.CSS_SELECTOR, "#qa-builder .qa-builder-question")[-1]
    added.find_element(By.CSS_SELECTOR, "input.qa-key").send_keys("recap")
    added.find_element(By.CSS_SELECTOR, "input.qa-text").send_keys("Recapped the call")
    poll(lambda: browser.find_elements(By.ID, "qa-q-recap-yes"), 5, "the added question previewed")
    screenshot(browser, "qa-forms")
    browser.find_element(By.ID, "qa-editor-save").click()
    poll(lambda: "Saved support version 1" in text(browser, "#qa-editor-status"), 10, "saved")
    poll(lambda: "support" in text(browser, "#qa-forms tbody"), 5, "the form listed")
    browser.delete_all_cookies()

    recording = _recorded_call(center)

    # The supervisor draws the week's calls, opens this one, plays it and scores it.
    log_in(browser, center.base_url, "sue", PASSWORD)
    browser.get(f"{center.base_url}/qa")
    row = f"#qa-rec-{recording.id}"
    poll(lambda: browser.find_elements(By.CSS_SELECTOR, row), 10, "the call drawn for review")
    assert "amy" in text(browser, row) and "2125550700" in text(browser, row)
    poll(lambda: browser.find_elements(By.ID, "qa-q-greeting-yes"), 10, "the form drawn")
    browser.find_element(By.CSS_SELECTOR, f"{row} button.qa-open").click()
    started = time.monotonic()
    browser.execute_script("document.getElementById('qa-audio').play()")
    poll(lambda: browser.execute_script(AUDIO_READY, "qa-audio"), 10, "the player reading it")
    player_ready = time.monotonic() - started
    for key, value in ANSWERS.items():
        browser.find_element(By.ID, f"qa-q-{key}-{value}").click()
    browser.find_element(By.ID, "qa-comment").send_keys("Clear and kind. Recap the next steps.")
    poll(
        lambda: browser.find_element(By.ID, "qa-submit").is_enabled(), 5, "every question answered"
    )
    screenshot(browser, "qa-scoring")
    browser.find_element(By.ID, "qa-submit").click()
    poll(lambda: "Score 94.0 %" in text(browser, "#qa-result"), 10, "the evaluation saved")
    poll(lambda: "94.0 %" in text(browser, "#qa-evaluations tbody"), 10, "listed as evaluated")
    (saved,) = center.rows(QaEvaluationRow)
    assert (saved.recording_id, saved.agent, saved.queue, saved.evaluator) == (
        recording.id, "amy", "support", "sue",
    )  # fmt: skip
    assert saved.score == pytest.approx(94.0) and not saved.critical_failed
    browser.get(f"{center.base_url}/reports")
    poll(lambda: "94.0 %" in text(browser, "#qa-report-agents tbody"), 10, "the reports' QA score")
    assert "amy" in text(browser, "#qa-report-agents tbody")
    browser.delete_all_cookies()

    # The agent sees it, plays the call and acknowledges it.
    log_in(browser, center.base_url, "ann", PASSWORD)
    browser.get(f"{center.base_url}/qa/mine")
    mine = f"#qa-eval-{saved.id}"
    poll(lambda: "94.0 %" in text(browser, mine), 10, "the evaluation in My evaluations")
    assert "not yet" in text(browser, mine)
    browser.find_element(By.CSS_SELECTOR, f"{mine} button.qa-view").click()
    poll(lambda: "Recap the next steps" in text(browser, "#qa-detail-comment"), 10, "the detail")
    assert "Empathy and tone" in text(browser, "#qa-detail-sections")
    browser.execute_script("document.getElementById('qa-mine-audio').play()")
    poll(lambda: browser.execute_script(AUDIO_READY, "qa-mine-audio"), 10, "the agent's player")
    browser.find_element(By.ID, "qa-ack-comment").send_keys("Thanks, will do.")
    browser.find_element(By.ID, "qa-ack-button").click()
    poll(lambda: "Acknowledged" in text(browser, "#qa-ack-status"), 10, "acknowledged")
    poll(lambda: "not yet" not in text(browser, mine), 5, "the list updated")
    assert not browser.find_element(By.ID, "qa-ack").is_displayed()
    screenshot(browser, "qa-acknowledged")
    (done,) = center.rows(QaEvaluationRow)
    assert done.acknowledged_at is not None and done.agent_comment == "Thanks, will do."
    played = [
        (e.actor, e.target)
        for e in center.controller.users.audit_entries(1000)
        if e.action == "recording.played"
    ]
    assert ("sue", f"recording:{recording.id}") in played
    assert ("ann", f"recording:{recording.id}") in played
    record_figures("qa-browser", {"supervisor_player_ready_seconds": round(player_ready, 2)})
