#!/usr/bin/env bash
# Forwarding between two namespaces, h1 — switch — h2 (each host a veth into
# the switch's namespace), for
#   vnet    vnet's userspace switch: a lab with `kind: switch`, brought up by
#           the release binary (`vnet up`), served by the lab's switch daemon
#   bridge  the Linux bridge: the same lab with `kind: bridge`
#   ovs     Open vSwitch userspace datapath (datapath_type=netdev, AF_PACKET
#           ports, userspace-tso-enable=true: OVS's best set-up with veth
#           offloads on), when ovs-vswitchd is installed; in namespaces of its
#           own with a private rundir, nothing in the root namespace
# all up at the same time and measured round-robin in the same invocation, so
# that the ratios printed at the end compare runs taken minutes apart at most.
#
# Per setup and round (REPS rounds; medians reported):
#   idle  the switch process's CPU % over IDLE s with no traffic (~0: no spinning)
#   tcp   iperf3, one stream, DUR s, h1 -> h2, Gbit/s received; veth offloads on
#   udp   trafgen (netsniff-ng) in h1 pinned to CPU GEN_CPU, one flow of 64-byte
#         frames (60 B + FCS); Mpps = rx_packets delta on h2's eth0 over DUR s;
#         offered = tx_packets delta on h1's eth0; switch CPU % over the window
# The switch process is the vnet switchd worker (`vnet switchd LAB --worker`)
# or ovs-vswitchd; the bridge forwards in kernel softirq context ("-").
#
# Shared machine guard: before each run the script waits (at most QUIET_MAX s)
# until foreign CPU use (processes that are not this script's, not in its
# namespaces, not its daemons) is below QUIET_PCT % of a core, and repeats a
# run (at most MAX_TRIES) during which it exceeded NOISY_PCT % -- unless the
# wait before it timed out (a repeat would be as noisy). Each line shows the
# foreign CPU % during the run: judge the numbers by it.
#
# Usage:  bench/switch.sh [REPS]                  (as root; default REPS=3)
#         REPS=5 DUR=10 SETUPS="vnet bridge" bench/switch.sh
#         VNET=/path/to/vnet bench/switch.sh      (use that binary, skip the build)
#         TESTS="idle udp" bench/switch.sh        (a subset of idle tcp udp)
#         SETUPS="vnet vnet:ring bridge" VNET_ENV_ring="VNET_RX_RING=1" bench/switch.sh
#             (vnet:NAME: another vnet lab whose daemon runs with the
#             environment VNET_ENV_NAME, measured in the same rounds: A/B
#             comparisons of the switch's VNET_* knobs in one invocation)
# Needs: iperf3, trafgen (apt-get install -y iperf3 netsniff-ng), jq, python3;
#        optional openvswitch-switch (3.1; the kernel module is not needed).
# Everything is torn down on exit or interrupt (vnet down, OVS daemons by PID,
# namespaces); KEEP=1 keeps the raw results and logs in the work directory.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

REPS=${1:-${REPS:-3}}
DUR=${DUR:-5}
IDLE=${IDLE:-3}
SETUPS=${SETUPS:-"vnet bridge ovs"}
TESTS=${TESTS:-"idle tcp udp"}
GEN_CPU=${GEN_CPU:-0}
QUIET_PCT=${QUIET_PCT:-10}
QUIET_MAX=${QUIET_MAX:-30}
NOISY_PCT=${NOISY_PCT:-25}
MAX_TRIES=${MAX_TRIES:-3}
VNET=${VNET:-}
# targets of issue 4 (vnet's switch, this 2-core machine)
TGT_MPPS=0.5 TGT_GBPS=15 TGT_IDLE=2

PY=/usr/bin/python3; [ -x $PY ] || PY=python3
HZ=$(getconf CLK_TCK)
TRAFGEN_CFG=$ROOT/bench/switch/udp64.trafgen
FCPU=$ROOT/bench/switch/fcpu.py
MAC1=02:b0:00:00:00:01 MAC2=02:b0:00:00:00:02 IP1=10.99.0.1 IP2=10.99.0.2
LAB_SW=vbsw$$ LAB_BR=vbbr$$ OVSP=vbovs$$
W=$(mktemp -d /tmp/vnet-bench-switch.XXXXXX)
export OVS_RUNDIR=$W/ovs OVS_LOGDIR=$W/ovs OVS_DBDIR=$W/ovs
UP_LABS="" OVS_NS="" ACTIVE="" TG_PID=""

