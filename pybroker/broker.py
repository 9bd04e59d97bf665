"""The broker process assembled: storage, the metadata quorum, partitions, handlers, listeners.

`Broker(config)` runs on the caller's event loop: `await broker.start()` formats and loads
the log directories, starts the metadata quorum (one voter in a single-node cluster),
registers this node, and serves; `await broker.stop()` shuts down cleanly (checkpoints and the
clean-shutdown marker), so the next start opens every log without scanning it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any, Callable

from protocol.errors import ErrorCode
from pybroker.config import BrokerConfig, effective_topic_config
from pybroker.fetch_sessions import FetchSessionCache
from pybroker.handlers import broker_handlers
from pybroker.handlers.api_versions import handle_api_versions
from pybroker.handlers.quorum import handle_describe_quorum
from pybroker.metadata import features as feature_levels
from pybroker.metadata.image import Endpoint, SecurityProtocol
from pybroker.metadata.requests import CreatableTopic, CreateTopicsRequest
from pybroker.producer_ids import ProducerIdManager
from pybroker.replica_manager import ReplicaManager
from pybroker.stats import BrokerStats
from pybroker.server import ApiHandler, BoundListener, Dispatcher, start_listener
from pybroker.storage_format import ensure_formatted
from storage.log_manager import LogManager

log = logging.getLogger("pybroker.broker")

_LEGAL_TOPIC = re.compile(r"[a-zA-Z0-9._-]+")
MAX_TOPIC_NAME = 249


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Broker:
    """One pybroker node (broker and controller roles)."""

    def __init__(self, config: BrokerConfig, *, clock_ms: Callable[[], int] = wall_clock_ms) -> None:
        self.config = config
        # The config from the properties file and overrides; `config` adds dynamic broker
        # configs (AlterConfigs on this broker or on the cluster default) from the metadata log.
        self.static_config = config
        self._dynamic_key: tuple = ((), ())
        self.clock_ms = clock_ms
        self.node_id: int = config.node_id
        self.cluster_id: str | None = None
        self.incarnation_id = uuid.uuid4()
        self.logs: LogManager | None = None
        self.metadata: Any = None
        self.replicas: ReplicaManager | None = None
        self.fetch_sessions = FetchSessionCache(config.get("max.incremental.fetch.session.cache.slots"))
        self.stats = BrokerStats()
        self.metrics: Any = None  # the Prometheus endpoint, when pybroker.metrics.port is set
        self.dispatcher = Dispatcher(self, broker_handlers(config))
        # The controller listener: ApiVersions, and DescribeQuorum for
        # `kafka-metadata-quorum --bootstrap-controller`.
        self.controller_dispatcher = Dispatcher(self, {
            18: ApiHandler(18, 0, 4, handle_api_versions),
            55: ApiHandler(55, 0, 2, handle_describe_quorum),
        })
        self.listeners: dict[str, BoundListener] = {}
        self.producer_ids = ProducerIdManager(self._allocate_producer_ids)
        # Coordinator runtimes by FindCoordinator key type (0 groups, 1 transactions).
        self.coordinators: dict[int, Any] = {}
        self.transactions: Any = None  # the TransactionCoordinator (pybroker.transactions)
        self.broker_epoch = -1
        self._log_configs: dict[tuple, Any] = {}
        self._tasks: list[asyncio.Task] = []
        self._started = False
        self._stopping = False

    # --- what handlers read ------------------------------------------------------------------------
    @property
    def image(self) -> Any:
        return self.metadata.image

    def advertised_apis(self) -> dict[int, tuple[int, int]]:
        return {key: h.advertised_range for key, h in self.dispatcher.handlers.items()}

    def features(self) -> tuple[dict[str, tuple[int, int]], dict[str, int], int]:
        """(supported ranges, finalized levels, finalized epoch) for ApiVersions."""
        image = self.image
        finalized = dict(image.features) if image is not None else {}
        epoch = image.offset if image is not None and image.offset >= 0 else -1
        return dict(feature_levels.SUPPORTED_FEATURES), finalized, epoch

    @staticmethod
    def valid_topic_name(name: str | None) -> bool:
        return bool(
            name and len(name) <= MAX_TOPIC_NAME and name not in (".", "..") and _LEGAL_TOPIC.fullmatch(name)
        )

    def log_config_for(self, topic: str) -> Any:
        overrides = self.image.topic_config(topic) if self.metadata is not None else {}
        # Topics with the same overrides share one LogConfig: working it out costs ~0.6 ms,
        # which a thousand partitions at start-up would pay a thousand times.
        key = tuple(sorted(overrides.items()))
        config = self._log_configs.get(key)
        if config is None:
            if len(self._log_configs) > 4096:
                self._log_configs.clear()
            config = self._log_configs[key] = effective_topic_config(overrides, self.config).log_config()
        return config

    def bound_port(self, listener: str | None = None) -> int:
        name = listener or self.config.broker_listeners[0].name
        return self.listeners[name].port

    def endpoint_of(self, broker_id: int) -> Any:
        """Where to reach another broker: its registered endpoint on the first of this node's
        broker listeners it has. ConnectionError when it has none."""
        reg = self.image.broker(broker_id)
        if reg is not None:
            for listener in self.config.broker_listeners:
                endpoint = reg.endpoint(listener.name)
                if endpoint is not None:
                    return endpoint
        raise ConnectionError(f"broker {broker_id} has no reachable endpoint")

    def controller_endpoints(self) -> list[tuple[str, str, int]]:
        """(listener name, advertised host, port) of this node's controller listeners, with the
        bound port where the config asked for any free one."""
        out = []
        for listener in self.config.advertised_controller_listeners:
            bound = self.listeners.get(listener.name)
            port = bound.port if listener.port == 0 and bound is not None else listener.port
            out.append((listener.name, listener.advertised_host, port))
        return out

    @property
    def bootstrap_servers(self) -> str:
        l = self.config.broker_listeners[0]
        host = l.advertised_host if l.host else "localhost"
        return f"{host}:{self.bound_port(l.name)}"

    # --- controller access -----------------------------------------------------------------------
    async def controller_call(self, method: str, *args: Any) -> Any:
        """Run a controller operation; returns once its records are applied to the local image."""
        return await getattr(self.metadata.controller, method)(*args)

    async def auto_create_topics(self, names: list[str]) -> dict[str, int]:
        topics = [CreatableTopic(name=n) for n in names if self.valid_topic_name(n)]
        results = {n: ErrorCode.INVALID_TOPIC_EXCEPTION for n in names if not self.valid_topic_name(n)}
        if topics:
            for r in await self.controller_call("create_topics", CreateTopicsRequest(topics)):
                results[r.name] = r.error.code
                if r.error.ok:
                    log.info("auto-created topic %s", r.name)
        return results

    async def _allocate_producer_ids(self) -> Any:
        return await self.controller_call("allocate_producer_ids", self.node_id, self.broker_epoch)

    def _start_coordinators(self) -> None:
        from pybroker.coordinator import CoordinatorRuntime

        def group_shard(partition: int) -> Any:
            # Imported on first use: a broker that never sees a group pays nothing for it.
            from pybroker.groups.shard import GroupCoordinatorShard

            return GroupCoordinatorShard(partition, cfg, lambda: self.image)

        cfg = self.config
        groups = CoordinatorRuntime(
            self,
            "__consumer_offsets",
            cfg.get("offsets.topic.num.partitions"),
            cfg.get("offsets.topic.replication.factor"),
            {
                "cleanup.policy": "compact",
                "compression.type": "producer",
                "segment.bytes": str(cfg.get("offsets.topic.segment.bytes")),
            },
            group_shard,
        )
        self.add_coordinator(0, groups)
        from pybroker.transactions.coordinator import TransactionCoordinator

        self.transactions = TransactionCoordinator(self)
        self.add_coordinator(1, self.transactions.runtime)

    def add_coordinator(self, key_type: int, runtime: Any) -> None:
        """Register a coordinator runtime; it loads the shards this node already leads."""
        self.coordinators[key_type] = runtime
        if self.metadata is not None:
            runtime.on_metadata(self.image)

    # --- hooks filled in by coordinators ---------------------------------------------------------
    def check_transactional_produce(self, ctx: Any, transactional_id: str, partition: Any, records: Any) -> None:
        """KIP-890 verification of a transactional append (PartitionError when it fails)."""
        if self.transactions is not None:
            self.transactions.check_produce(ctx, transactional_id, partition, records)

    async def init_transactional_producer(self, ctx: Any, request: Any) -> Any:
        from pybroker.handlers.transactions import init_transactional_producer

        return await init_transactional_producer(ctx, request)

    def handle_replica_fetch(self, ctx: Any, request: Any, replica_id: int) -> Any:
        from protocol.messages import FetchResponse

        return FetchResponse(error_code=ErrorCode.NOT_LEADER_OR_FOLLOWER, responses=[])

    # --- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        from pybroker.metadata import start_metadata

        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        cfg = self.config
        dirs = list(dict.fromkeys([*cfg.log_dirs, cfg.metadata_log_dir]))
        self.cluster_id = ensure_formatted(dirs, self.node_id)
        self.logs = LogManager(
            cfg.log_dirs,
            clock=self.clock_ms,
            topic_config=self.log_config_for,
            producer_id_expiration_ms=cfg.get("producer.id.expiration.ms"),
        )
        await loop.run_in_executor(None, self.logs.startup)
        self.replicas = ReplicaManager(self.node_id, _LogAccess(self.logs), self.clock_ms)
        # Bind before registering: the registration carries the real ports (0 means any free one).
        for listener in cfg.broker_listeners:
            self.listeners[listener.name] = await start_listener(
                self.dispatcher, listener.name, listener.bind_host, listener.port,
                max_request_size=cfg.get("socket.request.max.bytes"),
                send_buffer=cfg.get("socket.send.buffer.bytes"),
                receive_buffer=cfg.get("socket.receive.buffer.bytes"),
            )
        if cfg.is_controller:
            for listener in cfg.controller_listeners:
                self.listeners[listener.name] = await start_listener(
                    self.controller_dispatcher, listener.name, listener.bind_host, listener.port,
                    max_request_size=cfg.get("socket.request.max.bytes"),
                )
        self.metadata = await start_metadata(
            node_id=self.node_id,
            cluster_id=self.cluster_id,
            metadata_dir=cfg.metadata_log_dir,
            voters=[v.node_id for v in cfg.quorum_voters] or [self.node_id],
            broker_config=cfg,
            clock=self.clock_ms,
        )
        self.metadata.add_publisher(self._publish)
        self._start_coordinators()
        await self._register()
        for bound in self.listeners.values():
            await bound.server.start_serving()
        self._started = True
        self._tasks = [
            asyncio.ensure_future(self._every(cfg.get("log.retention.check.interval.ms"), self._retention)),
            asyncio.ensure_future(self._every(cfg.get("log.flush.offset.checkpoint.interval.ms"), self._checkpoint)),
            asyncio.ensure_future(self._every(min(cfg.get("log.flush.scheduler.interval.ms"), 60_000), self._flush_due)),
            asyncio.ensure_future(self._every(max(1000, min(cfg.get("connections.max.idle.ms") // 10, 30_000)),
                                              self._close_idle)),
        ]
        if cfg.get("log.cleaner.enable"):
            self.logs.start_cleaner(backoff_ms=cfg.get("log.cleaner.backoff.ms"))
        if cfg.get("pybroker.metrics.port") is not None:
            from pybroker.metrics import start_metrics

            self.metrics = start_metrics(self)
        names = ", ".join(f"{l.name}://{l.host or '0.0.0.0'}:{self.listeners[l.name].port}" for l in cfg.listeners)
        log.info("pybroker node %d of cluster %s listening on %s (started in %.0f ms)",
                 self.node_id, self.cluster_id, names, (time.perf_counter() - t0) * 1000)

    async def _register(self) -> None:
        """Register with the controller (with the bound ports) and wait to be unfenced."""
        endpoints = []
        protocol_map = self.config.listener_security_protocol_map
        for listener in self.config.advertised_listeners:
            port = self.listeners[listener.name].port if listener.port == 0 else listener.port
            proto = protocol_map.get(listener.name, "PLAINTEXT")
            endpoints.append(Endpoint(listener.name, listener.advertised_host, port,
                                      int(SecurityProtocol[proto])))
        await self.metadata.register_broker(
            endpoints, rack=self.config.get("broker.rack"), incarnation_id=self.incarnation_id
        )
        self.broker_epoch = self.metadata.broker_epoch

    def _publish(self, delta: Any, image: Any) -> None:
        """Apply each new metadata image to the local partitions, then to the coordinators
        (which load the shards of internal-topic partitions this node now leads)."""
        dynamic_changed = self._apply_dynamic_config(image)
        if self.replicas is not None:
            self.replicas.apply_image(image, self.log_config_for)
            if dynamic_changed:
                # Broker-level defaults (log.retention.ms, ...) reach every topic's log.
                for topic in {name for name, _ in self.replicas.partitions}:
                    self.replicas.update_log_config(topic, self.log_config_for(topic))
            elif delta is not None:
                for topic in getattr(delta, "changed_topic_configs", ()):
                    self.replicas.update_log_config(topic, self.log_config_for(topic))
        for runtime in self.coordinators.values():
            runtime.on_metadata(image)

    def _apply_dynamic_config(self, image: Any) -> bool:
        """Rebuild `config` when this broker's dynamic configs change; True if they did."""
        per_broker = image.broker_config(self.node_id)
        cluster = image.broker_config(None)
        key = (tuple(sorted(per_broker.items())), tuple(sorted(cluster.items())))
        if key == self._dynamic_key:
            return False
        self._dynamic_key = key
        try:
            self.config = self.static_config.with_dynamic(per_broker, cluster)
        except Exception as exc:  # a value the controller accepted but this version rejects
            log.error("ignoring dynamic broker configs: %s", exc)
            return False
        self._log_configs.clear()
        log.info("dynamic broker configs now %s (cluster default %s)", dict(per_broker), dict(cluster))
        return True

    async def _every(self, interval_ms: int, fn: Callable[[], Any]) -> None:
        interval = max(interval_ms, 10) / 1000
        while True:
            await asyncio.sleep(interval)
            try:
                result = fn()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("periodic task %s failed", getattr(fn, "__name__", fn))

    def _retention(self) -> None:
        deleted = self.logs.run_retention(self.clock_ms())
        if deleted:
            log.info("retention deleted %d segments", deleted)

    async def _checkpoint(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.logs.write_checkpoints)

    async def _flush_due(self) -> None:
        loop = asyncio.get_running_loop()
        for log_obj in self.logs.flush_due_logs(self.clock_ms()):
            await loop.run_in_executor(None, log_obj.flush)

    def _close_idle(self) -> None:
        limit = self.config.get("connections.max.idle.ms") / 1000
        now = time.monotonic()
        for dispatcher in (self.dispatcher, self.controller_dispatcher):
            for conn in list(dispatcher.connections):
                if now - conn.last_active > limit:
                    log.info("closing idle connection from %s", conn.peer)
                    conn.close()

    async def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        if self.metrics is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.metrics.close)
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        for bound in self.listeners.values():
            bound.server.close()
        for dispatcher in (self.dispatcher, self.controller_dispatcher):
            for conn in list(dispatcher.connections):
                conn.abort()
        for bound in self.listeners.values():
            try:
                await asyncio.wait_for(bound.server.wait_closed(), 2)
            except asyncio.TimeoutError:
                pass
        for runtime in self.coordinators.values():
            runtime.close()
        if self.transactions is not None:
            self.transactions.close()
        if self.replicas is not None:
            for partition in list(self.replicas.partitions.values()):
                partition.wake()
        if self.metadata is not None:
            await self.metadata.close()
        if self.logs is not None:
            self.logs.stop_cleaner()
            await asyncio.get_running_loop().run_in_executor(None, self.logs.close)
        log.info("pybroker node %d stopped", self.node_id)


class _LogAccess:
    """The log-manager calls the replica manager makes, with topic ids checked on disk."""

    def __init__(self, logs: LogManager) -> None:
        self.logs = logs

    def get_or_create(self, topic: str, index: int, topic_id: uuid.UUID, config: Any) -> Any:
        return self.logs.get_or_create_log(topic, index, config)

    def delete(self, topic: str, index: int) -> None:
        self.logs.delete_log(topic, index)
