#!/usr/bin/env bash
# OpenFlow 1.3 control-plane speed of vnet's switch, against Open vSwitch 3.1
# (userspace datapath, datapath_type=netdev) in the same invocation when
# ovs-vswitchd is installed:
#
#   flowmod  `ovs-ofctl -O OpenFlow13 add-flows tcp:127.0.0.1:PORT FILE` of N
#            distinct flows (FLOWS, default "10000 100000"), timed until it
#            returns (ovs-ofctl ends with a barrier, so every flow is in);
#            flows/s, and the flow count checked with dump-aggregate.
#            Before each run the table is emptied with del-flows (not timed).
#   pin      packet-in round trips: the switch in fail_mode secure, the only
#            flow a table-miss flow to the controller (installed by the
#            controller); bench/openflow/controller.py answers each PACKET_IN
#            with a PACKET_OUT of the same bytes to h2's port. h1 sends
#            PIN_RATE 60-byte frames/s (trafgen, bounded count) that miss the
#            table; over PIN_DUR s: frames delivered at h2 per second (the
#            round trips), packet-ins seen by the controller per second, the
#            offered rate, and the CPU % of the switch process(es) and of
#            the controller.
#
# Setups (all up at the same time, measured round-robin, REPS rounds, medians):
#   vnet  a lab (vbofPID) with `kind: switch`, `openflow: { listen, controllers,
#         fail_mode: secure }`, brought up by the release binary
#   ovs   ovs-vswitchd + ovsdb-server in namespaces of their own (vbofovsPID-*),
#         private rundir/dbdir/logdir, bridge br0 with protocols=OpenFlow13,
#         fail-mode=secure, in-band off, controllers ptcp:PORT:127.0.0.1 (for
#         ovs-ofctl) and tcp:127.0.0.1:CPORT (the controller); AF_PACKET ports
#
# Usage:  bench/openflow.sh [REPS]                    (as root; default REPS=3)
#         FLOWS="100000" TESTS="flowmod" bench/openflow.sh
#         PIN_RATE=50000 PIN_DUR=5 bench/openflow.sh
#         VNET=/path/to/vnet bench/openflow.sh        (use that binary, skip the build)
#         KEEP=1 bench/openflow.sh                    (keep raw results and logs)
# Needs: ovs-ofctl (openvswitch-common), trafgen (netsniff-ng), python3;
#        optional openvswitch-switch (3.1; the kernel module is not needed).
# Everything is torn down on exit or interrupt (vnet down, the controller,
# trafgen and OVS daemons by PID, namespaces), and the script says so.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

REPS=${1:-${REPS:-3}}
FLOWS=${FLOWS:-"10000 100000"}
TESTS=${TESTS:-"flowmod pin"}
SETUPS=${SETUPS:-"vnet ovs"}
PIN_RATE=${PIN_RATE:-50000}
PIN_DUR=${PIN_DUR:-5}
ADD_TIMEOUT=${ADD_TIMEOUT:-300}
VNET=${VNET:-}

PY=/usr/bin/python3; [ -x $PY ] || PY=python3
HZ=$(getconf CLK_TCK)
CTRL=$ROOT/bench/openflow/controller.py
MAC1=02:b0:00:00:01:01 MAC2=02:b0:00:00:01:02 IP1=10.98.0.1 IP2=10.98.0.2
LAB=vbof$$ OVSP=vbofovs$$
W=$(mktemp -d /tmp/vnet-bench-openflow.XXXXXX)
export OVS_RUNDIR=$W/ovs OVS_LOGDIR=$W/ovs OVS_DBDIR=$W/ovs
LAB_UP=0 OVS_NS="" TG_PID="" CTRL_PID=""

log() { echo "[$(date +%T)] $*"; }
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
  local ns left
  log "cleanup"
  if pid_alive "$TG_PID"; then kill -INT "$TG_PID" 2>/dev/null; sleep 0.3; kill_pid "$TG_PID"; fi
  kill_pid "$CTRL_PID"
  if [ "$LAB_UP" = 1 ]; then
    timeout 60 "$VNET" down "$LAB" >>"$W/down.log" 2>&1 || { log "vnet down $LAB failed:"; sed 's/^/    /' "$W/down.log"; }
  fi
  kill_pidfile "$W/ovs/ovs-vswitchd.pid"
  kill_pidfile "$W/ovs/ovsdb-server.pid"
  for ns in $OVS_NS; do ip netns del "$ns" 2>/dev/null; done
  left=$(ip netns list | grep -E "^(vnet\.$LAB\.|$OVSP-)" | tr '\n' ' ')
  [ -d "/run/vnet/$LAB" ] && left+="/run/vnet/$LAB "
  left+=$(pgrep -f "switchd $LAB( |$)" | tr '\n' ' ')
  left+=$(pgrep -f "$CTRL" | tr '\n' ' ')
  if [ -n "${left// /}" ]; then log "LEFT BEHIND: $left"; else log "nothing left behind (namespaces, lab state, processes)"; fi
  if [ "${KEEP:-0}" = 1 ]; then log "raw results and logs kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ checks
