"""Byte-level agreement with an independent implementation: kafka-python's protocol classes.

For every API both implement, at every version both support, a generated message encoded by
pybroker must decode in kafka-python and re-encode to exactly the same bytes.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from hypothesis import HealthCheck, assume, given, settings

from protocol import messages
from protocol.compiler import codec_for
from schema_strategies import message_strategy

kafka_protocol = pytest.importorskip("kafka.protocol")
api_message = pytest.importorskip("kafka.protocol.api_message")


def _kafka_python_classes() -> dict[str, type]:
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(kafka_protocol.__path__, "kafka.protocol."):
        try:
            mod = importlib.import_module(info.name)
        except Exception:  # optional submodules with extra dependencies
            continue
        for obj in vars(mod).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, api_message.ApiMessage)
                and obj is not api_message.ApiMessage
                and getattr(obj, "_class_version", None) is None
                and getattr(obj, "_json", None) is not None
            ):
                found[obj.name] = obj
    return found


def _cases():
    theirs = _kafka_python_classes()
    cases = []
    for spec in messages.all_specs():
        cls = theirs.get(spec.name)
        if cls is None or spec.kind not in ("request", "response"):
            continue
        low, high = cls.valid_versions
        for v in range(max(low, spec.versions.low), min(high, spec.versions.high) + 1):
            cases.append((spec, v, cls))
    return cases


CASES = _cases()


def test_interop_covers_the_client_apis():
    names = {spec.name for spec, _, _ in CASES}
    for must in ("ProduceRequest", "FetchResponse", "MetadataResponse", "ApiVersionsResponse",
                 "JoinGroupRequest", "OffsetCommitRequest", "InitProducerIdResponse"):
        assert must in names


@pytest.mark.parametrize("spec,version,theirs", CASES, ids=[f"{s.name}-v{v}" for s, v, _ in CASES])
def test_kafka_python_reads_our_bytes(spec, version, theirs):
    codec = codec_for(spec, version)

    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
    @given(message_strategy(spec, version))
    def check(msg):
        # Clients read an ApiVersions response with an error as v0 (the version fallback).
        assume(spec.name != "ApiVersionsResponse" or msg.error_code == 0)
        ours = codec.encode(msg)
        decoded = theirs.decode(ours, version=version)
        decoded._header = None  # decode leaves it unset; encode looks at it
        theirs_bytes = bytes(decoded.encode(version=version))
        assert theirs_bytes == ours
        # And ours reads what kafka-python wrote.
        assert codec.decode(theirs_bytes) == msg

    check()
