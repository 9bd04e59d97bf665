"""Schemas of every API's request and response, and of the data messages embedded in them.

One module per API holds its REQUEST and RESPONSE specs; modules load on first use so that
start-up only pays for the APIs a process touches.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from protocol.compiler import Codec, classes_for, codec_for
from protocol.schema import MessageSpec, snake_case

# API key -> module name under protocol.messages.
API_MODULES: dict[int, str] = {
    0: 'produce',
    1: 'fetch',
    2: 'list_offsets',
    3: 'metadata',
    8: 'offset_commit',
    9: 'offset_fetch',
    10: 'find_coordinator',
    11: 'join_group',
    12: 'heartbeat',
    13: 'leave_group',
    14: 'sync_group',
    15: 'describe_groups',
    16: 'list_groups',
    17: 'sasl_handshake',
    18: 'api_versions',
    19: 'create_topics',
    20: 'delete_topics',
    21: 'delete_records',
    22: 'init_producer_id',
    23: 'offset_for_leader_epoch',
    24: 'add_partitions_to_txn',
    25: 'add_offsets_to_txn',
    26: 'end_txn',
    27: 'write_txn_markers',
    28: 'txn_offset_commit',
    29: 'describe_acls',
    30: 'create_acls',
    31: 'delete_acls',
    32: 'describe_configs',
    33: 'alter_configs',
    34: 'alter_replica_log_dirs',
    35: 'describe_log_dirs',
    36: 'sasl_authenticate',
    37: 'create_partitions',
    38: 'create_delegation_token',
    39: 'renew_delegation_token',
    40: 'expire_delegation_token',
    41: 'describe_delegation_token',
    42: 'delete_groups',
    43: 'elect_leaders',
    44: 'incremental_alter_configs',
    45: 'alter_partition_reassignments',
    46: 'list_partition_reassignments',
    47: 'offset_delete',
    48: 'describe_client_quotas',
    49: 'alter_client_quotas',
    50: 'describe_user_scram_credentials',
    51: 'alter_user_scram_credentials',
    52: 'vote',
    53: 'begin_quorum_epoch',
    54: 'end_quorum_epoch',
    55: 'describe_quorum',
    56: 'alter_partition',
    57: 'update_features',
    58: 'envelope',
    59: 'fetch_snapshot',
    60: 'describe_cluster',
    61: 'describe_producers',
    62: 'broker_registration',
    63: 'broker_heartbeat',
    64: 'unregister_broker',
    65: 'describe_transactions',
    66: 'list_transactions',
    67: 'allocate_producer_ids',
    68: 'consumer_group_heartbeat',
    69: 'consumer_group_describe',
    70: 'controller_registration',
    71: 'get_telemetry_subscriptions',
    72: 'push_telemetry',
    73: 'assign_replicas_to_dirs',
    74: 'list_config_resources',
    75: 'describe_topic_partitions',
    76: 'share_group_heartbeat',
    77: 'share_group_describe',
    78: 'share_fetch',
    79: 'share_acknowledge',
    80: 'add_raft_voter',
    81: 'remove_raft_voter',
    82: 'update_raft_voter',
    83: 'initialize_share_group_state',
    84: 'read_share_group_state',
    85: 'write_share_group_state',
    86: 'delete_share_group_state',
    87: 'read_share_group_state_summary',
    90: 'describe_share_group_offsets',
    91: 'alter_share_group_offsets',
    92: 'delete_share_group_offsets',
}

# Messages that are not requests or responses: carried inside other messages' bytes fields
# (consumer protocol) or as control records of the metadata log.
DATA_MODULES: tuple[str, ...] = (
    'consumer_protocol_assignment',
    'consumer_protocol_subscription',
    'default_principal_data',
    'kraft_version_record',
    'leader_change_message',
    'snapshot_footer_record',
    'snapshot_header_record',
    'voters_record',
)


@cache
def _module(name: str) -> Any:
    return importlib.import_module(f"protocol.messages.{name}")


def request_spec(api_key: int) -> MessageSpec:
    """The request schema of an API key; KeyError for keys without one."""
    return _module(API_MODULES[api_key]).REQUEST


def response_spec(api_key: int) -> MessageSpec:
    return _module(API_MODULES[api_key]).RESPONSE


def data_spec(name: str) -> MessageSpec:
    """A data message by its name, e.g. "ConsumerProtocolAssignment"."""
    return _module(snake_case(name)).MESSAGE


def request_codec(api_key: int, version: int) -> Codec:
    return codec_for(request_spec(api_key), version)


def response_codec(api_key: int, version: int) -> Codec:
    return codec_for(response_spec(api_key), version)


def all_specs() -> list[MessageSpec]:
    """Every request, response and data schema."""
    specs = []
    for key in sorted(API_MODULES):
        specs += [request_spec(key), response_spec(key)]
    specs += [_module(name).MESSAGE for name in DATA_MODULES]
    return specs


@cache
def _class_index() -> dict[str, MessageSpec]:
    return {spec.name: spec for spec in all_specs()}


_MODULE_NAMES = frozenset(API_MODULES.values()) | frozenset(DATA_MODULES)


def _spec_named(name: str) -> MessageSpec | None:
    """The spec of a top-level message name, loading only its module when the name says
    which (ProduceRequest -> produce); the full index is built only for other names."""
    for suffix in ("Request", "Response", ""):
        if suffix and not name.endswith(suffix):
            continue
        module = snake_case(name[: len(name) - len(suffix)])
        if module in _MODULE_NAMES:
            mod = _module(module)
            for spec in (getattr(mod, "REQUEST", None), getattr(mod, "RESPONSE", None), getattr(mod, "MESSAGE", None)):
                if spec is not None and spec.name == name:
                    return spec
    return _class_index().get(name)


def __getattr__(name: str) -> type:
    """`from protocol.messages import ProduceRequest` gives the generated class."""
    spec = _spec_named(name)
    if spec is None:
        raise AttributeError(name)
    return classes_for(spec)[name]
