"""Sarama (Go, Debian's golang-github-shopify-sarama-dev) against a running broker: admin topic
creation, a synchronous producer with keys, headers and every codec, and a consumer group that
reads everything back and commits its offsets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "go" / "sarama_client.go"
GOPATH = "/usr/share/gocode"
GO = shutil.which("go")

pytestmark = pytest.mark.skipif(
    GO is None or not Path(GOPATH, "src/github.com/Shopify/sarama").is_dir(),
    reason="go or Sarama is not installed (tests/run.sh installs Debian's packages where apt-get works)",
)


@pytest.fixture(scope="module")
def sarama_client(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("go") / "sarama_client"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH,
           "GOCACHE": str(tmp_path_factory.mktemp("gocache")), "GOFLAGS": ""}
    build = subprocess.run([GO, "build", "-o", str(out), str(SOURCE)], capture_output=True, text=True,
                           timeout=300, env=env)
    assert build.returncode == 0, build.stderr
    return out


def test_sarama_produce_and_consumer_group(broker, topic_name, sarama_client):
    run = subprocess.run([str(sarama_client), broker.bootstrap_servers, topic_name],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    received = result["received"]
    assert result["sent"] == 100
    assert sorted(int(r["value"][1:]) for r in received) == list(range(100))
    for r in received:
        n = int(r["value"][1:])
        assert r["key"] == f"k{n % 4}" and r["headers"] == {"n": str(n)}
    for k in range(4):
        seq = [int(r["value"][1:]) for r in sorted(received, key=lambda r: (r["partition"], r["offset"]))
               if r["key"] == f"k{k}"]
        assert seq == sorted(seq)

    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
    group = f"{topic_name}-group"
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic_name, p) for p in range(3)])
    offsets = admin.list_consumer_group_offsets([request])[group].result(15)
    ends = {p: sum(1 for r in received if r["partition"] == p) for p in range(3)}
    assert {tp.partition: tp.offset for tp in offsets.topic_partitions} == ends
