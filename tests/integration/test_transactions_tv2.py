"""Transaction version 2 (KIP-890 part 2) on the wire, with the project's own client emulating a
transactional producer of transaction version 2 against a broker whose cluster finalizes
`transaction.version` 2: InitProducerId, Produce v12 without AddPartitionsToTxn, TxnOffsetCommit
v5, EndTxn v5 commits and aborts bumping the epoch, markers at the bumped epoch, read_committed
consumers (confluent-kafka) seeing exactly the committed records, zombies fenced with the old
epoch, epoch exhaustion moving to a new producer id, a restart in the middle of a transaction,
and the version gate (transaction.version 0, EndTxn v4, Produce v11 keep version 1)."""

from __future__ import annotations

import time

import pytest

from protocol import messages as m
from protocol.errors import ErrorCode
from protocol.records import ControlType, build_simple_batch, decode_batch, iter_batches, parse_control_key
from pybroker.embedded import EmbeddedBroker

from test_transactions_wire import Client

E = ErrorCode
TV2 = {"transaction.version": 2}
CONFIG = {"transaction.state.log.num.partitions": 3, "offsets.topic.num.partitions": 3}


class Producer2(Client):
    """The requests a transaction version 2 producer sends."""

    def send(self, txn_id: str, topic: str, partition: int, pid: int, epoch: int, seq: int, *vals: bytes,
             version: int = 12) -> int:
        batch = build_simple_batch([(None, v) for v in vals or (b"v",)], producer_id=pid, producer_epoch=epoch,
                                   base_sequence=seq, is_transactional=True)
        P = m.ProduceRequest
        r = self.call(0, P(transactional_id=txn_id, acks=-1, timeout_ms=5000, topic_data=[
            P.TopicProduceData(name=topic, partition_data=[P.PartitionProduceData(index=partition, records=batch)])
        ]), version)
        return r.responses[0].partition_responses[0].error_code

    def end5(self, txn_id: str, pid: int, epoch: int, commit: bool, version: int = 5) -> tuple[int, int, int]:
        r = self.call(26, m.EndTxnRequest(transactional_id=txn_id, producer_id=pid, producer_epoch=epoch,
                                          committed=commit), version)
        return r.error_code, r.producer_id, r.producer_epoch

    def wait_complete(self, txn_id: str) -> str:
        deadline = time.monotonic() + 10
        while True:
            state = self.describe(txn_id).transaction_state
            if state.startswith("Complete") or state == "Empty":
                return state
            assert time.monotonic() < deadline, state
            time.sleep(0.02)

    def wait_group_coordinator(self, group: str) -> None:
        deadline = time.monotonic() + 15
        while self.call(10, m.FindCoordinatorRequest(key=group, key_type=0), 3).error_code != E.NONE:
            assert time.monotonic() < deadline
            time.sleep(0.05)

    def txn_offset_commit(self, txn_id: str, group: str, pid: int, epoch: int, offsets: dict[tuple[str, int], int],
                          version: int = 5) -> set[int]:
        R = m.TxnOffsetCommitRequest
        by_topic: dict[str, list] = {}
        for (t, p), off in offsets.items():
            by_topic.setdefault(t, []).append(R.TxnOffsetCommitRequestPartition(
                partition_index=p, committed_offset=off, committed_leader_epoch=-1, committed_metadata=None))
        r = self.call(28, R(transactional_id=txn_id, group_id=group, producer_id=pid, producer_epoch=epoch,
                            generation_id=-1, member_id="", group_instance_id=None,
                            topics=[R.TxnOffsetCommitRequestTopic(name=t, partitions=ps) for t, ps in by_topic.items()]),
                      version)
        return {p.error_code for t in r.topics for p in t.partitions}

    def committed(self, group: str, topic: str, partition: int) -> int:
        R = m.OffsetFetchRequest
        r = self.call(9, R(group_id=group, topics=[R.OffsetFetchRequestTopic(name=topic, partition_indexes=[partition])],
                           require_stable=True), 7)
        return r.topics[0].partitions[0].committed_offset