log() { echo "[$(date +%T)] $*"; }
is_vnet() { [[ $1 == vnet || $1 == vnet:* ]]; }
lab_sw() { if [ "$1" = vnet ]; then echo "$LAB_SW"; else echo "$LAB_SW-${1#vnet:}"; fi; } # SETUP -> lab
env_of() { [ "$1" = vnet ] && return; eval "echo \"\${VNET_ENV_${1#vnet:}:-}\""; }  # SETUP -> VAR=VALUE...
die() { log "ERROR: $*"; exit 1; }
nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }
pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
kill_pid() { # PID: TERM, wait up to 5 s, then KILL
  pid_alive "${1:-}" || return 0
  kill "$1" 2>/dev/null
  for _ in $(seq 50); do pid_alive "$1" || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null
}
kill_pidfile() { [ -f "$1" ] || return 0; local p; p=$(cat "$1" 2>/dev/null); rm -f "$1"; kill_pid "$p"; }

# ------------------------------------------------------------------ cleanup
cleanup() {
  trap - EXIT INT TERM
  local lab ns left
  log "cleanup"
  if pid_alive "$TG_PID"; then kill -INT "$TG_PID" 2>/dev/null; sleep 0.5; kill_pid "$TG_PID"; fi
  kill_pidfile "$W/iperf3.pid"
  for lab in $UP_LABS; do
    timeout 60 "$VNET" down "$lab" >>"$W/down.log" 2>&1 || { log "vnet down $lab failed:"; sed 's/^/    /' "$W/down.log"; }
  done
  kill_pidfile "$W/ovs/ovs-vswitchd.pid"
  kill_pidfile "$W/ovs/ovsdb-server.pid"
  for ns in $OVS_NS; do ip netns del "$ns" 2>/dev/null; done
  left=$(ip netns list | grep -E "^(vnet\.($LAB_SW(-[A-Za-z0-9_]+)?|$LAB_BR)\.|$OVSP-)" | tr '\n' ' ')
  for lab in /run/vnet/$LAB_SW /run/vnet/$LAB_SW-* /run/vnet/$LAB_BR; do [ -d "$lab" ] && left+="$lab "; done
  left+=$(pgrep -f "switchd ($LAB_SW(-[A-Za-z0-9_]+)?|$LAB_BR)( |$)" | tr '\n' ' ')
  if [ -n "${left// /}" ]; then log "LEFT BEHIND: $left"; else log "nothing left behind (namespaces, lab state, processes)"; fi
  if [ "${KEEP:-0}" = 1 ]; then log "raw results and logs kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ checks
[ "$(id -u)" = 0 ] || die "run as root"
for t in iperf3 trafgen jq taskset; do
  command -v $t >/dev/null || die "$t not found (apt-get install -y iperf3 netsniff-ng jq)"
done
case $REPS in '' | *[!0-9]* | 0) die "REPS must be a positive integer" ;; esac
if [ -z "$VNET" ]; then
  log "cargo build --release -p vnet"
  cargo build --release -q -p vnet || die "build failed"
  VNET=$ROOT/target/release/vnet
