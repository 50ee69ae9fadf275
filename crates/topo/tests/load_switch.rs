//! Switch nodes in lab files: ports, VLAN modes, segments per VLAN and their
//! addresses and routes, flows, the errors of the VLAN options (each at
//! `FILE:LINE:COLUMN`), and the VLAN labels of the graph.

use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use vnet_topo::graph::{render, GraphFormat};
use vnet_topo::lab::{Endpoint, Lab, LinkKind, Node, NodeKind, PortVlan, Route};
use vnet_topo::load::{load_file, load_str, LabError};

fn example(name: &str) -> Lab {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    load_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn load(lines: &[&str]) -> Lab {
    let text = lines.join("\n") + "\n";
    load_str(&text, "lab.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn err(lines: &[&str]) -> LabError {
    let text = lines.join("\n") + "\n";
    match load_str(&text, "lab.yaml") {
        Ok(lab) => panic!("loaded: {lab:?}"),
        Err(e) => e,
    }
}

/// Assert the error's place and that its message contains `needle`.
#[track_caller]
fn assert_err(e: &LabError, line: usize, column: usize, needle: &str) {
    assert_eq!((e.line, e.column), (line, column), "{e}");
    assert!(
        e.message.contains(needle),
        "{e}\n  does not contain: {needle}"
    );
    assert!(
        e.to_string()
            .starts_with(&format!("lab.yaml:{line}:{column}: ")),
        "{e}"
    );
}

fn node<'a>(lab: &'a Lab, name: &str) -> &'a Node {
    lab.node(name).unwrap_or_else(|| panic!("no node {name}"))
}

/// `(port, vlan)` of a switch.
fn ports(lab: &Lab, name: &str) -> Vec<(String, Option<PortVlan>)> {
    node(lab, name)
        .interfaces
        .iter()
        .map(|i| {
            assert!(
                i.addresses.is_empty(),
                "switch port {} has addresses",
                i.name
            );
            (i.name.clone(), i.vlan.clone())
        })
        .collect()
}

/// The addresses of a node's interfaces, as text.
fn addrs(lab: &Lab, name: &str) -> Vec<Vec<String>> {
    node(lab, name)
        .interfaces
        .iter()
        .map(|i| i.addresses.iter().map(|a| a.to_string()).collect())
        .collect()
}

fn access(v: u16) -> Option<PortVlan> {
    Some(PortVlan::Access(v))
}

fn trunk(allowed: &[u16], native: Option<u16>) -> Option<PortVlan> {
    Some(PortVlan::Trunk {
        allowed: allowed.to_vec(),
        native,
    })
}

fn via(dst: &str, via: &str) -> Route {
    Route {
        dst: dst.parse::<IpNet>().unwrap(),
        via: Some(via.parse::<IpAddr>().unwrap()),
        dev: None,
        metric: None,
    }
}

