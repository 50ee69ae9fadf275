//! Lab files that do not load: each error names the offending thing and is
//! located at `FILE:LINE:COLUMN` of the offending value.

use vnet_topo::load::{load_str, LabError};

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
    assert_eq!(e.origin, "lab.yaml");
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

#[test]
fn unknown_key_in_a_node() {
    let e = err(&[
        "name: t",
        "nodes:",
        "  h1:",
        "    kind: host",
        "    colour: blue",
    ]);
    assert_err(&e, 5, 5, "unknown field `colour`");
}

#[test]
fn unknown_key_at_top_level() {
    let e = err(&["name: t", "nodes: {}", "link: []"]);
    assert_err(&e, 3, 1, "unknown field `link`");
}

#[test]
fn unknown_key_in_an_endpoint() {
    let e = err(&[
        "name: t",
        "nodes: { a: { kind: host }, b: { kind: host } }",
        "links:",
        "  - endpoints: [a, { node: b, interface: eth3 }]",
    ]);
    assert_err(&e, 4, 31, "unknown field `interface`");
}

#[test]
fn duplicate_node() {
    let e = err(&[
        "name: t",
        "nodes:",
        "  h1: { kind: host }",
        "  h2: { kind: host }",
        "  h1: { kind: router }",
    ]);
    assert_err(
        &e,
        5,
        3,
        "duplicate node `h1` (first defined at line 3, column 3)",
    );
}

#[test]
fn duplicate_key_elsewhere() {
    let e = err(&["name: t", "nodes: {}", "name: u"]);
    assert_err(&e, 3, 1, "duplicate key `name`");
}

#[test]
fn missing_kind() {
    let e = err(&["name: t", "nodes:", "  h1:", "  h2: { kind: host }"]);
    assert_err(&e, 3, 3, "node `h1` needs a `kind`");
}

#[test]
fn link_to_missing_node() {
    let e = err(&[
        "name: t",
        "nodes:",
        "  h1: { kind: host }",
        "links:",
        "  - endpoints: [h1, s9:eth0]",
    ]);
    assert_err(&e, 5, 21, "link 0: no node named `s9`");
}

#[test]
fn interface_used_twice() {
    let e = err(&[
        "name: t",
        "nodes:",
        "  h1: { kind: host }",
        "  h2: { kind: host }",
        "  h3: { kind: host }",
        "links:",
        "  - endpoints: [h1:eth0, h2]",
        "  - endpoints: [h3, h1:eth0]",
    ]);
    assert_err(
        &e,
        8,
        21,
        "link 1: interface `h1:eth0` is already used by link 0 (line 7, column 17)",
    );
}

#[test]
fn explicit_interface_name_of_16_bytes() {
    let e = err(&[
        "name: t",
        "nodes: { h1: { kind: host }, h2: { kind: host } }",
        "links:",
        "  - endpoints:",
        "      - h1",
        "      - { node: h2, iface: abcdefghijklmnop }",
    ]);
    assert_err(
        &e,
        6,
        28,
        "`abcdefghijklmnop` is 16 bytes, longer than the 15 bytes",
    );
}

#[test]
fn bridge_name_too_long_for_a_device() {
    let e = err(&["name: t", "nodes:", "  backbone-switch1: { kind: bridge }"]);
    assert_err(&e, 3, 3, "bridge node `backbone-switch1`");
    assert!(e.message.contains("16 bytes"), "{e}");
}

#[test]
fn tap_name_too_long_for_a_device() {
    let e = err(&[
        "name: t",
        "nodes:",
        "  s1: { kind: bridge }",
        "  windows-vm-guest: { kind: tap }",
        "links:",
        "  - endpoints: [s1, windows-vm-guest]",
    ]);
    assert_err(
        &e,
        6,
        21,
        "device of tap node `windows-vm-guest` would be named after the node",
    );
    // Naming the device on the bridge's end fixes it.
    let text = "name: t\nnodes:\n  s1: { kind: bridge }\n  windows-vm-guest: { kind: tap }\n\
                links:\n  - endpoints: [s1:win, windows-vm-guest]\n";
    let lab = load_str(text, "lab.yaml").unwrap();
    assert_eq!(lab.links[0].a.iface, "win");
}

