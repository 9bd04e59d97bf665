"""kcat (librdkafka 2.0.2 in Debian) against a running broker: produce keyed messages with
headers under every codec, consume them back with exact keys, values, headers and timestamps."""

from __future__ import annotations

import shutil
import subprocess

import pytest

KCAT = shutil.which("kcat") or shutil.which("kafkacat")
pytestmark = pytest.mark.skipif(KCAT is None, reason="kcat is not installed")

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def kcat(broker, *args: str, input: bytes | None = None, timeout: float = 30) -> bytes:
    out = subprocess.run(
        [KCAT, "-b", broker.bootstrap_servers, *args],
        input=input, capture_output=True, timeout=timeout,
    )
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out.stdout


@pytest.mark.parametrize("codec", CODECS)
def test_produce_and_consume(broker, topic_name, codec):
    lines = b"".join(b"key%d:value-%d\n" % (i % 3, i) for i in range(100))
    # -P produce, -K key delimiter, -H a header on every message, -z codec; auto topic creation.
    kcat(broker, "-P", "-t", topic_name, "-K:", "-H", "source=kcat", "-z", codec, "-X", "linger.ms=5",
         input=lines)
    out = kcat(broker, "-C", "-t", topic_name, "-o", "beginning", "-e", "-q",
               "-f", "%p|%o|%k|%s|%h|%T\\n")
    rows = [line.split(b"|") for line in out.splitlines()]
    assert len(rows) == 100
    values = sorted(int(r[3].split(b"-")[1]) for r in rows)
    assert values == list(range(100))
    for p, o, k, s, h, ts in rows:
        i = int(s.split(b"-")[1])
        assert k == b"key%d" % (i % 3)
        assert h == b"source=kcat"
        assert int(ts) > 0
    # Per key, the order of production is kept.
    for key in (b"key0", b"key1", b"key2"):
        seq = [int(r[3].split(b"-")[1]) for r in sorted(rows, key=lambda r: (int(r[0]), int(r[1]))) if r[2] == key]
        assert seq == sorted(seq)


def test_metadata_listing(broker, topic_name):
    kcat(broker, "-P", "-t", topic_name, input=b"one\n")
    out = kcat(broker, "-L", "-t", topic_name)
    assert topic_name.encode() in out
    assert b"1 brokers" in out
