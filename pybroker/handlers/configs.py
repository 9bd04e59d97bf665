"""DescribeConfigs, AlterConfigs and IncrementalAlterConfigs for topics, brokers, groups and
broker loggers."""

from __future__ import annotations

import logging
from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import AlterConfigsResponse, DescribeConfigsResponse, IncrementalAlterConfigsResponse
from pybroker.config import effective_group_config, effective_topic_config
from pybroker.metadata.image import ConfigResource
from pybroker.metadata.requests import (
    AlterableConfig,
    AlterConfigOp,
    AlterConfigsResource,
    IncrementalAlterConfigsResource,
)
from pybroker.server.dispatch import RequestContext

TOPIC = 2
BROKER = 4
BROKER_LOGGER = 8
GROUP = 32

_LEVELS = {"TRACE": logging.DEBUG, "DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARN": logging.WARNING,
           "ERROR": logging.ERROR, "FATAL": logging.CRITICAL, "OFF": logging.CRITICAL + 10}
_LEVEL_NAMES = {logging.DEBUG: "DEBUG", logging.INFO: "INFO", logging.WARNING: "WARN", logging.ERROR: "ERROR",
                logging.CRITICAL: "FATAL", logging.CRITICAL + 10: "OFF"}


def _entries(ctx: RequestContext, resource: Any) -> tuple[list[Any], int, str | None]:
    """ConfigEntry-like objects for one resource, or an error."""
    broker = ctx.broker
    image = broker.image
    keys = list(resource.configuration_keys) if resource.configuration_keys is not None else None
    rtype, name = resource.resource_type, resource.resource_name
    if rtype == TOPIC:
        if image.topic(name) is None:
            return [], ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"Topic {name} does not exist"
        view = effective_topic_config(image.topic_config(name), broker.config)
        return view.describe(keys), ErrorCode.NONE, None
    if rtype == BROKER:
        if name not in ("", str(broker.node_id)):
            return [], ErrorCode.INVALID_REQUEST, f"Unexpected broker id {name}: this is broker {broker.node_id}"
        return broker.config.describe(keys), ErrorCode.NONE, None
    if rtype == GROUP:
        view = effective_group_config(image.config(ConfigResource(GROUP, name)), broker.config)
        return view.describe(keys), ErrorCode.NONE, None
    if rtype == BROKER_LOGGER:
        return [], ErrorCode.NONE, None
    return [], ErrorCode.INVALID_REQUEST, f"Unsupported resource type {rtype}"


def _logger_entries(resource: Any) -> list[Any]:
    R = DescribeConfigsResponse
    names = sorted(n for n in logging.root.manager.loggerDict if n.startswith("pybroker"))
    out = [R.DescribeConfigsResourceResult(name="root", value=_LEVEL_NAMES.get(logging.root.level, "INFO"),
                                           read_only=False, config_source=6, is_sensitive=False, config_type=2)]
    for n in names:
        level = logging.getLogger(n).getEffectiveLevel()
        out.append(R.DescribeConfigsResourceResult(name=n, value=_LEVEL_NAMES.get(level, "INFO"), read_only=False,
                                                   config_source=6, is_sensitive=False, config_type=2))
    keys = resource.configuration_keys
    return [e for e in out if keys is None or e.name in keys]


def handle_describe_configs(ctx: RequestContext, request: Any) -> Any:
    R = DescribeConfigsResponse
    v = ctx.api_version
    include_synonyms = v >= 1 and request.include_synonyms
    include_docs = v >= 3 and request.include_documentation
    results = []
    for resource in request.resources:
        if resource.resource_type == BROKER_LOGGER:
            configs = _logger_entries(resource)
            results.append(R.DescribeConfigsResult(error_code=0, resource_type=BROKER_LOGGER,
                                                   resource_name=resource.resource_name, configs=configs))
            continue
        entries, code, message = _entries(ctx, resource)
        configs = []
        for e in entries:
            item = R.DescribeConfigsResourceResult(
                name=e.name,
                value=e.value_str,
                read_only=e.read_only,
                is_default=e.is_default,
                config_source=int(e.source),
                is_sensitive=e.sensitive,
                config_type=int(e.type),
                documentation=e.doc if include_docs else None,
            )
            if include_synonyms:
                item.synonyms = [
                    R.DescribeConfigsSynonym(name=s.name, value=s.value, source=int(s.source)) for s in e.synonyms
                ]
            configs.append(item)
        results.append(
            R.DescribeConfigsResult(
                error_code=code, error_message=message, resource_type=resource.resource_type,
                resource_name=resource.resource_name, configs=configs,
            )
        )
    return R(throttle_time_ms=0, results=results)


async def handle_alter_configs(ctx: RequestContext, request: Any) -> Any:
    R = AlterConfigsResponse
    resources = [
        AlterConfigsResource(r.resource_type, r.resource_name, {c.name: c.value for c in r.configs})
        for r in request.resources
    ]
    results = await ctx.broker.controller_call("alter_configs", resources, request.validate_only)
    return R(
        throttle_time_ms=0,
        responses=[
            R.AlterConfigsResourceResponse(error_code=r.error.code, error_message=r.error.message if not r.error.ok else None,
                                           resource_type=r.resource_type, resource_name=r.resource_name)
            for r in results
        ],
    )


def _alter_loggers(resource: Any) -> tuple[int, str | None]:
    for c in resource.configs:
        logger = logging.root if c.name == "root" else logging.getLogger(c.name)
        if c.config_operation == AlterConfigOp.SET:
            level = _LEVELS.get((c.value or "").upper())
            if level is None:
                return ErrorCode.INVALID_CONFIG, f"Unknown log level {c.value} for logger {c.name}"
            logger.setLevel(level)
        elif c.config_operation == AlterConfigOp.DELETE:
            logger.setLevel(logging.NOTSET if logger is not logging.root else logging.INFO)
        else:
            return ErrorCode.INVALID_REQUEST, "Loggers accept only SET and DELETE"
    return ErrorCode.NONE, None


async def handle_incremental_alter_configs(ctx: RequestContext, request: Any) -> Any:
    R = IncrementalAlterConfigsResponse
    out: list[Any] = [None] * len(request.resources)
    forwarded = []
    where = []
    for i, r in enumerate(request.resources):
        if r.resource_type == BROKER_LOGGER:
            code, message = (ErrorCode.NONE, None) if request.validate_only else _alter_loggers(r)
            out[i] = R.AlterConfigsResourceResponse(error_code=code, error_message=message,
                                                    resource_type=r.resource_type, resource_name=r.resource_name)
            continue
        forwarded.append(
            IncrementalAlterConfigsResource(
                r.resource_type, r.resource_name,
                [AlterableConfig(c.name, AlterConfigOp(c.config_operation), c.value) for c in r.configs],
            )
        )
        where.append(i)
    if forwarded:
        results = await ctx.broker.controller_call("incremental_alter_configs", forwarded, request.validate_only)
        for i, res in zip(where, results):
            out[i] = R.AlterConfigsResourceResponse(
                error_code=res.error.code, error_message=res.error.message if not res.error.ok else None,
                resource_type=res.resource_type, resource_name=res.resource_name,
            )
    return R(throttle_time_ms=0, responses=out)
