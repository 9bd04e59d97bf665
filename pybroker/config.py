"""Broker configuration: Java `.properties` parsing, validated typed broker configs under Kafka's
names, and the topic and group config views that DescribeConfigs, CreateTopics and the log use."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from pybroker.config_defs import (
    BROKER_CONFIGS,
    GROUP_CONFIGS,
    PYBROKER_DEFAULTS,
    SECURITY_PROTOCOLS,
    SYNONYM_MS_MULTIPLIER,
    TOPIC_CONFIGS,
    ConfigDef,
    ConfigError,
    ConfigType,
    Importance,
    UnknownConfigError,
    UpdateMode,
    to_config_string,
)

__all__ = [
    "BROKER_CONFIGS",
    "TOPIC_CONFIGS",
    "GROUP_CONFIGS",
    "PYBROKER_DEFAULTS",
    "ConfigDef",
    "ConfigError",
    "UnknownConfigError",
    "ConfigType",
    "ConfigSource",
    "Importance",
    "UpdateMode",
    "ConfigSynonym",
    "ConfigEntry",
    "ConfigView",
    "TopicConfigView",
    "GroupConfigView",
    "Listener",
    "Voter",
    "HostPort",
    "BrokerConfig",
    "load_properties",
    "parse_properties",
    "parse_override",
    "overrides_from_kwargs",
    "validate_topic_config",
    "validate_topic_configs",
    "effective_topic_config",
    "validate_group_config",
    "effective_group_config",
]

log = logging.getLogger("pybroker.config")


class ConfigSource(IntEnum):
    """Where a value comes from, numbered as DescribeConfigs v1+ reports it."""

    UNKNOWN = 0
    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5
    DYNAMIC_BROKER_LOGGER_CONFIG = 6
    DYNAMIC_CLIENT_METRICS_CONFIG = 7
    DYNAMIC_GROUP_CONFIG = 8
    # Names the Java request classes use for the same codes.
    TOPIC_CONFIG = 1
    CLIENT_METRICS_CONFIG = 7
    GROUP_CONFIG = 8


# --- Java .properties files ---------------------------------------------------------------------

_WS = " \t\f"
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def load_properties(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a Java `.properties` file (UTF-8, falling back to ISO-8859-1 as Java reads it)."""
    data = Path(path).read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("iso-8859-1")
    return parse_properties(text, source=str(path))


def parse_properties(text: str, *, source: str = "<properties>") -> dict[str, str]:
    """Parse `.properties` text as java.util.Properties.load does.

    `#`/`!` comment lines, `key=value`, `key: value` and `key value`, continuation lines ending in
    an odd number of backslashes, and the escapes `\\t \\n \\r \\f \\uXXXX` (any other escaped
    character stands for itself). Later duplicates win.
    """
    props: dict[str, str] = {}
    for lineno, line in _logical_lines(text):
        key, value = _split_key_value(line)
        try:
            props[_unescape(key)] = _unescape(value)
        except ValueError as exc:
            raise ConfigError(f"{source}:{lineno}", line, str(exc)) from None
    return props


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    natural = re.split(r"\r\n|\r|\n", text)
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(natural, 1):
        stripped = raw.lstrip(_WS)
        if not parts:
            if not stripped or stripped[0] in "#!":
                continue
            start = number
        trailing = len(stripped) - len(stripped.rstrip("\\"))
        if trailing % 2 == 1:
            parts.append(stripped[:-1])
            continue
        parts.append(stripped)
        yield start, "".join(parts)
        parts = []
    if parts:  # a continuation at end of input: the dangling backslash is dropped
        yield start, "".join(parts)


def _split_key_value(line: str) -> tuple[str, str]:
    n = len(line)
    key_end = n
    value_start = n
    has_sep = False
    backslash = False
    for i, c in enumerate(line):
        if c in "=:" and not backslash:
            key_end, value_start, has_sep = i, i + 1, True
            break
        if c in _WS and not backslash:
            key_end, value_start = i, i + 1
            break
        backslash = (not backslash) if c == "\\" else False
    while value_start < n:
        c = line[value_start]
        if c not in _WS:
            if not has_sep and c in "=:":
                has_sep = True
            else:
                break
        value_start += 1
    return line[:key_end], line[value_start:]


def _unescape(s: str) -> str:
    if "\\" not in s:
        return s
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        i += 1
        if c != "\\":
            out.append(c)
            continue
        if i >= n:
            break  # a lone trailing backslash stands for nothing
        c = s[i]
        i += 1
        if c == "u":
            digits = s[i : i + 4]
            if len(digits) < 4 or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise ValueError("Malformed \\uxxxx encoding.")
            out.append(chr(int(digits, 16)))
            i += 4
        else:
            out.append(_ESCAPES.get(c, c))
    return "".join(out)


def parse_override(arg: str) -> tuple[str, str]:
    """Split a command-line `key=value` override at its first '='."""
    key, sep, value = arg.partition("=")
    if not sep or not key.strip():
        raise ConfigError("--override", arg, "expected key=value")
    return key.strip(), value


def overrides_from_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Map Python keyword names to config names: `log_segment_bytes` -> `log.segment.bytes`.

    Names that already contain a dot are kept as they are.
    """
    return {(k if "." in k else k.replace("_", ".")): v for k, v in kwargs.items()}


def _to_raw(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_to_raw(v) for v in value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)  # type: ignore[return-value]
    return str(value)


# --- listeners, voters ------------------------------------------------------------------------

_ENDPOINT_RE = re.compile(r"^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$")
_HOSTPORT_RE = re.compile(r"^\[?([0-9a-zA-Z\-%._:]*?)\]?:([0-9]+)$")


@dataclass(frozen=True, slots=True)
class Listener:
    """One `NAME://host:port` endpoint. An empty host means every interface (when binding);
    port 0 means the OS picks a free port."""

    name: str
    host: str
    port: int
    security_protocol: str = "PLAINTEXT"

    @property
    def bind_host(self) -> str | None:
        """Host for socket binding: None binds every interface."""
        return self.host or None

    @property
    def advertised_host(self) -> str:
        """Host to publish: an empty host stands for this machine's name, as in Kafka."""
        return self.host or socket.getfqdn()

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.name}://{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class HostPort:
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Voter:
    """One controller quorum voter, `id@host:port`."""

    node_id: int
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.node_id}@{host}:{self.port}"


