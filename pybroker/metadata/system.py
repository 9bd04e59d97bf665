"""The metadata system of one node, assembled: the raft client on the metadata log, the quorum
controller, the loader that keeps the image, the snapshot generator, and the broker's own
registration and heartbeats. `start_metadata` builds and starts it."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from protocol.errors import ErrorCode
from pybroker.metadata import records as r
from pybroker.metadata.bootstrap import read_bootstrap
from pybroker.metadata.controller import ControllerConfig, NotControllerError, QuorumController
from pybroker.metadata.features import SUPPORTED_FEATURES
from pybroker.metadata.image import BrokerRegistration, Endpoint, MetadataDelta, MetadataImage, SecurityProtocol
from pybroker.metadata.loader import LOG, LoaderManifest, MetadataLoader
from pybroker.metadata.requests import BrokerHeartbeatRequest, BrokerRegistrationRequest
from raft import METADATA_LOG_DIRNAME, OffsetAndEpoch, RaftClient, RaftClosedError

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES_BETWEEN_SNAPSHOTS = 20 * 1024 * 1024  # metadata.log.max.record.bytes.between.snapshots
DEFAULT_HEARTBEAT_INTERVAL_MS = 2000  # broker.heartbeat.interval.ms


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def write_image_snapshot(raft: RaftClient, image: MetadataImage) -> OffsetAndEpoch | None:
    """Write `image` as a snapshot (from any thread: images are immutable). None when the
    latest snapshot already covers it."""
    if image.offset < 0:
        return None
    sid = OffsetAndEpoch(image.offset + 1, image.epoch)
    latest = raft.latest_snapshot_id
    if latest is not None and latest.offset >= sid.offset:
        return None
    writer = raft.create_snapshot(sid, image.provenance.log_time_ms)
    try:
        writer.append(r.encode_records(image.to_records()))
        writer.freeze()
    except BaseException:
        writer.abort()
        raise
    return sid


class SnapshotGenerator:
    """A publisher that snapshots the image once `max_bytes` of log records have been applied
    since the last snapshot. The records are encoded and written off the event loop."""

    def __init__(self, raft: RaftClient, max_bytes: int = DEFAULT_MAX_BYTES_BETWEEN_SNAPSHOTS) -> None:
        self.raft = raft
        self.max_bytes = max_bytes
        self.bytes_since_snapshot = 0
        self._task: asyncio.Task | None = None
        self.last_written: OffsetAndEpoch | None = None

    def on_metadata_update(self, delta: MetadataDelta, image: MetadataImage, manifest: LoaderManifest) -> None:
        if manifest.kind != LOG:
            if manifest.kind == "snapshot":
                self.bytes_since_snapshot = 0
            return
        self.bytes_since_snapshot += manifest.size_in_bytes
        if self.bytes_since_snapshot >= self.max_bytes and self._task is None:
            self.bytes_since_snapshot = 0
            self._task = asyncio.get_running_loop().create_task(self._write(image))

    async def _write(self, image: MetadataImage) -> None:
        try:
            sid = await asyncio.to_thread(write_image_snapshot, self.raft, image)
            if sid is not None:
                self.last_written = sid
                logger.info("wrote metadata snapshot %s", sid)
        except Exception:
            logger.exception("writing a metadata snapshot at offset %d failed", image.offset)
        finally:
            self._task = None

    async def wait(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)


def _voter_ids(voters: Any) -> frozenset[int]:
    if isinstance(voters, str):
        return frozenset(int(v.split("@", 1)[0]) for v in voters.split(",") if v.strip())
    if isinstance(voters, Mapping):
        return frozenset(int(v) for v in voters)
    ids = set()
    for v in voters:
        ids.add(int(getattr(v, "node_id", v)))
    return frozenset(ids)


def _endpoint(listener: Any) -> Endpoint:
    if isinstance(listener, Endpoint):
        return listener
    proto = getattr(listener, "security_protocol", SecurityProtocol.PLAINTEXT)
    if isinstance(proto, str):
        proto = SecurityProtocol[proto]
    host = getattr(listener, "advertised_host", None) or listener.host
    return Endpoint(listener.name, host, int(listener.port), int(proto))


class MetadataSystem:
    """The running metadata system of one node."""

    def __init__(self, node_id: int, cluster_id: str, raft: RaftClient, controller: QuorumController,
                 loader: MetadataLoader, snapshots: SnapshotGenerator, clock: Callable[[], int],
                 heartbeat_interval_ms: int) -> None:
        self.node_id = node_id
        self.cluster_id = cluster_id
        self.raft = raft
        self.controller = controller
        self.loader = loader
        self.snapshots = snapshots
        self._clock = clock
        self._heartbeat_interval_ms = heartbeat_interval_ms
        self._heartbeat_task: asyncio.Task | None = None
        self._registration: BrokerRegistrationRequest | None = None
        self.broker_epoch = -1
        self._closed = False

    @property
    def image(self) -> MetadataImage:
        """The current (committed, applied) metadata image."""
        return self.loader.image

    def add_publisher(self, publisher: Any) -> None:
        """Install a publisher on the loader (see MetadataLoader.install_publisher)."""
        self.loader.install_publisher(publisher)

    def remove_publisher(self, publisher: Any) -> None:
        self.loader.remove_publisher(publisher)

    async def wait_for_offset(self, offset: int) -> MetadataImage:
        """Resolve once the local image has applied `offset`."""
        return await self.loader.wait_for_offset(offset)

    async def snapshot(self) -> OffsetAndEpoch | None:
        """Snapshot the current image now (None if the latest snapshot already covers it)."""
        await self.snapshots.wait()
        return await asyncio.to_thread(write_image_snapshot, self.raft, self.loader.image)

    # -- this node as a broker -------------------------------------------------------------

    async def register_broker(self, listeners: Iterable[Any], *, rack: str | None = None,
                              incarnation_id: uuid.UUID | None = None,
                              log_dirs: Iterable[uuid.UUID] = (),
                              features: Mapping[str, tuple[int, int]] | None = None) -> BrokerRegistration:
        """Register this node as a broker (RegisterBrokerRecord), heartbeat until it is unfenced,
        and keep heartbeating in the background (broker.heartbeat.interval.ms) until close.

        `listeners` are advertised endpoints: image.Endpoint or pybroker.config.Listener.
        Returns the registration as the local image holds it once unfenced.
        """
        self._registration = BrokerRegistrationRequest(
            broker_id=self.node_id, cluster_id=self.cluster_id, incarnation_id=incarnation_id or uuid.uuid4(),
            listeners=[_endpoint(x) for x in listeners], features=dict(features or SUPPORTED_FEATURES),
            rack=rack, log_dirs=list(log_dirs),
        )
        await self._register()
        while True:
            reply = await self._heartbeat()
            if reply is not None and not reply.is_fenced:
                break
            await asyncio.sleep(0.01)
        if self._heartbeat_task is None:
            self._heartbeat_task = asyncio.get_running_loop().create_task(self._heartbeat_loop())
        reg = self.image.brokers[self.node_id]
        return reg

    async def _register(self) -> None:
        assert self._registration is not None
        reply = await self.controller.register_broker(self._registration)
        if not reply.error.ok:
            raise RuntimeError(f"broker registration failed: {reply.error.code.name}: {reply.error.message}")
        self.broker_epoch = reply.broker_epoch
        await self.wait_for_offset(reply.broker_epoch)

    async def _heartbeat(self):
        req = BrokerHeartbeatRequest(self.node_id, self.broker_epoch, self.image.offset)
        reply = await self.controller.broker_heartbeat(req)
        if reply.error.code in (ErrorCode.STALE_BROKER_EPOCH, ErrorCode.BROKER_ID_NOT_REGISTERED):
            logger.warning("heartbeat refused (%s): registering again", reply.error.message)
            await self._register()
            return None
        if not reply.error.ok:
            raise RuntimeError(f"broker heartbeat failed: {reply.error.code.name}: {reply.error.message}")
        return reply

    async def _heartbeat_loop(self) -> None:
        while not self._closed:
            await asyncio.sleep(self._heartbeat_interval_ms / 1000)
            try:
                await self._heartbeat()
            except NotControllerError:
                pass
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("broker heartbeat failed")

    # -- lifecycle -------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop heartbeats and the controller, finish a snapshot in progress, close the log."""
        if self._closed:
            return
        self._closed = True
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            try:
                await self._heartbeat_task
            except (asyncio.CancelledError, Exception):
                pass
        await self.controller.close()
        try:
            await self.snapshots.wait()
        except Exception:
            pass
        await self.raft.close()
        self.loader.fail_waiters(RaftClosedError("metadata system closed"))


