"""The campaigns repository and the lead import service on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.adapters.db.campaigns import CampaignRepository
from callcenter.adapters.db.dial_refusals import DialRefusalRepository
from callcenter.adapters.db.engine import make_engine, make_sessions
from callcenter.adapters.db.models import DialAttemptRow
from callcenter.core.dial_policy import DialPolicy
from callcenter.core.outbound.leads_csv import LeadIn
from callcenter.core.outbound.records import CampaignExists
from callcenter.services.dial_guard import DialGuard
from callcenter.services.outbound.campaigns import CampaignError, Campaigns
from callcenter.services.outbound.lead_import import LeadImports

NOW = 1_800_000_000.0


@pytest.fixture
def repository(database_url: str) -> Iterator[CampaignRepository]:
    engine = make_engine(database_url)
    try:
        yield CampaignRepository(make_sessions(engine))
    finally:
        engine.dispose()


@pytest.fixture
def refusals(database_url: str) -> Iterator[DialRefusalRepository]:
    engine = make_engine(database_url)
    try:
        yield DialRefusalRepository(make_sessions(engine))
    finally:
        engine.dispose()


@pytest.fixture
def guard(refusals: DialRefusalRepository) -> DialGuard:
    return DialGuard(DialPolicy(country="US", allowed_countries=("GB",)), refusals, lambda: NOW)


def test_campaigns_are_unique_by_name(repository: CampaignRepository) -> None:
    made = repository.create("spring", {"mode": "preview"}, NOW)
    assert repository.get(made.id) == made and made.status == "paused"
    with pytest.raises(CampaignExists):
        repository.create("spring", {}, NOW)
    assert repository.update(made.id, status="running")
    assert not repository.update(made.id + 1000, status="running")


def test_leads_insert_in_bulk_and_refuse_late_duplicates(repository: CampaignRepository) -> None:
    campaign = repository.create("leads", {}, NOW).id
    first = [LeadIn(2, "+12125550100", "Ann"), LeadIn(3, "+12125550101", data={"k": "v"})]
    assert repository.add_leads(campaign, first, NOW) == []
    again = [LeadIn(2, "+12125550102"), LeadIn(3, "+12125550100"), LeadIn(4, "+12125550103")]
    refused = repository.add_leads(campaign, again, NOW)
    assert [lead.line for lead in refused] == [3]
    assert repository.lead_numbers(campaign) == {
        "+12125550100",
        "+12125550101",
        "+12125550102",
        "+12125550103",
    }


def test_dnc_add_is_idempotent_and_scoped(repository: CampaignRepository) -> None:
    assert repository.add_dnc("site", ["+12125550100", "+12125550101"], "test", NOW) == 2
    assert repository.add_dnc("site", ["+12125550100"], "test", NOW) == 0
    assert repository.add_dnc("campaign:x", ["+12125550100"], "test", NOW) == 1
    rows, total = repository.dnc("site", 0, 10)
    assert total == 2 and [r[0] for r in rows] == ["+12125550100", "+12125550101"]
    assert repository.remove_dnc("site", "+12125550100")
    assert not repository.remove_dnc("site", "+12125550100")


def test_figures_count_attempts_in_the_window(repository: CampaignRepository) -> None:
    campaign = repository.create("figures", {}, NOW).id
    repository.add_leads(campaign, [LeadIn(2, "+12125550100")], NOW)
    rows = [
        dict(at=NOW - 90_000, answered_at=NOW, amd_result="HUMAN", abandoned=True),  # too old
        dict(at=NOW - 60, answered_at=NOW, amd_result="HUMAN", agent_connected_at=NOW + 1),
        dict(at=NOW - 50, answered_at=NOW, amd_result="NOTSURE", abandoned=True),
        dict(at=NOW - 40, answered_at=NOW, amd_result="MACHINE"),
        dict(at=NOW - 30, outcome="busy"),
    ]
    with repository._sessions.begin() as session:
        for row in rows:
            session.add(
                DialAttemptRow(campaign_id=campaign, number="+12125550100", dialled=True, **row)
            )
    figures = repository.figures(campaign, NOW - 86_400)
    assert (figures.attempts, figures.dialled, figures.live_answered) == (4, 4, 2)
    assert (figures.connected, figures.abandoned) == (1, 1)
    assert figures.leads == {"new": 1} and figures.outcomes["busy"] == 1


def test_import_service_end_to_end(
    repository: CampaignRepository, tmp_path: Path, guard: DialGuard
) -> None:
    campaigns = Campaigns(repository, lambda: NOW, guard)
    imports = LeadImports(repository, campaigns, tmp_path / "imports", lambda: NOW)
    campaign = campaigns.create("imported", {"default_region": "GB"})
    data = b"phone,name\n020 7946 0000,Ann\n020 7946 0000,Dup\nxx,Bad\n"
    import_id = imports.start(campaign.id, io.BytesIO(data), "../x/leads.csv")
    imports.wait(import_id, 30)
    found = imports.status(import_id)
    assert (found.status, found.rows, found.good, found.bad) == ("done", 3, 1, 2)
    assert found.filename == "leads.csv" and found.read_bytes == found.size_bytes == len(data)
    assert [e["line"] for e in found.errors] == [3, 4]
    assert list((tmp_path / "imports").iterdir()) == []  # the stored upload is gone
    assert repository.lead_numbers(campaign.id) == {"+442079460000"}
    with pytest.raises(CampaignError) as caught:
        imports.start(999_999, io.BytesIO(data), "x.csv")
    assert caught.value.code == "not-found"


def test_running_imports_left_behind_are_marked_interrupted(
    repository: CampaignRepository, tmp_path: Path, guard: DialGuard
) -> None:
    campaigns = Campaigns(repository, time.time, guard)
    campaign = campaigns.create("left", {})
    stale = repository.start_import(campaign.id, "old.csv", 10, NOW)
    imports = LeadImports(repository, campaigns, tmp_path, time.time)
    with pytest.raises(CampaignError) as caught:
        imports.start(campaign.id, io.BytesIO(b"phone\n"), "new.csv")
    assert caught.value.code == "busy"
    imports.recover()
    assert imports.status(stale).status == "interrupted"
    new = imports.start(campaign.id, io.BytesIO(b"phone\n2125550100\n"), "new.csv")
    imports.wait(new, 30)
    assert imports.status(new).good == 1


# The toll-fraud numbers of issue 12, one ordinary number, and one of another country.
FRAUD = b"""phone,name
+19005551234,Premium US
011449098790000,Premium UK
0088213000000,Network
+881631456789,Satellite
+12125550100,Ann
+33612345678,Paris
"""


def test_an_import_refuses_what_the_dial_policy_refuses_and_says_why(
    repository: CampaignRepository,
    refusals: DialRefusalRepository,
    guard: DialGuard,
    tmp_path: Path,
) -> None:
    campaigns = Campaigns(repository, lambda: NOW, guard)
    imports = LeadImports(repository, campaigns, tmp_path / "imports", lambda: NOW)
    campaign = campaigns.create("fraud", {})
    import_id = imports.start(campaign.id, io.BytesIO(FRAUD), "leads.csv")
    imports.wait(import_id, 30)
    found = imports.status(import_id)
    assert (found.status, found.rows, found.good, found.bad) == ("done", 6, 1, 5)
    reasons = {e["line"]: e["reason"] for e in found.errors}
    assert sorted(reasons) == [2, 3, 4, 5, 7]
    assert "(number-type)" in reasons[2] and "+19005551234" in reasons[2]
    assert "(number-type)" in reasons[3] and "+449098790000" in reasons[3]
    assert "(international-network)" in reasons[4] and "(international-network)" in reasons[5]
    assert "(country)" in reasons[7]
    assert repository.lead_numbers(campaign.id) == {"+12125550100"}
    rows, total = refusals.recent(0.0, 0, 10)
    assert total == 5 and {r.where for r in rows} == {"lead-import"}
    assert {(r.origin_kind, r.origin_id) for r in rows} == {("campaign", "fraud")}
    assert refusals.counts(0.0, NOW + 1) == {
        "number-type": 2, "international-network": 2, "country": 1,
    }  # fmt: skip
    # A campaign allowed France takes the Paris number; the same rules hold for the API.
    paris = campaigns.create("paris", {"allowed_countries": ["FR"]})
    added = campaigns.add_leads(paris.id, [{"phone": "+33612345678"}, {"phone": "+19005551234"}])
    assert added.added == 1 and [r["index"] for r in added.refused] == [1]


class Broken(io.RawIOBase):
    """An upload whose sender goes away half-way."""

    def __init__(self) -> None:
        self.sent = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.sent:
            raise ConnectionResetError("the sender went away")
        self.sent = len(buffer)
        buffer[:] = b"x" * len(buffer)
        return len(buffer)


def test_an_upload_cut_short_leaves_no_file_and_no_import(
    repository: CampaignRepository, tmp_path: Path, guard: DialGuard
) -> None:
    campaigns = Campaigns(repository, time.time, guard)
    campaign = campaigns.create("cut", {})
    imports = LeadImports(repository, campaigns, tmp_path / "imports", time.time)
    with pytest.raises(ConnectionResetError):
        imports.start(campaign.id, io.BufferedReader(Broken()), "cut.csv")
    assert list((tmp_path / "imports").iterdir()) == []
    assert repository.imports(campaign.id) == []