def _ip_version(host: str) -> int | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).version
    except ValueError:
        return None


def parse_security_protocol_map(value: str, key: str = "listener.security.protocol.map") -> dict[str, str]:
    result: dict[str, str] = {}
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        name, sep, protocol = item.partition(":")
        name, protocol = name.strip().upper(), protocol.strip().upper()
        if not sep or not name or not protocol:
            raise ConfigError(key, value, f"Map entry '{item}' is not of the form NAME:PROTOCOL")
        if protocol not in SECURITY_PROTOCOLS:
            raise ConfigError(
                key, value, f"Unknown security protocol {protocol}; one of {', '.join(SECURITY_PROTOCOLS)}"
            )
        if name in result:
            raise ConfigError(key, value, f"Listener name {name} appears more than once")
        result[name] = protocol
    return result


def parse_listeners(
    value: str,
    protocol_map: Mapping[str, str],
    *,
    key: str = "listeners",
    distinct_ports: bool = True,
) -> list[Listener]:
    """Parse a comma-separated listener list as Kafka does: names are case-normalised to upper
    case, each needs a security protocol, names are unique, and (for `listeners`) ports are unique
    unless one IPv4 and one IPv6 listener share it."""
    listeners: list[Listener] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        match = _ENDPOINT_RE.match(item)
        if not match:
            raise ConfigError(key, value, f"Unable to parse {item} to a listener (NAME://host:port)")
        name, host, port_text = match.group(1).strip().upper(), match.group(2), match.group(3)
        if not name:
            raise ConfigError(key, value, f"Listener {item} has no name")
        port = int(port_text)
        if not 0 <= port <= 65535:
            raise ConfigError(key, value, f"Port {port} of listener {name} is not in [0, 65535]")
        protocol = protocol_map.get(name)
        if protocol is None:
            raise ConfigError(key, value, f"No security protocol defined for listener {name}")
        listeners.append(Listener(name, host, port, protocol))
    names = [ln.name for ln in listeners]
    if len(set(names)) != len(names):
        raise ConfigError(key, value, "Each listener must have a different name")
    if distinct_ports:
        by_port: dict[int, list[Listener]] = {}
        for ln in listeners:
            if ln.port != 0:  # port 0 asks for any free port, so these never clash
                by_port.setdefault(ln.port, []).append(ln)
        for group in by_port.values():
            if len(group) == 1:
                continue
            versions = sorted(str(_ip_version(ln.host)) for ln in group)
            if versions != ["4", "6"]:
                raise ConfigError(
                    key,
                    value,
                    "Each listener must have a different port unless exactly one listener has an "
                    "IPv4 address and the other IPv6 address",
                )
    return listeners


def parse_voters(values: list[str], key: str = "controller.quorum.voters") -> list[Voter]:
    voters: list[Voter] = []
    for item in values:
        node, sep, address = item.partition("@")
        match = _HOSTPORT_RE.match(address.strip()) if sep else None
        if not match or not re.fullmatch(r"[0-9]+", node.strip()) or not match.group(1):
            raise ConfigError(key, ",".join(values), f"Failed to parse {item!r}: expected id@host:port")
        port = int(match.group(2))
        if port > 65535:
            raise ConfigError(key, ",".join(values), f"Port {port} of voter {item!r} is not in [0, 65535]")
        voters.append(Voter(int(node), match.group(1), port))
    ids = [v.node_id for v in voters]
    if len(set(ids)) != len(ids):
        raise ConfigError(key, ",".join(values), "Each voter must have a different node id")
    return voters


def parse_host_ports(values: list[str], key: str) -> list[HostPort]:
    result = []
    for item in values:
        match = _HOSTPORT_RE.match(item.strip())
        if not match or not match.group(1) or int(match.group(2)) > 65535:
            raise ConfigError(key, ",".join(values), f"Failed to parse {item!r}: expected host:port")
        result.append(HostPort(match.group(1), int(match.group(2))))
    return result


# --- describe results -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfigSynonym:
    """One link of a synonym chain as DescribeConfigs reports it (value is the raw string)."""

    name: str
    value: str | None
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    """A config as DescribeConfigs shows it: effective value, where it comes from, and the chain
    of places that could supply it, highest precedence first."""

    name: str
    value: Any
    source: ConfigSource
    synonyms: tuple[ConfigSynonym, ...]
    definition: ConfigDef

    @property
    def value_str(self) -> str | None:
        """The value as a string, None when unset or sensitive (Kafka never returns secrets)."""
        if self.definition.sensitive:
            return None
        return to_config_string(self.value, self.definition.type)

    @property
    def type(self) -> ConfigType:
        return self.definition.type

    @property
    def is_default(self) -> bool:
        return self.source is ConfigSource.DEFAULT_CONFIG

    @property
    def sensitive(self) -> bool:
        return self.definition.sensitive

    @property
    def read_only(self) -> bool:
        return self.definition.read_only

    @property
    def doc(self) -> str:
        return self.definition.doc


