"""A small blocking Kafka client for the command-line tools: connections over plain sockets with
timeouts, and a cluster view (brokers, partition leaders, group coordinators) from Metadata.

It speaks to any Kafka-compatible cluster: versions come from each broker's ApiVersions.
"""

from __future__ import annotations

import socket
import time
from typing import Any, Iterable

from protocol import messages as m
from protocol.errors import ErrorCode
from pybroker.tools.protocol import API_VERSIONS, ClientProtocol, KafkaError, UnsupportedApiError, check

__all__ = ["BrokerConnection", "Cluster", "KafkaError", "UnsupportedApiError", "parse_bootstrap"]

SOFTWARE_NAME = "pybroker-tools"


def _software_version() -> str:
    from pybroker import __version__

    return __version__


def parse_bootstrap(servers: str) -> list[tuple[str, int]]:
    """'host:port,host2:port2' (IPv6 as [::1]:9092) into (host, port) pairs."""
    out = []
    for item in servers.split(","):
        item = item.strip()
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"bootstrap server {item!r} is not host:port")
        out.append((host.strip("[]") or "localhost", int(port)))
    if not out:
        raise ValueError("no bootstrap server given")
    return out


class BrokerConnection:
    """One connection to one broker; requests are answered in order."""

    def __init__(self, host: str, port: int, *, timeout: float = 10.0, client_id: str = SOFTWARE_NAME,
                 node_id: int = -1) -> None:
        self.host = host
        self.port = port
        self.node_id = node_id
        self.timeout = timeout
        self.protocol = ClientProtocol(client_id)
        self._sock: socket.socket | None = None
        self._responses: dict[int, Any] = {}

    def __repr__(self) -> str:
        return f"BrokerConnection({self.host}:{self.port}, node {self.node_id})"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    # --- lifecycle ---------------------------------------------------------------------------
    def connect(self) -> "BrokerConnection":
        """Open the socket and learn the broker's API versions."""
        if self._sock is not None:
            return self
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise ConnectionError(f"cannot connect to {self.address}: {exc}") from None
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._negotiate()
        except BaseException:
            self.close()
            raise
        return self

    def _negotiate(self) -> None:
        request = m.ApiVersionsRequest(client_software_name=SOFTWARE_NAME, client_software_version=_software_version())
        response = self.request(API_VERSIONS, request, version=3)
        if response.error_code == ErrorCode.UNSUPPORTED_VERSION:
            response = self.request(API_VERSIONS, m.ApiVersionsRequest(), version=0)
        check(response.error_code, "ApiVersions")
        self.protocol.set_broker_versions(response)

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def __enter__(self) -> "BrokerConnection":
        return self.connect()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- requests ----------------------------------------------------------------------------
    def version(self, api_key: int) -> int:
        return self.protocol.version(api_key)

    def supports(self, api_key: int) -> bool:
        return self.protocol.supports(api_key)

    def request(self, api_key: int, body: Any, *, version: int | None = None, timeout: float | None = None) -> Any:
        """Send one request and wait for its response."""
        correlation_id = self.send(api_key, body, version=version)
        return self.receive(correlation_id, timeout)

    def send(self, api_key: int, body: Any, *, version: int | None = None, expect_response: bool = True) -> int:
        if self._sock is None:
            self.connect()
        correlation_id, data = self.protocol.request(api_key, body, version, expect_response=expect_response)
        assert self._sock is not None
        try:
            self._sock.settimeout(self.timeout)
            self._sock.sendall(data)
        except OSError as exc:
            self.close()
            raise ConnectionError(f"cannot send to {self.address}: {exc}") from None
        return correlation_id

    def receive(self, correlation_id: int, timeout: float | None = None) -> Any:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while correlation_id not in self._responses:
            if self._sock is None:
                raise ConnectionError(f"connection to {self.address} is closed")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()  # the response would now arrive out of turn
                raise TimeoutError(f"no response from {self.address} in time")
            self._sock.settimeout(remaining)
            try:
                data = self._sock.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError as exc:
                self.close()
                raise ConnectionError(f"connection to {self.address} failed: {exc}") from None
            if not data:
                self.close()
                raise ConnectionError(f"{self.address} closed the connection")
            for cid, response in self.protocol.receive_data(data):
                self._responses[cid] = response
        return self._responses.pop(correlation_id)


