"""Controller config operations on fixed images: AlterConfigs and IncrementalAlterConfigs for
topics, brokers and the cluster-wide broker default."""

from __future__ import annotations

import uuid

import pytest

from protocol.errors import ErrorCode
from pybroker.metadata import controller as c
from pybroker.metadata import records as r
from pybroker.metadata.image import ConfigResourceType
from pybroker.metadata.requests import (
    AlterableConfig, AlterConfigOp, AlterConfigsResource, IncrementalAlterConfigsResource,
)
from metadata_helpers import apply, broker_record, ctx, make_image, topic_records

TOPIC, BROKER = ConfigResourceType.TOPIC, ConfigResourceType.BROKER
T1 = uuid.UUID(int=0xA1)


def image():
    return make_image(
        broker_record(1), *topic_records("a", T1, [[1]]),
        r.ConfigRecord(resource_type=2, resource_name="a", name="retention.ms", value="1000"),
        r.ConfigRecord(resource_type=2, resource_name="a", name="segment.bytes", value="1048576"),
    )


def alter(img, *resources, validate_only=False):
    return c.alter_configs(img, list(resources), validate_only, ctx())


def incremental(img, *resources, validate_only=False):
    return c.incremental_alter_configs(img, list(resources), validate_only, ctx())


def test_alter_configs_replaces_everything():
    img = image()
    res = alter(img, AlterConfigsResource(TOPIC, "a", {"retention.ms": "2000", "cleanup.policy": "compact"}))
    assert res.response[0].error.ok
    after = apply(img, res.records)
    assert after.topic_config("a") == {"retention.ms": "2000", "cleanup.policy": "compact"}
    deletes = [x.name for x in res.records if x.value is None]
    assert deletes == ["segment.bytes"]


def test_alter_configs_unchanged_values_write_nothing():
    img = image()
    res = alter(img, AlterConfigsResource(TOPIC, "a", {"retention.ms": "1000", "segment.bytes": "1048576"}))
    assert res.response[0].error.ok and res.records == []


def test_alter_configs_validate_only():
    res = alter(image(), AlterConfigsResource(TOPIC, "a", {"retention.ms": "5"}), validate_only=True)
    assert res.response[0].error.ok and res.records == []


@pytest.mark.parametrize("resource,code,message", [
    (AlterConfigsResource(TOPIC, "zz", {"retention.ms": "1"}), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
     "The topic 'zz' does not exist."),
    (AlterConfigsResource(TOPIC, "bad name", {}), ErrorCode.INVALID_REQUEST, "Illegal topic name."),
    (AlterConfigsResource(TOPIC, "a", {"retention.ms": "x"}), ErrorCode.INVALID_CONFIG, None),
    (AlterConfigsResource(TOPIC, "a", {"bogus": "1"}), ErrorCode.INVALID_CONFIG, "Unknown topic config name: bogus"),
    (AlterConfigsResource(TOPIC, "a", {"retention.ms": None}), ErrorCode.INVALID_REQUEST,
     "Null value not supported for : retention.ms"),
    (AlterConfigsResource(BROKER, "7", {}), ErrorCode.BROKER_ID_NOT_REGISTERED, "No broker with id 7 found."),
    (AlterConfigsResource(BROKER, "x", {}), ErrorCode.INVALID_REQUEST,
     "Illegal non-integral BROKER resource type name."),
    (AlterConfigsResource(BROKER, "-1", {}), ErrorCode.INVALID_REQUEST,
     "Illegal negative broker ID in BROKER resource."),
    (AlterConfigsResource(BROKER, "1", {"log.dirs": "/x"}), ErrorCode.INVALID_REQUEST,
     "Cannot update these configs dynamically: Set(log.dirs)"),
    (AlterConfigsResource(BROKER, "", {"listeners": "PLAINTEXT://:1"}), ErrorCode.INVALID_REQUEST,
     "Cannot update these configs at default cluster level, broker id must be specified: Set(listeners)"),
    (AlterConfigsResource(BROKER, "1", {"log.retention.ms": "abc"}), ErrorCode.INVALID_CONFIG, None),
    (AlterConfigsResource(8, "x", {}), ErrorCode.INVALID_REQUEST, "Unsupported config resource type BROKER_LOGGER"),
    (AlterConfigsResource(99, "x", {}), ErrorCode.INVALID_REQUEST, "Unsupported config resource type 99"),
])
def test_alter_configs_errors(resource, code, message):
    res = alter(image(), resource)
    assert res.response[0].error.code == code and res.records == []
    if message:
        assert res.response[0].error.message == message