fi
[ -x "$VNET" ] || die "no vnet binary at $VNET"
HAVE_OVS=0
if [[ " $SETUPS " == *" ovs "* ]]; then
  if command -v ovs-vswitchd >/dev/null && command -v ovsdb-server >/dev/null; then HAVE_OVS=1; else
    echo "OVS: not installed, skipped"; SETUPS=${SETUPS//ovs/}
  fi
fi

# ------------------------------------------------------------------ set-ups
ns_of() { # SETUP NODE -> namespace
  case $1 in
    vnet | vnet:*) echo "vnet.$(lab_sw "$1").$2" ;;
    bridge) echo "vnet.$LAB_BR.$2" ;;
    ovs) echo "$OVSP-$2" ;;
  esac
}
lab_file() { # LAB KIND
  cat <<EOF
name: $1
nodes:
  sw: { kind: $2 }
  h1: { kind: host }
  h2: { kind: host }
links:
  - endpoints: [{ node: h1, iface: eth0, addresses: [$IP1/24], mac: "$MAC1" }, sw:p1]
  - endpoints: [{ node: h2, iface: eth0, addresses: [$IP2/24], mac: "$MAC2" }, sw:p2]
EOF
}
lab_up() { # LAB KIND [VAR=VALUE...] (the environment of `vnet up`, so of its daemon)
  local lab=$1 kind=$2; shift 2
  lab_file "$lab" "$kind" >"$W/$lab.yaml"
  UP_LABS+=" $lab" # before `up`: a half-built lab is taken down too
  if ! timeout 60 env "$@" "$VNET" up "$W/$lab.yaml" >"$W/$lab.up.log" 2>&1; then
    log "vnet up ($kind) failed:"; sed 's/^/    /' "$W/$lab.up.log"; return 1
  fi
}
SWD_SUP="" SWD_WORKER=""
switchd_pids() { # [SETUP]: sets SWD_SUP, SWD_WORKER of that vnet setup's lab
  local c lab
  lab=$(lab_sw "${1:-vnet}")
  SWD_SUP=$(cat "/run/vnet/$lab/switchd.pid" 2>/dev/null) SWD_WORKER=""
  for c in $(pgrep -P "${SWD_SUP:-0}"); do
    tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null | grep -q -- "switchd $lab --worker" && SWD_WORKER=$c
  done
  [ -n "$SWD_WORKER" ]
}
VSCTL() { nsx "$OVSP-sw" ovs-vsctl --db="unix:$W/ovs/db.sock" --timeout=20 "$@"; }
ovs_up() {
  local n e
  for n in sw h1 h2; do ip netns add "$OVSP-$n" && OVS_NS+=" $OVSP-$n" && ip -n "$OVSP-$n" link set lo up || return 1; done
  ip -n "$OVSP-h1" link add eth0 address $MAC1 type veth peer name p1 netns "$OVSP-sw" || return 1
  ip -n "$OVSP-h2" link add eth0 address $MAC2 type veth peer name p2 netns "$OVSP-sw" || return 1
  ip -n "$OVSP-sw" link set p1 up && ip -n "$OVSP-sw" link set p2 up || return 1
  ip -n "$OVSP-h1" addr add $IP1/24 dev eth0 && ip -n "$OVSP-h1" link set eth0 up || return 1
  ip -n "$OVSP-h2" addr add $IP2/24 dev eth0 && ip -n "$OVSP-h2" link set eth0 up || return 1
  mkdir -p "$W/ovs"
  ovsdb-tool create "$W/ovs/conf.db" /usr/share/openvswitch/vswitch.ovsschema || return 1
  nsx "$OVSP-sw" ovsdb-server "$W/ovs/conf.db" --remote="punix:$W/ovs/db.sock" \
    --pidfile="$W/ovs/ovsdb-server.pid" --unixctl="$W/ovs/ovsdb-server.ctl" \
    --log-file="$W/ovs/ovsdb-server.log" -vconsole:off --detach 2>>"$W/ovs/start.log" || return 1
  VSCTL --no-wait init || return 1
  VSCTL --no-wait set Open_vSwitch . other_config:userspace-tso-enable=true || return 1
  nsx "$OVSP-sw" ovs-vswitchd "unix:$W/ovs/db.sock" --pidfile="$W/ovs/ovs-vswitchd.pid" \
    --unixctl="$W/ovs/ovs-vswitchd.ctl" --log-file="$W/ovs/ovs-vswitchd.log" \
    -vconsole:off --detach 2>>"$W/ovs/start.log" || return 1
  VSCTL add-br br0 -- set bridge br0 datapath_type=netdev || return 1
  VSCTL add-port br0 p1 -- set interface p1 type=system -- add-port br0 p2 -- set interface p2 type=system || return 1
  sleep 1
  e=$(VSCTL get interface p1 error; VSCTL get interface p2 error)
  [ "$(echo $e)" = "[] []" ] || { log "OVS port error: $e"; return 1; }
}
reach() { # SETUP: ping both ways (the switches learn both MACs); up to ~10 s
  local h1 h2 i
  h1=$(ns_of "$1" h1) h2=$(ns_of "$1" h2)
  for i in $(seq 10); do
    nsx "$h1" ping -c 2 -i 0.2 -W 1 -q $IP2 >/dev/null 2>&1 && nsx "$h2" ping -c 1 -W 1 -q $IP1 >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}
