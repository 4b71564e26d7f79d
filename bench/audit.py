"""Benchmark the audit trail and the structured logs against AUDIT.md 5.11.

Run: ``.venv/bin/python bench/audit.py [--quick]``. Prints appends/s and p50/p99 per
durability mode (baseline: a bare write+fsync of the same bytes), serialise+chain
cost per entry (baseline: stdlib json + hashlib), verify speed, start-up recovery
time, and the cost of one log line (baseline: the original design's structlog
configuration). Figures from a shared machine are noisy: compare ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

import structlog

from algowatch.audit import AuditWriter, clock_sync_state, verify
from algowatch.audit._format import Chain, encode_line, format_ts, genesis_head
from algowatch.logging import configure_logging, get_logger, shutdown_logging
from algowatch.settings import LoggingSettings

FIELDS = {
    "decision_type": "order_submit",
    "decision": "BUY 100 AAPL LMT 189.23",
    "approved_by": "system",
    "algo": {"id": "mean_rev_v3", "version": "git:3f2a9c1", "config_hash": "sha256:ab12"},
    "context": {"signal_id": "s-1", "bid": 189.2, "ask": 189.25, "age_ms": 3},
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_baseline_fsync(n: int, directory: Path) -> dict[str, float]:
    line = (json.dumps({"seq": 1, **FIELDS}) + "\n").encode()
    fd = os.open(directory / "raw.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    lat = []
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        os.write(fd, line)
        os.fsync(fd)
        lat.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    os.close(fd)
    return {"rate": n / total, "p50": pct(lat, 0.5), "p99": pct(lat, 0.99)}


def bench_mode(
    mode: str, n: int, threads: int, directory: Path, batch: int = 1
) -> dict[str, float]:
    """Return appends/s and p50/p99 of the call's latency (``append``, or ``append_many``)."""
    writer = AuditWriter(directory, durability=mode, state_providers={})  # type: ignore[arg-type]
    lat: list[float] = []
    lock = threading.Lock()
    per = n // threads // batch

    def work() -> None:
        local = []
        records = [("decision", FIELDS)] * batch
        for _ in range(per):
            t = time.perf_counter()
            if batch == 1:
                writer.append("decision", **FIELDS)
            else:
                writer.append_many(records)
            local.append(time.perf_counter() - t)
        with lock:
            lat.extend(local)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    total = time.perf_counter() - start
    writer.close()
    return {"rate": per * batch * threads / total, "p50": pct(lat, 0.5), "p99": pct(lat, 0.99)}


def bench_capture(directory: Path, n: int) -> dict[str, float]:
    providers = {"clock": clock_sync_state, "portfolio_value": lambda: 100_000.0}
    writer = AuditWriter(directory, state_providers=providers)
    lat = []
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        writer.append("decision", **FIELDS)
        lat.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    writer.close()
    return {"rate": n / total, "p50": pct(lat, 0.5), "p99": pct(lat, 0.99)}


def bench_chain(n: int) -> tuple[float, float]:
    chain, prev = Chain(), genesis_head("bench")
    writer = b'{"host":"h","pid":1,"start":"2025-01-01T00:00:00.000000Z"}'
    ts = format_ts(1_733_666_587_123_456_789)
    start = time.perf_counter()
    for seq in range(n):
        _line, prev = encode_line(
            chain,
            prev,
            seq=seq,
            ts=ts,
            mono_ns=seq,
            kind="decision",
            record_id="01JEX3ABCDEFGHJKMNPQRSTVWX",
            writer=writer,
            fields=FIELDS,
        )
    ours = (time.perf_counter() - start) / n
    prev_hex = genesis_head("bench").hex()
    start = time.perf_counter()
    for seq in range(n):
        body = json.dumps(
            {"seq": seq, "ts": ts, "kind": "decision", **FIELDS}, separators=(",", ":")
        ).encode()
        prev_hex = hashlib.sha256(bytes.fromhex(prev_hex) + body).hexdigest()
    base = (time.perf_counter() - start) / n
    return ours, base


def build_trail(directory: Path, n: int) -> None:
    writer = AuditWriter(
        directory,
        durability="async",
        state_providers={},
        checkpoint_every_records=10**9,
        checkpoint_every_seconds=1e9,
    )
    for _ in range(n):
        writer.append("decision", **FIELDS)
    writer.close()


