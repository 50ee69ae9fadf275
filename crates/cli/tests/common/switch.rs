//! Helpers for labs with userspace switches: the `vnet switch` and `vnet
//! exec` verbs, the switch daemon's processes (from /proc), pings between
//! hosts, and the one-switch labs of the OpenFlow tests ([`Hosts`]).

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::{ip_json, state_dir, vnet, wait_for, Run, TestLab};

/// `vnet switch LAB SWITCH ARGS...`.
pub fn sw(lab: &TestLab, switch: &str, args: &[&str]) -> Run {
    let mut full = vec!["switch", &lab.name, switch];
    full.extend_from_slice(args);
    vnet(&full)
}

/// `vnet exec LAB NODE -- ARGS...`.
pub fn exec(lab: &TestLab, node: &str, args: &[&str]) -> Run {
    let mut full = vec!["exec", &lab.name, node, "--"];
    full.extend_from_slice(args);
    vnet(&full)
}

/// Writes `text` as the lab's `lab.yaml` and brings it up.
pub fn up(lab: &TestLab, text: &str) {
    let path = lab.write("lab.yaml", text);
    vnet(&["up", &path]).ok();
}

/// `show --json` of sw1.
pub fn show(lab: &TestLab) -> Value {
    sw(lab, "sw1", &["show", "--json"]).ok().json()
}

/// A port's counters from sw1's `dump-ports --json`.
pub fn port_stats(lab: &TestLab, port: u64) -> Value {
    let j = sw(lab, "sw1", &["dump-ports", "--json"]).ok().json();
    j.as_array()
        .and_then(|a| a.iter().find(|p| p["port"] == port))
        .map(|p| p["stats"].clone())
        .unwrap_or_else(|| panic!("no port {port}: {j}"))
}

/// The MAC address of a node's interface.
pub fn mac_of(lab: &TestLab, node: &str, iface: &str) -> String {
    let v = ip_json(Some(&lab.ns(node)), &["link", "show", "dev", iface]);
    v[0]["address"].as_str().expect("address").to_string()
}

/// Whether the state file `file` of the lab (e.g. `flows-sw1.txt`) has
/// exactly `lines` lines.
pub fn saved(lab: &TestLab, file: &str, lines: usize) -> bool {
    std::fs::read_to_string(state_dir(&lab.name).join(file))
        .is_ok_and(|t| t.lines().count() == lines)
}

/// The daemon processes of a lab (`@switches` for the standalone
/// switches), from /proc: (pid, is_worker). Matches `vnet switchd LAB` /
/// `vnet switchd LAB --worker` exactly, so processes of other labs and
/// tests are never touched.
pub fn switchd_pids(lab: &str) -> Vec<(i32, bool)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmd.split(|b| *b == 0).filter(|a| !a.is_empty()).collect();
        let is_vnet = args
            .first()
            .is_some_and(|a| Path::new(&*String::from_utf8_lossy(a)).ends_with("vnet"));
        if is_vnet && args.get(1) == Some(&&b"switchd"[..]) && args.get(2) == Some(&lab.as_bytes())
        {
            match args.get(3) {
                None => out.push((pid, false)),
                Some(a) if *a == b"--worker" => out.push((pid, true)),
                Some(_) => {}
            }
        }
    }
    out.sort();
    out
}

/// The switch daemon's worker pid (see [`switchd_pids`]).
pub fn worker_pid(lab: &str) -> Option<i32> {
    switchd_pids(lab)
        .into_iter()
        .find(|(_, w)| *w)
        .map(|(p, _)| p)
}

/// Kills the switch daemon's worker with SIGKILL; returns its pid.
pub fn kill_worker(lab: &str) -> i32 {
    let pid = worker_pid(lab).expect("a worker");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the worker");
    pid
}

/// Whether a worker other than `old` runs.
pub fn new_worker(lab: &str, old: i32) -> bool {
    worker_pid(lab).is_some_and(|p| p != old)
}

/// Kills the switch daemon's worker and waits for its successor to answer
/// for sw1.
#[track_caller]
pub fn restart_worker(lab: &TestLab) {
    let old = kill_worker(&lab.name);
    assert!(
        wait_for(Duration::from_secs(20), || new_worker(&lab.name, old)
            && sw(lab, "sw1", &["show", "--json"]).success()),
        "the worker did not come back"
    );
}

