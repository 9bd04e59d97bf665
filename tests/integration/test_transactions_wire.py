"""The transaction APIs on the wire, at chosen versions: Kafka's error codes per version (fencing
before KIP-588, TRANSACTION_ABORTABLE since KIP-890), produce verification, the batched
AddPartitionsToTxn with verify_only, WriteTxnMarkers, ListTransactions filters, and the
coordinator's state surviving a broker restart."""

from __future__ import annotations

import time

import pytest

from protocol import messages as m
from protocol.errors import ErrorCode
from protocol.records import build_simple_batch
from pybroker.embedded import EmbeddedBroker
from pybroker.tools.client import BrokerConnection

E = ErrorCode


class Client:
    def __init__(self, port: int) -> None:
        self.conn = BrokerConnection("127.0.0.1", port).connect()

    def close(self) -> None:
        self.conn.close()

    def call(self, key: int, body, version: int):
        return self.conn.request(key, body, version=version)

    def wait_coordinator(self, txn_id: str) -> None:
        deadline = time.monotonic() + 15
        while True:
            r = self.call(10, m.FindCoordinatorRequest(key=txn_id, key_type=1), 3)
            if r.error_code == E.NONE:
                d = self.describe(txn_id)
                if d.error_code in (E.NONE, E.TRANSACTIONAL_ID_NOT_FOUND):
                    return
            assert time.monotonic() < deadline
            time.sleep(0.05)

    def init(self, txn_id: str, version: int = 4, timeout_ms: int = 60_000, pid: int = -1, epoch: int = -1):
        for _ in range(100):
            r = self.call(22, m.InitProducerIdRequest(transactional_id=txn_id, transaction_timeout_ms=timeout_ms,
                                                      producer_id=pid, producer_epoch=epoch), version)
            if r.error_code != E.CONCURRENT_TRANSACTIONS:
                return r
            time.sleep(0.05)
        raise AssertionError("InitProducerId kept answering CONCURRENT_TRANSACTIONS")

    def add(self, txn_id: str, pid: int, epoch: int, parts: dict[str, list[int]], version: int = 3):
        R = m.AddPartitionsToTxnRequest
        topics = [R.AddPartitionsToTxnTopic(name=t, partitions=ps) for t, ps in parts.items()]
        r = self.call(24, R(v3_and_below_transactional_id=txn_id, v3_and_below_producer_id=pid,
                            v3_and_below_producer_epoch=epoch, v3_and_below_topics=topics), version)
        return {(t.name, p.partition_index): p.partition_error_code
                for t in r.results_by_topic_v3_and_below for p in t.results_by_partition}

    def end(self, txn_id: str, pid: int, epoch: int, commit: bool, version: int = 3) -> int:
        return self.call(26, m.EndTxnRequest(transactional_id=txn_id, producer_id=pid, producer_epoch=epoch,
                                             committed=commit), version).error_code

    def end_and_wait(self, txn_id: str, pid: int, epoch: int, commit: bool) -> None:
        assert self.end(txn_id, pid, epoch, commit) == E.NONE
        while self.end(txn_id, pid, epoch, commit) == E.CONCURRENT_TRANSACTIONS:
            time.sleep(0.02)

    def produce(self, topic: str, partition: int, pid: int, epoch: int, seq: int, version: int = 9,
                txn_id: str | None = "x") -> int:
        batch = build_simple_batch([(None, b"v")], producer_id=pid, producer_epoch=epoch, base_sequence=seq,
                                   is_transactional=True)
        P = m.ProduceRequest
        r = self.call(0, P(transactional_id=txn_id, acks=-1, timeout_ms=5000, topic_data=[
            P.TopicProduceData(name=topic, partition_data=[P.PartitionProduceData(index=partition, records=batch)])
        ]), version)
        return r.responses[0].partition_responses[0].error_code

    def describe(self, txn_id: str):
        r = self.call(65, m.DescribeTransactionsRequest(transactional_ids=[txn_id]), 0)
        return r.transaction_states[0]


@pytest.fixture
def kafka(tmp_path):
    with EmbeddedBroker(tmp_path / "data", config={"transaction.state.log.num.partitions": 3}) as b:
        b.create_topic("t", partitions=2)
        client = Client(b.port)
        try:
            yield b, client
        finally:
            client.close()