def test_broker_and_cluster_default_configs():
    img = image()
    res = alter(img, AlterConfigsResource(BROKER, "1", {"log.retention.ms": "5000"}),
                AlterConfigsResource(BROKER, "", {"log.retention.ms": "6000", "my.custom.key": "v"}))
    assert all(x.error.ok for x in res.response)
    after = apply(img, res.records)
    assert after.broker_config(1) == {"log.retention.ms": "5000"}
    assert after.broker_config(None) == {"log.retention.ms": "6000", "my.custom.key": "v"}


def test_duplicate_resources():
    res = alter(image(), AlterConfigsResource(TOPIC, "a", {}), AlterConfigsResource(TOPIC, "a", {}))
    assert [x.error.code for x in res.response] == [ErrorCode.INVALID_REQUEST] * 2


def test_incremental_set_delete_append_subtract():
    img = image()
    ops = [
        AlterableConfig("retention.ms", AlterConfigOp.SET, "3000"),
        AlterableConfig("segment.bytes", AlterConfigOp.DELETE),
        AlterableConfig("cleanup.policy", AlterConfigOp.APPEND, "compact"),
    ]
    res = incremental(img, IncrementalAlterConfigsResource(TOPIC, "a", ops))
    assert res.response[0].error.ok
    after = apply(img, res.records)
    # APPEND starts from the default ("delete") when the config is not set.
    assert after.topic_config("a") == {"retention.ms": "3000", "cleanup.policy": "delete,compact"}
    res = incremental(after, IncrementalAlterConfigsResource(TOPIC, "a", [
        AlterableConfig("cleanup.policy", AlterConfigOp.SUBTRACT, "delete")]))
    assert apply(after, res.records).topic_config("a")["cleanup.policy"] == "compact"


def test_incremental_delete_of_unset_key_writes_nothing_for_topics():
    res = incremental(image(), IncrementalAlterConfigsResource(TOPIC, "a", [
        AlterableConfig("max.message.bytes", AlterConfigOp.DELETE)]))
    assert res.response[0].error.ok and res.records == []


@pytest.mark.parametrize("ops,code,message", [
    ([AlterableConfig("retention.ms", AlterConfigOp.APPEND, "1")], ErrorCode.INVALID_CONFIG,
     "Can't APPEND to key retention.ms because its type is not LIST."),
    ([AlterableConfig("retention.ms", AlterConfigOp.SUBTRACT, "1")], ErrorCode.INVALID_CONFIG,
     "Can't SUBTRACT to key retention.ms because its type is not LIST."),
    ([AlterableConfig("retention.ms", AlterConfigOp.SET, "1"), AlterableConfig("retention.ms", AlterConfigOp.DELETE)],
     ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys"),
    ([AlterableConfig("retention.ms", AlterConfigOp.SET, None)], ErrorCode.INVALID_REQUEST,
     "Null value not supported for : retention.ms"),
    ([AlterableConfig("cleanup.policy", AlterConfigOp.APPEND, "bogus")], ErrorCode.INVALID_CONFIG, None),
    ([AlterableConfig("retention.ms", 9, "1")], ErrorCode.INVALID_REQUEST, "Unknown alter config operation 9"),
])
def test_incremental_errors(ops, code, message):
    res = incremental(image(), IncrementalAlterConfigsResource(TOPIC, "a", ops))
    assert res.response[0].error.code == code and res.records == []
    if message:
        assert res.response[0].error.message == message


def test_incremental_broker_always_writes_and_validate_only():
    img = image()
    op = [AlterableConfig("log.retention.ms", AlterConfigOp.DELETE)]
    res = incremental(img, IncrementalAlterConfigsResource(BROKER, "1", op))
    assert len(res.records) == 1 and res.records[0].value is None
    res = incremental(img, IncrementalAlterConfigsResource(BROKER, "1", op), validate_only=True)
    assert res.response[0].error.ok and res.records == []
