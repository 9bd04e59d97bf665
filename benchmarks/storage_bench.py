"""Storage benchmarks: append and read throughput against plain os.write / os.pread of the
same bytes in the same run, open time after a clean shutdown, recovery time after a crash.

    python benchmarks/storage_bench.py            # full run (writes a 2 GiB log, then frees it)
    python benchmarks/storage_bench.py --quick    # smaller sizes, for a smoke test
    python benchmarks/storage_bench.py --only breakdown   # where a 64 KiB append's time goes
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import sys
import threading
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import crc32c  # noqa: E402

from protocol.records import ATTRIBUTES, HEADER_SIZE, Record, build_batch  # noqa: E402
from storage import FileCache, Log, LogConfig  # noqa: E402
from storage.batches import validate_payload  # noqa: E402
from storage.files import reserve_blocks  # noqa: E402

MiB = 1024 * 1024


def make_batch(size: int, records: int = 1) -> bytes:
    """A valid uncompressed v2 batch of exactly `size` bytes holding `records` records."""
    per = (size - HEADER_SIZE) // records

    def build(last_value: int) -> bytes:
        values = [per - 8] * (records - 1) + [last_value]
        return build_batch([Record(i, 0, None, b"x" * v) for i, v in enumerate(values)], base_timestamp=1000)

    guess = size - HEADER_SIZE - (records - 1) * per - 8
    for _ in range(4):
        data = build(guess)
        if len(data) == size:
            return data
        guess += size - len(data)
    raise AssertionError(f"cannot build a batch of exactly {size} bytes")


def rate(nbytes: int, seconds: float) -> float:
    return nbytes / seconds / 1e6


def settle() -> None:
    """Let the kernel write back and free pages between timed runs (outside the timing)."""
    os.sync()
    time.sleep(0.2)


def bench_raw_write(path: Path, batch: bytes, n: int) -> float:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    t = time.perf_counter()
    for _ in range(n):
        os.write(fd, batch)
    el = time.perf_counter() - t
    os.close(fd)
    return el


def bench_raw_write_reserved(path: Path, batch: bytes, n: int) -> float:
    """os.write into blocks allocated beforehand (fallocate, size kept): what Log.append's
    own allocation ahead lets the kernel do, the ceiling of that method."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    t = time.perf_counter()
    reserve_blocks(fd, 0, n * len(batch))
    for _ in range(n):
        os.write(fd, batch)
    el = time.perf_counter() - t
    os.close(fd)
    return el


def bench_raw_write_many(root: Path, batch: bytes, n: int, files: int) -> float:
    fds = [os.open(root / f"raw-{i}.bin", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644) for i in range(files)]
    t = time.perf_counter()
    for i in range(n):
        os.write(fds[i % files], batch)
    el = time.perf_counter() - t
    for fd in fds:
        os.close(fd)
    return el


def bench_append_one(root: Path, batch: bytes, n: int) -> float:
    log = Log.open(root / "one-0", LogConfig())
    t = time.perf_counter()
    for _ in range(n):
        log.append(batch, leader_epoch=0)
    el = time.perf_counter() - t
    log.close_without_flush()
    return el


def bench_append_many(root: Path, batch: bytes, n: int, partitions: int) -> float:
    cache = FileCache(1024)
    logs = [Log.open(root / f"many-{p}", LogConfig(), cache=cache) for p in range(partitions)]
    t = time.perf_counter()
    for i in range(n):
        logs[i % partitions].append(batch, leader_epoch=0)
    el = time.perf_counter() - t
    for log in logs:
        log.close_without_flush()
    return el


def clear(root: Path) -> None:
    for entry in os.scandir(root):
        if entry.is_dir():
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
    settle()


def append_section(root: Path, quick: bool, repeats: int) -> None:
    print("== append (page cache, no fsync) ==")
    for size, total in ((1024, 32 * MiB if quick else 64 * MiB), (64 * 1024, 64 * MiB if quick else 256 * MiB)):
        batch = make_batch(size, records=1 if size <= 1024 else 16)
        n = total // size
        raw, reserved, raw_many, one, many = [], [], [], [], []
        for _ in range(repeats):  # interleaved so that page-cache drift hits all alike
            raw.append(bench_raw_write(root / "raw.bin", batch, n))
            clear(root)
            reserved.append(bench_raw_write_reserved(root / "raw.bin", batch, n))
            clear(root)
            one.append(bench_append_one(root, batch, n))
            clear(root)
            raw_many.append(bench_raw_write_many(root, batch, n, 100))
            clear(root)
            many.append(bench_append_many(root, batch, n, 100))
            clear(root)
        r, rm = statistics.median(raw), statistics.median(raw_many)
        o, m = statistics.median(one), statistics.median(many)
        rr = statistics.median(reserved)
        print(f"{size // 1024:>3} KiB batches x {n}:")
        print(f"    os.write, 1 file          {rate(n * size, r):8.0f} MB/s {n / r:10.0f} batches/s")
        print(f"    os.write, 1 file, blocks allocated ahead {rate(n * size, rr):8.0f} MB/s")
        print(f"    Log.append, 1 log         {rate(n * size, o):8.0f} MB/s {n / o:10.0f} batches/s  {r / o:5.0%} of 1 file"
              f" ({rr / o:.0%} of the file with blocks allocated ahead)")
        print(f"    os.write, 100 files (rr)  {rate(n * size, rm):8.0f} MB/s {n / rm:10.0f} batches/s")
        print(f"    Log.append, 100 logs (rr) {rate(n * size, m):8.0f} MB/s {n / m:10.0f} batches/s  "
              f"{r / m:5.0%} of 1 file, {rm / m:5.0%} of 100 files")