def consume_all(bs: str, topic: str, partitions: int, isolation: str, expect: int, timeout: float = 20.0) -> list:
    """Every record value of `topic` (confluent-kafka consumer), once `expect` are read."""
    ck = pytest.importorskip("confluent_kafka")
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "tv2-assign-only", "isolation.level": isolation,
                     "enable.auto.commit": False})
    c.assign([ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in range(partitions)])
    out: list = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < expect and time.monotonic() < deadline:
            out += [msg for msg in c.consume(500, 0.2) if msg.error() is None]
        # nothing more arrives that should not
        out += [msg for msg in c.consume(500, 0.5) if msg.error() is None]
    finally:
        c.close()
    return out


def values(msgs: list) -> list[bytes]:
    return sorted(msg.value() for msg in msgs)


def markers(b: EmbeddedBroker, topic: str, partition: int) -> list[tuple[int, int, bool]]:
    """(producer id, epoch, commit) of every transaction marker of a partition, in log order."""
    log = b.broker.replicas.get(topic, partition).log
    data = bytes(log.read(0, 1 << 20).records)
    out = []
    for pos, h in iter_batches(data):
        header, records = decode_batch(data, pos)
        if header.is_control:
            for r in records:
                _v, kind = parse_control_key(r.key)
                out.append((header.producer_id, header.producer_epoch, kind == ControlType.COMMIT))
    return out


@pytest.fixture
def tv2(tmp_path):
    with EmbeddedBroker(tmp_path / "data", features=TV2, config=CONFIG) as b:
        b.create_topic("t", partitions=2)
        client = Producer2(b.port)
        try:
            yield b, client
        finally:
            client.close()


def test_commit_and_abort_bump_the_epoch_and_read_committed_sees_the_commit(tv2):
    b, c = tv2
    c.wait_coordinator("p")
    c.wait_group_coordinator("g")
    r = c.init("p", version=5)
    pid = r.producer_id
    assert (r.error_code, r.producer_epoch) == (E.NONE, 0)
    # Produce v12 adds the partitions itself: no AddPartitionsToTxn
    assert c.send("p", "t", 0, pid, 0, 0, b"c1", b"c2") == E.NONE
    assert c.send("p", "t", 1, pid, 0, 0, b"c3") == E.NONE
    assert c.send("p", "t", 0, pid, 0, 2, b"c4") == E.NONE
    assert c.txn_offset_commit("p", "g", pid, 0, {("t", 0): 7}) == {E.NONE}
    d = c.describe("p")
    parts = {(t.topic, p) for t in d.topics for p in t.partitions}
    assert d.transaction_state == "Ongoing" and {("t", 0), ("t", 1)} <= parts
    assert any(t == "__consumer_offsets" for t, _ in parts)
    assert c.committed("g", "t", 0) == -1  # not visible before the commit
    assert c.end5("p", pid, 0, True) == (E.NONE, pid, 1)
    assert c.wait_complete("p") == "CompleteCommit"
    assert c.committed("g", "t", 0) == 7
    # the second transaction runs at epoch 1 (sequences start again) and is aborted
    assert c.send("p", "t", 0, pid, 1, 0, b"a1") == E.NONE
    assert c.txn_offset_commit("p", "g", pid, 1, {("t", 0): 99}) == {E.NONE}
    assert c.end5("p", pid, 1, False) == (E.NONE, pid, 2)
    assert c.wait_complete("p") == "CompleteAbort"
    assert c.committed("g", "t", 0) == 7
    # markers carry the epoch the transaction's end bumped to
    assert markers(b, "t", 0) == [(pid, 1, True), (pid, 2, False)]
    assert markers(b, "t", 1) == [(pid, 1, True)]
    # a retry of the abort (one epoch behind) gets the current id and epoch
    assert c.end5("p", pid, 1, False) == (E.NONE, pid, 2)

    assert values(consume_all(b.bootstrap_servers, "t", 2, "read_committed", expect=4)) == [b"c1", b"c2", b"c3", b"c4"]
    assert len(consume_all(b.bootstrap_servers, "t", 2, "read_uncommitted", expect=5)) == 5


