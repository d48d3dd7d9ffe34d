"""A Kafka lag probe in Chromium: a maintainer adds it with the probe form, presses probe now, a
real Celery worker runs it against a real Kafka-protocol broker (tansu), and the page shows the
lag. Screenshot: var/screenshots/probe_kafka."""
import pytest

from tests.browser_helpers import screenshot, sign_in  # sets DJANGO_ALLOW_ASYNC_UNSAFE first
from tests.kafka_broker import Broker
from tests.test_browser_probes import shop  # noqa: F401 - a fixture used below
from tests.test_probe_worker import LOCATION, probe_worker  # noqa: F401 - a fixture used below
from probes.models import ProbeStatus


@pytest.fixture
def kafka():
    with Broker() as broker:
        broker.topic_fill("orders.placed", [40, 30])
        broker.offsets_commit("shipping", "orders.placed", [10, 7])
        yield broker


def test_it_adds_a_kafka_lag_probe_and_runs_it_through_a_worker(page, live_server, shop, kafka, probe_worker):
    sign_in(page, live_server.url, "maria")
    page.goto("/services/orders/")
    page.locator("#probes").get_by_role("link", name="+ Add").click()
    page.fill("#id_name", "orders-lag")
    page.select_option("#id_type", "kafka-consumer")
    page.fill("#id_target", kafka.bootstrap)
    page.fill("#id_details", "group: shipping\ntopic: orders.placed\nexpect:\n  max_lag: 50")
    page.locator(f"input[name=locations][value={LOCATION}]").check()
    page.locator("input[name=locations][value=default]").uncheck()
    page.get_by_role("button", name="Add probe").click()
    page.wait_for_url("**/probes/orders-lag/")
    page.get_by_role("button", name="Probe now").click()
    page.locator("#probe-run", has_text="Done.").wait_for(timeout=60_000)
    text = page.locator("#probe-run").inner_text()
    assert "Degraded" in text and "lag=53" in text and "worst=orders.placed/0:30" in text, text
    status = ProbeStatus.objects.get(location=LOCATION)
    assert status.values["lag"] == 53 and status.error == "lag=53 above max_lag=50"
    page.reload()
    screenshot(page, "probe_kafka")
