//! `routes: auto`: shortest-path static routes, default routes for hosts,
//! and labs with hundreds of routers.

use std::net::IpAddr;

use ipnet::IpNet;
use vnet_topo::lab::{Lab, Node, Route};
use vnet_topo::load::load_str;

fn load(text: &str) -> Lab {
    load_str(text, "test.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn lines(lines: &[&str]) -> String {
    lines.join("\n") + "\n"
}

fn node<'a>(lab: &'a Lab, name: &str) -> &'a Node {
    lab.node(name).unwrap_or_else(|| panic!("no node {name}"))
}

fn via(dst: &str, via: &str) -> Route {
    Route {
        dst: dst.parse::<IpNet>().unwrap(),
        via: Some(via.parse::<IpAddr>().unwrap()),
        dev: None,
        metric: None,
    }
}

/// `h1 — r1 — r2 — … — rN — h2`, all point-to-point.
fn line(routers: usize, auto: bool) -> String {
    let mut s = String::from("name: line\n");
    if auto {
        s.push_str("routes: auto\n");
    }
    s.push_str("addressing: { ipv4: 10.0.0.0/8 }\nnodes:\n  h1: { kind: host }\n");
    for i in 1..=routers {
        s.push_str(&format!("  r{i}: {{ kind: router }}\n"));
    }
    s.push_str("  h2: { kind: host }\nlinks:\n  - endpoints: [h1, r1]\n");
    for i in 1..routers {
        s.push_str(&format!("  - endpoints: [r{i}, r{}]\n", i + 1));
    }
    s.push_str(&format!("  - endpoints: [r{routers}, h2]\n"));
    s
}

#[test]
fn line_of_four_routers() {
    let lab = load(&line(4, true));
    // Segments in link order: h1–r1 .0/30, r1–r2 .4/30, r2–r3 .8/30,
    // r3–r4 .12/30, r4–h2 .16/30; routers are addressed before hosts.
    let addr = |n: &str, i: usize| node(&lab, n).interfaces[i].addresses[0].to_string();
    assert_eq!(addr("r1", 0), "10.0.0.1/30");
    assert_eq!(addr("h1", 0), "10.0.0.2/30");
    assert_eq!(addr("r1", 1), "10.0.0.5/30");
    assert_eq!(addr("r2", 0), "10.0.0.6/30");
    assert_eq!(addr("r4", 1), "10.0.0.17/30");
    assert_eq!(addr("h2", 0), "10.0.0.18/30");

    assert_eq!(
        node(&lab, "r1").routes,
        [
            via("10.0.0.8/30", "10.0.0.6"),
            via("10.0.0.12/30", "10.0.0.6"),
            via("10.0.0.16/30", "10.0.0.6"),
        ]
    );
    assert_eq!(
        node(&lab, "r2").routes,
        [
            via("10.0.0.0/30", "10.0.0.5"),
            via("10.0.0.12/30", "10.0.0.10"),
            via("10.0.0.16/30", "10.0.0.10"),
        ]
    );
    assert_eq!(
        node(&lab, "r3").routes,
        [
            via("10.0.0.0/30", "10.0.0.9"),
            via("10.0.0.4/30", "10.0.0.9"),
            via("10.0.0.16/30", "10.0.0.14"),
        ]
    );
    assert_eq!(
        node(&lab, "r4").routes,
        [
            via("10.0.0.0/30", "10.0.0.13"),
            via("10.0.0.4/30", "10.0.0.13"),
            via("10.0.0.8/30", "10.0.0.13"),
        ]
    );
    assert_eq!(node(&lab, "h1").routes, [via("0.0.0.0/0", "10.0.0.1")]);
    assert_eq!(node(&lab, "h2").routes, [via("0.0.0.0/0", "10.0.0.17")]);
}

#[test]
fn without_auto_only_hosts_get_default_routes() {
    let lab = load(&line(4, false));
    for r in ["r1", "r2", "r3", "r4"] {
        assert!(node(&lab, r).routes.is_empty(), "{r}");
    }
    assert_eq!(node(&lab, "h1").routes, [via("0.0.0.0/0", "10.0.0.1")]);
}

#[test]
fn shortest_path_wins_and_ties_go_to_the_first_router() {
    // A ring r1 r2 r3 r4 and a LAN on r3: from r1, r2 and r4 are both two
    // hops from the LAN; r2 comes first in the file.
    let lab = load(&lines(&[
        "name: ring",
        "routes: auto",
        "nodes:",
        "  r1: { kind: router }",
        "  r2: { kind: router }",
        "  r3: { kind: router }",
        "  r4: { kind: router }",
        "  lan: { kind: bridge }",
        "  h: { kind: host }",
        "links:",
        "  - endpoints: [r3, lan]",
        "  - endpoints: [h, lan]",
        "  - endpoints: [r1, r2]",
        "  - endpoints: [r2, r3]",
        "  - endpoints: [r3, r4]",
        "  - endpoints: [r4, r1]",
    ]));
    // lan 10.100.0.0/24; r1–r2 .1.0/30, r2–r3 .1.4/30, r3–r4 .1.8/30, r4–r1 .1.12/30.
    let r1 = &node(&lab, "r1").routes;
    assert!(r1.contains(&via("10.100.0.0/24", "10.100.1.2")), "{r1:?}");
    // r3–r4 is one hop away through r4 (directly attached to it).
    assert!(r1.contains(&via("10.100.1.8/30", "10.100.1.14")), "{r1:?}");
    assert!(r1.contains(&via("10.100.1.4/30", "10.100.1.2")), "{r1:?}");
    assert_eq!(r1.len(), 3);
}

