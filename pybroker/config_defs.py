"""Declarative tables of Kafka's broker, topic and group configs: names, types, defaults,
validators, importance, update modes and topic-to-broker synonyms, as in Apache Kafka 4.1."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any, Callable

from storage.errors import ConfigError as _StorageConfigError

__all__ = [
    "ConfigError",
    "UnknownConfigError",
    "ConfigType",
    "Importance",
    "UpdateMode",
    "ConfigDef",
    "Range",
    "OneOf",
    "ListOf",
    "NonEmptyString",
    "BROKER_CONFIGS",
    "TOPIC_CONFIGS",
    "GROUP_CONFIGS",
    "SYNONYM_MS_MULTIPLIER",
    "PYBROKER_DEFAULTS",
    "INT_MAX",
    "LONG_MAX",
    "to_config_string",
]

INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1
SHORT_MIN, SHORT_MAX = -(1 << 15), (1 << 15) - 1
LONG_MIN, LONG_MAX = -(1 << 63), (1 << 63) - 1
DOUBLE_MAX = 1.7976931348623157e308

_MISSING: Any = object()


class ConfigError(_StorageConfigError):
    """A config that cannot be accepted; the message names the key and says why.

    Subclasses storage's ConfigError so one `except` catches both; `error_code` is Kafka's
    INVALID_CONFIG (40).
    """

    def __init__(self, key: str, value: Any = _MISSING, reason: str = "") -> None:
        if value is _MISSING:
            message = f"Invalid configuration {key}: {reason}"
            value = None
        else:
            message = f"Invalid value {value} for configuration {key}"
            if reason:
                message += f": {reason}"
        ValueError.__init__(self, message)
        self.key = key
        self.value = value
        self.reason = reason


class UnknownConfigError(ConfigError):
    """A config name that the resource type does not define (Kafka answers INVALID_CONFIG)."""

    def __init__(self, key: str, kind: str = "topic") -> None:
        ValueError.__init__(self, f"Unknown {kind} config name: {key}")
        self.key = key
        self.value = None
        self.reason = "unknown config name"


class ConfigType(enum.IntEnum):
    """Config value types, numbered as DescribeConfigs v3+ reports them."""

    UNKNOWN = 0
    BOOLEAN = 1
    STRING = 2
    INT = 3
    SHORT = 4
    LONG = 5
    DOUBLE = 6
    LIST = 7
    CLASS = 8
    PASSWORD = 9


class Importance(enum.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class UpdateMode(enum.Enum):
    """How a broker config may change while running (Kafka's "Update Mode" column)."""

    READ_ONLY = "read-only"
    PER_BROKER = "per-broker"
    CLUSTER_WIDE = "cluster-wide"


# --- validators -------------------------------------------------------------------------------
# Each is called with (name, typed_value) and raises ConfigError; describe() gives the
# "Valid Values" text used in the docs.


@dataclass(frozen=True, slots=True)
class Range:
    min: float | None = None
    max: float | None = None
    or_value: int | None = None  # one extra allowed value outside the range (gzip's -1)

    def __call__(self, name: str, value: Any) -> None:
        if self.or_value is not None and value == self.or_value:
            return
        if isinstance(value, float) and value != value:
            raise ConfigError(name, value, "Value must be a number")
        if self.min is not None and value < self.min:
            raise ConfigError(name, value, f"Value must be at least {_num(self.min)}")
        if self.max is not None and value > self.max:
            raise ConfigError(name, value, f"Value must be no more than {_num(self.max)}")

    def describe(self) -> str:
        if self.min is None:
            text = f"[...,{_num(self.max)}]"
        elif self.max is None:
            text = f"[{_num(self.min)},...]"
        else:
            text = f"[{_num(self.min)},...,{_num(self.max)}]"
        return text if self.or_value is None else f"{text} or {self.or_value}"


@dataclass(frozen=True, slots=True)
class OneOf:
    values: tuple[str, ...]
    case_insensitive: bool = False

    def __call__(self, name: str, value: Any) -> None:
        if self.case_insensitive:
            ok = str(value).upper() in {v.upper() for v in self.values}
        else:
            ok = value in self.values
        if not ok:
            which = " (case insensitive)" if self.case_insensitive else ""
            raise ConfigError(name, value, f"String must be one of{which}: {', '.join(self.values)}")

    def describe(self) -> str:
        prefix = "(case insensitive) " if self.case_insensitive else ""
        return f"{prefix}[{', '.join(self.values)}]"


@dataclass(frozen=True, slots=True)
class ListOf:
    """Every element of a LIST value is one of `values`; `non_empty` refuses an empty list."""

    values: tuple[str, ...]
    non_empty: bool = False

    def __call__(self, name: str, value: Any) -> None:
        if self.non_empty and not value:
            raise ConfigError(name, "", f"List must contain at least one of: {', '.join(self.values)}")
        for item in value:
            if item not in self.values:
                raise ConfigError(name, item, f"String must be one of: {', '.join(self.values)}")

    def describe(self) -> str:
        return f"[{', '.join(self.values)}]"


@dataclass(frozen=True, slots=True)
class NonEmptyString:
    def __call__(self, name: str, value: Any) -> None:
        if value is not None and not str(value).strip():
            raise ConfigError(name, value, "String must be non-empty")

    def describe(self) -> str:
        return "non-empty string"


@dataclass(frozen=True, slots=True)
class ThrottledReplicas:
    """`*` or a list of `partitionId:brokerId` pairs."""

    def __call__(self, name: str, value: Any) -> None:
        items = [v.strip() for v in value]
        if items == ["*"]:
            return
        for item in items:
            if not re.fullmatch(r"\d+:\d+", item):
                raise ConfigError(
                    name,
                    ",".join(value),
                    "must be the literal '*' or a list of replicas in the following format: "
                    "[partitionId]:[brokerId],[partitionId]:[brokerId],...",
                )

    def describe(self) -> str:
        return "[partitionId]:[brokerId],[partitionId]:[brokerId],..."


@dataclass(frozen=True, slots=True)
class ShareOffsetReset:
    """`latest`, `earliest` or `by_duration:<ISO-8601 duration>` (not negative)."""

    def __call__(self, name: str, value: Any) -> None:
        if value in ("latest", "earliest"):
            return
        if isinstance(value, str) and value.startswith("by_duration:"):
            duration = value[len("by_duration:"):]
            if re.fullmatch(
                r"P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?", duration
            ) and duration not in ("P", "PT") and not duration.endswith("T"):
                return
        raise ConfigError(name, value, "must be latest, earliest or by_duration:PnDTnHnMn.nS")

    def describe(self) -> str:
        return "[latest, earliest, by_duration:PnDTnHnMn.nS]"


def _num(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else str(x)


# --- the definition record --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfigDef:
    """One config: Kafka's name, type, default and rules, plus how pybroker treats it.

    `default` is Kafka's default as a Python value (None where Kafka has none; LIST defaults are
    tuples). `synonyms` lists, for a topic or group config, the broker configs that supply its
    default, highest precedence first. `applies` is False for configs pybroker accepts for
    compatibility but does not act on.
    """

    name: str
    type: ConfigType
    default: Any
    doc: str
    importance: Importance = Importance.MEDIUM
    validator: Callable[[str, Any], None] | None = None
    synonyms: tuple[str, ...] = ()
    update_mode: UpdateMode | None = None
    applies: bool = True
    internal: bool = False

    @property
    def sensitive(self) -> bool:
        return self.type is ConfigType.PASSWORD

    @property
    def read_only(self) -> bool:
        """True for broker configs that only change with a restart (Kafka's read-only mode)."""
        return self.update_mode is UpdateMode.READ_ONLY

    @property
    def valid_values(self) -> str:
        describe = getattr(self.validator, "describe", None)
        return describe() if describe else ""

    def parse(self, raw: Any) -> Any:
        """Convert a raw (string) value to this config's Python type and validate it.

        None means "not set" and yields the default (unvalidated, as Kafka does).
        """
        if raw is None:
            return list(self.default) if isinstance(self.default, tuple) else self.default
        value = _convert(self.name, self.type, raw)
        if self.validator is not None and value is not None:
            self.validator(self.name, value)
        return value

    def to_string(self, value: Any) -> str | None:
        return to_config_string(value, self.type)


_INT_RE = re.compile(r"[+-]?[0-9]+")
_DOUBLE_RE = re.compile(
    r"[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[dDfF]?)"
)
_BOUNDS = {
    ConfigType.INT: (INT_MIN, INT_MAX),
    ConfigType.SHORT: (SHORT_MIN, SHORT_MAX),
    ConfigType.LONG: (LONG_MIN, LONG_MAX),
}


def _convert(name: str, type_: ConfigType, raw: Any) -> Any:
    if type_ is ConfigType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text not in ("true", "false"):
            raise ConfigError(name, raw, "Expected value to be either true or false")
        return text == "true"
    if type_ in _BOUNDS:
        lo, hi = _BOUNDS[type_]
        if isinstance(raw, bool):
            raise ConfigError(name, raw, f"Not a number of type {type_.name}")
        if isinstance(raw, int):
            value = raw
        else:
            text = str(raw).strip()
            if not _INT_RE.fullmatch(text):
                raise ConfigError(name, raw, f"Not a number of type {type_.name}")
            value = int(text)
        if not lo <= value <= hi:
            raise ConfigError(name, raw, f"Not a number of type {type_.name}")
        return value
    if type_ is ConfigType.DOUBLE:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return float(raw)
        text = str(raw).strip()
        if not _DOUBLE_RE.fullmatch(text):
            raise ConfigError(name, raw, "Not a number of type DOUBLE")
        if text[-1] in "dDfF":  # Java's type suffixes
            text = text[:-1]
        return float(text.replace("Infinity", "inf").replace("NaN", "nan"))
    if type_ is ConfigType.LIST:
        if isinstance(raw, (list, tuple)):
            items = [str(v).strip() for v in raw]
        else:
            text = str(raw).strip()
            items = [part.strip() for part in text.split(",")] if text else []
        return [item for item in items if item]
    # STRING, CLASS, PASSWORD
    return str(raw).strip()


def to_config_string(value: Any, type_: ConfigType | None = None) -> str | None:
    """Render a typed value the way Kafka prints it in DescribeConfigs."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, float) or type_ is ConfigType.DOUBLE:
        return _java_double(float(value))
    return str(value)


def _java_double(x: float) -> str:
    """Java's Double.toString, so that doubles read back as Kafka shows them."""
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    sign = "-" if str(x).startswith("-") else ""
    mag = abs(x)
    if mag == 0:
        return sign + "0.0"
    if 1e-3 <= mag < 1e7:
        text = repr(mag)  # never uses an exponent in this range
        return sign + (text if "." in text else text + ".0")
    digits, exponent = _shortest_digits(mag)
    frac = digits[1:].rstrip("0") or "0"
    return f"{sign}{digits[0]}.{frac}E{exponent}"


def _shortest_digits(mag: float) -> tuple[str, int]:
    """The shortest round-tripping digits of a positive float and its decimal exponent."""
    import decimal

    t = decimal.Decimal(repr(mag)).normalize().as_tuple()
    digits = "".join(map(str, t.digits))
    return digits, len(digits) - 1 + int(t.exponent)


# --- table builders ---------------------------------------------------------------------------

B, S, I, SH, L, D, LS, C, P = (
    ConfigType.BOOLEAN,
    ConfigType.STRING,
    ConfigType.INT,
    ConfigType.SHORT,
    ConfigType.LONG,
    ConfigType.DOUBLE,
    ConfigType.LIST,
    ConfigType.CLASS,
    ConfigType.PASSWORD,
)
HIGH, MEDIUM, LOW = Importance.HIGH, Importance.MEDIUM, Importance.LOW
RO, PB, CW = UpdateMode.READ_ONLY, UpdateMode.PER_BROKER, UpdateMode.CLUSTER_WIDE

AT_LEAST_0 = Range(0)
AT_LEAST_1 = Range(1)
COMPRESSION_TYPES = ("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")
TIMESTAMP_TYPES = ("CreateTime", "LogAppendTime")
CLEANUP_POLICIES = ("compact", "delete")
GZIP_LEVEL = Range(1, 9, or_value=-1)
LZ4_LEVEL = Range(1, 17)
ZSTD_LEVEL = Range(-131072, 22)
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
DEFAULT_SECURITY_PROTOCOL_MAP = "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT"

_broker: dict[str, ConfigDef] = {}


def _b(
    name: str,
    type_: ConfigType,
    default: Any,
    doc: str,
    importance: Importance = MEDIUM,
    mode: UpdateMode = RO,
    validator: Callable[[str, Any], None] | None = None,
    *,
    applies: bool = True,
    internal: bool = False,
) -> None:
    if name in _broker:
        raise AssertionError(f"broker config {name} defined twice")
    _broker[name] = ConfigDef(
        name=name,
        type=type_,
        default=default,
        doc=doc,
        importance=importance,
        validator=validator,
        update_mode=mode,
        applies=applies,
        internal=internal,
    )


def _na(name: str, type_: ConfigType, default: Any, doc: str, importance: Importance = MEDIUM,
        mode: UpdateMode = RO, validator: Callable[[str, Any], None] | None = None) -> None:
    """A config pybroker accepts and reports but does not act on."""
    _b(name, type_, default, doc, importance, mode, validator, applies=False)


# --- broker configs: KRaft, node identity and listeners ---------------------------------------

_b("node.id", I, None, "Id of this node in the cluster, shared by its broker and controller roles.",
   HIGH, RO, Range(0))
_b("process.roles", LS, None, "Roles this process plays: broker, controller, or both (combined mode).",
   HIGH, RO, ListOf(("broker", "controller")))
_b("broker.id", I, -1, "Legacy broker id; when set it must equal node.id.", HIGH)
_b("listeners", S, "PLAINTEXT://:9092",
   "Comma-separated NAME://host:port addresses to listen on; empty host binds all interfaces, "
   "port 0 picks a free port.", HIGH, PB)
_b("advertised.listeners", S, None,
   "Addresses published to clients and other nodes, if they differ from listeners.", HIGH)
_b("listener.security.protocol.map", S, DEFAULT_SECURITY_PROTOCOL_MAP,
   "NAME:PROTOCOL pairs giving the security protocol of each listener name.", LOW, PB)
_b("controller.listener.names", S, None,
   "Names of the listeners the controller role uses; brokers reach controllers through the first.",
   HIGH)
_b("inter.broker.listener.name", S, None,
   "Listener used between brokers; defaults to the one named by security.inter.broker.protocol.")
_b("security.inter.broker.protocol", S, "PLAINTEXT",
   "Security protocol between brokers; not to be set together with inter.broker.listener.name.",
   MEDIUM, RO, OneOf(SECURITY_PROTOCOLS))
_b("controller.quorum.voters", LS, (),
   "Static controller quorum as id@host:port entries, e.g. 1@localhost:9093.", HIGH)
_b("controller.quorum.bootstrap.servers", LS, (),
   "host:port endpoints used to discover the controller quorum.", HIGH)
_b("controller.quorum.election.timeout.ms", I, 1000,
   "How long without hearing from a leader before a voter starts an election.", HIGH, RO, AT_LEAST_0)
_b("controller.quorum.election.backoff.max.ms", I, 1000,
   "Upper bound of the randomized backoff between elections.", HIGH, RO, AT_LEAST_0)
_b("controller.quorum.fetch.timeout.ms", I, 2000,
   "How long without a successful fetch before a follower becomes a candidate, and how long a "
   "leader keeps leading without fetches from a majority.", HIGH, RO, AT_LEAST_0)
_b("controller.quorum.append.linger.ms", I, 25,
   "How long the quorum leader lets writes accumulate before flushing them.", MEDIUM, RO, AT_LEAST_0)
_b("controller.quorum.request.timeout.ms", I, 2000,
   "Time to wait for a quorum request's response before retrying.", MEDIUM, RO, AT_LEAST_0)
_b("controller.quorum.retry.backoff.ms", I, 20,
   "Initial backoff before retrying a failed quorum request.", LOW, RO, AT_LEAST_0)
_b("broker.heartbeat.interval.ms", I, 2000, "Interval between broker heartbeats to the controller.")
_b("broker.session.timeout.ms", I, 9000,
   "How long a broker's registration lease lasts without heartbeats.")
_b("initial.broker.registration.timeout.ms", I, 60000,
   "How long a starting broker waits to register with the controllers before giving up.")
_b("broker.rack", S, None, "Rack of this broker, used for rack-aware replica placement.")
_b("early.start.listeners", S, None,
   "Listeners that may start before the authorizer is ready (controller listeners always do).",
   HIGH)
_b("controlled.shutdown.enable", B, True,
   "Move leadership away from this broker before it shuts down.")
_b("metadata.log.dir", S, None,
   "Directory of the metadata log; defaults to the first of log.dirs.", HIGH)
_b("metadata.log.segment.bytes", I, 1073741824, "Segment size of the metadata log.", HIGH, RO,
   Range(8388608))
_b("metadata.log.segment.ms", L, 604800000, "Time after which a metadata log segment rolls.", HIGH)
_b("metadata.log.max.record.bytes.between.snapshots", L, 20971520,
   "Bytes of metadata log after the latest snapshot that trigger a new snapshot.", HIGH, RO,
   AT_LEAST_1)
_b("metadata.log.max.snapshot.interval.ms", L, 3600000,
   "Longest time committed metadata may go unsnapshotted; 0 disables time-based snapshots.",
   HIGH, RO, AT_LEAST_0)
_b("metadata.max.retention.bytes", L, 104857600,
   "Soft limit on the combined size of metadata log and snapshots.", HIGH)
_b("metadata.max.retention.ms", L, 604800000,
   "Soft limit on the age of metadata log segments and snapshots.", HIGH)
_b("metadata.max.idle.interval.ms", I, 500,
   "How often the active controller appends a no-op record when idle; 0 disables it.", LOW, RO,
   AT_LEAST_0)

# --- broker configs: log storage and topic defaults -------------------------------------------

_b("log.dir", S, "/tmp/kafka-logs", "Data directory, used when log.dirs is not set.", HIGH)
_b("log.dirs", S, None, "Comma-separated data directories; overrides log.dir.", HIGH)
_b("num.partitions", I, 1, "Partition count of auto-created topics and of topics created without one.",
   MEDIUM, RO, AT_LEAST_1)
_b("default.replication.factor", I, 1,
   "Replication factor of auto-created topics and of topics created with -1.")
_b("min.insync.replicas", I, 1,
   "Fewest in-sync replicas, leader included, that must hold a write for acks=all to succeed.",
   HIGH, CW, AT_LEAST_1)
_b("auto.create.topics.enable", B, True,
   "Create a topic when a client asks for its metadata and it does not exist.", HIGH)
_b("delete.topic.enable", B, True, "Allow topics to be deleted; when false deletions are refused.",
   HIGH)
_b("log.segment.bytes", I, 1073741824, "Largest size of one log segment file.", HIGH, CW,
   Range(1048576))
_b("log.roll.ms", L, None, "Time after which a segment rolls; falls back to log.roll.hours.", HIGH, CW)
_b("log.roll.hours", I, 168, "Time after which a segment rolls, in hours; below log.roll.ms.", HIGH,
   RO, AT_LEAST_1)
_b("log.roll.jitter.ms", L, None,
   "Largest random jitter subtracted from the roll time; falls back to log.roll.jitter.hours.",
   HIGH, CW)
_b("log.roll.jitter.hours", I, 0, "Roll jitter in hours; below log.roll.jitter.ms.", HIGH, RO,
   AT_LEAST_0)
_b("log.retention.ms", L, None,
   "How long to keep a log segment; -1 keeps forever. Falls back to log.retention.minutes.", HIGH, CW)
_b("log.retention.minutes", I, None,
   "Retention time in minutes; below log.retention.ms, above log.retention.hours.", HIGH)
_b("log.retention.hours", I, 168, "Retention time in hours; the last fallback for retention.", HIGH)
_b("log.retention.bytes", L, -1, "Largest size of a partition's log before old segments go; -1 is no limit.",
   HIGH, CW)
_b("log.retention.check.interval.ms", L, 300000,
   "How often logs are checked for segments to delete.", MEDIUM, RO, AT_LEAST_1)
_b("log.cleanup.policy", LS, ("delete",),
   "Default cleanup policy: delete, compact, or both.", MEDIUM, CW, ListOf(CLEANUP_POLICIES, True))
_b("log.index.size.max.bytes", I, 10485760, "Largest size of an offset index file.", MEDIUM, CW,
   Range(4))
_b("log.index.interval.bytes", I, 4096, "Bytes of log between offset index entries.", MEDIUM, CW,
   AT_LEAST_0)
_b("log.flush.interval.messages", L, LONG_MAX,
   "Messages appended to a partition before it is fsynced.", HIGH, CW, AT_LEAST_1)
_b("log.flush.interval.ms", L, None,
   "Longest time appended data stays unflushed; falls back to log.flush.scheduler.interval.ms.",
   HIGH, CW)
_b("log.flush.scheduler.interval.ms", L, LONG_MAX,
   "How often the flusher checks whether a log needs an fsync.", HIGH)
_b("log.flush.offset.checkpoint.interval.ms", I, 60000,
   "How often the recovery-point checkpoint is written.", HIGH, RO, AT_LEAST_0)
_b("log.flush.start.offset.checkpoint.interval.ms", I, 60000,
   "How often the log-start-offset checkpoint is written.", HIGH, RO, AT_LEAST_0)
_b("log.segment.delete.delay.ms", L, 60000,
   "Delay before a deleted segment's files are removed from disk.", HIGH, CW, AT_LEAST_0)
_b("log.preallocate", B, False, "Preallocate segment files when they are created.", MEDIUM, CW)
_b("log.message.timestamp.type", S, "CreateTime",
   "Whether record timestamps are the producer's (CreateTime) or the broker's append time "
   "(LogAppendTime).", MEDIUM, CW, OneOf(TIMESTAMP_TYPES))
_b("log.message.timestamp.before.max.ms", L, LONG_MAX,
   "How far in the past a CreateTime timestamp may be before the batch is rejected.", MEDIUM, CW,
   AT_LEAST_0)
_b("log.message.timestamp.after.max.ms", L, 3600000,
   "How far in the future a CreateTime timestamp may be before the batch is rejected.", MEDIUM, CW,
   AT_LEAST_0)
_b("log.local.retention.ms", L, -2,
   "Tiered storage: local retention time; -2 means use log.retention.ms.", MEDIUM, CW, Range(-2),
   applies=False)
_b("log.local.retention.bytes", L, -2,
   "Tiered storage: local retention size; -2 means use log.retention.bytes.", MEDIUM, CW, Range(-2),
   applies=False)
_b("log.cleaner.enable", B, True, "Run the log cleaner (compaction). Deprecated in Kafka.")
_b("log.cleaner.threads", I, 1, "Number of log cleaner threads.", MEDIUM, CW, AT_LEAST_0)
_b("log.cleaner.backoff.ms", L, 15000, "Sleep time of the cleaner when there is nothing to clean.",
   MEDIUM, CW, AT_LEAST_0)
_b("log.cleaner.dedupe.buffer.size", L, 134217728,
   "Memory for key deduplication across all cleaner threads.", MEDIUM, CW)
_b("log.cleaner.io.buffer.size", I, 524288, "Memory for cleaner I/O buffers across all threads.",
   MEDIUM, CW, AT_LEAST_0)
_b("log.cleaner.io.buffer.load.factor", D, 0.9, "How full the deduplication buffer may become.",
   MEDIUM, CW)
_b("log.cleaner.io.max.bytes.per.second", D, DOUBLE_MAX,
   "Throttle on the cleaner's combined read and write rate.", MEDIUM, CW)
_b("log.cleaner.delete.retention.ms", L, 86400000,
   "How long tombstones are kept in compacted topics.", MEDIUM, CW, AT_LEAST_0)
_b("log.cleaner.min.compaction.lag.ms", L, 0,
   "Least time a record stays uncompacted.", MEDIUM, CW, AT_LEAST_0)
_b("log.cleaner.max.compaction.lag.ms", L, LONG_MAX,
   "Longest time a record may stay ineligible for compaction.", MEDIUM, CW, AT_LEAST_1)
_b("log.cleaner.min.cleanable.ratio", D, 0.5,
   "Least ratio of dirty to total log for a log to be cleaned.", MEDIUM, CW, Range(0, 1))
_b("log.dir.failure.timeout.ms", L, 30000,
   "How long a broker may fail to report a failed log directory before shutting down.", LOW, RO,
   AT_LEAST_1)
_b("log.initial.task.delay.ms", L, 30000,
   "Delay before the first background log tasks run after start-up.", LOW, RO, AT_LEAST_0,
   internal=True)
_b("message.max.bytes", I, 1048588,
   "Largest record batch the broker accepts (after compression); per topic: max.message.bytes.",
   HIGH, CW, AT_LEAST_0)
_b("compression.type", S, "producer",
   "Final compression of topic data: a codec, uncompressed, or producer to keep the producer's.",
   HIGH, CW, OneOf(COMPRESSION_TYPES))
_b("compression.gzip.level", I, -1, "gzip level used when compression.type is gzip.", MEDIUM, CW,
   GZIP_LEVEL)
_b("compression.lz4.level", I, 9, "lz4 level used when compression.type is lz4.", MEDIUM, CW, LZ4_LEVEL)
_b("compression.zstd.level", I, 3, "zstd level used when compression.type is zstd.", MEDIUM, CW,
   ZSTD_LEVEL)
_b("unclean.leader.election.enable", B, False,
   "Allow an out-of-sync replica to become leader as a last resort, at the risk of data loss.",
   HIGH, CW)
_b("create.topic.policy.class.name", C, None, "Java class validating topic creation.", LOW,
   applies=False)
_b("alter.config.policy.class.name", C, None, "Java class validating config changes.", LOW,
   applies=False)

# --- broker configs: network and requests -----------------------------------------------------

_b("socket.request.max.bytes", I, 104857600, "Largest request size accepted from a socket.", HIGH,
   RO, AT_LEAST_1)
_b("socket.send.buffer.bytes", I, 102400, "SO_SNDBUF of server sockets; -1 keeps the OS default.",
   HIGH)
_b("socket.receive.buffer.bytes", I, 102400,
   "SO_RCVBUF of server sockets; -1 keeps the OS default.", HIGH)
_b("socket.listen.backlog.size", I, 50, "Pending-connection backlog of listening sockets.", MEDIUM,
   RO, AT_LEAST_1)
_b("connections.max.idle.ms", L, 600000, "Idle connections are closed after this time.")
_b("max.connections", I, INT_MAX, "Most connections the broker accepts at once.", MEDIUM, CW,
   AT_LEAST_0)
_b("max.connections.per.ip", I, INT_MAX, "Most connections accepted from one address.", MEDIUM, CW,
   AT_LEAST_0)
_b("max.connections.per.ip.overrides", S, "",
   "Per-address exceptions to max.connections.per.ip, as host:count pairs.", MEDIUM, CW)
_b("max.connection.creation.rate", I, INT_MAX, "Most new connections accepted per second.", MEDIUM,
   CW, AT_LEAST_0)
_b("queued.max.requests", I, 500,
   "Requests that may wait for processing before the broker stops reading from sockets.", HIGH, RO,
   AT_LEAST_1)
_b("queued.max.request.bytes", L, -1,
   "Bytes of queued requests before the broker stops reading; -1 is no limit.")
_b("request.timeout.ms", I, 30000, "Timeout of requests this node sends to other nodes.", HIGH)
_b("connections.max.reauth.ms", L, 0, "Session lifetime for SASL re-authentication; 0 disables it.",
   applies=False)
_b("connection.failed.authentication.delay.ms", I, 100,
   "Delay before closing a connection whose authentication failed.", LOW, RO, AT_LEAST_0,
   applies=False)
_b("fetch.max.bytes", I, 57671680, "Most bytes returned for one fetch request.", MEDIUM, RO,
   Range(1024))
_b("max.incremental.fetch.session.cache.slots", I, 1000,
   "Most incremental fetch sessions the broker keeps.", MEDIUM, RO, AT_LEAST_0)
_b("max.request.partition.size.limit", I, 2000, "Most partitions served in one request.", MEDIUM,
   RO, AT_LEAST_1)
_b("socket.connection.setup.timeout.ms", L, 10000,
   "Initial timeout for outgoing connections to other nodes.")
_b("socket.connection.setup.timeout.max.ms", L, 30000,
   "Largest timeout for outgoing connections after repeated failures.")
_b("controller.socket.timeout.ms", I, 30000, "Socket timeout of controller-to-broker channels.")
_na("num.network.threads", I, 3, "Network threads per listener (pybroker uses one event loop).",
    HIGH, CW, AT_LEAST_1)
_na("num.io.threads", I, 8, "Request handler threads (pybroker uses one event loop).", HIGH, CW,
    AT_LEAST_1)
_na("background.threads", I, 10, "Threads for background tasks.", HIGH, CW, AT_LEAST_1)
_na("num.recovery.threads.per.data.dir", I, 2,
    "Threads per data directory for recovery at start-up and flushing at shutdown.", HIGH, CW,
    AT_LEAST_1)
_na("num.replica.alter.log.dirs.threads", I, None,
    "Threads moving replicas between log directories.", HIGH)
_na("num.replica.fetchers", I, 1, "Fetcher threads per source broker.", HIGH, CW)
_na("fetch.purgatory.purge.interval.requests", I, 1000,
    "Purge interval of the fetch purgatory, in requests.")
_na("producer.purgatory.purge.interval.requests", I, 1000,
    "Purge interval of the produce purgatory, in requests.")
_na("delete.records.purgatory.purge.interval.requests", I, 1,
    "Purge interval of the delete-records purgatory, in requests.")
_na("share.fetch.purgatory.purge.interval.requests", I, 1000,
    "Purge interval of the share-fetch purgatory, in requests.")
_na("auto.leader.rebalance.enable", B, True,
    "Periodically move leadership back to preferred replicas.", HIGH)
_na("leader.imbalance.check.interval.seconds", L, 300,
    "How often the controller checks leader balance.", HIGH, RO, AT_LEAST_1)

# --- broker configs: replication --------------------------------------------------------------

_b("replica.lag.time.max.ms", L, 30000,
   "A follower that has not caught up or fetched for this long leaves the ISR.", HIGH)
_b("replica.fetch.max.bytes", I, 1048576,
   "Bytes a follower tries to fetch per partition (a larger first batch is still returned).",
   MEDIUM, RO, AT_LEAST_0)
_b("replica.fetch.response.max.bytes", I, 10485760,
   "Bytes a follower expects in a whole fetch response.", MEDIUM, RO, AT_LEAST_0)
_b("replica.fetch.min.bytes", I, 1, "Least bytes a follower waits for in a fetch response.", HIGH)
_b("replica.fetch.wait.max.ms", I, 500,
   "Longest time a follower's fetch waits at the leader; keep below replica.lag.time.max.ms.", HIGH)
_b("replica.fetch.backoff.ms", I, 1000, "Sleep after a fetch partition error.", MEDIUM, RO,
   AT_LEAST_0)
_b("replica.socket.timeout.ms", I, 30000,
   "Socket timeout of follower fetches; at least replica.fetch.wait.max.ms.", HIGH)
_b("replica.socket.receive.buffer.bytes", I, 65536, "Receive buffer of follower connections.", HIGH)
_b("replica.high.watermark.checkpoint.interval.ms", L, 5000,
   "How often high watermarks are checkpointed to disk.", HIGH)
_na("replica.selector.class", S, None, "Java class choosing a preferred read replica.")

# --- broker configs: group coordinator --------------------------------------------------------

_b("offsets.topic.num.partitions", I, 50, "Partitions of __consumer_offsets (fixed after creation).",
   HIGH, RO, AT_LEAST_1)
_b("offsets.topic.replication.factor", SH, 3,
   "Replication factor of __consumer_offsets.", HIGH, RO, AT_LEAST_1)
_b("offsets.topic.segment.bytes", I, 104857600, "Segment size of __consumer_offsets.", HIGH, RO,
   AT_LEAST_1)
_b("offsets.topic.compression.codec", I, 0, "Compression codec id for __consumer_offsets writes.",
   HIGH)
_b("offsets.retention.minutes", I, 10080,
   "How long committed offsets of an empty group (or of a standalone consumer) are kept.", HIGH,
   RO, AT_LEAST_1)
_b("offsets.retention.check.interval.ms", L, 600000, "How often expired offsets are looked for.",
   HIGH, RO, AT_LEAST_1)
_b("offsets.commit.timeout.ms", I, 5000,
   "Longest wait for an offsets-topic write to be replicated before answering.", HIGH, RO,
   AT_LEAST_1)
_b("offsets.load.buffer.size", I, 5242880,
   "Read batch size when loading group state from __consumer_offsets.", HIGH, RO, AT_LEAST_1)
_b("offset.metadata.max.bytes", I, 4096, "Largest metadata string of one offset commit.", HIGH)
_b("group.initial.rebalance.delay.ms", I, 3000,
   "How long a new classic group waits for more members before its first rebalance.")
_b("group.min.session.timeout.ms", I, 6000, "Smallest session timeout a classic member may ask for.")
_b("group.max.session.timeout.ms", I, 1800000, "Largest session timeout a classic member may ask for.")
_b("group.max.size", I, INT_MAX, "Most members of a classic group.", MEDIUM, RO, AT_LEAST_1)
_b("group.coordinator.rebalance.protocols", LS, ("classic", "consumer", "streams"),
   "Enabled group protocols; classic cannot be disabled.", MEDIUM, RO,
   ListOf(("consumer", "classic", "share", "streams")))
_b("group.coordinator.append.linger.ms", I, 5,
   "How long the coordinator lets writes accumulate before flushing.", MEDIUM, RO, AT_LEAST_0)
_na("group.coordinator.threads", I, 4, "Group coordinator threads.", HIGH, RO, AT_LEAST_1)
_b("group.consumer.session.timeout.ms", I, 45000,
   "Session timeout of consumer-protocol (KIP-848) members.", MEDIUM, RO, AT_LEAST_1)
_b("group.consumer.min.session.timeout.ms", I, 45000,
   "Smallest allowed consumer.session.timeout.ms.", MEDIUM, RO, AT_LEAST_1)
_b("group.consumer.max.session.timeout.ms", I, 60000,
   "Largest allowed consumer.session.timeout.ms.", MEDIUM, RO, AT_LEAST_1)
_b("group.consumer.heartbeat.interval.ms", I, 5000,
   "Heartbeat interval given to consumer-protocol members.", MEDIUM, RO, AT_LEAST_1)
_b("group.consumer.min.heartbeat.interval.ms", I, 5000,
   "Smallest allowed consumer.heartbeat.interval.ms.", MEDIUM, RO, AT_LEAST_1)
_b("group.consumer.max.heartbeat.interval.ms", I, 15000,
   "Largest allowed consumer.heartbeat.interval.ms.", MEDIUM, RO, AT_LEAST_1)
_b("group.consumer.max.size", I, INT_MAX, "Most members of a consumer-protocol group.", MEDIUM, RO,
   AT_LEAST_1)
_b("group.consumer.assignors", LS, ("uniform", "range"),
   "Server-side assignors, the first being the default: uniform, range.")
_b("group.consumer.migration.policy", S, "bidirectional",
   "Which conversions between classic and consumer groups are allowed for non-empty groups.",
   MEDIUM, RO, OneOf(("DISABLED", "DOWNGRADE", "UPGRADE", "BIDIRECTIONAL"), case_insensitive=True))

for _name, _type, _default, _doc, _validator in (
    ("group.share.session.timeout.ms", I, 45000, "Session timeout of share-group members.", AT_LEAST_1),
    ("group.share.min.session.timeout.ms", I, 45000, "Smallest share-group session timeout.", AT_LEAST_1),
    ("group.share.max.session.timeout.ms", I, 60000, "Largest share-group session timeout.", AT_LEAST_1),
    ("group.share.heartbeat.interval.ms", I, 5000, "Heartbeat interval of share-group members.", AT_LEAST_1),
    ("group.share.min.heartbeat.interval.ms", I, 5000, "Smallest share-group heartbeat interval.", AT_LEAST_1),
    ("group.share.max.heartbeat.interval.ms", I, 15000, "Largest share-group heartbeat interval.", AT_LEAST_1),
    ("group.share.max.size", I, 200, "Most members of a share group.", Range(1, 1000)),
    ("group.share.assignors", LS, ("simple",), "Share-group assignor.", None),
    ("group.share.delivery.count.limit", I, 5, "Most delivery attempts of a share-group record.", Range(2, 10)),
    ("group.share.record.lock.duration.ms", I, 30000, "Record acquisition lock duration.", Range(1000, 3600000)),
    ("group.share.min.record.lock.duration.ms", I, 15000, "Smallest record lock duration.", Range(1000, 30000)),
    ("group.share.max.record.lock.duration.ms", I, 60000, "Largest record lock duration.", Range(30000, 3600000)),
    ("group.share.partition.max.record.locks", I, 2000, "Record lock limit per share-partition.", Range(100, 10000)),
    ("group.share.max.share.sessions", I, 2000, "Most share sessions per broker.", AT_LEAST_1),
    ("group.streams.session.timeout.ms", I, 45000, "Session timeout of streams-group members.", AT_LEAST_1),
    ("group.streams.min.session.timeout.ms", I, 45000, "Smallest streams-group session timeout.", AT_LEAST_1),
    ("group.streams.max.session.timeout.ms", I, 60000, "Largest streams-group session timeout.", AT_LEAST_1),
    ("group.streams.heartbeat.interval.ms", I, 5000, "Heartbeat interval of streams-group members.", AT_LEAST_1),
    ("group.streams.min.heartbeat.interval.ms", I, 5000, "Smallest streams-group heartbeat interval.", AT_LEAST_1),
    ("group.streams.max.heartbeat.interval.ms", I, 15000, "Largest streams-group heartbeat interval.", AT_LEAST_1),
    ("group.streams.max.size", I, INT_MAX, "Most members of a streams group.", AT_LEAST_1),
    ("group.streams.num.standby.replicas", I, 0, "Standby replicas per streams task.", AT_LEAST_0),
    ("group.streams.max.standby.replicas", I, 2, "Largest allowed streams.num.standby.replicas.", AT_LEAST_0),
):
    _na(_name, _type, _default, _doc, MEDIUM, RO, _validator)

# --- broker configs: share coordinator (share groups are not served) --------------------------

_na("share.coordinator.state.topic.num.partitions", I, 50, "Partitions of __share_group_state.",
    HIGH, RO, AT_LEAST_1)
_na("share.coordinator.state.topic.replication.factor", SH, 3,
    "Replication factor of __share_group_state.", HIGH, RO, AT_LEAST_1)
_na("share.coordinator.state.topic.min.isr", SH, 2, "min.insync.replicas of __share_group_state.",
    HIGH, RO, AT_LEAST_1)
_na("share.coordinator.state.topic.segment.bytes", I, 104857600,
    "Segment size of __share_group_state.", HIGH, RO, AT_LEAST_1)
_na("share.coordinator.state.topic.compression.codec", I, 0,
    "Compression codec id for __share_group_state.", HIGH)
_na("share.coordinator.load.buffer.size", I, 5242880, "Read batch size when loading share state.",
    HIGH, RO, AT_LEAST_1)
_na("share.coordinator.write.timeout.ms", I, 5000, "Replication wait of share-state writes.", HIGH,
    RO, AT_LEAST_1)
_na("share.coordinator.append.linger.ms", I, 5, "Write batching delay of the share coordinator.",
    MEDIUM, RO, AT_LEAST_0)
_na("share.coordinator.snapshot.update.records.per.snapshot", I, 500,
    "Update records written between share-state snapshots.", MEDIUM, RO, AT_LEAST_0)
_na("share.coordinator.threads", I, 1, "Share coordinator threads.", MEDIUM, RO, AT_LEAST_1)

# --- broker configs: transactions and producer ids --------------------------------------------

_b("transaction.state.log.num.partitions", I, 50,
   "Partitions of __transaction_state (fixed after creation).", HIGH, RO, AT_LEAST_1)
_b("transaction.state.log.replication.factor", SH, 3,
   "Replication factor of __transaction_state.", HIGH, RO, AT_LEAST_1)
_b("transaction.state.log.min.isr", I, 2, "min.insync.replicas of __transaction_state.", HIGH, RO,
   AT_LEAST_1)
_b("transaction.state.log.segment.bytes", I, 104857600, "Segment size of __transaction_state.",
   HIGH, RO, AT_LEAST_1)
_b("transaction.state.log.load.buffer.size", I, 5242880,
   "Read batch size when loading transaction state.", HIGH, RO, AT_LEAST_1)
_b("transaction.max.timeout.ms", I, 900000,
   "Largest transaction timeout a producer may ask for in InitProducerId.", HIGH, RO, AT_LEAST_1)
_b("transactional.id.expiration.ms", I, 604800000,
   "Idle time after which a transactional id without an ongoing transaction expires.", HIGH, RO,
   AT_LEAST_1)
_b("transaction.abort.timed.out.transaction.cleanup.interval.ms", I, 10000,
   "How often timed-out transactions are rolled back.", LOW, RO, AT_LEAST_1)
_b("transaction.remove.expired.transaction.cleanup.interval.ms", I, 3600000,
   "How often expired transactional ids are removed.", LOW, RO, AT_LEAST_1)
_b("transaction.partition.verification.enable", B, True,
   "Check that a partition was added to the transaction before accepting transactional writes.",
   LOW, CW)
_na("transaction.two.phase.commit.enable", B, False,
    "Allow two-phase-commit transactions with an external coordinator.", LOW)
_b("producer.id.expiration.ms", I, 86400000,
   "Idle time after which a partition leader forgets a producer id.", LOW, CW, AT_LEAST_1)
_b("producer.id.expiration.check.interval.ms", I, 600000,
   "How often expired producer ids are removed.", LOW, RO, AT_LEAST_1, internal=True)
_b("add.partitions.to.txn.retry.backoff.ms", I, 20,
   "Backoff between server-side attempts to add a partition to a transaction.", HIGH, RO, AT_LEAST_1)
_b("add.partitions.to.txn.retry.backoff.max.ms", I, 100,
   "Longest server-side retry time when adding partitions to a transaction.", HIGH, RO, AT_LEAST_0)

# --- broker configs: quotas, metrics, tokens, plug-ins (accepted, not acted on) ---------------

for _name, _default in (
    ("quota.window.num", 11),
    ("replication.quota.window.num", 11),
    ("alter.log.dirs.replication.quota.window.num", 11),
    ("controller.quota.window.num", 11),
):
    _na(_name, I, _default, "Samples kept for quota accounting.", LOW, RO, AT_LEAST_1)
for _name in (
    "quota.window.size.seconds",
    "replication.quota.window.size.seconds",
    "alter.log.dirs.replication.quota.window.size.seconds",
    "controller.quota.window.size.seconds",
):
    _na(_name, I, 1, "Time span of one quota sample.", LOW, RO, AT_LEAST_1)
_na("client.quota.callback.class", C, None, "Java class computing client quotas.", LOW)
_na("metric.reporters", LS, ("org.apache.kafka.common.metrics.JmxReporter",),
    "Java metrics reporter classes.", LOW, CW)
_na("metrics.num.samples", I, 2, "Samples kept to compute metrics.", LOW, RO, AT_LEAST_1)
_na("metrics.sample.window.ms", L, 30000, "Window of one metrics sample.", LOW, RO, AT_LEAST_1)
_na("metrics.recording.level", S, "INFO", "Highest metrics recording level.", LOW)
_na("kafka.metrics.reporters", LS, (), "Yammer metrics reporter classes.", LOW)
_na("kafka.metrics.polling.interval.secs", I, 10, "Polling interval of Yammer reporters.", LOW, RO,
    AT_LEAST_1)
_na("telemetry.max.bytes", I, 1048576, "Largest client telemetry push accepted.", LOW, RO, AT_LEAST_1)
_na("authorizer.class.name", S, "", "Authorizer class; empty disables authorization.", LOW)
_na("principal.builder.class", C,
    "org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder",
    "Java class building principals from connections.", MEDIUM, PB)
_na("delegation.token.secret.key", P, None, "Secret for delegation tokens; unset disables them.")
_na("delegation.token.max.lifetime.ms", L, 604800000, "Longest lifetime of a delegation token.",
    MEDIUM, RO, AT_LEAST_1)
_na("delegation.token.expiry.time.ms", L, 86400000, "Validity of a delegation token before renewal.",
    MEDIUM, RO, AT_LEAST_1)
_na("delegation.token.expiry.check.interval.ms", L, 3600000,
    "How often expired delegation tokens are removed.", LOW, RO, AT_LEAST_1)
_b("unstable.api.versions.enable", B, False, "Advertise API versions still under development.", LOW,
   internal=True)
_b("unstable.feature.versions.enable", B, False, "Allow feature versions still under development.",
   LOW, internal=True)

# --- broker configs: tiered storage (not supported) -------------------------------------------

_b("remote.log.storage.system.enable", B, False,
   "Enable tiered storage; pybroker does not support it and refuses true.", MEDIUM, applies=False)
for _name, _type, _default, _mode, _validator in (
    ("remote.log.storage.manager.class.name", S, None, RO, NonEmptyString()),
    ("remote.log.storage.manager.class.path", S, None, RO, None),
    ("remote.log.storage.manager.impl.prefix", S, "rsm.config.", RO, NonEmptyString()),
    ("remote.log.metadata.manager.class.name", S,
     "org.apache.kafka.server.log.remote.metadata.storage.TopicBasedRemoteLogMetadataManager", RO,
     NonEmptyString()),
    ("remote.log.metadata.manager.class.path", S, None, RO, None),
    ("remote.log.metadata.manager.impl.prefix", S, "rlmm.config.", RO, NonEmptyString()),
    ("remote.log.metadata.manager.listener.name", S, None, RO, NonEmptyString()),
    ("remote.log.metadata.custom.metadata.max.bytes", I, 128, RO, AT_LEAST_0),
    ("remote.log.index.file.cache.total.size.bytes", L, 1073741824, CW, AT_LEAST_1),
    ("remote.log.manager.thread.pool.size", I, 2, RO, AT_LEAST_1),
    ("remote.log.manager.copier.thread.pool.size", I, 10, CW, AT_LEAST_1),
    ("remote.log.manager.expiration.thread.pool.size", I, 10, CW, AT_LEAST_1),
    ("remote.log.manager.task.interval.ms", L, 30000, RO, AT_LEAST_1),
    ("remote.log.manager.copy.max.bytes.per.second", L, LONG_MAX, CW, AT_LEAST_1),
    ("remote.log.manager.copy.quota.window.num", I, 11, RO, AT_LEAST_1),
    ("remote.log.manager.copy.quota.window.size.seconds", I, 1, RO, AT_LEAST_1),
    ("remote.log.manager.fetch.max.bytes.per.second", L, LONG_MAX, CW, AT_LEAST_1),
    ("remote.log.manager.fetch.quota.window.num", I, 11, RO, AT_LEAST_1),
    ("remote.log.manager.fetch.quota.window.size.seconds", I, 1, RO, AT_LEAST_1),
    ("remote.log.reader.threads", I, 10, CW, AT_LEAST_1),
    ("remote.log.reader.max.pending.tasks", I, 100, RO, AT_LEAST_1),
    ("remote.fetch.max.wait.ms", I, 500, CW, AT_LEAST_1),
    ("remote.list.offsets.request.timeout.ms", L, 30000, CW, AT_LEAST_1),
):
    _na(_name, _type, _default, "Tiered storage setting (not supported by pybroker).", MEDIUM, _mode,
        _validator)

# --- broker configs: SSL and SASL (only PLAINTEXT listeners are served) -----------------------

_SEC = "Security setting (pybroker serves PLAINTEXT listeners only)."
for _name, _type, _default, _mode, _importance in (
    ("ssl.keystore.type", S, "JKS", PB, MEDIUM),
    ("ssl.keystore.location", S, None, PB, MEDIUM),
    ("ssl.keystore.password", P, None, PB, MEDIUM),
    ("ssl.keystore.key", P, None, PB, MEDIUM),
    ("ssl.keystore.certificate.chain", P, None, PB, MEDIUM),
    ("ssl.key.password", P, None, PB, MEDIUM),
    ("ssl.truststore.type", S, "JKS", PB, MEDIUM),
    ("ssl.truststore.location", S, None, PB, MEDIUM),
    ("ssl.truststore.password", P, None, PB, MEDIUM),
    ("ssl.truststore.certificates", P, None, PB, MEDIUM),
    ("ssl.protocol", S, "TLSv1.3", PB, MEDIUM),
    ("ssl.enabled.protocols", LS, ("TLSv1.2", "TLSv1.3"), PB, MEDIUM),
    ("ssl.cipher.suites", LS, (), PB, MEDIUM),
    ("ssl.provider", S, None, PB, MEDIUM),
    ("ssl.keymanager.algorithm", S, "SunX509", PB, MEDIUM),
    ("ssl.trustmanager.algorithm", S, "PKIX", PB, MEDIUM),
    ("ssl.endpoint.identification.algorithm", S, "https", PB, LOW),
    ("ssl.secure.random.implementation", S, None, PB, LOW),
    ("ssl.engine.factory.class", C, None, PB, LOW),
    ("ssl.principal.mapping.rules", S, "DEFAULT", RO, LOW),
    ("ssl.allow.dn.changes", B, False, RO, LOW),
    ("ssl.allow.san.changes", B, False, RO, LOW),
    ("sasl.enabled.mechanisms", LS, ("GSSAPI",), PB, MEDIUM),
    ("sasl.mechanism.inter.broker.protocol", S, "GSSAPI", PB, MEDIUM),
    ("sasl.mechanism.controller.protocol", S, "GSSAPI", RO, HIGH),
    ("sasl.jaas.config", P, None, PB, MEDIUM),
    ("sasl.client.callback.handler.class", C, None, RO, MEDIUM),
    ("sasl.server.callback.handler.class", C, None, RO, MEDIUM),
    ("sasl.login.callback.handler.class", C, None, RO, MEDIUM),
    ("sasl.login.class", C, None, RO, MEDIUM),
    ("sasl.server.max.receive.size", I, 524288, RO, MEDIUM),
    ("sasl.kerberos.service.name", S, None, PB, MEDIUM),
    ("sasl.kerberos.kinit.cmd", S, "/usr/bin/kinit", PB, MEDIUM),
    ("sasl.kerberos.min.time.before.relogin", L, 60000, PB, MEDIUM),
    ("sasl.kerberos.principal.to.local.rules", LS, ("DEFAULT",), PB, MEDIUM),
    ("sasl.kerberos.ticket.renew.jitter", D, 0.05, PB, MEDIUM),
    ("sasl.kerberos.ticket.renew.window.factor", D, 0.8, PB, MEDIUM),
    ("sasl.login.refresh.buffer.seconds", SH, 300, PB, MEDIUM),
    ("sasl.login.refresh.min.period.seconds", SH, 60, PB, MEDIUM),
    ("sasl.login.refresh.window.factor", D, 0.8, PB, MEDIUM),
    ("sasl.login.refresh.window.jitter", D, 0.05, PB, MEDIUM),
    ("sasl.login.connect.timeout.ms", I, None, RO, LOW),
    ("sasl.login.read.timeout.ms", I, None, RO, LOW),
    ("sasl.login.retry.backoff.ms", L, 100, RO, LOW),
    ("sasl.login.retry.backoff.max.ms", L, 10000, RO, LOW),
    ("sasl.oauthbearer.jwks.endpoint.url", S, None, RO, MEDIUM),
    ("sasl.oauthbearer.token.endpoint.url", S, None, RO, MEDIUM),
    ("sasl.oauthbearer.scope", S, None, RO, MEDIUM),
    ("sasl.oauthbearer.client.credentials.client.id", S, None, RO, MEDIUM),
    ("sasl.oauthbearer.client.credentials.client.secret", P, None, RO, MEDIUM),
    ("sasl.oauthbearer.jwt.retriever.class", C,
     "org.apache.kafka.common.security.oauthbearer.DefaultJwtRetriever", RO, MEDIUM),
    ("sasl.oauthbearer.jwt.validator.class", C,
     "org.apache.kafka.common.security.oauthbearer.DefaultJwtValidator", RO, MEDIUM),
    ("sasl.oauthbearer.assertion.algorithm", S, "RS256", RO, MEDIUM),
    ("sasl.oauthbearer.assertion.claim.aud", S, None, RO, MEDIUM),
    ("sasl.oauthbearer.assertion.claim.iss", S, None, RO, MEDIUM),
    ("sasl.oauthbearer.assertion.claim.sub", S, None, RO, MEDIUM),
    ("sasl.oauthbearer.assertion.claim.jti.include", B, False, RO, MEDIUM),
    ("sasl.oauthbearer.assertion.claim.exp.seconds", I, 300, RO, LOW),
    ("sasl.oauthbearer.assertion.claim.nbf.seconds", I, 60, RO, LOW),
    ("sasl.oauthbearer.assertion.file", S, None, RO, MEDIUM),
    ("sasl.oauthbearer.assertion.private.key.file", S, None, RO, MEDIUM),
    ("sasl.oauthbearer.assertion.private.key.passphrase", P, None, RO, MEDIUM),
    ("sasl.oauthbearer.assertion.template.file", S, None, RO, MEDIUM),
    ("sasl.oauthbearer.clock.skew.seconds", I, 30, RO, LOW),
    ("sasl.oauthbearer.expected.audience", LS, None, RO, LOW),
    ("sasl.oauthbearer.expected.issuer", S, None, RO, LOW),
    ("sasl.oauthbearer.jwks.endpoint.refresh.ms", L, 3600000, RO, LOW),
    ("sasl.oauthbearer.jwks.endpoint.retry.backoff.ms", L, 100, RO, LOW),
    ("sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms", L, 10000, RO, LOW),
    ("sasl.oauthbearer.scope.claim.name", S, "scope", RO, LOW),
    ("sasl.oauthbearer.sub.claim.name", S, "sub", RO, LOW),
    ("security.providers", S, None, RO, LOW),
):
    _validator = None
    if _name == "sasl.oauthbearer.assertion.algorithm":
        _validator = OneOf(("ES256", "RS256"), case_insensitive=True)
    if _name == "sasl.oauthbearer.assertion.claim.exp.seconds":
        _validator = Range(0, 86400)
    if _name == "sasl.oauthbearer.assertion.claim.nbf.seconds":
        _validator = Range(0, 3600)
    _na(_name, _type, _default, _SEC, _importance, _mode, _validator)
_na("ssl.client.auth", S, "none", _SEC, MEDIUM, PB, OneOf(("required", "requested", "none")))

# --- broker configs: pybroker's own --------------------------------------------------------------

_b("pybroker.metrics.port", I, None,
   "Port of the Prometheus metrics endpoint; unset disables it, 0 picks a free port.", LOW, RO,
   Range(0, 65535))
_b("pybroker.metrics.host", S, "localhost", "Address the Prometheus metrics endpoint binds.", LOW)

BROKER_CONFIGS: dict[str, ConfigDef] = dict(sorted(_broker.items()))

# Broker configs whose values are in another unit than the topic config they supply.
SYNONYM_MS_MULTIPLIER: dict[str, int] = {
    "log.retention.minutes": 60 * 1000,
    "log.retention.hours": 60 * 60 * 1000,
    "log.roll.hours": 60 * 60 * 1000,
    "log.roll.jitter.hours": 60 * 60 * 1000,
}

# Built-in values pybroker uses where Kafka requires a value or where Kafka's default does not
# suit a one-command single node. The internal-topic settings are those of the server.properties
# that ships with Kafka. Listener, voter and log-dir defaults are derived in pybroker.config.
PYBROKER_DEFAULTS: dict[str, str] = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.listener.names": "CONTROLLER",
    "log.dir": "./pybroker-data",
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
}


# --- topic configs ----------------------------------------------------------------------------

_topic: dict[str, ConfigDef] = {}


def _t(name: str, type_: ConfigType, default: Any, doc: str, synonyms: tuple[str, ...],
       validator: Callable[[str, Any], None] | None = None, *, applies: bool = True) -> None:
    _topic[name] = ConfigDef(
        name=name,
        type=type_,
        default=default,
        doc=doc,
        importance=MEDIUM,
        validator=validator,
        synonyms=synonyms,
        applies=applies,
    )


_t("cleanup.policy", LS, ("delete",),
   "delete discards old segments by time or size, compact keeps the latest record per key; both may "
   "be given.", ("log.cleanup.policy",), ListOf(CLEANUP_POLICIES, True))
_t("compression.type", S, "producer",
   "Final compression of the topic's data: a codec, uncompressed, or producer to keep the "
   "producer's.", ("compression.type",), OneOf(COMPRESSION_TYPES))
_t("compression.gzip.level", I, -1, "gzip level when compression.type is gzip.",
   ("compression.gzip.level",), GZIP_LEVEL)
_t("compression.lz4.level", I, 9, "lz4 level when compression.type is lz4.",
   ("compression.lz4.level",), LZ4_LEVEL)
_t("compression.zstd.level", I, 3, "zstd level when compression.type is zstd.",
   ("compression.zstd.level",), ZSTD_LEVEL)
_t("delete.retention.ms", L, 86400000, "How long tombstones are kept in a compacted topic.",
   ("log.cleaner.delete.retention.ms",), AT_LEAST_0)
_t("file.delete.delay.ms", L, 60000, "Delay before a deleted segment's files leave the disk.",
   ("log.segment.delete.delay.ms",), AT_LEAST_0)
_t("flush.messages", L, LONG_MAX, "fsync the log after this many messages.",
   ("log.flush.interval.messages",), AT_LEAST_1)
_t("flush.ms", L, LONG_MAX, "fsync the log when data has been unflushed this long.",
   ("log.flush.interval.ms", "log.flush.scheduler.interval.ms"), AT_LEAST_0)
_t("follower.replication.throttled.replicas", LS, (),
   "Replicas (partition:broker or *) whose follower-side replication is throttled.", (),
   ThrottledReplicas(), applies=False)
_t("index.interval.bytes", I, 4096, "Bytes of log between offset index entries.",
   ("log.index.interval.bytes",), AT_LEAST_0)
_t("leader.replication.throttled.replicas", LS, (),
   "Replicas (partition:broker or *) whose leader-side replication is throttled.", (),
   ThrottledReplicas(), applies=False)
_t("local.retention.bytes", L, -2, "Tiered storage: local retention size; -2 uses retention.bytes.",
   ("log.local.retention.bytes",), Range(-2), applies=False)
_t("local.retention.ms", L, -2, "Tiered storage: local retention time; -2 uses retention.ms.",
   ("log.local.retention.ms",), Range(-2), applies=False)
_t("max.compaction.lag.ms", L, LONG_MAX, "Longest time a record may stay ineligible for compaction.",
   ("log.cleaner.max.compaction.lag.ms",), AT_LEAST_1)
_t("max.message.bytes", I, 1048588, "Largest record batch accepted, after compression.",
   ("message.max.bytes",), AT_LEAST_0)
_t("message.timestamp.after.max.ms", L, 3600000,
   "How far in the future a CreateTime timestamp may be.",
   ("log.message.timestamp.after.max.ms",), AT_LEAST_0)
_t("message.timestamp.before.max.ms", L, LONG_MAX,
   "How far in the past a CreateTime timestamp may be.",
   ("log.message.timestamp.before.max.ms",), AT_LEAST_0)
_t("message.timestamp.type", S, "CreateTime",
   "CreateTime keeps the producer's timestamps; LogAppendTime stamps the broker's clock.",
   ("log.message.timestamp.type",), OneOf(TIMESTAMP_TYPES))
_t("min.cleanable.dirty.ratio", D, 0.5,
   "Least ratio of uncompacted to total log before the log is compacted.",
   ("log.cleaner.min.cleanable.ratio",), Range(0, 1))
_t("min.compaction.lag.ms", L, 0, "Least time a record stays uncompacted.",
   ("log.cleaner.min.compaction.lag.ms",), AT_LEAST_0)
_t("min.insync.replicas", I, 1,
   "Fewest in-sync replicas that must hold a write for acks=all to succeed.",
   ("min.insync.replicas",), AT_LEAST_1)
_t("preallocate", B, False, "Preallocate segment files on creation.", ("log.preallocate",))
_t("remote.log.copy.disable", B, False, "Tiered storage: stop uploading this topic's data.", (),
   applies=False)
_t("remote.log.delete.on.disable", B, False,
   "Tiered storage: delete remote data when tiering is turned off.", (), applies=False)
_t("remote.storage.enable", B, False,
   "Tiered storage for this topic; not supported by pybroker, so only false is accepted.", (),
   applies=False)
_t("retention.bytes", L, -1, "Largest size of a partition before old segments go; -1 is no limit.",
   ("log.retention.bytes",))
_t("retention.ms", L, 604800000, "How long to keep data; -1 keeps it forever.",
   ("log.retention.ms", "log.retention.minutes", "log.retention.hours"), Range(-1))
_t("segment.bytes", I, 1073741824, "Largest size of one segment file.", ("log.segment.bytes",),
   Range(1048576))
_t("segment.index.bytes", I, 10485760, "Size of a segment's offset index.",
   ("log.index.size.max.bytes",), Range(4))
_t("segment.jitter.ms", L, 0, "Largest random jitter subtracted from the segment roll time.",
   ("log.roll.jitter.ms", "log.roll.jitter.hours"), AT_LEAST_0)
_t("segment.ms", L, 604800000, "Time after which a segment rolls even if it is not full.",
   ("log.roll.ms", "log.roll.hours"), AT_LEAST_1)
_t("unclean.leader.election.enable", B, False,
   "Allow an out-of-sync replica to become leader as a last resort.",
   ("unclean.leader.election.enable",))

TOPIC_CONFIGS: dict[str, ConfigDef] = dict(sorted(_topic.items()))


# --- group configs (DescribeConfigs resource type GROUP, 32) ----------------------------------

_group: dict[str, ConfigDef] = {}


def _g(name: str, type_: ConfigType, default: Any, doc: str, synonyms: tuple[str, ...],
       validator: Callable[[str, Any], None] | None, *, applies: bool = True) -> None:
    _group[name] = ConfigDef(name=name, type=type_, default=default, doc=doc, importance=MEDIUM,
                             validator=validator, synonyms=synonyms, applies=applies)


_g("consumer.session.timeout.ms", I, 45000, "Session timeout of this consumer group's members.",
   ("group.consumer.session.timeout.ms",), AT_LEAST_1)
_g("consumer.heartbeat.interval.ms", I, 5000, "Heartbeat interval of this consumer group's members.",
   ("group.consumer.heartbeat.interval.ms",), AT_LEAST_1)
_g("share.session.timeout.ms", I, 45000, "Session timeout of this share group's members.",
   ("group.share.session.timeout.ms",), AT_LEAST_1, applies=False)
_g("share.heartbeat.interval.ms", I, 5000, "Heartbeat interval of this share group's members.",
   ("group.share.heartbeat.interval.ms",), AT_LEAST_1, applies=False)
_g("share.record.lock.duration.ms", I, 30000, "Record acquisition lock duration of this share group.",
   ("group.share.record.lock.duration.ms",), Range(1000), applies=False)
_g("share.auto.offset.reset", S, "latest", "Where a share group starts reading a partition.", (),
   ShareOffsetReset(), applies=False)
_g("share.isolation.level", S, "read_uncommitted", "Whether a share group reads only committed data.",
   (), OneOf(("read_committed", "read_uncommitted")), applies=False)
_g("streams.session.timeout.ms", I, 45000, "Session timeout of this streams group's members.",
   ("group.streams.session.timeout.ms",), AT_LEAST_1, applies=False)
_g("streams.heartbeat.interval.ms", I, 5000, "Heartbeat interval of this streams group's members.",
   ("group.streams.heartbeat.interval.ms",), AT_LEAST_1, applies=False)
_g("streams.num.standby.replicas", I, 0, "Standby replicas per task of this streams group.",
   ("group.streams.num.standby.replicas",), AT_LEAST_0, applies=False)

GROUP_CONFIGS: dict[str, ConfigDef] = dict(sorted(_group.items()))

del _name, _type, _default, _doc, _validator, _mode, _importance