#[test]
fn unlinked_tun_name_too_long_for_a_device() {
    let e = err(&["name: t", "nodes:", "  userspace-tunnel: { kind: tun }"]);
    assert_err(
        &e,
        3,
        3,
        "tun node `userspace-tunnel`: its device is named after the node",
    );
}

#[test]
fn tun_on_a_bridge() {
    let e = err(&[
        "name: t",
        "nodes:",
        "  s1: { kind: bridge }",
        "  t1: { kind: tun }",
        "links:",
        "  - endpoints: [s1, t1]",
    ]);
    assert_err(&e, 6, 21, "tun node `t1` cannot join bridge `s1`");
}

#[test]
fn switch_kind_is_accepted() {
    // Once reserved and refused; now a node kind like the others.
    let lab = load_str("name: t\nnodes:\n  sw1:\n    kind: switch\n", "lab.yaml").unwrap();
    assert_eq!(lab.nodes[0].kind, vnet_topo::lab::NodeKind::Switch);
}

#[test]
fn unknown_kind() {
    let e = err(&["name: t", "nodes: { x: { kind: hub } }"]);
    assert_err(
        &e,
        2,
        21,
        "unknown kind `hub` (expected host, router, bridge, switch, tap or tun)",
    );
}

#[test]
fn exhausted_pool() {
    let e = err(&[
        "name: t",
        "addressing:",
        "  ipv4: 10.0.0.0/23",
        "nodes:",
        "  s1: { kind: bridge }",
        "  s2: { kind: bridge }",
        "  r1: { kind: router }",
        "  r2: { kind: router }",
        "links:",
        "  - endpoints: [r1, s1]",
        "  - endpoints: [r2, s2]",
        "  - endpoints: [r1, r2]",
    ]);
    assert_err(
        &e,
        3,
        9,
        "IPv4 pool 10.0.0.0/23 is exhausted: the lab needs 3 subnets (2 × /24, 1 × /30) and only 2 fit",
    );
}

#[test]
fn exhausted_ipv6_pool() {
    let e = err(&[
        "name: t",
        "addressing: { ipv6: 'fd00::/63' }",
        "nodes: { a: { kind: host }, b: { kind: host }, c: { kind: host } }",
        "links: [{ endpoints: [a, b] }, { endpoints: [b, c] }, { endpoints: [c, a] }]",
    ]);
    assert_err(
        &e,
        2,
        21,
        "IPv6 pool fd00::/63 is exhausted: the lab needs 3 subnets",
    );
}

#[test]
fn segment_too_small_for_its_interfaces() {
    let e = err(&[
        "name: t",
        "addressing: { ipv4_prefix: 30 }",
        "nodes: { s: { kind: bridge }, a: { kind: host }, b: { kind: host }, c: { kind: host } }",
        "links: [{ endpoints: [a, s] }, { endpoints: [b, s] }, { endpoints: [c, s] }]",
    ]);
    assert_err(
        &e,
        2,
        28,
        "the segment of bridge `s` has 3 interfaces to address",
    );
}

#[test]
fn overlapping_explicit_addresses() {
    let e = err(&[
        "name: t",
        "nodes: { a: { kind: host }, b: { kind: host }, c: { kind: host }, d: { kind: host } }",
        "links:",
        "  - endpoints: [{ node: a, addresses: [10.1.0.1/24] }, b]",
        "  - endpoints: [c, { node: d, addresses: [10.1.0.9/16] }]",
    ]);
    assert_err(
        &e,
        5,
        43,
        "d:eth0: address 10.1.0.9/16 overlaps 10.1.0.1/24 on another segment, given to a:eth0 \
         (line 4, column 40)",
    );
}

#[test]
fn same_explicit_address_twice() {
    let e = err(&[
        "name: t",
        "nodes: { s: { kind: bridge }, a: { kind: host }, b: { kind: host } }",
        "links:",
        "  - endpoints: [{ node: a, addresses: ['10.1.0.1/24'] }, s]",
        "  - endpoints: [{ node: b, addresses: ['10.1.0.1/24'] }, s]",
    ]);
    assert_err(
        &e,
        5,
        40,
        "b:eth0: address 10.1.0.1 is already given to a:eth0",
    );
}