#[test]
fn host_between_two_routers_gets_specific_routes() {
    // h sits on a LAN with r1 (default gateway) and r2; r2 leads to net2.
    let lab = load(&lines(&[
        "name: t",
        "routes: auto",
        "nodes:",
        "  lan: { kind: bridge }",
        "  net2: { kind: bridge }",
        "  r1: { kind: router }",
        "  r2: { kind: router }",
        "  h: { kind: host }",
        "  far: { kind: host }",
        "links:",
        "  - endpoints: [r1, lan]",
        "  - endpoints: [r2, lan]",
        "  - endpoints: [h, lan]",
        "  - endpoints: [r2, net2]",
        "  - endpoints: [far, net2]",
    ]));
    // lan 10.100.0.0/24: r1 .1, r2 .2, h .3; net2 10.100.1.0/24: r2 .1, far .2.
    assert_eq!(
        node(&lab, "h").routes,
        [
            via("0.0.0.0/0", "10.100.0.1"),
            via("10.100.1.0/24", "10.100.0.2"),
        ]
    );
    assert_eq!(
        node(&lab, "r1").routes,
        [via("10.100.1.0/24", "10.100.0.2")]
    );
    assert_eq!(node(&lab, "far").routes, [via("0.0.0.0/0", "10.100.1.1")]);
}

#[test]
fn explicit_routes_are_not_duplicated() {
    let lab = load(&lines(&[
        "name: t",
        "routes: auto",
        "nodes:",
        "  r1:",
        "    kind: router",
        "    routes: [{ dst: 10.100.0.8/30, via: 10.100.0.2, metric: 7 }]",
        "  r2: { kind: router }",
        "  r3: { kind: router }",
        "links:",
        "  - endpoints: [r1, r2]",
        "  - endpoints: [r2, r3]",
        "  - endpoints: [r3, r1]",
    ]));
    let r1 = &node(&lab, "r1").routes;
    assert_eq!(r1.len(), 2, "{r1:?}");
    assert_eq!(r1[0].metric, Some(7));
    assert_eq!(r1[1], via("10.100.0.4/30", "10.100.0.2"));
}

#[test]
fn ipv6_routes_follow_the_same_paths() {
    let lab = load(&line(3, true).replace(
        "addressing: { ipv4: 10.0.0.0/8 }",
        "addressing: { ipv4: 10.0.0.0/8, ipv6: 'fd00:1::/48' }",
    ));
    let r1 = &node(&lab, "r1").routes;
    assert!(
        r1.contains(&via("fd00:1:0:3::/64", "fd00:1:0:1::2")),
        "{r1:?}"
    );
    assert!(r1.contains(&via("10.0.0.12/30", "10.0.0.6")), "{r1:?}");
    assert_eq!(
        node(&lab, "h2").routes,
        [via("0.0.0.0/0", "10.0.0.13"), via("::/0", "fd00:1:0:3::1")]
    );
}

#[test]
fn line_of_300_routers() {
    let lab = load(&line(300, true));
    // 301 point-to-point segments; each router routes to the 299 it is not on.
    for r in ["r1", "r150", "r300"] {
        assert_eq!(node(&lab, r).routes.len(), 299, "{r}");
    }
    // r1 sends everything through r2.
    let next = node(&lab, "r2").interfaces[0].addresses[0].addr();
    assert!(node(&lab, "r1").routes.iter().all(|r| r.via == Some(next)));
}

#[test]
fn grid_of_400_routers() {
    // 20×20 routers, each linked to its right and lower neighbour.
    let n = 20;
    let mut s =
        String::from("name: grid\nroutes: auto\naddressing: { ipv4: 10.0.0.0/8 }\nnodes:\n");
    for y in 0..n {
        for x in 0..n {
            s.push_str(&format!("  r{x}-{y}: {{ kind: router }}\n"));
        }
    }
    s.push_str("links:\n");
    for y in 0..n {
        for x in 0..n {
            if x + 1 < n {
                s.push_str(&format!("  - endpoints: [r{x}-{y}, r{}-{y}]\n", x + 1));
            }
            if y + 1 < n {
                s.push_str(&format!("  - endpoints: [r{x}-{y}, r{x}-{}]\n", y + 1));
            }
        }
    }
    let lab = load(&s);
    let segments = 2 * n * (n - 1);
    let corner = node(&lab, "r0-0");
    assert_eq!(corner.routes.len(), segments - 2);
    // Every route of the corner leaves through one of its two neighbours.
    let neighbours: Vec<IpAddr> = ["r1-0", "r0-1"]
        .iter()
        .map(|r| node(&lab, r).interfaces[0].addresses[0].addr())
        .collect();
    assert!(corner
        .routes
        .iter()
        .all(|r| neighbours.contains(&r.via.unwrap())));
}