_RETENTION = ("log.retention.ms", "log.retention.minutes", "log.retention.hours")
_ROLL = ("log.roll.ms", "log.roll.hours")
_JITTER = ("log.roll.jitter.ms", "log.roll.jitter.hours")
_FLUSH = ("log.flush.interval.ms", "log.flush.scheduler.interval.ms")
_BROKER_SYNONYM_GROUPS = {name: group for group in (_RETENTION, _ROLL, _JITTER, _FLUSH) for name in group}

# Prefixes of per-listener and plug-in settings that Kafka passes through without defining them.
_PASSTHROUGH_PREFIXES = ("listener.name.", "rsm.config.", "rlmm.config.", "config.providers")


# --- the broker config ------------------------------------------------------------------------


class BrokerConfig:
    """The validated configuration of one node.

    Values come, highest precedence first, from command-line overrides, the properties file,
    pybroker's built-in defaults (`PYBROKER_DEFAULTS` and the derived listener, voter and log-dir
    defaults of a one-command single node), then Kafka's defaults. `get(name)` returns any
    config typed; attributes name configs with underscores (`cfg.num_partitions`), and a few
    attributes are derived values (`listeners`, `log_dirs`, `log_retention_ms`, ...).
    """

    def __init__(self, *, values: dict[str, Any], explicit: Mapping[str, str],
                 builtin: set[str], passthrough: Mapping[str, str],
                 dynamic_broker: Mapping[str, str] | None = None,
                 dynamic_default: Mapping[str, str] | None = None) -> None:
        self._base = (dict(values), set(builtin))  # before dynamic configs and derivation
        self._explicit = dict(explicit)
        self._passthrough = dict(passthrough)
        self._dynamic_broker = dict(dynamic_broker or {})
        self._dynamic_default = dict(dynamic_default or {})
        # Keys given anywhere (file, overrides, dynamic), with the value that wins.
        self._given = {**self._explicit, **self._dynamic_default, **self._dynamic_broker}
        values = dict(values)
        builtin = set(builtin)
        for key in {**self._dynamic_default, **self._dynamic_broker}:
            values[key] = BROKER_CONFIGS[key].parse(self._given[key])
            builtin.discard(key)
        self._values = values
        self._builtin = builtin
        self._derive()
        self._validate()

    # -- construction

    @classmethod
    def from_sources(
        cls,
        properties: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> BrokerConfig:
        """Build and validate a config from a properties mapping and overrides (which win).

        Raises ConfigError naming the key on any invalid value; unknown keys are logged as
        warnings on the `pybroker.config` logger and ignored.
        """
        merged: dict[str, str] = {}
        origin: dict[str, str] = {}
        for label, mapping in (("properties", properties or {}), ("override", overrides or {})):
            for key, value in mapping.items():
                key = str(key).strip()
                if value is None:  # an override of None removes the key
                    merged.pop(key, None)
                    continue
                merged[key] = _to_raw(value)
                origin[key] = label

        explicit: dict[str, str] = {}
        passthrough: dict[str, str] = {}
        for key, raw in merged.items():
            if key in BROKER_CONFIGS:
                explicit[key] = raw
            elif key.startswith(_PASSTHROUGH_PREFIXES):
                passthrough[key] = raw
            else:
                hint = ""
                synonym = TOPIC_CONFIGS[key].synonyms[0] if key in TOPIC_CONFIGS and TOPIC_CONFIGS[key].synonyms else None
                if synonym and synonym != key:
                    hint = f" ({key} is a topic config; the broker-wide default is {synonym})"
                log.warning("Unknown configuration %r (from %s) is ignored%s", key, origin[key], hint)

        values: dict[str, Any] = {}
        for key, definition in BROKER_CONFIGS.items():
            values[key] = definition.parse(explicit.get(key))
        builtin: set[str] = set()
        for key, raw in PYBROKER_DEFAULTS.items():
            if key not in explicit:
                values[key] = BROKER_CONFIGS[key].parse(raw)
                builtin.add(key)

        for key in explicit:
            definition = BROKER_CONFIGS[key]
            if not definition.applies:
                log.info("%s is accepted for compatibility but has no effect in pybroker", key)
        return cls(values=values, explicit=explicit, builtin=builtin, passthrough=passthrough)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str] | None = None,
                  overrides: Mapping[str, Any] | None = None) -> BrokerConfig:
        """`from_sources` over a properties file (or none: the zero-config single node)."""
        properties = load_properties(path) if path is not None else {}
        return cls.from_sources(properties, overrides)

    # -- derived values (resolved once; Kafka's precedence rules)

    def _derive(self) -> None:
        v = self._values
        roles_raw = v["process.roles"]
        roles = [r.strip().lower() for r in roles_raw]
        if not roles:
            raise ConfigError("process.roles", "", "must contain broker, controller or both")
        if len(set(roles)) != len(roles):
            raise ConfigError("process.roles", ",".join(roles_raw), "Duplicate role names found")
        self._roles = tuple(r for r in ("broker", "controller") if r in roles)

        self._controller_names = [n.strip().upper() for n in (v["controller.listener.names"] or "").split(",") if n.strip()]

        # listener.security.protocol.map, with Kafka's implicit CONTROLLER:PLAINTEXT mapping when
        # the map was not given and nothing uses SSL or SASL.
        proto_map = parse_security_protocol_map(v["listener.security.protocol.map"])
        if "listener.security.protocol.map" not in self._given:
            listeners_text = self._given.get("listeners", "")
            listener_names = {
                m.group(1).strip().upper()
                for m in (_ENDPOINT_RE.match(p.strip()) for p in listeners_text.split(","))
                if m
            }
            secure = {"SSL", "SASL_SSL", "SASL_PLAINTEXT"}
            if not (secure & set(self._controller_names)) and not (secure & listener_names):
                for name in self._controller_names:
                    proto_map.setdefault(name, "PLAINTEXT")
        self._protocol_map = proto_map

        if "listeners" in self._given:
            listeners_value = v["listeners"]
        else:
            parts = []
            if "broker" in self._roles:
                parts.append("PLAINTEXT://localhost:9092")
            if "controller" in self._roles and self._controller_names:
                parts.append(f"{self._controller_names[0]}://localhost:9093")
            listeners_value = ",".join(parts)
            v["listeners"] = listeners_value
            self._builtin.add("listeners")
        self._listeners = parse_listeners(listeners_value, self._protocol_map)

        advertised = v["advertised.listeners"]
        if advertised is not None and advertised.strip():
            self._advertised_all = parse_listeners(
                advertised, self._protocol_map, key="advertised.listeners", distinct_ports=False
            )
            self._advertised_explicit = True
        else:
            self._advertised_all = list(self._listeners)
            self._advertised_explicit = False

        voters = parse_voters(v["controller.quorum.voters"])
        bootstrap = parse_host_ports(v["controller.quorum.bootstrap.servers"], "controller.quorum.bootstrap.servers")
        if not voters and not bootstrap and "controller" in self._roles:
            controller = next((ln for ln in self._listeners if ln.name in self._controller_names), None)
            if controller is not None:
                host = controller.host if controller.host not in ("", "0.0.0.0", "::") else "localhost"
                voters = [Voter(v["node.id"], host, controller.port)]
                v["controller.quorum.voters"] = [str(voters[0])]
                self._builtin.add("controller.quorum.voters")
        self._voters = voters
        self._bootstrap = bootstrap

        dirs_value = v["log.dirs"] if v["log.dirs"] not in (None, "") else v["log.dir"]
        dirs = [d.strip() for d in (dirs_value or "").split(",") if d.strip()]
        key = "log.dirs" if v["log.dirs"] not in (None, "") else "log.dir"
        if not dirs:
            raise ConfigError(key, dirs_value, "At least one log directory must be defined via log.dirs or log.dir.")
        normalized = [os.path.normpath(d) for d in dirs]
        if len(set(normalized)) != len(normalized):
            raise ConfigError(key, dirs_value, "Log directories must not repeat")
        self._log_dirs = [Path(d) for d in dirs]

    def _effective_ms(self, group: tuple[str, ...]) -> int:
        for name in group:
            value = self._values[name]
            if value is not None:
                return value * SYNONYM_MS_MULTIPLIER.get(name, 1)
        raise AssertionError(f"no value in {group}")  # the last of each group has a default

    # -- semantic validation, as Kafka's KafkaConfig.validateValues

    def _validate(self) -> None:
        v = self._values
        node_id = v["node.id"]
        if node_id is None:
            raise ConfigError("node.id", reason="Missing required configuration which has no default value")
        if "broker.id" in self._explicit and v["broker.id"] != node_id:
            raise ConfigError("broker.id", v["broker.id"], "You must set node.id to the same value as broker.id")

        for ln in self._listeners:
            if ln.security_protocol != "PLAINTEXT":
                raise ConfigError(
                    "listeners", v["listeners"],
                    f"listener {ln.name} uses {ln.security_protocol}; pybroker serves PLAINTEXT listeners only",
                )

        if self.log_roll_ms < 1:
            raise ConfigError("log.roll.ms", self.log_roll_ms, "log.roll.ms must be greater than or equal to 1")
        if self.log_roll_jitter_ms < 0:
            raise ConfigError("log.roll.jitter.ms", self.log_roll_jitter_ms,
                              "log.roll.jitter.ms must be greater than or equal to 0")
        retention = self.log_retention_ms
        if retention == 0:
            key = next(k for k in _RETENTION if v[k] is not None)
            raise ConfigError(key, v[key], "log.retention.ms must be unlimited (-1) or, greater than or equal to 1")
        threads = v["log.cleaner.threads"]
        if threads > 0 and v["log.cleaner.dedupe.buffer.size"] // threads <= 1024 * 1024:
            raise ConfigError("log.cleaner.dedupe.buffer.size", v["log.cleaner.dedupe.buffer.size"],
                              "log.cleaner.dedupe.buffer.size must be at least 1MB per cleaner thread.")
        if v["replica.fetch.wait.max.ms"] > v["replica.socket.timeout.ms"]:
            raise ConfigError("replica.socket.timeout.ms", v["replica.socket.timeout.ms"],
                              "replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms "
                              "to prevent unnecessary socket timeouts")
        if v["replica.fetch.wait.max.ms"] > v["replica.lag.time.max.ms"]:
            raise ConfigError("replica.fetch.wait.max.ms", v["replica.fetch.wait.max.ms"],
                              "replica.fetch.wait.max.ms should always be less than or equal to "
                              "replica.lag.time.max.ms to prevent frequent changes in ISR")
        if v["broker.heartbeat.interval.ms"] * 2 > v["broker.session.timeout.ms"]:
            log.error("broker.heartbeat.interval.ms (%d ms) must be less than or equal to half of "
                      "broker.session.timeout.ms (%d ms)", v["broker.heartbeat.interval.ms"],
                      v["broker.session.timeout.ms"])
        queued = v["queued.max.request.bytes"]
        if queued > 0 and queued < v["socket.request.max.bytes"]:
            raise ConfigError("queued.max.request.bytes", queued,
                              "queued.max.request.bytes must be larger or equal to socket.request.max.bytes")
        if v["max.connections.per.ip"] == 0 and not v["max.connections.per.ip.overrides"]:
            raise ConfigError("max.connections.per.ip", 0, "max.connections.per.ip can be set to zero only "
                              "if max.connections.per.ip.overrides property is set.")
        idle = v["connections.max.idle.ms"]
        if idle >= 0 and v["connection.failed.authentication.delay.ms"] >= idle:
            raise ConfigError("connection.failed.authentication.delay.ms", v["connection.failed.authentication.delay.ms"],
                              "connection.failed.authentication.delay.ms should always be less than "
                              "connections.max.idle.ms to prevent failed authentication responses from timing out")
        protocols = [p.lower() for p in v["group.coordinator.rebalance.protocols"]]
        if "classic" not in protocols:
            raise ConfigError("group.coordinator.rebalance.protocols", ",".join(protocols),
                              "Disabling the 'CLASSIC' protocol is not supported.")
        for kind in ("consumer", "share", "streams"):
            self._validate_group_bounds(kind)
        if v["remote.log.storage.system.enable"]:
            raise ConfigError("remote.log.storage.system.enable", "true", "tiered storage is not supported by pybroker")

        self._validate_kraft()

    def _validate_group_bounds(self, kind: str) -> None:
        v = self._values
        p = f"group.{kind}."
        for what in ("session.timeout.ms", "heartbeat.interval.ms"):
            lo, val, hi = v[f"{p}min.{what}"], v[f"{p}{what}"], v[f"{p}max.{what}"]
            if hi < lo:
                raise ConfigError(f"{p}max.{what}", hi, f"{p}max.{what} must be greater than or equal to {p}min.{what}")
            if val < lo:
                raise ConfigError(f"{p}{what}", val, f"{p}{what} must be greater than or equal to {p}min.{what}")
            if val > hi:
                raise ConfigError(f"{p}{what}", val, f"{p}{what} must be less than or equal to {p}max.{what}")
        if v[f"{p}heartbeat.interval.ms"] >= v[f"{p}session.timeout.ms"]:
            raise ConfigError(f"{p}heartbeat.interval.ms", v[f"{p}heartbeat.interval.ms"],
                              f"{p}heartbeat.interval.ms must be less than {p}session.timeout.ms")

    def _validate_kraft(self) -> None:
        v = self._values
        node_id = v["node.id"]
        roles = set(self._roles)
        names = self._controller_names
        listener_names = {ln.name for ln in self._listeners}
        voter_ids = {voter.node_id for voter in self._voters}
        voters_text = ",".join(v["controller.quorum.voters"])

        if not self._voters and not self._bootstrap:
            raise ConfigError("controller.quorum.voters", voters_text,
                              "If using process.roles, either controller.quorum.bootstrap.servers must contain "
                              "the set of bootstrap controllers or controller.quorum.voters must contain a "
                              "parseable set of controllers.")
        if not names:
            raise ConfigError("controller.listener.names", v["controller.listener.names"],
                              "controller.listener.names must contain at least one value")
        if roles == {"broker"}:
            if node_id in voter_ids:
                raise ConfigError("controller.quorum.voters", voters_text,
                                  f"If process.roles contains just the 'broker' role, the node id {node_id} must "
                                  f"not be included in the set of voters")
            if set(names) & listener_names:
                raise ConfigError("controller.listener.names", v["controller.listener.names"],
                                  "controller.listener.names must not contain a value appearing in the "
                                  "'listeners' configuration when running KRaft with just the broker role")
            for name in names:
                if name not in self._protocol_map:
                    raise ConfigError("listener.security.protocol.map", v["listener.security.protocol.map"],
                                      f"Controller listener with name {name} defined in controller.listener.names "
                                      f"not found in listener.security.protocol.map")
        else:
            if voter_ids and node_id not in voter_ids:
                raise ConfigError("controller.quorum.voters", voters_text,
                                  f"If process.roles contains the 'controller' role, the node id {node_id} must "
                                  f"be included in the set of voters")
            if not all(name in listener_names for name in names):
                raise ConfigError("controller.listener.names", v["controller.listener.names"],
                                  "controller.listener.names must only contain values appearing in the "
                                  "'listeners' configuration when running the KRaft controller role")
            if roles == {"controller"}:
                if any(ln.name not in names for ln in self._listeners):
                    raise ConfigError("listeners", v["listeners"],
                                      "The listeners config must only contain KRaft controller listeners from "
                                      "controller.listener.names when process.roles=controller")

        if "inter.broker.listener.name" in self._given and "security.inter.broker.protocol" in self._given:
            raise ConfigError("inter.broker.listener.name", v["inter.broker.listener.name"],
                              "Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.")
        if roles == {"controller"} and "inter.broker.listener.name" in self._given \
                and self.inter_broker_listener_name in names:
            raise ConfigError("controller.listener.names", v["controller.listener.names"],
                              "controller.listener.names must not contain an explicitly set "
                              "inter.broker.listener.name configuration value when process.roles=controller")

        if "broker" in roles:
            advertised = self.advertised_listeners
            advertised_names = [ln.name for ln in advertised]
            if not advertised:
                raise ConfigError("advertised.listeners", v["advertised.listeners"],
                                  "There must be at least one broker advertised listener. "
                                  "Perhaps all listeners appear in controller.listener.names?")
            if self.inter_broker_listener_name not in advertised_names:
                raise ConfigError("inter.broker.listener.name", self.inter_broker_listener_name,
                                  "inter.broker.listener.name must be a listener name defined in "
                                  "advertised.listeners. The valid options based on currently configured "
                                  f"listeners are {','.join(advertised_names)}")
            if not set(advertised_names) <= listener_names:
                raise ConfigError("advertised.listeners", v["advertised.listeners"],
                                  "advertised.listeners listener names must be equal to or a subset of the ones "
                                  f"defined in listeners. Found {','.join(advertised_names)}. The valid options "
                                  f"based on the current configuration are {','.join(sorted(listener_names))}")
            if any(ln.host == "0.0.0.0" for ln in advertised):
                raise ConfigError("advertised.listeners", v["advertised.listeners"] or v["listeners"],
                                  "advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. "
                                  "Use a routable IP address.")
        if self._advertised_explicit and any(
            ln.host == "0.0.0.0" for ln in self._advertised_all if ln.name in names
        ):
            raise ConfigError("advertised.listeners", v["advertised.listeners"],
                              "advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. "
                              "Use a routable IP address.")

    # -- generic access

    def get(self, key: str) -> Any:
        """The typed value of any broker config (Kafka's default when unset)."""
        if key in self._values:
            value = self._values[key]
            return list(value) if isinstance(value, list) else value
        if key in self._passthrough:
            return self._passthrough[key]
        raise UnknownConfigError(key, "broker")

    def __getattr__(self, name: str) -> Any:
        key = name.replace("_", ".")
        values = self.__dict__.get("_values")
        if values is not None and key in values:
            return self.get(key)
        raise AttributeError(name)

    def __contains__(self, key: object) -> bool:
        return key in self._values or key in self._passthrough

    @property
    def originals(self) -> dict[str, str]:
        """The settings as given (properties and overrides merged), known and pass-through keys."""
        return {**self._explicit, **self._passthrough}

    def is_set(self, key: str) -> bool:
        """True when the properties file, an override or a dynamic config gave this key."""
        return key in self._given or key in self._passthrough

    def source_of(self, key: str) -> ConfigSource:
        """DYNAMIC_BROKER_CONFIG or DYNAMIC_DEFAULT_BROKER_CONFIG for values set with AlterConfigs,
        STATIC_BROKER_CONFIG for values from the properties file or overrides, else DEFAULT_CONFIG."""
        if key in self._dynamic_broker:
            return ConfigSource.DYNAMIC_BROKER_CONFIG
        if key in self._dynamic_default:
            return ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
        if key in self._explicit or key in self._passthrough:
            return ConfigSource.STATIC_BROKER_CONFIG
        if key in self._values:
            return ConfigSource.DEFAULT_CONFIG
        return ConfigSource.UNKNOWN

    def with_dynamic(self, broker_configs: Mapping[str, str | None] | None = None,
                     cluster_defaults: Mapping[str, str | None] | None = None) -> BrokerConfig:
        """This config with dynamic broker configs applied: `broker_configs` set for this node
        (AlterConfigs on broker "<node.id>") over `cluster_defaults` (broker ""), both over the
        static values. Read-only and unknown keys are ignored, as they cannot change at run time.
        Raises ConfigError if a value is invalid."""

        def usable(mapping: Mapping[str, str | None] | None) -> dict[str, str]:
            result = {}
            for key, value in (mapping or {}).items():
                definition = BROKER_CONFIGS.get(key)
                if value is None or definition is None or definition.read_only:
                    if value is not None:
                        log.debug("dynamic broker config %r ignored", key)
                    continue
                result[key] = _to_raw(value)
            return result

        values, builtin = self._base
        return BrokerConfig(values=values, explicit=self._explicit, builtin=builtin,
                            passthrough=self._passthrough, dynamic_broker=usable(broker_configs),
                            dynamic_default=usable(cluster_defaults))

    def synonym_chain(self, names: tuple[str, ...] | list[str]) -> list[ConfigSynonym]:
        """Where each of `names` is set, in Kafka's order: per-broker dynamic, cluster-wide dynamic,
        static (file or override), then defaults; within each level in the order of `names`."""
        chain: list[ConfigSynonym] = []
        levels = (
            (self._dynamic_broker, ConfigSource.DYNAMIC_BROKER_CONFIG),
            (self._dynamic_default, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG),
            (self._explicit, ConfigSource.STATIC_BROKER_CONFIG),
        )
        for mapping, source in levels:
            for name in names:
                if name in mapping:
                    chain.append(ConfigSynonym(name, self._secret(name, mapping[name]), source))
        for name in names:
            default = self.default_string(name)
            if default is not None:
                chain.append(ConfigSynonym(name, self._secret(name, default), ConfigSource.DEFAULT_CONFIG))
        return chain

    def default_string(self, key: str) -> str | None:
        """The value this node uses when `key` is not set: pybroker's built-in one, else Kafka's."""
        definition = BROKER_CONFIGS[key]
        if key in self._builtin:
            return to_config_string(self._values[key], definition.type)
        return to_config_string(definition.default, definition.type)

    # -- derived, typed views

    @property
    def node_id(self) -> int:
        return self._values["node.id"]

    @property
    def process_roles(self) -> tuple[str, ...]:
        return self._roles

    @property
    def is_broker(self) -> bool:
        return "broker" in self._roles

    @property
    def is_controller(self) -> bool:
        return "controller" in self._roles

    @property
    def listeners(self) -> list[Listener]:
        return list(self._listeners)

    @property
    def controller_listener_names(self) -> list[str]:
        return list(self._controller_names)

    @property
    def controller_listeners(self) -> list[Listener]:
        """Listeners this node serves the controller role on."""
        return [ln for ln in self._listeners if ln.name in self._controller_names]

    @property
    def broker_listeners(self) -> list[Listener]:
        """Listeners this node serves clients and other brokers on."""
        return [ln for ln in self._listeners if ln.name not in self._controller_names]

    @property
    def advertised_listeners(self) -> list[Listener]:
        """Broker endpoints published to clients: advertised.listeners, else listeners, without the
        controller listeners."""
        return [ln for ln in self._advertised_all if ln.name not in self._controller_names]

    @property
    def advertised_controller_listeners(self) -> list[Listener]:
        result = []
        for name in self._controller_names:
            found = next((ln for ln in self._advertised_all if ln.name == name), None)
            if found is None or not self._advertised_explicit:
                found = next((ln for ln in self._listeners if ln.name == name), None)
                if found is not None and found.host == "0.0.0.0":
                    found = Listener(found.name, "", found.port, found.security_protocol)
            if found is not None:
                result.append(found)
        return result

    @property
    def listener_security_protocol_map(self) -> dict[str, str]:
        return dict(self._protocol_map)

    @property
    def inter_broker_listener_name(self) -> str:
        explicit = self._values["inter.broker.listener.name"]
        if explicit:
            return explicit.strip().upper()
        return self._values["security.inter.broker.protocol"]

    @property
    def quorum_voters(self) -> list[Voter]:
        return list(self._voters)

    @property
    def quorum_bootstrap_servers(self) -> list[HostPort]:
        return list(self._bootstrap)

    @property
    def log_dirs(self) -> list[Path]:
        return list(self._log_dirs)

    @property
    def metadata_log_dir(self) -> Path:
        value = self._values["metadata.log.dir"]
        return Path(value) if value else self._log_dirs[0]

    @property
    def log_retention_ms(self) -> int:
        """log.retention.ms, else .minutes, else .hours, in ms; any negative value is -1."""
        millis = self._effective_ms(_RETENTION)
        return -1 if millis < 0 else millis

    @property
    def log_roll_ms(self) -> int:
        return self._effective_ms(_ROLL)

    @property
    def log_roll_jitter_ms(self) -> int:
        return self._effective_ms(_JITTER)

    @property
    def log_flush_interval_ms(self) -> int:
        return self._effective_ms(_FLUSH)

    # -- DescribeConfigs

    def describe(self, keys: list[str] | None = None, *, include_internal: bool = False) -> list[ConfigEntry]:
        """Broker config entries as DescribeConfigs returns them: all keys when `keys` is None,
        else the requested ones that exist (Kafka leaves out names it does not know)."""
        if keys is None:
            keys = [k for k, d in BROKER_CONFIGS.items() if include_internal or not d.internal]
        return [self.describe_one(key) for key in keys if key in BROKER_CONFIGS]

    def describe_one(self, key: str) -> ConfigEntry:
        definition = BROKER_CONFIGS.get(key)
        if definition is None:
            raise UnknownConfigError(key, "broker")
        chain = self.synonym_chain(_BROKER_SYNONYM_GROUPS.get(key, (key,)))
        while chain and chain[0].name != key:  # as Kafka: the chain starts at the key itself
            chain.pop(0)
        source = chain[0].source if chain else ConfigSource.DEFAULT_CONFIG
        return ConfigEntry(key, self.get(key), source, tuple(chain), definition)

    @staticmethod
    def _secret(name: str, value: str | None) -> str | None:
        return None if BROKER_CONFIGS[name].sensitive else value

    # -- topic and group defaults

    def topic_default(self, topic_key: str) -> Any:
        """The broker-wide value of a topic config: its first broker synonym that has a value,
        converted to the topic config's unit; the topic config's own default without one."""
        definition = TOPIC_CONFIGS[topic_key]
        if topic_key == "retention.ms":
            return self.log_retention_ms
        for name in definition.synonyms:
            value = self._values[name]
            if value is not None:
                multiplier = SYNONYM_MS_MULTIPLIER.get(name)
                return value * multiplier if multiplier else (list(value) if isinstance(value, list) else value)
        return list(definition.default) if isinstance(definition.default, tuple) else definition.default

    def default_topic_config(self) -> TopicConfigView:
        """Topic configs of a topic without overrides."""
        return effective_topic_config({}, self)

    def __repr__(self) -> str:
        return f"BrokerConfig(node_id={self.node_id}, roles={','.join(self._roles)}, " \
               f"listeners={','.join(map(str, self._listeners))})"


