"""Bad input: truncated frames, oversized lengths, unknown API keys and versions, random bytes.
The broker answers or closes that connection and keeps serving a well-behaved client."""

from __future__ import annotations

import random
import socket
import struct
import threading
import time


from protocol import messages
from protocol.errors import ErrorCode
from protocol.headers import RequestHeader, request_header_codec
from protocol.messages import ApiVersionsRequest, MetadataRequest


def connect(broker) -> socket.socket:
    host, port = broker.bootstrap_servers.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=5)
    s.settimeout(5)
    return s


def request_bytes(api_key: int, version: int, body, correlation_id: int = 1) -> bytes:
    codec = messages.request_codec(api_key, version)
    header_version = 2 if codec.flexible else 1
    header = request_header_codec(header_version).encode(
        RequestHeader(request_api_key=api_key, request_api_version=version, correlation_id=correlation_id,
                      client_id="bad-input-test")
    )
    payload = header + codec.encode(body)
    return struct.pack(">i", len(payload)) + payload


def read_frame(s: socket.socket) -> bytes:
    def exactly(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf

    (size,) = struct.unpack(">i", exactly(4))
    return exactly(size)


def closed_by_broker(s: socket.socket, timeout: float = 5) -> bool:
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def assert_healthy(broker) -> None:
    """A well-behaved client still gets answers."""
    with connect(broker) as s:
        s.sendall(request_bytes(3, 12, MetadataRequest(topics=None), correlation_id=99))
        frame = read_frame(s)
        assert struct.unpack(">i", frame[:4])[0] == 99


def test_oversized_frame_closes_the_connection(broker):
    with connect(broker) as s:
        s.sendall(struct.pack(">i", 0x7FFFFFFF) + b"\x00" * 16)
        assert closed_by_broker(s)
    with connect(broker) as s:
        s.sendall(struct.pack(">i", -5))
        assert closed_by_broker(s)
    assert_healthy(broker)


def test_truncated_frame_then_disconnect(broker):
    frame = request_bytes(3, 12, MetadataRequest(topics=None))
    for cut in (1, 3, 4, 7, len(frame) - 1):
        with connect(broker) as s:
            s.sendall(frame[:cut])
    assert_healthy(broker)


def test_truncated_body_inside_a_complete_frame(broker):
    frame = request_bytes(3, 12, MetadataRequest(topics=[MetadataRequest.MetadataRequestTopic(name="x")]))
    body = frame[4:-3]
    with connect(broker) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        assert closed_by_broker(s)
    assert_healthy(broker)


def test_unknown_api_key_closes_only_that_connection(broker):
    payload = struct.pack(">hhi", 999, 0, 7) + b"\xff\xff"
    with connect(broker) as s:
        s.sendall(struct.pack(">i", len(payload)) + payload)
        assert closed_by_broker(s)
    assert_healthy(broker)


def test_api_versions_at_an_unknown_version_answers_with_v0_fallback(broker):
    payload = struct.pack(">hhi", 18, 99, 42) + b"\x00\x04test" + b"\x00" * 8
    with connect(broker) as s:
        s.sendall(struct.pack(">i", len(payload)) + payload)
        frame = read_frame(s)
    assert struct.unpack(">i", frame[:4])[0] == 42
    response = messages.response_codec(18, 0).decode(frame, 4)
    assert response.error_code == ErrorCode.UNSUPPORTED_VERSION
    keys = {k.api_key: (k.min_version, k.max_version) for k in response.api_keys}
    assert keys[18] == (0, 4)


def test_produce_v0_is_advertised_but_answered_with_unsupported_version(broker):
    from protocol.messages import ProduceRequest

    body = ProduceRequest(acks=1, timeout_ms=1000, topic_data=[
        ProduceRequest.TopicProduceData(name="t", partition_data=[ProduceRequest.PartitionProduceData(index=0, records=b"")])])
    with connect(broker) as s:
        s.sendall(request_bytes(0, 0, body, correlation_id=5))
        frame = read_frame(s)
    response = messages.response_codec(0, 0).decode(frame, 4)
    assert response.responses[0].partition_responses[0].error_code == ErrorCode.UNSUPPORTED_VERSION


def test_random_garbage_never_takes_the_broker_down(broker):
    rng = random.Random(1234)
    stop = threading.Event()
    failures: list = []

    def good_client():
        while not stop.is_set():
            try:
                assert_healthy(broker)
            except Exception as exc:  # pragma: no cover - reported below
                failures.append(exc)
            time.sleep(0.01)

    t = threading.Thread(target=good_client)
    t.start()
    try:
        for _ in range(150):
            with connect(broker) as s:
                kind = rng.randrange(3)
                if kind == 0:
                    data = rng.randbytes(rng.randint(1, 300))
                elif kind == 1:
                    payload = rng.randbytes(rng.randint(0, 200))
                    data = struct.pack(">i", len(payload)) + payload
                else:
                    api_key, version, body = rng.choice([
                        (3, 12, MetadataRequest(topics=None)),
                        (18, 3, ApiVersionsRequest(client_software_name="x", client_software_version="1")),
                        (3, 1, MetadataRequest(topics=[MetadataRequest.MetadataRequestTopic(name="garbage")])),
                    ])
                    good = bytearray(request_bytes(api_key, version, body)[4:])
                    for _ in range(rng.randint(1, 4)):
                        good[rng.randrange(len(good))] = rng.randrange(256)
                    data = struct.pack(">i", len(good)) + bytes(good)
                try:
                    s.sendall(data)
                    s.settimeout(0.2)
                    s.recv(65536)
                except (socket.timeout, ConnectionError):
                    pass
    finally:
        stop.set()
        t.join(10)
    assert failures == []
    assert_healthy(broker)


def test_client_that_never_reads_cannot_grow_broker_memory(broker):
    """Pipelined requests from a client that does not read: reading pauses, nothing explodes."""
    frame = request_bytes(3, 12, MetadataRequest(topics=None))
    with connect(broker) as s:
        s.setblocking(False)
        sent = 0
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                sent += s.send(frame * 50)
            except BlockingIOError:
                time.sleep(0.01)
        # The broker stopped reading once its queue and socket buffers filled: the sender blocked.
        assert sent < 200 * 1024 * 1024
    assert_healthy(broker)


def test_unserved_version_without_an_error_field_closes_the_connection(broker):
    """ListOffsets v0 (served from v1, as Kafka 4.x serves it) has no error code outside its
    partitions: the connection closes, as Kafka closes it, and the broker serves on."""
    from protocol.messages import ListOffsetsRequest

    with connect(broker) as s:
        s.sendall(request_bytes(2, 0, ListOffsetsRequest(replica_id=-1, topics=[]), correlation_id=3))
        assert closed_by_broker(s)
    assert_healthy(broker)


def test_idle_connections_are_closed():
    """connections.max.idle.ms: a connection that sends nothing is closed; an active one is not."""
    from pybroker.embedded import EmbeddedBroker

    with EmbeddedBroker(connections_max_idle_ms=1000) as b:
        with connect(b) as idle, connect(b) as busy:
            deadline = time.monotonic() + 10
            closed = False
            while time.monotonic() < deadline and not closed:
                busy.sendall(request_bytes(3, 12, MetadataRequest(topics=None)))
                read_frame(busy)
                idle.settimeout(0.2)
                try:
                    closed = idle.recv(1) == b""
                except socket.timeout:
                    pass
            assert closed, "the idle connection stayed open"
            busy.sendall(request_bytes(3, 12, MetadataRequest(topics=None), correlation_id=5))
            assert struct.unpack(">i", read_frame(busy)[:4])[0] == 5
