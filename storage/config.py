"""Per-log configuration under Kafka's topic-config names, parsed and validated from strings."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from storage.errors import ConfigError

log = logging.getLogger(__name__)

LONG_MAX = (1 << 63) - 1
INT_MAX = (1 << 31) - 1

CLEANUP_POLICIES = ("delete", "compact", "compact,delete")
TIMESTAMP_TYPES = ("CreateTime", "LogAppendTime")


@dataclass(slots=True, frozen=True)
class LogConfig:
    """The topic configs a partition log obeys; field names are Kafka's with '.' -> '_'."""

    segment_bytes: int = 1024 * 1024 * 1024
    segment_ms: int = 7 * 24 * 3600 * 1000
    segment_jitter_ms: int = 0
    segment_index_bytes: int = 10 * 1024 * 1024
    index_interval_bytes: int = 4096
    retention_ms: int = 7 * 24 * 3600 * 1000
    retention_bytes: int = -1
    cleanup_policy: str = "delete"
    delete_retention_ms: int = 24 * 3600 * 1000
    min_compaction_lag_ms: int = 0
    max_compaction_lag_ms: int = LONG_MAX
    min_cleanable_dirty_ratio: float = 0.5
    flush_messages: int = LONG_MAX
    flush_ms: int = LONG_MAX
    file_delete_delay_ms: int = 60_000
    message_timestamp_type: str = "CreateTime"
    message_timestamp_before_max_ms: int = LONG_MAX
    message_timestamp_after_max_ms: int = 3600 * 1000
    max_message_bytes: int = 1024 * 1024 + 12
    compression_type: str = "producer"
    min_insync_replicas: int = 1
    unclean_leader_election_enable: bool = False
    preallocate: bool = False

    @property
    def compact(self) -> bool:
        return "compact" in self.cleanup_policy

    @property
    def delete(self) -> bool:
        return "delete" in self.cleanup_policy

    @property
    def log_append_time(self) -> bool:
        return self.message_timestamp_type == "LogAppendTime"

    @classmethod
    def from_properties(
        cls, props: Mapping[str, Any], *, defaults: LogConfig | None = None
    ) -> LogConfig:
        """Build a config from Kafka topic-config names (`{"segment.bytes": "1048576"}`).

        Values may be strings or already typed. Invalid values raise ConfigError naming the key;
        unknown keys are logged and ignored (the broker owns the full topic-config namespace).
        `defaults` supplies values for keys not given, e.g. the broker-level defaults.
        """
        changes: dict[str, Any] = {}
        for key, raw in props.items():
            spec = _TOPIC_KEYS.get(key)
            if spec is None:
                log.warning("ignoring unknown topic config %r", key)
                continue
            field, parse = spec
            changes[field] = parse(key, raw)
        base = defaults if defaults is not None else cls()
        return dataclasses.replace(base, **changes)

    @classmethod
    def from_broker_properties(cls, props: Mapping[str, Any]) -> LogConfig:
        """Build the broker-wide default from `server.properties` names (`log.segment.bytes`...).

        Keys that are not log defaults are ignored silently: server.properties holds much more.
        The finest unit wins when several are given (log.retention.ms over .minutes over .hours).
        """
        changes: dict[str, Any] = {}
        for key, (field, parse, scale) in _BROKER_KEYS.items():
            if key in props:
                value = parse(key, props[key])
                if scale != 1 and value >= 0:
                    value *= scale
                changes[field] = value
        return dataclasses.replace(cls(), **changes)

    def to_properties(self) -> dict[str, str]:
        """The config as Kafka topic-config names and string values (DescribeConfigs shape)."""
        out = {}
        for key, (field, _parse) in _TOPIC_KEYS.items():
            value = getattr(self, field)
            out[key] = str(value).lower() if isinstance(value, bool) else str(value)
        return out

    def __post_init__(self) -> None:
        # Direct construction gets the same checks as parsing, by re-running the validators.
        for key, (field, parse) in _TOPIC_KEYS.items():
            parse(key, getattr(self, field))


def _long(lo: int, hi: int = LONG_MAX) -> Callable[[str, Any], int]:
    def parse(key: str, raw: Any) -> int:
        if isinstance(raw, bool):
            raise ConfigError(key, raw, "expected an integer")
        try:
            value = int(str(raw).strip()) if not isinstance(raw, int) else raw
        except ValueError:
            raise ConfigError(key, raw, "expected an integer") from None
        if not lo <= value <= hi:
            raise ConfigError(key, raw, f"must be in [{lo}, {hi}]")
        return value

    return parse


