"""The role of one controller of an active/standby pair, on a fake clock."""

from __future__ import annotations

import pytest

from callcenter.core.leadership import Check, Leadership, Role, Timing

TIMING = Timing(check_interval=0.5, fence_after=1.5)


def active(at: float = 100.0) -> Leadership:
    role = Leadership(TIMING)
    role.acquired(at - 0.01, at)
    assert role.ready_to_start(at + TIMING.fence_after)
    role.started()
    return role


def test_a_standby_never_acts() -> None:
    role = Leadership(TIMING)
    assert role.role is Role.STANDBY
    assert not role.may_act(0.0)


def test_a_new_leader_waits_out_the_fence_before_acting() -> None:
    role = Leadership(TIMING)
    role.acquired(9.99, 10.0)
    assert not role.may_act(10.0)  # STARTING: an old leader may still act until 11.5
    assert not role.ready_to_start(11.4)
    assert role.ready_to_start(11.5)
    role.checked(11.0, Check.HELD)
    role.started()
    assert role.may_act(11.6)


def test_confirmations_keep_it_acting_and_silence_stops_it_acting() -> None:
    role = active(100.0)
    now = 101.5
    for _ in range(10):  # a check every half second, each confirmed
        role.checked(now, Check.HELD)
        now += 0.5
        assert role.may_act(now)
    last_sent = now - 0.5
    # The checks stop answering (or the loop stalls): it stops acting once the last
    # confirmation is too old, and acts again when a fresh one comes.
    assert role.may_act(last_sent + 1.5)
    assert not role.may_act(last_sent + 1.51)
    assert role.role is Role.ACTIVE  # a check that does not answer is the watchdog's loss
    role.checked(last_sent + 2.0, Check.HELD)
    assert role.may_act(last_sent + 2.1)


def test_a_paused_leader_wakes_up_fenced() -> None:
    role = active(100.0)
    role.checked(102.0, Check.HELD)
    # Paused from 102.1 to 130: the first thing it may do on waking is not act.
    assert not role.may_act(130.0)
    # A check sent after waking that says the lock is still its own lets it act again.
    role.checked(130.0, Check.HELD)
    assert role.may_act(130.2)


def test_a_late_answer_never_moves_the_confirmation_back() -> None:
    role = active(100.0)
    role.checked(105.0, Check.HELD)
    role.checked(104.0, Check.HELD)  # an older check answering late
    assert role.confirmed_at == 105.0


@pytest.mark.parametrize("result", [Check.GONE, Check.FAILED])
def test_a_lost_or_failed_check_is_final(result: Check) -> None:
    role = active(100.0)
    role.checked(102.0, result, "connection closed")
    assert role.role is Role.FENCED
    assert role.lost_reason == "connection closed"
    assert not role.may_act(102.0)
    role.checked(102.5, Check.HELD)  # a later good answer does not bring it back
    assert role.role is Role.FENCED
    assert not role.may_act(102.6)


def test_the_lock_cannot_be_taken_twice_nor_started_unheld() -> None:
    role = active()
    with pytest.raises(ValueError):
        role.acquired(199.0, 200.0)
    with pytest.raises(ValueError):
        Leadership(TIMING).started()


def test_timing_is_checked() -> None:
    with pytest.raises(ValueError):
        Timing(check_interval=2.0, fence_after=1.5)
    with pytest.raises(ValueError):
        Timing(check_interval=0.0, fence_after=1.5)