# --- topic configs ----------------------------------------------------------------------------


def validate_topic_config(name: str, value: str | None) -> str | None:
    """Check one topic config and return its normalised string (None stays None: a deletion).

    Raises UnknownConfigError for a name Kafka does not define, ConfigError for a bad value.
    """
    definition = TOPIC_CONFIGS.get(name)
    if definition is None:
        raise UnknownConfigError(name, "topic")
    if value is None:
        return None
    typed = definition.parse(value)
    if name == "remote.storage.enable" and typed:
        raise ConfigError(name, value, "Tiered Storage functionality is disabled in the broker. "
                          "Topic cannot be configured with remote log storage.")
    return to_config_string(typed, definition.type)


def validate_topic_configs(configs: Mapping[str, str | None], broker: BrokerConfig | None = None) -> dict[str, str]:
    """Check a topic's whole set of overrides (CreateTopics, AlterConfigs) and return them
    normalised, with the cross-config checks Kafka makes. None values are dropped."""
    normalized: dict[str, str] = {}
    for name, value in configs.items():
        checked = validate_topic_config(name, value)
        if checked is not None:
            normalized[name] = checked

    def effective(key: str) -> Any:
        if key in normalized:
            return TOPIC_CONFIGS[key].parse(normalized[key])
        return broker.topic_default(key) if broker is not None else TOPIC_CONFIGS[key].default

    lo, hi = effective("min.compaction.lag.ms"), effective("max.compaction.lag.ms")
    if lo > hi:
        raise ConfigError("min.compaction.lag.ms", lo,
                          f"conflict topic config setting min.compaction.lag.ms ({lo}) > max.compaction.lag.ms ({hi})")
    return normalized


