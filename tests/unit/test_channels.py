"""ChannelTable: the controller's picture of channels and registered phones."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.core.channels import Channel, ChannelTable, endpoint_of


def chan(uid: str, name: str, state: str = "Up", bridge: str = "") -> Channel:
    return Channel(unique_id=uid, name=name, state=state, bridge_id=bridge)


@pytest.mark.parametrize(
    ("name", "endpoint"),
    [
        ("PJSIP/agent1-0000002a", "agent1"),
        ("PJSIP/agent-1-00000001", "agent-1"),
        ("PJSIP/sipp-00000001", "sipp"),
        ("PJSIP/a_b-ffffffff", "a_b"),
        ("Local/100@cc-agents-00000001;1", None),
        ("SIP/agent1-0000002a", None),
        ("PJSIP/agent1", None),
        ("PJSIP/agent1-0000002a<ZOMBIE>", None),
        ("PJSIP/agent1-XYZ", None),
        ("", None),
    ],
)
def test_endpoint_of(name: str, endpoint: str | None) -> None:
    assert endpoint_of(name) == endpoint
    assert chan("1", name).endpoint == endpoint


def test_upsert_get_and_remove() -> None:
    table = ChannelTable()
    table.upsert(chan("1.1", "PJSIP/agent1-00000001", "Ring"))
    table.upsert(chan("1.1", "PJSIP/agent1-00000001", "Up"))
    assert table.get("1.1") == chan("1.1", "PJSIP/agent1-00000001", "Up")
    assert len(table.channels()) == 1
    assert table.remove("1.1") == chan("1.1", "PJSIP/agent1-00000001", "Up")
    assert table.get("1.1") is None
    assert table.remove("1.1") is None


def test_upsert_keeps_known_bridge_unless_a_new_one_is_given() -> None:
    table = ChannelTable()
    table.upsert(chan("1.1", "PJSIP/agent1-00000001"))
    table.set_bridge("1.1", "bridge-a")
    table.upsert(chan("1.1", "PJSIP/agent1-00000001", "Up"))  # Newstate has no bridge
    assert table.get("1.1").bridge_id == "bridge-a"  # type: ignore[union-attr]
    table.upsert(chan("1.1", "PJSIP/agent1-00000001", "Up", bridge="bridge-b"))
    assert table.get("1.1").bridge_id == "bridge-b"  # type: ignore[union-attr]


def test_set_bridge_on_unknown_channel_does_nothing() -> None:
    table = ChannelTable()
    table.set_bridge("nope", "bridge-a")
    assert table.channels() == []


def test_bridge_leave_clears_bridge() -> None:
    table = ChannelTable()
    table.upsert(chan("1.1", "PJSIP/agent1-00000001", bridge="b"))
    table.set_bridge("1.1", "")
    assert table.get("1.1").bridge_id == ""  # type: ignore[union-attr]


def test_replace_channels_is_wholesale() -> None:
    table = ChannelTable()
    table.upsert(chan("old", "PJSIP/agent1-00000001"))
    table.replace_channels([chan("a", "PJSIP/agent2-00000002"), chan("b", "PJSIP/sipp-3")])
    assert {c.unique_id for c in table.channels()} == {"a", "b"}
    assert table.get("old") is None
    table.replace_channels([])
    assert table.channels() == []


def test_on_endpoint_finds_every_channel_of_a_phone() -> None:
    table = ChannelTable()
    table.upsert(chan("1", "PJSIP/agent1-00000001"))
    table.upsert(chan("2", "PJSIP/agent1-00000002"))
    table.upsert(chan("3", "PJSIP/agent10-00000003"))
    assert {c.unique_id for c in table.on_endpoint("agent1")} == {"1", "2"}
    assert [c.unique_id for c in table.on_endpoint("agent10")] == ["3"]
    assert table.on_endpoint("agent2") == []


@pytest.mark.parametrize("status", ["Reachable", "Created", "NonQualified", "Unknown", "Updated"])
def test_contact_statuses_that_mean_registered(status: str) -> None:
    table = ChannelTable()
    table.set_contact("agent1", status)
    assert table.registered("agent1")
    assert table.registered_endpoints() == {"agent1"}


@pytest.mark.parametrize("status", ["Removed", "Unreachable", "NonQualified-Removed"])
def test_contact_statuses_that_mean_gone(status: str) -> None:
    table = ChannelTable()
    table.set_contact("agent1", "Reachable")
    table.set_contact("agent1", status)
    assert not table.registered("agent1")
    assert not table.idle("agent1")
    assert table.registered_endpoints() == set()


def test_unreachable_then_reachable_again() -> None:
    table = ChannelTable()
    table.set_contact("agent1", "Unreachable")
    assert not table.registered("agent1")
    table.set_contact("agent1", "Reachable")
    assert table.registered("agent1")


def test_an_old_contact_going_away_leaves_the_phone_registered_by_its_new_one() -> None:
    old, new = "sip:agent1-0xaaa@127.0.0.10:5080", "sip:agent1-0xbbb@127.0.0.10:5080"
    table = ChannelTable()
    table.set_contact("agent1", "Reachable", old)
    table.set_contact("agent1", "Created", new)  # the softphone restarted: a new contact URI
    table.set_contact("agent1", "Unreachable", old)  # the old one fails its qualify...
    table.set_contact("agent1", "Removed", old)  # ... and is removed
    assert table.registered("agent1")
    table.set_contact("agent1", "Removed", new)
    assert not table.registered("agent1")


def test_removing_an_unknown_contact_is_harmless() -> None:
    table = ChannelTable()
    table.set_contact("ghost", "Removed")
    assert table.registered_endpoints() == set()


def test_idle_means_registered_and_no_channel() -> None:
    table = ChannelTable()
    assert not table.idle("agent1")  # not registered
    table.set_contact("agent1", "Reachable")
    assert table.idle("agent1")
    table.upsert(chan("1.1", "PJSIP/agent1-00000001", "Ringing"))
    assert not table.idle("agent1")
    table.upsert(chan("1.2", "PJSIP/agent10-00000002"))
    table.remove("1.1")
    assert table.idle("agent1")  # agent10's call is not agent1's


def test_replace_contacts_is_wholesale() -> None:
    table = ChannelTable()
    table.set_contact("agent1", "Reachable")
    table.replace_contacts({"agent2": "Reachable", "agent3": "NonQualified"})
    assert table.registered_endpoints() == {"agent2", "agent3"}


def test_replace_contacts_copies_its_input() -> None:
    table = ChannelTable()
    snapshot = {"agent1": "Reachable"}
    table.replace_contacts(snapshot)
    snapshot.clear()
    assert table.registered("agent1")


def test_snapshot_and_events_agree_on_unreachable_phones() -> None:
    by_event, by_snapshot = ChannelTable(), ChannelTable()
    by_event.set_contact("agent1", "Unreachable")
    by_snapshot.replace_contacts({"agent1": "Unreachable"})
    assert by_snapshot.registered("agent1") == by_event.registered("agent1")


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("upsert"), st.sampled_from("abcd"), st.sampled_from(["x", "y"])),
        st.tuples(st.just("remove"), st.sampled_from("abcd"), st.just("")),
        st.tuples(st.just("bridge"), st.sampled_from("abcd"), st.sampled_from(["", "B1"])),
    ),
    max_size=30,
)


@settings(derandomize=True, max_examples=200)
@given(OPS)
def test_table_matches_a_plain_dict_model(ops: list[tuple[str, str, str]]) -> None:
    table = ChannelTable()
    model: dict[str, tuple[str, str]] = {}  # uid -> (endpoint, bridge)
    for op, uid, arg in ops:
        if op == "upsert":
            table.upsert(chan(uid, f"PJSIP/{arg}-0000000{ord(uid) % 10}"))
            model[uid] = (arg, model.get(uid, ("", ""))[1])
        elif op == "remove":
            assert (table.remove(uid) is None) == (uid not in model)
            model.pop(uid, None)
        elif uid in model:
            table.set_bridge(uid, arg)
            model[uid] = (model[uid][0], arg)
        else:
            table.set_bridge(uid, arg)
    assert {c.unique_id: (c.endpoint, c.bridge_id) for c in table.channels()} == model


_NAMES = st.sampled_from(
    ["PJSIP/a-00000001", "PJSIP/a-00000002", "PJSIP/b-00000003", "Local/1@x-00000001;1", "PJSIP/b"]
)
_OPS = st.lists(
    st.tuples(st.sampled_from(["upsert", "remove", "bridge", "replace"]), st.sampled_from("123"),
              _NAMES),
    max_size=30,
)  # fmt: skip


@given(_OPS)
@settings(max_examples=200, deadline=None)
def test_channels_by_endpoint_agree_with_a_scan_of_every_channel(
    ops: list[tuple[str, str, str]],
) -> None:
    table = ChannelTable()
    for op, uid, name in ops:
        if op == "upsert":  # a channel may be renamed (masquerade)
            table.upsert(chan(uid, name))
        elif op == "remove":
            table.remove(uid)
        elif op == "bridge":
            table.set_bridge(uid, "b1")
        else:
            table.replace_channels([chan(uid, name), chan("9", "PJSIP/a-00000009")])
        for endpoint in ("a", "b", "x"):
            scan = {c.unique_id: c for c in table.channels() if c.endpoint == endpoint}
            found = table.on_endpoint(endpoint)
            assert {c.unique_id: c for c in found} == scan
            assert len(found) == len(scan)
