"""`callcenter site load` and the console's administration refuse prompts nobody can
play, naming the flow or the queue (the services, over the PromptCatalog port)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callcenter.core.site import SiteDocuments
from callcenter.services.console.admin import site_problems
from callcenter.services.site import SiteError, parse_site
from tests.e2e.sites import menu_flow, queue_node
from tests.fakes.prompts import known_prompts


def menu(**welcome: Any) -> dict[str, Any]:
    flow = menu_flow({"1": "q"}, {"q": queue_node("sales")})
    flow["nodes"]["welcome"].update(welcome)
    return flow


def site_data(**queue: Any) -> dict[str, Any]:
    return {
        "queues": [{"name": "sales", **queue}],
        "flows": {"main": {"document": menu(invalid_prompt="option-is-invalid")}},
    }


def test_parse_site_names_the_flow_and_the_queue_with_an_unknown_prompt() -> None:
    data = site_data(on_max_wait={"action": "hangup", "prompt": "vm-nobody"})
    with pytest.raises(SiteError) as refused:
        parse_site(data, Path("."), "site.toml", known_prompts())
    problems = "\n".join(refused.value.problems)
    assert "queue sales: on_max_wait.prompt: no prompt 'vm-nobody'" in problems
    assert "did you mean 'vm-nobodyavail'?" in problems
    assert (
        "flows.main: node 'welcome', field 'invalid_prompt': no prompt 'option-is-invalid'"
        in problems
    )


def test_parse_site_passes_known_prompts_and_checks_none_without_them() -> None:
    data = site_data()
    data["flows"]["main"]["document"]["nodes"]["welcome"]["invalid_prompt"] = "pbx-invalid"
    assert parse_site(data, Path("."), "site.toml", known_prompts()).flows
    assert parse_site(site_data(), Path("."), "site.toml").flows  # not checked


def test_admin_site_problems_include_prompts_when_known() -> None:
    flow = menu(invalid_prompt="option-is-invalid")
    docs = SiteDocuments(
        queues={"sales": {"name": "sales"}}, schedules={}, flows={"main": (flow, [])}
    )
    assert site_problems(docs, set()) == []
    [problem] = site_problems(docs, set(), known_prompts())
    assert "invalid_prompt': no prompt 'option-is-invalid'" in problem
