//! End-to-end tests of standalone switches (`vnet vswitch`): the real
//! binary, the `@switches` daemon and the kernel, as root.
//!
//! Nothing is ever attached to or created in the root namespace: each test
//! makes its own namespaces (names unique to the test process) — hosts,
//! each with a veth whose other end is in "the switch's namespace" — and
//! adds those ends as ports with `--netns`. A [`Rig`] guard deletes the
//! test's switches and namespaces on drop, also when the test fails.
//!
//! The daemon is shared by every standalone switch on the host, so tests
//! running in parallel share it; each only asserts about its own switches
//! (and about the daemon being gone only when no switch is left).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::Value;

const STATE: &str = "/run/vnet/@switches";

/// A test's namespaces and switches, removed on drop.
struct Rig {
    tag: String,
    /// The switch's namespace.
    sw_ns: String,
    /// Host namespaces, in order; host `i` has `h0` (10.99.K.i+1/24) whose
    /// peer is `pI` in the switch's namespace.
    hosts: Vec<String>,
    /// More namespaces of the test, deleted on drop.
    extra: Vec<String>,
    switches: Vec<String>,
}

impl Rig {
    fn new(tag: &str, hosts: usize, subnet: u8) -> Rig {
        let tag = format!("v{}{tag}", std::process::id() % 1_000_000);
        assert!(tag.len() <= 12, "tag {tag} too long");
        let mut rig = Rig {
            sw_ns: format!("{tag}-s"),
            hosts: vec![],
            extra: vec![],
            switches: vec![],
            tag,
        };
        sh("ip", &["netns", "add", &rig.sw_ns]);
        for i in 0..hosts {
            let ns = format!("{}-h{i}", rig.tag);
            sh("ip", &["netns", "add", &ns]);
            rig.hosts.push(ns.clone());
            let peer = format!("p{i}");
            sh(
                "ip",
                &[
                    "link", "add", "h0", "netns", &ns, "type", "veth", "peer", "name", &peer,
                    "netns", &rig.sw_ns,
                ],
            );
            let addr = format!("10.99.{subnet}.{}/24", i + 1);
            sh("ip", &["-n", &ns, "addr", "add", &addr, "dev", "h0"]);
            sh("ip", &["-n", &ns, "link", "set", "h0", "up"]);
            sh("ip", &["-n", &ns, "link", "set", "lo", "up"]);
        }
        rig
    }

    /// A switch name unique to this test.
    fn switch(&mut self, suffix: &str) -> String {
        let name = format!("{}{suffix}", self.tag);
        self.switches.push(name.clone());
        name
    }

