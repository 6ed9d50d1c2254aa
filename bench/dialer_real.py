"""Dialer, real run: progressive then predictive over the same leads, through a
private Asterisk, SIPp customers (callcenter/simulate/customers.py) and SIPp agents.

    python bench/dialer_real.py                          # from the repository root
    python bench/dialer_real.py --agents 6 --leads 60 --talk 8
    python bench/dialer_real.py --nailed                 # always-connected agents

The half of the dialer benchmark that runs for real (bench/dialer_simulation.py
is the pure half). Everything lives in a temporary directory on ports of its
own (AMI 18038, FastAGI 18573, SIP 18060, RTP 26000-26999, agents on
127.0.0.81, customers on 127.0.0.82) and is stopped by PID at the end.

The answer-rate model is the customers' own, by the number's last digit:
0-3 a person answers after 1-3 s, 4-5 an answering machine (AMD; the campaign
hangs up), 6 busy, 7 rings out (15 s), 8-9 a person after 5 s. The lead list
mixes them so that ``--live-share`` of the leads are people (the rest: 40 %
machines, 15 % busy, 45 % no answer); both modes get the same list. Agents
answer at once (static contacts, one SIPp UAS) and end each call after
``--talk`` seconds. Retries are an hour away, so each lead is dialled once.

Predictive pacing trusts its connect rate only after 30 dials, reads a ringing
call's age against recent dials still unanswered at that age, and a busy agent's
time on call against recent handle times. Both campaigns start with the same
recorded past, as a campaign that has been running has: its last 100 dials an
hour ago (``--past outcomes``, the default), of the same mix as the leads, each
with its audit row and call record as the dialer writes them (a person answered
1-3 s or 5 s in and talked ``--talk`` s, a machine answered 1 s in, a busy line,
no answer rung out after 15 s). ``--past rates`` is the older seeding: 40 audit
rows only, the live share answered 8 s in, so that ringing calls' ages cannot be
read until the run has 30 dials of its own (a cold campaign).
``--no-past-handles`` leaves the answered calls' records out (pacing then
assumes 120 s handles until the run's first calls end).

With ``--nailed`` the agents work always-connected ([sip] nailed): each agent's
phone (the same SIPp UAS) is called once when they become ready and keeps the line;
every connected customer is bridged to it without a ring, and the agent ends each
call from the desktop (CallControl.end) ``--talk`` seconds after it began.

Occupancy = agents' talk time / (agents x the run's length, first dial to the
last call's end). Abandon rate = abandoned / answered by a person.
Prints human-readable lines, then one JSON object as the last line.
"""

from __future__ import annotations

import _checkout  # noqa: F401  first: this checkout's code (bench/_checkout.py)

# isort: split
import argparse
import contextlib
import json
import logging
import platform
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from callcenter.adapters.db.migrate import upgrade
from callcenter.adapters.db.models import CallRow, CampaignRow, DialAttemptRow, LeadRow
from callcenter.adapters.db.site_config import apply_site
from callcenter.adapters.pbx.asterisk import AsteriskProcess
from callcenter.adapters.pbx.provider import choose_provider
from callcenter.config import Settings
from callcenter.core.acd.model import AgentState
from callcenter.core.outbound.settings import load_settings
from callcenter.services.site import parse_site
from callcenter.simulate.agent_uas import SippAgents, agent_scenario
from callcenter.simulate.customers import Customers
from callcenter.simulate.loop_thread import ControllerThread
from callcenter.simulate.procs import Lab, wait_for

AGENT_HOST, AGENT_PORT = "127.0.0.81", 18090
CUSTOMER_HOST, CUSTOMER_PORT = "127.0.0.82", 18099
ALL_DAY = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
PAST_DIALS = 40  # --past rates
PAST_OUTCOMES = 100  # --past outcomes


def lab_settings(root: Path, nailed: bool = False) -> Settings:
    sip: dict[str, Any] = {"bind": "127.0.0.1", "port": 18060, "rtp_start": 26000}
    sip.update(rtp_end=26999, nailed=nailed)
    return Settings(
        state_dir=root / "state",
        site_dir=root / "site",
        ami={"port": 18038},
        agi={"port": 18573},
        sip=sip,
        database={"url": f"sqlite:///{root / 'callcenter.db'}"},
        trunks=[
            {
                "name": "customers",
                "match": [CUSTOMER_HOST],
                "contact": f"{CUSTOMER_HOST}:{CUSTOMER_PORT}",
            }
        ],
        web={"enabled": False},
        log={"level": "WARNING"},
    )


