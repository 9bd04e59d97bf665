"""Hand-checked byte vectors: headers, flexible and non-flexible messages, a produce request.

Each vector is annotated field by field; decode(vector) must give the message and
encode(message) must give the vector.
"""

from __future__ import annotations

import uuid

import pytest

from protocol import messages
from protocol.headers import (
    RequestHeader,
    ResponseHeader,
    request_header_codec,
    request_header_version,
    response_header_codec,
    response_header_version,
)
from protocol.messages import (
    ApiVersionsRequest,
    ApiVersionsResponse,
    MetadataRequest,
    MetadataResponse,
    ProduceRequest,
)


def hx(*parts: str) -> bytes:
    return bytes.fromhex("".join(p.replace(" ", "") for p in parts))


def check(codec, message, expected: bytes) -> None:
    assert codec.encode(message) == expected
    decoded, end = codec.decode_at(expected)
    assert end == len(expected)
    assert decoded == message


def test_request_header_v0():
    check(
        request_header_codec(0),
        RequestHeader(request_api_key=3, request_api_version=0, correlation_id=7),
        hx("0003", "0000", "00000007"),
    )


def test_request_header_v1_with_null_client_id():
    check(
        request_header_codec(1),
        RequestHeader(request_api_key=0, request_api_version=8, correlation_id=1, client_id=None),
        hx("0000", "0008", "00000001", "ffff"),
    )


def test_request_header_v2_client_id_is_never_compact():
    check(
        request_header_codec(2),
        RequestHeader(request_api_key=18, request_api_version=3, correlation_id=1, client_id="kcat"),
        # key, version, correlation id, client id as int16-length string, empty tag buffer
        hx("0012", "0003", "00000001", "0004 6b636174", "00"),
    )


def test_response_headers():
    check(response_header_codec(0), ResponseHeader(correlation_id=9), hx("00000009"))
    check(response_header_codec(1), ResponseHeader(correlation_id=9), hx("00000009", "00"))


def test_header_versions():
    assert request_header_version(flexible=True) == 2
    assert request_header_version(flexible=False) == 1
    assert response_header_version(3, flexible=True) == 1
    assert response_header_version(3, flexible=False) == 0
    # ApiVersions answers with header v0 even at its flexible versions.
    assert response_header_version(18, flexible=True) == 0


def test_api_versions_v3_request():
    check(
        messages.request_codec(18, 3),
        ApiVersionsRequest(client_software_name="kcat", client_software_version="1.7.1"),
        # compact strings carry length + 1, then the body's empty tag buffer
        hx("05 6b636174", "06 312e372e31", "00"),
    )


def test_api_versions_v3_response_with_tagged_field():
    msg = ApiVersionsResponse(
        error_code=0,
        api_keys=[ApiVersionsResponse.ApiVersion(api_key=0, min_version=0, max_version=11)],
        throttle_time_ms=0,
        finalized_features_epoch=5,
    )
    check(
        messages.response_codec(18, 3),
        msg,
        hx(
            "0000",  # error code
            "02", "0000 0000 000b", "00",  # one ApiVersion (compact array), its tag buffer
            "00000000",  # throttle time
            "01", "01 08 0000000000000005",  # one tagged field: tag 1, 8 bytes, epoch 5
        ),
    )


def test_api_versions_v0_response():
    msg = ApiVersionsResponse(
        error_code=35,
        api_keys=[ApiVersionsResponse.ApiVersion(api_key=18, min_version=0, max_version=4)],
    )
    check(messages.response_codec(18, 0), msg, hx("0023", "00000001", "0012 0000 0004"))


def test_metadata_v12_request():
    msg = MetadataRequest(
        topics=[MetadataRequest.MetadataRequestTopic(topic_id=uuid.UUID(int=0), name="t")],
        allow_auto_topic_creation=True,
        include_topic_authorized_operations=False,
    )
    check(
        messages.request_codec(3, 12),
        msg,
        hx("02", "00" * 16, "02 74", "00", "01", "00", "00"),
    )


def test_metadata_v12_request_all_topics_is_null():
    msg = MetadataRequest(topics=None, allow_auto_topic_creation=False)
    check(messages.request_codec(3, 12), msg, hx("00", "00", "00", "00"))


