//! Sticky automatic addresses: loading a changed lab file with the applied
//! lab as hints keeps the addresses of everything the change did not touch.

use vnet_topo::lab::Lab;
use vnet_topo::load::{load_str, load_str_with};

fn load(text: &str) -> Lab {
    load_str(text, "test.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn reload(text: &str, applied: &Lab) -> Lab {
    load_str_with(text, "test.yaml", Some(applied)).unwrap_or_else(|e| panic!("{e}"))
}

/// The addresses of `node:iface`, as text.
fn addrs(lab: &Lab, node: &str, iface: &str) -> Vec<String> {
    let n = lab.node(node).unwrap_or_else(|| panic!("no node {node}"));
    let i = n
        .interfaces
        .iter()
        .find(|i| i.name == iface)
        .unwrap_or_else(|| panic!("no interface {node}:{iface}"));
    i.addresses.iter().map(|a| a.to_string()).collect()
}

const THREE_LANS: &str = "
name: sticky
nodes:
  b1: { kind: bridge }
  b2: { kind: bridge }
  b3: { kind: bridge }
  h1: { kind: host }
  h2: { kind: host }
  h3: { kind: host }
  h4: { kind: host }
links:
  - endpoints: [h1:eth0, b1:p1]
  - endpoints: [h2:eth0, b2:p1]
  - endpoints: [h3:eth0, b2:p2]
  - endpoints: [h4:eth0, b3:p1]
";

/// The same lab without b1 and h1.
const TWO_LANS: &str = "
name: sticky
nodes:
  b2: { kind: bridge }
  b3: { kind: bridge }
  h2: { kind: host }
  h3: { kind: host }
  h4: { kind: host }
links:
  - endpoints: [h2:eth0, b2:p1]
  - endpoints: [h3:eth0, b2:p2]
  - endpoints: [h4:eth0, b3:p1]
";

#[test]
fn removing_an_earlier_segment_renumbers_nothing_else() {
    let before = load(THREE_LANS);
    assert_eq!(addrs(&before, "h1", "eth0"), ["10.100.0.1/24"]);
    assert_eq!(addrs(&before, "h2", "eth0"), ["10.100.1.1/24"]);
    assert_eq!(addrs(&before, "h3", "eth0"), ["10.100.1.2/24"]);
    assert_eq!(addrs(&before, "h4", "eth0"), ["10.100.2.1/24"]);
    // Without hints the remaining segments move down the pool...
    let fresh = load(TWO_LANS);
    assert_eq!(addrs(&fresh, "h2", "eth0"), ["10.100.0.1/24"]);
    // ...with the applied lab as hints they stay.
    let after = reload(TWO_LANS, &before);
    assert_eq!(addrs(&after, "h2", "eth0"), ["10.100.1.1/24"]);
    assert_eq!(addrs(&after, "h3", "eth0"), ["10.100.1.2/24"]);
    assert_eq!(addrs(&after, "h4", "eth0"), ["10.100.2.1/24"]);
}

#[test]
fn a_new_segment_takes_a_free_block_around_the_kept_ones() {
    let before = reload(TWO_LANS, &load(THREE_LANS));
    // b1 comes back: its old block 10.100.0.0/24 is free again; the
    // others keep theirs.
    let after = reload(THREE_LANS, &before);
    assert_eq!(addrs(&after, "h1", "eth0"), ["10.100.0.1/24"]);
    assert_eq!(addrs(&after, "h2", "eth0"), ["10.100.1.1/24"]);
    assert_eq!(addrs(&after, "h4", "eth0"), ["10.100.2.1/24"]);
    // A fourth LAN never collides with a kept block.
    let four = THREE_LANS.replace(
        "  - endpoints: [h4:eth0, b3:p1]\n",
        "  - endpoints: [h4:eth0, b3:p1]\n  - endpoints: [h5:eth0, b4:p1]\n",
    );
    let four = four.replace(
        "  h1: { kind: host }\n",
        "  h1: { kind: host }\n  h5: { kind: host }\n  b4: { kind: bridge }\n",
    );
    let with_four = reload(&four, &after);
    assert_eq!(addrs(&with_four, "h5", "eth0"), ["10.100.3.1/24"]);
    assert_eq!(addrs(&with_four, "h2", "eth0"), ["10.100.1.1/24"]);
}

#[test]
fn removing_a_host_keeps_its_neighbours_addresses() {
    let before = load(THREE_LANS);
    let without_h2 = THREE_LANS
        .replace("  h2: { kind: host }\n", "")
        .replace("  - endpoints: [h2:eth0, b2:p1]\n", "");
    assert_eq!(
        addrs(&load(&without_h2), "h3", "eth0"),
        ["10.100.1.1/24"],
        "without hints h3 moves down"
    );
    let after = reload(&without_h2, &before);
    assert_eq!(addrs(&after, "h3", "eth0"), ["10.100.1.2/24"]);
    // A host added later takes the lowest free address, not a kept one.
    let back = reload(THREE_LANS, &after);
    assert_eq!(addrs(&back, "h2", "eth0"), ["10.100.1.1/24"]);
    assert_eq!(addrs(&back, "h3", "eth0"), ["10.100.1.2/24"]);
}

#[test]
fn explicit_addresses_win_over_hints() {
    let before = load(THREE_LANS);
    // h4 now asks for an address inside h2/h3's old block: that segment
    // cannot keep it and moves to a free block; h4's LAN takes the
    // explicit subnet.
    let text = TWO_LANS.replace(
        "[h4:eth0, b3:p1]",
        "[{ node: h4, iface: eth0, addresses: [10.100.1.7/24] }, b3:p1]",
    );
    let after = reload(&text, &before);
    assert_eq!(addrs(&after, "h4", "eth0"), ["10.100.1.7/24"]);
    let h2 = addrs(&after, "h2", "eth0");
    assert_ne!(h2, ["10.100.1.1/24"], "the explicit subnet is not shared");
    assert!(
        h2[0].starts_with("10.100.") && h2[0].ends_with(".1/24"),
        "{h2:?}"
    );
    let block_h2: Vec<&str> = h2[0].split('.').collect();
    assert_ne!(block_h2[2], "1");
}

#[test]
fn a_changed_prefix_or_pool_drops_the_hint() {
    let before = load(THREE_LANS);
    let text = format!("{TWO_LANS}addressing: {{ ipv4_prefix: 26 }}\n");
    let after = reload(&text, &before);
    // /24 hints do not fit /26 segments: allocated afresh from the pool.
    assert_eq!(addrs(&after, "h2", "eth0"), ["10.100.0.1/26"]);
    assert_eq!(addrs(&after, "h4", "eth0"), ["10.100.0.65/26"]);
    let text = format!("{TWO_LANS}addressing: {{ ipv4: 10.200.0.0/16 }}\n");
    let after = reload(&text, &before);
    assert_eq!(addrs(&after, "h2", "eth0"), ["10.200.0.1/24"]);
}

#[test]
fn point_to_point_links_and_ipv6_are_sticky_too() {
    let text = |with_first: bool| {
        format!(
            "
name: p2p
addressing: {{ ipv6: fd00:10::/48 }}
nodes:
  r1: {{ kind: router }}
  r2: {{ kind: router }}
  r3: {{ kind: router }}
links:
{}  - endpoints: [r2:e1, r3:e0]
",
            if with_first {
                "  - endpoints: [r1:e0, r2:e0]\n"
            } else {
                ""
            }
        )
    };
    let before = load(&text(true));
    assert_eq!(addrs(&before, "r2", "e1")[0], "10.100.0.5/30");
    let v6 = addrs(&before, "r2", "e1")[1].clone();
    let after = reload(&text(false), &before);
    assert_eq!(
        addrs(&after, "r2", "e1"),
        [String::from("10.100.0.5/30"), v6]
    );
    assert_eq!(addrs(&after, "r3", "e0")[0], "10.100.0.6/30");
}
