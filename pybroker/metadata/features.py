"""Finalized feature levels: names, the levels this broker supports, the records that
bootstrap a freshly formatted cluster, and Kafka's rules for which levels may be finalized
(KIP-584, KIP-1022)."""

from __future__ import annotations

from typing import Any, Mapping

from pybroker.metadata import records as r

METADATA_VERSION = "metadata.version"
KRAFT_VERSION = "kraft.version"
GROUP_VERSION = "group.version"
TRANSACTION_VERSION = "transaction.version"

# metadata.version feature levels (Kafka's MetadataVersion): 3.3-IV3 is the oldest KRaft
# version Kafka 4 accepts, 4.0-IV3 the one Kafka 4.0 formats new clusters with.
MV_3_3_IV0 = 4  # the first level that can carry FeatureLevelRecords of other features
MV_3_3_IV3 = 7
MV_3_7_IV2 = 17  # directory assignment (KIP-858): PartitionRecord v1, RegisterBrokerRecord v3
MV_4_0_IV2 = 24  # where Kafka's transaction.version levels 1 and 2 become the default
MV_4_0_IV3 = 25
LATEST_METADATA_VERSION = MV_4_0_IV3

# transaction.version levels (Kafka's TransactionVersion): 0 the classic protocol, 1 flexible
# TransactionLogValue records, 2 KIP-890 part 2 (an epoch bump on every EndTxn, partitions added
# by Produce v12 and TxnOffsetCommit v5).
TV_0 = 0
TV_1 = 1
TV_2 = 2

# The (min, max) levels this broker supports, as it registers them and ApiVersions lists them.
SUPPORTED_FEATURES: dict[str, tuple[int, int]] = {
    METADATA_VERSION: (MV_3_3_IV3, LATEST_METADATA_VERSION),
    KRAFT_VERSION: (0, 0),
    TRANSACTION_VERSION: (TV_0, TV_2),
}

def default_levels(metadata_version: int = LATEST_METADATA_VERSION) -> dict[str, int]:
    """The levels a new cluster is formatted with when `--feature` says nothing else, as Kafka's
    Formatter chooses them for a metadata.version: transaction.version 2 from 4.0-IV2 on."""
    return {
        METADATA_VERSION: metadata_version,
        TRANSACTION_VERSION: TV_2 if metadata_version >= MV_4_0_IV2 else TV_0,
    }


DEFAULT_BOOTSTRAP_FEATURES: dict[str, int] = default_levels()

# Features with levels of their own (metadata.version and kraft.version are handled apart), and
# the other features each level needs (Kafka's FeatureVersion.dependencies; none so far).
_DEPENDENCIES: dict[str, dict[int, dict[str, int]]] = {
    TRANSACTION_VERSION: {TV_0: {}, TV_1: {}, TV_2: {}},
}


def version_range_text(low: int, high: int) -> str:
    """Kafka's VersionRange.toString: "3", "0-2"."""
    return str(low) if low == high else f"{low}-{high}"


def reason_not_supported(level: int, who: str, supported: tuple[int, int] | None) -> str | None:
    """Kafka's QuorumFeatures.reasonNotSupported: why `who` (with its supported range, None
    for a feature it does not know) cannot take `level`, or None when it can."""
    low, high = supported if supported is not None else (0, 0)
    if low <= level <= high:
        return None
    if high == 0:
        return f"{who} does not support this feature."
    return f"{who} only supports versions {version_range_text(low, high)}"


def validate_level(name: str, level: int, levels: Mapping[str, int]) -> str | None:
    """Kafka's Feature.validateVersion for a feature other than metadata.version: the level is
    known, and the features it depends on (with `levels` the finalized levels the cluster would
    have) are there. Returns the reason it cannot be set, or None."""
    known = _DEPENDENCIES.get(name)
    if known is None:
        return f"Feature {name} not found."
    if level not in known:
        return f"No feature:{name} with feature level {level}"
    mv = levels.get(METADATA_VERSION, 0)
    if level >= 1 and mv < MV_3_3_IV0:
        return f"{name} could not be set to {level} because it depends on metadata.version=4 (3.3-IV0)"
    for dep, needed in known[level].items():
        if levels.get(dep, 0) < needed:
            return f"{name} could not be set to {level} because it depends on {dep} level {needed}"
    return None


def bootstrap_records(features: Mapping[str, int] | None = None) -> list[Any]:
    """The records a new active controller writes into an empty metadata log: the finalized
    feature levels, metadata.version first (it tells readers how to read the rest)."""
    levels = dict(DEFAULT_BOOTSTRAP_FEATURES if features is None else features)
    if METADATA_VERSION not in levels:
        raise ValueError("bootstrap features must include metadata.version")
    names = sorted(levels, key=lambda n: (n != METADATA_VERSION, n))
    return [r.FeatureLevelRecord(name=n, feature_level=levels[n]) for n in names if levels[n] > 0]


def format_levels(requested: Mapping[str, int]) -> dict[str, int]:
    """The bootstrap levels of a new cluster formatted with `--feature NAME=LEVEL` (Kafka's
    Formatter): the defaults plus the requested levels, checked. ValueError with Kafka's message
    when a feature is unknown or a level unsupported."""
    names = sorted(n for n in SUPPORTED_FEATURES if n != METADATA_VERSION)
    levels = default_levels(int(requested.get(METADATA_VERSION, LATEST_METADATA_VERSION)))
    for name, level in requested.items():
        if name != METADATA_VERSION and name not in SUPPORTED_FEATURES:
            raise ValueError(f"Unsupported feature: {name}. Supported features are: {', '.join(names)}")
        levels[name] = int(level)
    low, high = SUPPORTED_FEATURES[METADATA_VERSION]
    mv = levels[METADATA_VERSION]
    if not low <= mv <= high:
        raise ValueError(f"No MetadataVersion with feature level {mv}. Valid feature levels are from "
                         f"{low} to {high}.")
    for name, level in levels.items():
        if name == METADATA_VERSION:
            continue
        if name == KRAFT_VERSION:
            if level != 0:
                raise ValueError(f"Cannot set kraft.version to {level}: this cluster has a static "
                                 "controller quorum (controller.quorum.voters)")
            continue
        reason = validate_level(name, level, levels)
        if reason is not None:
            raise ValueError(reason)
    return {n: v for n, v in levels.items() if v > 0 or n == METADATA_VERSION}