/// One ping from node `from` to the address `to`, one second to answer.
pub fn ping_once(lab: &TestLab, from: &str, to: &str) -> bool {
    exec(lab, from, &["timeout", "5", "ping", "-n", "-c1", "-W1", to]).success()
}

/// Whether `from` reaches `to` within `tries` pings (the first may wait
/// for ARP and MAC learning).
pub fn reaches(lab: &TestLab, from: &str, to: &str, tries: usize) -> bool {
    (0..tries).any(|_| ping_once(lab, from, to))
}

/// Reachability: up to three tries.
#[track_caller]
pub fn assert_reaches(lab: &TestLab, from: &str, to: &str) {
    assert!(reaches(lab, from, to, 3), "{from} should reach {to}");
}

/// Unreachability: two pings, neither answered.
#[track_caller]
pub fn assert_unreachable(lab: &TestLab, from: &str, to: &str) {
    let r = exec(
        lab,
        from,
        &["timeout", "6", "ping", "-n", "-c2", "-i0.3", "-W1", to],
    );
    assert!(!r.success(), "{from} should not reach {to}: {r:#?}");
}

/// `pingall --json` with no lost pair within `attempts` rounds (the first
/// round also warms up ARP and learning after a change).
#[track_caller]
pub fn assert_pingall(lab: &TestLab, attempts: usize) {
    let mut last = Value::Null;
    for _ in 0..attempts {
        let r = vnet(&["pingall", "--json", &lab.name]);
        last = r.json();
        if r.success() && last["lost_pairs"] == 0 {
            return;
        }
    }
    panic!("pingall {}: pairs lost: {last:#}", lab.name);
}

/// The OpenFlow settings of a secure switch listening on a free port.
pub const SECURE_LISTENER: &str = "{ listen: \"ptcp:0\", fail_mode: secure }";

/// The hosts h1..hn of a lab of one switch `sw1`, host `hI` at
/// 10.NET.0.I/24 on the switch's port I (each test file has its own NET).
#[derive(Clone, Copy)]
pub struct Hosts(pub u8);

impl Hosts {
    /// The address of host `hI`.
    pub fn ip(self, i: usize) -> String {
        format!("10.{}.0.{i}", self.0)
    }

    /// The lab file: `sw1` with `openflow` (a YAML flow mapping, left out
    /// when empty) and the quoted `lists` (`("flows", [...])`, ...; empty
    /// ones left out), and `n` hosts.
    pub fn lab_yaml(
        self,
        name: &str,
        openflow: &str,
        lists: &[(&str, &[&str])],
        n: usize,
    ) -> String {
        let mut s = format!("name: {name}\nnodes:\n  sw1:\n    kind: switch\n");
        if !openflow.is_empty() {
            s.push_str(&format!("    openflow: {openflow}\n"));
        }
        for (key, items) in lists.iter().filter(|(_, items)| !items.is_empty()) {
            s.push_str(&format!("    {key}:\n"));
            for i in *items {
                s.push_str(&format!("      - \"{i}\"\n"));
            }
        }
        for i in 1..=n {
            s.push_str(&format!("  h{i}: {{ kind: host }}\n"));
        }
        s.push_str("links:\n");
        for i in 1..=n {
            s.push_str(&format!(
                "  - endpoints: [{{ node: h{i}, addresses: [{}/24] }}, sw1]\n",
                self.ip(i)
            ));
        }
        s
    }

    /// A lab `tag` (see [`TestLab::new`]) of one secure switch listening
    /// on `ptcp:0` and `n` hosts, up.
    pub fn secure_lab(self, tag: &str, n: usize) -> TestLab {
        let lab = TestLab::new(tag);
        up(&lab, &self.lab_yaml(&lab.name, SECURE_LISTENER, &[], n));
        lab
    }

    /// One ping from `hFROM` to `hTO`.
    pub fn ping_once(self, lab: &TestLab, from: usize, to: usize) -> bool {
        ping_once(lab, &format!("h{from}"), &self.ip(to))
    }

    /// Reachability: up to four tries.
    #[track_caller]
    pub fn assert_reaches(self, lab: &TestLab, from: usize, to: usize) {
        assert!(
            reaches(lab, &format!("h{from}"), &self.ip(to), 4),
            "h{from} should reach h{to}"
        );
    }

    /// Unreachability: two pings, neither answered.
    #[track_caller]
    pub fn assert_unreachable(self, lab: &TestLab, from: usize, to: usize) {
        assert_unreachable(lab, &format!("h{from}"), &self.ip(to));
    }
}