async def start_metadata(node_id: int, cluster_id: str, metadata_dir: Path | str, voters: Any,
                         broker_config: Any = None, clock: Callable[[], int] | None = None, *,
                         fsync: bool = True, rng: random.Random | None = None) -> MetadataSystem:
    """Open the metadata log in `<metadata_dir>/__cluster_metadata-0`, join the quorum, replay
    the latest snapshot and the log after it into the image, and become the active controller.

    `voters` are the quorum voters' ids (ids, a mapping id -> endpoint, pybroker.config.Voter
    objects, or a `controller.quorum.voters` string). Only a quorum of one voter, this node,
    is supported for now. `broker_config` is a pybroker.config.BrokerConfig or a mapping of
    Kafka property names (num.partitions, default.replication.factor, delete.topic.enable,
    broker.session.timeout.ms, broker.heartbeat.interval.ms,
    metadata.log.max.record.bytes.between.snapshots). `clock` returns milliseconds.
    When this returns, `image` reflects everything committed, bootstrap records included.
    """
    ids = _voter_ids(voters)
    if ids != {node_id}:
        raise NotImplementedError(f"metadata quorums other than this node alone are not supported yet "
                                  f"(node {node_id}, voters {sorted(ids)})")
    clock = clock or _wall_clock_ms

    def cfg(name: str, default: int) -> int:
        value = broker_config.get(name) if broker_config is not None else None
        return default if value is None else int(value)

    raft = RaftClient(node_id, ids, Path(metadata_dir) / METADATA_LOG_DIRNAME, clock=clock, fsync=fsync)
    loader = MetadataLoader(cluster_id)
    controller_config = ControllerConfig.from_broker_config(broker_config)
    # The levels `pybroker format --feature` chose; used only while the log has no metadata.version.
    bootstrap_levels = read_bootstrap(metadata_dir)
    if bootstrap_levels is not None:
        controller_config = dataclasses.replace(controller_config, bootstrap_features=bootstrap_levels)
    controller = QuorumController(node_id, raft, cluster_id, controller_config, clock=clock, rng=rng)
    snapshots = SnapshotGenerator(raft, cfg("metadata.log.max.record.bytes.between.snapshots",
                                            DEFAULT_MAX_BYTES_BETWEEN_SNAPSHOTS))
    loader.install_publisher(snapshots)
    # The loader first: by the time a controller operation's commit resolves, the local image
    # already holds it.
    raft.register(loader)
    raft.register(controller)
    system = MetadataSystem(node_id, cluster_id, raft, controller, loader, snapshots, clock,
                            cfg("broker.heartbeat.interval.ms", DEFAULT_HEARTBEAT_INTERVAL_MS))
    try:
        await raft.start()
        await controller.wait_until_active()
        await loader.wait_for_offset(raft.log_end_offset - 1)
    except BaseException:
        await raft.close()
        raise
    return system
