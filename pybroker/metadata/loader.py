"""The metadata loader: it applies committed batches of the metadata log to the image, one new
image per batch, and publishes each (delta, image) to the registered publishers in order,
synchronously on the event loop. Snapshots load the same way (as one delta)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from pybroker.metadata import records as r
from pybroker.metadata.image import (
    MetadataApplyError, MetadataDelta, MetadataImage, Provenance, QuorumInfo, image_from_records,
)
from raft import CommittedBatch, LeaderAndEpoch

logger = logging.getLogger(__name__)

LOG = "log"
SNAPSHOT = "snapshot"
LEADER = "leader"
INITIAL = "initial"


@dataclass(frozen=True, slots=True)
class LoaderManifest:
    """Why a publisher is being called: a committed batch (`log`), a loaded snapshot, a
    change of quorum leader, or the catch-up call a publisher gets when installed."""

    kind: str
    provenance: Provenance
    size_in_bytes: int = 0


class MetadataPublisher(Protocol):
    def on_metadata_update(self, delta: MetadataDelta, image: MetadataImage, manifest: LoaderManifest) -> None: ...


class _FunctionPublisher:
    def __init__(self, fn: Callable[[MetadataDelta, MetadataImage], Any]) -> None:
        self.fn = fn

    def on_metadata_update(self, delta: MetadataDelta, image: MetadataImage, manifest: LoaderManifest) -> None:
        self.fn(delta, image)


class MetadataLoader:
    """A raft listener that keeps the current MetadataImage."""

    def __init__(self, cluster_id: str) -> None:
        self._image = MetadataImage.empty(cluster_id)
        self._publishers: list[tuple[Any, MetadataPublisher]] = []
        self._waiters: list[tuple[int, int, asyncio.Future]] = []
        self._seq = itertools.count()
        self.errors = 0  # records that could not be applied (logged and skipped)

    @property
    def image(self) -> MetadataImage:
        return self._image

    # -- publishers ----------------------------------------------------------------------

    def install_publisher(self, publisher: MetadataPublisher | Callable[[MetadataDelta, MetadataImage], Any]) -> None:
        """Add a publisher: an object with on_metadata_update(delta, image, manifest), or a
        function (delta, image). It is first called with the delta from the empty image to
        the current one, so it sees every topic, broker and config that exists."""
        wrapped = publisher if hasattr(publisher, "on_metadata_update") else _FunctionPublisher(publisher)  # type: ignore[arg-type]
        self._publishers.append((publisher, wrapped))  # type: ignore[arg-type]
        if not self._image.is_empty:
            delta = MetadataDelta.between(MetadataImage.empty(self._image.cluster_id), self._image)
            self._call(wrapped, delta, self._image, LoaderManifest(INITIAL, self._image.provenance))

    def remove_publisher(self, publisher: Any) -> None:
        self._publishers = [(p, w) for p, w in self._publishers if p is not publisher]

    def _publish(self, delta: MetadataDelta, image: MetadataImage, manifest: LoaderManifest) -> None:
        self._image = image
        for _p, wrapped in list(self._publishers):
            self._call(wrapped, delta, image, manifest)
        self._resolve_waiters()

    @staticmethod
    def _call(publisher: MetadataPublisher, delta: MetadataDelta, image: MetadataImage,
              manifest: LoaderManifest) -> None:
        try:
            publisher.on_metadata_update(delta, image, manifest)
        except Exception:
            logger.exception("metadata publisher %r failed at offset %d", publisher, image.offset)

    # -- waiting -------------------------------------------------------------------------

    async def wait_for_offset(self, offset: int) -> MetadataImage:
        """Resolve once the image contains `offset`; returns that image (or a later one)."""
        if self._image.offset >= offset:
            return self._image
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (offset, next(self._seq), fut))
        return await fut

    def _resolve_waiters(self) -> None:
        offset = self._image.offset
        while self._waiters and self._waiters[0][0] <= offset:
            _o, _s, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(self._image)

    def fail_waiters(self, exc: BaseException) -> None:
        while self._waiters:
            _o, _s, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_exception(exc)

    # -- RaftListener --------------------------------------------------------------------

    def handle_commit(self, batch: CommittedBatch) -> None:
        if batch.last_offset <= self._image.offset:
            return
        delta = MetadataDelta(self._image)
        for i, frame in enumerate(batch.records):
            try:
                delta.replay(r.decode_record(frame))
            except (MetadataApplyError, r.MetadataRecordError) as exc:
                # As Kafka's loader: count the fault, log it, keep going.
                self.errors += 1
                logger.error("cannot apply metadata record at offset %d: %s", batch.base_offset + i, exc)
        provenance = Provenance(batch.last_offset, batch.epoch, batch.append_time_ms)
        self._publish(delta, delta.apply(provenance), LoaderManifest(LOG, provenance, batch.size_in_bytes))

    def handle_load_snapshot(self, snapshot: Any) -> None:
        sid = snapshot.snapshot_id
        provenance = Provenance(sid.offset - 1, sid.epoch, snapshot.last_contained_log_time_ms)
        records = [r.decode_record(frame) for frame in snapshot.records()]
        new = image_from_records(records, self._image.cluster_id, provenance).with_quorum(self._image.quorum)
        delta = MetadataDelta.between(self._image, new)
        self._publish(delta, new, LoaderManifest(SNAPSHOT, provenance))

    def handle_leader_change(self, leader: LeaderAndEpoch) -> None:
        quorum = QuorumInfo(-1 if leader.leader_id is None else leader.leader_id, leader.epoch)
        image = self._image.with_quorum(quorum)
        self._publish(MetadataDelta(image), image, LoaderManifest(LEADER, image.provenance))
