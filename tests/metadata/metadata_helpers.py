"""Helpers for the metadata tests: fixed images built from records, and applying results."""

from __future__ import annotations

import random
import uuid

from pybroker.metadata import records as r
from pybroker.metadata.controller import BrokerHeartbeatTracker, ControllerConfig, ControllerContext
from pybroker.metadata.image import (
    UNASSIGNED_DIRECTORY, MetadataDelta, MetadataImage, Provenance, image_from_records,
)

CLUSTER = "test-cluster-id"


def inc(n: int) -> uuid.UUID:
    return uuid.UUID(int=1000 + n)


def broker_record(bid: int, *, epoch: int | None = None, fenced: bool = False, rack: str | None = None,
                  incarnation: uuid.UUID | None = None, dirs=()) -> r.RegisterBrokerRecord:
    return r.RegisterBrokerRecord(
        broker_id=bid, incarnation_id=incarnation or inc(bid), broker_epoch=bid * 10 if epoch is None else epoch,
        end_points=[r.BrokerEndpoint(name="PLAINTEXT", host=f"b{bid}", port=9092, security_protocol=0)],
        features=[r.BrokerFeature(name="metadata.version", min_supported_version=7, max_supported_version=25)],
        rack=rack, fenced=fenced, log_dirs=list(dirs),
    )


def topic_records(name: str, tid: uuid.UUID, assignments: list[list[int]], isr=None, leader=None) -> list:
    out = [r.TopicRecord(name=name, topic_id=tid)]
    for p, replicas in enumerate(assignments):
        the_isr = list(replicas if isr is None else isr[p])
        out.append(r.PartitionRecord(
            partition_id=p, topic_id=tid, replicas=list(replicas), isr=the_isr,
            leader=the_isr[0] if leader is None else leader[p], leader_epoch=0, partition_epoch=0,
            directories=[UNASSIGNED_DIRECTORY] * len(replicas)))
    return out


def make_image(*records, offset: int = 99) -> MetadataImage:
    base = [r.FeatureLevelRecord(name="metadata.version", feature_level=25)]
    return image_from_records(base + list(records), CLUSTER, Provenance(offset, 1, 0))


def ctx(seed: int = 7, next_offset: int = 100, now: int = 1_000_000, **config) -> ControllerContext:
    return ControllerContext(now, next_offset, random.Random(seed), ControllerConfig(**config))


def apply(image: MetadataImage, records: list, offset: int | None = None) -> MetadataImage:
    """Apply records after a wire round trip (so every generated record must encode)."""
    decoded = [r.decode_record(r.encode_record(x)) for x in records]
    last = (image.offset + len(records)) if offset is None else offset
    return MetadataDelta(image).replay_all(decoded).apply(Provenance(last, 1, 0))


def tracker(*brokers: int, now: int = 1_000_000) -> BrokerHeartbeatTracker:
    t = BrokerHeartbeatTracker()
    for b in brokers:
        t.touch(b, now)
    return t
