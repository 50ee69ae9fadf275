//! Lab files that load: names, links, addresses and default routes come out
//! as documented in docs/lab-format.md.

use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use vnet_topo::lab::{Endpoint, Lab, LinkKind, Node, NodeKind, Route};
use vnet_topo::load::{load_file, load_str};

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

fn load(lines: &[&str]) -> Lab {
    let text = lines.join("\n") + "\n";
    load_str(&text, "test.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn node<'a>(lab: &'a Lab, name: &str) -> &'a Node {
    lab.node(name).unwrap_or_else(|| panic!("no node {name}"))
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// `(iface, addresses)` of a node.
fn ifaces(lab: &Lab, name: &str) -> Vec<(String, Vec<String>)> {
    node(lab, name)
        .interfaces
        .iter()
        .map(|i| {
            let a = i.addresses.iter().map(|a| a.to_string()).collect();
            (i.name.clone(), a)
        })
        .collect()
}

fn via(dst: &str, via: &str) -> Route {
    Route {
        dst: net(dst),
        via: Some(ip(via)),
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

#[test]
fn demo_resolves() {
    let lab = load_file(&example("demo.yaml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(lab.name, "demo");
    let names: Vec<&str> = lab.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["s1", "r1", "h1", "h2", "vm1", "t1"]);

    let s1 = node(&lab, "s1");
    assert_eq!(s1.kind, NodeKind::Bridge);
    assert_eq!(s1.netns.as_deref(), Some("vnet.demo.s1"));
    assert_eq!(s1.bridge_dev.as_deref(), Some("s1"));
    // Bridge ports are named after the peer and carry no address.
    assert_eq!(
        ifaces(&lab, "s1"),
        [
            ("h1".into(), vec![]),
            ("h2".into(), vec![]),
            ("r1".into(), vec![]),
            ("vm1".into(), vec![]),
        ]
    );

    // Routers are addressed first, then hosts, in node order.
    assert_eq!(
        ifaces(&lab, "r1"),
        [(
            "eth0".into(),
            vec!["10.100.0.1/24".into(), "fd00:100::1/64".into()]
        )]
    );
    assert_eq!(
        ifaces(&lab, "h1"),
        [(
            "eth0".into(),
            vec!["10.100.0.2/24".into(), "fd00:100::2/64".into()]
        )]
    );
    assert_eq!(
        ifaces(&lab, "h2"),
        [(
            "eth0".into(),
            vec!["10.100.0.3/24".into(), "fd00:100::3/64".into()]
        )]
    );
    assert_eq!(node(&lab, "r1").interfaces[0].mtu, Some(9000));

    // Hosts: explicit routes first, then default routes via the router.
    let h1 = node(&lab, "h1");
    assert_eq!(h1.exec, ["ip -br addr"]);
    assert_eq!(
        h1.routes,
        [
            Route {
                dst: net("10.9.0.0/16"),
                via: Some(ip("10.100.0.1")),
                dev: None,
                metric: Some(10),
            },
            via("0.0.0.0/0", "10.100.0.1"),
            via("::/0", "fd00:100::1"),
        ]
    );
    assert_eq!(
        node(&lab, "h2").routes,
        [via("0.0.0.0/0", "10.100.0.1"), via("::/0", "fd00:100::1")]
    );
    assert!(node(&lab, "r1").routes.is_empty());

    // The linked tap lives in the bridge's namespace as a port.
    let vm1 = node(&lab, "vm1");
    assert_eq!(vm1.netns, None);
    assert!(vm1.interfaces.is_empty());
    assert_eq!((vm1.owner, vm1.group), (Some(1000), Some(1000)));
    let tap = &lab.links[3];
    assert_eq!(tap.kind, LinkKind::Tap);
    assert_eq!(tap.a, ep("s1", "vm1"));
    assert_eq!(tap.b, None);
    assert_eq!(tap.device_of.as_deref(), Some("vm1"));

    // The unlinked tun lives in its own namespace, on a link of its own.
    let t1 = node(&lab, "t1");
    assert_eq!(t1.netns.as_deref(), Some("vnet.demo.t1"));
    assert_eq!(ifaces(&lab, "t1"), [("t1".into(), vec![])]);
    assert_eq!(lab.links.len(), 5);
    assert_eq!(lab.links[4].kind, LinkKind::Tun);
    assert_eq!(lab.links[4].a, ep("t1", "t1"));
    assert_eq!(lab.links[4].device_of.as_deref(), Some("t1"));
    assert_eq!(t1.interfaces[0].link, 4);

    // Veth links and the interfaces' back references.
    assert_eq!(lab.links[0].kind, LinkKind::Veth);
    assert_eq!(lab.links[0].a, ep("h1", "eth0"));
    assert_eq!(lab.links[0].b, Some(ep("s1", "h1")));
    assert_eq!(lab.links[1].a, ep("h2", "eth0"));
    assert_eq!(lab.links[1].b, Some(ep("s1", "h2")));
    for (n, node) in lab.nodes.iter().enumerate() {
        for i in &node.interfaces {
            let l = &lab.links[i.link];
            let here = ep(&node.name, &i.name);
            assert!(
                l.a == here || l.b.as_ref() == Some(&here),
                "node {n} {}",
                i.name
            );
        }
    }
}

#[test]
fn every_example_loads() {
    let dir = example("");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    for known in [
        "demo.yaml",
        "routed.yaml",
        "tap.yaml",
        "switch.yaml",
        "switch-flows.yaml",
    ] {
        assert!(
            names.iter().any(|n| n == known),
            "{known} missing: {names:?}"
        );
    }
    for name in &names {
        load_file(&example(name)).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn loading_is_deterministic() {
    let a = load_file(&example("routed.yaml")).unwrap();
    let b = load_file(&example("routed.yaml")).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

#[test]
fn automatic_names_skip_explicit_ones() {
    let lab = load(&[
        "name: t",
        "nodes:",
        "  a: { kind: host }",
        "  b: { kind: host }",
        "  s: { kind: bridge }",
        "links:",
        "  - endpoints: [a, b]",
        "  - endpoints: [a:eth0, s:b]",
        "  - endpoints: [a, s]",
        "  - endpoints: [b, s]",
    ]);
    // a's first link gets eth1: eth0 is asked for by a later link.
    let a: Vec<_> = ifaces(&lab, "a").into_iter().map(|i| i.0).collect();
    assert_eq!(a, ["eth1", "eth0", "eth2"]);
    // Bridge ports: the peer's name when free, else pN.
    let s: Vec<_> = ifaces(&lab, "s").into_iter().map(|i| i.0).collect();
    assert_eq!(s, ["b", "a", "p0"]);
}

#[test]
fn point_to_point_links_get_slash_30s_after_bridged_segments() {
    let lab = load(&[
        "name: t",
        "nodes:",
        "  h1: { kind: host }",
        "  r1: { kind: router }",
        "  s1: { kind: bridge }",
        "  h2: { kind: host }",
        "links:",
        "  - endpoints: [h1, r1]",
        "  - endpoints: [r1, s1]",
        "  - endpoints: [h2, s1]",
    ]);
    assert_eq!(
        ifaces(&lab, "r1"),
        [
            ("eth0".into(), vec!["10.100.1.1/30".into()]),
            ("eth1".into(), vec!["10.100.0.1/24".into()]),
        ]
    );
    assert_eq!(ifaces(&lab, "h1")[0].1, ["10.100.1.2/30"]);
    assert_eq!(ifaces(&lab, "h2")[0].1, ["10.100.0.2/24"]);
    // h1's only router is on its first segment.
    assert_eq!(node(&lab, "h1").routes, [via("0.0.0.0/0", "10.100.1.1")]);
}

#[test]
fn linked_bridges_are_one_segment() {
    let lab = load(&[
        "name: t",
        "nodes:",
        "  s1: { kind: bridge }",
        "  s2: { kind: bridge }",
        "  h1: { kind: host }",
        "  h2: { kind: host }",
        "  h3: { kind: host }",
        "links:",
        "  - endpoints: [h1, s1]",
        "  - endpoints: [s1, s2]",
        "  - endpoints: [h2, s2]",
        "  - endpoints: [h3, s2]",
    ]);
    assert_eq!(ifaces(&lab, "h1")[0].1, ["10.100.0.1/24"]);
    assert_eq!(ifaces(&lab, "h2")[0].1, ["10.100.0.2/24"]);
    assert_eq!(ifaces(&lab, "h3")[0].1, ["10.100.0.3/24"]);
    // No router: no default route.
    assert!(node(&lab, "h1").routes.is_empty());
}

#[test]
fn explicit_addresses_set_their_segment_subnet() {
    let lab = load(&[
        "name: t",
        "addressing: { ipv4: 10.1.0.0/16, ipv4_prefix: 26 }",
        "nodes:",
        "  s1: { kind: bridge }",
        "  s2: { kind: bridge }",
        "  r1: { kind: router }",
        "  h1: { kind: host }",
        "  h2: { kind: host }",
        "links:",
        "  - endpoints: [{ node: h1, iface: lan, addresses: [10.1.0.1/26], mac: '02:00:00:00:00:01' }, s1]",
        "  - endpoints: [r1, s1]",
        "  - endpoints: [h2, s2]",
    ]);
    // s1 takes 10.1.0.0/26 from h1's address; r1 gets the next free one.
    assert_eq!(
        ifaces(&lab, "h1"),
        [("lan".into(), vec!["10.1.0.1/26".into()])]
    );
    assert_eq!(ifaces(&lab, "r1")[0].1, ["10.1.0.2/26"]);
    // The pool skips the block the explicit address occupies.
    assert_eq!(ifaces(&lab, "h2")[0].1, ["10.1.0.65/26"]);
    assert_eq!(node(&lab, "h1").interfaces[0].mac, Some([2, 0, 0, 0, 0, 1]));
    assert_eq!(node(&lab, "h1").routes, [via("0.0.0.0/0", "10.1.0.2")]);
    assert!(node(&lab, "h2").routes.is_empty());
}

#[test]
fn explicit_default_route_replaces_the_automatic_one() {
    let lab = load(&[
        "name: t",
        "nodes:",
        "  r1: { kind: router }",
        "  h1:",
        "    kind: host",
        "    routes: [{ dst: default, via: 10.100.0.1, metric: 5 }, { dst: 10.7.0.0/16, dev: eth0 }]",
        "links:",
        "  - endpoints: [r1, h1]",
    ]);
    assert_eq!(
        node(&lab, "h1").routes,
        [
            Route {
                dst: net("0.0.0.0/0"),
                via: Some(ip("10.100.0.1")),
                dev: None,
                metric: Some(5),
            },
            Route {
                dst: net("10.7.0.0/16"),
                via: None,
                dev: Some("eth0".into()),
                metric: None,
            },
        ]
    );
}

#[test]
fn tap_example() {
    let lab = load_file(&example("tap.yaml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ifaces(&lab, "lan"),
        [
            ("r1".into(), vec![]),
            ("h1".into(), vec![]),
            ("vm1".into(), vec![]),
        ]
    );
    // The tun device lives in r1 under the name given on r1's end.
    assert_eq!(
        ifaces(&lab, "r1"),
        [
            ("eth0".into(), vec!["10.100.0.1/24".into()]),
            ("tun0".into(), vec!["10.200.0.1/24".into()]),
        ]
    );
    let tun = &lab.links[3];
    assert_eq!(tun.kind, LinkKind::Tun);
    assert_eq!(tun.a, ep("r1", "tun0"));
    assert_eq!(tun.device_of.as_deref(), Some("vpn"));
    assert_eq!(node(&lab, "vpn").netns, None);
    assert_eq!(node(&lab, "vpn").owner, Some(1000));
    // The unlinked tap has a namespace and a link of its own.
    let spare = node(&lab, "spare");
    assert_eq!(spare.netns.as_deref(), Some("vnet.tapdemo.spare"));
    assert_eq!(lab.links[spare.interfaces[0].link].a, ep("spare", "spare"));
    assert_eq!(node(&lab, "h1").routes, [via("0.0.0.0/0", "10.100.0.1")]);
}

#[test]
fn devices_on_hosts_and_routers() {
    let lab = load(&[
        "name: t",
        "routes: auto",
        "nodes:",
        "  r1: { kind: router }",
        "  r2: { kind: router }",
        "  h1: { kind: host }",
        "  vm1: { kind: tap }",
        "  t1: { kind: tun }",
        "links:",
        "  - endpoints: [r1, r2]",
        "  - endpoints: [r2, h1]",
        "  - endpoints: [h1, vm1]",
        "  - endpoints: [{ node: r1, iface: tun0, addresses: [10.200.0.1/24] }, t1]",
    ]);
    // A device on a host gets no automatic address, and is named after its node.
    assert_eq!(
        ifaces(&lab, "h1"),
        [
            ("eth0".into(), vec!["10.100.0.6/30".into()]),
            ("vm1".into(), vec![]),
        ]
    );
    // The tun's subnet on r1 is routed to by r2.
    assert_eq!(
        ifaces(&lab, "r1")[1],
        ("tun0".into(), vec!["10.200.0.1/24".into()])
    );
    assert_eq!(
        node(&lab, "r2").routes,
        [via("10.200.0.0/24", "10.100.0.1")]
    );
    assert_eq!(
        node(&lab, "r1").routes,
        [via("10.100.0.4/30", "10.100.0.2")]
    );
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let err = load_file(&example("no-such-lab.yaml")).unwrap_err();
    assert!(err.origin.ends_with("no-such-lab.yaml"));
    assert_eq!((err.line, err.column), (0, 0));
    assert!(err.to_string().contains("cannot read lab file"), "{err}");
}