def read_section(root: Path, quick: bool, repeats: int) -> None:
    print("== read (page cache) ==")
    for size, total, max_bytes in ((1024, 64 * MiB, MiB), (64 * 1024, 256 * MiB, MiB), (64 * 1024, 256 * MiB, 16 * MiB)):
        if quick:
            total //= 4
        per_batch = 1 if size <= 1024 else 16
        batch = make_batch(size, records=per_batch)
        log = Log.open(root / "read-0", LogConfig())
        n = total // size
        for _ in range(n):
            log.append(batch, leader_epoch=0)
        log.high_watermark = log.log_end_offset
        path = log.segments()[0].log_ref.path
        fd = os.open(path, os.O_RDONLY)
        t_log, t_raw = [], []
        for _ in range(repeats):  # interleaved, as for appends
            offset, ranges = 0, []
            t = time.perf_counter()
            while offset < log.log_end_offset:
                r = log.read(offset, max_bytes, max_offset=log.high_watermark)
                offset += len(r.records) // size * per_batch
                ranges.append(len(r.records))
            assert sum(ranges) == total
            t_log.append(time.perf_counter() - t)
            pos = 0
            t = time.perf_counter()
            for length in ranges:  # the same byte ranges, with plain pread
                pos += len(os.pread(fd, length, pos))
            t_raw.append(time.perf_counter() - t)
        os.close(fd)
        lt, rt = statistics.median(t_log), statistics.median(t_raw)
        print(f"{size // 1024:>3} KiB batches, fetch max_bytes {max_bytes // MiB} MiB, {total // MiB} MiB:")
        print(f"    os.pread ceiling   {rate(total, rt):8.0f} MB/s")
        print(f"    log.read           {rate(total, lt):8.0f} MB/s  {rt / lt:6.0%} of ceiling")
        # A consumer at the tail: the newest batch, again and again.
        last = log.log_end_offset - 1
        k = 20000
        t = time.perf_counter()
        for _ in range(k):
            log.read(last, max_bytes, max_offset=log.high_watermark)
        per = (time.perf_counter() - t) / k
        print(f"    tail read (newest batch)  {per * 1e6:6.1f} us per read")
        log.close_without_flush()
        shutil.rmtree(root / "read-0")


