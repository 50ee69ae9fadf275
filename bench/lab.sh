#!/usr/bin/env bash
# Lab build/teardown through the vnet binary against iproute2 -batch, in the
# same invocation: a star of N hosts on one bridge (each host a namespace
# with a veth, an address, links up), as `vnet up` builds it from a file.
# Teardown is timed until the kernel's asynchronous namespace cleanup has
# finished. Medians of REPS runs.
# Usage: bench/lab.sh [REPS] [N...]        (default: 3 reps, N = 100 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-3}; shift || true
SIZES=${*:-"100 1000"}
cargo build -q --release -p vnet
VNET=$PWD/target/release/vnet
TMP=$(mktemp -d)
LAB=vblab$$
cleanup() { "$VNET" down "$LAB" >/dev/null 2>&1 || true; bench/iproute2_star.sh teardown 0 >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
# Seconds until no kernel worker runs the netns cleanup (3 idle polls in a row).
settle() {
  local t0=$1 good=0 first=""
  while :; do
    if grep -qs '+netns' /proc/[0-9]*/comm 2>/dev/null; then good=0; else
      [ $good -eq 0 ] && first=$(now); good=$((good+1)); [ $good -ge 3 ] && break; fi
    sleep 0.02
  done
  echo "$first - $t0" | bc
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%6s %-16s %10s %10s %14s\n' N method "build s" "ms/host" "teardown s"
for N in $SIZES; do
  { echo "name: $LAB"; echo "addressing: { ipv4: 10.64.0.0/10, ipv4_prefix: 16 }"; echo "nodes:"; echo "  s1: { kind: bridge }"
    for ((i=1; i<=N; i++)); do echo "  h$i: { kind: host }"; done
    echo "links:"; for ((i=1; i<=N; i++)); do echo "  - endpoints: [h$i, s1]"; done; } > "$TMP/lab.yaml"
  : > "$TMP/vb"; : > "$TMP/vt"; : > "$TMP/ib"; : > "$TMP/it"
  for ((r=1; r<=REPS; r++)); do
    settle "$(now)" >/dev/null
    t0=$(now); "$VNET" up "$TMP/lab.yaml" >/dev/null; t1=$(now)
    echo "$t1 - $t0" | bc >> "$TMP/vb"
    t0=$(now); "$VNET" down "$LAB" >/dev/null; settle "$t0" >> "$TMP/vt"
    settle "$(now)" >/dev/null
    t0=$(now); bench/iproute2_star.sh build "$N"; t1=$(now)
    echo "$t1 - $t0" | bc >> "$TMP/ib"
    t0=$(now); bench/iproute2_star.sh teardown "$N"; settle "$t0" >> "$TMP/it"
  done
  vb=$(median < "$TMP/vb"); vt=$(median < "$TMP/vt"); ib=$(median < "$TMP/ib"); it=$(median < "$TMP/it")
  printf '%6s %-16s %10.3f %10.2f %14.3f\n' "$N" "vnet up/down" "$vb" "$(echo "$vb*1000/$N" | bc -l)" "$vt"
  printf '%6s %-16s %10.3f %10.2f %14.3f\n' "$N" "iproute2 -batch" "$ib" "$(echo "$ib*1000/$N" | bc -l)" "$it"
  printf '%6s %-16s %9.1fx %10s %13.1fx\n' "$N" "ratio ip/vnet" "$(echo "$ib/$vb" | bc -l)" "" "$(echo "$it/$vt" | bc -l)"
done
