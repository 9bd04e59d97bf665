"""Broker configuration: properties parsing, defaults and precedence, validation, and the topic
and group config views DescribeConfigs and the log rely on."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import storage.errors
from pybroker.config import (
    BROKER_CONFIGS,
    GROUP_CONFIGS,
    PYBROKER_DEFAULTS,
    TOPIC_CONFIGS,
    BrokerConfig,
    ConfigError,
    ConfigSource,
    ConfigSynonym,
    ConfigType,
    Listener,
    UnknownConfigError,
    Voter,
    effective_group_config,
    effective_topic_config,
    load_properties,
    overrides_from_kwargs,
    parse_override,
    parse_properties,
    validate_group_config,
    validate_topic_config,
    validate_topic_configs,
)
from pybroker.config_defs import SYNONYM_MS_MULTIPLIER, UpdateMode
from storage.config import LogConfig


def cfg(**props: str) -> BrokerConfig:
    """A config from properties given with dots spelt as double underscores or as a dict."""
    return BrokerConfig.from_sources(props)


def broker(props: dict[str, object] | None = None, overrides: dict[str, object] | None = None) -> BrokerConfig:
    return BrokerConfig.from_sources(props or {}, overrides or {})


# --- .properties parsing ----------------------------------------------------------------------


class TestProperties:
    def test_separators(self) -> None:
        text = "a=1\nb: 2\nc 3\nd=\ne\nf  =  x y  \ng:=h\nk1 = : v\n"
        assert parse_properties(text) == {
            "a": "1", "b": "2", "c": "3", "d": "", "e": "", "f": "x y  ", "g": "=h", "k1": ": v",
        }

    def test_comments_blank_lines_and_leading_whitespace(self) -> None:
        text = "# comment\n! also a comment\n   # indented comment\n\n   \t\n  key = value\n\fx=y"
        assert parse_properties(text) == {"key": "value", "x": "y"}

    def test_continuation_lines(self) -> None:
        text = "list=a,\\\n    b,\\\n\t\tc\nnext=1\n"
        assert parse_properties(text) == {"list": "a,b,c", "next": "1"}

    def test_even_backslashes_do_not_continue(self) -> None:
        assert parse_properties("path=C:\\\\\nnext=1") == {"path": "C:\\", "next": "1"}

    def test_comment_line_ending_in_backslash_does_not_continue(self) -> None:
        assert parse_properties("# a comment \\\nkey=v") == {"key": "v"}

    def test_hash_inside_a_continuation_is_text(self) -> None:
        assert parse_properties("k=a\\\n  # not a comment") == {"k": "a# not a comment"}

    def test_continuation_at_end_of_input(self) -> None:
        assert parse_properties("k=abc\\") == {"k": "abc"}

    def test_escapes(self) -> None:
        text = "a\\:b=c\\=d\nsp\\ ace = 1\nu=caf\\u00e9 \\u2603\nt=x\\ty\\nz\\\\w\\q"
        assert parse_properties(text) == {
            "a:b": "c=d", "sp ace": "1", "u": "café ☃", "t": "x\ty\nz\\wq",
        }

    def test_malformed_unicode_escape(self) -> None:
        with pytest.raises(ConfigError, match="Malformed"):
            parse_properties("k=\\u12")
        with pytest.raises(ConfigError, match="Malformed"):
            parse_properties("k=\\u12zz")

    def test_line_endings_and_duplicates(self) -> None:
        assert parse_properties("a=1\r\nb=2\rc=3\na=4") == {"a": "4", "b": "2", "c": "3"}

    def test_load_utf8_latin1_and_bom(self, tmp_path: Path) -> None:
        utf8 = tmp_path / "utf8.properties"
        utf8.write_bytes("\ufeffname=café\n".encode("utf-8"))
        assert load_properties(utf8) == {"name": "café"}
        latin1 = tmp_path / "latin1.properties"
        latin1.write_bytes("name=caf\xe9\n".encode("iso-8859-1"))
        assert load_properties(latin1) == {"name": "café"}

    def test_a_kafka_style_server_properties(self, tmp_path: Path) -> None:
        path = tmp_path / "server.properties"
        path.write_text(
            "############################# Server Basics #############################\n"
            "process.roles=broker,controller\n"
            "node.id=1\n"
            "controller.quorum.voters=1@localhost:19093\n"
            "listeners=PLAINTEXT://:19092,CONTROLLER://:19093\n"
            "advertised.listeners=PLAINTEXT://localhost:19092\n"
            "controller.listener.names=CONTROLLER\n"
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n"
            f"log.dirs={tmp_path}/a,{tmp_path}/b\n"
            "num.partitions=3\n"
            "log.retention.hours=24\n"
            "offsets.topic.replication.factor=1\n"
        )
        c = BrokerConfig.from_file(path)
        assert c.num_partitions == 3
        assert c.log_dirs == [tmp_path / "a", tmp_path / "b"]
        assert c.metadata_log_dir == tmp_path / "a"
        assert c.log_retention_ms == 24 * 3600 * 1000
        assert [str(ln) for ln in c.listeners] == ["PLAINTEXT://:19092", "CONTROLLER://:19093"]
        assert [str(ln) for ln in c.advertised_listeners] == ["PLAINTEXT://localhost:19092"]
        assert c.quorum_voters == [Voter(1, "localhost", 19093)]

    def test_parse_override_and_kwargs(self) -> None:
        assert parse_override("log.segment.bytes=1048576") == ("log.segment.bytes", "1048576")
        assert parse_override("listeners=PLAINTEXT://a:1=x") == ("listeners", "PLAINTEXT://a:1=x")
        with pytest.raises(ConfigError, match="--override"):
            parse_override("novalue")
        assert overrides_from_kwargs({"log_segment_bytes": 1, "num.partitions": 2}) == {
            "log.segment.bytes": 1, "num.partitions": 2,
        }


# --- defaults and precedence ------------------------------------------------------------------


class TestDefaults:
    def test_zero_config_is_a_combined_single_node(self) -> None:
        c = broker()
        assert c.node_id == 1
        assert c.process_roles == ("broker", "controller")
        assert c.is_broker and c.is_controller
        assert c.listeners == [
            Listener("PLAINTEXT", "localhost", 9092, "PLAINTEXT"),
            Listener("CONTROLLER", "localhost", 9093, "PLAINTEXT"),
        ]
        assert c.advertised_listeners == [Listener("PLAINTEXT", "localhost", 9092, "PLAINTEXT")]
        assert c.controller_listeners == [Listener("CONTROLLER", "localhost", 9093, "PLAINTEXT")]
        assert c.broker_listeners == [Listener("PLAINTEXT", "localhost", 9092, "PLAINTEXT")]
        assert c.controller_listener_names == ["CONTROLLER"]
        assert c.quorum_voters == [Voter(1, "localhost", 9093)]
        assert c.log_dirs == [Path("pybroker-data")]
        assert c.inter_broker_listener_name == "PLAINTEXT"
        assert c.listener_security_protocol_map["CONTROLLER"] == "PLAINTEXT"
        assert c.originals == {}
        for key in ("node.id", "listeners", "process.roles", "num.partitions"):
            assert c.source_of(key) is ConfigSource.DEFAULT_CONFIG

    def test_kafka_defaults(self) -> None:
        c = broker()
        assert c.num_partitions == 1
        assert c.default_replication_factor == 1
        assert c.min_insync_replicas == 1
        assert c.auto_create_topics_enable is True
        assert c.delete_topic_enable is True
        assert c.log_segment_bytes == 1073741824
        assert c.log_retention_ms == 7 * 24 * 3600 * 1000
        assert c.get("log.retention.ms") is None
        assert c.get("log.retention.hours") == 168
        assert c.log_retention_bytes == -1
        assert c.log_retention_check_interval_ms == 300000
        assert c.get("log.cleanup.policy") == ["delete"]
        assert c.message_max_bytes == 1048588
        assert c.socket_request_max_bytes == 104857600
        assert c.connections_max_idle_ms == 600000
        assert c.offsets_topic_num_partitions == 50
        assert c.group_initial_rebalance_delay_ms == 3000
        assert c.transaction_max_timeout_ms == 900000
        assert c.producer_id_expiration_ms == 86400000
        assert c.fetch_max_bytes == 57671680
        assert c.replica_lag_time_max_ms == 30000
        assert c.get("compression.type") == "producer"
        assert c.get("log.message.timestamp.after.max.ms") == 3600000
        assert c.get("group.consumer.assignors") == ["uniform", "range"]
        assert c.broker_rack is None

    def test_single_node_internal_topic_defaults(self) -> None:
        c = broker()
        assert c.offsets_topic_replication_factor == 1
        assert c.transaction_state_log_replication_factor == 1
        assert c.transaction_state_log_min_isr == 1
        assert BROKER_CONFIGS["offsets.topic.replication.factor"].default == 3  # Kafka's
        assert c.default_string("offsets.topic.replication.factor") == "1"
        assert broker({"offsets.topic.replication.factor": "3"}).offsets_topic_replication_factor == 3

    def test_overrides_beat_file_beat_defaults(self) -> None:
        c = broker({"num.partitions": "3", "log.segment.bytes": "2097152"}, {"num.partitions": "5"})
        assert c.num_partitions == 5
        assert c.log_segment_bytes == 2097152
        assert c.source_of("num.partitions") is ConfigSource.STATIC_BROKER_CONFIG
        assert c.source_of("log.segment.bytes") is ConfigSource.STATIC_BROKER_CONFIG
        assert c.source_of("message.max.bytes") is ConfigSource.DEFAULT_CONFIG
        assert c.originals == {"num.partitions": "5", "log.segment.bytes": "2097152"}
        assert c.is_set("num.partitions") and not c.is_set("message.max.bytes")

    def test_typed_override_values(self, tmp_path: Path) -> None:
        c = broker({"num.partitions": "3"}, {
            "num.partitions": None,  # removes the file's value
            "auto.create.topics.enable": False,
            "log.dirs": [tmp_path / "x", tmp_path / "y"],
            "log.segment.bytes": 1 << 21,
        })
        assert c.num_partitions == 1
        assert c.auto_create_topics_enable is False
        assert c.log_dirs == [tmp_path / "x", tmp_path / "y"]
        assert c.log_segment_bytes == 1 << 21

    def test_log_dirs_over_log_dir(self, tmp_path: Path) -> None:
        assert broker({"log.dir": str(tmp_path / "one")}).log_dirs == [tmp_path / "one"]
        c = broker({"log.dir": str(tmp_path / "one"), "log.dirs": f" {tmp_path}/a , {tmp_path}/b "})
        assert c.log_dirs == [tmp_path / "a", tmp_path / "b"]
        assert broker({"metadata.log.dir": str(tmp_path / "m")}).metadata_log_dir == tmp_path / "m"

    def test_typed_access(self) -> None:
        c = broker()
        assert c.get("log.segment.bytes") == c.log_segment_bytes == 1073741824
        with pytest.raises(UnknownConfigError):
            c.get("no.such.config")
        with pytest.raises(AttributeError):
            c.no_such_config  # noqa: B018
        assert "num.partitions" in c

    def test_port_zero_listeners_for_embedded_brokers(self) -> None:
        c = broker(overrides={"listeners": "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0"})
        assert [ln.port for ln in c.listeners] == [0, 0]
        assert c.quorum_voters == [Voter(1, "127.0.0.1", 0)]
        assert c.source_of("controller.quorum.voters") is ConfigSource.DEFAULT_CONFIG


# --- value validation -------------------------------------------------------------------------


class TestValues:
    def test_not_a_number(self) -> None:
        with pytest.raises(ConfigError) as info:
            cfg(**{"num.partitions": "abc"})
        assert str(info.value) == "Invalid value abc for configuration num.partitions: Not a number of type INT"
        assert info.value.key == "num.partitions"
        assert isinstance(info.value, storage.errors.ConfigError)
        assert info.value.error_code == 40

    @pytest.mark.parametrize(
        ("key", "value", "reason"),
        [
            ("num.partitions", "0", "Value must be at least 1"),
            ("num.partitions", "2147483648", "Not a number of type INT"),
            ("num.partitions", "1_000", "Not a number of type INT"),
            ("num.partitions", "1.5", "Not a number of type INT"),
            ("log.retention.bytes", "9223372036854775808", "Not a number of type LONG"),
            ("offsets.topic.replication.factor", "40000", "Not a number of type SHORT"),
            ("auto.create.topics.enable", "yes", "Expected value to be either true or false"),
            ("log.cleaner.min.cleanable.ratio", "1.5", "Value must be no more than 1"),
            ("log.cleaner.min.cleanable.ratio", "half", "Not a number of type DOUBLE"),
            ("log.cleaner.min.cleanable.ratio", "NaN", "Value must be a number"),
            ("log.cleanup.policy", "delete,shred", "String must be one of: compact, delete"),
            ("compression.type", "brotli", "String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"),
            ("log.message.timestamp.type", "createtime", "String must be one of: CreateTime, LogAppendTime"),
            ("log.segment.bytes", "1000", "Value must be at least 1048576"),
            ("min.insync.replicas", "0", "Value must be at least 1"),
            ("compression.gzip.level", "0", "Value must be at least 1"),
            ("node.id", "-1", "Value must be at least 0"),
            ("fetch.max.bytes", "1000", "Value must be at least 1024"),
        ],
    )
    def test_bad_values_name_the_key(self, key: str, value: str, reason: str) -> None:
        with pytest.raises(ConfigError) as info:
            cfg(**{key: value})
        assert info.value.key == key
        assert key in str(info.value)
        assert reason in str(info.value)

    def test_lenient_forms_kafka_accepts(self) -> None:
        c = cfg(**{
            "num.partitions": " +7 ",
            "auto.create.topics.enable": "TRUE",
            "log.cleaner.min.cleanable.ratio": "5e-1",
            "log.cleaner.io.buffer.load.factor": "0.75d",
            "log.cleanup.policy": " compact , delete ",
            "compression.gzip.level": "-1",
        })
        assert c.num_partitions == 7
        assert c.auto_create_topics_enable is True
        assert c.get("log.cleaner.min.cleanable.ratio") == 0.5
        assert c.get("log.cleaner.io.buffer.load.factor") == 0.75
        assert c.get("log.cleanup.policy") == ["compact", "delete"]

    def test_every_default_satisfies_its_own_rules(self) -> None:
        for table in (BROKER_CONFIGS, TOPIC_CONFIGS, GROUP_CONFIGS):
            for name, definition in table.items():
                assert definition.name == name
                assert definition.doc, name
                if definition.default is not None and definition.validator is not None:
                    default = list(definition.default) if isinstance(definition.default, tuple) else definition.default
                    definition.validator(name, default)
                if definition.default is not None:  # the default round-trips through its string
                    text = definition.to_string(definition.default)
                    assert definition.parse(text) == definition.parse(None), name


class TestUnknownKeys:
    def test_unknown_keys_warn_and_are_ignored(self, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.WARNING, logger="pybroker.config"):
            c = broker({"no.such.setting": "1"}, {"another.one": "2"})
        messages = [r.getMessage() for r in caplog.records if r.name == "pybroker.config"]
        assert any("no.such.setting" in m and "properties" in m for m in messages)
        assert any("another.one" in m and "override" in m for m in messages)
        assert "no.such.setting" not in c.originals

    def test_topic_config_given_to_the_broker_gets_a_hint(self, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.WARNING, logger="pybroker.config"):
            broker({"retention.ms": "1000"})
        assert any("log.retention.ms" in r.getMessage() for r in caplog.records)

    def test_listener_prefixed_settings_pass_through(self, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.WARNING, logger="pybroker.config"):
            c = broker({"listener.name.plaintext.max.connections": "10"})
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert c.get("listener.name.plaintext.max.connections") == "10"
        assert c.source_of("listener.name.plaintext.max.connections") is ConfigSource.STATIC_BROKER_CONFIG


# --- derived values ---------------------------------------------------------------------------


class TestRetentionAndRoll:
    def test_retention_precedence(self) -> None:
        assert cfg(**{"log.retention.hours": "2"}).log_retention_ms == 2 * 3600 * 1000
        assert cfg(**{"log.retention.hours": "2", "log.retention.minutes": "3"}).log_retention_ms == 3 * 60 * 1000
        assert cfg(**{
            "log.retention.hours": "2", "log.retention.minutes": "3", "log.retention.ms": "4000",
        }).log_retention_ms == 4000
        assert cfg(**{"log.retention.minutes": "3"}).log_retention_ms == 180000

    def test_negative_retention_means_forever(self) -> None:
        assert cfg(**{"log.retention.ms": "-1"}).log_retention_ms == -1
        assert cfg(**{"log.retention.hours": "-1"}).log_retention_ms == -1
        assert cfg(**{"log.retention.minutes": "-5"}).log_retention_ms == -1

    def test_zero_retention_is_refused(self) -> None:
        with pytest.raises(ConfigError, match="log.retention.ms must be unlimited"):
            cfg(**{"log.retention.ms": "0"})
        with pytest.raises(ConfigError) as info:
            cfg(**{"log.retention.hours": "0"})
        assert info.value.key == "log.retention.hours"

    def test_roll_and_flush_fallbacks(self) -> None:
        c = broker()
        assert c.log_roll_ms == 168 * 3600 * 1000
        assert c.log_roll_jitter_ms == 0
        assert c.log_flush_interval_ms == (1 << 63) - 1
        c = cfg(**{"log.roll.hours": "1", "log.roll.jitter.hours": "1", "log.flush.scheduler.interval.ms": "500"})
        assert (c.log_roll_ms, c.log_roll_jitter_ms, c.log_flush_interval_ms) == (3600000, 3600000, 500)
        c = cfg(**{"log.roll.hours": "1", "log.roll.ms": "60000", "log.flush.interval.ms": "20"})
        assert (c.log_roll_ms, c.log_flush_interval_ms) == (60000, 20)
        with pytest.raises(ConfigError, match="log.roll.ms must be greater than or equal to 1"):
            cfg(**{"log.roll.ms": "0"})


class TestListeners:
    def test_ipv6_empty_host_and_names(self) -> None:
        c = broker(overrides={
            "listeners": "plaintext://[::1]:9092,CONTROLLER://:9093",
        })
        assert c.listeners[0] == Listener("PLAINTEXT", "::1", 9092, "PLAINTEXT")
        assert str(c.listeners[0]) == "PLAINTEXT://[::1]:9092"
        assert c.listeners[1].host == "" and c.listeners[1].bind_host is None

    def test_custom_names_need_a_protocol_mapping(self) -> None:
        with pytest.raises(ConfigError, match="No security protocol defined for listener CLIENT") as info:
            broker(overrides={"listeners": "CLIENT://:9092,CONTROLLER://:9093"})
        assert info.value.key == "listeners"
        c = broker(overrides={
            "listeners": "CLIENT://:9092,INTERNAL://:9094,CONTROLLER://:9093",
            "advertised.listeners": "CLIENT://localhost:9092,INTERNAL://localhost:9094",
            "listener.security.protocol.map": "CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "internal",
        })
        assert c.inter_broker_listener_name == "INTERNAL"
        assert [ln.name for ln in c.advertised_listeners] == ["CLIENT", "INTERNAL"]

    def test_duplicate_names_and_ports(self) -> None:
        with pytest.raises(ConfigError, match="different name"):
            broker(overrides={"listeners": "PLAINTEXT://:9092,PLAINTEXT://:9094,CONTROLLER://:9093"})
        with pytest.raises(ConfigError, match="different port"):
            broker(overrides={"listeners": "PLAINTEXT://:9092,CONTROLLER://:9092"})
        # one IPv4 and one IPv6 listener may share a port, and port 0 never clashes
        broker(overrides={
            "listeners": "PLAINTEXT://127.0.0.1:9092,CONTROLLER://[::1]:9092",
        })
        broker(overrides={"listeners": "PLAINTEXT://:0,CONTROLLER://:0"})

    @pytest.mark.parametrize("value", ["PLAINTEXT:9092", "PLAINTEXT://host", "PLAINTEXT://:70000", "://:1"])
    def test_malformed_listeners(self, value: str) -> None:
        with pytest.raises(ConfigError) as info:
            broker(overrides={"listeners": value + ",CONTROLLER://:9093"})
        assert info.value.key == "listeners"

    def test_only_plaintext_is_served(self) -> None:
        with pytest.raises(ConfigError, match="PLAINTEXT listeners only"):
            broker(overrides={
                "listeners": "SSL://:9092,CONTROLLER://:9093",
                "listener.security.protocol.map": "SSL:SSL,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name": "SSL",
            })
        # with SSL in use, Kafka adds no implicit CONTROLLER:PLAINTEXT mapping
        with pytest.raises(ConfigError, match="No security protocol defined for listener CONTROLLER"):
            broker(overrides={"listeners": "SSL://:9092,CONTROLLER://:9093"})

    def test_security_protocol_map_validation(self) -> None:
        with pytest.raises(ConfigError, match="NAME:PROTOCOL") as info:
            broker(overrides={"listener.security.protocol.map": "PLAINTEXT"})
        assert info.value.key == "listener.security.protocol.map"
        with pytest.raises(ConfigError, match="Unknown security protocol"):
            broker(overrides={"listener.security.protocol.map": "PLAINTEXT:TLS"})

    def test_explicit_map_needs_the_controller_listener(self) -> None:
        with pytest.raises(ConfigError, match="CONTROLLER"):
            broker(overrides={"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT"})

    def test_advertised_listeners(self) -> None:
        c = broker(overrides={
            "listeners": "PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093",
            "advertised.listeners": "PLAINTEXT://broker1.example:9092,CONTROLLER://broker1.example:9093",
        })
        assert c.advertised_listeners == [Listener("PLAINTEXT", "broker1.example", 9092, "PLAINTEXT")]
        assert c.advertised_controller_listeners == [Listener("CONTROLLER", "broker1.example", 9093, "PLAINTEXT")]
        assert c.quorum_voters == [Voter(1, "localhost", 9093)]

    def test_advertising_the_meta_address_is_refused(self) -> None:
        with pytest.raises(ConfigError, match="0.0.0.0") as info:
            broker(overrides={"listeners": "PLAINTEXT://0.0.0.0:9092,CONTROLLER://:9093"})
        assert info.value.key == "advertised.listeners"

    def test_advertised_names_must_be_listeners(self) -> None:
        with pytest.raises(ConfigError, match="subset") as info:
            broker(overrides={
                "listeners": "PLAINTEXT://:9092,CONTROLLER://:9093",
                "advertised.listeners": "PLAINTEXT://h:9092,EXTERNAL://h:19092",
                "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
            })
        assert info.value.key == "advertised.listeners"


# --- KRaft start-up rules ---------------------------------------------------------------------


class TestKraftRules:
    @pytest.mark.parametrize("roles", ["worker", "broker,worker", "broker,broker", ""])
    def test_process_roles(self, roles: str) -> None:
        with pytest.raises(ConfigError) as info:
            cfg(**{"process.roles": roles})
        assert info.value.key == "process.roles"

    def test_controller_listener_must_be_in_listeners(self) -> None:
        with pytest.raises(ConfigError, match="must only contain values appearing in the 'listeners'") as info:
            broker(overrides={"listeners": "PLAINTEXT://:9092", "controller.quorum.voters": "1@localhost:9093"})
        assert info.value.key == "controller.listener.names"

    def test_broker_only_node(self) -> None:
        c = broker(overrides={
            "process.roles": "broker",
            "node.id": "2",
            "controller.quorum.bootstrap.servers": "localhost:9093",
        })
        assert c.process_roles == ("broker",)
        assert c.listeners == [Listener("PLAINTEXT", "localhost", 9092, "PLAINTEXT")]
        assert c.quorum_voters == []
        assert [str(hp) for hp in c.quorum_bootstrap_servers] == ["localhost:9093"]

    def test_broker_only_needs_a_quorum(self) -> None:
        with pytest.raises(ConfigError, match="controller.quorum.bootstrap.servers must contain") as info:
            broker(overrides={"process.roles": "broker", "node.id": "2"})
        assert info.value.key == "controller.quorum.voters"

    def test_broker_only_must_not_be_a_voter(self) -> None:
        with pytest.raises(ConfigError, match="must not be included in the set of voters"):
            broker(overrides={"process.roles": "broker", "node.id": "1", "controller.quorum.voters": "1@c:9093"})

    def test_broker_only_must_not_listen_on_the_controller_listener(self) -> None:
        with pytest.raises(ConfigError, match="must not contain a value appearing in the 'listeners'"):
            broker(overrides={
                "process.roles": "broker", "node.id": "2", "controller.quorum.voters": "1@c:9093",
                "listeners": "PLAINTEXT://:9092,CONTROLLER://:9093",
            })

    def test_controller_must_be_a_voter(self) -> None:
        with pytest.raises(ConfigError, match="must be included in the set of voters") as info:
            broker(overrides={"controller.quorum.voters": "2@localhost:9093,3@localhost:9094"})
        assert info.value.key == "controller.quorum.voters"

    def test_voters_parse(self) -> None:
        c = broker(overrides={"controller.quorum.voters": "1@localhost:9093, 2@[::1]:9094,3@10.0.0.3:9095"})
        assert c.quorum_voters == [Voter(1, "localhost", 9093), Voter(2, "::1", 9094), Voter(3, "10.0.0.3", 9095)]
        for bad in ("localhost:9093", "x@localhost:9093", "1@localhost", "1@a:1,1@b:2"):
            with pytest.raises(ConfigError) as info:
                broker(overrides={"controller.quorum.voters": bad})
            assert info.value.key == "controller.quorum.voters"

    def test_controller_only_node(self) -> None:
        c = broker(overrides={"process.roles": "controller"})
        assert c.listeners == [Listener("CONTROLLER", "localhost", 9093, "PLAINTEXT")]
        with pytest.raises(ConfigError, match="must only contain KRaft controller listeners") as info:
            broker(overrides={"process.roles": "controller", "listeners": "PLAINTEXT://:9092,CONTROLLER://:9093"})
        assert info.value.key == "listeners"

    def test_inter_broker_listener(self) -> None:
        with pytest.raises(ConfigError, match="Only one of") as info:
            broker(overrides={"inter.broker.listener.name": "PLAINTEXT", "security.inter.broker.protocol": "PLAINTEXT"})
        assert info.value.key == "inter.broker.listener.name"
        with pytest.raises(ConfigError, match="must be a listener name defined in advertised.listeners"):
            broker(overrides={"inter.broker.listener.name": "CONTROLLER"})

    def test_broker_id_must_match_node_id(self) -> None:
        assert cfg(**{"broker.id": "1"}).node_id == 1
        with pytest.raises(ConfigError) as info:
            cfg(**{"broker.id": "2"})
        assert info.value.key == "broker.id"

    def test_log_dirs(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="repeat") as info:
            broker(overrides={"log.dirs": f"{tmp_path}/a,{tmp_path}/b,{tmp_path}/a/"})
        assert info.value.key == "log.dirs"
        with pytest.raises(ConfigError, match="At least one log directory"):
            broker(overrides={"log.dirs": ",", "log.dir": " "})

    def test_cross_config_rules(self) -> None:
        cases = {
            "replica.fetch.wait.max.ms": {"replica.lag.time.max.ms": "400"},
            "replica.socket.timeout.ms": {"replica.socket.timeout.ms": "100"},
            "queued.max.request.bytes": {"queued.max.request.bytes": "1000"},
            "max.connections.per.ip": {"max.connections.per.ip": "0"},
            "group.coordinator.rebalance.protocols": {"group.coordinator.rebalance.protocols": "consumer"},
            "group.consumer.heartbeat.interval.ms": {"group.consumer.heartbeat.interval.ms": "20000"},
            "group.consumer.session.timeout.ms": {"group.consumer.session.timeout.ms": "1000"},
            "log.cleaner.dedupe.buffer.size": {"log.cleaner.dedupe.buffer.size": "1048576"},
            "remote.log.storage.system.enable": {"remote.log.storage.system.enable": "true"},
        }
        for key, props in cases.items():
            with pytest.raises(ConfigError) as info:
                broker(props)
            assert info.value.key == key, props

    def test_heartbeat_longer_than_half_the_session_is_only_logged(self, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.ERROR, logger="pybroker.config"):
            cfg(**{"broker.heartbeat.interval.ms": "5000"})
        assert any("broker.session.timeout.ms" in r.getMessage() for r in caplog.records)


# --- broker DescribeConfigs -------------------------------------------------------------------


class TestBrokerDescribe:
    def test_entries(self) -> None:
        c = broker({"num.partitions": "3"})
        entry = c.describe_one("num.partitions")
        assert entry.value == 3 and entry.value_str == "3"
        assert entry.source is ConfigSource.STATIC_BROKER_CONFIG
        assert entry.synonyms == (
            ConfigSynonym("num.partitions", "3", ConfigSource.STATIC_BROKER_CONFIG),
            ConfigSynonym("num.partitions", "1", ConfigSource.DEFAULT_CONFIG),
        )
        assert entry.read_only and entry.type is ConfigType.INT
        assert not c.describe_one("min.insync.replicas").read_only

    def test_retention_synonyms_follow_kafka(self) -> None:
        c = broker({"log.retention.hours": "24", "log.retention.ms": "5000"})
        ms = c.describe_one("log.retention.ms")
        assert ms.value_str == "5000" and ms.source is ConfigSource.STATIC_BROKER_CONFIG
        assert [(s.name, s.value, s.source) for s in ms.synonyms] == [
            ("log.retention.ms", "5000", ConfigSource.STATIC_BROKER_CONFIG),
            ("log.retention.hours", "24", ConfigSource.STATIC_BROKER_CONFIG),
            ("log.retention.hours", "168", ConfigSource.DEFAULT_CONFIG),
        ]
        hours_only = broker({"log.retention.hours": "24"}).describe_one("log.retention.ms")
        assert hours_only.value is None and hours_only.source is ConfigSource.DEFAULT_CONFIG
        assert hours_only.synonyms == ()

    def test_sensitive_values_are_hidden(self) -> None:
        c = broker({"ssl.keystore.password": "secret"})
        entry = c.describe_one("ssl.keystore.password")
        assert entry.sensitive and entry.value_str is None
        assert all(s.value is None for s in entry.synonyms)
        assert entry.source is ConfigSource.STATIC_BROKER_CONFIG

    def test_describe_all_skips_internal(self) -> None:
        names = {e.name for e in broker().describe()}
        assert "num.partitions" in names and "unstable.api.versions.enable" not in names

    def test_describe_requested_keys_leaves_out_unknown_ones(self) -> None:
        entries = broker().describe(["num.partitions", "no.such.key"])
        assert [e.name for e in entries] == ["num.partitions"]
        view = effective_topic_config({}, broker())
        assert [e.name for e in view.describe(["retention.ms", "nope"])] == ["retention.ms"]

    def test_update_modes(self) -> None:
        assert BROKER_CONFIGS["listeners"].update_mode is UpdateMode.PER_BROKER
        assert BROKER_CONFIGS["log.retention.ms"].update_mode is UpdateMode.CLUSTER_WIDE
        assert BROKER_CONFIGS["log.retention.hours"].update_mode is UpdateMode.READ_ONLY


# --- topic configs ----------------------------------------------------------------------------


class TestTopicConfigValidation:
    @pytest.mark.parametrize(
        ("name", "value", "normalized"),
        [
            ("retention.ms", " 1000 ", "1000"),
            ("retention.ms", "-1", "-1"),
            ("unclean.leader.election.enable", "TRUE", "true"),
            ("cleanup.policy", "compact, delete", "compact,delete"),
            ("cleanup.policy", "compact", "compact"),
            ("compression.type", "zstd", "zstd"),
            ("message.timestamp.type", "LogAppendTime", "LogAppendTime"),
            ("min.cleanable.dirty.ratio", "0.1", "0.1"),
            ("min.cleanable.dirty.ratio", "5e-1", "0.5"),
            ("min.cleanable.dirty.ratio", "1d", "1.0"),
            ("max.message.bytes", "2000000", "2000000"),
            ("segment.bytes", "1048576", "1048576"),
            ("remote.storage.enable", "false", "false"),
            ("leader.replication.throttled.replicas", "0:1, 1:2", "0:1,1:2"),
            ("follower.replication.throttled.replicas", "*", "*"),
            ("local.retention.ms", "-2", "-2"),
        ],
    )
    def test_valid(self, name: str, value: str, normalized: str) -> None:
        assert validate_topic_config(name, value) == normalized

    def test_none_is_a_deletion(self) -> None:
        assert validate_topic_config("retention.ms", None) is None

    def test_unknown_name(self) -> None:
        with pytest.raises(UnknownConfigError) as info:
            validate_topic_config("retention.hours", "1")
        assert str(info.value) == "Unknown topic config name: retention.hours"
        assert isinstance(info.value, ConfigError) and info.value.error_code == 40
        with pytest.raises(UnknownConfigError):
            validate_topic_config("message.downconversion.enable", "true")  # removed in Kafka 4.0

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("retention.ms", "-2"),
            ("retention.ms", "soon"),
            ("segment.bytes", "1000"),
            ("cleanup.policy", "archive"),
            ("cleanup.policy", ""),
            ("compression.type", "none"),
            ("message.timestamp.type", "Now"),
            ("min.insync.replicas", "0"),
            ("min.cleanable.dirty.ratio", "2"),
            ("preallocate", "maybe"),
            ("remote.storage.enable", "true"),
            ("leader.replication.throttled.replicas", "1-2"),
            ("compression.zstd.level", "23"),
        ],
    )
    def test_invalid(self, name: str, value: str) -> None:
        with pytest.raises(ConfigError) as info:
            validate_topic_config(name, value)
        assert info.value.key == name
        assert not isinstance(info.value, UnknownConfigError)

    def test_whole_set_checks(self) -> None:
        assert validate_topic_configs({"retention.ms": "100", "segment.ms": None}) == {"retention.ms": "100"}
        with pytest.raises(ConfigError, match="conflict topic config setting"):
            validate_topic_configs({"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"})
        b = broker({"log.cleaner.max.compaction.lag.ms": "100"})
        with pytest.raises(ConfigError, match=r"min.compaction.lag.ms \(200\) > max.compaction.lag.ms \(100\)"):
            validate_topic_configs({"min.compaction.lag.ms": "200"}, b)


class TestEffectiveTopicConfig:
    def test_defaults_come_from_the_broker(self) -> None:
        view = effective_topic_config({}, broker())
        assert set(view) == set(TOPIC_CONFIGS)
        seg = view["segment.bytes"]
        assert seg.value == 1073741824 and seg.source is ConfigSource.DEFAULT_CONFIG
        assert seg.synonyms == (ConfigSynonym("log.segment.bytes", "1073741824", ConfigSource.DEFAULT_CONFIG),)
        assert view.value("retention.ms") == 604800000
        assert view.value("cleanup.policy") == ["delete"]
        assert view["cleanup.policy"].value_str == "delete"
        remote = view["remote.storage.enable"]
        assert remote.value is False and remote.source is ConfigSource.DEFAULT_CONFIG and remote.synonyms == ()
        assert view.overrides == {}

    def test_static_broker_synonyms(self) -> None:
        b = broker({"log.retention.minutes": "5", "log.segment.bytes": "2097152", "message.max.bytes": "5000000"})
        view = effective_topic_config({}, b)
        retention = view["retention.ms"]
        assert retention.value == 300000
        assert retention.source is ConfigSource.STATIC_BROKER_CONFIG
        assert retention.synonyms == (
            ConfigSynonym("log.retention.minutes", "5", ConfigSource.STATIC_BROKER_CONFIG),
            ConfigSynonym("log.retention.hours", "168", ConfigSource.DEFAULT_CONFIG),
        )
        assert view.value("segment.bytes") == 2097152
        assert view.value("max.message.bytes") == 5000000
        assert view["max.message.bytes"].source is ConfigSource.STATIC_BROKER_CONFIG

    def test_overrides_come_first(self) -> None:
        b = broker({"log.retention.ms": "86400000", "log.retention.hours": "48"})
        view = effective_topic_config({"retention.ms": "1000", "cleanup.policy": "compact,delete"}, b)
        retention = view["retention.ms"]
        assert retention.value == 1000
        assert retention.source is ConfigSource.DYNAMIC_TOPIC_CONFIG
        assert [(s.name, s.value, s.source) for s in retention.synonyms] == [
            ("retention.ms", "1000", ConfigSource.DYNAMIC_TOPIC_CONFIG),
            ("log.retention.ms", "86400000", ConfigSource.STATIC_BROKER_CONFIG),
            ("log.retention.hours", "48", ConfigSource.STATIC_BROKER_CONFIG),
            ("log.retention.hours", "168", ConfigSource.DEFAULT_CONFIG),
        ]
        assert view.value("cleanup.policy") == ["compact", "delete"]
        assert view.overrides == {"retention.ms": "1000", "cleanup.policy": "compact,delete"}

    def test_unit_conversions(self) -> None:
        view = effective_topic_config({}, broker({"log.roll.hours": "2", "log.roll.jitter.hours": "1"}))
        assert view.value("segment.ms") == 2 * 3600000
        assert view.value("segment.jitter.ms") == 3600000
        view = effective_topic_config({}, broker({"log.flush.scheduler.interval.ms": "1000"}))
        assert view.value("flush.ms") == 1000
        assert view["flush.ms"].source is ConfigSource.STATIC_BROKER_CONFIG

    def test_log_config_for_storage(self) -> None:
        b = broker({"log.segment.bytes": "1048576", "log.message.timestamp.type": "LogAppendTime"})
        view = effective_topic_config({"cleanup.policy": "compact", "max.message.bytes": "1000"}, b)
        props = view.to_log_properties()
        assert set(props) <= set(TOPIC_CONFIGS)
        assert "remote.storage.enable" not in props
        log_config = view.log_config()
        assert isinstance(log_config, LogConfig)
        assert log_config.segment_bytes == 1048576
        assert log_config.log_append_time and log_config.compact and not log_config.delete
        assert log_config.max_message_bytes == 1000
        assert b.default_topic_config().log_config().max_message_bytes == 1048588


class TestCrossChecks:
    def test_topic_defaults_equal_their_broker_synonyms(self) -> None:
        for name, definition in TOPIC_CONFIGS.items():
            for synonym in definition.synonyms:
                assert synonym in BROKER_CONFIGS, (name, synonym)
            kafka_default = None
            for synonym in definition.synonyms:  # the first synonym with a default supplies it
                default = BROKER_CONFIGS[synonym].default
                if default is not None:
                    kafka_default = default * SYNONYM_MS_MULTIPLIER.get(synonym, 1) if not isinstance(default, tuple) else default
                    break
            if definition.synonyms:
                assert kafka_default == definition.default, name
                assert BROKER_CONFIGS[definition.synonyms[0]].type in (definition.type, ConfigType.INT, ConfigType.LONG)

    def test_storage_log_config_agrees_on_names_and_defaults(self) -> None:
        storage_props = LogConfig().to_properties()
        ours = effective_topic_config({}, broker()).as_strings()
        for key, value in storage_props.items():
            assert key in TOPIC_CONFIGS, key
            assert ours[key] == value, key

    def test_group_config_synonyms_exist(self) -> None:
        for name, definition in GROUP_CONFIGS.items():
            for synonym in definition.synonyms:
                assert BROKER_CONFIGS[synonym].default == definition.default, name

    def test_builtin_defaults_are_known_and_valid(self) -> None:
        for key, value in PYBROKER_DEFAULTS.items():
            BROKER_CONFIGS[key].parse(value)

    def test_describe_configs_codes(self) -> None:
        assert [int(ConfigSource[n]) for n in (
            "UNKNOWN", "DYNAMIC_TOPIC_CONFIG", "DYNAMIC_BROKER_CONFIG", "DYNAMIC_DEFAULT_BROKER_CONFIG",
            "STATIC_BROKER_CONFIG", "DEFAULT_CONFIG", "DYNAMIC_BROKER_LOGGER_CONFIG",
            "DYNAMIC_CLIENT_METRICS_CONFIG", "DYNAMIC_GROUP_CONFIG",
        )] == list(range(9))
        assert ConfigSource.TOPIC_CONFIG is ConfigSource.DYNAMIC_TOPIC_CONFIG
        assert ConfigSource.GROUP_CONFIG == 8
        assert [int(ConfigType[n]) for n in (
            "UNKNOWN", "BOOLEAN", "STRING", "INT", "SHORT", "LONG", "DOUBLE", "LIST", "CLASS", "PASSWORD",
        )] == list(range(10))

    def test_codes_agree_with_kafka_python(self) -> None:
        admin = pytest.importorskip("kafka.admin")
        for member in admin.ConfigSourceType:
            assert ConfigSource(member.value).name == member.name or member.name == "UNKNOWN"
        for member in admin.ConfigType:
            assert ConfigType(member.value).name == member.name


# --- group configs ----------------------------------------------------------------------------


class TestGroupConfigs:
    def test_validation(self) -> None:
        assert validate_group_config("consumer.session.timeout.ms", " 50000 ") == "50000"
        with pytest.raises(UnknownConfigError, match="Unknown group config name"):
            validate_group_config("session.timeout.ms", "1")
        b = broker()
        with pytest.raises(ConfigError, match="group.consumer.min.session.timeout.ms"):
            validate_group_config("consumer.session.timeout.ms", "1000", b)
        with pytest.raises(ConfigError, match="group.consumer.max.heartbeat.interval.ms"):
            validate_group_config("consumer.heartbeat.interval.ms", "20000", b)
        assert validate_group_config("share.auto.offset.reset", "by_duration:PT1H") == "by_duration:PT1H"
        with pytest.raises(ConfigError):
            validate_group_config("share.auto.offset.reset", "by_duration:-PT1H")

    def test_effective(self) -> None:
        b = broker({"group.consumer.session.timeout.ms": "50000", "group.consumer.max.session.timeout.ms": "90000"})
        view = effective_group_config({"consumer.heartbeat.interval.ms": "6000"}, b)
        assert view.value("consumer.session.timeout.ms") == 50000
        assert view["consumer.session.timeout.ms"].source is ConfigSource.STATIC_BROKER_CONFIG
        hb = view["consumer.heartbeat.interval.ms"]
        assert hb.value == 6000 and hb.source is ConfigSource.DYNAMIC_GROUP_CONFIG
        assert view["share.isolation.level"].value == "read_uncommitted"


# --- dynamic broker configs -------------------------------------------------------------------


class TestDynamicBrokerConfigs:
    def test_layers_and_sources(self) -> None:
        static = broker({"log.retention.ms": "1000", "message.max.bytes": "2000000"})
        c = static.with_dynamic(
            {"log.retention.ms": "3000"},
            {"log.retention.ms": "2000", "min.insync.replicas": "2", "num.partitions": "9"},
        )
        assert c.log_retention_ms == 3000
        assert c.min_insync_replicas == 2
        assert c.num_partitions == 1  # read-only: cannot change at run time
        assert c.source_of("log.retention.ms") is ConfigSource.DYNAMIC_BROKER_CONFIG
        assert c.source_of("min.insync.replicas") is ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
        assert c.source_of("message.max.bytes") is ConfigSource.STATIC_BROKER_CONFIG
        assert static.log_retention_ms == 1000  # the static config is unchanged
        entry = c.describe_one("log.retention.ms")
        assert [(s.name, s.value, s.source) for s in entry.synonyms] == [
            ("log.retention.ms", "3000", ConfigSource.DYNAMIC_BROKER_CONFIG),
            ("log.retention.ms", "2000", ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG),
            ("log.retention.ms", "1000", ConfigSource.STATIC_BROKER_CONFIG),
            ("log.retention.hours", "168", ConfigSource.DEFAULT_CONFIG),
        ]

    def test_topic_view_sees_dynamic_defaults(self) -> None:
        c = broker().with_dynamic(cluster_defaults={"log.retention.ms": "259200000"})
        retention = effective_topic_config({}, c)["retention.ms"]
        assert retention.value == 259200000
        assert retention.source is ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
        assert [(s.name, s.source) for s in retention.synonyms] == [
            ("log.retention.ms", ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG),
            ("log.retention.hours", ConfigSource.DEFAULT_CONFIG),
        ]

    def test_removing_a_dynamic_config_falls_back(self) -> None:
        c = broker().with_dynamic({"log.retention.ms": "5000"})
        assert c.with_dynamic({}).log_retention_ms == 7 * 24 * 3600 * 1000
        assert c.with_dynamic({"log.retention.ms": None}).log_retention_ms == 7 * 24 * 3600 * 1000

    def test_invalid_dynamic_value(self) -> None:
        with pytest.raises(ConfigError) as info:
            broker().with_dynamic({"message.max.bytes": "big"})
        assert info.value.key == "message.max.bytes"