def test_produce_verification_and_version_mapping(kafka):
    _b, c = kafka
    c.wait_coordinator("v")
    r = c.init("v")
    pid, epoch = r.producer_id, r.producer_epoch
    assert r.error_code == E.NONE and epoch == 0
    # A partition never added to the transaction: INVALID_TXN_STATE before Produce v11,
    # TRANSACTION_ABORTABLE from v11 (KIP-890).
    assert c.produce("t", 0, pid, epoch, 0, version=9, txn_id="v") == E.INVALID_TXN_STATE
    assert c.produce("t", 0, pid, epoch, 0, version=11, txn_id="v") == E.TRANSACTION_ABORTABLE
    assert c.add("v", pid, epoch, {"t": [0]}) == {("t", 0): E.NONE}
    assert c.produce("t", 0, pid, epoch, 0, txn_id="v") == E.NONE
    assert c.produce("t", 0, pid, epoch, 1, txn_id="v") == E.NONE  # already open: no check needed
    assert c.produce("t", 1, pid, epoch, 0, txn_id="v") == E.INVALID_TXN_STATE
    # Another epoch is fenced: INVALID_PRODUCER_EPOCH on produce
    assert c.produce("t", 1, pid, epoch + 1, 0, txn_id="v") == E.INVALID_PRODUCER_EPOCH
    # AddPartitionsToTxn for an unknown partition: the others are not attempted
    assert c.add("v", pid, epoch, {"t": [1, 7]}) == {("t", 1): E.OPERATION_NOT_ATTEMPTED,
                                                     ("t", 7): E.UNKNOWN_TOPIC_OR_PARTITION}
    # PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before AddPartitionsToTxn v2 / EndTxn v2
    assert c.add("v", pid, epoch + 1, {"t": [1]}, version=1) == {("t", 1): E.INVALID_PRODUCER_EPOCH}
    assert c.add("v", pid, epoch + 1, {"t": [1]}, version=2) == {("t", 1): E.PRODUCER_FENCED}
    assert c.end("v", pid, epoch + 1, True, version=1) == E.INVALID_PRODUCER_EPOCH
    assert c.end("v", pid, epoch + 1, True, version=2) == E.PRODUCER_FENCED
    assert c.end("v", pid + 100, epoch, True) == E.INVALID_PRODUCER_ID_MAPPING
    c.end_and_wait("v", pid, epoch, True)
    assert c.describe("v").transaction_state == "CompleteCommit"
    assert c.end("v", pid, epoch, False) == E.INVALID_TXN_STATE


def test_init_producer_id_errors_and_kip360(kafka):
    _b, c = kafka
    c.wait_coordinator("k")
    assert c.init("k", timeout_ms=900_001).error_code == E.INVALID_TRANSACTION_TIMEOUT
    assert c.init("", version=4).error_code == E.INVALID_REQUEST
    r = c.init("k")
    resumed = c.init("k", version=4, pid=r.producer_id, epoch=r.producer_epoch)
    assert (resumed.error_code, resumed.producer_id, resumed.producer_epoch) == (E.NONE, r.producer_id, 1)
    # a stale producer presenting an older epoch is fenced (INVALID_PRODUCER_EPOCH before v4)
    c.init("k")
    assert c.init("k", version=4, pid=r.producer_id, epoch=0).error_code == E.PRODUCER_FENCED
    assert c.init("k", version=3, pid=r.producer_id, epoch=0).error_code == E.INVALID_PRODUCER_EPOCH
    assert c.init("k", version=4, pid=r.producer_id, epoch=-1).error_code == E.INVALID_REQUEST


def test_batched_add_partitions_with_verify_only(kafka):
    _b, c = kafka
    c.wait_coordinator("b1")
    c.wait_coordinator("b2")
    one, two = c.init("b1"), c.init("b2")
    assert c.add("b1", one.producer_id, 0, {"t": [0]}) == {("t", 0): E.NONE}
    R = m.AddPartitionsToTxnRequest

    def txn(tid, pid, verify):
        return R.AddPartitionsToTxnTransaction(transactional_id=tid, producer_id=pid, producer_epoch=0,
                                               verify_only=verify,
                                               topics=[R.AddPartitionsToTxnTopic(name="t", partitions=[0, 1])])

    for version, abortable in ((4, E.INVALID_TXN_STATE), (5, E.TRANSACTION_ABORTABLE)):
        r = c.call(24, R(transactions=[txn("b1", one.producer_id, True)]), version)
        assert r.error_code == E.NONE
        [res] = r.results_by_transaction
        got = {(t.name, p.partition_index): p.partition_error_code for t in res.topic_results
               for p in t.results_by_partition}
        assert got == {("t", 0): E.NONE, ("t", 1): abortable}
    r = c.call(24, R(transactions=[txn("b2", two.producer_id, False), txn("b1", one.producer_id + 9, True)]), 5)
    codes = {res.transactional_id: {p.partition_error_code for t in res.topic_results for p in t.results_by_partition}
             for res in r.results_by_transaction}
    assert codes == {"b2": {E.NONE}, "b1": {E.INVALID_PRODUCER_ID_MAPPING}}
    assert c.describe("b2").transaction_state == "Ongoing"