# The customers' behaviours by last digit; people alternate quick (0-3) and late (8-9).
PERSON, MACHINE, BUSY, NO_ANSWER = "01238", "45", "6", "7"
SLOTS = 20  # the mix repeats every 20 leads


def leads(count: int, live_share: float) -> list[str]:
    """Numbers whose last digits give ``live_share`` people; the rest machines (40 %),
    busy lines (15 %) and no answer (45 %), spread evenly over the list."""
    people = round(SLOTS * live_share)
    rest = SLOTS - people
    machines, busy = round(rest * 0.40), round(rest * 0.15)
    kinds = [PERSON] * people + [MACHINE] * machines + [BUSY] * busy
    kinds += [NO_ANSWER] * (SLOTS - len(kinds))
    # Interleave: slot i takes the kind whose share of the slots so far lags most.
    order: list[str] = []
    counts = {kind: kinds.count(kind) for kind in (PERSON, MACHINE, BUSY, NO_ANSWER)}
    for slot in range(SLOTS):
        lag = {k: n * (slot + 1) / SLOTS - order.count(k) for k, n in counts.items() if n}
        order.append(max(lag, key=lambda k: lag[k]))
    numbers = []
    for index in range(count):
        digits = order[index % SLOTS]
        digit = digits[(index // SLOTS) % len(digits)]
        numbers.append(f"+1212555{index:03d}{digit}")
    return numbers


class DialerLab(Lab):
    def __init__(
        self,
        agents: int,
        talk_seconds: float,
        past_connects: int,
        nailed: bool = False,
        past_handles: bool = True,
        past: str = "outcomes",
        live_share: float = 0.3,
    ) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="cc-bench-dialer-"))
        self.nailed = nailed
        self.talk_seconds = talk_seconds
        self.settings = lab_settings(self.root, nailed)
        self.asterisk = AsteriskProcess(self.settings, choose_provider(self.settings.pbx))
        self.loop = ControllerThread(self.settings)
        self.agents = [f"agent{n:02d}" for n in range(1, agents + 1)]
        self.uas = SippAgents(self.root / "agents", AGENT_HOST, AGENT_PORT, AGENT_PORT + 100)
        self.customers = Customers(
            self.root / "customers", CUSTOMER_HOST, CUSTOMER_PORT, CUSTOMER_PORT + 100
        )
        self.talk_ms = int(talk_seconds * 1000)
        self.past_connects = past_connects
        self.past_handles = past_handles
        self.past = past
        self.live_share = live_share
        self._stop = threading.Event()
        self._ender = threading.Thread(target=self._end_talks, daemon=True)

    def start(self) -> None:
        logging.basicConfig(filename=self.root / "controller.log", level=logging.WARNING)
        upgrade(self.settings.database_url)
        self.asterisk.up([])
        if self.nailed:  # the line stays up: the agents end calls from the desktop
            self.uas.start(agent_scenario(ring_ms=100, end="await", await_ms=86_400_000))
        else:
            self.uas.start(agent_scenario(ring_ms=100, talk_ms=self.talk_ms))
        self.customers.start(max_calls=100_000)
        self.loop.start(connect=20)
        site = {
            "agents": [
                {
                    "username": name,
                    "name": name.title(),
                    "extension": str(3001 + index),
                    "skills": {"sales": 3},
                    "static_contact": self.uas.contact(name),
                }
                for index, name in enumerate(self.agents)
            ],
            "queues": [{"name": "sales", "requirements": {"sales": 1}, "wrapup": 0}],
        }
        apply_site(parse_site(site, Path("."), "bench site"), self.sessions)
        self.loop.run(self.controller.reload())
        for name in self.agents:
            self.loop.run(self.controller.agents.ready(name, time.time()))
        wait_for(self._all_available, 30, "agents available", step=0.5)
        if self.nailed:
            self._ender.start()

    def _end_talks(self) -> None:
        """Always-connected agents: each call ended from the desktop after its talk."""
        ended: set[str] = set()

        def due() -> list[str]:
            found = []
            for agent in self.agents:
                status = self.controller.agents.status(agent)
                if status.state is not AgentState.ON_CALL or status.call_id in ended:
                    continue
                if time.time() - status.since >= self.talk_seconds:
                    ended.add(status.call_id or "")
                    found.append(agent)
            return found

        while not self._stop.wait(0.1):
            with contextlib.suppress(Exception):
                for agent in self.loop.call(due):
                    with contextlib.suppress(Exception):
                        self.loop.run(self.controller.call_control.end(agent))

    @property
    def controller(self) -> Any:
        return self.loop.controller

    @property
    def sessions(self) -> Any:
        return self.controller.storage.sessions

    def _all_available(self) -> bool:
        return bool(
            self.loop.call(lambda: all(self.controller.agents.available(a) for a in self.agents))
        )

    # -- one campaign ----------------------------------------------------------------------
    def run(self, name: str, mode: str, numbers: list[str], timeout: float) -> dict[str, float]:
        settings = load_settings(
            {
                "mode": mode,
                "queue": "sales",
                "caller_id": "+12125550199",
                "calling_hours": "00:00-24:00",
                "windows": ALL_DAY,
                "ring_seconds": 15,
                "retry": {"busy_minutes": 60, "no_answer_minutes": 60, "machine_minutes": 60},
            },
            source=name,
        )
        campaign = self._campaign(name, settings.document(), numbers)
        started = time.time()
        self._set_status(campaign, "running")
        wait_for(lambda: self._finished(campaign), timeout, f"{name}: every lead dialled", step=1)
        self._set_status(campaign, "paused")
        wait_for(self._all_available, 60, "agents free again", step=0.5)
        return self._figures(campaign, started)

    def _campaign(self, name: str, document: dict[str, Any], numbers: list[str]) -> int:
        now = time.time()
        with self.sessions.begin() as session:
            row = CampaignRow(name=name, settings=document, status="paused", created_at=now)
            session.add(row)
            session.flush()
            for number in numbers:
                session.add(LeadRow(campaign_id=row.id, phone=number, created_at=now, data={}))
            if self.past == "outcomes":
                self._past_outcomes(session, row.id, name, now)
            else:
                self._past_rates(session, row.id, name, now)
            return int(row.id)

    def _past_rates(self, session: Any, campaign: int, name: str, now: float) -> None:
        """The older seeding (``--past rates``): PAST_DIALS dials, the live share of
        them answered 8 s in, the rest unanswered; no call record for those, so pacing
        cannot read a ringing call's age against them."""
        for index in range(PAST_DIALS):
            answered = index < self.past_connects
            if answered and self.past_handles:
                past = f"past{campaign:04d}{index:04d}"
                session.add(self._past_call(past, name, now - 3600, now - 3592))
            session.add(
                DialAttemptRow(
                    campaign_id=campaign,
                    number="+12125550000",
                    at=now - 3600,
                    dialled=True,
                    answered_at=now - 3592 if answered else None,
                    outcome="connected" if answered else "no-answer",
                )
            )

    def _past_outcomes(self, session: Any, campaign: int, name: str, now: float) -> None:
        """A campaign that has been running (``--past outcomes``, the default): the last
        PAST_OUTCOMES dials an hour ago, of the same mix as the leads, each with what the
        customers' model does (a person answers 1-3 s or 5 s in, a machine 1 s in, a
        busy line at once, no answer rings the campaign's 15 s out) and its call record,
        as the dialer writes them: pacing reads ringing calls' ages against them."""
        for index, number in enumerate(leads(PAST_OUTCOMES, self.live_share)):
            digit = number[-1]
            at = now - 3600 + index * 5.0
            past = f"past{campaign:04d}{index:04d}"
            answered: float | None = None
            if digit in PERSON:
                answered = at + (5.0 if digit == "8" else 1.0 + int(digit) * 2 / 3)
                outcome, end = "connected", answered + self.talk_seconds
            elif digit in MACHINE:
                answered, outcome = at + 1.0, "machine"
                end = answered + 12.0
            elif digit in BUSY:
                outcome, end = "busy", at + 0.3
            else:
                outcome, end = "no-answer", at + 15.0
            if outcome == "connected" and self.past_handles:
                session.add(self._past_call(past, name, at, answered or at))
            else:
                session.add(
                    CallRow(
                        id=past, unique_id=past, direction="outbound",
                        flow=f"campaign:{name}"[:32], queue="sales", entered_at=at,
                        answered_at=answered, ended_at=end, outcome=outcome,
                    )
                )  # fmt: skip
            session.add(
                DialAttemptRow(
                    campaign_id=campaign, number="+1212556" + number[-4:], at=at, dialled=True,
                    answered_at=answered, outcome=outcome, call_id=past,
                )
            )  # fmt: skip

    def _past_call(self, past: str, name: str, at: float, answered: float) -> CallRow:
        return CallRow(
            id=past,
            unique_id=past,
            direction="outbound",
            flow=f"campaign:{name}"[:32],
            queue="sales",
            entered_at=at,
            answered_at=answered,
            ended_at=answered + self.talk_seconds,
            outcome="answered",
            talk_seconds=self.talk_seconds,
            wrapup_seconds=0.0,
        )

    def _set_status(self, campaign: int, status: str) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(CampaignRow).where(CampaignRow.id == campaign).values(status=status)
            )

    def _finished(self, campaign: int) -> bool:
        with self.sessions() as session:
            waiting = session.scalar(
                select(func.count(LeadRow.id)).where(
                    LeadRow.campaign_id == campaign,
                    LeadRow.status.in_(("new", "dialing")),
                )
            )
        in_flight = self.loop.call(
            lambda: [
                a
                for a in self.controller.dialer_calls.attempts.values()
                if a.campaign.id == campaign
            ]
        )
        return not waiting and not in_flight

    def _figures(self, campaign: int, started: float) -> dict[str, float]:
        assert self.controller.records.flush(30), "call records not written"
        with self.sessions() as session:
            rows = list(
                session.scalars(
                    select(DialAttemptRow).where(
                        DialAttemptRow.campaign_id == campaign,
                        DialAttemptRow.call_id != "",
                        DialAttemptRow.at >= started,  # not the seeded past
                    )
                )
            )
            calls = list(
                session.scalars(select(CallRow).where(CallRow.id.in_([r.call_id for r in rows])))
            )
        first = min((r.at for r in rows), default=started)
        last = max((c.ended_at or 0.0 for c in calls), default=first)
        talk = sum(c.talk_seconds or 0.0 for c in calls)
        outcomes = [r.outcome for r in rows]
        live = outcomes.count("connected") + outcomes.count("abandoned")
        length = max(last - first, 1e-9)
        return {
            "dials": float(len(rows)),
            "connected": float(outcomes.count("connected")),
            "abandoned": float(outcomes.count("abandoned")),
            "machines": float(outcomes.count("machine")),
            "busy": float(outcomes.count("busy")),
            "no_answer": float(outcomes.count("no-answer")),
            "run_seconds": round(length, 1),
            "talk_seconds": round(talk, 1),
            "occupancy_pct": round(100.0 * talk / (len(self.agents) * length), 1),
            "abandon_rate_pct": round(100.0 * outcomes.count("abandoned") / live, 2)
            if live
            else 0.0,
        }

    def close(self) -> None:
        self._stop.set()
        if self._ender.is_alive():
            self._ender.join(5)
        with contextlib.suppress(Exception):
            self.loop.stop()
        for peer in (self.uas, self.customers):
            with contextlib.suppress(Exception):
                peer.stop()
        with contextlib.suppress(Exception):
            self.asterisk.down()
        shutil.rmtree(self.root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--leads", type=int, default=60)
    parser.add_argument("--talk", type=float, default=20.0, help="seconds each agent talks")
    parser.add_argument("--live-share", type=float, default=0.3, help="leads that are people")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per mode at most")
    parser.add_argument(
        "--nailed", action="store_true", help="always-connected agents (one line each)"
    )
    parser.add_argument(
        "--no-past-handles",
        action="store_true",
        help="no call records for the seeded past dials (pacing starts from 120 s handles)",
    )
    parser.add_argument(
        "--past",
        choices=("outcomes", "rates"),
        default="outcomes",
        help="the seeded past: a running campaign's last 100 dials with their outcomes "
        "and answer times (default), or 40 dials' rates only (the older seeding)",
    )
    args = parser.parse_args()
    numbers = leads(args.leads, args.live_share)
    past_connects = round(PAST_DIALS * args.live_share)
    report: dict[str, Any] = {
        "benchmark": "dialer_real",
        "agents": args.agents,
        "leads": args.leads,
        "talk_seconds_per_call": args.talk,
        "past": args.past,
        "past_dials_seeded": PAST_OUTCOMES if args.past == "outcomes" else PAST_DIALS,
        "past_person_answers_seeded": past_connects if args.past == "rates" else None,
        "live_share_of_leads": args.live_share,
        "always_connected_agents": args.nailed,
        "past_handles_seeded": not args.no_past_handles,
        "machine": platform.node(),
    }
    with DialerLab(
        args.agents,
        args.talk,
        past_connects,
        args.nailed,
        not args.no_past_handles,
        args.past,
        args.live_share,
    ) as lab:
        for mode in ("progressive", "predictive"):
            figures = lab.run(f"bench-{mode}", mode, numbers, args.timeout)
            print(f"{mode}: " + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
            report[mode] = figures
    progressive, predictive = report["progressive"], report["predictive"]
    if progressive["occupancy_pct"]:
        ratio = predictive["occupancy_pct"] / progressive["occupancy_pct"]
        report["occupancy_ratio_predictive_over_progressive"] = round(ratio, 2)
    report["predictive_abandon_under_cap_3_pct"] = predictive["abandon_rate_pct"] < 3.0
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
