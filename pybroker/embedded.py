"""A broker inside the calling process, for tests and tools.

    with EmbeddedBroker() as kafka:             # its own event loop, in a background thread
        producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers)

    async with EmbeddedBroker() as kafka:       # on the caller's running event loop
        ...

Ports are ephemeral and the data directory is temporary (removed on exit) unless given.
Keyword arguments are broker configs, with dots written as underscores
(`log_segment_bytes=1048576`) or passed through `config={"log.segment.bytes": ...}`.
Starting one touches neither the global event loop policy nor signal handlers.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from pybroker.broker import Broker
from pybroker.config import BrokerConfig


def _overrides(data_dir: Path, config: dict[str, Any] | None, kwargs: dict[str, Any]) -> dict[str, str]:
    merged: dict[str, str] = {
        "node.id": "1",
        "process.roles": "broker,controller",
        "listeners": "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
        "advertised.listeners": "PLAINTEXT://127.0.0.1:0",
        "controller.listener.names": "CONTROLLER",
        "controller.quorum.voters": "1@127.0.0.1:0",
        "log.dirs": str(data_dir),
        # An embedded broker serves one test process: a small initial rebalance delay.
        "group.initial.rebalance.delay.ms": "0",
    }
    for key, value in (config or {}).items():
        merged[key] = _text(value)
    for key, value in kwargs.items():
        merged[key.replace("_", ".")] = _text(value)
    return merged


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


class EmbeddedBroker:
    """One pybroker node in this process."""

    def __init__(self, data_dir: str | Path | None = None, *, config: dict[str, Any] | None = None, **kwargs: Any):
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="pybroker-"))
        self.config = BrokerConfig.from_sources({}, _overrides(self.data_dir, config, kwargs))
        self.broker: Broker | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def bootstrap_servers(self) -> str:
        assert self.broker is not None, "the broker is not running"
        return self.broker.bootstrap_servers

    @property
    def port(self) -> int:
        assert self.broker is not None
        return self.broker.bound_port()

    # --- async use, on the caller's loop ---------------------------------------------------------
    async def start_async(self) -> "EmbeddedBroker":
        self.broker = Broker(self.config)
        try:
            await self.broker.start()
        except BaseException:
            await self.broker.stop()
            raise
        return self

    async def stop_async(self) -> None:
        if self.broker is not None:
            await self.broker.stop()
        self._cleanup()

    async def __aenter__(self) -> "EmbeddedBroker":
        return await self.start_async()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop_async()

    # --- sync use, on a loop of its own --------------------------------------------------------------
    def start(self) -> "EmbeddedBroker":
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                import uvloop

                loop = uvloop.new_event_loop()
            except ImportError:
                loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="pybroker-embedded", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._cleanup()
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self.broker.stop(), loop)  # type: ignore[union-attr]
            try:
                future.result(timeout=30)
            finally:
                loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        self._loop = self._thread = None
        self._cleanup()

    def call(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the broker's loop (sync mode) and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _cleanup(self) -> None:
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