class ConfigView(Mapping[str, ConfigEntry]):
    """Every config of one resource (a topic or a group) with its effective value and source."""

    _definitions: Mapping[str, ConfigDef] = {}

    def __init__(self, entries: dict[str, ConfigEntry], overrides: Mapping[str, str]) -> None:
        self._entries = entries
        self._overrides = dict(overrides)

    def __getitem__(self, name: str) -> ConfigEntry:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def value(self, name: str) -> Any:
        """The typed effective value of one config."""
        return self._entries[name].value

    @property
    def overrides(self) -> dict[str, str]:
        return dict(self._overrides)

    def describe(self, keys: list[str] | None = None) -> list[ConfigEntry]:
        """Entries for DescribeConfigs, in name order (all when `keys` is None)."""
        if keys is None:
            return list(self._entries.values())
        return [self._entries[k] for k in keys if k in self._entries]

    def as_strings(self) -> dict[str, str | None]:
        return {name: entry.value_str for name, entry in self._entries.items()}


class TopicConfigView(ConfigView):
    """Topic configs as DescribeConfigs reports them, and as the partition log needs them."""

    def to_log_properties(self) -> dict[str, str]:
        """Effective values under Kafka's topic-config names, limited to the keys
        `storage.LogConfig.from_properties` knows."""
        keys = _storage_log_keys()
        return {k: v for k, v in self.as_strings().items() if k in keys and v is not None}

    def log_config(self) -> Any:
        """A `storage.config.LogConfig` for this topic."""
        from storage.config import LogConfig

        return LogConfig.from_properties(self.to_log_properties())


