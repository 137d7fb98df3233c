#!/bin/sh
# make bench-intake: wrk drives the load (Debian/Ubuntu package `wrk`). Installed here when it
# is missing and apt-get can (as root, or with sudo that asks no password); otherwise the bench
# runs with bench/loadgen.py and this says so. Always exits 0: the fallback still measures.
command -v wrk >/dev/null 2>&1 && exit 0
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        as_root=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root="sudo -n"
    else
        as_root="none"
    fi
    if [ "$as_root" != none ]; then
        echo "bench-intake: wrk is missing; installing it (apt-get install -y wrk)"
        $as_root apt-get install -y wrk >/dev/null 2>&1 ||
            { $as_root apt-get update >/dev/null 2>&1 && $as_root apt-get install -y wrk >/dev/null 2>&1; }
    fi
fi
if command -v wrk >/dev/null 2>&1; then
    echo "bench-intake: installed $(command -v wrk)"
else
    echo "bench-intake: wrk is not installed and could not be installed here (apt-get install wrk as root);" \
        "the bench uses bench/loadgen.py instead (a Python client: it takes more of the machine's CPU" \
        "than wrk, so the figures are lower and its split of connections over the workers is balanced)"
fi
exit 0
