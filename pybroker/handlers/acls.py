"""DescribeAcls, CreateAcls and DeleteAcls on a broker without an authorizer.

pybroker has no authorizer (`authorizer.class.name` is not supported), and a Kafka broker
without one answers these requests with SECURITY_DISABLED and "No Authorizer is configured."
rather than refusing the API: `kafka-acls --list` and the admin clients' ACL calls then fail
with Kafka's SecurityDisabledException, not with an unsupported-version error.
"""

from __future__ import annotations

from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import CreateAclsResponse, DeleteAclsResponse, DescribeAclsResponse
from pybroker.server.dispatch import RequestContext

NO_AUTHORIZER = "No Authorizer is configured."


def handle_describe_acls(ctx: RequestContext, request: Any) -> Any:
    return DescribeAclsResponse(error_code=ErrorCode.SECURITY_DISABLED, error_message=NO_AUTHORIZER, resources=[])


def handle_create_acls(ctx: RequestContext, request: Any) -> Any:
    R = CreateAclsResponse
    return R(results=[R.AclCreationResult(error_code=ErrorCode.SECURITY_DISABLED, error_message=NO_AUTHORIZER)
                      for _ in request.creations])


def handle_delete_acls(ctx: RequestContext, request: Any) -> Any:
    R = DeleteAclsResponse
    return R(filter_results=[R.DeleteAclsFilterResult(error_code=ErrorCode.SECURITY_DISABLED,
                                                      error_message=NO_AUTHORIZER, matching_acls=[])
                             for _ in request.filters])
