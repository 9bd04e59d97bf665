"""The assembled metadata system on a real metadata log: start, register, operate, publish,
snapshot, and restart to the same image (from the log alone, and from snapshot + log)."""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.errors import ErrorCode
from pybroker.metadata import (
    AlterableConfig, AlterConfigOp, AlterConfigsResource, ConfigResourceType, CreatableTopic,
    CreatePartitionsRequest, CreatePartitionsTopic, CreateTopicsRequest, DeleteTopicsRequest, Endpoint,
    IncrementalAlterConfigsResource, MetadataImage, NotControllerError, start_metadata,
)
from pybroker.metadata.controller import QuorumController
from raft import RaftClient, list_snapshots

CLUSTER = "MkU3OEVBNTcwNTJENDM2Qg"
LISTENERS = [Endpoint("PLAINTEXT", "localhost", 9092)]


def run(coro):
    return asyncio.run(coro)


async def started(path, **kw):
    return await start_metadata(1, CLUSTER, path, [1], kw.pop("config", {}), fsync=kw.pop("fsync", False), **kw)


def test_start_bootstraps_and_registers(tmp_path):
    async def main():
        system = await started(tmp_path)
        img = system.image
        assert img.metadata_version == 25 and img.controller_id == 1 and img.cluster_id == CLUSTER
        reg = await system.register_broker(LISTENERS, rack="r1")
        assert not reg.fenced and reg.rack == "r1" and reg.epoch == system.broker_epoch
        assert system.image.broker(1).endpoint("PLAINTEXT").port == 9092
        await system.close()

    run(main())
    log_dir = tmp_path / "__cluster_metadata-0"
    assert (log_dir / "quorum-state").exists() and (log_dir / "00000000000000000000.log").exists()


def test_operations_are_visible_locally_when_they_return(tmp_path):
    async def main():
        system = await started(tmp_path, config={"num.partitions": "2"})
        await system.register_broker(LISTENERS)
        ctl = system.controller
        [res] = await ctl.create_topics(CreateTopicsRequest([CreatableTopic("t", configs={"retention.ms": "5"})]))
        assert res.error.ok
        topic = system.image.topic("t")
        assert topic.topic_id == res.topic_id and topic.num_partitions == 2
        assert all(p.leader == 1 for p in topic.partitions.values())
        [res] = await ctl.create_partitions(CreatePartitionsRequest([CreatePartitionsTopic("t", 3)]))
        assert res.error.ok and system.image.topic("t").num_partitions == 3
        [res] = await ctl.incremental_alter_configs([IncrementalAlterConfigsResource(
            ConfigResourceType.TOPIC, "t", [AlterableConfig("cleanup.policy", AlterConfigOp.SET, "compact")])])
        assert res.error.ok and system.image.topic_config("t") == {"retention.ms": "5", "cleanup.policy": "compact"}
        block = await ctl.allocate_producer_ids(1, system.broker_epoch)
        assert block.first_producer_id == 0 and system.image.next_producer_id == 1000
        [res] = await ctl.delete_topics(DeleteTopicsRequest(["t"]))
        assert res.error.ok and system.image.topic("t") is None
        # Concurrent creations of one name: exactly one wins, even before the first commits.
        results = await asyncio.gather(*(ctl.create_topics(CreateTopicsRequest([CreatableTopic("same")])) for _ in range(5)))
        codes = sorted(r[0].error.code for r in results)
        assert codes == [ErrorCode.NONE] + [ErrorCode.TOPIC_ALREADY_EXISTS] * 4
        await system.close()

    run(main())


def test_publishers_see_deltas_in_order(tmp_path):
    async def main():
        system = await started(tmp_path)
        await system.register_broker(LISTENERS)
        await system.controller.create_topics(CreateTopicsRequest([CreatableTopic("early", 2, 1)]))
        seen = []

        def publisher(delta, image):
            local = delta.local_changes(1)
            seen.append((image.offset, sorted((c.topic, c.partition) for c in local.leaders),
                         sorted(x[1:] for x in local.deletes)))

        system.loader.install_publisher(publisher)
        # Installed late: it first sees everything that exists.
        assert seen[0][1] == [("early", 0), ("early", 1)]
        await system.controller.create_topics(CreateTopicsRequest([CreatableTopic("late", 1, 1)]))
        await system.controller.delete_topics(DeleteTopicsRequest(["early"]))
        assert seen[-2][1] == [("late", 0)]
        assert seen[-1][2] == [("early", 0), ("early", 1)]
        offsets = [s[0] for s in seen]
        assert offsets == sorted(offsets)
        await system.close()

    run(main())


def test_restart_gives_back_the_same_image(tmp_path):
    async def main():
        system = await started(tmp_path, fsync=True)
        reg = await system.register_broker(LISTENERS)
        await system.controller.create_topics(CreateTopicsRequest([CreatableTopic(f"t{i}", 3, 1) for i in range(5)]))
        await system.controller.alter_configs([AlterConfigsResource(ConfigResourceType.BROKER, "", {"log.retention.ms": "1"})])
        before = system.image
        await system.close()

        again = await started(tmp_path)
        assert again.image == before
        assert again.image.offset > before.offset  # the new epoch's LeaderChange
        assert again.raft.epoch == 2
        # A new incarnation registers and is unfenced again; partitions keep their ids.
        reg2 = await again.register_broker(LISTENERS)
        assert reg2.epoch > reg.epoch
        assert again.image.topic("t0").topic_id == before.topic("t0").topic_id
        await again.close()

    run(main())


