"""Apache Kafka's own Java clients (kafka-clients 4.3.0) against the broker: the default
idempotent producer with every codec, classic and KIP-848 consumer groups (members joining and
leaving with every record consumed once), the admin client, transactions on transaction versions
0 and 2, and zombie fencing.

The jars come from PyPI (tests/java/fetch_jars.py, run by tests/run.sh); the JDK from Debian.
Each scenario of tests/java/JavaClientCheck.java prints `key=value` facts that are asserted here.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from pybroker.embedded import EmbeddedBroker

JAVA_DIR = Path(__file__).resolve().parents[1] / "java"
LIB = JAVA_DIR / "lib"
JAVA, JAVAC = shutil.which("java"), shutil.which("javac")

pytestmark = pytest.mark.skipif(
    JAVA is None or JAVAC is None or not (LIB / "kafka-clients-4.3.0.jar").exists(),
    reason="a JDK or the Kafka client jars are missing (tests/run.sh installs both where it can)",
)


@pytest.fixture(scope="module")
def java_client(tmp_path_factory):
    classes = tmp_path_factory.mktemp("java-classes")
    build = subprocess.run([JAVAC, "-cp", f"{LIB}/*", "-d", str(classes), str(JAVA_DIR / "JavaClientCheck.java")],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr

    def command(scenario: str, bootstrap: str, topic: str, *args: str) -> list[str]:
        return [JAVA, "-cp", f"{LIB}/*:{classes}", "JavaClientCheck", scenario, bootstrap, topic, *args]

    def run(scenario: str, bootstrap: str, topic: str, *args: str) -> dict[str, str]:
        done = subprocess.run(command(scenario, bootstrap, topic, *args), capture_output=True, text=True, timeout=280)
        assert done.returncode == 0, done.stdout + done.stderr[-4000:]
        return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)

    def start(scenario: str, bootstrap: str, topic: str, *args: str) -> subprocess.Popen:
        """The scenario as a running process, its standard output readable line by line."""
        return subprocess.Popen(command(scenario, bootstrap, topic, *args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, bufsize=1)

    run.start = start  # type: ignore[attr-defined]
    return run


@pytest.mark.parametrize(("compression", "protocol"), [
    ("none", "classic"), ("gzip", "consumer"), ("snappy", "classic"), ("lz4", "consumer"), ("zstd", "classic"),
])
def test_default_producer_and_group_consumer(broker, topic_name, java_client, compression, protocol):
    facts = java_client("produce-consume", broker.bootstrap_servers, topic_name, "600", compression, protocol)
    assert facts["produced"] == "600"
    # Kafka 3.0+ producers are idempotent by default: the broker tracked one producer id.
    assert facts["producer.ids"] == "1" and facts["producer.last.sequence.positive"] == "true"
    assert facts["consumed"] == "600"
    assert facts["ordered"] == "true" and facts["headers"] == "true"
    assert facts["committed"] == "600"


def test_admin_client(broker, java_client):
    facts = java_client("admin", broker.bootstrap_servers, f"java-admin-{uuid.uuid4().hex[:8]}")
    assert facts == {
        "cluster.nodes": "1", "cluster.controller": "true", "listed": "true", "partitions": "3",
        "topic.id": "true", "cleanup.policy": "compact", "retention.ms": "3600000",
        "partitions.after": "4", "end.offsets": "0", "features.metadata.version": "true", "deleted": "true",
    }


def check_transactions(facts: dict[str, str]) -> None:
    assert facts["state"] == "CompleteCommit"
    assert facts["read_committed.total"] == "15" and facts["read_committed.committed"] == "15"
    assert facts["read_uncommitted.total"] == "25" and facts["read_uncommitted.committed"] == "15"


def check_fencing(facts: dict[str, str]) -> None:
    # The zombie's produce is refused for its old epoch, and the coordinator fences its abort.
    assert facts["first.send"] in ("InvalidProducerEpochException", "ProducerFencedException")
    assert facts["first.commit"] != "ok"
    assert facts["first.abort"] == "ProducerFencedException"
    assert facts["second"] == "committed"


@pytest.mark.parametrize("version", [0, 2])
def test_transactions(tmp_path, java_client, version):
    """Transaction version 2 (KIP-890 part 2, the default of a new cluster as in Kafka 4): the
    Java producer bumps the epoch at every commit and abort, three transactions ending at epoch
    3. Version 0 keeps the epoch InitProducerId gave."""
    with EmbeddedBroker(tmp_path / "data", features={"transaction.version": version},
                        config={"transaction.state.log.num.partitions": 3, "offsets.topic.num.partitions": 3}) as b:
        facts = java_client("transactions", b.bootstrap_servers, "tx")
        check_transactions(facts)
        assert facts["epoch"] == ("3" if version == 2 else "0")
        check_fencing(java_client("fencing", b.bootstrap_servers, "tx-fenced"))
        # Kafka Streams' exactly-once loop: offsets committed inside each transaction
        # (AddOffsetsToTxn and TxnOffsetCommit on version 0, TxnOffsetCommit v5 alone on 2).
        facts = java_client("consume-transform-produce", b.bootstrap_servers, "eos", "2000")
        assert facts == {"committed": "2000", "transactions.positive": "true",
                         "output.unique": "2000", "output.total": "2000"}
        requests = {key: sum(latency.counts) for key, latency in b.broker.stats.requests.items()}
        add_partitions, add_offsets = requests.get(24, 0), requests.get(25, 0)
        if version == 2:  # the client adds nothing itself: Produce v12 and TxnOffsetCommit v5 do
            assert (add_partitions, add_offsets) == (0, 0)
        else:
            assert add_partitions > 0 and add_offsets > 0


@pytest.mark.parametrize("protocol", ["classic", "consumer"])
def test_group_members_join_and_leave(broker, topic_name, java_client, protocol):
    """Two Java consumers share a 6-partition topic, a third joins, the first leaves, records
    flow all along (classic: client-side assignor; consumer: KIP-848, the broker assigns)."""
    facts = java_client("group-join-leave", broker.bootstrap_servers, topic_name, protocol)
    assert facts == {"unique": "1500", "duplicates": "0"}


def test_admin_calls_of_kafkas_command_line_tools(broker, topic_name, java_client):
    """What kafka-consumer-groups (describe, reset, delete offsets, delete), kafka-delete-records,
    kafka-log-dirs, kafka-metadata-quorum, kafka-cluster, kafka-leader-election, kafka-acls and
    kafka-transactions ask the broker."""
    facts = java_client("tool-calls", broker.bootstrap_servers, topic_name)
    assert facts == {
        "group.state": "Stable", "group.members": "1", "group.assigned": "2", "groups.listed": "true",
        "group.offsets": "20", "group.offsets.reset": "0", "group.offsets.after.delete": "1",
        "group.deleted": "true", "earliest.after.delete": "4", "log.dirs.has.partition": "true",
        "quorum.leader": str(broker.broker.node_id), "quorum.voters": "1", "cluster.id": "true",
        "acls": "SecurityDisabledException", "election": "ElectionNotNeededException", "election.all": "0",
        "txn.listed": "true", "txn.state": "Ongoing", "txn.open.on.partition": "true",
    }


def test_default_producer_through_a_broker_restart(tmp_path, java_client):
    """Apache Kafka's Java producer, idempotent by default, keeps sending while the broker
    process restarts: every record is there once, in order (InitProducerId, sequence checks and
    producer state surviving the restart)."""
    from broker_process import BrokerProcess
    from test_persistence import consume_values, create_topic

    total = 20_000
    with BrokerProcess(tmp_path / "data") as broker:
        create_topic(broker.bootstrap_servers, "java-exactly", 1)
        proc = java_client.start("produce-paced", broker.bootstrap_servers, "java-exactly", str(total))
        try:
            acked = 0
            for line in proc.stdout:
                if line.startswith("acked="):
                    acked = int(line.split("=", 1)[1])
                    if acked >= total // 4:
                        break
            assert 0 < acked < total, "the restart must happen while records are in flight"
            broker.stop()
            broker.start()
            out, err = proc.communicate(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err[-4000:]
        facts = dict(line.split("=", 1) for line in out.splitlines() if "=" in line and not line.startswith("acked="))
        assert facts == {"failed": "0", "produced": str(total)}
        got = consume_values(broker.bootstrap_servers, "java-exactly", 1, total)
        assert [v for _, _, v in sorted(got)] == [b"%08d" % i for i in range(total)]


def test_regex_subscription_and_offsets_for_times(broker, java_client):
    """KIP-848 subscription by a pattern the broker resolves (SubscriptionPattern), a matching
    topic created after the member joined included; the member resolves its assignment's topic
    ids with Metadata by id. offsetsForTimes finds the first record at or after a timestamp."""
    prefix = f"rx{uuid.uuid4().hex[:8]}"
    facts = java_client("regex-and-times", broker.bootstrap_servers, prefix)
    assert facts == {"assigned.topics": "-a,-b", "consumed": "10", "consumed.unmatched": "0",
                     "offset.for.time": "3@3000"}