switch_pid() { # SETUP -> PID of the switch process, or nothing
  case $1 in
    vnet | vnet:*) switchd_pids "$1" && echo "$SWD_WORKER" ;;
    ovs) cat "$W/ovs/ovs-vswitchd.pid" 2>/dev/null ;;
  esac
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
counter() { nsx "$1" cat "/sys/class/net/eth0/statistics/$2"; }

# ------------------------------------------------------------------ foreign CPU guard
own_ns() { local s n; for s in $ACTIVE; do for n in sw h1 h2; do ns_of "$s" $n; done; done; }
own_pids() {
  local s
  for s in $ACTIVE; do is_vnet "$s" && cat "/run/vnet/$(lab_sw "$s")/switchd.pid" 2>/dev/null; done
  cat "$W/ovs/ovs-vswitchd.pid" "$W/ovs/ovsdb-server.pid" 2>/dev/null
}
fcpu() { $PY "$FCPU" "$W/fcpu.snap" $$ --ns $(own_ns) --pid $(own_pids); }
fcpu_reset() { rm -f "$W/fcpu.snap"; fcpu >/dev/null; }
wait_quiet() {
  local t0=$SECONDS pct
  while :; do
    fcpu_reset; sleep 2
    pct=$(($(fcpu) * 100 / (2 * HZ)))
    [ "$pct" -lt "$QUIET_PCT" ] && return 0
    if [ $((SECONDS - t0)) -ge "$QUIET_MAX" ]; then log "  machine still busy (foreign CPU $pct %), running anyway"; return 1; fi
    [ $((SECONDS - t0)) -lt 3 ] && log "  waiting for the machine to go quiet (foreign CPU $pct %)"
    sleep 2
  done
}

