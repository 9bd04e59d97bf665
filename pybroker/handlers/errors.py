"""Error responses for requests the broker reads but does not serve at that version."""

from __future__ import annotations

from typing import Any

from protocol import messages
from protocol.messages import ProduceResponse

PRODUCE = 0


def error_response(api_key: int, version: int, request: Any, code: int) -> Any | None:
    """A response of the request's own API carrying `code`, or None when there is no such
    answer at that version (the connection is then closed, as Kafka does).

    Produce answers per partition; other APIs answer through a top-level error code when their
    response has one at that version.
    """
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
    try:
        spec = messages.response_spec(api_key)
    except KeyError:
        return None
    if version not in spec.versions:
        return None
    top = next((f for f in spec.fields if f.name == "error_code" and version in f.versions), None)
    if top is None:
        return None
    cls = messages.response_codec(api_key, version).cls
    return cls(error_code=code)
