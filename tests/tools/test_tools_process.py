"""A broker process as an operator runs it: request logging switched on from the command line,
the metrics endpoint from a config override, the tools and the health check against it, and a
clean SIGTERM shutdown that the health check notices."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pybroker(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pybroker", *args], input=input, capture_output=True, text=True,
                          timeout=60)


def test_broker_process_with_request_log_metrics_and_tools(tmp_path):
    port, cport, mport = free_port(), free_port(), free_port()
    cmd = [sys.executable, "-m", "pybroker", "--request-log",
           "--override", f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
           "--override", f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
           "--override", f"controller.quorum.voters=1@127.0.0.1:{cport}",
           "--override", f"log.dirs={tmp_path}",
           "--override", f"pybroker.metrics.port={mport}",
           "--override", "pybroker.metrics.host=127.0.0.1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("pybroker listening on PLAINTEXT"):
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    bs = f"127.0.0.1:{port}"
    try:
        assert ready.wait(30), "".join(lines)
        assert pybroker("health", "--bootstrap-server", bs).returncode == 0
        assert pybroker("topics", "--bootstrap-server", bs, "--create", "--topic", "ops",
                        "--partitions", "2").stdout == "Created topic ops.\n"
        assert pybroker("produce", "--bootstrap-server", bs, "--topic", "ops", input="a\nb\nc\n").returncode == 0
        out = pybroker("consume", "--bootstrap-server", bs, "--topic", "ops", "--from-beginning",
                       "--max-messages", "3", "--timeout-ms", "5000")
        assert sorted(out.stdout.split()) == ["a", "b", "c"]

        with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=10) as response:
            text = response.read().decode()
        assert 'pybroker_topic_messages_in_total{topic="ops"} 3.0' in text
        assert "process_cpu_seconds_total" in text

        log = "".join(lines)
        # One DEBUG line per request, from the pybroker.request logger.
        assert "DEBUG" in log and "-> api 18 v" in log and "(pybroker.request)" in log
        assert "metrics endpoint on http://127.0.0.1:" in log

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert "stopped" in "".join(lines)
        failed = pybroker("health", "--bootstrap-server", bs, "--timeout", "1")
        assert failed.returncode == 1 and "unhealthy" in failed.stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_health_waits_for_a_starting_broker(tmp_path):
    port, cport = free_port(), free_port()
    cmd = [sys.executable, "-m", "pybroker", "--log-level", "WARNING",
           "--override", f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
           "--override", f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
           "--override", f"controller.quorum.voters=1@127.0.0.1:{cport}",
           "--override", f"log.dirs={tmp_path}"]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result = pybroker("health", "--bootstrap-server", f"127.0.0.1:{port}", "--wait", "30", "-q")
        assert result.returncode == 0, result.stderr
        assert time.monotonic() - t0 < 30
    finally:
        proc.terminate()
        proc.wait(30)