# ------------------------------------------------------------------ tests
# Each sets VAL (main value), EXTRA, CPU (switch CPU % or -).
cpu_pct() { # PID TICKS0 TICKS1 SECONDS
  [ -n "$1" ] || { echo -; return; }
  awk -v a="$2" -v b="$3" -v s="$4" -v hz="$HZ" 'BEGIN{printf "%.1f", (b - a) * 100 / (s * hz)}'
}
test_idle() {
  local pid c0 c1 t0 t1
  pid=$(switch_pid "$1"); c0=$(ticks "$pid"); t0=$EPOCHREALTIME
  sleep "$IDLE"
  c1=$(ticks "$pid"); t1=$EPOCHREALTIME
  CPU=$(cpu_pct "$pid" "$c0" "$c1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')")
  VAL=$CPU EXTRA=-
}
test_tcp() {
  local h1 h2 pid c0 c1 t0 t1 out
  h1=$(ns_of "$1" h1) h2=$(ns_of "$1" h2)
  kill_pidfile "$W/iperf3.pid"
  nsx "$h2" iperf3 -s -1 -D -B $IP2 --pidfile "$W/iperf3.pid" --logfile "$W/iperf3-server.log"
  for _ in $(seq 20); do [ -s "$W/iperf3.pid" ] && break; sleep 0.1; done
  pid=$(switch_pid "$1"); c0=$(ticks "$pid"); t0=$EPOCHREALTIME
  nsx "$h1" timeout $((DUR + 10)) iperf3 -c $IP2 -t "$DUR" -J --connect-timeout 3000 >"$W/iperf3.json" 2>/dev/null
  c1=$(ticks "$pid"); t1=$EPOCHREALTIME
  sleep 0.2; kill_pidfile "$W/iperf3.pid"
  out=$(jq -r 'if .error then "0 -1 " + .error else
    "\((.end.sum_received.bits_per_second // 0) / 1e9) \(.end.sum_sent.retransmits // -1)" end' "$W/iperf3.json" 2>/dev/null)
  [ -n "$out" ] || out="0 -1 no-result"
  read -r VAL EXTRA _ <<<"$out"
  VAL=$(awk -v v="$VAL" 'BEGIN{printf "%.2f", v}')
  [ "$VAL" = 0.00 ] && log "  iperf3 failed or stalled: ${out#* * }"
  CPU=$(cpu_pct "$pid" "$c0" "$c1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')")
}
test_udp() {
  local h1 h2 pid c0 c1 t0 t1 tx0 tx1 rx0 rx1 el
  h1=$(ns_of "$1" h1) h2=$(ns_of "$1" h2)
  nsx "$h2" ping -c 1 -W 1 -q $IP1 >/dev/null 2>&1 # refresh h2's MAC in the switch
  timeout -s INT $((DUR + 8)) ip netns exec "$h1" taskset -c "$GEN_CPU" \
    trafgen -i "$TRAFGEN_CFG" -o eth0 -P 1 --no-sock-mem -Q >>"$W/trafgen.log" 2>&1 &
  TG_PID=$!
  sleep 1
  pid=$(switch_pid "$1")
  tx0=$(counter "$h1" tx_packets) rx0=$(counter "$h2" rx_packets) c0=$(ticks "$pid") t0=$EPOCHREALTIME
  sleep "$DUR"
  tx1=$(counter "$h1" tx_packets) rx1=$(counter "$h2" rx_packets) c1=$(ticks "$pid") t1=$EPOCHREALTIME
  kill -INT "$TG_PID" 2>/dev/null; wait "$TG_PID" 2>/dev/null; TG_PID=""
  el=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')
  VAL=$(awk -v n=$((rx1 - rx0)) -v s="$el" 'BEGIN{printf "%.3f", n / s / 1e6}')
  EXTRA=$(awk -v n=$((tx1 - tx0)) -v s="$el" 'BEGIN{printf "%.3f", n / s / 1e6}')
  CPU=$(cpu_pct "$pid" "$c0" "$c1" "$el")
}
measure() { # SETUP TEST ROUND
  local try t0 f fpct worker0 busy
  for try in $(seq "$MAX_TRIES"); do
    wait_quiet; busy=$? # 1: it did not get quiet, so a repeat would not help either
    is_vnet "$1" && { switchd_pids "$1"; worker0=$SWD_WORKER; }
    fcpu_reset; t0=$EPOCHREALTIME
    "test_$2" "$1"
    f=$(fcpu)
    fpct=$(awk -v t="$f" -v a="$t0" -v b="$EPOCHREALTIME" -v hz="$HZ" 'BEGIN{printf "%d", t * 100 / ((b - a) * hz)}')
    if is_vnet "$1" && { ! switchd_pids "$1" || [ "$SWD_WORKER" != "$worker0" ]; }; then
      log "  vnet switchd worker changed during the run ($worker0 -> ${SWD_WORKER:-none}): crashed? see below"
      tail -5 "/run/vnet/$(lab_sw "$1")/switchd.log" 2>/dev/null | sed 's/^/    /'
    fi
    [ "$fpct" -le "$NOISY_PCT" ] || [ "$busy" = 1 ] && break
    [ "$try" -lt "$MAX_TRIES" ] && log "  $1 $2 round $3: foreign CPU $fpct % during the run -> repeating"
  done
  echo "$1,$2,$3,$VAL,$EXTRA,$CPU,$fpct,$try" >>"$W/results.csv"
  case $2 in
    idle) log "$(printf '%-6s idle round %s: switch CPU %s %%  (foreign %s %%, try %s)' "$1" "$3" "$CPU" "$fpct" "$try")" ;;
    tcp) log "$(printf '%-6s tcp  round %s: %s Gbit/s, %s retransmits, switch CPU %s %%  (foreign %s %%, try %s)' "$1" "$3" "$VAL" "$EXTRA" "$CPU" "$fpct" "$try")" ;;
    udp) log "$(printf '%-6s udp  round %s: %s Mpps rx of %s offered, switch CPU %s %%  (foreign %s %%, try %s)' "$1" "$3" "$VAL" "$EXTRA" "$CPU" "$fpct" "$try")" ;;
  esac
}

