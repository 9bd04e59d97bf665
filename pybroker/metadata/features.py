"""Finalized feature levels: names, the levels this broker supports, and the records that
bootstrap a freshly formatted cluster."""

from __future__ import annotations

from typing import Any, Mapping

from pybroker.metadata import records as r

METADATA_VERSION = "metadata.version"
KRAFT_VERSION = "kraft.version"
GROUP_VERSION = "group.version"
TRANSACTION_VERSION = "transaction.version"

# metadata.version feature levels (Kafka's MetadataVersion): 3.3-IV3 is the oldest KRaft
# version Kafka 4 accepts, 4.0-IV3 the one Kafka 4.0 formats new clusters with.
MV_3_3_IV3 = 7
MV_3_7_IV2 = 17  # directory assignment (KIP-858): PartitionRecord v1, RegisterBrokerRecord v3
MV_4_0_IV3 = 25
LATEST_METADATA_VERSION = MV_4_0_IV3

# The (min, max) levels this broker supports, as it registers them and ApiVersions lists them.
SUPPORTED_FEATURES: dict[str, tuple[int, int]] = {
    METADATA_VERSION: (MV_3_3_IV3, LATEST_METADATA_VERSION),
    KRAFT_VERSION: (0, 0),
}

# What a new cluster starts with. Other features (group.version, transaction.version) change
# what clients do, so they are only finalized when the broker asks for them.
DEFAULT_BOOTSTRAP_FEATURES: dict[str, int] = {METADATA_VERSION: LATEST_METADATA_VERSION}


def bootstrap_records(features: Mapping[str, int] | None = None) -> list[Any]:
    """The records a new active controller writes into an empty metadata log: the finalized
    feature levels, metadata.version first (it tells readers how to read the rest)."""
    levels = dict(DEFAULT_BOOTSTRAP_FEATURES if features is None else features)
    if METADATA_VERSION not in levels:
        raise ValueError("bootstrap features must include metadata.version")
    names = sorted(levels, key=lambda n: (n != METADATA_VERSION, n))
    return [r.FeatureLevelRecord(name=n, feature_level=levels[n]) for n in names if levels[n] > 0]