def test_metadata_v12_response():
    topic_id = uuid.UUID("0123456789abcdef0123456789abcdef")
    msg = MetadataResponse(
        throttle_time_ms=0,
        brokers=[MetadataResponse.MetadataResponseBroker(node_id=1, host="h", port=9092, rack=None)],
        cluster_id="c",
        controller_id=1,
        topics=[
            MetadataResponse.MetadataResponseTopic(
                error_code=0,
                name="t",
                topic_id=topic_id,
                is_internal=False,
                partitions=[
                    MetadataResponse.MetadataResponsePartition(
                        error_code=0,
                        partition_index=0,
                        leader_id=1,
                        leader_epoch=0,
                        replica_nodes=[1],
                        isr_nodes=[1],
                        offline_replicas=[],
                    )
                ],
                topic_authorized_operations=-2147483648,
            )
        ],
    )
    check(
        messages.response_codec(3, 12),
        msg,
        hx(
            "00000000",  # throttle
            "02", "00000001", "02 68", "00002384", "00", "00",  # broker 1 h:9092 rack null, tags
            "02 63",  # cluster id "c"
            "00000001",  # controller id
            "02",  # one topic
            "0000", "02 74", topic_id.hex, "00",  # error, name, id, is_internal
            "02",  # one partition
            "0000", "00000000", "00000001", "00000000",  # error, index, leader, epoch
            "02 00000001", "02 00000001", "01", "00",  # replicas [1], isr [1], offline [], tags
            "80000000", "00",  # topic authorized operations, topic tags
            "00",  # response tags
        ),
    )


# One record (key "k", value "v", header h=1) in a batch built by kafka-python.
KAFKA_PYTHON_BATCH = hx(
    "0000000000000000 0000003e 00000000 02 675a95fd 0000 00000000",
    "0000018bcfe56800 0000018bcfe56800 ffffffffffffffff ffff ffffffff 00000001",
    "18 00 00 00 02 6b 02 76 02 02 68 02 31",
)


def test_produce_v9_with_a_record_batch():
    msg = ProduceRequest(
        transactional_id=None,
        acks=-1,
        timeout_ms=30000,
        topic_data=[
            ProduceRequest.TopicProduceData(
                name="t",
                partition_data=[ProduceRequest.PartitionProduceData(index=0, records=KAFKA_PYTHON_BATCH)],
            )
        ],
    )
    expected = hx(
        "00",  # null transactional id
        "ffff", "00007530",  # acks -1, timeout 30 s
        "02", "02 74",  # one topic "t"
        "02", "00000000",  # one partition, index 0
        "4b", KAFKA_PYTHON_BATCH.hex(),  # compact records: 74 + 1
        "00", "00", "00",  # partition, topic and request tag buffers
    )
    check(messages.request_codec(0, 9), msg, expected)
    decoded = messages.request_codec(0, 9).decode(expected)
    # Records stay a zero-copy view of the request buffer.
    records = decoded.topic_data[0].partition_data[0].records
    assert bytes(records) == KAFKA_PYTHON_BATCH


def test_produce_v3_is_not_flexible():
    msg = ProduceRequest(
        transactional_id="tx",
        acks=1,
        timeout_ms=1000,
        topic_data=[
            ProduceRequest.TopicProduceData(
                name="t", partition_data=[ProduceRequest.PartitionProduceData(index=2, records=None)]
            )
        ],
    )
    check(
        messages.request_codec(0, 3),
        msg,
        hx("0002 7478", "0001", "000003e8", "00000001", "0001 74", "00000001", "00000002", "ffffffff"),
    )


def test_large_records_are_spliced_not_copied():
    payload = bytes(range(256)) * 64  # 16 KiB
    msg = ProduceRequest(
        acks=1,
        timeout_ms=1,
        topic_data=[
            ProduceRequest.TopicProduceData(
                name="t", partition_data=[ProduceRequest.PartitionProduceData(index=0, records=payload)]
            )
        ],
    )
    codec = messages.request_codec(0, 9)
    splices: list = []
    head = codec.encode_into(msg, bytearray(), splices)
    assert len(splices) == 1 and splices[0][1] is payload
    from protocol.types import assemble

    joined = b"".join(bytes(p) for p in assemble(head, splices))
    assert joined == codec.encode(msg)


@pytest.mark.parametrize("version", [0, 3, 9, 12])
def test_records_as_list_of_parts(version):
    parts = [b"a" * 5000, memoryview(b"b" * 3000)]
    msg = ProduceRequest(
        acks=1,
        timeout_ms=1,
        topic_data=[
            ProduceRequest.TopicProduceData(
                name="t", partition_data=[ProduceRequest.PartitionProduceData(index=0, records=parts)]
            )
        ],
    )
    codec = messages.request_codec(0, version)
    decoded = codec.decode(codec.encode(msg))
    assert bytes(decoded.topic_data[0].partition_data[0].records) == b"a" * 5000 + b"b" * 3000
