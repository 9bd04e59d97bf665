"""UpdateFeatures: finalize feature levels (KIP-584, KIP-778, KIP-1022) through the controller,
as a Kafka broker forwards the request to its active controller.

Kafka 4 applies the updates atomically: the first refused feature refuses the request, as the
top-level error behind "The update failed for all features since the following feature had an
error: ", at every version. Versions 0 and 1 list a result per feature when all succeed;
version 2 lists none.
"""

from __future__ import annotations

from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import UpdateFeaturesResponse
from pybroker.metadata.controller import NotControllerError
from pybroker.metadata.requests import ApiError, FeatureUpdate, UpgradeType
from pybroker.server.dispatch import RequestContext

FAILED_PREFIX = "The update failed for all features since the following feature had an error: "


async def handle_update_features(ctx: RequestContext, request: Any) -> Any:
    v = ctx.api_version
    R = UpdateFeaturesResponse
    updates: dict[str, FeatureUpdate] = {}
    for u in request.feature_updates:
        if v == 0:
            # Version 0 has allow_downgrade instead of an upgrade type.
            kind = UpgradeType.SAFE_DOWNGRADE if u.allow_downgrade else UpgradeType.UPGRADE
        else:
            kind = u.upgrade_type
        updates[u.feature] = FeatureUpdate(u.feature, u.max_version_level, int(kind))
    validate_only = bool(request.validate_only) if v >= 1 else False
    try:
        error: ApiError = await ctx.broker.controller_call("update_features", list(updates.values()), validate_only)
    except NotControllerError:
        error = ApiError.of(ErrorCode.NOT_CONTROLLER)
    if not error.ok:
        return R(throttle_time_ms=0, error_code=error.code, error_message=FAILED_PREFIX + (error.message or ""),
                 results=[])
    results = []
    if v <= 1:
        results = [R.UpdatableFeatureResult(feature=name, error_code=ErrorCode.NONE, error_message="NONE")
                   for name in updates]
    return R(throttle_time_ms=0, error_code=ErrorCode.NONE, error_message=None, results=results)
