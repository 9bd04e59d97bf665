"""DescribeLogDirs: the log directories of this broker and the partitions in each."""

from __future__ import annotations

import os
from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import DescribeLogDirsResponse
from pybroker.server.dispatch import RequestContext


def handle_describe_log_dirs(ctx: RequestContext, request: Any) -> Any:
    R = DescribeLogDirsResponse
    logs = ctx.broker.logs
    wanted: set[tuple[str, int]] | None = None
    if request.topics is not None:
        wanted = {(t.topic, p) for t in request.topics for p in t.partitions}
    by_dir: dict[str, dict[str, list[Any]]] = {str(d): {} for d in logs.log_dirs}
    for (topic, index), log in sorted(logs.all_logs().items()):
        if wanted is not None and (topic, index) not in wanted:
            continue
        log_dir = str(logs.log_dir_of(topic, index))
        partition = ctx.broker.replicas.get(topic, index)
        lag = 0
        if partition is not None and not partition.is_leader:
            lag = max(0, partition.high_watermark - log.log_end_offset)
        by_dir.setdefault(log_dir, {}).setdefault(topic, []).append(
            R.DescribeLogDirsPartition(partition_index=index, partition_size=log.size_in_bytes,
                                       offset_lag=lag, is_future_key=False)
        )
    results = []
    for log_dir, topics in by_dir.items():
        try:
            st = os.statvfs(log_dir)
            total, usable = st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
        except OSError:
            total = usable = -1
        results.append(
            R.DescribeLogDirsResult(
                error_code=ErrorCode.NONE,
                log_dir=os.path.abspath(log_dir),
                topics=[R.DescribeLogDirsTopic(name=t, partitions=ps) for t, ps in sorted(topics.items())],
                total_bytes=total,
                usable_bytes=usable,
            )
        )
    return R(throttle_time_ms=0, error_code=ErrorCode.NONE, results=results)
