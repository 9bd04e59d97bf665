"""pytest fixtures for tests that need a Kafka broker: a real pybroker in the test process.

Installed with pybroker and loaded through its `pytest11` entry point. Fixtures:

- `kafka_broker`: a running `EmbeddedBroker`, shared by every test of the session (started on
  first use), unless the test asks for a fresh one (below);
- `kafka_session_broker`: the shared broker as a session-scoped fixture, for other
  session-scoped fixtures;
- `kafka_bootstrap_servers`: the `host:port` string of `kafka_broker`;
- `kafka_topic`: a topic created for one test with a unique name (one partition unless the
  `kafka_topic` marker says otherwise).

Markers:

- `@pytest.mark.kafka_broker(fresh=True, **configs)`: the test gets a broker of its own,
  started with those broker configs (`log_segment_bytes=1024` or `config={...}`) and removed
  after it; configs imply fresh=True;
- `@pytest.mark.kafka_topic(partitions=3, config={...})`: how `kafka_topic` is created.

The option `--kafka-fresh-broker` gives every test a fresh broker. Each pytest-xdist worker is
its own process with its own shared broker; ports and data directories never clash.
"""

from __future__ import annotations

import itertools
import re
import uuid
from typing import Any, Iterator

import pytest

_counter = itertools.count()


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("pybroker", "embedded Kafka broker (pybroker)")
    group.addoption("--kafka-fresh-broker", action="store_true", default=False,
                    help="give every test using kafka_broker a broker of its own")


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "kafka_broker(fresh=True, **configs): run the test on a broker of its own, "
                                       "started with these broker configs")
    config.addinivalue_line("markers", "kafka_topic(partitions=1, config=None): how the kafka_topic fixture "
                                       "creates the test's topic")


@pytest.fixture(scope="session")
def kafka_session_broker() -> Iterator[Any]:
    """The broker shared by the session."""
    from pybroker.embedded import EmbeddedBroker

    with EmbeddedBroker() as broker:
        yield broker


def _fresh_configs(request: Any) -> dict[str, Any] | None:
    """Configs for a fresh broker when the test asks for one, else None."""
    marker = request.node.get_closest_marker("kafka_broker")
    if marker is None:
        return {} if request.config.getoption("kafka_fresh_broker") else None
    kwargs = dict(marker.kwargs)
    fresh = kwargs.pop("fresh", True)
    if not fresh and not kwargs:
        return None
    return kwargs


@pytest.fixture
def kafka_broker(request: Any) -> Iterator[Any]:
    """A running EmbeddedBroker: the session's shared one, or the test's own when marked."""
    configs = _fresh_configs(request)
    if configs is None:
        yield request.getfixturevalue("kafka_session_broker")
        return
    from pybroker.embedded import EmbeddedBroker

    config = configs.pop("config", None)
    data_dir = configs.pop("data_dir", None)
    with EmbeddedBroker(data_dir, config=config, **configs) as broker:
        yield broker


@pytest.fixture
def kafka_bootstrap_servers(kafka_broker: Any) -> str:
    return kafka_broker.bootstrap_servers


def unique_topic_name(request: Any) -> str:
    """A valid topic name, unique per test, that says which test made it."""
    base = re.sub(r"[^a-zA-Z0-9._-]", "-", request.node.name)[:80]
    return f"test-{base}-{next(_counter)}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def kafka_topic(request: Any, kafka_broker: Any) -> Iterator[str]:
    """A topic created for this test (deleted afterwards on the shared broker)."""
    marker = request.node.get_closest_marker("kafka_topic")
    options = dict(marker.kwargs) if marker is not None else {}
    name = options.pop("name", None) or unique_topic_name(request)
    kafka_broker.create_topic(name, **options)
    yield name
    if kafka_broker.broker is not None and kafka_broker.running:
        try:
            kafka_broker.delete_topic(name)
        except Exception:
            pass
