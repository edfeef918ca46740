#!/usr/bin/env bash
# Engine benchmark (issue 3): plan/apply/destroy of N `local.null` resources.
#
#   bench/engine/run.sh [N...]        default: 1000 10000
#
# Builds maifctl in release into .build-release, then for each N, in a fresh
# temporary directory, times with /usr/bin/time (wall seconds, CPU seconds =
# user + system, peak RSS):
# plan on empty state, first apply, no-op plan, plan after changing 1% of the
# resources, apply of that change, destroy. Checks correctness on the way and
# prints a markdown table; exits non-zero if any check failed.
# MAIFCTL=/path/to/maifctl skips the build and times that binary instead;
# KEEP_TMP=1 keeps the temporary directories.
# The state directories go on tmpfs (/dev/shm) when there is one, BENCH_DIR=DIR puts them elsewhere. On ext4 without
# a journal, creating 10,000 files within about half a minute of deleting as many (the previous run's destroy and
# clean-up) makes the kernel walk its recently-deleted inodes on every create (ext4 `recently_deleted`): seconds of
# system time that depend on what ran before, not on maifctl (bench/README.md, "Issue 11: before and after").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)

source "$repo/bench/lib.sh"
bench_need_gnu_time
bench_maifctl "$repo"

bench_dir="${BENCH_DIR:-}"
if [ -z "$bench_dir" ]; then
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then bench_dir=/dev/shm; else bench_dir="${TMPDIR:-/tmp}"; fi
fi
echo "state directories under $bench_dir" >&2

failures=0
rows=()

fail() { echo "CHECK FAILED (N=$n, $1)" >&2; failures=$((failures + 1)); }

# measure LABEL EXPECTED_EXIT CMD... — runs CMD in $work, records a table row.
measure() {
    local label="$1" expected="$2"; shift 2
    local status=0
    (cd "$work" && /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$work/err.txt") || status=$?
    # The last line: /usr/bin/time puts "Command exited with non-zero status" before it on a failure.
    local wall user sys rss_kb
    read -r wall user sys rss_kb < <(tail -n 1 "$work/time.txt")
    local note="exit $status"
    if [ "$status" -ne "$expected" ]; then
        fail "$label: exit $status, expected $expected"; note="**exit $status, expected $expected**"
        sed -n '1,20p' "$work/err.txt" >&2
    fi
    local summary
    summary="$(grep -Eo '(Plan: [0-9]+ to add, [0-9]+ to change, [0-9]+ to destroy\.|No changes\.)' "$work/out.txt" | tail -n 1 || true)"
    [ -n "$summary" ] && note="$note; $summary"
    rows+=("| $n | $label | $wall | $(awk "BEGIN{printf \"%.2f | %.0f\", $user + $sys, $rss_kb/1024}") | $note |")
    last_summary="$summary"
}

# check_state EXPECTED_COUNT — resource files in the state dir, and a clean work tree.
check_state() {
    local count dirty
    count="$( (find "$work/state/bench/resources" -name '*.json' 2>/dev/null || true) | wc -l)"
    [ "$count" -eq "$1" ] || fail "state has $count resource files, expected $1"
    dirty="$(git -C "$work/state" status --porcelain | head -n 5)"
    [ -z "$dirty" ] || fail "state work tree not clean: $dirty"
}

for n in "${sizes[@]}"; do
    work="$(mktemp -d "$bench_dir/maif-bench-$n.XXXXXX")"
    python3 "$here/gen_stack.py" "$n" >"$work/stack.yaml"
    python3 "$here/gen_stack.py" "$n" --change-percent 1 >"$work/stack-changed.yaml"
    changed="$(grep -c 'v: "2"' "$work/stack-changed.yaml" || true)"
    echo "N=$n in $work" >&2

    measure "plan (empty state)" 2 "$maifctl" plan stack.yaml --state state --no-color --detailed-exitcode
    [ "$last_summary" = "Plan: $n to add, 0 to change, 0 to destroy." ] || fail "empty plan summary: $last_summary"

    measure "apply (first)" 0 "$maifctl" apply stack.yaml --state state --no-color --auto-approve
    check_state "$n"

    measure "plan (no-op)" 0 "$maifctl" plan stack.yaml --state state --no-color --detailed-exitcode
    [ "$last_summary" = "No changes." ] || fail "no-op plan summary: $last_summary"

    measure "plan (1% changed)" 2 "$maifctl" plan stack-changed.yaml --state state --no-color --detailed-exitcode
    [ "$last_summary" = "Plan: $changed to add, 0 to change, $changed to destroy." ] || fail "1% plan summary: $last_summary"

    commits_before="$(git -C "$work/state" rev-list --count HEAD)"
    measure "apply (1% changed)" 0 "$maifctl" apply stack-changed.yaml --state state --no-color --auto-approve
    check_state "$n"
    touched="$(git -C "$work/state" show --name-only --format= HEAD | grep -c '/resources/' || true)"
    [ "$touched" -eq "$changed" ] || fail "change commit touched $touched resource files, expected $changed"
    [ "$(git -C "$work/state" rev-list --count HEAD)" -eq $((commits_before + 1)) ] || fail "expected one new commit"

    measure "destroy" 0 "$maifctl" destroy stack-changed.yaml --state state --no-color --auto-approve
    check_state 0

    if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
done

echo "| N | operation | wall s | CPU s | peak RSS MB | check |"
echo "|--:|---|--:|--:|--:|---|"
printf '%s\n' "${rows[@]}"
if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
