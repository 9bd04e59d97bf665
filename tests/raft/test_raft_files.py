"""The quorum-state file and snapshot files in Kafka's formats."""

from __future__ import annotations

import json
import uuid

import pytest

from protocol.records import ControlType, decode_batch, iter_batch_positions, parse_control_key
from raft import snapshot as snap
from raft.errors import CorruptQuorumStateError, CorruptSnapshotError
from raft.quorum_state import ElectionState, QuorumStateStore
from raft.types import OffsetAndEpoch


def test_quorum_state_file_is_kafkas_json(tmp_path):
    store = QuorumStateStore(tmp_path)
    assert store.read() is None
    store.write(ElectionState(5, 1, None, frozenset({1, 3})))
    text = (tmp_path / "quorum-state").read_text()
    assert text == ('{"clusterId":"","leaderId":1,"leaderEpoch":5,"votedId":-1,"appliedOffset":0,'
                    '"currentVoters":[{"voterId":1},{"voterId":3}],"data_version":0}')
    assert store.read() == ElectionState(5, 1, None, frozenset({1, 3}))
    store.write(ElectionState(6, None, 3, frozenset({1, 3})))
    assert store.read() == ElectionState(6, None, 3, frozenset({1, 3}))
    assert not (tmp_path / "quorum-state.tmp").exists()


def test_quorum_state_version_1_is_read(tmp_path):
    dir_id = uuid.UUID(int=0x27c68003c7cb42dd9baacd4925feccc1)
    (tmp_path / "quorum-state").write_text(json.dumps(ElectionState(2, None, 1, voted_directory_id=dir_id)
                                                      .to_json(version=1)))
    state = QuorumStateStore(tmp_path).read()
    assert state == ElectionState(2, None, 1, frozenset(), dir_id)
    example = '{"leaderId":-1,"leaderEpoch":2,"votedId":1,"votedDirectoryId":"J8aAPcfLQt2bqs1JT_rMgQ","data_version":1}'
    (tmp_path / "quorum-state").write_text(example)
    state = QuorumStateStore(tmp_path).read()
    assert state.epoch == 2 and state.voted_id == 1 and state.voted_directory_id is not None


@pytest.mark.parametrize("text", ["", "not json", "[1]", '{"leaderId":1}', '{"data_version":7}',
                                  '{"data_version":0,"leaderEpoch":"x"}'])
def test_corrupt_quorum_state(tmp_path, text):
    (tmp_path / "quorum-state").write_text(text)
    with pytest.raises(CorruptQuorumStateError):
        QuorumStateStore(tmp_path).read()


def test_snapshot_names():
    sid = OffsetAndEpoch(1234, 7)
    name = snap.snapshot_filename(sid)
    assert name == "00000000000000001234-0000000007.checkpoint"
    assert snap.parse_snapshot_filename(name) == (sid, ".checkpoint")
    assert snap.parse_snapshot_filename(name + ".part") == (sid, ".checkpoint.part")
    assert snap.parse_snapshot_filename("00000000000000000000.log") is None


def test_snapshot_write_and_read(tmp_path):
    sid = OffsetAndEpoch(100, 3)
    values = [bytes([i % 256]) * (i % 700) for i in range(200)]
    path = snap.write_snapshot(tmp_path, sid, 55, values, now_ms=1000)
    assert path.name == "00000000000000000100-0000000003.checkpoint"
    data = path.read_bytes()
    positions = list(iter_batch_positions(data))
    assert len(positions) > 3  # header, several ~8 KiB batches, footer
    first_header, first = decode_batch(data, positions[0][0])
    last_header, last = decode_batch(data, positions[-1][0])
    assert first_header.is_control and parse_control_key(first[0].key)[1] == ControlType.SNAPSHOT_HEADER
    assert last_header.is_control and parse_control_key(last[0].key)[1] == ControlType.SNAPSHOT_FOOTER
    assert first_header.partition_leader_epoch == 3 and first_header.base_offset == 0
    reader = snap.SnapshotReader.open(tmp_path, sid)
    assert reader.snapshot_id == sid and reader.last_contained_log_time_ms == 55
    assert list(reader.records()) == values
    assert snap.list_snapshots(tmp_path) == [sid]


def test_partial_snapshots_are_removed(tmp_path):
    sid = OffsetAndEpoch(10, 1)
    writer = snap.SnapshotWriter(tmp_path, sid, 0, now_ms=0)
    writer.append([b"x"])
    assert snap.list_snapshots(tmp_path) == []
    snap.remove_partial_snapshots(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("cut", [1, 20, 70])
def test_truncated_snapshot_is_corrupt(tmp_path, cut):
    sid = OffsetAndEpoch(10, 1)
    path = snap.write_snapshot(tmp_path, sid, 0, [b"a" * 50, b"b" * 50], now_ms=0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - cut])
    with pytest.raises(CorruptSnapshotError):
        snap.SnapshotReader.open(tmp_path, sid)


def test_snapshot_delete(tmp_path):
    sid = OffsetAndEpoch(10, 1)
    snap.write_snapshot(tmp_path, sid, 0, [b"a"], now_ms=0)
    snap.delete_snapshot(tmp_path, sid)
    assert list(tmp_path.iterdir()) == []
