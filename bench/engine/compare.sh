#!/usr/bin/env bash
# Before/after comparison of two maifctl binaries on the engine bench (issue 11).
#
#   bench/engine/compare.sh BEFORE_BIN AFTER_BIN
#
# Runs `bench/engine/run.sh $N` (default N=10000) with each binary, interleaved
# and in alternating order (before, after, after, before, …) for $ROUNDS rounds
# each (default 5; 0: instruction counts only), so both see the same load on a shared machine, and prints per
# operation the median and the range (min–max) of wall s, CPU s and peak RSS.
# Then, unless CALLGRIND_N=0, counts instructions with valgrind's callgrind
# (load-independent) for the first apply and the no-op plan at CALLGRIND_N
# resources (default 1000): both binaries get the same generated stack; the
# no-op plan of each reads a copy of the state its own apply wrote, as in run.sh. The top functions of each
# profile (callgrind_annotate, self cost) go to $OUT/callgrind/LABEL-STEP/annotate.txt.
# Every run's own table is kept in $OUT (default bench/out/compare-<time>), the tables also in $OUT/summary.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
[ $# -eq 2 ] || { echo "usage: $0 BEFORE_BIN AFTER_BIN" >&2; exit 64; }
before="$(realpath "$1")"; after="$(realpath "$2")"
n="${N:-10000}"; rounds="${ROUNDS:-5}"; cg_n="${CALLGRIND_N:-1000}"
out="${OUT:-$repo/bench/out/compare-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"

run_one() { # LABEL BIN ROUND
    local file="$out/$1-$3.md"
    echo "round $3: $1 (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    echo "<!-- load before: $(cut -d' ' -f1-3 /proc/loadavg) -->" >"$file"
    MAIFCTL="$2" "$here/run.sh" "$n" >>"$file"
}

# ROUNDS=0: instruction counts only.
for ((r = 1; r <= rounds; r++)); do
    if ((r % 2)); then run_one before "$before" "$r"; run_one after "$after" "$r"
    else run_one after "$after" "$r"; run_one before "$before" "$r"; fi
done

[ "$rounds" = 0 ] || python3 - "$out" "$rounds" <<'EOF' | tee "$out/summary.md"
import glob, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
data = {}  # (label, operation) -> [(wall, cpu, rss)]
ops = []
for label in ("before", "after"):
    for r in range(1, rounds + 1):
        for line in open(os.path.join(out, f"{label}-{r}.md")):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) != 6 or not cells[0].isdigit():
                continue
            op = cells[1]
            if op not in ops:
                ops.append(op)
            data.setdefault((label, op), []).append(tuple(float(c) for c in cells[2:5]))

def fmt(values, digits):
    med = statistics.median(values)
    return f"{med:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"

print(f"| operation | wall s before | wall s after | CPU s before | CPU s after | RSS MB before | RSS MB after | CPU after/before |")
print("|---|--:|--:|--:|--:|--:|--:|--:|")
for op in ops:
    b, a = data[("before", op)], data[("after", op)]
    cells = []
    for i, digits in ((0, 2), (1, 2), (2, 0)):
        cells += [fmt([x[i] for x in b], digits), fmt([x[i] for x in a], digits)]
    ratio = statistics.median(x[1] for x in a) / statistics.median(x[1] for x in b)
    print(f"| {op} | " + " | ".join(cells) + f" | {ratio:.2f} |")
EOF

[ "$cg_n" != 0 ] || exit 0
command -v valgrind >/dev/null || { echo "installing valgrind…" >&2; apt-get install -y valgrind >/dev/null; }
cg="$out/callgrind"; mkdir -p "$cg"
python3 "$here/gen_stack.py" "$cg_n" >"$cg/stack.yaml"

# instructions LABEL STEP BIN ARGS…: runs under callgrind in $cg/$LABEL-$STEP, prints the total Ir
# (summed over child processes, if any).
instructions() {
    local label=$1 step=$2 bin=$3; shift 3
    local dir="$cg/$label-$step"
    (cd "$dir" && timeout 900 valgrind --tool=callgrind --trace-children=yes \
        --callgrind-out-file="$dir/callgrind.out.%p" "$bin" "$@" >"$dir/out.txt" 2>"$dir/valgrind.txt")
    local profile; profile=$(ls -S "$dir"/callgrind.out.* | head -n 1)  # the largest: maifctl itself
    { callgrind_annotate --inclusive=no "$profile" 2>/dev/null | head -n 60 | swift demangle --simplified; } >"$dir/annotate.txt" || true
    cat "$dir"/callgrind.out.* | awk '/^summary:/ {s += $2} END {print s}'
}

{ echo; echo "| N=$cg_n, instructions (callgrind) | before | after | after/before |"; echo "|---|--:|--:|--:|"; } | tee -a "$out/summary.md"
declare -A ir
for label in before after; do
    bin=$before; [ $label = after ] && bin=$after
    mkdir -p "$cg/$label-apply" "$cg/$label-noop"
    cp "$cg/stack.yaml" "$cg/$label-apply/"
    ir[$label-apply]=$(instructions "$label" apply "$bin" apply stack.yaml --state state --no-color --auto-approve)
    grep -q "Apply complete\|Plan: $cg_n to add" "$cg/$label-apply/out.txt" || { echo "$label apply failed" >&2; exit 1; }
done
for label in before after; do
    bin=$before; [ $label = after ] && bin=$after
    cp "$cg/stack.yaml" "$cg/$label-noop/"
    cp -a "$cg/$label-apply/state" "$cg/$label-noop/state"
    ir[$label-noop]=$(instructions "$label" noop "$bin" plan stack.yaml --state state --no-color --detailed-exitcode || true)
    grep -q "No changes." "$cg/$label-noop/out.txt" || { echo "$label no-op plan did not say No changes." >&2; exit 1; }
done
for step in apply noop; do
    name="apply (first)"; [ $step = noop ] && name="plan (no-op)"
    b=${ir[before-$step]}; a=${ir[after-$step]}
    echo "| $name | $b | $a | $(awk "BEGIN{printf \"%.3f\", $a / $b}") |"
done | tee -a "$out/summary.md"