def test_zombies_are_fenced_with_the_old_epoch(tv2):
    b, c = tv2
    c.wait_coordinator("z")
    pid = c.init("z", version=5).producer_id
    assert c.send("z", "t", 0, pid, 0, 0) == E.NONE
    assert c.end5("z", pid, 0, True) == (E.NONE, pid, 1)
    c.wait_complete("z")
    # the previous epoch: its produce and its EndTxn are fenced
    assert c.send("z", "t", 0, pid, 0, 1) == E.INVALID_PRODUCER_EPOCH
    assert c.send("z", "t", 1, pid, 0, 0) == E.INVALID_PRODUCER_EPOCH
    assert c.end5("z", pid, 0, False)[0] == E.INVALID_TXN_STATE  # a commit's retry may not abort
    assert c.end5("z", pid - 1 if pid else pid + 5, 1, True)[0] == E.INVALID_PRODUCER_ID_MAPPING
    # a new instance fences an ongoing transaction: one epoch bump for the abort, one on retry
    assert c.send("z", "t", 1, pid, 1, 0, b"zombie") == E.NONE
    r = c.init("z", version=5)
    assert (r.error_code, r.producer_id, r.producer_epoch) == (E.NONE, pid, 3)
    assert markers(b, "t", 1) == [(pid, 2, False)]  # the abort's marker: epoch 1 bumped once
    assert c.send("z", "t", 1, pid, 1, 1) == E.INVALID_PRODUCER_EPOCH
    assert c.end5("z", pid, 1, True) == (E.PRODUCER_FENCED, -1, -1)
    assert c.end5("z", pid, 2, True) == (E.PRODUCER_FENCED, -1, -1)
    # TxnOffsetCommit v5 with the old epoch
    c.wait_group_coordinator("gz")
    assert c.txn_offset_commit("z", "gz", pid, 1, {("t", 0): 1}) == {E.INVALID_PRODUCER_EPOCH}
    # and the new instance works
    assert c.send("z", "t", 1, pid, 3, 0) == E.NONE
    assert c.end5("z", pid, 3, True) == (E.NONE, pid, 4)


def test_an_empty_abort_and_a_commit_without_a_transaction(tv2):
    _b, c = tv2
    c.wait_coordinator("e")
    pid = c.init("e", version=5).producer_id
    assert c.end5("e", pid, 0, True) == (E.INVALID_TXN_STATE, -1, -1)
    assert c.end5("e", pid, 0, False) == (E.NONE, pid, 1)
    assert c.wait_complete("e") == "CompleteAbort"
    assert c.end5("e", pid, 1, False) == (E.NONE, pid, 2)


def test_epoch_exhaustion_moves_to_a_new_producer_id(tv2):
    b, c = tv2
    c.wait_coordinator("x")
    pid = c.init("x", version=5).producer_id
    last = 32766  # Short.MAX_VALUE - 1: the last epoch a client may use

    async def exhaust():
        b.broker.transactions.runtime.shard_for("x").txns["x"].producer_epoch = last

    b.call(exhaust())
    assert c.send("x", "t", 0, pid, last, 0, b"last") == E.NONE
    err, new_pid, new_epoch = c.end5("x", pid, last, True)
    assert (err, new_epoch) == (E.NONE, 0) and new_pid != pid
    assert c.wait_complete("x") == "CompleteCommit"
    assert markers(b, "t", 0) == [(pid, 32767, True)]
    d = c.describe("x")
    assert (d.producer_id, d.producer_epoch) == (new_pid, 0)
    # the retry of the overflowing commit gets the new id; the new id carries on
    assert c.end5("x", pid, last, True) == (E.NONE, new_pid, 0)
    assert c.send("x", "t", 0, new_pid, 0, 0, b"next") == E.NONE
    assert c.end5("x", new_pid, 0, True) == (E.NONE, new_pid, 1)
    c.wait_complete("x")
    assert markers(b, "t", 0) == [(pid, 32767, True), (new_pid, 1, True)]

    assert values(consume_all(b.bootstrap_servers, "t", 1, "read_committed", expect=2)) == [b"last", b"next"]