def open_and_recovery_section(root: Path, size_gib: float, tail_mib: int) -> None:
    print(f"== open and recovery, {size_gib:g} GiB log, 64 KiB batches, segment.bytes 1 GiB ==")
    batch = make_batch(64 * 1024, records=16)
    cfg = LogConfig()
    path = root / "big-0"
    log = Log.open(path, cfg)
    n = int(size_gib * 1024 * 1024 * 1024) // len(batch)
    t = time.perf_counter()
    for _ in range(n):
        log.append(batch, leader_epoch=0)
    print(f"    wrote {n * len(batch) / 2**30:.2f} GiB in {time.perf_counter() - t:.1f} s, {log.number_of_segments} segments")
    log.close()
    times = []
    for _ in range(5):
        t = time.perf_counter()
        reopened = Log.open(path, cfg, clean_shutdown=True)
        times.append(time.perf_counter() - t)
        assert reopened.log_end_offset == n * 16
        reopened.close()
    print(f"    open after clean shutdown: {statistics.median(times) * 1000:7.2f} ms (median of 5)")

    log = Log.open(path, cfg, clean_shutdown=True)
    log.roll()  # the unflushed tail starts a segment, as it would after a roll
    rp = log.flush()
    for _ in range(tail_mib * MiB // len(batch)):
        log.append(batch, leader_epoch=0)
    end = log.log_end_offset
    log.close_without_flush()  # crash: no trim, no snapshot, no clean-shutdown marker
    t = time.perf_counter()
    recovered = Log.open(path, cfg, recovery_point=rp)
    small = time.perf_counter() - t
    assert recovered.log_end_offset == end
    recovered.close_without_flush()
    t = time.perf_counter()
    recovered = Log.open(path, cfg, recovery_point=0)
    full = time.perf_counter() - t
    assert recovered.log_end_offset == end
    recovered.close_without_flush()
    print(f"    recovery after a crash, {tail_mib} MiB unflushed tail: {small * 1000:8.1f} ms")
    print(f"    recovery after a crash, whole log unflushed:      {full * 1000:8.1f} ms")
    shutil.rmtree(path)


def per_call_us(root: Path, name: str, n: int, step) -> float:
    """Microseconds per call of step(fd, i) against a new file, after the page cache settles."""
    settle()
    fd = os.open(root / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    t = time.perf_counter()
    for i in range(n):
        step(fd, i)
    el = time.perf_counter() - t
    os.close(fd)
    os.unlink(root / name)
    return el / n * 1e6


def append_us(root: Path, batch: bytes, n: int, write: bool) -> float:
    settle()
    log = Log.open(root / "breakdown", LogConfig())
    if not write:  # everything Log.append does except the system call
        log.cache.pwritev = lambda ref, buffers, pos, total: None
    t = time.perf_counter()
    for _ in range(n):
        log.append(batch, leader_epoch=0)
    el = time.perf_counter() - t
    log.close_without_flush()
    shutil.rmtree(root / "breakdown")
    return el / n * 1e6


def breakdown_section(root: Path, quick: bool, repeats: int) -> None:
    """Where the time of a 64 KiB append goes, each part timed on its own in this run."""
    print("== append breakdown, 64 KiB batches (µs per batch, median) ==")
    size = 64 * 1024
    batch = make_batch(size, records=16)
    view = memoryview(batch)
    n = 1024 if quick else 4096
    prefix = struct.Struct(">qii")
    lock = threading.RLock()

    def least_python(_fd: int, i: int) -> tuple:
        # The minimum any Python append must do: view, validate, prefix, lock, a result.
        v = memoryview(batch).cast("B")
        found = validate_payload(v, 1 << 30)
        with lock:
            iov = []
            for pos, sz, _h in found:
                iov.append(prefix.pack(i, sz - 12, 0))
                iov.append(v[pos + 16:pos + sz])
            return (i, i, 0, 0, -1, 0, 16, sz, False, False, False)

    parts = {
        "os.write of the batch (the ceiling)": lambda fd, i: os.write(fd, batch),
        "CRC32C of the batch": lambda fd, i: crc32c.crc32c(view[ATTRIBUTES:]),
        "os.pwritev of a 16-byte prefix + the rest": lambda fd, i: os.pwritev(fd, [prefix.pack(i, size - 12, 0), view[16:]], i * size),
        "least Python per append, no write (CRC included)": least_python,
    }
    results = {name: statistics.median(per_call_us(root, "part.bin", n, step) for _ in range(repeats))
               for name, step in parts.items()}
    results["Log.append without its write"] = statistics.median(append_us(root, batch, n, False) for _ in range(repeats))
    results["Log.append"] = statistics.median(append_us(root, batch, n, True) for _ in range(repeats))
    for name, us in results.items():
        print(f"    {name:<52} {us:7.1f}")
    ceiling = results["os.write of the batch (the ceiling)"]
    floor = results["os.pwritev of a 16-byte prefix + the rest"] + results["least Python per append, no write (CRC included)"]
    print(f"    best share any Python append could reach here: {ceiling / floor:.0%}; "
          f"Log.append: {ceiling / results['Log.append']:.0%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    ap.add_argument("--dir", default=None, help="scratch directory (default: a temp dir)")
    ap.add_argument("--open-size-gib", type=float, default=2.0, help="log size for the open/recovery test")
    ap.add_argument("--tail-mib", type=int, default=16, help="unflushed tail for the recovery test")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip-open", action="store_true", help="skip the open/recovery section")
    ap.add_argument("--only", choices=("append", "read", "open", "breakdown"), help="run one section")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="storage-bench-", dir=args.dir))
    try:
        if args.only in (None, "append"):
            append_section(root, args.quick, args.repeats)
        if args.only in (None, "breakdown"):
            breakdown_section(root, args.quick, args.repeats)
        if args.only in (None, "read"):
            read_section(root, args.quick, args.repeats)
        if args.only in (None, "open") and not args.skip_open:
            size = min(args.open_size_gib, 0.25) if args.quick else args.open_size_gib
            open_and_recovery_section(root, size, min(args.tail_mib, 4) if args.quick else args.tail_mib)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
