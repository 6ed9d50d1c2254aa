"""The JSON API fuzzed from its own OpenAPI document (schemathesis), as an admin.

Every operation of the document gets a few derandomized examples (the same on
every run, and few enough to keep the test short); every answer must be a
non-5xx that matches the document (status code, content type, body, headers).
Operations are walked in one test: schemathesis' pytest loader for fixtures
does not run under the pytest this project uses.
"""

from __future__ import annotations

import time
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.adapter.console_support import start_console

MAX_EXAMPLES = 25
STREAMS = "/api/events"  # server-sent events never end: the browser tests read them


def _fuzz(operation: APIOperation, token: str) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            # The document cannot state every business rule (a name already taken, an
            # agent not on a call): a schema-valid request may get a clear, documented 4xx.
            excluded_checks=[positive_data_acceptance],
        )

    run()


def test_every_operation_answers_as_documented(tmp_path: Path) -> None:
    console = start_console(tmp_path)
    try:
        token = console.controller.users.create_token("fuzzer", "admin")
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", console.app)
        operations = [r.ok() for r in schema.exclude(path=STREAMS).get_all_operations()]
        assert len(operations) >= 25
        failures = []
        started = time.monotonic()
        for operation in operations:
            try:
                _fuzz(operation, token)
            except (Exception, BaseExceptionGroup) as exc:  # one report names every failure
                failures.append(f"--- {operation.label}\n{str(exc)[:1500]}")
        took = time.monotonic() - started
        assert not failures, f"{len(failures)} operations failed:\n" + "\n".join(failures)
        assert took < 120, f"fuzzing took {took:.0f} s"
    finally:
        console.close()


def test_a_body_that_is_not_json_gets_a_clear_400(tmp_path: Path) -> None:
    console = start_console(tmp_path)
    try:
        token = console.controller.users.create_token("client", "admin")
        client = console.app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        url = "/api/agents/agent1/state"
        empty = client.post(url)
        assert empty.status_code == 400
        assert "needs a JSON body" in empty.get_json()["message"]
        broken = client.post(url, data="{not json", content_type="application/json")
        assert broken.status_code == 400
        assert "not valid JSON" in broken.get_json()["message"]
        listed = client.post(url, json=["login"])
        assert listed.status_code == 422 and listed.get_json()["detail"]
        assert client.post(url, json={"action": "login"}).status_code == 200
    finally:
        console.close()
