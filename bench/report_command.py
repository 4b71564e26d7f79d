"""``algowatch report`` on a 1,000,000-event stream: an event file and a data folder.

The seeded mixed stream of ``bench/replay_command.py`` (marks and order lifecycles over
50 symbols) is written to a temporary folder, and journaled into a data folder with
``algowatch replay FILE --journal DIR``. Then, interleaved and best of ``--repeat``, as
subprocesses timed from spawn to exit:

1. the baseline, ``algowatch replay FILE`` (read, decode, the engine, a summary);
2. ``algowatch report FILE --out report.html`` (the same replay, then the page);
3. ``algowatch report DIR --out report.html`` (the journal replayed, then the page).

It prints the seconds of each, the ratios report / replay, and the page's size. The
report's extra cost over the replay is the page (figures, up to ``max_recent_orders``
orders and ``max_recent_trades`` trades, the SVG charts): it should stay a small
fraction. Usage: python bench/report_command.py [--quick] [--events N] [--repeat R]
The machine may be shared: compare the ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from replay_command import _child_env, _command, write_stream


def _timed(*args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([*_command(), *args], capture_output=True, env=_child_env(), check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        msg = f"algowatch {args[0]} exited with {done.returncode}: {done.stderr[-2000:]!r}"
        raise RuntimeError(msg)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200,000 events, 2 repeats")
    parser.add_argument("--events", type=int, help="events in the stream (default 1,000,000)")
    parser.add_argument("--repeat", type=int, help="interleaved runs, best kept (default 3)")
    args = parser.parse_args()
    n = args.events or (200_000 if args.quick else 1_000_000)
    repeat = args.repeat or (2 if args.quick else 3)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / f"mixed-{n}.ndjson"
        write_stream(path, n)
        data_dir = folder / "data"
        journal_seconds = _timed("replay", str(path), "--journal", str(data_dir))
        out = folder / "report.html"
        _timed("report", str(path), "--out", str(out))  # untimed: bytecode caches
        replay_runs, file_runs, folder_runs = [], [], []
        for _ in range(repeat):
            replay_runs.append(_timed("replay", str(path)))
            file_runs.append(_timed("report", str(path), "--out", str(out)))
            folder_runs.append(_timed("report", str(data_dir), "--out", str(out)))
        size_kb = out.stat().st_size / 1e3
    replay_s, file_s, folder_s = min(replay_runs), min(file_runs), min(folder_runs)
    rows = [
        ("events", f"{n:,}"),
        ("algowatch replay FILE --journal DIR (once, s)", f"{journal_seconds:.2f}"),
        ("algowatch replay FILE (baseline, s)", f"{replay_s:.2f}"),
        ("algowatch report FILE --out (s)", f"{file_s:.2f}"),
        ("algowatch report DIR --out (s)", f"{folder_s:.2f}"),
        ("ratio report FILE / replay FILE", f"{file_s / replay_s:.2f}"),
        ("ratio report DIR / replay FILE", f"{folder_s / replay_s:.2f}"),
        ("page size (kB)", f"{size_kb:,.0f}"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        sys.stdout.write(f"{label:<{width}}  {value:>10}\n")


if __name__ == "__main__":
    main()