# ------------------------------------------------------------------ main
log "h1 — switch — h2: REPS=$REPS DUR=${DUR}s IDLE=${IDLE}s setups: $(echo $SETUPS) tests: $(echo $TESTS)"
log "kernel $(uname -r), $(nproc) CPUs; vnet $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- crates 2>/dev/null || echo '+uncommitted changes'); $(iperf3 --version | head -1 | cut -d' ' -f1-2); $(trafgen -v 2>&1 | grep -o 'trafgen [0-9.]*' | head -1)"
[ $HAVE_OVS = 1 ] && log "$(ovs-vswitchd --version | head -1)"
echo "setup,test,round,value,extra,switch_cpu,foreign_cpu,tries" >"$W/results.csv"
for s in $SETUPS; do
  case $s in
    vnet | vnet:*)
      [[ $s == vnet || ${s#vnet:} =~ ^[A-Za-z0-9_]+$ ]] || { log "bad setup name $s (vnet:NAME, NAME of [A-Za-z0-9_])"; false; } &&
        { [ -z "$(env_of "$s")" ] || log "$s: daemon environment: $(env_of "$s")"; } &&
        lab_up "$(lab_sw "$s")" switch $(env_of "$s") ;;
    bridge) lab_up "$LAB_BR" bridge ;;
    ovs) ovs_up || { log "OVS set-up failed"; tail -5 "$W/ovs/ovs-vswitchd.log" 2>/dev/null | sed 's/^/    /'; false; } ;;
    *) log "unknown setup $s"; false ;;
  esac || { log "$s: set-up failed, skipped"; continue; }
  if ! reach "$s"; then log "$s: h1 cannot reach h2, skipped"; continue; fi
  if is_vnet "$s" && ! switchd_pids "$s"; then log "$s: no switchd worker process found, skipped"; continue; fi
  ACTIVE+=" $s"
done
log "up and reachable:$ACTIVE"
[ -n "$ACTIVE" ] || exit 1

for r in $(seq "$REPS"); do
  log "--- round $r/$REPS"
  for t in $TESTS; do
    for s in $ACTIVE; do
      [ "$t" = idle ] && [ "$s" = bridge ] && continue # the bridge has no process
      measure "$s" "$t" "$r"
    done
  done
done
for s in $ACTIVE; do
  is_vnet "$s" || continue
  log "$s switch sw, port counters at the end (vnet switch $(lab_sw "$s") sw dump-ports):"
  timeout 10 "$VNET" switch "$(lab_sw "$s")" sw dump-ports 2>&1 | sed 's/^/    /'
done

echo
ENVS=""; for s in $SETUPS; do is_vnet "$s" && [ "$s" != vnet ] && ENVS+="$s=$(env_of "$s");"; done
$PY - "$W/results.csv" "$REPS" "$TGT_MPPS" "$TGT_GBPS" "$TGT_IDLE" "$ENVS" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
reps, tgt_mpps, tgt_gbps, tgt_idle = sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
REF_BR_MPPS, REF_BR_GBPS = 0.41, 30.9  # baselines.md, Linux bridge, offloads on
def med(setup, test, key):
    v = [float(r[key]) for r in rows if r['setup'] == setup and r['test'] == test and r[key] not in ('-', '')]
    return statistics.median(v) if v else None
def per_core(setup):
    # Mpps per core of switch CPU: what the switch thread forwards per unit of
    # CPU it gets -- robust when other load takes CPU from it (shared machine).
    v = [float(r['value']) / (float(r['switch_cpu']) / 100) for r in rows
         if r['setup'] == setup and r['test'] == 'udp' and r['switch_cpu'] not in ('-', '') and float(r['switch_cpu']) > 0]
    return statistics.median(v) if v else None
