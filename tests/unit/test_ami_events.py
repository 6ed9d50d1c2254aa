"""parse_event: realistic AMI header blocks become typed, frozen events."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.adapters.ami.parse import parse_event
from callcenter.core import pbx_events as ev
from callcenter.core.pbx_events import EVENTS

# Header blocks as Asterisk 22 sends them (panoramisk hands them over as a mapping).
HANGUP = {
    "Event": "Hangup",
    "Privilege": "call,all",
    "Timestamp": "1732443345.123456",
    "Channel": "PJSIP/sipp-00000001",
    "ChannelState": "6",
    "ChannelStateDesc": "Up",
    "CallerIDNum": "5551234",
    "CallerIDName": "SIPp",
    "ConnectedLineNum": "<unknown>",
    "ConnectedLineName": "<unknown>",
    "Language": "en",
    "AccountCode": "",
    "Context": "cc-route",
    "Exten": "HANGUP",
    "Priority": "1",
    "Uniqueid": "1732443340.1",
    "Linkedid": "1732443340.1",
    "Cause": "16",
    "Cause-txt": "Normal Clearing",
}

DIAL_END = {
    "Event": "DialEnd",
    "Privilege": "call,all",
    "Channel": "PJSIP/sipp-00000001",
    "ChannelState": "6",
    "ChannelStateDesc": "Up",
    "CallerIDNum": "5551234",
    "Context": "cc-route",
    "Exten": "CONNECT",
    "Priority": "5",
    "Uniqueid": "1732443340.1",
    "Linkedid": "1732443340.1",
    "DestChannel": "PJSIP/agent1-00000002",
    "DestChannelState": "6",
    "DestChannelStateDesc": "Up",
    "DestCallerIDNum": "1001",
    "DestContext": "cc-agents",
    "DestUniqueid": "1732443341.2",
    "DestLinkedid": "1732443340.1",
    "DialStatus": "ANSWER",
}

CORE_SHOW_CHANNEL = {
    "Event": "CoreShowChannel",
    "ActionID": "action/abc/1/7",
    "Channel": "PJSIP/agent1-00000002",
    "ChannelState": "6",
    "ChannelStateDesc": "Up",
    "CallerIDNum": "1001",
    "CallerIDName": "Agent One",
    "Context": "cc-agents",
    "Exten": "",
    "Priority": "1",
    "Uniqueid": "1732443341.2",
    "Linkedid": "1732443340.1",
    "Application": "AppDial",
    "ApplicationData": "(Outgoing Line)",
    "Duration": "00:00:12",
    "BridgeId": "9f1d7c22-1b3e-4d1a-9b6e-6a1f5a1b2c3d",
}

CONTACT_STATUS = {
    "Event": "ContactStatus",
    "Privilege": "system,all",
    "URI": "sip:agent1@127.0.0.4:5080;transport=udp",
    "ContactStatus": "Reachable",
    "AOR": "agent1",
    "EndpointName": "agent1",
    "RoundtripUsec": "1234",
}

USER_EVENT = {
    "Event": "UserEvent",
    "Privilege": "user,all",
    "Channel": "PJSIP/sipp-00000001",
    "Uniqueid": "1732443340.1",
    "UserEvent": "TestResult",
    "Result": "pass",
    "Call-Id": "18f0c2a1b2c3d4",
    "queue_name": "support",
}


def test_hangup() -> None:
    event = parse_event(HANGUP)
    assert isinstance(event, ev.Hangup)
    assert event.cause == 16
    assert event.cause_txt == "Normal Clearing"
    assert event.channel == "PJSIP/sipp-00000001"
    assert event.channel_state == 6
    assert event.channel_state_desc == "Up"
    assert (event.caller_id_num, event.caller_id_name) == ("5551234", "SIPp")
    assert event.connected_line_num == "<unknown>"
    assert (event.context, event.exten, event.priority) == ("cc-route", "HANGUP", 1)
    assert (event.unique_id, event.linked_id) == ("1732443340.1", "1732443340.1")
    assert event.get("Language") == "en"
    assert event.get("cause-txt") == event.get("CAUSE_TXT") == "Normal Clearing"


def test_dial_end() -> None:
    event = parse_event(DIAL_END)
    assert isinstance(event, ev.DialEnd)
    assert event.dest_channel == "PJSIP/agent1-00000002"
    assert event.dest_unique_id == "1732443341.2"
    assert event.dial_status == "ANSWER"
    assert event.unique_id == "1732443340.1"
    assert event.get("DestContext") == "cc-agents"


def test_core_show_channel_carries_its_bridge() -> None:
    event = parse_event(CORE_SHOW_CHANNEL)
    assert isinstance(event, ev.CoreShowChannel)
    assert event.bridge_id == "9f1d7c22-1b3e-4d1a-9b6e-6a1f5a1b2c3d"
    assert event.application == "AppDial"
    assert event.application_data == "(Outgoing Line)"
    assert event.duration == "00:00:12"
    assert event.get("ActionID") == "action/abc/1/7"


def test_contact_status() -> None:
    event = parse_event(CONTACT_STATUS)
    assert isinstance(event, ev.ContactStatus)
    assert event.uri == "sip:agent1@127.0.0.4:5080;transport=udp"
    assert event.contact_status == "Reachable"
    assert event.aor == "agent1"
    assert event.endpoint_name == "agent1"


def test_contact_list_row() -> None:
    event = parse_event(
        {
            "Event": "ContactList",
            "ActionID": "x",
            "ObjectType": "contact",
            "ObjectName": "agent1;@5e2b",
            "Uri": "sip:agent1@127.0.0.4:5080",
            "Aor": "agent1",
            "Endpoint": "agent1",
            "Status": "Reachable",
        }
    )
    assert isinstance(event, ev.ContactList)
    assert (event.aor, event.endpoint, event.status) == ("agent1", "agent1", "Reachable")
    assert event.uri == "sip:agent1@127.0.0.4:5080"


def test_user_event_custom_headers_through_get() -> None:
    event = parse_event(USER_EVENT)
    assert isinstance(event, ev.UserEvent)
    assert event.user_event == "TestResult"
    assert event.get("Result") == "pass"
    assert event.get("result") == "pass"
    assert event.get("call_id") == event.get("Call-Id") == "18f0c2a1b2c3d4"
    assert event.get("Queue-Name") == "support"
    assert event.get("Missing") == ""
    assert event.get("Missing", "dflt") == "dflt"


@pytest.mark.parametrize(
    ("headers", "kind", "fields"),
    [
        (
            {"Event": "FullyBooted", "Status": "Fully Booted", "Uptime": "12"},
            ev.FullyBooted,
            {"status": "Fully Booted", "uptime": 12},
        ),
        (
            {"Event": "Shutdown", "Shutdown": "Cleanly", "Restart": "True"},
            ev.Shutdown,
            {"shutdown": "Cleanly", "restart": "True"},
        ),
        (
            {
                "Event": "Newchannel",
                "Channel": "PJSIP/sipp-00000001",
                "ChannelState": "0",
                "ChannelStateDesc": "Down",
                "Uniqueid": "1.1",
            },
            ev.Newchannel,
            {"channel_state": 0, "channel_state_desc": "Down", "unique_id": "1.1"},
        ),
        (
            {
                "Event": "BridgeEnter",
                "Uniqueid": "1.2",
                "BridgeUniqueid": "b-1",
                "BridgeNumChannels": "2",
            },
            ev.BridgeEnter,
            {"bridge_unique_id": "b-1", "bridge_num_channels": 2},
        ),
        (
            {"Event": "DTMFEnd", "Digit": "#", "DurationMs": "120", "Direction": "Received"},
            ev.DTMFEnd,
            {"digit": "#", "duration_ms": 120, "direction": "Received"},
        ),
        (
            {
                "Event": "OriginateResponse",
                "ActionID": "o-1",
                "Response": "Failure",
                "Channel": "PJSIP/agent1",
                "Reason": "5",
                "Uniqueid": "<null>",
            },
            ev.OriginateResponse,
            {"action_id": "o-1", "response": "Failure", "reason": 5},
        ),
        (
            {"Event": "DeviceStateChange", "Device": "PJSIP/agent1", "State": "INUSE"},
            ev.DeviceStateChange,
            {"device": "PJSIP/agent1", "state": "INUSE"},
        ),
        (
            {"Event": "MixMonitorMute", "Direction": "both", "State": "1"},
            ev.MixMonitorMute,
            {"direction": "both", "state": "1"},
        ),
    ],
)
def test_other_events(headers: dict[str, str], kind: type, fields: dict[str, object]) -> None:
    event = parse_event(headers)
    assert type(event) is kind
    for name, value in fields.items():
        assert getattr(event, name) == value


@pytest.mark.parametrize(
    "headers",
    [
        {"Event": "Newexten", "Channel": "PJSIP/x-1"},
        {"Event": "RTCPSent"},
        {"Event": "hangup"},  # names are exact, as Asterisk sends them
        {"Response": "Success", "Message": "Authentication accepted"},
        {},
        {"Event": ""},
    ],
)
def test_unknown_events_are_none(headers: dict[str, str]) -> None:
    assert parse_event(headers) is None


def test_missing_fields_take_defaults() -> None:
    event = parse_event({"Event": "Hangup"})
    assert isinstance(event, ev.Hangup)
    assert (event.cause, event.priority, event.channel_state) == (0, 0, 0)
    assert event.channel == event.cause_txt == ""


@pytest.mark.parametrize("text", ["", "abc", "1.5", "-", " ", "0x10", "16 (normal)"])
def test_malformed_int_fields_become_zero(text: str) -> None:
    event = parse_event({"Event": "Hangup", "Cause": text, "Priority": text})
    assert isinstance(event, ev.Hangup)
    assert event.cause == 0
    assert event.priority == 0


@pytest.mark.parametrize(("text", "value"), [("-1", -1), (" 17 ", 17), ("007", 7)])
def test_int_fields_accept_signs_and_spaces(text: str, value: int) -> None:
    event = parse_event({"Event": "Hangup", "Cause": text})
    assert event is not None
    assert event.cause == value  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", ["--5", "²", "-²", "---0"])
def test_int_fields_that_look_numeric_but_are_not(text: str) -> None:
    event = parse_event({"Event": "Hangup", "Cause": text})
    assert event is not None
    assert event.cause == 0  # type: ignore[attr-defined]


def test_repeated_headers_take_the_last_value() -> None:
    event = parse_event(
        {
            "Event": "UserEvent",
            "UserEvent": "Report",
            "Uniqueid": ["1.1", "1.2"],
            "Priority": ["1", "3"],
            "Item": ["first", "second", "third"],
        }
    )
    assert isinstance(event, ev.UserEvent)
    assert event.unique_id == "1.2"
    assert event.priority == 3
    assert event.get("Item") == "third"
    assert event.raw["item"] == ["first", "second", "third"]  # still there for who needs all


def test_events_are_frozen_and_compare_without_raw() -> None:
    one = parse_event({**HANGUP, "Timestamp": "1"})
    two = parse_event({**HANGUP, "Timestamp": "2"})
    assert one == two
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.cause = 1  # type: ignore[misc, union-attr]


def test_header_lookup_ignores_case_dashes_and_underscores() -> None:
    event = parse_event({"event": "Hangup", "CAUSE-TXT": "Busy", "uniqueID": "9.9"})
    assert isinstance(event, ev.Hangup)
    assert (event.cause_txt, event.unique_id) == ("Busy", "9.9")


def test_event_table_names_are_unique_and_match_classes() -> None:
    for name, kind in EVENTS.items():
        assert kind.event == name
    assert len({kind for kind in EVENTS.values()}) == len(EVENTS)


HEADER_VALUES = st.one_of(st.text(max_size=30), st.lists(st.text(max_size=10), min_size=1))


@settings(derandomize=True, max_examples=300)
@given(
    name=st.sampled_from(sorted(EVENTS)),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "Channel",
                "Cause",
                "Priority",
                "ChannelState",
                "Uniqueid",
                "BridgeNumChannels",
                "DurationMs",
                "Uptime",
                "Reason",
                "Status",
                "Foo-Bar",
                "x_y",
            ]
        ),
        st.one_of(
            st.from_regex(r"\A-?[0-9]{1,6}\Z", fullmatch=True),
            st.text(alphabet="abc XYZ.:_", max_size=12),
            st.lists(st.from_regex(r"\A[0-9]{1,3}\Z", fullmatch=True), min_size=1, max_size=3),
        ),
    ),
)
def test_any_known_event_parses_to_its_class(name: str, headers: dict[str, object]) -> None:
    event = parse_event({"Event": name, **headers})  # type: ignore[dict-item]
    assert type(event) is EVENTS[name]
    for item in dataclasses.fields(event):  # type: ignore[arg-type]
        if item.type in ("int", int):
            assert isinstance(getattr(event, item.name), int)


def test_manager_conf_filters_out_no_event_of_the_table() -> None:
    """asterisk/manager.conf drops events the controller does not read; never one it does.

    Asterisk's legacy filters are regular expressions searched in the event's text."""
    conf = Path(__file__).parents[2] / "asterisk" / "manager.conf"
    excluded = [
        line.split("=", 1)[1].strip()[1:]
        for line in conf.read_text().splitlines()
        if line.replace(" ", "").startswith("eventfilter=!")
    ]
    assert "Event: QueueMemberStatus"[: len("Event: Queue")] in excluded
    for name in EVENTS:
        payload = f"Event: {name}\r\nPrivilege: call,all\r\n"
        assert not [f for f in excluded if re.search(f, payload)], name
