"""A dial attempt's outcome as the dialer judges it: the 2 s run from the end of the greeting."""

from __future__ import annotations

import pytest

from callcenter.core.outbound.records import LeadRecord
from callcenter.core.outbound.retry import LeadState
from callcenter.core.outbound.settings import load_settings
from callcenter.services.outbound.dialer_model import Attempt, Campaign


def attempt(**seen: object) -> Attempt:
    campaign = Campaign(1, "spring", load_settings({}))
    lead = LeadRecord(1, 1, "+12125550100", "", "", "", "", {}, LeadState())
    made = Attempt("c1", campaign, lead, "+12125550100", 1, 0.0, LeadState(status="dialing"))
    for name, value in seen.items():
        setattr(made, name, value)
    return made


@pytest.mark.parametrize(
    ("seen", "outcome"),
    [
        ({"cause": 17}, "busy"),
        ({"cause": 19, "originate_reason": 3}, "no-answer"),
        ({"originate_reason": 5}, "busy"),
        ({}, "failed"),  # Asterisk never said
        # AMD listened for 3 s; the agent came 1.5 s after the greeting: in time.
        (
            {"answered_at": 10.0, "greeted_at": 13.0, "amd": "HUMAN", "connected_at": 14.5},
            "connected",
        ),
        (
            {"answered_at": 10.0, "greeted_at": 13.0, "amd": "HUMAN", "connected_at": 15.5},
            "abandoned",
        ),
        ({"answered_at": 10.0, "greeted_at": 13.0, "amd": "NOTSURE"}, "abandoned"),
        ({"answered_at": 10.0, "greeted_at": 14.0, "amd": "MACHINE"}, "machine"),
        ({"answered_at": 10.0, "amd": "HANGUP"}, "no-answer"),  # gone while AMD listened
    ],
)
def test_outcomes(seen: dict[str, object], outcome: str) -> None:
    assert attempt(**seen).outcome() == outcome
