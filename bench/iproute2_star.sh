#!/usr/bin/env bash
# The iproute2 baseline for bench/star.sh: a star of N hosts built with
# `ip -batch` (N+2 ip processes), the fastest way iproute2 offers.
#   vbench-ip-core      namespace holding the bridge ibr0
#   vbench-ip-hI        host namespaces, each with eth0 10.77.x.y/16
# Usage: iproute2_star.sh build|teardown N
set -euo pipefail
cmd=$1 N=$2
addr_of() { echo "10.77.$(( $1 / 250 )).$(( $1 % 250 + 1 ))"; }
case $cmd in
build)
  { echo "netns add vbench-ip-core"; for ((i=1; i<=N; i++)); do echo "netns add vbench-ip-h$i"; done; } | ip -batch -
  { echo "link add ibr0 type bridge"; echo "link set ibr0 up"
    for ((i=1; i<=N; i++)); do
      echo "link add ip$i master ibr0 up type veth peer name eth0 netns vbench-ip-h$i"
    done; } | ip -n vbench-ip-core -batch -
  for ((i=1; i<=N; i++)); do
    printf 'addr add %s/16 dev eth0\nlink set eth0 up\nlink set lo up\n' "$(addr_of "$i")" |
      ip -n "vbench-ip-h$i" -batch -
  done ;;
teardown)
  { for ((i=1; i<=N; i++)); do echo "netns del vbench-ip-h$i"; done; echo "netns del vbench-ip-core"; } | ip -batch - ;;
*) echo "usage: $0 build|teardown N" >&2; exit 2 ;;
esac
