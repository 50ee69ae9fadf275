#!/usr/bin/env python3
"""CPU used by *foreign* processes since the previous call (helper of bench/switch.sh).

usage: fcpu.py SNAPFILE ROOTPID [--ns NAME ...] [--pid PID ...]

Prints the clock ticks (utime+stime+cutime+cstime) that processes other than
the benchmark's own used since the previous call with the same SNAPFILE (0 on
the first call), then saves a new snapshot. The benchmark's own processes are
ROOTPID and its descendants, every --pid PID and its descendants (daemons that
were reparented, e.g. the vnet switch daemon), and every process whose network
namespace is one of the named namespaces (--ns, as under /run/netns).
Kernel threads are skipped (ksoftirqd etc. do the benchmark's packet work),
except kworkers, which carry e.g. another session's namespace cleanup.
Deltas are per process (pid+starttime), so exits do not produce negative totals.
A parent's cutime grows by a reaped child's whole lifetime (e.g. cargo reaping
a long rustc), so each process's delta and the total are capped at what all
CPUs could have done since the previous call.
"""
import json
import os
import sys
import time

snap, root = sys.argv[1], int(sys.argv[2])
ns_names, pids, mode = [], [], None
for a in sys.argv[3:]:
    if a in ("--ns", "--pid"):
        mode = a
    elif mode == "--ns":
        ns_names.append(a)
    elif mode == "--pid" and a.isdigit():
        pids.append(int(a))

ns_ino = set()
for n in ns_names:
    for d in ("/run/netns/", "/var/run/netns/"):
        try:
            ns_ino.add(os.stat(d + n).st_ino)
            break
        except OSError:
            pass

procs = {}  # pid -> (ppid, flags, comm, starttime, ticks)
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        s = open("/proc/%s/stat" % p).read()
        comm = s[s.index("(") + 1:s.rindex(")")]
        f = s[s.rindex(")") + 2:].split()
        procs[int(p)] = (int(f[1]), int(f[6]), comm, f[19], sum(int(x) for x in f[11:15]))
    except (OSError, ValueError, IndexError):
        pass

children = {}
for pid, (ppid, *_rest) in procs.items():
    children.setdefault(ppid, []).append(pid)
ours, todo = set(), [root] + pids
while todo:
    q = todo.pop()
    if q in ours:
        continue
    ours.add(q)
    todo.extend(children.get(q, []))

cur = {}
for pid, (ppid, flags, comm, start, ticks) in procs.items():
    if flags & 0x00200000 and not comm.startswith("kworker"):
        continue
    if pid in ours:
        continue
    try:
        if ns_ino and os.stat("/proc/%d/ns/net" % pid).st_ino in ns_ino:
            continue
    except OSError:
        continue
    cur["%d:%s" % (pid, start)] = ticks

now = time.monotonic()
try:
    prev = json.load(open(snap))
except (OSError, ValueError):
    prev = None
json.dump({"t": now, "ticks": cur}, open(snap, "w"))
if prev is None:
    print(0)
else:
    cap = (now - prev["t"]) * os.sysconf("SC_CLK_TCK") * os.cpu_count()
    old = prev["ticks"]
    total = sum(min(cap, max(0, v - old.get(k, 0))) for k, v in cur.items())
    print(int(min(cap, total)))
