"""Alerts tests: readings go in through the real ingest service (tests/support/alerts.py)."""

import pytest

from alerts.evaluation import rule_cache_forget

# Re-exported for tests on other branches that still import them from here.
from tests.support.alerts import at, ingest, states  # noqa: F401


@pytest.fixture(autouse=True)
def fresh_rule_cache():
    # Rolled-back test data reuses ids; the rule cache must not outlive a test.
    rule_cache_forget()
    yield
    rule_cache_forget()


@pytest.fixture(autouse=True)
def loopback_webhooks(settings):
    # The webhook receivers of these tests listen on 127.0.0.1, which a webhook reaches
    # only once an operator opens it (alerts/webhooks.py); test_webhook_ssrf.py closes it.
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