class Cluster:
    """What the tools know of a cluster: its brokers, leaders and coordinators, with a
    connection per broker opened on first use."""

    def __init__(self, bootstrap_servers: str, *, timeout: float = 10.0, client_id: str = SOFTWARE_NAME) -> None:
        self.bootstrap = parse_bootstrap(bootstrap_servers)
        self.timeout = timeout
        self.client_id = client_id
        self.brokers: dict[int, tuple[str, int]] = {}
        self.cluster_id: str | None = None
        self.controller_id = -1
        self.topics: dict[str, Any] = {}  # name -> MetadataResponseTopic
        self._connections: dict[int, BrokerConnection] = {}
        self._bootstrap_conn: BrokerConnection | None = None

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()
        if self._bootstrap_conn is not None:
            self._bootstrap_conn.close()
            self._bootstrap_conn = None

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- connections -------------------------------------------------------------------------
    def any_connection(self) -> BrokerConnection:
        """A connection to some broker: a known one, else the first bootstrap server that answers."""
        for conn in self._connections.values():
            if conn._sock is not None:
                return conn
        if self._bootstrap_conn is not None and self._bootstrap_conn._sock is not None:
            return self._bootstrap_conn
        errors = []
        for host, port in self.bootstrap:
            conn = BrokerConnection(host, port, timeout=self.timeout, client_id=self.client_id)
            try:
                self._bootstrap_conn = conn.connect()
                return conn
            except (OSError, KafkaError) as exc:
                errors.append(str(exc))
        raise ConnectionError("; ".join(errors) or "no bootstrap server")

    def connection(self, node_id: int) -> BrokerConnection:
        conn = self._connections.get(node_id)
        if conn is not None and conn._sock is not None:
            return conn
        if node_id not in self.brokers:
            self.refresh()
        if node_id not in self.brokers:
            raise KafkaError(ErrorCode.BROKER_NOT_AVAILABLE, f"broker {node_id} is not in the cluster metadata")
        host, port = self.brokers[node_id]
        conn = BrokerConnection(host, port, timeout=self.timeout, client_id=self.client_id, node_id=node_id)
        self._connections[node_id] = conn.connect()
        return conn

    def all_connections(self) -> list[BrokerConnection]:
        if not self.brokers:
            self.refresh()
        return [self.connection(node) for node in sorted(self.brokers)]

    def admin_connection(self) -> BrokerConnection:
        """Where admin requests go: the controller Metadata names (any broker forwards them)."""
        if not self.brokers:
            self.refresh()
        if self.controller_id in self.brokers:
            try:
                return self.connection(self.controller_id)
            except (OSError, KafkaError):
                pass
        return self.any_connection()

    # --- metadata ----------------------------------------------------------------------------
    def refresh(self, topics: Iterable[str] | None = None, *, all_topics: bool = False) -> Any:
        """Fetch Metadata (all topics or the given ones) and update the cluster view."""
        conn = self.any_connection()
        if all_topics:
            wanted = None
        else:
            wanted = [m.MetadataRequest.MetadataRequestTopic(name=t) for t in (topics or ())]
        request = m.MetadataRequest(topics=wanted, allow_auto_topic_creation=False)
        response = conn.request(3, request)
        self.brokers = {b.node_id: (b.host, b.port) for b in response.brokers}
        self.cluster_id = response.cluster_id
        self.controller_id = response.controller_id
        if conn.node_id < 0:
            for node, address in self.brokers.items():
                if address == (conn.host, conn.port):
                    conn.node_id = node
                    self._connections.setdefault(node, conn)
        for topic in response.topics:
            if topic.error_code == ErrorCode.NONE:
                self.topics[topic.name] = topic
            else:
                self.topics.pop(topic.name, None)
        return response

    def topic(self, name: str, *, retries: int = 10) -> Any:
        """The metadata of one topic, waiting briefly while its leaders are being elected."""
        for attempt in range(retries):
            response = self.refresh([name])
            t = next((t for t in response.topics if t.name == name), None)
            if t is None:
                raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"topic {name!r}")
            code = ErrorCode.for_code(t.error_code)
            if code == ErrorCode.NONE and all(p.leader_id >= 0 for p in t.partitions):
                return t
            if code not in (ErrorCode.NONE, ErrorCode.LEADER_NOT_AVAILABLE):
                raise KafkaError(code, f"topic {name!r}")
            time.sleep(min(0.05 * (attempt + 1), 0.5))
        raise KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, f"topic {name!r} has partitions without a leader")

    def partitions(self, topic: str) -> list[int]:
        return sorted(p.partition_index for p in self.topic(topic).partitions)

    def leader(self, topic: str, partition: int) -> int:
        t = self.topics.get(topic) or self.topic(topic)
        for p in t.partitions:
            if p.partition_index == partition:
                if p.leader_id < 0:
                    t = self.topic(topic)
                    return next(q.leader_id for q in t.partitions if q.partition_index == partition)
                return p.leader_id
        raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"{topic}-{partition}")

    def leader_connection(self, topic: str, partition: int) -> BrokerConnection:
        return self.connection(self.leader(topic, partition))

    # --- coordinators ------------------------------------------------------------------------
    def coordinator(self, group: str, *, key_type: int = 0, deadline: float | None = None) -> BrokerConnection:
        """The connection to a group's coordinator (FindCoordinator, retried while it loads)."""
        deadline = deadline or time.monotonic() + self.timeout
        delay = 0.05
        while True:
            conn = self.any_connection()
            if not conn.supports(10):
                raise UnsupportedApiError("the broker does not serve FindCoordinator (no consumer groups)")
            version = conn.version(10)
            request = m.FindCoordinatorRequest(key=group, key_type=key_type, coordinator_keys=[group])
            response = conn.request(10, request, version=version)
            if version >= 4:
                c = response.coordinators[0]
                code, message, node, host, port = c.error_code, c.error_message, c.node_id, c.host, c.port
            else:
                code, message = response.error_code, response.error_message
                node, host, port = response.node_id, response.host, response.port
            if code == ErrorCode.NONE:
                self.brokers.setdefault(node, (host, port))
                return self.connection(node)
            if not ErrorCode.for_code(code).retriable or time.monotonic() > deadline:
                raise KafkaError(code, message or f"coordinator of group {group!r}")
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def group_request(self, group: str, api_key: int, build: Any, error_of: Any) -> Any:
        """Send a request to a group's coordinator, finding it again after NOT_COORDINATOR or
        while it loads. `build(conn)` makes the body; `error_of(response)` reads its error."""
        deadline = time.monotonic() + self.timeout
        delay = 0.05
        while True:
            conn = self.coordinator(group, deadline=deadline)
            response = conn.request(api_key, build(conn))
            code = ErrorCode.for_code(error_of(response))
            if code in (ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE,
                        ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) and time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            return response

    # --- offsets -----------------------------------------------------------------------------
    def list_offsets(self, requests: dict[tuple[str, int], int], *, isolation_level: int = 0) -> dict[tuple[str, int], int]:
        """Offsets for (topic, partition) -> timestamp (-2 earliest, -1 latest, or a time in ms);
        -1 where no record has that timestamp or later."""
        by_leader: dict[int, list[tuple[str, int, int]]] = {}
        for (topic, partition), ts in requests.items():
            by_leader.setdefault(self.leader(topic, partition), []).append((topic, partition, ts))
        out: dict[tuple[str, int], int] = {}
        for leader, items in by_leader.items():
            conn = self.connection(leader)
            topics: dict[str, Any] = {}
            for topic, partition, ts in items:
                t = topics.get(topic)
                if t is None:
                    t = topics[topic] = m.ListOffsetsRequest.ListOffsetsTopic(name=topic, partitions=[])
                t.partitions.append(m.ListOffsetsRequest.ListOffsetsPartition(partition_index=partition, timestamp=ts))
            request = m.ListOffsetsRequest(replica_id=-1, isolation_level=isolation_level,
                                           topics=list(topics.values()), timeout_ms=int(self.timeout * 1000))
            response = conn.request(2, request)
            for t in response.topics:
                for p in t.partitions:
                    check(p.error_code, f"ListOffsets {t.name}-{p.partition_index}")
                    out[(t.name, p.partition_index)] = p.offset
        return out
