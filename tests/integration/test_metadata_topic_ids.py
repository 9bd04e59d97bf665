"""Metadata requests that name topics by id (KIP-516), as Apache Kafka's Java consumer sends them
to resolve the topic ids of a KIP-848 assignment: the id decides, whatever the name field holds."""

from __future__ import annotations

import uuid

import pytest

from protocol import messages as m
from protocol.errors import ErrorCode
from pybroker.tools.client import BrokerConnection

M = m.MetadataRequest


@pytest.mark.parametrize("name", [None, ""])
def test_topics_by_id(broker, topic_name, name):
    broker.create_topic(topic_name, partitions=2)
    topic_id = broker.broker.image.topic(topic_name).topic_id
    unknown = uuid.uuid4()
    with BrokerConnection("127.0.0.1", broker.port).connect() as conn:
        r = conn.request(3, M(topics=[M.MetadataRequestTopic(topic_id=topic_id, name=name),
                                      M.MetadataRequestTopic(topic_id=unknown, name=name)],
                              allow_auto_topic_creation=True), version=12)
    found, missing = r.topics
    assert (found.error_code, found.name, found.topic_id, len(found.partitions)) == (ErrorCode.NONE, topic_name, topic_id, 2)
    assert (missing.error_code, missing.topic_id) == (ErrorCode.UNKNOWN_TOPIC_ID, unknown)
    # An empty name next to an id is not a topic to create.
    assert broker.broker.image.topic("") is None
