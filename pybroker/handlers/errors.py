"""Error responses for requests the broker reads but does not serve at that version."""

from __future__ import annotations

from typing import Any

from protocol.messages import ProduceResponse

PRODUCE = 0


def error_response(api_key: int, request: Any, code: int) -> Any | None:
    """A response of the request's own shape with `code` for every entry, or None when the
    broker has no such answer for the API (the connection is then closed)."""
    if api_key == PRODUCE:
        return ProduceResponse(
            responses=[
                ProduceResponse.TopicProduceResponse(
                    name=t.name,
                    topic_id=t.topic_id,
                    partition_responses=[
                        ProduceResponse.PartitionProduceResponse(index=p.index, error_code=code, base_offset=-1)
                        for p in t.partition_data
                    ],
                )
                for t in request.topic_data
            ]
        )
    return None
