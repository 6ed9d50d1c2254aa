"""AmiClient against a fake AMI speaking the recorded Asterisk 22 wire format.

Covers login and resynchronisation hooks, typed event dispatch, actions and
their failures, the ping watchdog on a half-open link, reconnection with
backoff, and that an action is never sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

import pytest

from callcenter.adapters.ami.client import (
    AmiClient,
    AmiError,
    AmiNotConnected,
    AmiResponse,
    AmiTimeout,
)
from callcenter.config import AmiSettings
from callcenter.core import pbx_events as ev
from tests.adapter.fake_ami import FakeAmi

FAST = {
    "ping_interval": 0.2,
    "ping_timeout": 0.2,
    "reconnect_min": 0.05,
    "reconnect_max": 0.2,
    "action_timeout": 0.5,
}
SECRET = "s3cret-from-state-dir"


async def wait_for(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def client(fake: FakeAmi) -> AsyncIterator[AmiClient]:
    ami = AmiClient(AmiSettings(port=fake.port, **FAST), SECRET)  # type: ignore[arg-type]
    try:
        yield ami
    finally:
        await ami.stop()


async def connect(client: AmiClient) -> None:
    await client.start()
    await client.wait_connected(2)


# -- login and resynchronisation -------------------------------------------------------
async def test_login_then_on_connected_hooks_run(fake: FakeAmi, client: AmiClient) -> None:
    snapshots: list[AmiResponse] = []
    connected_in_hook: list[bool] = []

    async def resync() -> None:
        connected_in_hook.append(client.connected)
        snapshots.append(await client.action_list("CoreShowChannels"))

    client.on_connected(resync)
    await connect(client)
    await wait_for(lambda: len(snapshots) == 1)
    assert client.logins == 1
    assert connected_in_hook == [True]
    login = fake.actions("Login")[0].headers
    assert (login["username"], login["secret"], login["events"]) == ("callcenter", SECRET, "on")
    rows = [e for e in snapshots[0].events if isinstance(e, ev.CoreShowChannel)]
    assert [r.channel for r in rows] == ["PJSIP/sipp-00000001", "PJSIP/agent1-00000002"]


async def test_a_failing_hook_does_not_stop_the_next(
    client: AmiClient, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    async def broken() -> None:
        raise RuntimeError("resync failed")

    async def fine() -> None:
        ran.append("fine")

    client.on_connected(broken)
    client.on_connected(fine)
    with caplog.at_level(logging.ERROR, logger="callcenter.adapters.ami.client"):
        await connect(client)
        await wait_for(lambda: ran == ["fine"])
    assert "resynchronisation hook" in caplog.text


async def test_actions_before_start_and_after_stop_are_refused(client: AmiClient) -> None:
    with pytest.raises(AmiNotConnected):
        await client.action("Ping")
    await connect(client)
    await client.stop()
    assert not client.connected
    with pytest.raises(AmiNotConnected):
        await client.action("Ping")


# -- events ------------------------------------------------------------------------------
async def test_events_are_dispatched_typed(
    fake: FakeAmi, client: AmiClient, caplog: pytest.LogCaptureFixture
) -> None:
    hangups: list[ev.Hangup] = []
    user_events: list[ev.UserEvent] = []
    everything: list[ev.AmiEvent] = []
    after_failures: list[str] = []

    def sync_broken(_event: ev.Hangup) -> None:
        raise ValueError("handler bug")

    async def async_broken(_event: ev.Hangup) -> None:
        raise ValueError("async handler bug")

    async def on_user_event(event: ev.UserEvent) -> None:
        await asyncio.sleep(0)
        user_events.append(event)

    client.subscribe(ev.Hangup, sync_broken)
    client.subscribe(ev.Hangup, async_broken)
    client.subscribe(ev.Hangup, hangups.append)
    client.subscribe(ev.Hangup, lambda e: after_failures.append(e.cause_txt))
    client.subscribe(ev.UserEvent, on_user_event)
    client.subscribe_all(everything.append)
    await connect(client)
    with caplog.at_level(logging.ERROR, logger="callcenter.adapters.ami.client"):
        await fake.push("call events")
        await wait_for(lambda: len(hangups) == 1 and len(user_events) == 1)
        await wait_for(lambda: "async handler bug" in caplog.text)
    assert "handler bug" in caplog.text
    (hangup,) = hangups
    assert (hangup.cause, hangup.cause_txt) == (16, "Normal Clearing")
    assert hangup.unique_id == "1732443340.1"
    assert after_failures == ["Normal Clearing"]
    assert user_events[0].user_event == "CcFallback"
    assert user_events[0].get("CallId") == "18f0c2a1b2c3d4"
    assert user_events[0].get("Reason") == "controller-silent"
    # FullyBooted (after login) and the call's events; Newexten is not in the table.
    kinds = [type(e).__name__ for e in everything]
    assert kinds == ["FullyBooted", "Newchannel", "UserEvent", "Hangup"]


# -- actions -------------------------------------------------------------------------------
async def test_action_returns_a_response(fake: FakeAmi, client: AmiClient) -> None:
    await connect(client)
    response = await client.action("Setvar", Variable="CC_HEARTBEAT", Value="1732443301")
    assert response.success
    assert response.message == "Variable Set"
    (sent,) = fake.actions("Setvar")
    assert (sent.headers["variable"], sent.headers["value"]) == ("CC_HEARTBEAT", "1732443301")
    pong = await client.action("Ping")
    assert pong.get("Ping") == "Pong"
    assert (
        pong.get("action-id")
        == pong.get("ActionID")
        == fake.actions("Ping")[-1].headers["actionid"]
    )


async def test_ping_measures_a_round_trip(client: AmiClient) -> None:
    await connect(client)
    rtt = await client.ping()
    assert 0 <= rtt < FAST["ping_timeout"]


async def test_error_response_raises(client: AmiClient) -> None:
    await connect(client)
    with pytest.raises(AmiError, match="No such channel") as caught:
        await client.action("Hangup", Channel="PJSIP/nobody-00000000")
    assert type(caught.value) is AmiError
    with pytest.raises(AmiError, match="Invalid/unknown command"):
        await client.action("NoSuchAction")
    assert client.connected  # an error answer is not a broken link


async def test_action_list_returns_typed_events(client: AmiClient) -> None:
    await connect(client)
    response = await client.action_list("CoreShowChannels")
    assert response.success
    assert response.get("EventList") == "start"
    rows = [e for e in response.events if isinstance(e, ev.CoreShowChannel)]
    assert len(rows) == 2
    assert rows[0].bridge_id == rows[1].bridge_id == "9f1d7c22-1b3e-4d1a-9b6e-6a1f5a1b2c3d"
    assert rows[1].application == "AppDial"
    assert rows[0].priority == 5
    complete = response.events[-1]
    assert isinstance(complete, dict)  # not in the event table: kept as normalised headers
    assert complete["event"] == "CoreShowChannelsComplete"
    assert complete["listitems"] == "2"


async def test_command_output(client: AmiClient) -> None:
    await connect(client)
    output = await client.command("core show uptime")
    assert output == "System uptime: 12 seconds\nLast reload: 12 seconds"


async def test_unanswered_action_times_out_and_the_link_stays(
    fake: FakeAmi, client: AmiClient
) -> None:
    fake.silent.add("queuestatus")
    await connect(client)
    started = time.monotonic()
    with pytest.raises(AmiTimeout):
        await client.action("QueueStatus", timeout=0.2)
    assert 0.15 < time.monotonic() - started < 0.5
    with pytest.raises(AmiTimeout):
        await client.action("QueueStatus")  # the settings' action_timeout (0.5 s)
    assert (await client.action("Ping")).success
    assert client.connected and fake.connections == 1


# -- broken links -------------------------------------------------------------------------
async def test_half_open_link_is_dropped_by_the_watchdog(fake: FakeAmi, client: AmiClient) -> None:
    fake.answers_ping = lambda connection: connection != 1  # the first link goes deaf
    resyncs: list[int] = []

    async def hook() -> None:
        resyncs.append(client.logins)

    client.on_connected(hook)
    await connect(client)
    await wait_for(lambda: client.logins == 2, timeout=3)
    await wait_for(lambda: resyncs == [1, 2])
    assert fake.connections == 2
    assert len(fake.actions("Login")) == 2
    assert any(r.connection == 1 for r in fake.actions("Ping"))
    # The new link answers pings, so the watchdog leaves it alone.
    await wait_for(lambda: client.last_ping_rtt is not None)
    await wait_for(lambda: len([r for r in fake.actions("Ping") if r.connection == 2]) >= 2)
    assert fake.connections == 2


async def test_server_closing_the_socket_leads_to_a_new_login(
    fake: FakeAmi, client: AmiClient
) -> None:
    resyncs: list[int] = []

    async def hook() -> None:
        resyncs.append(client.logins)

    client.on_connected(hook)
    await connect(client)
    fake.close_connection()
    closed_at = time.monotonic()
    await wait_for(lambda: not client.connected, timeout=1)
    await wait_for(lambda: client.logins == 2, timeout=2)
    assert fake.connected_at[1] - closed_at >= FAST["reconnect_min"] * 0.8  # waited first
    await wait_for(lambda: resyncs == [1, 2])
    assert (await client.action("Ping")).success


async def test_reconnect_attempts_back_off(fake: FakeAmi, client: AmiClient) -> None:
    fake.accept_and_close = True  # Asterisk restarting: it accepts then drops at once
    await client.start()
    await wait_for(lambda: fake.connections >= 5, timeout=3)
    gaps = [b - a for a, b in zip(fake.connected_at, fake.connected_at[1:], strict=False)]
    assert all(gap >= FAST["reconnect_min"] * 0.8 for gap in gaps), gaps
    assert max(gaps) >= FAST["reconnect_max"] * 0.8, gaps  # it grew to the cap...
    assert max(gaps) < FAST["reconnect_max"] * 2, gaps  # ...and stayed there
    fake.accept_and_close = False
    await client.wait_connected(2)  # and comes back when Asterisk does
    assert client.logins == 1


async def test_reconnects_when_asterisk_comes_back_on_the_same_port(
    fake: FakeAmi, client: AmiClient
) -> None:
    await connect(client)
    await fake.stop_listening()
    fake.close_connection()
    await wait_for(lambda: not client.connected, timeout=1)
    await asyncio.sleep(0.3)  # a few refused attempts while nothing listens
    await fake.start(fake.port)
    await wait_for(lambda: client.logins == 2, timeout=2)


async def test_shutdown_event_then_restart(fake: FakeAmi, client: AmiClient) -> None:
    shutdowns: list[ev.Shutdown] = []
    client.subscribe(ev.Shutdown, shutdowns.append)
    await connect(client)
    await fake.push("shutdown")
    fake.close_connection()
    await wait_for(lambda: client.logins == 2, timeout=2)
    assert [(s.shutdown, s.restart) for s in shutdowns] == [("Cleanly", "True")]


async def test_pending_action_is_not_sent_again_after_reconnect(
    fake: FakeAmi, client: AmiClient
) -> None:
    fake.silent.add("originate")
    await connect(client)
    pending = asyncio.create_task(
        client.action("Originate", Channel="PJSIP/agent1", Context="cc-connect", Async="true")
    )
    await wait_for(lambda: len(fake.actions("Originate")) == 1)
    fake.close_connection()
    with pytest.raises((AmiNotConnected, AmiTimeout)):
        await asyncio.wait_for(pending, 2)
    await wait_for(lambda: client.logins == 2, timeout=2)
    await fake.push("call events")  # FullyBooted came and went; give a resend every chance
    await asyncio.sleep(FAST["ping_interval"])
    assert len(fake.actions("Originate")) == 1
    assert [r.connection for r in fake.actions("Login")] == [1, 2]


async def test_pending_action_fails_fast_when_the_link_drops(
    fake: FakeAmi, client: AmiClient
) -> None:
    fake.silent.add("originate")
    await connect(client)
    pending = asyncio.create_task(client.action("Originate", Channel="PJSIP/agent1"))
    await wait_for(lambda: len(fake.actions("Originate")) == 1)
    fake.close_connection()
    with pytest.raises(AmiNotConnected):
        await pending


async def test_refused_login_is_retried_not_a_hang(
    fake: FakeAmi, client: AmiClient, caplog: pytest.LogCaptureFixture
) -> None:
    fake.refuse_logins = 2
    hooks: list[int] = []

    async def hook() -> None:
        hooks.append(client.logins)

    client.on_connected(hook)
    with caplog.at_level(logging.ERROR, logger="callcenter.adapters.ami.client"):
        await client.start()
        await client.wait_connected(2)
    assert client.logins == 1
    assert fake.connections == 3
    assert len(fake.actions("Login")) == 3
    assert caplog.text.count("AMI login refused") == 2
    await wait_for(lambda: hooks == [1])


async def test_login_refused_forever_keeps_trying_until_stopped(
    fake: FakeAmi, client: AmiClient
) -> None:
    fake.refuse_logins = 10**6
    await client.start()
    await wait_for(lambda: fake.connections >= 3, timeout=2)
    assert not client.connected
    with pytest.raises(TimeoutError):
        await client.wait_connected(0.1)
    await client.stop()


async def test_stop_during_backoff_stays_stopped(fake: FakeAmi, client: AmiClient) -> None:
    await connect(client)
    fake.close_connection()
    await wait_for(lambda: not client.connected, timeout=1)
    await client.stop()  # while the reconnect is scheduled
    await asyncio.sleep(FAST["reconnect_max"] * 2)
    assert fake.connections == 1
    assert not client.connected


async def test_stop_ends_the_watchdog_even_if_a_ping_swallows_the_cancel(
    client: AmiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python 3.11's asyncio.wait_for returns the answer instead of raising when the
    cancellation lands as the answer arrives; stop() must still end the watchdog."""
    pinging = asyncio.Event()

    async def ping_that_swallows_cancel(timeout: float | None = None) -> float:
        pinging.set()
        with contextlib.suppress(asyncio.CancelledError):  # as wait_for does, there
            await asyncio.sleep(10)
        return 0.001

    await connect(client)
    monkeypatch.setattr(client, "ping", ping_that_swallows_cancel)
    await asyncio.wait_for(pinging.wait(), 5)
    await asyncio.wait_for(client.stop(), 2)


async def test_async_originate_returns_on_queued(fake: FakeAmi, client: AmiClient) -> None:
    await connect(client)
    response = await client.action("Originate", Channel="PJSIP/agent1", Async="true")
    assert response.message == "Originate successfully queued"


async def test_queue_add_returns_on_its_single_response(client: AmiClient) -> None:
    await connect(client)
    response = await client.action("QueueAdd", Queue="cc-fallback", Interface="PJSIP/agent1")
    assert response.message == "Added interface to queue"


async def test_a_malformed_event_does_not_cost_the_link(fake: FakeAmi, client: AmiClient) -> None:
    results: list[str] = []
    client.subscribe(ev.UserEvent, lambda e: results.append(e.get("Result")))
    await connect(client)
    writer = fake.writers[1]
    writer.write(fake.render("malformed event") + fake.render("user event"))
    await writer.drain()
    await wait_for(lambda: results == ["pass"] or client.logins > 1, timeout=2)
    assert results == ["pass"]
    assert fake.connections == 1
