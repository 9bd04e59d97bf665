"""The command-line tools against a broker: topics, produce, consume, health, and the client
pieces they stand on (version choice, the partitioner, the line reader and formatter)."""

from __future__ import annotations

import io
import socket
import subprocess
import sys

import pytest

from pybroker.cli import main
from pybroker.tools.client import Cluster, parse_bootstrap
from pybroker.tools.consume import Formatter
from pybroker.tools.consumer import ConsumedRecord, range_assign
from pybroker.tools.produce import LineReader
from pybroker.tools.producer import murmur2, partition_for_key
from pybroker.tools.protocol import ClientProtocol


def tool(capsys, *argv: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def bs(broker) -> str:
    return broker.bootstrap_servers


# --- pieces ------------------------------------------------------------------------------------

def test_murmur2_matches_kafka():
    # Values from Kafka's UtilsTest / kafka-python.
    assert murmur2(b"21") == -973932308
    assert murmur2(b"foobar") == -790332482
    assert murmur2(b"a-little-bit-long-string") == -985981536
    assert murmur2(b"") == 275646681
    assert partition_for_key(b"foobar", 7) == (-790332482 & 0x7FFFFFFF) % 7


def test_parse_bootstrap():
    assert parse_bootstrap("a:1, b:2") == [("a", 1), ("b", 2)]
    assert parse_bootstrap("[::1]:9092") == [("::1", 9092)]
    with pytest.raises(ValueError):
        parse_bootstrap("nohostport")


def test_version_choice_is_the_highest_common():
    p = ClientProtocol()
    p.versions = {3: (0, 13), 0: (3, 13), 1: (20, 30)}
    assert p.version(3) == 12  # the tools fill Metadata up to v12
    assert p.version(0) == 12
    assert not p.supports(1)  # nothing in common
    assert not p.supports(11)  # not served


def test_line_reader_keys_headers_and_null_marker():
    r = LineReader(parse_key=True, key_separator=":", parse_headers=True, null_marker="<null>")
    rec = r.parse("a:1,b\tk:v:w")
    assert rec.headers == [("a", b"1"), ("b", None)]
    assert (rec.key, rec.value) == (b"k", b"v:w")
    rec = r.parse("\t<null>:<null>")
    assert (rec.key, rec.value, list(rec.headers)) == (None, None, [])


def test_formatter_matches_kafkas_default_order():
    f = Formatter(print_timestamp=True, print_partition=True, print_offset=True, print_headers=True, print_key=True)
    r = ConsumedRecord("t", 2, 7, 1000, 0, None, b"v", [("h", b"x"), ("n", None)])
    assert f.format(r) == "CreateTime:1000\tPartition:2\tOffset:7\th:x,n:null\tnull\tv\n"
    assert Formatter().format(r) == "v\n"


def test_range_assignor():
    plan = range_assign({"m2": ["t"], "m1": ["t"], "m3": ["t", "u"]}, {"t": 7, "u": 2})
    assert plan["m1"] == {"t": [0, 1, 2]}
    assert plan["m2"] == {"t": [3, 4]}
    assert plan["m3"] == {"t": [5, 6], "u": [0, 1]}


# --- topics --------------------------------------------------------------------------------------

def test_topics_create_list_describe_alter_delete(capsys, bs, topic_name):
    code, out, _ = tool(capsys, "topics", "--bootstrap-server", bs, "--create", "--topic", topic_name,
                        "--partitions", "3", "--replication-factor", "1", "--config", "retention.ms=123456")
    assert code == 0 and out == f"Created topic {topic_name}.\n"

    code, _, err = tool(capsys, "topics", "--bootstrap-server", bs, "--create", "--topic", topic_name)
    assert code == 1 and "already exists" in err
    assert tool(capsys, "topics", "--bootstrap-server", bs, "--create", "--topic", topic_name,
                "--if-not-exists")[0] == 0

    code, out, _ = tool(capsys, "topics", "--bootstrap-server", bs, "--list")
    assert topic_name in out.splitlines()

    code, out, _ = tool(capsys, "topics", "--bootstrap-server", bs, "--describe", "--topic", topic_name)
    lines = out.splitlines()
    assert lines[0].startswith(f"Topic: {topic_name}\tTopicId: ")
    assert "\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: " in lines[0]
    assert "retention.ms=123456" in lines[0]
    assert lines[1:] == [f"\tTopic: {topic_name}\tPartition: {p}\tLeader: 1\tReplicas: 1\tIsr: 1" for p in range(3)]

    code, out, _ = tool(capsys, "topics", "--bootstrap-server", bs, "--alter", "--topic", topic_name,
                        "--config", "cleanup.policy=compact", "--delete-config", "retention.ms")
    assert code == 0 and out == f"Completed updating config for topic {topic_name}.\n"
    assert tool(capsys, "topics", "--bootstrap-server", bs, "--alter", "--topic", topic_name,
                "--partitions", "5")[0] == 0
    code, out, _ = tool(capsys, "topics", "--bootstrap-server", bs, "--describe", "--topic", topic_name)
    first = out.splitlines()[0]
    assert "PartitionCount: 5" in first and "cleanup.policy=compact" in first and "retention.ms" not in first

    assert tool(capsys, "topics", "--bootstrap-server", bs, "--delete", "--topic", topic_name)[0] == 0
    code, out, _ = tool(capsys, "topics", "--bootstrap-server", bs, "--list")
    assert topic_name not in out.splitlines()
    code, _, err = tool(capsys, "topics", "--bootstrap-server", bs, "--describe", "--topic", topic_name)
    assert code == 1 and "does not exist" in err


def test_topics_needs_one_action(capsys, bs):
    code, _, err = tool(capsys, "topics", "--bootstrap-server", bs)
    assert code == 1 and "exactly one of" in err


# --- produce and consume -----------------------------------------------------------------------

def test_produce_then_consume_with_keys_headers_and_compression(capsys, monkeypatch, broker, bs, topic_name):
    broker.create_topic(topic_name, partitions=2)
    lines = "".join(f"h{i}:v{i}\tkey{i}:value {i}\n" for i in range(20))
    code, _, err = tool(capsys, "produce", "--bootstrap-server", bs, "--topic", topic_name,
                        "--property", "parse.key=true", "--property", "key.separator=:",
                        "--property", "parse.headers=true", "--compression-codec", "zstd", "--acks", "1",
                        stdin=lines, monkeypatch=monkeypatch)
    assert code == 0, err

    code, out, err = tool(capsys, "consume", "--bootstrap-server", bs, "--topic", topic_name,
                          "--from-beginning", "--max-messages", "20", "--timeout-ms", "5000",
                          "--property", "print.key=true", "--property", "print.partition=true",
                          "--property", "print.offset=true", "--property", "print.headers=true",
                          "--property", "print.timestamp=true")
    assert code == 0
    assert err.strip().endswith("Processed a total of 20 messages")
    rows = [line.split("\t") for line in out.splitlines()]
    assert len(rows) == 20
    seen = {}
    for ts, part, off, headers, key, value in rows:
        assert ts.startswith("CreateTime:")
        i = int(key[3:])
        assert headers == f"h{i}:v{i}" and value == f"value {i}"
        p = int(part.split(":")[1])
        assert p == partition_for_key(key.encode(), 2)  # Kafka's default partitioner
        seen.setdefault(p, []).append(int(off.split(":")[1]))
    for offsets in seen.values():
        assert offsets == list(range(len(offsets)))

    # One partition from an offset.
    p = next(iter(seen))
    code, out, _ = tool(capsys, "consume", "--bootstrap-server", bs, "--topic", topic_name, "--partition", str(p),
                        "--offset", "1", "--timeout-ms", "300")
    assert code == 0 and len(out.splitlines()) == len(seen[p]) - 1


def test_consume_from_latest_sees_nothing_old(capsys, monkeypatch, broker, bs, topic_name):
    broker.create_topic(topic_name)
    tool(capsys, "produce", "--bootstrap-server", bs, "--topic", topic_name, stdin="a\nb\n", monkeypatch=monkeypatch)
    code, out, err = tool(capsys, "consume", "--bootstrap-server", bs, "--topic", topic_name, "--timeout-ms", "200")
    assert code == 0 and out == "" and "Processed a total of 0 messages" in err


def test_produce_to_a_missing_topic_fails(capsys, monkeypatch, bs, topic_name):
    code, _, err = tool(capsys, "produce", "--bootstrap-server", bs, "--topic", topic_name, stdin="x\n",
                        monkeypatch=monkeypatch)
    assert code == 1 and topic_name in err


# --- health --------------------------------------------------------------------------------------

def test_health(capsys, bs):
    code, out, _ = tool(capsys, "health", "--bootstrap-server", bs)
    assert code == 0 and "is up" in out
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = tool(capsys, "health", "--bootstrap-server", f"127.0.0.1:{port}", "--timeout", "1")
    assert code == 1 and "unhealthy" in err


def test_health_as_a_command(bs):
    """The installed entry point: what a script or a readiness probe runs."""
    proc = subprocess.run([sys.executable, "-m", "pybroker", "health", "--bootstrap-server", bs, "-q"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == ""


def test_cluster_routes_to_leaders(broker, topic_name):
    broker.create_topic(topic_name, partitions=3)
    with Cluster(broker.bootstrap_servers) as cluster:
        assert cluster.partitions(topic_name) == [0, 1, 2]
        assert cluster.leader(topic_name, 1) == 1
        ends = cluster.list_offsets({(topic_name, p): -1 for p in range(3)})
        assert ends == {(topic_name, p): 0 for p in range(3)}
