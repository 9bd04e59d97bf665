"""__consumer_offsets records are byte-compatible with what Apache Kafka writes and reads.

The expected bytes are assembled by hand from Kafka's record schemas (group-coordinator
`*Key.json` / `*Value.json`), independently of the project's codec.
"""

import struct
import uuid

import pytest

from pybroker.coordinator.shard import CoordinatorRecord
from pybroker.groups import records as r


def s16(s: str) -> bytes:
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def cstr(s: str) -> bytes:  # compact string: unsigned varint length + 1
    b = s.encode()
    return bytes([len(b) + 1]) + b


def test_offset_commit_key_and_value_v3_bytes():
    rec = r.offset_commit("my-group", "orders", 7, offset=1234, leader_epoch=5, metadata="meta",
                          commit_timestamp=1_700_000_000_000)
    assert rec.key == struct.pack(">h", 1) + s16("my-group") + s16("orders") + struct.pack(">i", 7)
    assert rec.value == (struct.pack(">h", 3) + struct.pack(">q", 1234) + struct.pack(">i", 5)
                         + s16("meta") + struct.pack(">q", 1_700_000_000_000))


def test_known_offset_commit_value_v3_vector_decodes():
    # version 3: offset int64, leaderEpoch int32, metadata string, commitTimestamp int64
    value = bytes.fromhex("0003" "0000000000000064" "00000005" "00046d657461" "0000018bcfe56800")
    key = bytes.fromhex("0001" "000167" "000174" "00000003")
    d = r.decode(CoordinatorRecord(key, value))
    assert d.type == r.RecordType.OFFSET_COMMIT and d.value_version == 3
    assert (d.key.group, d.key.topic, d.key.partition) == ("g", "t", 3)
    assert (d.value.offset, d.value.leader_epoch, d.value.metadata, d.value.commit_timestamp) == \
        (100, 5, "meta", 1700000000000)


def test_offset_commit_v1_with_expire_timestamp():
    rec = r.offset_commit("g", "t", 0, 10, -1, "", 1000, expire_timestamp=5000)
    assert rec.value == (struct.pack(">h", 1) + struct.pack(">q", 10) + s16("")
                         + struct.pack(">q", 1000) + struct.pack(">q", 5000))
    assert r.decode(rec).value.expire_timestamp == 5000


def test_legacy_offset_commit_key_and_v0_value_decode():
    key = struct.pack(">h", 0) + s16("g") + s16("t") + struct.pack(">i", 1)
    value = struct.pack(">h", 0) + struct.pack(">q", 42) + s16("m") + struct.pack(">q", 99)
    d = r.decode(CoordinatorRecord(key, value))
    assert d.type == 0 and d.value.offset == 42 and d.value.metadata == "m"
    assert d.value.leader_epoch == -1


def test_tombstones_have_no_value():
    rec = r.offset_commit_tombstone("g", "t", 1)
    assert rec.value is None
    assert r.decode(rec).value is None
    assert r.decode(r.group_metadata_tombstone("g")).value is None


def test_group_metadata_value_v3_bytes():
    member = r.MemberMetadata(member_id="m1", group_instance_id="i1", client_id="c", client_host="/h",
                              rebalance_timeout=300000, session_timeout=10000, subscription=b"\x01",
                              assignment=b"\x02\x03")
    value = r.GroupMetadataValue(protocol_type="consumer", generation=4, protocol="range", leader="m1",
                                 current_state_timestamp=77, members=[member])
    rec = r.group_metadata("grp", value)
    assert rec.key == struct.pack(">h", 2) + s16("grp")
    expected = (struct.pack(">h", 3) + s16("consumer") + struct.pack(">i", 4) + s16("range") + s16("m1")
                + struct.pack(">q", 77) + struct.pack(">i", 1)
                + s16("m1") + s16("i1") + s16("c") + s16("/h") + struct.pack(">ii", 300000, 10000)
                + struct.pack(">i", 1) + b"\x01" + struct.pack(">i", 2) + b"\x02\x03")
    assert rec.value == expected
    assert r.decode(rec).value == value


def test_empty_group_metadata_has_null_protocol_and_leader():
    value = r.GroupMetadataValue(protocol_type="", generation=0, protocol=None, leader=None,
                                 current_state_timestamp=-1, members=[])
    rec = r.group_metadata("g", value)
    assert rec.value == (struct.pack(">h", 3) + s16("") + struct.pack(">i", 0) + b"\xff\xff" + b"\xff\xff"
                         + struct.pack(">q", -1) + struct.pack(">i", 0))