def test_write_txn_markers_and_list_filters(kafka):
    b, c = kafka
    c.wait_coordinator("w")
    r = c.init("w")
    assert c.add("w", r.producer_id, 0, {"t": [1]}) == {("t", 1): E.NONE}
    assert c.produce("t", 1, r.producer_id, 0, 0, txn_id="w") == E.NONE
    W = m.WriteTxnMarkersRequest
    marker = W.WritableTxnMarker(producer_id=r.producer_id, producer_epoch=0, transaction_result=False,
                                 topics=[W.WritableTxnMarkerTopic(name="t", partition_indexes=[1, 5])],
                                 coordinator_epoch=0)
    resp = c.call(27, W(markers=[marker]), 1)
    got = {(t.name, p.partition_index): p.error_code for mk in resp.markers for t in mk.topics for p in t.partitions}
    assert got == {("t", 1): E.NONE, ("t", 5): E.UNKNOWN_TOPIC_OR_PARTITION}
    partition = b.broker.replicas.get("t", 1)
    assert partition.last_stable_offset() == partition.high_watermark == 2
    assert [t.producer_id for t in partition.log.collect_aborted_transactions(0, 2)] == [r.producer_id]
    # an older producer epoch is refused
    old = W.WritableTxnMarker(producer_id=r.producer_id, producer_epoch=-1, transaction_result=True,
                              topics=[W.WritableTxnMarkerTopic(name="t", partition_indexes=[1])], coordinator_epoch=0)
    [mk] = c.call(27, W(markers=[old]), 2).markers
    assert mk.topics[0].partitions[0].error_code == E.INVALID_PRODUCER_EPOCH

    L = m.ListTransactionsRequest
    listed = c.call(66, L(state_filters=["Ongoing", "Bogus"], producer_id_filters=[]), 0)
    assert listed.unknown_state_filters == ["Bogus"]
    assert [(t.transactional_id, t.transaction_state) for t in listed.transaction_states] == [("w", "Ongoing")]
    assert c.call(66, L(state_filters=[], producer_id_filters=[], duration_filter=3_600_000), 1).transaction_states == []
    bad = c.call(66, L(state_filters=[], producer_id_filters=[], transactional_id_pattern="(unclosed"), 2)
    assert bad.error_code == E.INVALID_REGULAR_EXPRESSION
    assert [t.transactional_id for t in c.call(66, L(state_filters=[], producer_id_filters=[],
                                                       transactional_id_pattern="w|x"), 2).transaction_states] == ["w"]
    assert c.describe("nope").error_code == E.TRANSACTIONAL_ID_NOT_FOUND


def test_coordinator_state_survives_a_restart(tmp_path):
    data = tmp_path / "data"
    with EmbeddedBroker(data, config={"transaction.state.log.num.partitions": 3}) as b:
        b.create_topic("t", partitions=1)
        c = Client(b.port)
        c.wait_coordinator("r")
        r = c.init("r")
        c.init("r")
        assert c.add("r", r.producer_id, 1, {"t": [0]}) == {("t", 0): E.NONE}
        assert c.produce("t", 0, r.producer_id, 1, 0, txn_id="r") == E.NONE
        c.close()
    with EmbeddedBroker(data, config={"transaction.state.log.num.partitions": 3}) as b:
        c = Client(b.port)
        c.wait_coordinator("r")
        d = c.describe("r")
        assert (d.transaction_state, d.producer_id, d.producer_epoch) == ("Ongoing", r.producer_id, 1)
        assert [(t.topic, t.partitions) for t in d.topics] == [("t", [0])]
        partition = b.broker.replicas.get("t", 0)
        assert partition.last_stable_offset() == 0  # still open after the restart
        c.end_and_wait("r", r.producer_id, 1, True)
        assert partition.last_stable_offset() == partition.high_watermark == 2
        again = c.init("r")
        assert (again.producer_id, again.producer_epoch) == (r.producer_id, 2)
        c.close()