def f(x, fmt):
    return '-' if x is None else fmt % x
names = {'vnet': 'vnet switch (AF_PACKET)', 'bridge': 'Linux bridge',
         'ovs': 'OVS 3.1 netdev (AF_PACKET, userspace TSO)'}
for kv in filter(None, sys.argv[6].split(';')):
    k, v = kv.split('=', 1)
    names[k] = 'vnet switch, %s (%s)' % (k[5:], v or 'default environment')
order = ['vnet'] + sorted({r['setup'] for r in rows if r['setup'].startswith('vnet:')}) + ['bridge', 'ovs']
setups = [s for s in order if any(r['setup'] == s for r in rows)]
vnets = [s for s in setups if s == 'vnet' or s.startswith('vnet:')]
print('Medians of %s rounds; veth offloads on; UDP64 = 64-byte frames, one flow.' % reps)
print()
print('| setup | TCP Gbit/s | UDP64 Mpps (rx) | offered Mpps | switch CPU % (UDP) | UDP64 Mpps per switch core | switch CPU % (TCP) | switch CPU % (idle) |')
print('|---|---|---|---|---|---|---|---|')
for s in setups:
    print('| %s | %s | %s | %s | %s | %s | %s | %s |' % (names.get(s, s), f(med(s, 'tcp', 'value'), '%.2f'),
          f(med(s, 'udp', 'value'), '%.3f'), f(med(s, 'udp', 'extra'), '%.3f'), f(med(s, 'udp', 'switch_cpu'), '%.0f'),
          f(per_core(s), '%.3f'), f(med(s, 'tcp', 'switch_cpu'), '%.0f'), f(med(s, 'idle', 'switch_cpu'), '%.1f')))
print()
def ratio(a, b, test):
    x, y = med(a, test, 'value'), med(b, test, 'value')
    return '%.2f' % (x / y) if x is not None and y else '-'
for v in vnets:
    for other in ('bridge', 'ovs'):
        if other in setups:
            print('ratio %s/%-6s  TCP %s   UDP64 %s' % (v, other, ratio(v, other, 'tcp'), ratio(v, other, 'udp')))
for v in vnets:
    u, t, i = med(v, 'udp', 'value'), med(v, 'tcp', 'value'), med(v, 'idle', 'switch_cpu')
    mark = lambda ok: 'PASS' if ok else 'below'
    print()
    print('targets (issue 4), %s:' % names.get(v, v))
    print('  64-byte forwarding >= %.1f Mpps : %s Mpps  %s' % (tgt_mpps, f(u, '%.3f'), mark(u is not None and u >= tgt_mpps)))
    print('  TCP, offloads on  >= %.0f Gbit/s : %s Gbit/s  %s' % (tgt_gbps, f(t, '%.2f'), mark(t is not None and t >= tgt_gbps)))
    print('  idle, no spinning  < %.0f %% CPU  : %s %%  %s' % (tgt_idle, f(i, '%.1f'), mark(i is not None and i < tgt_idle)))
    # The targets were set against the reference numbers (Linux bridge 0.41 Mpps,
    # 30.9 Gbit/s); on a slower or busier day, scale them by this run's bridge.
    bu, bt = med('bridge', 'udp', 'value'), med('bridge', 'tcp', 'value')
    if bu and bt and u is not None and t is not None:
        su, st = tgt_mpps / REF_BR_MPPS * bu, tgt_gbps / REF_BR_GBPS * bt
        print('targets scaled by this run\'s Linux bridge (reference bridge %.2f Mpps, %.1f Gbit/s):' % (REF_BR_MPPS, REF_BR_GBPS))
        print('  64-byte >= %.2f x bridge = %.3f Mpps : vnet %.2f x bridge  %s' % (tgt_mpps / REF_BR_MPPS, su, u / bu, mark(u >= su)))
        print('  TCP     >= %.2f x bridge = %.2f Gbit/s : vnet %.2f x bridge  %s' % (tgt_gbps / REF_BR_GBPS, st, t / bt, mark(t >= st)))
EOF
echo
