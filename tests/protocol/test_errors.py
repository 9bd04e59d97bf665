"""Error codes and API keys: known numbers, uniqueness, names, and Kafka's retriable flags."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from protocol.api_keys import REMOVED, ApiKey
from protocol.errors import RETRIABLE, ErrorCode

KNOWN_CODES = {
    "UNKNOWN_SERVER_ERROR": -1,
    "NONE": 0,
    "OFFSET_OUT_OF_RANGE": 1,
    "CORRUPT_MESSAGE": 2,
    "UNKNOWN_TOPIC_OR_PARTITION": 3,
    "NOT_LEADER_OR_FOLLOWER": 6,
    "REQUEST_TIMED_OUT": 7,
    "NOT_COORDINATOR": 16,
    "TOPIC_AUTHORIZATION_FAILED": 29,
    "UNSUPPORTED_VERSION": 35,
    "TOPIC_ALREADY_EXISTS": 36,
    "INVALID_REQUEST": 42,
    "OUT_OF_ORDER_SEQUENCE_NUMBER": 45,
    "INVALID_PRODUCER_EPOCH": 47,
    "CONCURRENT_TRANSACTIONS": 51,
    "FETCH_SESSION_ID_NOT_FOUND": 70,
    "FENCED_LEADER_EPOCH": 74,
    "MEMBER_ID_REQUIRED": 79,
    "PRODUCER_FENCED": 90,
    "UNKNOWN_TOPIC_ID": 100,
    "FENCED_MEMBER_EPOCH": 110,
    "STALE_MEMBER_EPOCH": 113,
    "TRANSACTION_ABORTABLE": 120,
    "INVALID_RECORD_STATE": 121,
    "VOTER_NOT_FOUND": 127,
    "REBOOTSTRAP_REQUIRED": 129,
    "SHARE_SESSION_LIMIT_REACHED": 133,
}

KNOWN_KEYS = {
    "Produce": 0,
    "Fetch": 1,
    "ListOffsets": 2,
    "Metadata": 3,
    "LeaderAndIsr": 4,
    "ControlledShutdown": 7,
    "OffsetCommit": 8,
    "FindCoordinator": 10,
    "ApiVersions": 18,
    "InitProducerId": 22,
    "WriteTxnMarkers": 27,
    "SaslAuthenticate": 36,
    "Vote": 52,
    "Envelope": 58,
    "ConsumerGroupHeartbeat": 68,
    "ListConfigResources": 74,
    "DescribeTopicPartitions": 75,
    "ShareFetch": 78,
    "ReadShareGroupStateSummary": 87,
    "StreamsGroupHeartbeat": 88,
    "DeleteShareGroupOffsets": 92,
}


@pytest.mark.parametrize(("name", "code"), sorted(KNOWN_CODES.items()))
def test_known_error_codes(name: str, code: int) -> None:
    assert ErrorCode[name] == code
    assert ErrorCode(code).name == name


def test_error_codes_are_unique_and_contiguous() -> None:
    values = [member.value for member in ErrorCode]
    assert len(values) == len(set(values))
    # Kafka numbers its codes without gaps from -1 upwards.
    assert sorted(values) == list(range(-1, max(values) + 1))


def test_error_names_are_upper_snake() -> None:
    for member in ErrorCode:
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", member.name), member.name


@pytest.mark.parametrize(
    "code",
    [
        ErrorCode.NOT_LEADER_OR_FOLLOWER,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode.LEADER_NOT_AVAILABLE,
        ErrorCode.REQUEST_TIMED_OUT,
        ErrorCode.NOT_ENOUGH_REPLICAS,
        ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        ErrorCode.NOT_COORDINATOR,
        ErrorCode.CONCURRENT_TRANSACTIONS,
        ErrorCode.KAFKA_STORAGE_ERROR,
        ErrorCode.UNKNOWN_TOPIC_ID,
        ErrorCode.SHARE_SESSION_LIMIT_REACHED,
    ],
)
def test_retriable(code: ErrorCode) -> None:
    assert code.retriable


@pytest.mark.parametrize(
    "code",
    [
        ErrorCode.NONE,
        ErrorCode.UNKNOWN_SERVER_ERROR,
        ErrorCode.OFFSET_OUT_OF_RANGE,
        ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.UNSUPPORTED_VERSION,
        ErrorCode.REBALANCE_IN_PROGRESS,
        ErrorCode.PRODUCER_FENCED,
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        ErrorCode.TRANSACTION_ABORTABLE,
        ErrorCode.REBOOTSTRAP_REQUIRED,
    ],
)
def test_not_retriable(code: ErrorCode) -> None:
    assert not code.retriable


def test_retriable_set_holds_only_error_codes() -> None:
    assert all(isinstance(code, ErrorCode) for code in RETRIABLE)
    assert ErrorCode.NONE not in RETRIABLE


def test_every_code_has_a_one_line_message() -> None:
    for member in ErrorCode:
        assert member.message
        assert "\n" not in member.message


def test_unknown_codes_map_to_unknown_server_error() -> None:
    assert ErrorCode.for_code(6) is ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert ErrorCode.for_code(32000) is ErrorCode.UNKNOWN_SERVER_ERROR
    assert ErrorCode.for_code(-7) is ErrorCode.UNKNOWN_SERVER_ERROR


@pytest.mark.parametrize(("name", "key"), sorted(KNOWN_KEYS.items()))
def test_known_api_keys(name: str, key: int) -> None:
    assert ApiKey[name] == key
    assert ApiKey(key).name == name


def test_api_keys_are_unique_and_contiguous() -> None:
    values = [member.value for member in ApiKey]
    assert len(values) == len(set(values))
    assert sorted(values) == list(range(0, max(values) + 1))


def test_api_key_names_are_pascal_case() -> None:
    for member in ApiKey:
        assert re.fullmatch(r"(?:[A-Z][a-z0-9]*)+", member.name), member.name


def test_removed_api_keys() -> None:
    assert REMOVED == {
        ApiKey.LeaderAndIsr,
        ApiKey.StopReplica,
        ApiKey.UpdateMetadata,
        ApiKey.ControlledShutdown,
    }
    assert ApiKey.StopReplica.removed
    assert not ApiKey.Produce.removed


SPEC_DIR = Path(__file__).resolve().parents[3] / "shared" / "reference" / "kafka-message-specs"
# Kafka renamed key 74 after the reference snapshot was taken (KIP-1142, Kafka 4.1).
RENAMED = {74: "ListClientMetricsResources"}


@pytest.mark.skipif(not SPEC_DIR.is_dir(), reason="Kafka message specs not present")
def test_api_key_names_match_kafka_specs() -> None:
    checked = 0
    for path in sorted(SPEC_DIR.glob("*Request.json")):
        text = re.sub(r"^\s*//.*$", "", path.read_text(), flags=re.M)
        spec = json.loads(text)
        key, name = spec["apiKey"], spec["name"].removesuffix("Request")
        expected = RENAMED.get(key, ApiKey(key).name)
        assert name == expected, (key, name)
        checked += 1
    assert checked > 80
