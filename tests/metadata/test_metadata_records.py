"""Metadata record framing: every record type at every version round-trips; bad frames fail."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings

from pybroker.metadata import records as r
from schema_strategies import message_strategy

CASES = [
    (rt, v) for rt in r.RECORD_TYPES.values() for v in range(rt.spec.versions.low, rt.spec.versions.high + 1)
]


@pytest.mark.parametrize("rt,version", CASES, ids=[f"{rt.name}-v{v}" for rt, v in CASES])
def test_roundtrip(rt, version):
    @settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
    @given(message_strategy(rt.spec, version))
    def check(msg):
        data = r.encode_record(msg, version)
        decoded = r.decode_frame(data)
        assert decoded.type_id == rt.id
        assert decoded.version == version
        assert r.encode_record(decoded.message, version) == data

    check()


def test_kafka_type_ids():
    names = {rt.id: rt.name for rt in r.RECORD_TYPES.values()}
    assert names == {
        0: "RegisterBrokerRecord", 1: "UnregisterBrokerRecord", 2: "TopicRecord",
        3: "PartitionRecord", 4: "ConfigRecord", 5: "PartitionChangeRecord",
        7: "FenceBrokerRecord", 8: "UnfenceBrokerRecord", 9: "RemoveTopicRecord",
        12: "FeatureLevelRecord", 15: "ProducerIdsRecord", 17: "BrokerRegistrationChangeRecord",
        20: "NoOpRecord",
    }


def test_known_topic_record_bytes():
    record = r.TopicRecord(name="foo", topic_id=uuid.UUID(int=1))
    expected = bytes.fromhex("01" "02" "00" "04666f6f" + "00" * 15 + "01" + "00")
    assert r.encode_record(record) == expected
    assert r.decode_record(expected) == record


def test_partition_change_defaults_mean_unchanged():
    data = r.encode_record(r.PartitionChangeRecord(partition_id=2, topic_id=uuid.UUID(int=7)))
    # frame (3 bytes), partition id (4), uuid (16), empty tagged fields (1): nothing else.
    assert len(data) == 3 + 4 + 16 + 1
    back = r.decode_record(data)
    assert back.leader == -2 and back.isr is None and back.replicas is None


def test_written_versions():
    pr = r.PartitionRecord(partition_id=0, topic_id=uuid.UUID(int=1), replicas=[1], isr=[1], leader=1,
                           leader_epoch=0, partition_epoch=0, directories=[uuid.UUID(int=0)])
    assert r.decode_frame(r.encode_record(pr)).version == 1
    reg = r.RegisterBrokerRecord(broker_id=1, incarnation_id=uuid.UUID(int=5), broker_epoch=3)
    assert r.decode_frame(r.encode_record(reg)).version == 3


@pytest.mark.parametrize("data,match", [
    (b"", "truncated"),
    (b"\x02\x02\x00", "frame version"),
    (b"\x01\x63\x00", "unknown metadata record type 99"),
    (b"\x01\x02\x05", "unsupported TopicRecord version 5"),
    (b"\x01\x02\x00\x04fo", "TopicRecord"),
    (bytes.fromhex("010200" "04666f6f" + "00" * 16 + "00" + "ff"), "garbage"),
])
def test_bad_frames(data, match):
    with pytest.raises(r.MetadataRecordError, match=match):
        r.decode_frame(data)


def test_not_a_record():
    with pytest.raises(TypeError):
        r.encode_record(object())
