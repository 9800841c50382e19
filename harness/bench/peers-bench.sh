#!/usr/bin/env bash
# peers-bench: the kext version of the C peers' workloads (PeerBench) beside the C builds of
# ../shared/peers (plain glibc and standalone LeakSanitizer, each in its 8-byte and its touch-all
# build), in one session, alternating per workload, per operation (kalloc or kfree, malloc or
# free), in process (work_ns / ops, as kleak_bench.c reports it). Prints every run, then the
# medians and the ratios to LSan, with the load average before and after. Nothing here runs in
# the build: run it by hand, when the machine is quietest.
#
#   harness/bench/peers-bench.sh [runs] [workloads...]     e.g. harness/bench/peers-bench.sh 3 pairs churn leakstorm
#
# Environment: PEERS (default /work/shared/peers), JAVA_HOME, PEER_BENCH_HEAP (default -Xmx4g).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
peers=${PEERS:-$root/../shared/peers}
[[ -d $peers ]] || peers=/work/shared/peers
runs=${1:-3}
shift || true
workloads=${*:-pairs churn leakstorm}
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
heap=${PEER_BENCH_HEAP:--Xmx4g}
jar=$root/harness/bench/target/benchmarks.jar
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[[ -f $jar ]] || { echo "build first: mvn -o -q -pl harness/bench -am package -DskipTests" >&2; exit 2; }
gcc -O2 -o "$work/plain8" "$peers/kleak_bench.c"
gcc -O1 -g -fno-omit-frame-pointer -fsanitize=leak -o "$work/lsan8" "$peers/kleak_bench.c"
gcc -O2 -I"$peers" -o "$work/plainall" "$peers/kleak_bench_touchall.c"
gcc -O1 -g -fno-omit-frame-pointer -fsanitize=leak -I"$peers" -o "$work/lsanall" "$peers/kleak_bench_touchall.c"

# C: ns per op of one run
c_run() { "$work/$1" "$2" 2>/dev/null | head -1 | sed 's/.*ops=\([0-9]*\).*work_ns=\([0-9]*\).*/\2 \1/' | awk '{printf "%.1f\n", $1/$2}'; }
median() { sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else printf "%.1f\n", (v[NR/2]+v[NR/2+1])/2}'; }

echo "java: $("$java" -version 2>&1 | head -1), $heap, gcc: $(gcc --version | head -1), cpus: $(nproc)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %-5s %9s %9s %9s %12s\n' workload touch glibc lsan kext kext/lsan
for w in $workloads; do
  for touch in 8 all; do
    : >"$work/g"; : >"$work/l"; : >"$work/k"
    for r in $(seq 1 "$runs"); do
      c_run "plain$touch" "$w" >>"$work/g"
      c_run "lsan$touch" "$w" >>"$work/l"
      # one JVM per round: one warm-up run of the full size, then one measured run
      "$java" $heap -cp "$jar" dev.kextharness.bench.peers.PeerBench "$w" "$touch" 1 1 \
        | grep '^median' | sed 's/.*ns_per_op=\([0-9.]*\).*/\1/' >>"$work/k"
    done
    g=$(median <"$work/g"); l=$(median <"$work/l"); k=$(median <"$work/k")
    printf '%-10s %-5s %9s %9s %9s %12s\n' "$w" "$touch" "$g" "$l" "$k" "$(awk -v a="$k" -v b="$l" 'BEGIN {printf "%.2f", a/b}')"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
