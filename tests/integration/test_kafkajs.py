"""kafkajs (Node.js) against a running broker: admin, idempotent produce with keys, headers and
gzip, a consumer group from the beginning with read_committed, committed offsets, and a
committed and an aborted transaction."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parents[1] / "js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None or not (JS / "node_modules" / "kafkajs").is_dir(),
    reason="node or kafkajs is not installed (tests/run.sh installs kafkajs where npm exists)",
)


def test_kafkajs_round_trip(broker, topic_name):
    out = subprocess.run(
        [NODE, str(JS / "kafkajs_client.js"), broker.bootstrap_servers, topic_name],
        capture_output=True, text=True, timeout=90,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["partitions"] == 3
    received = result["received"]
    values = sorted(r["value"] for r in received)
    # Every produced record once, the committed transaction's record, never the aborted one.
    assert values == sorted([f"v{n}" for n in range(100)] + ["committed"])
    for r in received:
        if r["value"].startswith("v"):
            n = int(r["value"][1:])
            assert r["key"] == f"k{n % 5}" and r["headers"] == {"n": str(n)}
    # Per key, production order is kept.
    for k in range(5):
        seq = [int(r["value"][1:]) for r in received if r["key"] == f"k{k}"]
        assert seq == sorted(seq)
    committed = sum(int(p["offset"]) for t in result["offsets"] for p in t["partitions"])
    assert committed >= 101