[ "$(id -u)" = 0 ] || die "run as root"
for t in ovs-ofctl trafgen taskset; do
  command -v $t >/dev/null || die "$t not found (apt-get install -y openvswitch-common netsniff-ng)"
done
case $REPS in '' | *[!0-9]* | 0) die "REPS must be a positive integer" ;; esac
if [[ " $SETUPS " == *" vnet "* ]] && [ -z "$VNET" ]; then
  log "cargo build --release -p vnet"
  cargo build --release -q -p vnet || die "build failed"
  VNET=$ROOT/target/release/vnet
fi
[[ " $SETUPS " != *" vnet "* ]] || [ -x "$VNET" ] || die "no vnet binary at $VNET"
if [[ " $SETUPS " == *" ovs "* ]]; then
  if ! command -v ovs-vswitchd >/dev/null || ! command -v ovsdb-server >/dev/null; then
    echo "OVS: not installed, skipped"; SETUPS=${SETUPS//ovs/}
  fi
fi

# Four free TCP ports on 127.0.0.1 (vnet's listener and controller in the
# host namespace; OVS's are in its own namespace but kept distinct anyway).
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 30000))
    [[ " ${PORTS:-} " == *" $p "* ]] && continue
    ss -Htln "sport = :$p" 2>/dev/null | grep -q . && continue
    PORTS="${PORTS:-} $p"; echo "$p"; return 0
  done
  return 1
}
PORTS=""
V_OF=$(free_port); PORTS+=" $V_OF"; V_CT=$(free_port); PORTS+=" $V_CT"
O_OF=$(free_port); PORTS+=" $O_OF"; O_CT=$(free_port)
[ -n "$V_OF" ] && [ -n "$V_CT" ] && [ -n "$O_OF" ] && [ -n "$O_CT" ] || die "no free TCP ports"

# ------------------------------------------------------------------ set-ups
ns_of() { case $1 in vnet) echo "vnet.$LAB.$2" ;; ovs) echo "$OVSP-$2" ;; esac; }
of_target() { case $1 in vnet) echo "tcp:127.0.0.1:$V_OF" ;; ovs) echo "tcp:127.0.0.1:$O_OF" ;; esac; }
ofctl() { # SETUP CMD ARGS...: ovs-ofctl where the setup's listener is, bounded by OFT s (60)
  local s=$1 cmd=$2; shift 2
  case $s in
    vnet) timeout "${OFT:-60}" ovs-ofctl -O OpenFlow13 "$cmd" "$(of_target vnet)" "$@" ;;
    ovs) nsx "$OVSP-sw" timeout "${OFT:-60}" ovs-ofctl -O OpenFlow13 "$cmd" "$(of_target ovs)" "$@" ;;
  esac
}
vnet_up() {
  cat >"$W/$LAB.yaml" <<EOF
name: $LAB
nodes:
  sw:
    kind: switch
    openflow:
      listen: "ptcp:$V_OF"
      controllers: ["tcp:127.0.0.1:$V_CT"]
      fail_mode: secure
  h1: { kind: host }
  h2: { kind: host }
links:
  - endpoints: [{ node: h1, iface: eth0, addresses: [$IP1/24], mac: "$MAC1" }, sw:p1]
  - endpoints: [{ node: h2, iface: eth0, addresses: [$IP2/24], mac: "$MAC2" }, sw:p2]
EOF
  LAB_UP=1 # before `up`: a half-built lab is taken down too
  if ! timeout 60 "$VNET" up "$W/$LAB.yaml" >"$W/$LAB.up.log" 2>&1; then
    log "vnet up failed:"; sed 's/^/    /' "$W/$LAB.up.log"; return 1
  fi
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
  nsx "$OVSP-sw" ovs-vswitchd "unix:$W/ovs/db.sock" --pidfile="$W/ovs/ovs-vswitchd.pid" \
    --unixctl="$W/ovs/ovs-vswitchd.ctl" --log-file="$W/ovs/ovs-vswitchd.log" \
    -vconsole:off --detach 2>>"$W/ovs/start.log" || return 1
  VSCTL add-br br0 -- set bridge br0 datapath_type=netdev fail-mode=secure protocols=OpenFlow13 \
    other-config:disable-in-band=true || return 1
  VSCTL add-port br0 p1 -- set interface p1 type=system ofport_request=1 \
    -- add-port br0 p2 -- set interface p2 type=system ofport_request=2 || return 1
  VSCTL set-controller br0 "ptcp:$O_OF:127.0.0.1" "tcp:127.0.0.1:$O_CT" || return 1
  for c in $(VSCTL --bare --columns=_uuid list controller); do
    VSCTL set controller "$c" connection-mode=out-of-band || return 1
  done
  sleep 1
  e=$(VSCTL get interface p1 error; VSCTL get interface p2 error)
  [ "$(echo $e)" = "[] []" ] || { log "OVS port error: $e"; return 1; }
}
port_of() { # SETUP NAME -> OpenFlow port number, from ovs-ofctl show
  ofctl "$1" show 2>/dev/null | sed -n "s/^ *\([0-9][0-9]*\)($2).*/\1/p" | head -1
}
switch_pids() { # SETUP -> the switch's processes (CPU accounting)
  case $1 in
    vnet) local s; s=$(cat "/run/vnet/$LAB/switchd.pid" 2>/dev/null) && echo "$s $(pgrep -P "$s" | tr '\n' ' ')" ;;
    ovs) cat "$W/ovs/ovs-vswitchd.pid" 2>/dev/null ;;
  esac
}
ticks() { local p t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }
counter() { nsx "$1" cat "/sys/class/net/eth0/statistics/$2"; }
fdiv() { awk -v a="$1" -v b="$2" -v f="${3:-%.0f}" 'BEGIN{if (b > 0) printf f, a / b; else print "-"}'; }

