"""A broker run as a real `python -m pybroker` process, for tests that kill and restart it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrokerProcess:
    """Start, stop, kill -9 and restart one broker process on fixed loopback ports."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.controller_port = free_port()
        self.extra = list(extra)
        self.proc: subprocess.Popen | None = None
        self.output: list[str] = []

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def args(self) -> list[str]:
        overrides = {
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "log.dirs": str(self.data_dir),
            "group.initial.rebalance.delay.ms": "0",
        }
        out = [sys.executable, "-m", "pybroker"]
        for k, v in overrides.items():
            out += ["--override", f"{k}={v}"]
        for o in self.extra:
            out += ["--override", o]
        return out

    def start(self, timeout: float = 30.0) -> float:
        """Start the process and wait until it listens; return the seconds it took."""
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            self.args(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        ready = threading.Event()

        def pump(proc: subprocess.Popen) -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                self.output.append(line)
                if line.startswith("pybroker listening on PLAINTEXT"):
                    ready.set()

        threading.Thread(target=pump, args=(self.proc,), daemon=True).start()
        while not ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() - t0 > timeout:
                self.kill()
                raise RuntimeError("broker did not start:\n" + "".join(self.output[-50:]))
        return time.monotonic() - t0

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; return the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def __enter__(self) -> "BrokerProcess":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
