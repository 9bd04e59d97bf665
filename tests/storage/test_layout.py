"""Byte-level layout: file names, index and time-index entries, checkpoint texts, snapshots."""

from __future__ import annotations

import json
import os
import struct

import crc32c

from storage import Log, LogConfig
from storage.checkpoints import (
    read_clean_shutdown_epoch, read_epochs, read_offsets, write_clean_shutdown, write_epochs,
    write_offsets,
)
from storage.producer_state import BatchMetadata, ProducerEntry, read_snapshot, write_snapshot
from storage_helpers import make_batch


def test_segment_file_names_and_index_bytes(tmp_path):
    cfg = LogConfig(segment_bytes=10_000, index_interval_bytes=200, segment_index_bytes=4096)
    log = Log.open(tmp_path / "topic-3", cfg)
    sizes = []
    for i in range(12):
        b = make_batch(2, value_size=60, timestamp=5000 + (i * 7) % 40)
        sizes.append(len(b))
        log.append(b, leader_epoch=0)
    log.close()
    names = sorted(os.listdir(tmp_path / "topic-3"))
    assert "00000000000000000000.log" in names
    assert "00000000000000000000.index" in names
    assert "00000000000000000000.timeindex" in names
    assert "00000000000000000024.snapshot" in names
    assert "leader-epoch-checkpoint" in names
    # Expected entries by Kafka's rule, computed independently.
    pos, since, max_ts, max_off = 0, 0, -1, 0
    idx, tidx = [], []
    for i, size in enumerate(sizes):
        last = 2 * i + 1
        ts = 5000 + (i * 7) % 40
        if ts > max_ts:
            max_ts, max_off = ts, last
        if since > 200:
            idx.append(struct.pack(">ii", last, pos))
            if not tidx or max_ts > struct.unpack(">qi", tidx[-1])[0]:
                tidx.append(struct.pack(">qi", max_ts, max_off))
            since = 0
        since += size
        pos += size
    if max_ts > struct.unpack(">qi", tidx[-1])[0]:
        tidx.append(struct.pack(">qi", max_ts, max_off))  # the final entry written on close
    assert (tmp_path / "topic-3" / "00000000000000000000.index").read_bytes() == b"".join(idx)
    assert (tmp_path / "topic-3" / "00000000000000000000.timeindex").read_bytes() == b"".join(tidx)
    assert (tmp_path / "topic-3" / "leader-epoch-checkpoint").read_text() == "0\n1\n0 0\n"


def test_offset_checkpoint_text(tmp_path):
    path = str(tmp_path / "recovery-point-offset-checkpoint")
    write_offsets(path, {("orders", 1): 7, ("orders", 0): 42, ("a.b-c", 12): 0})
    assert open(path).read() == "0\n3\na.b-c 12 0\norders 0 42\norders 1 7\n"
    assert read_offsets(path) == {("orders", 1): 7, ("orders", 0): 42, ("a.b-c", 12): 0}
    assert read_offsets(str(tmp_path / "missing")) == {}


def test_leader_epoch_checkpoint_text(tmp_path):
    path = str(tmp_path / "leader-epoch-checkpoint")
    write_epochs(path, [(0, 0), (3, 120), (4, 500)])
    assert open(path).read() == "0\n3\n0 0\n3 120\n4 500\n"
    assert read_epochs(path) == [(0, 0), (3, 120), (4, 500)]


def test_clean_shutdown_marker(tmp_path):
    write_clean_shutdown(str(tmp_path), broker_epoch=17)
    body = json.loads((tmp_path / ".kafka_cleanshutdown").read_text())
    assert body == {"version": "0", "broker_epoch": "17"}
    assert read_clean_shutdown_epoch(str(tmp_path)) == 17
    (tmp_path / ".kafka_cleanshutdown").write_text("")  # Kafka before 3.7 wrote it empty
    assert read_clean_shutdown_epoch(str(tmp_path)) == -1


def test_producer_snapshot_bytes(tmp_path):
    path = str(tmp_path / "00000000000000000100.snapshot")
    e = ProducerEntry(producer_id=9, epoch=2, coordinator_epoch=5, last_timestamp=777,
                      current_txn_first_offset=90)
    e.batches.append(BatchMetadata(10, 14, 95, 99, 777))
    empty = ProducerEntry(producer_id=3, epoch=0, last_timestamp=11)
    write_snapshot(path, [e, empty])
    data = open(path, "rb").read()
    entries = (
        struct.pack(">qhiqiqiq", 3, 0, -1, -1, 0, 11, -1, -1)
        + struct.pack(">qhiqiqiq", 9, 2, 14, 99, 4, 777, 5, 90)
    )
    body = struct.pack(">i", 2) + entries
    assert data == struct.pack(">hI", 1, crc32c.crc32c(body)) + body
    back = {x.producer_id: x for x in read_snapshot(path)}
    assert back[9].batches[-1] == BatchMetadata(10, 14, 95, 99, 777)
    assert back[9].current_txn_first_offset == 90 and back[9].coordinator_epoch == 5
    assert not back[3].batches
