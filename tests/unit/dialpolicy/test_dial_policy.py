"""The dial policy: a table of numbers and what the policy says of each."""

from __future__ import annotations

import pytest

from callcenter.core.dial_policy import DialPolicy, DialRefusal, check_number, safe_text

SITE = DialPolicy(country="US", allowed_countries=("GB",))

# (as keyed or written, region, reason or None when it may be dialled, E.164)
TABLE = [
    # the toll-fraud numbers of issue 12
    ("011449098790000", "US", "number-type", "+449098790000"),  # UK premium rate via 011
    ("0088213000000", "US", "international-network", "+88213000000"),  # +882 network
    ("+19005551234", "US", "number-type", "+19005551234"),  # US premium rate
    ("+881631456789", "US", "international-network", "+881631456789"),  # satellite
    ("+870772123456", "US", "international-network", "+870772123456"),  # Inmarsat
    ("+883510012345", "US", "international-network", "+883510012345"),
    # ordinary numbers
    ("+12125550100", "US", None, "+12125550100"),
    ("2125550100", "US", None, "+12125550100"),
    ("(212) 555-0100", "US", None, "+12125550100"),
    ("+442079460000", "US", None, "+442079460000"),
    ("020 7946 0000", "GB", None, "+442079460000"),
    ("+18005551234", "US", None, "+18005551234"),  # toll free: allowed
    # other countries and types
    ("+33612345678", "US", "country", "+33612345678"),
    ("+448431234567", "US", "number-type", "+448431234567"),  # UK 084: premium/shared
    ("+447012345678", "US", "number-type", "+447012345678"),  # UK 070: personal number
    ("+445512345678", "US", "number-type", "+445512345678"),  # UK 055: UAN
    ("+80012345678", "US", "non-geographic", "+80012345678"),  # international freephone
    # not numbers at all
    ("", "US", "bad-number", ""),
    ("12", "US", "bad-number", ""),
    ("+12125550100\n9", "US", "bad-number", ""),
    ("*99#", "US", "bad-number", ""),
]


@pytest.mark.parametrize(("raw", "region", "reason", "number"), TABLE)
def test_each_number_gets_its_verdict(
    raw: str, region: str, reason: str | None, number: str
) -> None:
    verdict = check_number(raw, region, SITE.rules())
    assert (verdict.reason, verdict.number) == (reason, number), verdict.detail
    assert verdict.ok is (reason is None)
    assert bool(verdict.detail) is (reason is not None)


def test_default_policy_is_the_site_country_only() -> None:
    rules = DialPolicy(country="GB").rules()
    assert check_number("+442079460000", "GB", rules).ok
    assert check_number("+12125550100", "GB", rules).reason == "country"


def test_a_queue_or_campaign_list_replaces_the_site_list() -> None:
    rules = SITE.rules(("FR",))
    assert check_number("+33612345678", "US", rules).ok
    assert check_number("+12125550100", "US", rules).reason == "country"


def test_types_are_allowed_by_name() -> None:
    rules = DialPolicy(allowed_types=("PREMIUM_RATE",)).rules()
    assert check_number("+19005551234", "US", rules).ok


def test_networks_and_non_geographic_are_allowed_separately() -> None:
    networks = DialPolicy(allow_international_networks=True).rules()
    assert check_number("+881631456789", "US", networks).ok  # satellite phone: MOBILE
    assert check_number("+88213000000", "US", networks).reason == "number-type"  # VOIP
    assert check_number("+80012345678", "US", networks).reason == "non-geographic"
    freephone = DialPolicy(allow_non_geographic=True).rules()
    assert check_number("+80012345678", "US", freephone).ok
    assert check_number("+881631456789", "US", freephone).reason == "international-network"


@pytest.mark.parametrize("bad", ["us", "USA", "U", "US\n"])
def test_countries_are_checked_when_configured(bad: str) -> None:
    with pytest.raises(ValueError):
        DialPolicy(country=bad)
    with pytest.raises(ValueError):
        DialPolicy(allowed_countries=(bad,))


def test_unknown_type_names_are_refused_in_the_configuration() -> None:
    with pytest.raises(ValueError):
        DialPolicy.model_validate({"allowed_types": ["UNKNOWN"]})


def test_a_refusal_stores_the_number_as_given_but_harmless() -> None:
    raw = "+1212\n\x1b[2J" + "9" * 100
    verdict = check_number(raw, "US", SITE.rules())
    refusal = DialRefusal.of(verdict, raw, ("caller", "+1\r\n2"), "keep-place", 5.0)
    assert refusal.number == "+1212??[2J" + "9" * 30
    assert len(refusal.number) == 40 and refusal.number.isprintable()
    assert refusal.origin_id == "+1??2"
    assert refusal.reason == "bad-number"
    assert safe_text("é+1 212") == "é+1 212"
