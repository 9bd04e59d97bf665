"""ApiVersions: the versions of every API the broker serves, and its features."""

from __future__ import annotations

import re
from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import ApiVersionsResponse
from pybroker.server.dispatch import RequestContext

# KIP-511: client software names and versions must look like this from v3 on.
_SOFTWARE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?")


def api_versions_response(broker: Any, error: int = ErrorCode.NONE) -> Any:
    keys = [
        ApiVersionsResponse.ApiVersion(api_key=key, min_version=low, max_version=high)
        for key, (low, high) in sorted(broker.advertised_apis().items())
    ]
    supported, finalized, epoch = broker.features()
    return ApiVersionsResponse(
        error_code=error,
        api_keys=keys,
        throttle_time_ms=0,
        supported_features=[
            ApiVersionsResponse.SupportedFeatureKey(name=name, min_version=low, max_version=high)
            for name, (low, high) in sorted(supported.items())
        ],
        finalized_features_epoch=epoch,
        finalized_features=[
            ApiVersionsResponse.FinalizedFeatureKey(name=name, max_version_level=level, min_version_level=level)
            for name, level in sorted(finalized.items())
        ],
        zk_migration_ready=False,
    )


def handle_api_versions(ctx: RequestContext, request: Any) -> Any:
    if ctx.api_version >= 3:
        name = request.client_software_name
        version = request.client_software_version
        if not (_SOFTWARE.fullmatch(name or "") and _SOFTWARE.fullmatch(version or "")):
            response = api_versions_response(ctx.broker, ErrorCode.INVALID_REQUEST)
            response.api_keys = []
            return response
        ctx.state["client_software"] = (name, version)
    response = api_versions_response(ctx.broker)
    if ctx.api_version < 4:
        # Up to v3, a feature whose minimum version is 0 is left out (KAFKA-17011).
        response.supported_features = [f for f in response.supported_features if f.min_version > 0]
    return response