def test_automatic_snapshots(tmp_path):
    async def main():
        system = await started(tmp_path, config={"metadata.log.max.record.bytes.between.snapshots": "2000"})
        await system.register_broker(LISTENERS)
        for i in range(10):
            await system.controller.create_topics(CreateTopicsRequest([CreatableTopic(f"topic-{i}", 4, 1)]))
        await system.snapshots.wait()
        assert system.snapshots.last_written is not None
        before = system.image
        await system.close()
        assert list_snapshots(tmp_path / "__cluster_metadata-0")
        again = await started(tmp_path)
        assert again.image == before
        await again.close()

    run(main())


def test_controller_not_active_before_start(tmp_path):
    async def main():
        raft = RaftClient(1, [1], tmp_path / "log", fsync=False)
        ctl = QuorumController(1, raft, CLUSTER)
        with pytest.raises(NotControllerError):
            await ctl.create_topics(CreateTopicsRequest([CreatableTopic("x")]))
        await raft.close()

    run(main())


def test_multi_voter_quorums_are_not_supported_yet(tmp_path):
    with pytest.raises(NotImplementedError):
        run(start_metadata(1, CLUSTER, tmp_path, "1@localhost:9093,2@localhost:9094"))


# --- property: random operations, then restart from log / from snapshot + log -------------------

NAMES = ["a", "b", "a.x", "a_x", "c-1"]

ops = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(NAMES), st.integers(1, 3),
              st.sampled_from([{}, {"retention.ms": "100"}, {"cleanup.policy": "compact"}, {"retention.ms": "bad"}])),
    st.tuples(st.just("delete"), st.sampled_from(NAMES)),
    st.tuples(st.just("grow"), st.sampled_from(NAMES), st.integers(1, 5)),
    st.tuples(st.just("config"), st.sampled_from(NAMES), st.sampled_from(["retention.ms", "segment.ms"]),
              st.sampled_from(["1000", "2000", None])),
    st.tuples(st.just("broker-config"), st.sampled_from(["", "1"]), st.sampled_from(["1", "2"])),
    st.tuples(st.just("producer-ids")),
    st.tuples(st.just("fence"), st.booleans()),
    st.tuples(st.just("snapshot")),
)


async def apply_op(system, op):
    ctl = system.controller
    kind = op[0]
    if kind == "create":
        await ctl.create_topics(CreateTopicsRequest([CreatableTopic(op[1], op[2], 1, configs=dict(op[3]))]))
    elif kind == "delete":
        await ctl.delete_topics(DeleteTopicsRequest([op[1]]))
    elif kind == "grow":
        await ctl.create_partitions(CreatePartitionsRequest([CreatePartitionsTopic(op[1], op[2])]))
    elif kind == "config":
        value = op[3]
        config_op = AlterConfigOp.DELETE if value is None else AlterConfigOp.SET
        await ctl.incremental_alter_configs([IncrementalAlterConfigsResource(
            ConfigResourceType.TOPIC, op[1], [AlterableConfig(op[2], config_op, value)])])
    elif kind == "broker-config":
        await ctl.alter_configs([AlterConfigsResource(ConfigResourceType.BROKER, op[1], {"log.retention.ms": op[2]})])
    elif kind == "producer-ids":
        await ctl.allocate_producer_ids(1, system.broker_epoch)
    elif kind == "fence":
        from pybroker.metadata import BrokerHeartbeatRequest
        await ctl.broker_heartbeat(BrokerHeartbeatRequest(1, system.broker_epoch, system.image.offset,
                                                          want_fence=op[1]))
    elif kind == "snapshot":
        await system.snapshot()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, max_size=25), st.integers(0, 2**32))
def test_random_operations_survive_restart(operations, seed):
    async def main(path: Path):
        system = await started(path, rng=random.Random(seed))
        await system.register_broker(LISTENERS)
        for op in operations:
            await apply_op(system, op)
        before = system.image
        assert system.controller.image == before
        await system.close()

        # From the latest snapshot (if any) plus the log after it.
        again = await started(path)
        assert again.image == before
        await again.close()

        # From the whole log alone.
        log_dir = path / "__cluster_metadata-0"
        for name in os.listdir(log_dir):
            if name.endswith(".checkpoint"):
                os.unlink(log_dir / name)
        replayed = await started(path)
        assert replayed.image == before
        assert replayed.image.to_records() == before.to_records()
        await replayed.close()

    with tempfile.TemporaryDirectory() as d:
        run(main(Path(d)))


def test_image_equality_is_content_equality():
    assert MetadataImage.empty("x") == MetadataImage.empty("x")
    assert MetadataImage.empty("x") != MetadataImage.empty("y")
