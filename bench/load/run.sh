#!/usr/bin/env bash
# Load-and-validate benchmark: `maifctl validate --quiet` on a generated stack of N nodes.
#
#   bench/load/run.sh [N...]          default: 10000
#
# Builds maifctl in release into .build-release, generates the stack with
# bench/load/gen_stack.py (clusters of 100 nodes, every section filled in),
# checks that it validates with exit 0 and no output, then runs validate
# RUNS times (default 5) under /usr/bin/time and prints a markdown table with
# the median and best wall time, the median CPU time (user + system) and the
# peak RSS. Target: < 0.5 s wall at N=10000. On a busy machine wall time is
# mostly waiting; compare CPU time then.
# MAIFCTL=/path/to/maifctl skips the build; KEEP_TMP=1 keeps the stack file.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000)
runs="${RUNS:-5}"

source "$repo/bench/lib.sh"
bench_need_gnu_time
bench_maifctl "$repo"

work="$(mktemp -d "${TMPDIR:-/tmp}/maif-bench-load.XXXXXX")"
status=0
rows=()
for n in "${sizes[@]}"; do
    stack="$work/stack-$n.yaml"
    python3 "$here/gen_stack.py" "$n" >"$stack"
    lines="$(wc -l <"$stack")"
    kib="$(( $(wc -c <"$stack") / 1024 ))"

    # The stack must be valid: exit 0 and, with --quiet, nothing printed.
    if ! "$maifctl" validate --quiet --no-color "$stack" >"$work/out.txt" 2>&1 || [ -s "$work/out.txt" ]; then
        echo "CHECK FAILED (N=$n): validate did not accept the generated stack:" >&2
        sed -n '1,20p' "$work/out.txt" >&2
        status=1
        continue
    fi

    walls=()
    cpus=()
    rss_max=0
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$maifctl" validate --quiet --no-color "$stack" >/dev/null
        read -r wall user sys rss_kb <"$work/time.txt"
        walls+=("$wall")
        [ "$rss_kb" -gt "$rss_max" ] && rss_max="$rss_kb"
        cpus+=("$(awk "BEGIN{printf \"%.2f\", $user + $sys}")")
    done
    sorted="$(printf '%s\n' "${walls[@]}" | sort -n)"
    median="$(sed -n "$(( (runs + 1) / 2 ))p" <<<"$sorted")"
    best="$(head -n 1 <<<"$sorted")"
    cpu="$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")"
    verdict="ok"
    if [ "$n" -eq 10000 ] && awk "BEGIN{exit !($median >= 0.5)}"; then verdict="**over the 0.5 s target**"; fi
    rows+=("| $n | $lines | $kib | $median | $best | $cpu | $((rss_max / 1024)) | $verdict |")
    echo "N=$n: median ${median}s wall, ${cpu}s CPU over $runs runs" >&2
done

echo "| nodes | stack lines | stack KiB | wall s (median) | wall s (best) | CPU s (median) | peak RSS MB | target |"
echo "|--:|--:|--:|--:|--:|--:|--:|---|"
printf '%s\n' "${rows[@]}"
if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
exit "$status"