def test_a_restart_in_the_middle_of_a_transaction(tmp_path):
    data = tmp_path / "data"
    with EmbeddedBroker(data, features=TV2, config=CONFIG) as b:
        b.create_topic("t", partitions=1)
        c = Producer2(b.port)
        c.wait_coordinator("r")
        pid = c.init("r", version=5).producer_id
        assert c.send("r", "t", 0, pid, 0, 0, b"one") == E.NONE
        assert c.end5("r", pid, 0, True) == (E.NONE, pid, 1)
        c.wait_complete("r")
        assert c.send("r", "t", 0, pid, 1, 0, b"two") == E.NONE
        c.close()
    # the coordinator replays its records (version 1 values) and the transaction goes on
    with EmbeddedBroker(data, config=CONFIG) as b:
        c = Producer2(b.port)
        c.wait_coordinator("r")
        d = c.describe("r")
        assert (d.transaction_state, d.producer_id, d.producer_epoch) == ("Ongoing", pid, 1)
        assert c.send("r", "t", 0, pid, 1, 1, b"three") == E.NONE
        assert c.end5("r", pid, 1, True) == (E.NONE, pid, 2)
        c.wait_complete("r")
        assert markers(b, "t", 0) == [(pid, 1, True), (pid, 2, True)]
        c.close()

        assert values(consume_all(b.bootstrap_servers, "t", 1, "read_committed", expect=3)) == [
            b"one", b"three", b"two"]


def test_transaction_version_1_requests_on_a_version_2_cluster(tv2):
    b, c = tv2
    c.wait_coordinator("o")
    pid = c.init("o", version=4).producer_id
    # Produce v11: the partition must have been added
    assert c.send("o", "t", 0, pid, 0, 0, version=11) == E.TRANSACTION_ABORTABLE
    assert c.add("o", pid, 0, {"t": [0]}) == {("t", 0): E.NONE}
    assert c.send("o", "t", 0, pid, 0, 0, version=11) == E.NONE
    # EndTxn v4: no epoch bump, no id and epoch in the response
    assert c.end5("o", pid, 0, True, version=4) == (E.NONE, -1, -1)
    c.wait_complete("o")
    assert markers(b, "t", 0) == [(pid, 0, True)]
    assert c.describe("o").producer_epoch == 0


def test_a_cluster_without_transaction_version_2_serves_version_1(tmp_path):
    with EmbeddedBroker(tmp_path / "data", features={"transaction.version": 0}, config=CONFIG) as b:
        b.create_topic("t", partitions=1)
        c = Producer2(b.port)
        try:
            c.wait_coordinator("n")
            pid = c.init("n", version=5).producer_id
            assert c.send("n", "t", 0, pid, 0, 0, version=12) == E.TRANSACTION_ABORTABLE
            assert c.add("n", pid, 0, {"t": [0]}) == {("t", 0): E.NONE}
            assert c.send("n", "t", 0, pid, 0, 0, version=12) == E.NONE
            assert c.end5("n", pid, 0, True) == (E.NONE, -1, -1)
            c.wait_complete("n")
            assert markers(b, "t", 0) == [(pid, 0, True)]
            # finalizing transaction.version 2 at run time turns version 2 on
            R = m.UpdateFeaturesRequest
            r = c.call(57, R(timeout_ms=5000, feature_updates=[R.FeatureUpdateKey(
                feature="transaction.version", max_version_level=2, upgrade_type=1)], validate_only=False), 2)
            assert r.error_code == E.NONE
            assert c.send("n", "t", 0, pid, 0, 1, version=12) == E.NONE
            assert c.end5("n", pid, 0, False) == (E.NONE, pid, 1)
            c.wait_complete("n")
            assert markers(b, "t", 0) == [(pid, 0, True), (pid, 1, False)]
        finally:
            c.close()


