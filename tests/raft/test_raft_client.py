"""The raft client with one voter: election on start, epochs across restarts, the quorum-state
file, in-order exactly-once commits, crash recovery, and snapshots."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from protocol.records import ControlType
from raft import NotLeaderError, OffsetAndEpoch, RaftClient, decode_leader_change, snapshot_filename
from raft.errors import InvalidSnapshotIdError
from raft.log import RaftLog
from raft_helpers import Counter, Recorder, num, run


def clock():
    return 1_700_000_000_000


def client(path, node=1, **kw):
    return RaftClient(node, [node], path, clock=clock, **kw)


def test_sole_voter_is_leader_after_start(tmp_path):
    async def main():
        c = client(tmp_path)
        rec = Recorder()
        c.register(rec)
        with pytest.raises(NotLeaderError):
            c.append([b"x"])
        await c.start()
        assert c.is_leader and c.epoch == 1 and c.high_watermark == 1
        assert c.leader_and_epoch().leader_id == 1
        # The LeaderChange control record opened the epoch and is committed.
        [batch] = rec.batches
        assert batch.base_offset == 0 and batch.epoch == 1 and batch.records == []
        [(ctype, value)] = batch.control_records
        assert ctype == ControlType.LEADER_CHANGE
        msg = decode_leader_change(value)
        assert msg.leader_id == 1 and [v.voter_id for v in msg.voters] == [1]
        assert [v.voter_id for v in msg.granting_voters] == [1]
        assert rec.leaders[-1].leader_id == 1 and rec.leaders[-1].epoch == 1
        await c.close()

    run(main())
    state = json.loads((tmp_path / "quorum-state").read_text())
    assert state == {"clusterId": "", "leaderId": 1, "leaderEpoch": 1, "votedId": -1, "appliedOffset": 0,
                     "currentVoters": [{"voterId": 1}], "data_version": 0}
    assert (tmp_path / "00000000000000000000.log").exists()


def test_epoch_increases_across_restarts(tmp_path):
    async def main():
        for expected in (1, 2, 3):
            c = client(tmp_path)
            await c.start()
            assert c.epoch == expected
            c.append([b"v%d" % expected])
            await c.close()
        c = client(tmp_path)
        rec = Recorder()
        c.register(rec)
        await c.start()
        assert c.epoch == 4
        assert [b.epoch for b in rec.batches] == [1, 1, 2, 2, 3, 3, 4]
        assert rec.values == [b"v1", b"v2", b"v3"]
        await c.close()

    run(main())
    assert json.loads((tmp_path / "quorum-state").read_text())["leaderEpoch"] == 4


def test_commits_in_order_exactly_once(tmp_path):
    async def main():
        c = client(tmp_path)
        early, late = Recorder(), Recorder()
        c.register(early)
        await c.start()
        offsets = []
        for i in range(50):
            offsets.append(c.append([b"%d-%d" % (i, j) for j in range(i % 4 + 1)]))
            if i % 7 == 0:
                await asyncio.sleep(0)
        assert offsets == sorted(offsets)
        await c.wait_for_commit(offsets[-1])
        assert c.high_watermark == offsets[-1] + 1
        c.register(late)  # a listener registered later catches up from the start
        expected = [b"%d-%d" % (i, j) for i in range(50) for j in range(i % 4 + 1)]
        for r in (early, late):
            assert r.values == expected
            starts = [b.base_offset for b in r.batches]
            assert starts == sorted(set(starts))
            assert all(a.last_offset + 1 == b.base_offset for a, b in zip(r.batches, r.batches[1:]))
        await c.close()

    run(main())


def test_appends_wait_for_fsync_before_commit(tmp_path):
    async def main():
        c = client(tmp_path)
        await c.start()
        hw = c.high_watermark
        off = c.append([b"a"])
        assert c.high_watermark == hw  # written, not yet durable, so not committed
        await c.wait_for_commit(off)
        assert c.high_watermark == off + 1
        await c.close()

    run(main())


def test_unsynced_mode_commits_too(tmp_path):
    async def main():
        c = client(tmp_path, fsync=False)
        rec = Recorder()
        c.register(rec)
        await c.start()
        off = c.append([b"a", b"b"])
        await c.wait_for_commit(off)
        assert rec.values == [b"a", b"b"]
        await c.close()

    run(main())


def test_crash_with_torn_tail_recovers_a_prefix(tmp_path):
    async def main():
        c = client(tmp_path)
        await c.start()
        for i in range(10):
            await c.wait_for_commit(c.append([b"rec-%d" % i]))
        # Die without closing: leave the files as they are, then tear the last batch.
        for t in c._tasks:
            t.cancel()
        c.log.log.close_without_flush()
        seg = tmp_path / "00000000000000000000.log"
        size = seg.stat().st_size
        with open(seg, "r+b") as f:
            f.truncate(size - 5)

        c2 = client(tmp_path)
        rec = Recorder()
        c2.register(rec)
        await c2.start()
        assert rec.values == [b"rec-%d" % i for i in range(9)]
        assert c2.epoch == 2
        off = c2.append([b"after"])
        await c2.wait_for_commit(off)
        assert rec.values[-1] == b"after"
        await c2.close()

    run(main())


def test_snapshot_then_replay_equals_full_replay(tmp_path):
    async def main():
        c = client(tmp_path)
        counter = Counter()
        c.register(counter)
        await c.start()
        for i in range(1, 21):
            await c.wait_for_commit(c.append([num(i)]))
        sid = OffsetAndEpoch(counter.next_offset, c.epoch)
        with pytest.raises(InvalidSnapshotIdError):
            c.create_snapshot(OffsetAndEpoch(c.high_watermark + 5, c.epoch), 0)
        writer = c.create_snapshot(sid, 0)
        writer.append([num(counter.total)])
        writer.freeze()
        assert c.latest_snapshot_id == sid
        for i in range(21, 31):
            await c.wait_for_commit(c.append([num(i)]))
        full_total = counter.total
        await c.close()
        assert (tmp_path / snapshot_filename(sid)).exists()

        c2 = client(tmp_path)
        from_snapshot, rec = Counter(), Recorder()
        c2.register(from_snapshot)
        c2.register(rec)
        await c2.start()
        assert from_snapshot.total == full_total == sum(range(1, 31))
        assert from_snapshot.applied == list(range(21, 31))  # only the log after the snapshot
        assert rec.events[0] == ("snapshot", sid.offset)
        await c2.close()

    run(main())


def test_log_behind_snapshot_restarts_at_snapshot(tmp_path):
    async def main():
        c = client(tmp_path)
        counter = Counter()
        c.register(counter)
        await c.start()
        for i in range(1, 6):
            await c.wait_for_commit(c.append([num(i)]))
        sid = OffsetAndEpoch(counter.next_offset, c.epoch)
        w = c.create_snapshot(sid, 0)
        w.append([num(counter.total)])
        w.freeze()
        await c.close()
        # Lose the log entirely (a disk that dropped unsynced data would do it too).
        for name in os.listdir(tmp_path):
            if name.endswith((".log", ".index", ".timeindex")) or name == "leader-epoch-checkpoint":
                os.unlink(tmp_path / name)
        c2 = client(tmp_path)
        restored = Counter()
        c2.register(restored)
        await c2.start()
        assert c2.log.start_offset == sid.offset
        assert restored.total == 15
        await c2.wait_for_commit(c2.append([num(100)]))
        assert restored.total == 115
        await c2.close()

    run(main())


def test_raft_log_reads_whole_batches(tmp_path):
    log = RaftLog.open(tmp_path, clock=clock)
    log.append_as_leader([b"a", b"b", b"c"], 1, 0)
    log.append_as_leader([b"d"], 1, 0)
    batches = list(log.read_batches(1, 4))
    assert [(b.base_offset, b.last_offset) for b in batches] == [(0, 2), (3, 3)]
    assert list(log.read_batches(3, 4))[0].records == [b"d"]
    assert log.end_offset_and_epoch() == OffsetAndEpoch(4, 1)
    log.close()
