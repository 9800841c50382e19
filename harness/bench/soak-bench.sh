#!/usr/bin/env bash
# soak-bench: the scripted benchmark of `kext-harness soak` at true scale (a 32 GiB Mac, its
# 12 GiB zone map, about 137 million leaked kalloc.48 elements before the panic).
#
# Runs the soak the way a user does, through the kext-harness launcher, each run in a fresh JVM
# with an explicit heap, and reports per run: the wall time, the peak Java heap (the largest
# heap occupancy G1 logged before a collection), the process's peak RSS, the 1-minute load
# average before and after (other builds share the machine), and the panic's element count.
# Then the medians. Nothing here runs in the build: run it by hand.
#
#   harness/bench/soak-bench.sh [runs] [soak options...]     e.g. harness/bench/soak-bench.sh 5 --chart none
#
# Environment: SOAK_BENCH_HEAP (default -Xmx1536m), JAVA_HOME (the JDK to use).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
runs=${1:-5}
shift || true
heap=${SOAK_BENCH_HEAP:--Xmx1536m}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Build outside the timing (the launcher builds on first use and when sources changed).
"$root/kext-harness" --version >/dev/null

median() { sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }

echo "java: $("${JAVA_HOME:+$JAVA_HOME/bin/}java" -version 2>&1 | head -1), heap option: $heap, cpus: $(nproc)"
printf '%-4s %9s %11s %10s %11s %11s  %s\n' run wall_s peak_heap_M rss_M load_before load_after "panic"
for i in $(seq 1 "$runs"); do
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  start=$(date +%s%N)
  status=0
  KEXT_HARNESS_JAVA_OPTS="$heap -Xlog:gc:file=$work/gc-$i.log" \
    /usr/bin/time -f '%M' -o "$work/rss-$i" \
    "$root/kext-harness" soak --no-progress --out "$work/out-$i" "$@" >"$work/stdout-$i" 2>&1 || status=$?
  end=$(date +%s%N)
  load_after=$(cut -d' ' -f1 /proc/loadavg)
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", (b - a) / 1e9}')
  peak=$(grep -o '[0-9]*M->[0-9]*M' "$work/gc-$i.log" | sed 's/M->.*//' | sort -n | tail -1)
  rss=$(( $(tail -1 "$work/rss-$i") / 1024 ))
  panic=$(grep -o 'likely due to memory leak in zone [^ ]* ([0-9]* total bytes, [0-9]* elements allocated)' \
    "$work/stdout-$i" | head -1 | sed 's/likely due to memory leak in zone //')
  printf '%-4s %9s %11s %10s %11s %11s  %s (exit %s)\n' "$i" "$wall" "${peak:-?}" "$rss" "$load_before" "$load_after" \
    "${panic:-no panic}" "$status"
  echo "$wall" >>"$work/walls"
  echo "${peak:-0}" >>"$work/peaks"
  echo "$rss" >>"$work/rsses"
done
echo "median: wall $(median <"$work/walls") s, peak heap $(median <"$work/peaks") MiB, peak RSS $(median <"$work/rsses") MiB"