#[test]
fn bad_cidr_in_an_address() {
    let e = err(&[
        "name: t",
        "nodes: { a: { kind: host }, b: { kind: host } }",
        "links:",
        "  - endpoints:",
        "      - node: a",
        "        addresses: [10.1.0.300/24]",
        "      - b",
    ]);
    assert_err(
        &e,
        6,
        21,
        "link 0: `10.1.0.300/24` is not an address with a prefix length",
    );
}

#[test]
fn bad_cidr_in_the_pool() {
    let e = err(&["name: t", "addressing:", "  ipv4: 10.0.0.0/33", "nodes: {}"]);
    assert_err(&e, 3, 9, "`10.0.0.0/33` is not a prefix");
    let e = err(&["name: t", "addressing:", "  ipv4: 10.0.0.1/16", "nodes: {}"]);
    assert_err(&e, 3, 9, "has host bits set; did you mean 10.0.0.0/16?");
    let e = err(&["name: t", "addressing:", "  ipv4: 'fd00::/48'", "nodes: {}"]);
    assert_err(&e, 3, 9, "is not an IPv4 prefix");
}

#[test]
fn bad_cidr_in_a_route() {
    let e = err(&[
        "name: t",
        "nodes:",
        "  h1:",
        "    kind: host",
        "    routes:",
        "      - { dst: 10.9.0.0/40, via: 10.0.0.1 }",
    ]);
    assert_err(
        &e,
        6,
        16,
        "node `h1`: route destination `10.9.0.0/40` is not a prefix",
    );
    let e = err(&[
        "name: t",
        "nodes:",
        "  h1:",
        "    kind: host",
        "    routes:",
        "      - { dst: 10.9.0.1/16, via: 10.0.0.1 }",
    ]);
    assert_err(&e, 6, 16, "did you mean 10.9.0.0/16?");
}

#[test]
fn bad_routes() {
    let base = [
        "name: t",
        "nodes:",
        "  h1:",
        "    kind: host",
        "    routes:",
    ];
    let with = |route: &str| {
        let mut lines = base.to_vec();
        lines.push(route);
        lines.extend(["  h2: { kind: host }", "links: [{ endpoints: [h1, h2] }]"]);
        err(&lines)
    };
    let e = with("      - { dst: default, via: 10.0.0 }");
    assert_err(&e, 6, 30, "route via `10.0.0` is not an IP address");
    let e = with("      - { dst: 10.9.0.0/16, via: 'fd00::1' }");
    assert_err(&e, 6, 34, "mixes IPv4 and IPv6");
    let e = with("      - { dst: 10.9.0.0/16, dev: eth7 }");
    assert_err(
        &e,
        6,
        34,
        "route dev `eth7` is not an interface of `h1` (it has: eth0)",
    );
    let e = with("      - { dst: 10.9.0.0/16 }");
    assert_err(&e, 6, 9, "needs `via` or `dev`");
    let e = with("      - { dst: 10.9.0.0/16, via: 10.0.0.1, metric: 2, table: 5 }");
    assert_err(&e, 6, 55, "unknown field `table`");
    let e = err(&[
        "name: t",
        "nodes:",
        "  h1:",
        "    kind: host",
        "    routes:",
        "      - { dst: default, via: 10.0.0.1 }",
        "      - { dst: default, via: 10.0.0.2 }",
    ]);
    assert_err(
        &e,
        7,
        16,
        "a route to 0.0.0.0/0 with the same metric is already given at line 6",
    );
}

#[test]
fn node_options_in_the_wrong_place() {
    let e = err(&["name: t", "nodes:", "  h1: { kind: host, owner: 1000 }"]);
    assert_err(
        &e,
        3,
        28,
        "node `h1`: `owner` applies only to tap and tun nodes",
    );
    let e = err(&["name: t", "nodes:", "  s1: { kind: bridge, routes: [] }"]);
    assert_err(
        &e,
        3,
        31,
        "node `s1`: `routes` apply only to host and router nodes",
    );
    let e = err(&["name: t", "nodes:", "  t1: { kind: tun, exec: [ls] }"]);
    assert_err(
        &e,
        3,
        26,
        "node `t1`: `exec` applies only to host, router, bridge and switch nodes",
    );
}