class GroupConfigView(ConfigView):
    """Group configs (KIP-848 GROUP resources) with their broker-level defaults."""


def _storage_log_keys() -> frozenset[str]:
    global _STORAGE_KEYS
    if _STORAGE_KEYS is None:
        from storage.config import LogConfig

        _STORAGE_KEYS = frozenset(LogConfig().to_properties())
    return _STORAGE_KEYS


_STORAGE_KEYS: frozenset[str] | None = None


def _resource_entries(
    definitions: Mapping[str, ConfigDef],
    overrides: Mapping[str, str],
    broker: BrokerConfig,
    override_source: ConfigSource,
    kind: str,
) -> dict[str, ConfigEntry]:
    entries: dict[str, ConfigEntry] = {}
    for name, definition in definitions.items():
        chain: list[ConfigSynonym] = []
        raw = overrides.get(name)
        if raw is not None:
            value = definition.parse(raw)
            shown = None if definition.sensitive else to_config_string(value, definition.type)
            chain.append(ConfigSynonym(name, shown, override_source))
        chain.extend(broker.synonym_chain(definition.synonyms))
        if raw is None:
            if kind == "topic":
                value = broker.topic_default(name)
            else:
                value = broker.get(definition.synonyms[0]) if definition.synonyms else definition.parse(None)
        source = chain[0].source if chain else ConfigSource.DEFAULT_CONFIG
        entries[name] = ConfigEntry(name, value, source, tuple(chain), definition)
    return entries