def bench_log_line(n: int) -> tuple[float, float]:
    sink = io.StringIO()
    configure_logging(LoggingSettings(), stream=sink)
    log = get_logger("algowatch.trading")
    start = time.perf_counter()
    for i in range(n):
        log.info(
            "order_submitted",
            order_id=f"o{i}",
            symbol="AAPL",
            side="buy",
            quantity=100,
            price=189.23,
            order_type="limit",
            strategy="mean_rev",
            signal_id="s1",
        )
    ours = (time.perf_counter() - start) / n
    shutdown_logging()
    # the original design's configuration (stdlib logger factory, json renderer)
    sink2 = io.StringIO()
    handler = logging.StreamHandler(sink2)
    root = logging.getLogger("seed")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.processors.UnicodeDecoder(),
            structlog.processors.JSONRenderer(),
        ],
        context_class=dict,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    seed = structlog.get_logger("seed")
    start = time.perf_counter()
    for i in range(n):
        seed.info(
            "order_submitted",
            order_id=f"o{i}",
            symbol="AAPL",
            side="buy",
            quantity=100,
            price=189.23,
            order_type="limit",
            strategy="mean_rev",
            signal_id="s1",
        )
    base = (time.perf_counter() - start) / n
    structlog.reset_defaults()
    return ours, base


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n_sync = 500 if args.quick else 3000
    n_group = 5000 if args.quick else 40000
    n_verify = 20_000 if args.quick else 100_000
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        root = Path(tmp)
        base = bench_baseline_fsync(n_sync, root)
        rows.append(
            (
                "bare write+fsync (baseline)",
                f"{base['rate']:,.0f}/s",
                f"p50 {base['p50'] * 1e3:.3f} ms  p99 {base['p99'] * 1e3:.3f} ms",
                "1.00",
            )
        )
        for mode, n, threads, batch, goal in (
            ("sync", n_sync, 1, 1, ">= 2,000/s, p50 <= 0.5 ms, p99 <= 2 ms"),
            # a group caller waits for the fsync covering its record, so the rate is bound by
            # callers / (fsync + their turns at the GIL): 8 one-record callers cannot reach
            # 20k/s; 32 can, and so can a few callers handing over bursts with append_many
            ("group", n_group, 8, 1, ">= 20,000/s, p99 <= 5 ms"),
            ("group", n_group, 32, 1, ">= 20,000/s, p99 <= 5 ms"),
            ("group", n_group, 64, 1, ">= 20,000/s, p99 <= 5 ms"),
            ("group", n_group, 8, 16, ">= 20,000/s, p99 <= 5 ms"),
            ("async", n_group, 1, 1, "-"),
        ):
            r = bench_mode(mode, n, threads, root / f"{mode}-{threads}-{batch}", batch)
            what = f"{threads} thread{'s' if threads > 1 else ''}"
            if batch > 1:
                what += f", append_many of {batch}"
            rows.append(
                (
                    f"append {mode} ({what})",
                    f"{r['rate']:,.0f}/s",
                    f"p50 {r['p50'] * 1e3:.3f} ms  p99 {r['p99'] * 1e3:.3f} ms  goal {goal}",
                    f"{r['rate'] / base['rate']:.2f}",
                )
            )
        r = bench_capture(root / "capture", 300 if args.quick else 2000)
        rows.append(
            (
                "append sync + state capture (2 providers)",
                f"{r['rate']:,.0f}/s",
                f"p50 {r['p50'] * 1e3:.3f} ms  p99 {r['p99'] * 1e3:.3f} ms  budget 2 ms",
                "-",
            )
        )
        ours, stdlib = bench_chain(20_000)
        rows.append(
            (
                "serialise+chain per entry",
                f"{ours * 1e6:.2f} us",
                f"stdlib json+hashlib {stdlib * 1e6:.2f} us  goal <= 10 us",
                f"{stdlib / ours:.2f}x faster",
            )
        )
        build_trail(root / "big", n_verify)
        report = min((verify(root / "big") for _ in range(3)), key=lambda r: r.elapsed_seconds)
        assert report.ok, report.to_text()
        size = sum(p.stat().st_size for p in (root / "big").glob("audit-*.jsonl"))
        rate = report.records / report.elapsed_seconds
        rows.append(
            (
                "verify",
                f"{rate:,.0f} rec/s",
                f"{size / report.elapsed_seconds / 1e6:.0f} MB/s, {report.records} records"
                "  goal >= 200k rec/s (best of 3)",
                "-",
            )
        )
        start = time.perf_counter()
        AuditWriter(root / "big", state_providers={}, checkpoint_every_records=10**9).close()
        rows.append(
            (
                "start-up recovery",
                f"{time.perf_counter() - start:.3f} s",
                f"{n_verify} records in the active segment  goal <= 1 s",
                "-",
            )
        )
    runs = [bench_log_line(20_000 if args.quick else 50_000) for _ in range(3)]
    ours, seed = min(r[0] for r in runs), min(r[1] for r in runs)
    rows.append(
        (
            "log line (orjson, ours)",
            f"{ours * 1e6:.2f} us",
            f"seed config {seed * 1e6:.2f} us  goal <= 10 us (best of 3)",
            f"{seed / ours:.2f}x faster",
        )
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'figure':>14}  {'ratio':>12}  detail")
    for name, figure, detail, ratio in rows:
        print(f"{name:<{width}}  {figure:>14}  {ratio:>12}  {detail}")
    print("(2 shared vCPUs; ratios are against baselines run in the same process)")


if __name__ == "__main__":
    main()