#[test]
fn bad_names() {
    let e = err(&["name: my lab", "nodes: {}"]);
    assert_err(&e, 1, 7, "lab name `my lab` is invalid");
    let e = err(&["name: t", "nodes:", "  h.1: { kind: host }"]);
    assert_err(&e, 3, 3, "node name `h.1` is invalid");
    let long = format!("  {}: {{ kind: host }}", "h".repeat(33));
    let e = err(&["name: t", "nodes:", &long]);
    assert_err(&e, 3, 3, "is invalid: use 1 to 32 letters");
}

#[test]
fn bad_interface_names() {
    let lines = |ep: &'static str| {
        vec![
            "name: t",
            "nodes: { a: { kind: host }, b: { kind: host }, s: { kind: bridge } }",
            "links:",
            ep,
        ]
    };
    let e = err(&lines("  - endpoints: [a:lo, b]"));
    assert_err(&e, 4, 17, "interface name `lo` is reserved");
    let e = err(&lines("  - endpoints: ['a:', b]"));
    assert_err(&e, 4, 17, "interface name is empty");
    let e = err(&lines("  - endpoints: [a, 'b:x y']"));
    assert_err(&e, 4, 20, "may not contain `/`, `:` or whitespace");
    let e = err(&lines("  - endpoints: [a, s:s]"));
    assert_err(
        &e,
        4,
        20,
        "interface `s:s` clashes with the bridge device of node `s`",
    );
}

#[test]
fn bad_links() {
    let head = [
        "name: t",
        "nodes:",
        "  a: { kind: host }",
        "  s: { kind: bridge }",
        "  v1: { kind: tap }",
        "  v2: { kind: tap }",
        "links:",
    ];
    let with = |link: &[&str]| {
        let mut lines = head.to_vec();
        lines.extend_from_slice(link);
        err(&lines)
    };
    let e = with(&["  - endpoints: [a, a]"]);
    assert_err(&e, 8, 20, "link 0: connects node `a` to itself");
    let e = with(&["  - endpoints: [s]"]);
    assert_err(&e, 8, 16, "link 0: needs exactly 2 endpoints, found 1");
    let e = with(&["  - endpoints: [v1, v2]"]);
    assert_err(&e, 8, 21, "connects tap node `v1` to tap node `v2`");
    let e = with(&["  - endpoints: [v1, s]", "  - endpoints: [a, v1]"]);
    assert_err(
        &e,
        9,
        20,
        "link 1: tap node `v1` is already linked by link 0 (line 8, column 17)",
    );
    let e = with(&["  - endpoints: [v1:x, s]"]);
    assert_err(&e, 8, 17, "`v1` is a tap node; its device lives in `s`");
    let e = with(&["  - endpoints: [a, { node: s, addresses: [10.0.0.1/24] }]"]);
    assert_err(&e, 8, 43, "`s` is a bridge; its ports carry no addresses");
    let e = with(&["  - endpoints: [a, s]", "    mtu: 10"]);
    assert_err(&e, 9, 10, "link 0: mtu 10 is out of range");
    let e = with(&["  - endpoints: [{ node: a, mac: '01:00:5e:00:00:01' }, s]"]);
    assert_err(&e, 8, 33, "is a multicast address");
    let e = with(&["  - endpoints: [{ node: a, mac: 'zz' }, s]"]);
    assert_err(&e, 8, 33, "mac `zz` is not a MAC address");
    let e = with(&["  - endpoints: [{ node: 'a:eth0' }, s]"]);
    assert_err(&e, 8, 25, "give the interface with `iface`");
    let e = with(&["  - endpoints: [a, 7]"]);
    assert_err(&e, 8, 20, "expected `node`, `node:iface` or a mapping");
}

#[test]
fn bad_routes_mode() {
    let e = err(&["name: t", "routes: static", "nodes: {}"]);
    assert_err(
        &e,
        2,
        9,
        "routes: expected `auto` or `none`, found `static`",
    );
}

#[test]
fn yaml_syntax_error_is_located() {
    let e = err(&["name: t", "nodes: [", ""]);
    assert_eq!(e.origin, "lab.yaml");
    assert!(e.line >= 2, "{e}");
}

#[test]
fn missing_required_keys() {
    let e = err(&["nodes: {}"]);
    assert_err(&e, 1, 1, "missing field `name`");
}