def effective_topic_config(topic_overrides: Mapping[str, str], broker: BrokerConfig) -> TopicConfigView:
    """Every topic config's effective value for a topic with `topic_overrides`.

    Source is DYNAMIC_TOPIC_CONFIG for an override; else the source of the first broker synonym
    that is set (DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG, STATIC_BROKER_CONFIG);
    DEFAULT_CONFIG otherwise. The synonym chain lists the override, then the broker synonyms that
    are set, then the broker defaults, in Kafka's order.
    Unknown override names (from a newer version's metadata, say) are skipped with a log line.
    """
    known: dict[str, str] = {}
    for name, value in topic_overrides.items():
        if name not in TOPIC_CONFIGS:
            log.debug("ignoring unknown topic config %r", name)
            continue
        if value is not None:
            known[name] = value
    entries = _resource_entries(TOPIC_CONFIGS, known, broker, ConfigSource.DYNAMIC_TOPIC_CONFIG, "topic")
    return TopicConfigView(entries, known)


# --- group configs ----------------------------------------------------------------------------

_GROUP_BOUNDS = {
    "consumer.session.timeout.ms": "group.consumer.{}.session.timeout.ms",
    "consumer.heartbeat.interval.ms": "group.consumer.{}.heartbeat.interval.ms",
    "share.session.timeout.ms": "group.share.{}.session.timeout.ms",
    "share.heartbeat.interval.ms": "group.share.{}.heartbeat.interval.ms",
    "share.record.lock.duration.ms": "group.share.{}.record.lock.duration.ms",
    "streams.session.timeout.ms": "group.streams.{}.session.timeout.ms",
    "streams.heartbeat.interval.ms": "group.streams.{}.heartbeat.interval.ms",
}


