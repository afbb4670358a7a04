#!/usr/bin/env python3
"""Turns one run of scripts/bench.sh into one markdown table.

Reads, from the run's directory:
  benches.tsv     bench name, exit status, command (one line per bench run)
  figures.jsonl   lines appended by the hand-written benches
                  (scripts/bench_figure.rs: bench, row, figure, value, unit)
  criterion/      CRITERION_HOME of the criterion benches (mrz, pa, store):
                  */new/benchmark.json and estimates.json, the median taken
  machine.txt     the machine lines, printed above the table

Prints the report; exits 1 when a bench failed or reported nothing.
Usage: bench_table.py RUN_DIR [--quick]
"""

import json
import sys
from pathlib import Path

# How a criterion group is shown: the table row and the unit of its rate
# (benchmarks with a Throughput) or, without one, the time per iteration.
CRITERION_ROWS = {
    "mrz": ("MRZ parse (criterion median)", "parses/s"),
    "pa": ("Passive Authentication, one document (criterion median)", None),
    "store": ("Durable store, WAL + fsync per record (criterion median)", "records/s"),
}


def fmt(value, unit):
    """A figure with about three significant digits and its unit."""
    if value is None:
        text = "n/a"
    elif float(value).is_integer() and abs(value) < 1e15 and unit in ("", "records/s"):
        text = f"{int(value):,}".replace(",", " ")
    elif abs(value) >= 1000:
        text = f"{value:,.0f}".replace(",", " ")
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def criterion_figures(home):
    """(bench, row, figure, value, unit) for every benchmark under `home`, in run order."""
    found = []
    for bench_json in home.glob("**/new/benchmark.json"):
        meta = json.loads(bench_json.read_text())
        estimates = json.loads((bench_json.parent / "estimates.json").read_text())
        ns = estimates["median"]["point_estimate"]
        group, _, rest = meta["group_id"].partition("/")
        name = meta.get("function_id") or rest or group
        row, rate_unit = CRITERION_ROWS.get(group, (f"{group} (criterion median)", "/s"))
        elements = (meta.get("throughput") or {}).get("Elements")
        if rate_unit and elements:
            figure = (group, row, name, elements * 1e9 / ns, rate_unit)
        else:
            figure = (group, row, name, ns / 1000.0, "µs")
        found.append((bench_json.stat().st_mtime, figure))
    return [f for _, f in sorted(found, key=lambda x: x[0])]


def main():
    run = Path(sys.argv[1])
    quick = "--quick" in sys.argv[2:]
    benches = []
    for line in (run / "benches.tsv").read_text().splitlines():
        name, status, command = line.split("\t", 2)
        benches.append((name, int(status), command))

    figures = []
    jsonl = run / "figures.jsonl"
    if jsonl.exists():
        for line in jsonl.read_text().splitlines():
            f = json.loads(line)
            figures.append((f["bench"], f["row"], f["figure"], f["value"], f["unit"]))
    if (run / "criterion").is_dir():
        figures += criterion_figures(run / "criterion")

    # Rows in the order the benches ran, figures in the order they came.
    rows = {}
    for bench, row, figure, value, unit in figures:
        rows.setdefault(bench, {}).setdefault(row, []).append((figure, value, unit))

    failed = []
    kind = "quick check: smaller counts, not for comparison" if quick else "full run"
    out = [f"Benchmark report ({kind})", ""]
    # A blank line after each machine line: separate paragraphs in markdown.
    for line in (run / "machine.txt").read_text().splitlines():
        out += [line, ""]
    out.pop()
    out += ["", "| what | figure | command |", "|---|---|---|"]
    for name, status, command in benches:
        bench_rows = rows.get(name, {})
        if status != 0 or not bench_rows:
            failed.append(name)
            why = f"exit status {status}" if status != 0 else "no figures reported"
            out.append(f"| {name} | **FAILED** ({why}) | `{command}` |")
            continue
        for row, items in bench_rows.items():
            cell = "; ".join(f"{figure} {fmt(value, unit)}" for figure, value, unit in items)
            out.append(f"| {row} | {cell} | `{command}` |")
    if failed:
        out += ["", f"Failed: {', '.join(failed)}"]
    print("\n".join(out))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
