"""DescribeQuorum on the broker and the controller listener, as `kafka-metadata-quorum
describe` sends it (Apache Kafka's Java admin client drives it in test_java_clients.py)."""

from __future__ import annotations

import uuid

import pytest

from protocol import messages as m
from protocol.errors import ErrorCode
from pybroker.embedded import EmbeddedBroker
from pybroker.tools.client import BrokerConnection

Q = m.DescribeQuorumRequest


def describe(conn: BrokerConnection, version: int, topic: str = "__cluster_metadata", partition: int = 0):
    request = Q(topics=[Q.TopicData(topic_name=topic, partitions=[Q.PartitionData(partition_index=partition)])])
    return conn.request(55, request, version=version)


@pytest.fixture(scope="module")
def node():
    with EmbeddedBroker() as b:
        yield b


def controller_port(b: EmbeddedBroker) -> int:
    names = {ln.name for ln in b.broker.config.controller_listeners}
    return next(bound.port for name, bound in b.broker.listeners.items() if name in names)


@pytest.mark.parametrize("version", [0, 1, 2])
def test_the_sole_voter_leads_with_its_log_end_as_high_watermark(node, version):
    with BrokerConnection("127.0.0.1", node.port).connect() as conn:
        r = describe(conn, version)
    assert r.error_code == ErrorCode.NONE
    [topic] = r.topics
    assert topic.topic_name == "__cluster_metadata"
    [p] = topic.partitions
    raft = node.broker.metadata.raft
    assert (p.error_code, p.leader_id, p.leader_epoch) == (ErrorCode.NONE, node.broker.node_id, raft.epoch)
    assert 0 < p.high_watermark <= raft.log_end_offset
    [voter] = p.current_voters
    assert voter.replica_id == node.broker.node_id and voter.log_end_offset >= p.high_watermark
    assert p.observers == []
    if version >= 1:
        assert voter.last_fetch_timestamp > 0 and voter.last_caught_up_timestamp > 0
    if version >= 2:
        assert voter.replica_directory_id == uuid.UUID(int=0)
        [n] = r.nodes
        assert n.node_id == node.broker.node_id
        assert [(ln.name, ln.port) for ln in n.listeners] == [("CONTROLLER", controller_port(node))]
    else:
        assert r.nodes == []


def test_the_controller_listener_answers_too(node):
    with BrokerConnection("127.0.0.1", controller_port(node)).connect() as conn:
        r = describe(conn, 2)
    assert r.error_code == ErrorCode.NONE and r.topics[0].partitions[0].leader_id == node.broker.node_id


@pytest.mark.parametrize(("topic", "partition"), [("other", 0), ("__cluster_metadata", 1)])
def test_anything_but_the_metadata_partition_is_unknown(node, topic, partition):
    with BrokerConnection("127.0.0.1", node.port).connect() as conn:
        r = describe(conn, 2, topic, partition)
    assert r.error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION and r.topics == []
