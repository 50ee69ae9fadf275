//! A switch port whose device is deleted and recreated under the same name
//! keeps working without a daemon restart: whether `vnet up` rebuilds the
//! link (the lab reconciler) or someone recreates it with `ip`. The port
//! keeps its number and its counters (`dump-ports`).
//!
//! Real binary, daemon and kernel, as root; the [`TestLab`] guard takes the
//! lab down (daemon included) even when the test fails.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

fn exec(lab: &TestLab, node: &str, args: &[&str]) -> Run {
    let mut full = vec!["exec", &lab.name, node, "--"];
    full.extend_from_slice(args);
    vnet(&full)
}

fn ping_once(lab: &TestLab, from: &str, to: &str) -> bool {
    exec(lab, from, &["timeout", "5", "ping", "-n", "-c1", "-W1", to]).success()
}

/// `dump-ports --json` of sw1: port name → (number, stats).
fn dump_ports(lab: &TestLab) -> Vec<(String, u64, Value)> {
    let r = vnet(&["switch", &lab.name, "sw1", "dump-ports", "--json"]).ok();
    let j = r.json();
    let mut v: Vec<(String, u64, Value)> = j
        .as_array()
        .unwrap_or_else(|| panic!("dump-ports --json: not an array: {j}"))
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name").to_string(),
                p["port"].as_u64().expect("port"),
                p["stats"].clone(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn stat(ports: &[(String, u64, Value)], port: &str, key: &str) -> u64 {
    ports
        .iter()
        .find(|p| p.0 == port)
        .unwrap_or_else(|| panic!("no port {port}: {ports:?}"))
        .2[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key} for {port}: {ports:?}"))
}

/// The switchd worker of a lab (`vnet switchd LAB --worker`), from /proc.
fn worker_pid(lab: &str) -> Option<i32> {
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmd.split(|b| *b == 0).filter(|a| !a.is_empty()).collect();
        if args.len() == 4
            && args[1] == b"switchd"
            && args[2] == lab.as_bytes()
            && args[3] == b"--worker"
        {
            return Some(pid);
        }
    }
    None
}

#[track_caller]
fn assert_counters_kept(before: &[(String, u64, Value)], after: &[(String, u64, Value)]) {
    for (name, no, _) in before {
        let again = after
            .iter()
            .find(|p| p.0 == *name)
            .unwrap_or_else(|| panic!("port {name} gone: {after:?}"));
        assert_eq!(again.1, *no, "port {name} renumbered");
        for key in ["rx_packets", "tx_packets", "rx_bytes", "tx_bytes"] {
            assert!(
                stat(after, name, key) >= stat(before, name, key),
                "port {name}: {key} went back: {before:?} -> {after:?}"
            );
        }
    }
}

#[test]
fn a_port_device_recreated_under_its_name_works_again_without_a_restart() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("swdev");
    // Fixed MACs, so the hosts' ARP caches stay right across the rebuilds.
    let yaml = format!(
        "name: {}\nnodes:\n  sw1: {{ kind: switch }}\n  h1: {{ kind: host }}\n  h2: {{ kind: host }}\n\
         links:\n\
         \x20 - endpoints: [{{ node: h1, addresses: [10.77.0.1/24], mac: \"02:7e:01:00:00:01\" }}, sw1]\n\
         \x20 - endpoints: [{{ node: h2, addresses: [10.77.0.2/24], mac: \"02:7e:01:00:00:02\" }}, sw1]\n",
        lab.name
    );
    let file = lab.write("lab.yaml", &yaml);
    vnet(&["up", &file]).ok();
    assert!(
        wait_until(Duration::from_secs(10), || ping_once(
            &lab,
            "h1",
            "10.77.0.2"
        )),
        "h1 -> h2 at start"
    );
    let worker = worker_pid(&lab.name).expect("switchd worker");
    let before = dump_ports(&lab);
    assert!(stat(&before, "h2", "tx_packets") > 0, "{before:?}");
    let sw_ns = lab.ns("sw1");

    // 1. The lab reconciler rebuilds the link: `vnet up` after the switch's
    // end was deleted behind its back.
    sh("ip", &["-n", &sw_ns, "link", "del", "h2"]);
    vnet(&["up", &file]).ok();
    assert!(
        wait_until(Duration::from_secs(10), || ping_once(
            &lab,
            "h1",
            "10.77.0.2"
        )),
        "h1 -> h2 after `vnet up` recreated the link"
    );
    assert!(
        ping_once(&lab, "h2", "10.77.0.1"),
        "h2 -> h1 after `vnet up`"
    );
    let after_up = dump_ports(&lab);
    assert_counters_kept(&before, &after_up);
    assert!(
        stat(&after_up, "h2", "tx_packets") > stat(&before, "h2", "tx_packets"),
        "{before:?} -> {after_up:?}"
    );

    // 2. By hand, with iproute2: the same name, a new device.
    sh("ip", &["-n", &sw_ns, "link", "del", "h2"]);
    let h2_ns = lab.ns("h2");
    sh(
        "ip",
        &[
            "-n",
            &sw_ns,
            "link",
            "add",
            "h2",
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "address",
            "02:7e:01:00:00:02",
            "netns",
            &h2_ns,
        ],
    );
    sh(
        "ip",
        &["-n", &h2_ns, "addr", "add", "10.77.0.2/24", "dev", "eth0"],
    );
    sh("ip", &["-n", &h2_ns, "link", "set", "eth0", "up"]);
    sh("ip", &["-n", &sw_ns, "link", "set", "h2", "up"]);
    assert!(
        wait_until(Duration::from_secs(10), || ping_once(
            &lab,
            "h1",
            "10.77.0.2"
        )),
        "h1 -> h2 after the device was recreated with ip"
    );
    assert!(ping_once(&lab, "h2", "10.77.0.1"), "h2 -> h1 after ip");
    let after_ip = dump_ports(&lab);
    assert_counters_kept(&after_up, &after_ip);

    // Never restarted: the same worker served all of it.
    assert_eq!(worker_pid(&lab.name), Some(worker), "the daemon restarted");
    let log = std::fs::read_to_string(state_dir(&lab.name).join("switchd.log")).unwrap_or_default();
    assert!(
        log.contains("attached to its device"),
        "switchd.log:\n{log}"
    );
    vnet(&["down", &lab.name]).ok();
    lab.assert_gone();
}
