"""Reading an e2e controller's metrics endpoint (enabled on a free port in conftest)."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import CallCenter

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(callcenter: CallCenter) -> Samples:
    server = callcenter.controller.metrics_server
    assert server is not None, "metrics enabled in the e2e settings"
    assert server.host == "127.0.0.1"
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))