# ------------------------------------------------------------------ tests
flows_file() { # N -> file of N distinct flows
  local f=$W/flows-$1.txt
  [ -f "$f" ] || awk -v n="$1" 'BEGIN{for (i = 0; i < n; i++)
    printf "table=0,priority=100,ip,nw_dst=10.%d.%d.%d,actions=output:2\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256}' >"$f"
  echo "$f"
}
test_flowmod() { # SETUP N -> "flows/s seconds count"
  local s=$1 n=$2 f t0 t1 rc cnt el
  f=$(flows_file "$n")
  OFT=120 ofctl "$s" del-flows >>"$W/ofctl.log" 2>&1 || { echo "0 - del-flows-failed"; return; }
  t0=$EPOCHREALTIME
  OFT=$ADD_TIMEOUT ofctl "$s" add-flows "$f" >"$W/add.log" 2>&1; rc=$?
  cat "$W/add.log" >>"$W/ofctl.log"
  t1=$EPOCHREALTIME
  cnt=$(ofctl "$s" dump-aggregate 2>/dev/null | grep -o 'flow_count=[0-9]*' | cut -d= -f2)
  el=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}')
  if [ "$rc" != 0 ] || [ "${cnt:-0}" != "$n" ]; then
    log "  $s add-flows $n: rc=$rc$([ "$rc" = 124 ] && echo " (timed out after ${ADD_TIMEOUT}s)"), flow_count=${cnt:-?} (expected $n)" >&2
    tail -3 "$W/add.log" | sed 's/^/    /' >&2
    echo "0 $el ${cnt:-?}"; return
  fi
  echo "$(fdiv "$n" "$el") $el $cnt"
}
pin_frame() { # trafgen config: h1 -> h2's MAC, to an address nobody has (h2 drops it silently)
  cat >"$W/pin.trafgen" <<EOF
{
  $(echo $MAC2 | sed 's/\([0-9a-f][0-9a-f]\)/0x\1/g; s/:/, /g'),
  $(echo $MAC1 | sed 's/\([0-9a-f][0-9a-f]\)/0x\1/g; s/:/, /g'),
  c16(0x0800),
  0x45, 0x00, c16(46), c16(0), c16(0x4000), 0x40, 17, csumip(14, 33),
  10, 98, 0, 1,
  10, 98, 0, 222,
  c16(1234), c16(9), c16(26), csumudp(14, 34),
  fill(0x42, 18)
}
EOF
}
test_pin() { # SETUP -> "rt/s pin/s offered/s switch_cpu ctrl_cpu"
  local s=$1 h1 h2 out ctl st i cp sp t0 t1 rx0 rx1 tx0 tx1 p0 p1 c0 c1 k0 k1 el
  h1=$(ns_of "$s" h1) h2=$(ns_of "$s" h2)
  st=$W/ctrl-$s.stats; rm -f "$st"
  out=$(port_of "$s" p2); [ -n "$out" ] || { log "  $s: no port number for p2" >&2; echo "0 0 0 - -"; return; }
  ctl=$V_CT; [ "$s" = ovs ] && ctl=$O_CT
  if [ "$s" = ovs ]; then
    ip netns exec "$OVSP-sw" "$PY" "$CTRL" "$ctl" "$out" "$st" --secs $((PIN_DUR + 60)) 2>>"$W/ctrl-$s.log" &
  else
    "$PY" "$CTRL" "$ctl" "$out" "$st" --secs $((PIN_DUR + 60)) 2>>"$W/ctrl-$s.log" &
  fi
  CTRL_PID=$!
  for i in $(seq 200); do # the switch reconnects with a backoff of up to 8 s
    [ -s "$st" ] && [ "$(cut -d' ' -f1 "$st")" = 1 ] && break
    pid_alive "$CTRL_PID" || break
    sleep 0.1
  done
  if ! [ -s "$st" ] || [ "$(cut -d' ' -f1 "$st")" != 1 ]; then
    log "  $s: the switch did not connect to the controller" >&2; kill_pid "$CTRL_PID"; CTRL_PID=""
    echo "0 0 0 - -"; return
  fi
  timeout -s INT $((PIN_DUR + 8)) ip netns exec "$h1" taskset -c 0 \
    trafgen -i "$W/pin.trafgen" -o eth0 -P 1 --no-sock-mem -Q -b "${PIN_RATE}pps" -n $((PIN_RATE * (PIN_DUR + 3))) \
    >>"$W/trafgen.log" 2>&1 &
  TG_PID=$!
  sleep 1
  sp=$(switch_pids "$s")
  read -r _ p0 _ _ <"$st"; rx0=$(counter "$h2" rx_packets) tx0=$(counter "$h1" tx_packets)
  c0=$(ticks $sp) k0=$(ticks "$CTRL_PID") t0=$EPOCHREALTIME
  sleep "$PIN_DUR"
  read -r _ p1 _ _ <"$st"; rx1=$(counter "$h2" rx_packets) tx1=$(counter "$h1" tx_packets)
  c1=$(ticks $sp) k1=$(ticks "$CTRL_PID") t1=$EPOCHREALTIME
  kill -INT "$TG_PID" 2>/dev/null; wait "$TG_PID" 2>/dev/null; TG_PID=""
  kill_pid "$CTRL_PID"; wait "$CTRL_PID" 2>/dev/null; CTRL_PID=""
  el=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')
  echo "$(fdiv $((rx1 - rx0)) "$el") $(fdiv $((p1 - p0)) "$el") $(fdiv $((tx1 - tx0)) "$el") \
$(awk -v t=$((c1 - c0)) -v e="$el" -v hz="$HZ" 'BEGIN{printf "%.0f", t * 100 / (e * hz)}') \
$(awk -v t=$((k1 - k0)) -v e="$el" -v hz="$HZ" 'BEGIN{printf "%.0f", t * 100 / (e * hz)}')"
}

