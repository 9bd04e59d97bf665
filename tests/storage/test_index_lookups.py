"""Sparse offset and time index lookups agree with brute-force scans of the log."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from storage import Log, LogConfig

from storage_helpers import make_batch

batches_st = st.lists(
    st.tuples(st.integers(1, 4), st.integers(0, 300), st.lists(st.integers(0, 5000), min_size=4, max_size=4)),
    min_size=1, max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=batches_st, interval=st.integers(0, 800), reopen=st.booleans())
def test_lookups_match_brute_force(tmp_path_factory, batches, interval, reopen):
    path = tmp_path_factory.mktemp("idx") / "t-0"
    cfg = LogConfig(segment_bytes=1500, index_interval_bytes=interval, segment_index_bytes=4096)
    log = Log.open(path, cfg)
    records = []  # (offset, timestamp)
    for n, size, stamps in batches:
        ts = stamps[:n]
        r = log.append(make_batch(n, value_size=size, timestamps=ts), leader_epoch=0)
        records += [(r.first_offset + i, t) for i, t in enumerate(ts)]
    if reopen:
        log.close()
        log = Log.open(path, cfg, clean_shutdown=True)
    # offset -> position: the first batch whose last offset reaches the target
    for seg in log.segments():
        layout = [(p, b, b + d) for p, b, d, _s, _t in seg.scan_headers(0)]
        for target in range(seg.base_offset, seg.read_next_offset() + 1):
            brute = next((p for p, _b, last in layout if last >= target), None)
            assert seg.find_position(target) == brute
    # timestamp -> first record at or after it (ListOffsets by time)
    for target in sorted({t for _o, t in records} | {0, 2500, 5001}):
        brute = next(((t, o) for o, t in records if t >= target), None)
        assert log.offset_for_timestamp(target) == brute
    best = max(t for _o, t in records)
    assert log.latest_timestamp() == (best, next(o for o, t in records if t == best))
