"""Codec micro-benchmarks: microseconds per operation for the messages on the hot paths.

    python benchmarks/codec_bench.py [--seconds 1.0]

Prints one line per case: decoding a Produce v9+ request with 10 partitions of 16 KiB batches,
encoding a Fetch v12+ response of the same size, decoding a Metadata response with 1,000
partitions, plus request-header decoding.
"""

from __future__ import annotations

import argparse
import time
import uuid

from protocol import messages
from protocol.headers import RequestHeader, request_header_codec
from protocol.messages import FetchResponse, MetadataResponse, ProduceRequest
from protocol.types import assemble


def bench(label: str, fn, seconds: float) -> float:
    fn()  # warm up (compiles codecs)
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(20):
            fn()
        n += 20
        now = time.perf_counter()
        if now >= deadline:
            break
    us = (now - start) / n * 1e6
    print(f"{label:<62} {us:10.2f} us/op")
    return us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()

    batch = b"\x00" * 16384
    produce = ProduceRequest(
        transactional_id=None,
        acks=-1,
        timeout_ms=30000,
        topic_data=[
            ProduceRequest.TopicProduceData(
                name="bench-topic",
                partition_data=[ProduceRequest.PartitionProduceData(index=i, records=batch) for i in range(10)],
            )
        ],
    )
    produce_codec = messages.request_codec(0, 11)
    produce_bytes = memoryview(produce_codec.encode(produce))
    bench("decode Produce v11 request, 10 partitions x 16 KiB", lambda: produce_codec.decode(produce_bytes), args.seconds)

    fetch_codec = messages.response_codec(1, 16)
    P = FetchResponse.PartitionData
    fetch = FetchResponse(
        throttle_time_ms=0,
        error_code=0,
        session_id=1,
        responses=[
            FetchResponse.FetchableTopicResponse(
                topic="bench-topic",
                partitions=[
                    P(partition_index=i, error_code=0, high_watermark=1000, last_stable_offset=1000,
                      log_start_offset=0, aborted_transactions=None, preferred_read_replica=-1, records=batch)
                    for i in range(10)
                ],
            )
        ],
    )

    def encode_fetch():
        splices: list = []
        head = fetch_codec.encode_into(fetch, bytearray(), splices)
        return assemble(head, splices)

    bench("encode Fetch v16 response, 10 partitions x 16 KiB (spliced)", encode_fetch, args.seconds)
    bench("encode Fetch v16 response, 10 partitions x 16 KiB (copied)", lambda: fetch_codec.encode(fetch), args.seconds)

    brokers = [MetadataResponse.MetadataResponseBroker(node_id=i, host=f"broker-{i}", port=9092) for i in range(3)]
    topics = []
    for t in range(10):
        topics.append(
            MetadataResponse.MetadataResponseTopic(
                error_code=0,
                name=f"topic-{t}",
                topic_id=uuid.uuid4(),
                partitions=[
                    MetadataResponse.MetadataResponsePartition(
                        partition_index=p, leader_id=p % 3, leader_epoch=0,
                        replica_nodes=[0, 1, 2], isr_nodes=[0, 1, 2], offline_replicas=[],
                    )
                    for p in range(100)
                ],
            )
        )
    metadata = MetadataResponse(brokers=brokers, cluster_id="c", controller_id=0, topics=topics)
    metadata_codec = messages.response_codec(3, 12)
    metadata_bytes = metadata_codec.encode(metadata)
    bench("decode Metadata v12 response, 10 topics x 100 partitions", lambda: metadata_codec.decode(metadata_bytes), args.seconds)
    bench("encode Metadata v12 response, 10 topics x 100 partitions", lambda: metadata_codec.encode(metadata), args.seconds)

    header_codec = request_header_codec(2)
    header_bytes = header_codec.encode(RequestHeader(request_api_key=0, request_api_version=11, correlation_id=5, client_id="rdkafka"))
    bench("decode request header v2", lambda: header_codec.decode(header_bytes), args.seconds)


if __name__ == "__main__":
    main()