def validate_group_config(name: str, value: str | None, broker: BrokerConfig | None = None) -> str | None:
    """Check one group config and return its normalised string; with a broker config, values
    must also lie within the broker's min/max bounds, as Kafka requires."""
    definition = GROUP_CONFIGS.get(name)
    if definition is None:
        raise UnknownConfigError(name, "group")
    if value is None:
        return None
    typed = definition.parse(value)
    if broker is not None:
        pattern = _GROUP_BOUNDS.get(name)
        if pattern is not None:
            lo_key, hi_key = pattern.format("min"), pattern.format("max")
            if typed < broker.get(lo_key):
                raise ConfigError(name, value, f"{name} must be greater than or equal to {lo_key}")
            if typed > broker.get(hi_key):
                raise ConfigError(name, value, f"{name} must be less than or equal to {hi_key}")
        if name == "streams.num.standby.replicas" and typed > broker.get("group.streams.max.standby.replicas"):
            raise ConfigError(name, value, f"{name} must be less than or equal to group.streams.max.standby.replicas")
    return to_config_string(typed, definition.type)


def effective_group_config(group_overrides: Mapping[str, str], broker: BrokerConfig) -> GroupConfigView:
    """Every group config's effective value for a group with `group_overrides` (source
    DYNAMIC_GROUP_CONFIG for overrides)."""
    known = {k: v for k, v in group_overrides.items() if k in GROUP_CONFIGS and v is not None}
    entries = _resource_entries(GROUP_CONFIGS, known, broker, ConfigSource.DYNAMIC_GROUP_CONFIG, "group")
    return GroupConfigView(entries, known)
