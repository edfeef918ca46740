# Shared by the bench scripts (sourced, not run): the release binary to time, and GNU time.

# Sets `maifctl`: $MAIFCTL when given, else a release build in .build-release of the repository at $1.
bench_maifctl() {
    local repo=$1
    if [ -n "${MAIFCTL:-}" ]; then
        maifctl="$MAIFCTL"
    else
        echo "building maifctl (release)…" >&2
        (cd "$repo" && swift build -c release --product maifctl --scratch-path .build-release >&2)
        maifctl="$(cd "$repo" && swift build -c release --scratch-path .build-release --show-bin-path)/maifctl"
    fi
}

# /usr/bin/time (GNU time) reports wall, CPU and peak memory; installed when missing.
bench_need_gnu_time() {
    if [ ! -x /usr/bin/time ]; then
        echo "installing GNU time…" >&2
        apt-get install -y time >/dev/null
    fi
}