# ------------------------------------------------------------------ main
log "OpenFlow 1.3: REPS=$REPS tests: $TESTS; flow-mods: N = $FLOWS; packet-in: ${PIN_RATE} frames/s offered for ${PIN_DUR}s; setups: $(echo $SETUPS)"
log "kernel $(uname -r), $(nproc) CPUs; vnet $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- crates 2>/dev/null || echo '+uncommitted changes'); $(ovs-ofctl --version | head -1)"
command -v ovs-vswitchd >/dev/null && [[ " $SETUPS " == *" ovs "* ]] && log "$(ovs-vswitchd --version | head -1)"
echo "setup,test,param,round,v1,v2,v3,v4,v5" >"$W/results.csv"
ACTIVE=""
for s in $SETUPS; do
  case $s in
    vnet) vnet_up ;;
    ovs) ovs_up || { log "OVS set-up failed"; tail -5 "$W/ovs/ovs-vswitchd.log" 2>/dev/null | sed 's/^/    /'; false; } ;;
    *) log "unknown setup $s"; false ;;
  esac || { log "$s: set-up failed, skipped"; continue; }
  for _ in $(seq 50); do ofctl "$s" show >/dev/null 2>&1 && break; sleep 0.2; done
  if ! ofctl "$s" show >/dev/null 2>&1; then log "$s: ovs-ofctl cannot reach $(of_target "$s"), skipped"; continue; fi
  log "$s: listener $(of_target "$s") (in $([ "$s" = ovs ] && echo "namespace $OVSP-sw" || echo "the host namespace")), controller port $([ "$s" = ovs ] && echo $O_CT || echo $V_CT), h2's port $(port_of "$s" p2)"
  ACTIVE+=" $s"