    fn ping_once(&self, from: usize, to_ip: &str) -> bool {
        Command::new("ip")
            .args(["netns", "exec", &self.hosts[from]])
            .args(["timeout", "5", "ping", "-n", "-c1", "-W1", to_ip])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Up to three tries (the first may wait for ARP and learning).
    fn reaches(&self, from: usize, to_ip: &str) -> bool {
        (0..3).any(|_| self.ping_once(from, to_ip))
    }

    /// Two pings, neither answered.
    fn unreachable(&self, from: usize, to_ip: &str) -> bool {
        !Command::new("ip")
            .args(["netns", "exec", &self.hosts[from]])
            .args(["timeout", "6", "ping", "-n", "-c2", "-i0.3", "-W1", to_ip])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        for s in &self.switches {
            let _ = vnet_cmd()
                .args(["vswitch", "del-br", "--if-exists", s])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        for ns in self.hosts.iter().chain(&self.extra).chain([&self.sw_ns]) {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn vs(args: &[&str]) -> Run {
    let mut full = vec!["vswitch"];
    full.extend_from_slice(args);
    vnet(&full)
}

/// `vnet switch @ SWITCH ARGS...`.
fn flows(switch: &str, args: &[&str]) -> Run {
    let mut full = vec!["switch", "@", switch];
    full.extend_from_slice(args);
    vnet(&full)
}

/// The daemon's lab name (`vnet switchd @switches`).
const DAEMON: &str = "@switches";

fn port_names(switch: &str) -> Vec<String> {
    let j = vs(&["list-ports", switch, "--json"]).ok().json();
    j.as_array()
        .expect("array")
        .iter()
        .map(|p| p["iface"].as_str().expect("iface").to_string())
        .collect()
}

fn flow_texts(switch: &str) -> Vec<String> {
    let j = flows(switch, &["dump-flows", "--json"]).ok().json();
    let mut v: Vec<String> = j
        .as_array()
        .expect("array")
        .iter()
        .map(|f| f["flow"].as_str().expect("flow").to_string())
        .collect();
    v.sort();
    v
}

fn link_exists(ns: &str, name: &str) -> bool {
    Command::new("ip")
        .args(["-n", ns, "link", "show", "dev", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// When no standalone switch is left, nothing of them is: no state, no daemon.
fn assert_gone_if_none_left() {
    let left = vs(&["list-br"]).ok().stdout;
    if left.trim().is_empty() {
        assert!(!Path::new(STATE).exists(), "{STATE} left behind");
        assert_eq!(worker_pid(DAEMON), None, "daemon left running");
    }
}

#[test]
fn ping_flows_restart_and_cleanup() {
    if !root_or_skip() {
        return;
    }
    let mut rig = Rig::new("p", 2, 1);
    let sw = rig.switch("a");
    vs(&["add-br", &sw, "--netns", &rig.sw_ns]).ok();
    // The internal port, in the switch's namespace.
    assert!(link_exists(&rig.sw_ns, &sw));
    vs(&["add-port", &sw, "p0"]).ok();
    vs(&["add-port", &sw, "p1", "--netns", &rig.sw_ns]).ok();
    let ports = vs(&["list-ports", &sw, "--json"]).ok().json();
    assert_eq!(ports[0]["iface"], "p0");
    assert_eq!(ports[0]["ofport"], 1);
    assert_eq!(ports[0]["netns"], Value::from(rig.sw_ns.clone()));
    assert_eq!(ports[1]["ofport"], 2);
    assert!(vs(&["list-br"]).ok().stdout.lines().any(|l| l == sw));
    assert_eq!(vs(&["list-ports", &sw]).ok().stdout, "p0\np1\n");

    assert!(
        rig.reaches(0, "10.99.1.2"),
        "h0 should reach h1 through {sw}"
    );
    let show = flows(&sw, &["show"]).ok().stdout;
    assert!(show.contains("1(p0)") && show.contains("2(p1)"), "{show}");

    // A drop flow stops the pings; port names work in flows.
    flows(
        &sw,
        &["add-flow", "priority=100,icmp,in_port=p0,actions=drop"],
    )
    .ok();
    assert!(rig.unreachable(0, "10.99.1.2"));

    // kill -9 of the worker: it comes back with its ports and flows.
    let before = flow_texts(&sw);
    let old = kill_worker(DAEMON);
    assert!(
        wait_for(Duration::from_secs(20), || new_worker(DAEMON, old)
            && flows(&sw, &["show", "--json"]).success()),
        "worker did not come back"
    );
    assert_eq!(flow_texts(&sw), before);
    assert!(
        before
            .iter()
            .any(|f| f.contains("icmp") && f.contains("drop")),
        "{before:?}"
    );
    let show = flows(&sw, &["show", "--json"]).ok().json();
    let names: Vec<&str> = show["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.contains(&"p0") && names.contains(&"p1"), "{show:#}");
    assert!(link_exists(&rig.sw_ns, &sw), "internal port back");
    assert!(rig.unreachable(0, "10.99.1.2"), "the drop flow survived");
    flows(&sw, &["del-flows", "icmp"]).ok();
    assert!(rig.reaches(0, "10.99.1.2"), "traffic again after del-flows");

    // `vnet status` lists labs only; the standalone switches apart.
    let st = vnet(&["status", "--json"]).ok().json();
    assert!(
        st.as_array()
            .expect("array")
            .iter()
            .all(|l| !l["lab"].as_str().unwrap_or("").starts_with('@')),
        "{st:#}"
    );
    let text = vnet(&["status"]).ok().stdout;
    assert!(!text.lines().any(|l| l.starts_with("@switches")), "{text}");
    assert!(text.contains("standalone switches"), "{text}");
    vnet(&["status", "@switches"]).fails();

    // del-port: the port goes, the interface stays.
    vs(&["del-port", &sw, "p1"]).ok();
    assert_eq!(port_names(&sw), vec!["p0"]);
    assert!(link_exists(&rig.sw_ns, "p1"));
    assert!(rig.unreachable(0, "10.99.1.2"));
    // Re-added, it gets a new number (flows naming the old one never match it).
    vs(&["add-port", &sw, "p1"]).ok();
    let ports = vs(&["list-ports", &sw, "--json"]).ok().json();
    assert_eq!(ports[1]["ofport"], 3);
    assert!(rig.reaches(0, "10.99.1.2"));

    // del-br: switch, internal port and flows go; interfaces stay.
    vs(&["del-br", &sw]).ok();
    assert!(!vs(&["list-br"]).ok().stdout.lines().any(|l| l == sw));
    assert!(!link_exists(&rig.sw_ns, &sw), "internal port left");
    assert!(link_exists(&rig.sw_ns, "p0"));
    assert!(!Path::new(STATE).join(format!("flows-{sw}.txt")).exists());
    flows(&sw, &["dump-flows"]).fails();
    assert_gone_if_none_left();
}

#[test]
fn vlan_access_ports_isolate() {
    if !root_or_skip() {
        return;
    }
    let mut rig = Rig::new("v", 3, 2);
    let sw = rig.switch("v");
    vs(&["add-br", &sw, "--netns", &rig.sw_ns]).ok();
    vs(&["add-port", &sw, "p0", "--vlan", "10"]).ok();
    vs(&["add-port", &sw, "p1", "--vlan", "10"]).ok();
    vs(&["add-port", &sw, "p2", "--vlan", "20"]).ok();
    let ports = vs(&["list-ports", &sw, "--json"]).ok().json();
    assert_eq!(ports[2]["vlan"], serde_json::json!({ "Access": 20 }));
    assert!(rig.reaches(0, "10.99.2.2"), "same VLAN");
    assert!(
        rig.unreachable(0, "10.99.2.3"),
        "VLAN 10 must not reach VLAN 20"
    );
    assert!(
        rig.unreachable(2, "10.99.2.2"),
        "VLAN 20 must not reach VLAN 10"
    );
    // Moved to VLAN 10 (del-port, add-port): reachable.
    vs(&["del-port", &sw, "p2"]).ok();
    vs(&["add-port", &sw, "p2", "--vlan", "10"]).ok();
    assert!(rig.reaches(0, "10.99.2.3"));
    // A trunk port's settings are kept as given.
    vs(&["del-port", &sw, "p2"]).ok();
    vs(&["add-port", &sw, "p2", "--trunk", "10,20", "--native", "20"]).ok();
    let ports = vs(&["list-ports", &sw, "--json"]).ok().json();
    assert_eq!(
        ports[2]["vlan"],
        serde_json::json!({ "Trunk": { "allowed": [10, 20], "native": 20 } })
    );
    // Untagged on p2 is VLAN 20: still isolated from VLAN 10.
    assert!(rig.unreachable(2, "10.99.2.1"));
    vs(&["del-br", &sw]).ok();
    assert_gone_if_none_left();
}

#[test]
fn clear_errors() {
    if !root_or_skip() {
        return;
    }
    let mut rig = Rig::new("e", 1, 3);
    let sw = rig.switch("e");
    let other = rig.switch("f");
    let err = |r: Run| r.fails().stderr;

    let e = err(vs(&["add-br", "abcdefghijklmnop"]));
    assert!(e.contains("too long"), "{e}");
    let e = err(vs(&["add-br", "bad@name"]));
    assert!(e.contains("not allowed"), "{e}");
    let e = err(vs(&["add-br", &sw, "--netns", "vnet-no-such-ns-e2e"]));
    assert!(e.contains("namespace vnet-no-such-ns-e2e not found"), "{e}");
    let e = err(vs(&["add-port", &sw, "p0", "--netns", &rig.sw_ns]));
    assert!(e.contains(&format!("no switch {sw}")), "{e}");
    let e = err(flows(&sw, &["dump-flows"]));
    assert!(e.contains(&format!("no standalone switch {sw}")), "{e}");

    vs(&["add-br", &sw, "--netns", &rig.sw_ns]).ok();
    vs(&["add-br", &other, "--netns", &rig.sw_ns]).ok();
    let e = err(vs(&["add-br", &sw, "--netns", &rig.sw_ns]));
    assert!(e.contains("already exists"), "{e}");
    vs(&["add-br", &sw, "--may-exist", "--netns", &rig.sw_ns]).ok();

    let e = err(vs(&["add-port", &sw, "nosuch0"]));
    assert!(
        e.contains(&format!(
            "interface nosuch0 not found in namespace {}",
            rig.sw_ns
        )),
        "{e}"
    );
    let e = err(vs(&[
        "add-port",
        &sw,
        "h0",
        "--netns",
        "vnet-no-such-ns-e2e",
    ]));
    assert!(e.contains("not found"), "{e}");
    let e = err(vs(&["add-port", &sw, "averyverylongiface0"]));
    assert!(e.contains("too long"), "{e}");
    let e = err(vs(&["add-port", &sw, "p0", "--vlan", "5000"]));
    assert!(e.contains("out of range"), "{e}");
    // A failed add-port leaves no port behind.
    assert!(port_names(&sw).is_empty());

    vs(&["add-port", &sw, "p0"]).ok();
    let e = err(vs(&["add-port", &sw, "p0"]));
    assert!(e.contains("already"), "{e}");
    vs(&["add-port", &sw, "p0", "--may-exist"]).ok();
    let e = err(vs(&["add-port", &other, "p0", "--netns", &rig.sw_ns]));
    assert!(e.contains(&format!("port of switch {sw}")), "{e}");
    let e = err(vs(&["add-port", &other, &sw]));
    assert!(e.contains("internal port"), "{e}");
    let e = err(vs(&["del-port", &sw, "p9"]));
    assert!(e.contains("no port p9"), "{e}");
    vs(&["del-port", &sw, "p9", "--if-exists"]).ok();
    let e = err(flows(
        &sw,
        &["add-flow", "priority=1,in_port=nosuch,actions=drop"],
    ));
    assert!(!e.is_empty());
    assert_eq!(port_names(&sw), vec!["p0"]);

    vs(&["del-br", &sw]).ok();
    vs(&["del-br", &other]).ok();
    let e = err(vs(&["del-br", &sw]));
    assert!(e.contains(&format!("no switch {sw}")), "{e}");
    vs(&["del-br", &sw, "--if-exists"]).ok();
    assert_gone_if_none_left();
}

#[test]
fn ports_in_other_namespaces_and_taps() {
    if !root_or_skip() {
        return;
    }
    let mut rig = Rig::new("n", 2, 4);
    // The switch (its internal port) in a namespace of its own; its ports
    // in the namespace of the veth peers.
    let home = format!("{}-x", rig.tag);
    sh("ip", &["netns", "add", &home]);
    rig.extra.push(home.clone());
    let sw = rig.switch("n");
    vs(&["add-br", &sw, "--netns", &home]).ok();
    assert!(link_exists(&home, &sw));
    let e = vs(&["add-port", &sw, "p0"]).fails().stderr;
    assert!(e.contains(&format!("not found in namespace {home}")), "{e}");
    vs(&["add-port", &sw, "p0", "--netns", &rig.sw_ns]).ok();
    vs(&["add-port", &sw, "p1", "--netns", &rig.sw_ns]).ok();
    assert!(
        rig.reaches(0, "10.99.4.2"),
        "through ports of another namespace"
    );
    // A TAP device (a VM's, with no VM attached) as a port.
    sh(
        "ip",
        &[
            "-n", &rig.sw_ns, "tuntap", "add", "mode", "tap", "name", "tp0",
        ],
    );
    vs(&["add-port", &sw, "tp0", "--netns", &rig.sw_ns]).ok();
    let show = flows(&sw, &["show"]).ok().stdout;
    assert!(show.contains("3(tp0)"), "{show}");
    assert!(rig.reaches(1, "10.99.4.1"));
    vs(&["del-br", &sw]).ok();
    assert!(!link_exists(&home, &sw));
    assert!(link_exists(&rig.sw_ns, "tp0"));
    assert_gone_if_none_left();
}
