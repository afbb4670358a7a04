#!/usr/bin/env bash
# Runs every benchmark and prints one markdown table of their figures, with
# the machine above it; the same report goes to target/bench-report.md.
#
#   scripts/bench.sh           the full run (~6 minutes on 2 CPUs, half of it the 1M-record catch-up)
#   scripts/bench.sh --quick   smaller counts, a fast check that all benches run
#
# Builds everything first (release/bench profile), then runs the benches one
# after the other. Their own output goes to stderr and to
# target/bench-report/<bench>.log; the figures reach the table through
# $BENCH_REPORT (hand-written benches, scripts/bench_figure.rs) and
# $CRITERION_HOME (criterion benches), read by scripts/bench_table.py.
# Exits 1 when a bench fails or reports nothing, 2 on a bad argument.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
case "${1:-}" in
    "") ;;
    --quick) quick=1 ;;
    *) echo "usage: scripts/bench.sh [--quick]" >&2; exit 2 ;;
esac

. scripts/setup.sh
setup # pcscd + vpcd, for the chip reads
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

if [ "$quick" -eq 1 ]; then
    chip_reads=5 lane_iterations=100 events_per_lane=50 catchup_records=100000 criterion=" -- --quick"
else
    chip_reads=50 lane_iterations=500 events_per_lane=500 catchup_records=1000000 criterion=""
fi

# name|command, in the order of the table. The criterion benches' names are
# their criterion groups (mrz, pa, store). No argument contains a space.
benches=(
    "mrz|cargo bench -p icao9303 --bench mrz$criterion"
    "chip_read|cargo bench -p card-reader --bench chip_read -- $chip_reads"
    "pa|cargo bench -p icao9303 --bench pa$criterion"
    "lane|cargo bench -p kiosk-app --bench lane -- $lane_iterations"
    "store|cargo bench -p kiosk-app --bench store$criterion"
    "catchup|cargo run --release -p sync-receiver --bin catchup-bench -- $catchup_records"
    "supervision|cargo bench -p kiosk-app --bench supervision -- $events_per_lane"
    "render|cargo bench -p ui --bench render"
)

run_dir="$PWD/target/bench-report"
rm -rf "$run_dir"
mkdir -p "$run_dir"
export BENCH_REPORT="$run_dir/figures.jsonl" CRITERION_HOME="$run_dir/criterion"

# Build once, before anything is timed: the same commands with --no-run (and
# the receiver and worker processes the catch-up bench starts).
echo "bench: building" >&2
for entry in "${benches[@]}"; do
    read -ra cmd <<<"${entry#*|}"
    if [ "${cmd[1]}" = run ]; then
        cargo build --release -p sync-receiver --bins >&2
    else
        # "cargo bench -p X --bench Y -- ARGS" -> "cargo bench -p X --bench Y --no-run"
        build=()
        for word in "${cmd[@]}"; do
            [ "$word" = -- ] && break
            build+=("$word")
        done
        "${build[@]}" --no-run >&2
    fi
done

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
: >"$run_dir/benches.tsv"
for entry in "${benches[@]}"; do
    name="${entry%%|*}"
    command="${entry#*|}"
    read -ra cmd <<<"$command"
    echo "bench: $command" >&2
    status=0
    "${cmd[@]}" 2>&1 | tee "$run_dir/$name.log" >&2 || status=$?
    printf '%s\t%s\t%s\n' "$name" "$status" "$command" >>"$run_dir/benches.tsv"
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
ram="$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
{
    echo "Machine: $(nproc) CPUs ($cpu), $ram RAM, Linux $(uname -r), $(rustc --version)"
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average (1/5/15 min) before the runs $load_before, after $load_after"
} >"$run_dir/machine.txt"

status=0
python3 scripts/bench_table.py "$run_dir" $([ "$quick" -eq 1 ] && echo --quick) >target/bench-report.md || status=$?
cat target/bench-report.md
exit "$status"