def _ratio(key: str, raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(key, raw, "expected a number") from None
    if not 0.0 <= value <= 1.0:
        raise ConfigError(key, raw, "must be in [0, 1]")
    return value


def _bool(key: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text not in ("true", "false"):
        raise ConfigError(key, raw, "expected true or false")
    return text == "true"


def _cleanup_policy(key: str, raw: Any) -> str:
    items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    parts = sorted({p.strip() for p in items if p.strip()})
    if not parts or any(p not in ("compact", "delete") for p in parts):
        raise ConfigError(key, raw, "expected delete, compact or compact,delete")
    return ",".join(parts)


def _choice(*choices: str) -> Callable[[str, Any], str]:
    def parse(key: str, raw: Any) -> str:
        text = str(raw).strip()
        if text not in choices:
            raise ConfigError(key, raw, f"expected one of {', '.join(choices)}")
        return text

    return parse


_COMPRESSION = _choice("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd")

# Topic config name -> (field, parser). Lower bounds are Kafka's where they make sense; the
# segment and index sizes allow small values so that tests can roll segments cheaply.
_TOPIC_KEYS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "segment.bytes": ("segment_bytes", _long(14, INT_MAX)),
    "segment.ms": ("segment_ms", _long(1)),
    "segment.jitter.ms": ("segment_jitter_ms", _long(0)),
    "segment.index.bytes": ("segment_index_bytes", _long(12, INT_MAX)),
    "index.interval.bytes": ("index_interval_bytes", _long(0, INT_MAX)),
    "retention.ms": ("retention_ms", _long(-1)),
    "retention.bytes": ("retention_bytes", _long(-1)),
    "cleanup.policy": ("cleanup_policy", _cleanup_policy),
    "delete.retention.ms": ("delete_retention_ms", _long(0)),
    "min.compaction.lag.ms": ("min_compaction_lag_ms", _long(0)),
    "max.compaction.lag.ms": ("max_compaction_lag_ms", _long(1)),
    "min.cleanable.dirty.ratio": ("min_cleanable_dirty_ratio", _ratio),
    "flush.messages": ("flush_messages", _long(1)),
    "flush.ms": ("flush_ms", _long(0)),
    "file.delete.delay.ms": ("file_delete_delay_ms", _long(0)),
    "message.timestamp.type": ("message_timestamp_type", _choice(*TIMESTAMP_TYPES)),
    "message.timestamp.before.max.ms": ("message_timestamp_before_max_ms", _long(0)),
    "message.timestamp.after.max.ms": ("message_timestamp_after_max_ms", _long(0)),
    "max.message.bytes": ("max_message_bytes", _long(0, INT_MAX)),
    "compression.type": ("compression_type", _COMPRESSION),
    "min.insync.replicas": ("min_insync_replicas", _long(1, INT_MAX)),
    "unclean.leader.election.enable": ("unclean_leader_election_enable", _bool),
    "preallocate": ("preallocate", _bool),
}

_HOUR = 3600 * 1000
_MINUTE = 60 * 1000

# server.properties name -> (field, parser, multiplier to ms). Ordered coarse to fine so the
# finer key, applied later, wins as in Kafka.
_BROKER_KEYS: dict[str, tuple[str, Callable[[str, Any], Any], int]] = {
    "log.segment.bytes": ("segment_bytes", _long(14, INT_MAX), 1),
    "log.roll.hours": ("segment_ms", _long(1, INT_MAX), _HOUR),
    "log.roll.ms": ("segment_ms", _long(1), 1),
    "log.roll.jitter.hours": ("segment_jitter_ms", _long(0, INT_MAX), _HOUR),
    "log.roll.jitter.ms": ("segment_jitter_ms", _long(0), 1),
    "log.index.size.max.bytes": ("segment_index_bytes", _long(12, INT_MAX), 1),
    "log.index.interval.bytes": ("index_interval_bytes", _long(0, INT_MAX), 1),
    "log.retention.hours": ("retention_ms", _long(-1, INT_MAX), _HOUR),
    "log.retention.minutes": ("retention_ms", _long(-1, INT_MAX), _MINUTE),
    "log.retention.ms": ("retention_ms", _long(-1), 1),
    "log.retention.bytes": ("retention_bytes", _long(-1), 1),
    "log.cleanup.policy": ("cleanup_policy", _cleanup_policy, 1),
    "log.cleaner.delete.retention.ms": ("delete_retention_ms", _long(0), 1),
    "log.cleaner.min.compaction.lag.ms": ("min_compaction_lag_ms", _long(0), 1),
    "log.cleaner.max.compaction.lag.ms": ("max_compaction_lag_ms", _long(1), 1),
    "log.cleaner.min.cleanable.ratio": ("min_cleanable_dirty_ratio", _ratio, 1),
    "log.flush.interval.messages": ("flush_messages", _long(1), 1),
    "log.flush.interval.ms": ("flush_ms", _long(0), 1),
    "log.segment.delete.delay.ms": ("file_delete_delay_ms", _long(0), 1),
    "log.message.timestamp.type": ("message_timestamp_type", _choice(*TIMESTAMP_TYPES), 1),
    "log.message.timestamp.before.max.ms": ("message_timestamp_before_max_ms", _long(0), 1),
    "log.message.timestamp.after.max.ms": ("message_timestamp_after_max_ms", _long(0), 1),
    "message.max.bytes": ("max_message_bytes", _long(0, INT_MAX), 1),
    "compression.type": ("compression_type", _COMPRESSION, 1),
    "min.insync.replicas": ("min_insync_replicas", _long(1, INT_MAX), 1),
    "unclean.leader.election.enable": ("unclean_leader_election_enable", _bool, 1),
    "log.preallocate": ("preallocate", _bool, 1),
}
