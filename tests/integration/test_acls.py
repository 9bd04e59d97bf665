"""ACL requests on a broker without an authorizer: SECURITY_DISABLED, as Kafka answers them,
through confluent-kafka and kafka-python (the Java admin client: test_java_clients.py)."""

from __future__ import annotations

import confluent_kafka as ck
import pytest
from confluent_kafka.admin import (
    AclBinding, AclBindingFilter, AclOperation, AclPermissionType, AdminClient, ResourcePatternType, ResourceType,
)

from protocol import messages as m
from protocol.errors import ErrorCode
from pybroker.tools.client import BrokerConnection


def test_confluent_acl_calls_report_security_disabled(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
    any_filter = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
                                  AclOperation.ANY, AclPermissionType.ANY)
    binding = AclBinding(ResourceType.TOPIC, "t", ResourcePatternType.LITERAL, "User:alice", "*",
                         AclOperation.READ, AclPermissionType.ALLOW)
    # (librdkafka's describe_acls drops a top-level error and returns no bindings; kafka-python
    # and the Java client report it, below and in test_java_clients.py.)
    for future in (*admin.create_acls([binding]).values(), *admin.delete_acls([any_filter]).values()):
        with pytest.raises(ck.KafkaException) as info:
            future.result(10)
        assert info.value.args[0].code() == ck.KafkaError.SECURITY_DISABLED


def test_kafka_python_describe_acls_reports_security_disabled(broker):
    kafka_admin = pytest.importorskip("kafka.admin")
    from kafka.errors import SecurityDisabledError

    admin = kafka_admin.KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    try:
        acl_filter = kafka_admin.ACLFilter(principal=None, host="*", operation=kafka_admin.ACLOperation.ANY,
                                           permission_type=kafka_admin.ACLPermissionType.ANY,
                                           resource_pattern=kafka_admin.ResourcePatternFilter(
                                               kafka_admin.ResourceType.ANY, None, kafka_admin.ACLResourcePatternType.ANY))
        with pytest.raises(SecurityDisabledError):
            admin.describe_acls(acl_filter)
    finally:
        admin.close()


@pytest.mark.parametrize("version", [1, 2, 3])
def test_every_version_carries_kafkas_message(broker, version):
    D = m.DescribeAclsRequest
    with BrokerConnection("127.0.0.1", broker.port).connect() as conn:
        r = conn.request(29, D(resource_type_filter=1, resource_name_filter=None, pattern_type_filter=1,
                               principal_filter=None, host_filter=None, operation=1, permission_type=1),
                         version=version)
    assert (r.error_code, r.error_message, r.resources) == (ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.", [])