fn ep(node: &str, iface: &str) -> Endpoint {
    Endpoint {
        node: node.into(),
        iface: iface.into(),
    }
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

// --- Resolution -----------------------------------------------------------

#[test]
fn switch_example_resolves() {
    let lab = example("switch.yaml");
    let sw1 = node(&lab, "sw1");
    assert_eq!(sw1.kind, NodeKind::Switch);
    assert_eq!(sw1.netns.as_deref(), Some("vnet.switched.sw1"));
    assert_eq!(sw1.bridge_dev, None);
    assert!(sw1.flows.is_empty());
    // Ports are named like bridge ports; VLAN modes from the link or the endpoint.
    assert_eq!(
        ports(&lab, "sw1"),
        [
            ("sw2".into(), trunk(&[10, 20], None)),
            ("h1".into(), access(10)),
            ("h2".into(), access(20)),
            ("r1-v10".into(), access(10)),
            ("r1-v20".into(), access(20)),
        ]
    );
    assert_eq!(
        ports(&lab, "sw2"),
        [
            ("sw1".into(), trunk(&[10, 20], None)),
            ("h3".into(), access(10)),
            ("h4".into(), access(20)),
        ]
    );
    // The trunk is a veth between the two switch namespaces.
    assert_eq!(lab.links[0].kind, LinkKind::Veth);
    assert_eq!(lab.links[0].a, ep("sw1", "sw2"));
    assert_eq!(lab.links[0].b, Some(ep("sw2", "sw1")));
    // Only switch ports carry a VLAN mode.
    for n in ["r1", "h1", "h2", "h3", "h4"] {
        assert!(node(&lab, n).interfaces.iter().all(|i| i.vlan.is_none()));
    }

    // One segment per VLAN, across the trunk; routers first.
    assert_eq!(
        addrs(&lab, "r1"),
        [s(&["10.100.0.1/24"]), s(&["10.100.1.1/24"])]
    );
    assert_eq!(addrs(&lab, "h1"), [s(&["10.100.0.2/24"])]);
    assert_eq!(addrs(&lab, "h3"), [s(&["10.100.0.3/24"])]);
    assert_eq!(addrs(&lab, "h2"), [s(&["10.100.1.2/24"])]);
    assert_eq!(addrs(&lab, "h4"), [s(&["10.100.1.3/24"])]);
    // Default routes via the router's address in each host's VLAN.
    for h in ["h1", "h3"] {
        assert_eq!(
            node(&lab, h).routes,
            [via("0.0.0.0/0", "10.100.0.1")],
            "{h}"
        );
    }
    for h in ["h2", "h4"] {
        assert_eq!(
            node(&lab, h).routes,
            [via("0.0.0.0/0", "10.100.1.1")],
            "{h}"
        );
    }
    assert!(node(&lab, "r1").routes.is_empty());
}

#[test]
fn flows_example_keeps_flows_verbatim() {
    let lab = example("switch-flows.yaml");
    let sw1 = node(&lab, "sw1");
    assert_eq!(
        sw1.flows,
        [
            "priority=200,icmp,in_port=h3,nw_dst=10.100.0.1,actions=drop",
            "priority=100,ip,nw_dst=10.100.0.2,actions=output:h2",
            "priority=0,actions=normal",
        ]
    );
    assert_eq!(
        ports(&lab, "sw1"),
        [
            ("h1".into(), None),
            ("h2".into(), None),
            ("h3".into(), None)
        ]
    );
    // VLAN-unaware ports: one segment.
    assert_eq!(addrs(&lab, "h1"), [s(&["10.100.0.1/24"])]);
    assert_eq!(addrs(&lab, "h3"), [s(&["10.100.0.3/24"])]);
}

#[test]
fn switch_options_exec_and_flows() {
    let lab = load(&[
        "name: t",
        "nodes:",
        "  sw1:",
        "    kind: switch",
        "    exec: ['ip -br link']",
        "    flows:",
        "      - '  priority=10,in_port=1,actions=output:2  '",
        "      - \"table=1,priority=0,actions=drop\"",
    ]);
    let sw1 = node(&lab, "sw1");
    assert_eq!(sw1.exec, ["ip -br link"]);
    // Verbatim: not trimmed, not parsed.
    assert_eq!(
        sw1.flows,
        [
            "  priority=10,in_port=1,actions=output:2  ",
            "table=1,priority=0,actions=drop"
        ]
    );
    assert!(sw1.interfaces.is_empty());
}

#[test]
fn port_names_and_links_between_switches_and_bridges() {
    let lab = load(&[
        "name: t",
        "nodes:",
        "  sw1: { kind: switch }",
        "  sw2: { kind: switch }",
        "  br: { kind: bridge }",
        "  a: { kind: host }",
        "links:",
        "  - endpoints: [a, sw1]",
        "  - endpoints: [a, sw1]",
        "  - endpoints: [sw1:uplink, sw2]",
        "  - endpoints: [sw2, br]",
        "  - endpoints: [{ node: sw1, iface: a }, br]",
    ]);
    // Peer name when free (explicit names are reserved first), else pN.
    assert_eq!(
        ports(&lab, "sw1"),
        [
            ("p0".into(), None),
            ("p1".into(), None),
            ("uplink".into(), None),
            ("a".into(), None),
        ]
    );
    assert_eq!(
        ports(&lab, "sw2"),
        [("sw1".into(), None), ("br".into(), None)]
    );
    assert_eq!(node(&lab, "br").interfaces[0].name, "sw2");
    // a's two interfaces are on the same (untagged) segment.
    assert_eq!(
        addrs(&lab, "a"),
        [s(&["10.100.0.1/24"]), s(&["10.100.0.2/24"])]
    );
}

#[test]
fn vlan_unaware_ports_are_a_segment_apart_from_the_vlans() {
    let lab = load(&[
        "name: t",
        "nodes:",
        "  sw: { kind: switch }",
        "  u1: { kind: host }",
        "  u2: { kind: host }",
        "  v1: { kind: host }",
        "  v2: { kind: host }",
        "  w1: { kind: host }",
        "links:",
        "  - endpoints: [v1, sw]",
        "    vlan: 30",
        "  - endpoints: [u1, sw]",
        "  - endpoints: [w1, { node: sw, vlan: 7 }]",
        "  - endpoints: [v2, sw]",
        "    vlan: 30",
        "  - endpoints: [u2, sw]",
    ]);
    // The switch's segments: untagged first, then VLANs by number.
    assert_eq!(addrs(&lab, "u1"), [s(&["10.100.0.1/24"])]);
    assert_eq!(addrs(&lab, "u2"), [s(&["10.100.0.2/24"])]);
    assert_eq!(addrs(&lab, "w1"), [s(&["10.100.1.1/24"])]);
    assert_eq!(addrs(&lab, "v1"), [s(&["10.100.2.1/24"])]);
    assert_eq!(addrs(&lab, "v2"), [s(&["10.100.2.2/24"])]);
}

#[test]
fn switches_without_a_trunk_keep_their_vlans_apart() {
    // sw1 and sw2 share only VLAN 10 (an access link); VLAN 20 hosts on the
    // two switches are on different segments.
    let lab = load(&[
        "name: t",
        "nodes:",
        "  sw1: { kind: switch }",
        "  sw2: { kind: switch }",
        "  a10: { kind: host }",
        "  a20: { kind: host }",
        "  b10: { kind: host }",
        "  b20: { kind: host }",
        "links:",
        "  - endpoints: [sw1, sw2]",
        "    vlan: 10",
        "  - endpoints: [a10, sw1]",
        "    vlan: 10",
        "  - endpoints: [a20, sw1]",
        "    vlan: 20",
        "  - endpoints: [b10, sw2]",
        "    vlan: 10",
        "  - endpoints: [b20, sw2]",
        "    vlan: 20",
    ]);
    assert_eq!(ports(&lab, "sw1")[0], ("sw2".into(), access(10)));
    assert_eq!(ports(&lab, "sw2")[0], ("sw1".into(), access(10)));
    assert_eq!(addrs(&lab, "a10"), [s(&["10.100.0.1/24"])]);
    assert_eq!(addrs(&lab, "b10"), [s(&["10.100.0.2/24"])]);
    assert_eq!(addrs(&lab, "a20"), [s(&["10.100.1.1/24"])]);
    assert_eq!(addrs(&lab, "b20"), [s(&["10.100.2.1/24"])]);
}

#[test]
fn a_trunk_carries_the_vlans_both_ends_allow_and_the_native_vlans() {
    let lab = load(&[
        "name: t",
        "nodes:",
        "  sw1: { kind: switch }",
        "  sw2: { kind: switch }",
        "  a10: { kind: host }",
        "  a20: { kind: host }",
        "  a5: { kind: host }",
        "  b10: { kind: host }",
        "  b30: { kind: host }",
        "  b6: { kind: host }",
        "links:",
        "  - endpoints:",
        "      - { node: sw1, trunk: [10, 20], native: 5 }",
        "      - { node: sw2, trunk: [30, 10], native: 6 }",
        "  - endpoints: [a10, sw1]",
        "    vlan: 10",
        "  - endpoints: [a20, sw1]",
        "    vlan: 20",
        "  - endpoints: [a5, sw1]",
        "    vlan: 5",
        "  - endpoints: [b10, sw2]",
        "    vlan: 10",
        "  - endpoints: [b30, sw2]",
        "    vlan: 30",
        "  - endpoints: [b6, sw2]",
        "    vlan: 6",
    ]);
    assert_eq!(ports(&lab, "sw1")[0].1, trunk(&[10, 20], Some(5)));
    assert_eq!(ports(&lab, "sw2")[0].1, trunk(&[30, 10], Some(6)));
    // sw1's segments: VLAN 5 (+ sw2's VLAN 6, untagged on the wire), VLAN
    // 10 (both switches), VLAN 20; then sw2's VLAN 30.
    assert_eq!(addrs(&lab, "a5"), [s(&["10.100.0.1/24"])]);
    assert_eq!(addrs(&lab, "b6"), [s(&["10.100.0.2/24"])]);
    assert_eq!(addrs(&lab, "a10"), [s(&["10.100.1.1/24"])]);
    assert_eq!(addrs(&lab, "b10"), [s(&["10.100.1.2/24"])]);
    assert_eq!(addrs(&lab, "a20"), [s(&["10.100.2.1/24"])]);
    assert_eq!(addrs(&lab, "b30"), [s(&["10.100.3.1/24"])]);
}

#[test]
fn a_trunk_without_native_vlans_carries_no_untagged_traffic() {
    let lab = load(&[
        "name: t",
        "nodes:",
        "  sw1: { kind: switch }",
        "  sw2: { kind: switch }",
        "  a: { kind: host }",
        "  b: { kind: host }",
        "links:",
        "  - endpoints: [sw1, sw2]",
        "    trunk: [10]",
        "  - endpoints: [a, sw1]",
        "  - endpoints: [b, sw2]",
    ]);
    // Both hosts are on VLAN-unaware ports, each switch's untagged segment.
    assert_eq!(addrs(&lab, "a"), [s(&["10.100.0.1/24"])]);
    assert_eq!(addrs(&lab, "b"), [s(&["10.100.1.1/24"])]);
}

#[test]
fn a_bridge_joins_the_vlan_of_its_switch_port() {
    let lab = load(&[
        "name: t",
        "nodes:",
        "  sw: { kind: switch }",
        "  lan10: { kind: bridge }",
        "  lan: { kind: bridge }",
        "  r: { kind: router }",
        "  h10: { kind: host }",
        "  hb10: { kind: host }",
        "  hb: { kind: host }",
        "  hu: { kind: host }",
        "links:",
        "  - endpoints: [h10, sw]",
        "    vlan: 10",
        "  - endpoints: [lan10, sw]",
        "    vlan: 10",
        "  - endpoints: [hb10, lan10]",
        "  - endpoints: [r, lan10]",
        "  - endpoints: [lan, sw]",
        "  - endpoints: [hb, lan]",
        "  - endpoints: [hu, sw]",
    ]);
    assert_eq!(ports(&lab, "sw")[1], ("lan10".into(), access(10)));
    // The bridge port carries no VLAN mode: only switch ports do.
    assert_eq!(node(&lab, "lan10").interfaces[0].vlan, None);
    // sw's untagged segment holds lan's hosts and hu; VLAN 10 holds lan10's.
    assert_eq!(addrs(&lab, "hb"), [s(&["10.100.0.1/24"])]);
    assert_eq!(addrs(&lab, "hu"), [s(&["10.100.0.2/24"])]);
    assert_eq!(addrs(&lab, "r"), [s(&["10.100.1.1/24"])]);
    assert_eq!(addrs(&lab, "h10"), [s(&["10.100.1.2/24"])]);
    assert_eq!(addrs(&lab, "hb10"), [s(&["10.100.1.3/24"])]);
    assert_eq!(node(&lab, "h10").routes, [via("0.0.0.0/0", "10.100.1.1")]);
    assert_eq!(node(&lab, "hb10").routes, [via("0.0.0.0/0", "10.100.1.1")]);
    assert!(node(&lab, "hb").routes.is_empty());
}

#[test]
fn taps_on_a_switch_are_ports() {
    let lab = load(&[
        "name: t",
        "nodes:",
        "  sw: { kind: switch }",
        "  vm1: { kind: tap }",
        "  vm2: { kind: tap, owner: 1000 }",
        "links:",
        "  - endpoints: [vm1, sw]",
        "    vlan: 10",
        "  - endpoints: [{ node: sw, iface: vm2tap, trunk: [10, 20], native: 10 }, vm2]",
    ]);
    // The devices live in the switch's namespace as its ports.
    assert_eq!(
        ports(&lab, "sw"),
        [
            ("vm1".into(), access(10)),
            ("vm2tap".into(), trunk(&[10, 20], Some(10))),
        ]
    );
    assert_eq!(lab.links[0].kind, LinkKind::Tap);
    assert_eq!(lab.links[0].a, ep("sw", "vm1"));
    assert_eq!(lab.links[1].a, ep("sw", "vm2tap"));
    assert_eq!(lab.links[1].device_of.as_deref(), Some("vm2"));
    assert_eq!(node(&lab, "vm1").netns, None);
}

#[test]
fn routes_auto_across_switches() {
    // r1 routes VLANs 10 and 20; r2 sits on VLAN 20 and a bridged LAN.
    let lab = load(&[
        "name: t",
        "routes: auto",
        "nodes:",
        "  sw: { kind: switch }",
        "  lan: { kind: bridge }",
        "  r1: { kind: router }",
        "  r2: { kind: router }",
        "  h10: { kind: host }",
        "  h20: { kind: host }",
        "  far: { kind: host }",
        "links:",
        "  - endpoints: [r1, sw:r1a]",
        "    vlan: 10",
        "  - endpoints: [r1, sw:r1b]",
        "    vlan: 20",
        "  - endpoints: [r2, sw]",
        "    vlan: 20",
        "  - endpoints: [h10, sw]",
        "    vlan: 10",
        "  - endpoints: [h20, sw]",
        "    vlan: 20",
        "  - endpoints: [r2, lan]",
        "  - endpoints: [far, lan]",
    ]);
    // Segments: VLAN 10 .0/24, VLAN 20 .1/24, lan .2/24.
    assert_eq!(
        addrs(&lab, "r1"),
        [s(&["10.100.0.1/24"]), s(&["10.100.1.1/24"])]
    );
    assert_eq!(
        addrs(&lab, "r2"),
        [s(&["10.100.1.2/24"]), s(&["10.100.2.1/24"])]
    );
    assert_eq!(
        node(&lab, "r1").routes,
        [via("10.100.2.0/24", "10.100.1.2")]
    );
    assert_eq!(
        node(&lab, "r2").routes,
        [via("10.100.0.0/24", "10.100.1.1")]
    );
    assert_eq!(node(&lab, "h10").routes, [via("0.0.0.0/0", "10.100.0.1")]);
    // h20 sees both routers: default via r1, the LAN via r2.
    assert_eq!(
        node(&lab, "h20").routes,
        [
            via("0.0.0.0/0", "10.100.1.1"),
            via("10.100.2.0/24", "10.100.1.2"),
        ]
    );
    assert_eq!(node(&lab, "far").routes, [via("0.0.0.0/0", "10.100.2.1")]);
}

#[test]
fn vlan_segments_with_ipv6_and_explicit_addresses() {
    let lab = load(&[
        "name: t",
        "addressing: { ipv6: 'fd00:1::/48' }",
        "nodes:",
        "  sw: { kind: switch }",
        "  a: { kind: host }",
        "  b: { kind: host }",
        "  c: { kind: host }",
        "links:",
        "  - endpoints: [{ node: a, addresses: [192.168.10.5/24] }, sw]",
        "    vlan: 10",
        "  - endpoints: [b, sw]",
        "    vlan: 10",
        "  - endpoints: [c, sw]",
        "    vlan: 20",
    ]);
    // VLAN 10's subnet comes from a's explicit address.
    assert_eq!(addrs(&lab, "a"), [s(&["192.168.10.5/24", "fd00:1::1/64"])]);
    assert_eq!(addrs(&lab, "b"), [s(&["192.168.10.1/24", "fd00:1::2/64"])]);
    assert_eq!(
        addrs(&lab, "c"),
        [s(&["10.100.0.1/24", "fd00:1:0:1::1/64"])]
    );
}

#[test]
fn loading_a_switch_lab_is_deterministic() {
    let a = example("switch.yaml");
    let b = example("switch.yaml");
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

// --- Errors -----------------------------------------------------------------

/// Nodes of every kind, for link errors; links go after.
const HEAD: [&str; 10] = [
    "name: t",
    "nodes:",
    "  sw1: { kind: switch }",
    "  sw2: { kind: switch }",
    "  h1: { kind: host }",
    "  h2: { kind: host }",
    "  r1: { kind: router }",
    "  br: { kind: bridge }",
    "  vm: { kind: tap }",
    "  t1: { kind: tun }",
];

/// The error of a lab made of `HEAD`, `links:` and `links`; the first link
/// is on line 12.
fn link_err(links: &[&str]) -> LabError {
    let mut lines = HEAD.to_vec();
    lines.push("links:");
    lines.extend_from_slice(links);
    err(&lines)
}

#[test]
fn vlan_on_a_link_without_a_switch() {
    let e = link_err(&["  - endpoints: [h1, h2]", "    vlan: 10"]);
    assert_err(
        &e,
        13,
        11,
        "link 0: `vlan` configures switch ports, and neither `h1` nor `h2` is a switch",
    );
    let e = link_err(&["  - endpoints: [h1, br]", "    trunk: [10]"]);
    assert_err(
        &e,
        13,
        12,
        "link 0: `trunk` configures switch ports, and neither `h1` nor `br` is a switch",
    );
    let e = link_err(&["  - endpoints: [vm, r1]", "    native: 3"]);
    assert_err(&e, 13, 13, "link 0: `native` configures switch ports");
}

#[test]
fn vlan_on_an_endpoint_that_is_not_a_switch() {
    let e = link_err(&["  - endpoints: [{ node: h1, vlan: 10 }, sw1]"]);
    assert_err(
        &e,
        12,
        35,
        "link 0: `vlan` applies only to switch ports, and `h1` is a host",
    );
    let e = link_err(&["  - endpoints: [sw1, { node: br, trunk: [1] }]"]);
    assert_err(
        &e,
        12,
        41,
        "link 0: `trunk` applies only to switch ports, and `br` is a bridge",
    );
    let e = link_err(&["  - endpoints: [{ node: vm, vlan: 10 }, sw1]"]);
    assert_err(
        &e,
        12,
        35,
        "link 0: `vm` is a tap node; its device is a port of `sw1`, so give `vlan` on that end",
    );
    let e = link_err(&["  - endpoints: [{ node: vm, vlan: 10 }, h1]"]);
    assert_err(
        &e,
        12,
        35,
        "link 0: `vlan` applies only to switch ports, and `vm` is a tap",
    );
}

#[test]
fn vlan_ids_out_of_range() {
    for (v, col) in [("0", 11), ("4095", 11), ("5000", 11), ("-1", 11)] {
        let vlan = format!("    vlan: {v}");
        let e = link_err(&["  - endpoints: [h1, sw1]", &vlan]);
        assert_err(
            &e,
            13,
            col,
            &format!("link 0: VLAN {v} is out of range: VLAN IDs are 1 to 4094"),
        );
    }
    let e = link_err(&["  - endpoints: [sw1, sw2]", "    trunk: [10, 4095, 20]"]);
    assert_err(&e, 13, 17, "link 0: VLAN 4095 is out of range");
    let e = link_err(&[
        "  - endpoints: [sw1, sw2]",
        "    trunk: [10]",
        "    native: 0",
    ]);
    assert_err(&e, 14, 13, "link 0: VLAN 0 is out of range");
    let e = link_err(&["  - endpoints: [h1, { node: sw1, vlan: 4096 }]"]);
    assert_err(&e, 12, 40, "link 0: VLAN 4096 is out of range");
    // Not a number at all: the YAML type error, at the value.
    let e = link_err(&["  - endpoints: [h1, sw1]", "    vlan: ten"]);
    assert_err(
        &e,
        13,
        11,
        "`vlan`: expected a VLAN ID, a whole number from 1 to 4094",
    );
    let e = link_err(&["  - endpoints: [h1, sw1]", "    trunk: 10"]);
    assert_err(&e, 13, 12, "`trunk`: expected a list");
}

#[test]
fn both_vlan_and_trunk() {
    let e = link_err(&[
        "  - endpoints: [sw1, sw2]",
        "    trunk: [10]",
        "    vlan: 10",
    ]);
    assert_err(
        &e,
        14,
        11,
        "link 0: a port is either an access port (`vlan`) or a trunk (`trunk`), not both",
    );
    let e = link_err(&["  - endpoints: [{ node: sw1, vlan: 5, trunk: [5] }, sw2]"]);
    assert_err(&e, 12, 46, "not both");
}

#[test]
fn native_without_a_trunk() {
    let e = link_err(&["  - endpoints: [h1, sw1]", "    native: 10"]);
    assert_err(
        &e,
        13,
        13,
        "link 0: `native` is the untagged VLAN of a trunk; it needs `trunk` beside it",
    );
    let e = link_err(&["  - endpoints: [h1, sw1]", "    vlan: 10", "    native: 10"]);
    assert_err(&e, 14, 13, "it needs `trunk` beside it");
}

#[test]
fn native_vlan_need_not_be_allowed() {
    let mut lines = HEAD.to_vec();
    lines.extend([
        "links:",
        "  - endpoints: [sw1, sw2]",
        "    trunk: [10]",
        "    native: 99",
    ]);
    let lab = load(&lines);
    assert_eq!(ports(&lab, "sw1")[0].1, trunk(&[10], Some(99)));
}

#[test]
fn trunk_towards_something_that_cannot_tag() {
    let e = link_err(&["  - endpoints: [h1, sw1]", "    trunk: [10, 20]"]);
    assert_err(
        &e,
        13,
        12,
        "link 0: a trunk port needs a switch on both ends: `h1` is a host and cannot tag frames \
         (this kernel has no 802.1Q devices); use `vlan: N` for an access port",
    );
    let e = link_err(&["  - endpoints: [{ node: sw1, trunk: [10] }, r1]"]);
    assert_err(
        &e,
        12,
        37,
        "a trunk port needs a switch on both ends: `r1` is a router and cannot tag frames",
    );
    let e = link_err(&["  - endpoints: [br, sw2]", "    trunk: [10]"]);
    assert_err(
        &e,
        13,
        12,
        "a trunk port needs a switch on both ends: `br` is a bridge, and Linux bridges here \
         cannot carry VLANs",
    );
    // Between switches, both ends must be trunks.
    let e = link_err(&["  - endpoints: [sw1, { node: sw2, trunk: [10] }]"]);
    assert_err(
        &e,
        12,
        42,
        "link 0: the port on `sw2` is a trunk but the port on `sw1` is not: a trunk between two \
         switches needs `trunk` on both ends (give it on the link to set both)",
    );
    let e = link_err(&[
        "  - endpoints:",
        "      - { node: sw1, vlan: 10 }",
        "      - { node: sw2, trunk: [10] }",
    ]);
    assert_err(
        &e,
        14,
        29,
        "the port on `sw2` is a trunk but the port on `sw1` is not",
    );
}

#[test]
fn duplicate_and_missing_vlans_in_a_trunk() {
    let e = link_err(&["  - endpoints: [sw1, sw2]", "    trunk: [10, 20, 10]"]);
    assert_err(&e, 13, 21, "link 0: VLAN 10 is listed twice in `trunk`");
    let e = link_err(&["  - endpoints: [sw1, sw2]", "    trunk: []"]);
    assert_err(&e, 13, 12, "link 0: `trunk` needs at least one VLAN");
}

#[test]
fn vlan_on_both_the_link_and_the_endpoint() {
    let e = link_err(&[
        "  - endpoints: [sw1, { node: sw2, vlan: 20 }]",
        "    vlan: 10",
    ]);
    assert_err(
        &e,
        12,
        41,
        "link 0: the VLAN of the port on `sw2` is given twice: on the link (`vlan` at line 13, \
         column 11) and on the endpoint",
    );
}

#[test]
fn tun_on_a_switch() {
    let e = link_err(&["  - endpoints: [sw1, t1]"]);
    assert_err(
        &e,
        12,
        22,
        "link 0: tun node `t1` cannot join switch `sw1`: a TUN device carries IP packets, not \
         Ethernet frames (use kind: tap)",
    );
    // Even with a trunk on the switch's end, the tun is what is wrong.
    let e = link_err(&["  - endpoints: [sw1, t1]", "    trunk: [10]"]);
    assert_err(&e, 12, 22, "tun node `t1` cannot join switch `sw1`");
}

#[test]
fn switch_ports_carry_no_addresses() {
    let e = link_err(&["  - endpoints: [h1, { node: sw1, addresses: [10.0.0.1/24] }]"]);
    assert_err(
        &e,
        12,
        46,
        "link 0: `sw1` is a switch; its ports carry no addresses",
    );
    let e = link_err(&["  - endpoints: [vm, { node: sw1, addresses: [10.0.0.1/24] }]"]);
    assert_err(
        &e,
        12,
        46,
        "`sw1` is a switch; its ports carry no addresses",
    );
}

#[test]
fn switch_node_options() {
    let e = err(&["name: t", "nodes:", "  h1: { kind: host, flows: [x] }"]);
    assert_err(&e, 3, 28, "node `h1`: `flows` apply only to switch nodes");
    let e = err(&[
        "name: t",
        "nodes:",
        "  sw1:",
        "    kind: switch",
        "    flows:",
        "      - priority=0,actions=normal",
        "      - '  '",
    ]);
    assert_err(&e, 7, 9, "node `sw1`: flow 1 is empty");
    let e = err(&[
        "name: t",
        "nodes:",
        "  sw1: { kind: switch, flows: normal }",
    ]);
    assert_err(&e, 3, 31, "`flows`: expected a list");
    let e = err(&["name: t", "nodes:", "  sw1: { kind: switch, routes: [] }"]);
    assert_err(
        &e,
        3,
        32,
        "node `sw1`: `routes` apply only to host and router nodes",
    );
    let e = err(&["name: t", "nodes:", "  sw1: { kind: switch, owner: 0 }"]);
    assert_err(
        &e,
        3,
        31,
        "node `sw1`: `owner` applies only to tap and tun nodes",
    );
}

#[test]
fn vlan_segment_too_small() {
    let e = err(&[
        "name: t",
        "addressing: { ipv4_prefix: 30 }",
        "nodes:",
        "  sw1: { kind: switch }",
        "  a: { kind: host }",
        "  b: { kind: host }",
        "  c: { kind: host }",
        "links:",
        "  - endpoints: [a, sw1]",
        "    vlan: 10",
        "  - endpoints: [b, sw1]",
        "    vlan: 10",
        "  - endpoints: [c, sw1]",
        "    vlan: 10",
    ]);
    assert_err(
        &e,
        2,
        28,
        "VLAN 10 of switch `sw1` has 3 interfaces to address, more than 10.100.0.0/30 holds",
    );
    let e = err(&[
        "name: t",
        "nodes:",
        "  sw1: { kind: switch }",
        "  a: { kind: host }",
        "  b: { kind: host }",
        "  c: { kind: host }",
        "links:",
        "  - endpoints: [{ node: a, addresses: [10.9.0.1/30] }, sw1]",
        "  - endpoints: [b, sw1]",
        "  - endpoints: [c, sw1]",
    ]);
    assert_err(
        &e,
        3,
        3,
        "the untagged segment of switch `sw1` has 3 interfaces to address",
    );
}

// --- Graph ------------------------------------------------------------------

#[test]
fn graph_draws_switches_and_labels_vlans() {
    let lab = example("switch.yaml");
    let dot = render(&lab, GraphFormat::Dot);
    assert!(
        dot.contains("  \"sw1\" [shape=box3d, label=\"sw1\\nswitch\"];"),
        "{dot}"
    );
    assert!(
        dot.contains(
            "  \"sw1\" -- \"sw2\" [taillabel=\"sw2\", headlabel=\"sw1\", label=\"trunk 10,20\"];"
        ),
        "{dot}"
    );
    assert!(
        dot.contains(
            "  \"h1\" -- \"sw1\" [taillabel=\"eth0 10.100.0.2/24\", headlabel=\"h1\", \
             label=\"vlan 10\"];"
        ),
        "{dot}"
    );
    assert!(
        dot.contains(
            "  \"r1\" -- \"sw1\" [taillabel=\"eth1 10.100.1.1/24\", headlabel=\"r1-v20\", \
             label=\"vlan 20\"];"
        ),
        "{dot}"
    );
    // Every edge has a switch port with a VLAN mode.
    assert_eq!(dot.matches("\", label=\"").count(), 7, "{dot}");

    let m = render(&lab, GraphFormat::Mermaid);
    let lines: Vec<&str> = m.lines().collect();
    assert!(lines.contains(&"  n0[[\"sw1 (switch)\"]]"), "{m}");
    assert!(
        lines.contains(&"  n0 ---|\"sw2 — sw1 (trunk 10,20)\"| n1"),
        "{m}"
    );
    assert!(
        lines.contains(&"  n3 ---|\"eth0 10.100.0.2/24 — h1 (vlan 10)\"| n0"),
        "{m}"
    );
}

#[test]
fn graph_labels_native_vlans_taps_and_differing_ends() {
    let lab = load(&[
        "name: g",
        "nodes:",
        "  sw1: { kind: switch }",
        "  sw2: { kind: switch }",
        "  vm: { kind: tap }",
        "  h: { kind: host }",
        "links:",
        "  - endpoints: [sw1, sw2]",
        "    trunk: [10, 20]",
        "    native: 1",
        "  - endpoints: [{ node: sw1, vlan: 10 }, { node: sw2, vlan: 30 }]",
        "  - endpoints: [vm, sw2]",
        "    vlan: 30",
        "  - endpoints: [h, sw2]",
    ]);
    let dot = render(&lab, GraphFormat::Dot);
    assert!(
        dot.contains("\"sw1\" -- \"sw2\" [taillabel=\"sw2\", headlabel=\"sw1\", label=\"trunk 10,20 native 1\"];"),
        "{dot}"
    );
    assert!(
        dot.contains(
            "\"sw1\" -- \"sw2\" [taillabel=\"p0\", headlabel=\"p0\", label=\"vlan 10 / vlan 30\"];"
        ),
        "{dot}"
    );
    assert!(
        dot.contains("\"vm\" -- \"sw2\" [taillabel=\"\", headlabel=\"vm\", label=\"vlan 30\"];"),
        "{dot}"
    );
    // A VLAN-unaware port: no VLAN label.
    assert!(
        dot.contains("\"h\" -- \"sw2\" [taillabel=\"eth0 10.100.0.1/24\", headlabel=\"h\"];"),
        "{dot}"
    );
    let m = render(&lab, GraphFormat::Mermaid);
    assert!(m.contains("  n2 ---|\"vm (vlan 30)\"| n1\n"), "{m}");
}
