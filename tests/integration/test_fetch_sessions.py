"""Fetch sessions (KIP-227) on the wire: a full fetch opens a session, incremental fetches send
only changes and get back only partitions that changed."""

from __future__ import annotations

import socket
import struct

from protocol import messages
from protocol.errors import ErrorCode
from protocol.headers import RequestHeader, request_header_codec
from protocol.messages import FetchRequest


def call(sock, api_key, version, body, correlation_id=1):
    codec = messages.request_codec(api_key, version)
    header = request_header_codec(2 if codec.flexible else 1).encode(
        RequestHeader(request_api_key=api_key, request_api_version=version, correlation_id=correlation_id,
                      client_id="session-test"))
    payload = header + codec.encode(body)
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    size = struct.unpack(">i", sock.recv(4, socket.MSG_WAITALL))[0]
    frame = sock.recv(size, socket.MSG_WAITALL)
    response_codec = messages.response_codec(api_key, version)
    return response_codec.decode(frame, 5 if response_codec.flexible else 4)


def fetch(sock, session_id, epoch, partitions, forgotten=()):
    topics = {}
    for topic, p, offset in partitions:
        topics.setdefault(topic, []).append(FetchRequest.FetchPartition(
            partition=p, fetch_offset=offset, partition_max_bytes=1 << 20, current_leader_epoch=-1))
    return call(sock, 1, 12, FetchRequest(
        replica_id=-1, max_wait_ms=0, min_bytes=0, max_bytes=1 << 20, isolation_level=0,
        session_id=session_id, session_epoch=epoch,
        topics=[FetchRequest.FetchTopic(topic=t, partitions=ps) for t, ps in topics.items()],
        forgotten_topics_data=[FetchRequest.ForgottenTopic(topic=t, partitions=[p]) for t, p in forgotten],
    ))


def test_full_then_incremental_session(broker, topic_name):
    from kafka import KafkaProducer

    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    admin.create_topics([NewTopic(topic_name, 2, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    for i in range(3):
        producer.send(topic_name, b"x", partition=0)
        producer.send(topic_name, b"y", partition=1)
    producer.flush()
    host, port = broker.bootstrap_servers.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        full = fetch(sock, 0, 0, [(topic_name, 0, 0), (topic_name, 1, 0)])
        assert full.error_code == 0 and full.session_id > 0
        assert sorted(p.partition_index for p in full.responses[0].partitions) == [0, 1]
        sid = full.session_id

        # The client moves both positions past what it read; nothing else changed: no partition
        # comes back.
        quiet = fetch(sock, sid, 1, [(topic_name, 0, 3), (topic_name, 1, 3)])
        assert quiet.error_code == 0 and quiet.session_id == sid and quiet.responses == []

        # New data in partition 0 only: an incremental fetch naming nothing gets partition 0.
        producer.send(topic_name, b"z", partition=0)
        producer.flush()
        changed = fetch(sock, sid, 2, [])
        parts = [p.partition_index for t in changed.responses for p in t.partitions]
        assert parts == [0]
        assert changed.responses[0].partitions[0].high_watermark == 4

        # Forgetting partition 1 keeps it out even when it gets data.
        producer.send(topic_name, b"w", partition=1)
        producer.flush()
        forgot = fetch(sock, sid, 3, [(topic_name, 0, 4)], forgotten=[(topic_name, 1)])
        assert all(p.partition_index != 1 for t in forgot.responses for p in t.partitions)

        # Wrong epoch and unknown session ids get Kafka's errors.
        assert fetch(sock, sid, 9, []).error_code == ErrorCode.INVALID_FETCH_SESSION_EPOCH
        assert fetch(sock, 123456, 1, []).error_code == ErrorCode.FETCH_SESSION_ID_NOT_FOUND
        # Closing the session (epoch -1) answers as a sessionless full fetch.
        closed = fetch(sock, sid, -1, [(topic_name, 0, 0)])
        assert closed.session_id == 0 and closed.responses[0].partitions[0].high_watermark == 4
    producer.close()
