"""A broker inside the calling process, for tests and tools.

    with EmbeddedBroker() as kafka:             # its own event loop, in a background thread
        producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers)

    async with EmbeddedBroker() as kafka:       # on the caller's running event loop
        ...

Ports are ephemeral and the data directory is temporary (removed on exit) unless given.
Keyword arguments are broker configs, with dots written as underscores
(`log_segment_bytes=1048576`) or passed through `config={"log.segment.bytes": ...}`.
`features={"transaction.version": 2}` formats a new data directory with those finalized feature
levels, as `pybroker format --feature` does.
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
        # An embedded broker serves tests: no initial rebalance delay, and consumer-protocol
        # members hear of assignment changes within half a second rather than five.
        "group.initial.rebalance.delay.ms": "0",
        "group.consumer.min.heartbeat.interval.ms": "100",
        "group.consumer.heartbeat.interval.ms": "500",
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


class TopicError(Exception):
    """A topic helper failed (the topic exists, a config is invalid, ...)."""


class EmbeddedBroker:
    """One pybroker node in this process."""

    def __init__(self, data_dir: str | Path | None = None, *, config: dict[str, Any] | None = None,
                 features: dict[str, int] | None = None, **kwargs: Any):
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="pybroker-"))
        self.config = BrokerConfig.from_sources({}, _overrides(self.data_dir, config, kwargs))
        self.features = dict(features or {})
        self.broker: Broker | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def bootstrap_servers(self) -> str:
        assert self.broker is not None, "the broker is not running"
        return self.broker.bootstrap_servers

    @property
    def running(self) -> bool:
        return self.broker is not None and self.broker._started and not self.broker._stopping

    @property
    def port(self) -> int:
        assert self.broker is not None
        return self.broker.bound_port()

    # --- async use, on the caller's loop ---------------------------------------------------------
    def _format_features(self) -> None:
        """Bootstrap a new cluster with the requested feature levels (a formatted directory keeps
        the levels its metadata log already has)."""
        from pybroker.metadata.bootstrap import write_bootstrap
        from pybroker.metadata.features import format_levels
        from pybroker.storage_format import read_meta

        if self.features and read_meta(self.config.metadata_log_dir) is None:
            write_bootstrap(self.config.metadata_log_dir, format_levels(self.features))

    async def start_async(self) -> "EmbeddedBroker":
        self._format_features()
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

    # --- topics ---------------------------------------------------------------------------------
    def create_topic(self, name: str, partitions: int = 1, config: dict[str, Any] | None = None, *,
                     replication_factor: int = -1) -> Any:
        """Create a topic and wait until this node leads all its partitions.

        Blocks when the broker runs on its own loop (`with EmbeddedBroker()`); returns an
        awaitable when it runs on the caller's loop (`await kafka.create_topic(...)`).
        """
        coro = self._create_topic(name, partitions, config, replication_factor)
        if self._loop is not None:
            return self.call(coro)
        return coro

    async def create_topic_async(self, name: str, partitions: int = 1, config: dict[str, Any] | None = None, *,
                                 replication_factor: int = -1) -> None:
        """`create_topic` for a broker running on the caller's loop."""
        await self._create_topic(name, partitions, config, replication_factor)

    def delete_topic(self, name: str) -> Any:
        """Delete a topic; blocks or returns an awaitable as `create_topic` does."""
        coro = self._delete_topic(name)
        if self._loop is not None:
            return self.call(coro)
        return coro

    async def _create_topic(self, name: str, partitions: int, config: dict[str, Any] | None,
                            replication_factor: int) -> None:
        from pybroker.metadata.requests import CreatableTopic, CreateTopicsRequest

        broker = self._running()
        topic = CreatableTopic(name=name, num_partitions=partitions, replication_factor=replication_factor,
                               configs={k: _text(v) for k, v in (config or {}).items()})
        (result,) = await broker.controller_call("create_topics", CreateTopicsRequest([topic]))
        if not result.error.ok:
            raise TopicError(f"cannot create topic {name!r}: {result.error.code.name}: {result.error.message}")
        # The image is applied; wait (briefly) for the local partitions to take leadership.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while loop.time() < deadline:
            if all((p := broker.replicas.get(name, i)) is not None and p.is_leader for i in range(partitions)):
                return
            await asyncio.sleep(0.001)
        raise TopicError(f"topic {name!r} was created but its partitions have no leader yet")

    async def _delete_topic(self, name: str) -> None:
        from pybroker.metadata.requests import DeleteTopicsRequest

        (result,) = await self._running().controller_call("delete_topics", DeleteTopicsRequest(names=[name]))
        if not result.error.ok:
            raise TopicError(f"cannot delete topic {name!r}: {result.error.code.name}: {result.error.message}")

    def _running(self) -> Broker:
        if self.broker is None or not self.broker._started:
            raise RuntimeError("the embedded broker is not running")
        return self.broker

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