def test_consumer_group_metadata_value_with_tagged_hash():
    rec = r.consumer_group_epoch("g", 7, 0)
    assert rec.key == struct.pack(">h", 3) + s16("g")
    assert rec.value == struct.pack(">h", 0) + struct.pack(">i", 7) + b"\x00"  # no tagged fields
    rec = r.consumer_group_epoch("g", 7, 12)
    assert rec.value == (struct.pack(">h", 0) + struct.pack(">i", 7)
                         + b"\x01" + b"\x00" + b"\x08" + struct.pack(">q", 12))
    assert r.decode(rec).value.metadata_hash == 12


def test_current_member_assignment_value_bytes():
    tid = uuid.UUID("0123456789abcdef0123456789abcdef")
    rec = r.consumer_group_current_assignment("g", "m", 3, 2, 1, {tid: {1, 0}}, {})
    assert rec.key == struct.pack(">h", 8) + s16("g") + s16("m")
    expected = (struct.pack(">h", 0) + struct.pack(">ii", 3, 2) + b"\x01"
                + b"\x02" + tid.bytes + b"\x03" + struct.pack(">ii", 0, 1) + b"\x00"
                + b"\x01"
                + b"\x00")
    assert rec.value == expected


def test_member_metadata_value_bytes():
    value = r.ConsumerGroupMemberMetadataValue(
        instance_id=None, rack_id="r1", client_id="cid", client_host="/1.2.3.4",
        subscribed_topic_names=["a", "b"], subscribed_topic_regex=None, rebalance_timeout_ms=300000,
        server_assignor="uniform")
    rec = r.consumer_group_member_metadata("g", "m", value)
    assert rec.key == struct.pack(">h", 5) + s16("g") + s16("m")
    expected = (struct.pack(">h", 0) + b"\x00" + cstr("r1") + cstr("cid") + cstr("/1.2.3.4")
                + b"\x03" + cstr("a") + cstr("b") + b"\x00" + struct.pack(">i", 300000)
                + cstr("uniform") + b"\x00")
    assert rec.value == expected


def test_target_assignment_and_regex_records_round_trip():
    tid = uuid.uuid4()
    rec = r.consumer_group_target_assignment("g", "m", {tid: {3, 1}})
    assert rec.key == struct.pack(">h", 7) + s16("g") + s16("m")
    d = r.decode(rec)
    assert d.value.topic_partitions[0].topic_id == tid and d.value.topic_partitions[0].partitions == [1, 3]
    rec = r.consumer_group_target_assignment_epoch("g", 9)
    assert rec.key == struct.pack(">h", 6) + s16("g")
    assert rec.value == struct.pack(">h", 0) + struct.pack(">i", 9) + b"\x00"
    rec = r.consumer_group_regex("g", "t.*", ["t2", "t1"], 10, 20)
    assert rec.key == struct.pack(">h", 16) + s16("g") + s16("t.*")
    assert rec.value == (struct.pack(">h", 0) + b"\x03" + cstr("t1") + cstr("t2")
                         + struct.pack(">qq", 10, 20) + b"\x00")


def test_newer_value_version_decodes_with_known_prefix():
    # A value written by a newer Kafka at OffsetCommitValue v5 (not known here) still decodes:
    # newer versions only add tagged fields (KIP-915).
    body = struct.pack(">q", 1) + struct.pack(">i", -1) + cstr("") + struct.pack(">q", 2) + b"\x00"
    key = r.offset_commit_key("g", "t", 0).key
    d = r.decode(CoordinatorRecord(key, struct.pack(">h", 5) + body))
    assert d.value.offset == 1 and d.value_version == 5


def test_unknown_record_type_is_reported():
    with pytest.raises(r.UnknownRecordType):
        r.decode(CoordinatorRecord(struct.pack(">h", 11) + s16("g"), None))


def test_shard_skips_records_it_cannot_read():
    from group_harness import Harness

    h = Harness()
    shard = h.shard
    shard.replay(0, CoordinatorRecord(struct.pack(">h", 1) + b"\x00", b"\x00\x03"), -1, -1)  # truncated
    shard.replay(1, CoordinatorRecord(struct.pack(">h", 12) + s16("share-group"), b"\x00\x00"), -1, -1)
    shard.replay(2, CoordinatorRecord(b"", None), -1, -1)
    shard.replay(3, r.offset_commit("g", "t", 0, 5, -1, "", 1), -1, -1)
    assert h.committed("g") == 5
