//! End-to-end tests of the userspace switch: the real `vnet` binary, its
//! switch daemon and the kernel, as root. Reachability is checked with
//! `ping` and `iperf3` run inside the lab's namespaces, addresses are read
//! back with `ip -j`, daemon processes from /proc.
//!
//! Every traffic test is bounded in packets and time (`timeout` around
//! every traffic command). Each test holds a [`TestLab`] guard, so its lab
//! is brought down (daemon included) even when it fails.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

// ---------------------------------------------------------------- helpers

/// The IPv4 address of a node's interface (`ip -j addr`).
fn ipv4_of(lab: &TestLab, node: &str, iface: &str) -> String {
    let v = ip_json(Some(&lab.ns(node)), &["-4", "addr", "show", "dev", iface]);
    v[0]["addr_info"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["scope"] == "global"))
        .and_then(|a| a["local"].as_str())
        .unwrap_or_else(|| panic!("{node}:{iface} has no IPv4 address: {v}"))
        .to_string()
}

/// Flows of `dump-flows --json` without counters and durations:
/// (table, priority, flow text), sorted.
fn flow_specs(lab: &TestLab, switch: &str) -> Vec<(u64, u64, String)> {
    let j = sw(lab, switch, &["dump-flows", "--json"]).ok().json();
    let mut v: Vec<(u64, u64, String)> = j
        .as_array()
        .unwrap_or_else(|| panic!("dump-flows --json: not an array: {j}"))
        .iter()
        .map(|f| {
            (
                f["table"].as_u64().expect("table"),
                f["priority"].as_u64().expect("priority"),
                f["flow"].as_str().expect("flow").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A flow as dump-flows prints it (` actions=` after the match).
fn spec(flow: &str) -> String {
    flow.replacen(",actions=", " actions=", 1)
}

/// A switch's ports from `show --json`: name → (port number, VLAN mode).
fn ports(lab: &TestLab, switch: &str) -> Vec<(String, u64, Value)> {
    let j = sw(lab, switch, &["show", "--json"]).ok().json();
    let mut v: Vec<(String, u64, Value)> = j["ports"]
        .as_array()
        .unwrap_or_else(|| panic!("show --json: no ports: {j}"))
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name").to_string(),
                p["port"].as_u64().expect("port"),
                p["vlan"].clone(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn port_no(lab: &TestLab, switch: &str, name: &str) -> Option<u64> {
    ports(lab, switch)
        .into_iter()
        .find(|p| p.0 == name)
        .map(|p| p.1)
}

/// examples/switch.yaml under this test's lab name.
fn switch_example(lab: &TestLab) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/switch.yaml");
    let text = std::fs::read_to_string(&path).expect("read examples/switch.yaml");
    assert!(text.contains("\nname: switched\n"), "example changed");
    let text = text.replace("\nname: switched\n", &format!("\nname: {}\n", lab.name));
    lab.write("switch.yaml", &text)
}

/// One switch and `n` VLAN-unaware hosts h1..hn, with optional flows.
/// Addresses are explicit (10.77.0.I/24), so that they stay put when the
/// lab changes (automatic addresses are renumbered when a link goes, and
/// hosts' ARP caches would then point at the wrong hosts for a while).
fn star_switch(name: &str, n: usize, flows: &[&str]) -> String {
    let mut s = format!("name: {name}\nnodes:\n  sw1:\n    kind: switch\n");
    if !flows.is_empty() {
        s.push_str("    flows:\n");
        for f in flows {
            s.push_str(&format!("      - {f}\n"));
        }
    }
    for i in 1..=n {
        s.push_str(&format!("  h{i}: {{ kind: host }}\n"));
    }
    s.push_str("links:\n");
    for i in 1..=n {
        s.push_str(&format!(
            "  - endpoints: [{{ node: h{i}, addresses: [10.77.0.{i}/24] }}, sw1]\n"
        ));
    }
    s
}

/// The guard's `vnet down` must stop the daemon; checked explicitly here.
#[track_caller]
fn down_and_check(lab: &TestLab) {
    vnet(&["down", &lab.name]).ok();
    assert_eq!(switchd_pids(&lab.name), vec![], "switchd left running");
    lab.assert_gone();
}

// ------------------------------------------------------------------ tests

#[test]
fn vlans_trunk_and_routing_between_vlans() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("swvlan");
    let file = switch_example(&lab);
    vnet(&["up", &file]).ok();
    assert_eq!(
        switchd_pids(&lab.name).len(),
        2,
        "one supervisor and one worker: {:?}",
        switchd_pids(&lab.name)
    );
    assert_pingall(&lab, 2);

    let h3 = ipv4_of(&lab, "h3", "eth0");
    let h4 = ipv4_of(&lab, "h4", "eth0");
    let h2 = ipv4_of(&lab, "h2", "eth0");
    // h1 (VLAN 10, sw1) and h3 (VLAN 10, sw2) share a subnet across the
    // trunk; h4 and h2 (VLAN 20) are another subnet, reached via r1.
    let r = ip_json(Some(&lab.ns("h1")), &["route", "get", &h3]);
    assert!(r[0]["gateway"].is_null(), "h3 is on-link for h1: {r}");
    let r = ip_json(Some(&lab.ns("h1")), &["route", "get", &h4]);
    assert!(r[0]["gateway"].is_string(), "h4 is routed for h1: {r}");
    assert_reaches(&lab, "h1", &h3);
    assert_reaches(&lab, "h1", &h4);

    // The switches learned each host in its own VLAN only, and sw2 learned
    // h1 (VLAN 10) through the trunk port.
    let h1_mac = mac_of(&lab, "h1", "eth0");
    let h2_mac = mac_of(&lab, "h2", "eth0");
    let fdb1 = sw(&lab, "sw1", &["fdb", "--json"]).ok().json();
    let fdb2 = sw(&lab, "sw2", &["fdb", "--json"]).ok().json();
    let vlans_of = |fdb: &Value, mac: &str| -> Vec<(u64, String)> {
        fdb.as_array()
            .expect("fdb array")
            .iter()
            .filter(|e| e["mac"] == mac)
            .map(|e| {
                (
                    e["vlan"].as_u64().unwrap(),
                    e["port_name"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    assert_eq!(vlans_of(&fdb1, &h1_mac), vec![(10, "h1".to_string())]);
    assert_eq!(vlans_of(&fdb1, &h2_mac), vec![(20, "h2".to_string())]);
    assert_eq!(vlans_of(&fdb2, &h1_mac), vec![(10, "sw1".to_string())]);

    // Without forwarding on r1, VLAN 10 and VLAN 20 cannot talk: h1 loses
    // h4 and h2, and still has h3 (same VLAN across the trunk).
    exec(&lab, "r1", &["sysctl", "-w", "net.ipv4.ip_forward=0"]).ok();
    assert_unreachable(&lab, "h1", &h4);
    assert_unreachable(&lab, "h1", &h2);
    assert_reaches(&lab, "h1", &h3);
    exec(&lab, "r1", &["sysctl", "-w", "net.ipv4.ip_forward=1"]).ok();
    assert_reaches(&lab, "h1", &h4);

    // The switches' reading verbs all answer, in text and in JSON.
    for verb in ["show", "dump-flows", "dump-ports", "fdb"] {
        let t = sw(&lab, "sw1", &[verb]).ok();
        assert!(!t.stdout.is_empty(), "{verb}: {t:#?}");
        sw(&lab, "sw1", &[verb, "--json"]).ok().json();
    }
    let show = sw(&lab, "sw1", &["show"]).ok().stdout;
    assert!(show.contains("trunk 10,20"), "{show}");
    assert!(show.contains("(h1) vlan 10"), "{show}");
    assert!(show.contains("(r1-v20) vlan 20"), "{show}");

    down_and_check(&lab);
}

#[test]
fn flows_add_dump_delete_and_bad_input() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("swflow");
    let file = lab.write("lab.yaml", &star_switch(&lab.name, 3, &[]));
    vnet(&["up", &file]).ok();
    assert_pingall(&lab, 2);
    let h2 = ipv4_of(&lab, "h2", "eth0");
    let h3 = ipv4_of(&lab, "h3", "eth0");
    // Without flows in the file a switch has the one NORMAL flow.
    assert_eq!(
        flow_specs(&lab, "sw1"),
        vec![(0, 0, spec("priority=0,actions=NORMAL"))]
    );

    // A drop flow for h3: h1 loses h3 and keeps h2.
    let drop = format!("priority=100,ip,nw_dst={h3},actions=drop");
    let r = sw(&lab, "sw1", &["add-flow", "--json", &drop]).ok();
    assert_eq!(r.json()["applied"], 1, "{r:#?}");
    assert_unreachable(&lab, "h1", &h3);
    assert_reaches(&lab, "h1", &h2);
    // dump-flows lists it, with the dropped pings counted.
    let text = sw(&lab, "sw1", &["dump-flows"]).ok().stdout;
    let line = text
        .lines()
        .find(|l| l.contains(&format!("nw_dst={h3}")))
        .unwrap_or_else(|| panic!("no drop flow in {text}"));
    assert!(
        line.contains("priority=100") && line.contains("actions=drop"),
        "{line}"
    );
    let j = sw(&lab, "sw1", &["dump-flows", "--json"]).ok().json();
    let f = j
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["flow"]
                .as_str()
                .unwrap()
                .contains(&format!("nw_dst={h3}"))
        })
        .expect("drop flow in JSON");
    assert!(f["n_packets"].as_u64().unwrap() >= 2, "{f}");
    assert!(f["n_bytes"].as_u64().unwrap() >= 2 * 98, "{f}");
    assert_eq!(f["priority"], 100);

    // del-flows with a match removes it (and not NORMAL).
    sw(&lab, "sw1", &["del-flows", &format!("ip,nw_dst={h3}")]).ok();
    assert_eq!(flow_specs(&lab, "sw1").len(), 1);
    assert_reaches(&lab, "h1", &h3);

    // --strict: only the flow with exactly this match and priority.
    sw(&lab, "sw1", &["add-flow", &drop]).ok();
    sw(
        &lab,
        "sw1",
        &[
            "add-flow",
            &format!("priority=200,ip,nw_dst={h3},actions=drop"),
        ],
    )
    .ok();
    sw(
        &lab,
        "sw1",
        &[
            "add-flow",
            &format!("priority=100,ip,nw_dst={h3},nw_src=10.9.9.9,actions=drop"),
        ],
    )
    .ok();
    assert_eq!(flow_specs(&lab, "sw1").len(), 4);
    // No flow has this match at the default priority: nothing goes.
    sw(
        &lab,
        "sw1",
        &["del-flows", "--strict", &format!("ip,nw_dst={h3}")],
    )
    .ok();
    assert_eq!(flow_specs(&lab, "sw1").len(), 4);
    sw(
        &lab,
        "sw1",
        &[
            "del-flows",
            "--strict",
            &format!("priority=100,ip,nw_dst={h3}"),
        ],
    )
    .ok();
    let left: Vec<String> = flow_specs(&lab, "sw1").into_iter().map(|f| f.2).collect();
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(!left.contains(&spec(&drop)), "{left:?}");
    assert!(
        left.iter().any(|f| f.starts_with("priority=200")),
        "{left:?}"
    );
    assert!(
        left.iter().any(|f| f.contains("nw_src=10.9.9.9")),
        "{left:?}"
    );
    // Without --strict the same match takes every flow at least as
    // specific, whatever the priority.
    sw(&lab, "sw1", &["del-flows", &format!("ip,nw_dst={h3}")]).ok();
    assert_eq!(
        flow_specs(&lab, "sw1"),
        vec![(0, 0, spec("priority=0,actions=NORMAL"))]
    );
    assert_reaches(&lab, "h1", &h3);

    // add-flows: 1000 flows from a file (with a comment and a blank line).
    let mut text = String::from("# generated\n\n");
    for i in 0..1000 {
        text.push_str(&format!(
            "priority={},ip,nw_dst=10.200.{}.{},actions=drop\n",
            10 + i % 7,
            i / 256,
            i % 256
        ));
    }
    let flows_file = lab.write("flows.txt", &text);
    let r = sw(&lab, "sw1", &["add-flows", "--json", &flows_file]).ok();
    assert_eq!(r.json()["applied"], 1000);
    let dump = sw(&lab, "sw1", &["dump-flows"]).ok().stdout;
    assert_eq!(dump.lines().filter(|l| !l.trim().is_empty()).count(), 1001);
    assert_eq!(flow_specs(&lab, "sw1").len(), 1001);
    assert_reaches(&lab, "h1", &h2);
    // From stdin too ("-"): one more flow.
    let mut child = vnet_cmd()
        .args(["switch", &lab.name, "sw1", "add-flows", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn add-flows -");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"priority=5,udp,tp_dst=9999,actions=drop\n")
            .expect("write stdin");
    }
    wait(child, "add-flows -").ok();
    let before = flow_specs(&lab, "sw1");
    assert_eq!(before.len(), 1002);

    // Bad flows: non-zero exit, the offending token named, nothing changed.
    for (flow, token) in [
        (
            "priority=10,ip,nw_dst=10.0.0.1,actions=frobnicate",
            "frobnicate",
        ),
        ("priority=10,ip,nw_dts=10.0.0.1,actions=drop", "nw_dts"),
        (
            "priority=10,ip,nw_dst=10.0.0.300,actions=drop",
            "10.0.0.300",
        ),
        ("priority=10,ip,actions=output:nosuchport", "nosuchport"),
    ] {
        let r = sw(&lab, "sw1", &["add-flow", flow]).fails();
        assert!(r.stderr.contains(token), "{flow}: {r:#?}");
    }
    // A bad line in a file: its line number and token; none of the file's
    // good flows were added.
    let mut bad = String::new();
    for i in 0..20 {
        bad.push_str(&format!(
            "priority=7,udp,tp_dst={},actions=drop\n",
            20000 + i
        ));
    }
    bad.push_str("priority=7,udp,tp_dst=70000,actions=drop\n");
    let bad_file = lab.write("bad.txt", &bad);
    let r = sw(&lab, "sw1", &["add-flows", &bad_file]).fails();
    assert!(r.stderr.contains("line 21"), "{r:#?}");
    assert!(r.stderr.contains("70000"), "{r:#?}");
    let r = sw(&lab, "sw1", &["del-flows", "ip,nw_dst=bogus"]).fails();
    assert!(r.stderr.contains("bogus"), "{r:#?}");
    assert_eq!(
        flow_specs(&lab, "sw1"),
        before,
        "a refused change changed flows"
    );
    // Unknown switch and a node that is not a switch: clear errors.
    let r = sw(&lab, "nosuch", &["show"]).fails();
    assert!(
        r.stderr.contains("nosuch") && r.stderr.contains("sw1"),
        "{r:#?}"
    );
    let r = sw(&lab, "h1", &["show"]).fails();
    assert!(r.stderr.contains("not a switch"), "{r:#?}");

    // --json outputs parse, with the documented fields.
    let show = sw(&lab, "sw1", &["show", "--json"]).ok().json();
    assert_eq!(show["switch"], "sw1");
    assert_eq!(show["netns"], lab.ns("sw1").as_str());
    assert_eq!(show["flows"], 1002);
    let dp = sw(&lab, "sw1", &["dump-ports", "--json"]).ok().json();
    for name in ["h1", "h2", "h3"] {
        let p = dp
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("dump-ports: no {name}: {dp}"));
        assert!(p["stats"]["rx_packets"].as_u64().unwrap() > 0, "{p}");
        assert!(p["stats"]["tx_packets"].as_u64().unwrap() > 0, "{p}");
    }
    let fdb = sw(&lab, "sw1", &["fdb", "--json"]).ok().json();
    let h1_mac = mac_of(&lab, "h1", "eth0");
    assert!(
        fdb.as_array()
            .unwrap()
            .iter()
            .any(|e| e["mac"] == h1_mac.as_str() && e["port_name"] == "h1"),
        "{fdb}"
    );
    // Deleting everything leaves a switch that drops everything.
    sw(&lab, "sw1", &["del-flows"]).ok();
    assert_eq!(flow_specs(&lab, "sw1"), vec![]);
    assert_unreachable(&lab, "h1", &h2);
    down_and_check(&lab);
}

#[test]
fn lab_file_flows_are_installed_and_replaced_on_up() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("swlabf");
    let v1 = star_switch(
        &lab.name,
        3,
        &[
            "priority=200,icmp,in_port=h3,actions=drop",
            "priority=0,actions=normal",
        ],
    );
    let file = lab.write("lab.yaml", &v1);
    vnet(&["up", &file]).ok();
    let h1 = ipv4_of(&lab, "h1", "eth0");
    let h2 = ipv4_of(&lab, "h2", "eth0");
    assert_eq!(
        flow_specs(&lab, "sw1"),
        vec![
            (0, 0, spec("priority=0,actions=NORMAL")),
            (0, 200, spec("priority=200,icmp,in_port=h3,actions=drop")),
        ]
    );
    assert_unreachable(&lab, "h3", &h1);
    assert_reaches(&lab, "h2", &h1);

    // A flow the user adds.
    let user = "priority=50,udp,tp_dst=9999,actions=drop";
    sw(&lab, "sw1", &["add-flow", user]).ok();

    // The file's flows change: the old ones go, the new ones come, the
    // user's flow stays.
    let v2 = star_switch(
        &lab.name,
        3,
        &[
            "priority=210,icmp,in_port=h2,actions=drop",
            "priority=0,actions=normal",
        ],
    );
    lab.write("lab.yaml", &v2);
    vnet(&["up", &file]).ok();
    let specs: Vec<String> = flow_specs(&lab, "sw1").into_iter().map(|f| f.2).collect();
    assert_eq!(
        specs,
        vec![
            spec("priority=0,actions=NORMAL"),
            spec(user),
            spec("priority=210,icmp,in_port=h2,actions=drop"),
        ]
    );
    assert_reaches(&lab, "h3", &h1);
    assert_unreachable(&lab, "h2", &h1);

    // Up again unchanged: nothing changes.
    vnet(&["up", &file]).ok();
    let again: Vec<String> = flow_specs(&lab, "sw1").into_iter().map(|f| f.2).collect();
    assert_eq!(again, specs);

    // No flows in the file: NORMAL only, plus the user's.
    lab.write("lab.yaml", &star_switch(&lab.name, 3, &[]));
    vnet(&["up", &file]).ok();
    let specs: Vec<String> = flow_specs(&lab, "sw1").into_iter().map(|f| f.2).collect();
    assert_eq!(specs, vec![spec("priority=0,actions=NORMAL"), spec(user)]);
    assert_reaches(&lab, "h2", &h1);
    assert_reaches(&lab, "h3", &h2);

    // A bad flow in the file: `up` fails naming it, and the running flows
    // are kept.
    let bad = star_switch(&lab.name, 3, &["priority=10,ip,actions=frobnicate"]);
    lab.write("lab.yaml", &bad);
    let r = vnet(&["up", &file]).fails();
    assert!(r.stderr.contains("frobnicate"), "{r:#?}");
    let after: Vec<String> = flow_specs(&lab, "sw1").into_iter().map(|f| f.2).collect();
    assert_eq!(after, specs);
    assert_reaches(&lab, "h2", &h1);
    down_and_check(&lab);
}

#[test]
fn daemon_restarts_with_the_same_ports_and_flows() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("swrst");
    let file = switch_example(&lab);
    vnet(&["up", &file]).ok();
    let user = [
        "priority=50,udp,tp_dst=9999,actions=drop",
        "table=1,priority=5,tcp,tp_dst=7,actions=output:h1",
        "priority=60,in_port=h2,udp,tp_dst=9998,actions=goto_table:1",
    ];
    for f in user {
        sw(&lab, "sw1", &["add-flow", f]).ok();
    }
    sw(
        &lab,
        "sw2",
        &["add-flow", "priority=70,arp,arp_tpa=10.9.9.9,actions=drop"],
    )
    .ok();
    assert_pingall(&lab, 2);
    let flows1 = flow_specs(&lab, "sw1");
    let flows2 = flow_specs(&lab, "sw2");
    let ports1 = ports(&lab, "sw1");
    let ports2 = ports(&lab, "sw2");
    assert_eq!(flows1.len(), 4);

    for round in 0..2 {
        let supervisor: Vec<i32> = switchd_pids(&lab.name)
            .into_iter()
            .filter(|(_, w)| !*w)
            .map(|(p, _)| p)
            .collect();
        assert_eq!(supervisor.len(), 1, "{:?}", switchd_pids(&lab.name));
        let old = kill_worker(&lab.name);
        let t = Instant::now();
        let back = wait_until(Duration::from_secs(10), || {
            new_worker(&lab.name, old) && sw(&lab, "sw1", &["show"]).success()
        });
        assert!(back, "round {round}: the daemon did not come back");
        eprintln!("round {round}: switch back after {:?}", t.elapsed());
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        // The same supervisor restarted it.
        let now: Vec<i32> = switchd_pids(&lab.name)
            .into_iter()
            .filter(|(_, w)| !*w)
            .map(|(p, _)| p)
            .collect();
        assert_eq!(now, supervisor);
        assert_eq!(ports(&lab, "sw1"), ports1);
        assert_eq!(ports(&lab, "sw2"), ports2);
        assert_eq!(flow_specs(&lab, "sw1"), flows1);
        assert_eq!(flow_specs(&lab, "sw2"), flows2);
        assert_pingall(&lab, 2);
    }

    // The whole daemon killed (supervisor and worker): `vnet up` starts it
    // again, with the same ports and flows.
    for (pid, _) in switchd_pids(&lab.name) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(wait_until(Duration::from_secs(5), || switchd_pids(
        &lab.name
    )
    .is_empty()));
    sw(&lab, "sw1", &["show"]).fails();
    vnet(&["up", &file]).ok();
    assert_eq!(switchd_pids(&lab.name).len(), 2);
    assert_eq!(ports(&lab, "sw1"), ports1);
    assert_eq!(flow_specs(&lab, "sw1"), flows1);
    assert_eq!(flow_specs(&lab, "sw2"), flows2);
    assert_pingall(&lab, 2);

    down_and_check(&lab);
}

/// iperf3's JSON result of a client run.
fn iperf(lab: &TestLab, args: &[&str]) -> Value {
    let mut last = None;
    // The server may take a moment to listen: retry refused connections.
    // (iperf3 3.12 with -J exits 0 even when it could not connect: the
    // JSON's "error" says so.)
    for _ in 0..50 {
        let r = exec(lab, "h1", args);
        let j: Option<Value> = serde_json::from_str(&r.stdout).ok();
        match j {
            Some(j) if r.success() && j.get("error").is_none() => return j,
            Some(j) if !j["error"].as_str().unwrap_or("").contains("refused") => {
                panic!("iperf3 client failed: {r:#?}")
            }
            _ => {}
        }
        last = Some(r);
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("iperf3 client failed: {last:#?}");
}

#[test]
fn tcp_through_the_switch_with_offloads_on() {
    if !root_or_skip() {
        return;
    }
    let have = Command::new("sh")
        .args(["-c", "command -v iperf3"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        have,
        "iperf3 is not installed: this test needs it (.ci/run installs it: apt-get install iperf3)"
    );
    let lab = TestLab::new("swtcp");
    let file = lab.write("lab.yaml", &star_switch(&lab.name, 2, &[]));
    vnet(&["up", &file]).ok();
    let h2 = ipv4_of(&lab, "h2", "eth0");
    assert_reaches(&lab, "h1", &h2);

    // 2 s of TCP, offloads as the veth default them (on).
    let server = vnet_spawn(&[
        "exec", &lab.name, "h2", "--", "timeout", "30", "iperf3", "-s", "-1",
    ]);
    let j = iperf(
        &lab,
        &[
            "timeout", "20", "iperf3", "-c", &h2, "-t", "2", "-i", "0.5", "-J",
        ],
    );
    wait(server, "iperf3 -s").ok();
    let bps = j["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .expect("bits_per_second");
    eprintln!(
        "iperf3 h1 -> h2 through the switch: {:.2} Gbit/s",
        bps / 1e9
    );
    assert!(bps > 1e9, "TCP through the switch: {bps} bit/s");
    // No stall: every interval moved data.
    let intervals = j["intervals"].as_array().expect("intervals");
    assert!(intervals.len() >= 3, "{intervals:?}");
    for i in intervals {
        let b = i["sum"]["bits_per_second"].as_f64().unwrap_or(0.0);
        assert!(b > 1e8, "an interval stalled: {i}");
    }
    // Large segments crossed the switch unsplit (offloads carried through):
    // the port towards h2 sent frames much larger than the MTU on average.
    let dp = sw(&lab, "sw1", &["dump-ports", "--json"]).ok().json();
    let p = dp
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "h2")
        .expect("port h2");
    let (bytes, pkts) = (
        p["stats"]["tx_bytes"].as_u64().unwrap(),
        p["stats"]["tx_packets"].as_u64().unwrap(),
    );
    eprintln!(
        "port h2: {pkts} frames, {} bytes on average",
        bytes / pkts.max(1)
    );
    assert!(bytes / pkts.max(1) > 3000, "{p}");

    // 100 MB, counted by bytes: it completes.
    let server = vnet_spawn(&[
        "exec", &lab.name, "h2", "--", "timeout", "60", "iperf3", "-s", "-1",
    ]);
    let t = Instant::now();
    let j = iperf(
        &lab,
        &["timeout", "50", "iperf3", "-c", &h2, "-n", "100M", "-J"],
    );
    wait(server, "iperf3 -s").ok();
    // The client finished: it sent all of it; the receiver's summary may
    // miss the last in-flight bytes (iperf3 stops counting at test end).
    let sent = j["end"]["sum_sent"]["bytes"].as_u64().expect("bytes sent");
    let got = j["end"]["sum_received"]["bytes"].as_u64().expect("bytes");
    eprintln!("100 MB through the switch in {:?}", t.elapsed());
    assert!(sent >= 100 * 1024 * 1024, "{sent} bytes sent");
    assert!(got >= 90 * 1024 * 1024, "{got} bytes received");
    down_and_check(&lab);
}

/// Sends `count` Ethernet frames out of eth0 with random source MACs
/// (unicast, locally administered) to random unicast destinations.
const MAC_FLOOD: &str = r#"
import os, socket, sys, time
count = int(sys.argv[1])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
sent = 0
deadline = time.time() + 30
while sent < count and time.time() < deadline:
    r = os.urandom(12)
    dst = bytes([r[0] & 0xfc | 0x02]) + r[1:6]
    src = bytes([r[6] & 0xfc | 0x02]) + r[7:12]
    try:
        s.send(dst + src + b"\x88\xb5" + bytes(46))
        sent += 1
    except OSError:
        time.sleep(0.001)
print(sent)
"#;

#[test]
fn mac_flood_keeps_the_table_bounded_and_forwarding_on() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("swflood");
    let file = lab.write("lab.yaml", &star_switch(&lab.name, 3, &[]));
    vnet(&["up", &file]).ok();
    let h2 = ipv4_of(&lab, "h2", "eth0");
    let h3 = ipv4_of(&lab, "h3", "eth0");
    assert_reaches(&lab, "h2", &h3);

    let flood = vnet_spawn(&[
        "exec", &lab.name, "h1", "--", "timeout", "40", "python3", "-c", MAC_FLOOD, "20000",
    ]);
    // h2 and h3 keep talking during the flood.
    let during = exec(
        &lab,
        "h2",
        &[
            "timeout", "20", "ping", "-n", "-c", "30", "-i", "0.05", "-W", "1", &h3,
        ],
    );
    let r = wait(flood, "mac flood").ok();
    let sent: u64 = r.stdout.trim().parse().expect("frames sent");
    assert_eq!(sent, 20000, "{r:#?}");
    assert!(during.success(), "h2 -> h3 during the flood: {during:#?}");

    let fdb = sw(&lab, "sw1", &["fdb", "--json"]).ok().json();
    let n = fdb.as_array().expect("fdb").len();
    eprintln!("fdb after a flood of 20000 source MACs: {n} entries");
    assert!(n <= 8192, "{n} entries");
    assert!(n > 4096, "the flood reached the switch: only {n} entries");
    // h2 and h3 still reach each other, and are learned.
    assert_reaches(&lab, "h2", &h3);
    assert_reaches(&lab, "h3", &h2);
    let fdb = sw(&lab, "sw1", &["fdb", "--json"]).ok().json();
    for (node, port) in [("h2", "h2"), ("h3", "h3")] {
        let mac = mac_of(&lab, node, "eth0");
        assert!(
            fdb.as_array()
                .unwrap()
                .iter()
                .any(|e| e["mac"] == mac.as_str() && e["port_name"] == port),
            "{node} not learned after the flood"
        );
    }
    down_and_check(&lab);
}

#[test]
fn link_flaps_under_traffic() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("swflap");
    let file = lab.write("lab.yaml", &star_switch(&lab.name, 2, &[]));
    vnet(&["up", &file]).ok();
    let h2 = ipv4_of(&lab, "h2", "eth0");
    assert_reaches(&lab, "h1", &h2);

    let flood = vnet_spawn(&[
        "exec", &lab.name, "h1", "--", "timeout", "20", "ping", "-n", "-q", "-i", "0.01", "-c",
        "300", "-W", "1", &h2,
    ]);
    std::thread::sleep(Duration::from_millis(300));
    let sw_ns = lab.ns("sw1");
    for _ in 0..2 {
        // The host's end...
        exec(&lab, "h2", &["ip", "link", "set", "eth0", "down"]).ok();
        std::thread::sleep(Duration::from_millis(200));
        exec(&lab, "h2", &["ip", "link", "set", "eth0", "up"]).ok();
        std::thread::sleep(Duration::from_millis(200));
        // ... and the switch's own port.
        sh("ip", &["-n", &sw_ns, "link", "set", "h2", "down"]);
        std::thread::sleep(Duration::from_millis(200));
        sh("ip", &["-n", &sw_ns, "link", "set", "h2", "up"]);
        std::thread::sleep(Duration::from_millis(200));
    }
    let r = wait(flood, "ping flood");
    eprintln!("ping flood across the flaps: {}", r.stdout.trim());
    assert!(r.code.is_some(), "ping killed: {r:#?}");
    // The daemon survived and still serves the switch.
    let show = sw(&lab, "sw1", &["show"]).ok().stdout;
    assert!(show.contains("(h1)") && show.contains("(h2)"), "{show}");
    assert_eq!(switchd_pids(&lab.name).len(), 2);
    // Traffic works again, both ways.
    let ok = wait_until(Duration::from_secs(10), || ping_once(&lab, "h1", &h2));
    assert!(ok, "h1 -> h2 after the flaps");
    let h1 = ipv4_of(&lab, "h1", "eth0");
    assert_reaches(&lab, "h2", &h1);
    assert_pingall(&lab, 2);
    down_and_check(&lab);
}

#[test]
fn reconcile_removes_and_adds_ports() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("swrec");
    let three = star_switch(&lab.name, 3, &[]);
    let file = lab.write("lab.yaml", &three);
    vnet(&["up", &file]).ok();
    assert_pingall(&lab, 2);
    let before: Vec<(String, u64)> = ports(&lab, "sw1").into_iter().map(|p| (p.0, p.1)).collect();
    let no = |name: &str| {
        before
            .iter()
            .find(|p| p.0 == name)
            .unwrap_or_else(|| panic!("no port {name}: {before:?}"))
            .1
    };
    let (p1, p3) = (no("h1"), no("h3"));
    assert_eq!(
        BTreeSet::from([no("h1"), no("h2"), no("h3")]).len(),
        3,
        "{before:?}"
    );

    // h2's link leaves the file (h2 stays, unlinked).
    let h2_link = "  - endpoints: [{ node: h2, addresses: [10.77.0.2/24] }, sw1]\n";
    assert!(three.contains(h2_link), "{three}");
    let without = three.replace(h2_link, "");
    lab.write("lab.yaml", &without);
    vnet(&["up", &file]).ok();
    assert_eq!(port_no(&lab, "sw1", "h2"), None, "{:?}", ports(&lab, "sw1"));
    assert_eq!(port_no(&lab, "sw1", "h1"), Some(p1));
    assert_eq!(port_no(&lab, "sw1", "h3"), Some(p3));
    let show = sw(&lab, "sw1", &["show"]).ok().stdout;
    assert!(!show.contains("(h2)"), "{show}");
    let h3 = ipv4_of(&lab, "h3", "eth0");
    assert_reaches(&lab, "h1", &h3);

    // Back again: a port number, not one of the others', and it works.
    lab.write("lab.yaml", &three);
    vnet(&["up", &file]).ok();
    let p2 = port_no(&lab, "sw1", "h2").expect("h2 back as a port");
    assert!(p2 != p1 && p2 != p3, "{:?}", ports(&lab, "sw1"));
    assert_eq!(port_no(&lab, "sw1", "h1"), Some(p1));
    assert_eq!(port_no(&lab, "sw1", "h3"), Some(p3));
    assert_pingall(&lab, 2);
    // A flow naming it by name works on the new number.
    let h2 = ipv4_of(&lab, "h2", "eth0");
    sw(
        &lab,
        "sw1",
        &["add-flow", "priority=100,icmp,in_port=h2,actions=drop"],
    )
    .ok();
    assert_unreachable(&lab, "h2", &h3);
    let dump = sw(&lab, "sw1", &["dump-flows"]).ok().stdout;
    assert!(dump.contains("in_port=h2"), "{dump}");
    sw(&lab, "sw1", &["del-flows", "icmp,in_port=h2"]).ok();
    assert_reaches(&lab, "h1", &h2);

    // A VLAN change on a port is applied by reconcile too.
    // (Another segment needs another subnet.)
    let vlans = three.replace(
        h2_link,
        &format!(
            "{}    vlan: 30\n",
            h2_link.replace("10.77.0.2", "10.77.30.2")
        ),
    );
    assert_ne!(vlans, three);
    lab.write("lab.yaml", &vlans);
    vnet(&["up", &file]).ok();
    let p = ports(&lab, "sw1");
    let h2p = p.iter().find(|p| p.0 == "h2").expect("h2");
    assert_eq!(h2p.1, p2);
    assert_eq!(h2p.2, serde_json::json!({ "Access": 30 }), "{p:?}");
    down_and_check(&lab);
}

#[test]
fn a_switch_and_a_bridge_linked() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("swbr");
    // Explicit addresses, one subnet: they stay put when VLANs change below.
    let lab_yaml = |h1_vlan: &str, h2: &str, h2_vlan: &str, uplink_vlan: &str| {
        format!(
            "name: {}
nodes:
  sw1: {{ kind: switch }}
  br1: {{ kind: bridge }}
  h1: {{ kind: host }}
  h2: {{ kind: host }}
  h3: {{ kind: host }}
  h4: {{ kind: host }}
links:
  - endpoints: [{{ node: h1, addresses: [10.78.0.1/24] }}, sw1]{h1_vlan}
  - endpoints: [{{ node: h2, addresses: [{h2}] }}, sw1]{h2_vlan}
  - endpoints: [{{ node: h3, addresses: [10.78.0.3/24] }}, br1]
  - endpoints: [{{ node: h4, addresses: [10.78.0.4/24] }}, br1]
  - endpoints: [sw1, br1]{uplink_vlan}
",
            lab.name
        )
    };
    let file = lab.write("lab.yaml", &lab_yaml("", "10.78.0.2/24", "", ""));
    vnet(&["up", &file]).ok();
    assert_pingall(&lab, 2);
    // The bridge's hosts were learned behind the switch's port towards it.
    let fdb = sw(&lab, "sw1", &["fdb", "--json"]).ok().json();
    for h in ["h3", "h4"] {
        let mac = mac_of(&lab, h, "eth0");
        assert!(
            fdb.as_array()
                .unwrap()
                .iter()
                .any(|e| e["mac"] == mac.as_str() && e["port_name"] == "br1"),
            "{h} not behind port br1: {fdb}"
        );
    }

    // h1 and the bridge in VLAN 10 on the switch, h2 in VLAN 20 (another
    // subnet): h1, h3 and h4 still reach each other; h2, given an extra
    // address in their subnet by hand, reaches none of them.
    let v = "\n    vlan: 10";
    lab.write(
        "lab.yaml",
        &lab_yaml(v, "10.79.0.2/24", "\n    vlan: 20", v),
    );
    vnet(&["up", &file]).ok();
    exec(
        &lab,
        "h2",
        &["ip", "addr", "add", "10.78.0.200/24", "dev", "eth0"],
    )
    .ok();
    let p = ports(&lab, "sw1");
    assert!(
        p.iter()
            .any(|p| p.0 == "br1" && p.2 == serde_json::json!({ "Access": 10 })),
        "{p:?}"
    );
    for (a, b) in [
        ("h1", "10.78.0.3"),
        ("h4", "10.78.0.1"),
        ("h3", "10.78.0.4"),
    ] {
        assert_reaches(&lab, a, b);
    }
    for b in ["10.78.0.1", "10.78.0.3", "10.78.0.4"] {
        assert_unreachable(&lab, "h2", b);
    }
    down_and_check(&lab);
}

/// Two switches, two hosts each (explicit addresses), sw1 with `flows`.
fn two_switches(name: &str, sw1_flows: &[&str]) -> String {
    let mut s = format!("name: {name}\nnodes:\n  sw1:\n    kind: switch\n");
    if !sw1_flows.is_empty() {
        s.push_str("    flows:\n");
        for f in sw1_flows {
            s.push_str(&format!("      - {f}\n"));
        }
    }
    s.push_str("  sw2: { kind: switch }\n");
    for i in 1..=4 {
        s.push_str(&format!("  h{i}: {{ kind: host }}\n"));
    }
    s.push_str("links:\n");
    for (i, sw) in [(1, "sw1"), (2, "sw1"), (3, "sw2"), (4, "sw2")] {
        let net = if sw == "sw1" { 1 } else { 2 };
        s.push_str(&format!(
            "  - endpoints: [{{ node: h{i}, addresses: [10.77.{net}.{i}/24] }}, {sw}]\n"
        ));
    }
    s
}

#[test]
fn a_bad_flow_in_the_file_stops_only_its_switch_until_fixed() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("swbadf");
    let file = lab.write(
        "lab.yaml",
        &two_switches(&lab.name, &["priority=10,ip,actions=frobnicate"]),
    );
    // The lab comes up, `up` reports the flow, and the other switch works.
    let r = vnet(&["up", &file]).fails();
    assert!(r.stderr.contains("frobnicate"), "{r:#?}");
    assert_reaches(&lab, "h3", "10.77.2.4");
    sw(&lab, "sw2", &["show"]).ok();
    // Fixed: the next `up` installs the file's flows on sw1.
    // Echo requests from h2 are dropped (its replies are not).
    let good = "priority=200,icmp,in_port=h2,icmp_type=8,actions=drop";
    lab.write(
        "lab.yaml",
        &two_switches(&lab.name, &[good, "priority=0,actions=normal"]),
    );
    vnet(&["up", &file]).ok();
    let specs: Vec<String> = flow_specs(&lab, "sw1").into_iter().map(|f| f.2).collect();
    assert_eq!(
        specs,
        vec![spec("priority=0,actions=NORMAL"), spec(good)],
        "sw1 flows after the fix"
    );
    assert_unreachable(&lab, "h2", "10.77.1.1");
    assert_reaches(&lab, "h1", "10.77.1.2");
    sw(&lab, "sw1", &["del-flows", "icmp,in_port=h2"]).ok();
    assert_reaches(&lab, "h2", "10.77.1.1");
    down_and_check(&lab);
}

#[test]
fn a_port_whose_device_is_gone_does_not_stop_the_switches() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("swgone");
    let file = lab.write("lab.yaml", &two_switches(&lab.name, &[]));
    vnet(&["up", &file]).ok();
    assert_reaches(&lab, "h1", "10.77.1.2");
    assert_reaches(&lab, "h3", "10.77.2.4");
    let before = ports(&lab, "sw1");
    // sw1's port h2 disappears under the daemon (the veth pair goes).
    sh("ip", &["-n", &lab.ns("sw1"), "link", "del", "h2"]);
    assert_reaches(&lab, "h3", "10.77.2.4");
    sw(&lab, "sw1", &["show"]).ok();
    // The daemon dies and comes back: both switches run, sw1 without h2.
    let old = kill_worker(&lab.name);
    let back = wait_until(Duration::from_secs(10), || {
        new_worker(&lab.name, old)
            && sw(&lab, "sw1", &["show"]).success()
            && sw(&lab, "sw2", &["show"]).success()
    });
    assert!(back, "the switches did not come back");
    let after = ports(&lab, "sw1");
    let want: Vec<_> = before.iter().filter(|p| p.0 != "h2").cloned().collect();
    assert_eq!(after, want);
    assert_reaches(&lab, "h3", "10.77.2.4");
    assert_reaches(&lab, "h4", "10.77.2.3");
    // `up` names the missing port.
    let r = vnet(&["up", &file]);
    if !r.success() {
        assert!(r.stderr.contains("h2"), "{r:#?}");
    }
    assert_reaches(&lab, "h4", "10.77.2.3");
    down_and_check(&lab);
}