def test_adding_through_another_brokers_coordinator_client(tv2):
    """The path to a coordinator on another broker (AddPartitionsToTxn v5, verify_only false),
    pointed at this broker's own listener."""
    b, c = tv2
    c.wait_coordinator("rm")
    pid = c.init("rm", version=5).producer_id
    remote = b.broker.transactions._remote
    assert remote.add_partitions(b.broker.node_id, "rm", pid, 0, {("t", 1)}) == {("t", 1): E.NONE}
    assert remote.add_partitions(b.broker.node_id, "rm", pid, 7, {("t", 0)}) == {("t", 0): E.PRODUCER_FENCED}
    d = c.describe("rm")
    assert d.transaction_state == "Ongoing" and [(t.topic, t.partitions) for t in d.topics] == [("t", [1])]
    assert c.send("rm", "t", 1, pid, 0, 0) == E.NONE
    assert c.end5("rm", pid, 0, True) == (E.NONE, pid, 1)


def test_confluent_kafka_transactions_on_a_version_2_cluster(tv2):
    """librdkafka speaks transaction version 1 (EndTxn v1): unchanged on a version 2 cluster."""
    ck = pytest.importorskip("confluent_kafka")

    b, _c = tv2
    p = ck.Producer({"bootstrap.servers": b.bootstrap_servers, "transactional.id": "ck-tv2", "linger.ms": 5})
    p.init_transactions(15)
    p.begin_transaction()
    for i in range(5):
        p.produce("t", b"ok-%d" % i, partition=i % 2)
    p.commit_transaction(15)
    p.begin_transaction()
    p.produce("t", b"no", partition=0)
    p.abort_transaction(15)
    p.flush(5)
    assert values(consume_all(b.bootstrap_servers, "t", 2, "read_committed", expect=5)) == [
        b"ok-%d" % i for i in range(5)]


def test_the_next_transaction_may_start_before_the_markers_are_written(tv2):
    """The client goes on at once with the epoch EndTxn returned: its first produce waits (the
    broker retries the add while the coordinator writes the previous markers) or gets a
    retriable error, never a fencing one."""
    b, c = tv2
    c.wait_coordinator("q")
    pid = c.init("q", version=5).producer_id
    epoch = 0
    for round_ in range(20):
        part = round_ % 2
        seq = 0
        for _ in range(50):
            code = c.send("q", "t", part, pid, epoch, seq, b"r%d" % round_)
            if code == E.NONE:
                break
            assert code == E.NOT_ENOUGH_REPLICAS, code  # CONCURRENT_TRANSACTIONS, as produce says it
            time.sleep(0.01)
        else:
            raise AssertionError("the partition was never added")
        err, _pid, epoch = c.end5("q", pid, epoch, True)
        assert err == E.NONE and epoch == round_ + 1
    c.wait_complete("q")

    assert len(values(consume_all(b.bootstrap_servers, "t", 2, "read_committed", expect=20))) == 20


def test_write_txn_markers_v2_refuses_a_late_marker_of_the_previous_transaction(tv2):
    b, c = tv2
    c.wait_coordinator("w2")
    pid = c.init("w2", version=5).producer_id
    assert c.send("w2", "t", 0, pid, 0, 0) == E.NONE
    assert c.end5("w2", pid, 0, True) == (E.NONE, pid, 1)
    c.wait_complete("w2")
    assert c.send("w2", "t", 0, pid, 1, 0) == E.NONE  # the next transaction, at epoch 1
    W = m.WriteTxnMarkersRequest

    def marker(version: int) -> int:
        mk = W.WritableTxnMarker(producer_id=pid, producer_epoch=1, transaction_result=True, coordinator_epoch=0,
                                 topics=[W.WritableTxnMarkerTopic(name="t", partition_indexes=[0])],
                                 transaction_version=2)
        [res] = c.call(27, W(markers=[mk]), version).markers
        return res.topics[0].partitions[0].error_code

    assert marker(2) == E.INVALID_PRODUCER_EPOCH
    assert c.describe("w2").transaction_state == "Ongoing"
    assert b.broker.replicas.get("t", 0).last_stable_offset() < b.broker.replicas.get("t", 0).high_watermark