done
[ -n "$ACTIVE" ] || die "no set-up came up"
pin_frame

for r in $(seq "$REPS"); do
  if [[ " $TESTS " == *" flowmod "* ]]; then
    for n in $FLOWS; do
      for s in $ACTIVE; do
        read -r v1 v2 v3 <<<"$(test_flowmod "$s" "$n")"
        echo "$s,flowmod,$n,$r,$v1,$v2,$v3,," >>"$W/results.csv"
        log "$(printf '%-4s flowmod N=%-6s round %s: %8s flows/s  (%s s, flow_count %s)' "$s" "$n" "$r" "$v1" "$v2" "$v3")"
      done
    done
    for s in $ACTIVE; do OFT=120 ofctl "$s" del-flows >>"$W/ofctl.log" 2>&1; done
  fi
  if [[ " $TESTS " == *" pin "* ]]; then
    for s in $ACTIVE; do
      read -r v1 v2 v3 v4 v5 <<<"$(test_pin "$s")"
      echo "$s,pin,$PIN_RATE,$r,$v1,$v2,$v3,$v4,$v5" >>"$W/results.csv"
      log "$(printf '%-4s pin  round %s: %7s round trips/s at h2, %7s packet-ins/s at the controller, %7s offered/s; CPU %% switch %s, controller %s' \
        "$s" "$r" "$v1" "$v2" "$v3" "$v4" "$v5")"
    done
  fi
done

# ------------------------------------------------------------------ summary
echo
$PY - "$W/results.csv" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def med(s, t, p, k):
    v = [float(r[k]) for r in rows if (r['setup'], r['test'], r['param']) == (s, t, p) and r[k] not in ('', '-')]
    return statistics.median(v) if v else None
def f(x, fmt='%.0f'): return '-' if x is None else fmt % x
def ratio(a, b): return '-' if not a or not b else '%.2f' % (a / b)
setups = list(dict.fromkeys(r['setup'] for r in rows))
keys = list(dict.fromkeys((r['test'], r['param']) for r in rows))
n = max(sum(1 for r in rows if (r['setup'], r['test'], r['param']) == (setups[0], t, p)) for t, p in keys) if rows else 0
print('Medians of %d rounds:' % n)
print()
print('| test | ' + ' | '.join(setups) + (' | vnet / ovs |' if {'vnet', 'ovs'} <= set(setups) else ' |'))
print('|---|' + '---|' * len(setups) + ('---|' if {'vnet', 'ovs'} <= set(setups) else ''))
for t, p in keys:
    both = {'vnet', 'ovs'} <= set(setups)
    if t == 'flowmod':
        vals = {s: med(s, t, p, 'v1') for s in setups}
        secs = {s: med(s, t, p, 'v2') for s in setups}
        cells = []
        for s in setups:
            if vals[s] == 0:  # timed out or failed: how far it got
                cnt = med(s, t, p, 'v3')
                vals[s] = None
                cells.append('not done in %s s (flow_count %s of %s: >= %s flows/s)' % (
                    f(secs[s], '%.0f'), f(cnt), p, f(cnt / secs[s] if cnt and secs[s] else None)))
            else:
                cells.append('%s flows/s (%s s)' % (f(vals[s]), f(secs[s], '%.2f')))
        label = 'flow-mod add-flows N=%s' % p
    else:
        vals = {s: med(s, t, p, 'v1') for s in setups}
        cells = ['%s rt/s (%s pin/s, %s offered/s; CPU %% switch %s, ctl %s)' % (
            f(vals[s]), f(med(s, t, p, 'v2')), f(med(s, t, p, 'v3')), f(med(s, t, p, 'v4')), f(med(s, t, p, 'v5'))) for s in setups]
        label = 'packet-in round trips/s'
    print('| %s | %s |%s' % (label, ' | '.join(cells), (' %s |' % ratio(vals.get('vnet'), vals.get('ovs'))) if both else ''))
print()
print('vnet / ovs above 1 means vnet is faster (ratios of medians from this run).')
EOF
log "done"
