//! OpenFlow 1.3 match fields and table descriptions against a live switch
//! and ovs-ofctl (Open vSwitch 3.1) on its `ptcp:` listener:
//!
//! - a flow on every match field ovs-ofctl can express, added with
//!   `add-flow`, comes back from `dump-flows` exactly as it went in, from
//!   the switch's own `dump-flows` too, and again after the daemon was
//!   killed and restarted from its flows file; a masked TCP port (an Open
//!   vSwitch extension the spec does not allow) is refused with
//!   OFPBMC_BAD_MASK;
//! - `dump-table-features` of the live switch says what the codec's
//!   `TableFeatures::supported` says (proven true in the openflow crate's
//!   `table_features_truth.rs`), table by table;
//! - `dump-tables` counts lookups and matches per table.
//!
//! Tests skip (printing SKIP) without root or ovs-ofctl.

mod common;

use std::time::Duration;

use common::*;
use vnet_openflow::multipart::{MultipartReply, MultipartReplyBody, TableFeatures};
use vnet_openflow::Message;

/// Every flow, in the form ovs-ofctl prints it (so it must come back
/// unchanged); priorities keep them apart.
const FLOWS: &[&str] = &[
    "priority=101,in_port=1 actions=drop",
    "priority=102,metadata=0xab/0xff actions=drop",
    "priority=103,metadata=0x1122334455667788 actions=drop",
    "priority=104,dl_dst=00:11:22:33:44:55 actions=drop",
    "priority=105,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=drop",
    "priority=106,dl_src=00:11:22:33:44:55 actions=drop",
    "priority=107,dl_src=00:11:22:00:00:00/ff:ff:ff:00:00:00 actions=drop",
    "priority=108,dl_type=0x1234 actions=drop",
    "priority=109,dl_vlan=10 actions=drop",
    "priority=110,vlan_tci=0x1000/0x1000 actions=drop",
    "priority=111,vlan_tci=0x0000/0x1fff actions=drop",
    "priority=112,vlan_tci=0x0005/0x0fff actions=drop",
    "priority=113,dl_vlan=10,dl_vlan_pcp=5 actions=drop",
    "priority=114,dl_vlan_pcp=3 actions=drop",
    "priority=115,ip,nw_tos=184 actions=drop",
    "priority=116,ipv6,nw_ecn=2 actions=drop",
    "priority=117,ip,nw_proto=47 actions=drop",
    "priority=118,ip,nw_src=10.0.0.1,nw_dst=192.168.1.0/24 actions=drop",
    "priority=119,tcp,tp_src=80,tp_dst=443 actions=drop",
    "priority=120,tcp6,tp_dst=443 actions=drop",
    "priority=121,udp,tp_src=53,tp_dst=54 actions=drop",
    "priority=122,udp6,tp_dst=5353 actions=drop",
    "priority=123,sctp,tp_src=1000,tp_dst=2000 actions=drop",
    "priority=124,sctp6,tp_dst=2000 actions=drop",
    "priority=125,icmp,icmp_type=3,icmp_code=1 actions=drop",
    "priority=126,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,arp_op=2,arp_sha=00:11:22:33:44:55,arp_tha=00:11:22:00:00:00/ff:ff:ff:00:00:00 actions=drop",
    "priority=127,ipv6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::/32,ipv6_label=0x12345 actions=drop",
    "priority=128,ipv6,ipv6_label=0x00045/0x000ff actions=drop",
    "priority=129,icmp6,icmp_type=1,icmp_code=4 actions=drop",
    "priority=130,icmp6,icmp_type=135,icmp_code=0,nd_target=2001:db8::1,nd_sll=00:11:22:33:44:55 actions=drop",
    "priority=131,icmp6,icmp_type=136,nd_target=2001:db8::2,nd_tll=00:11:22:33:44:66 actions=drop",
    "priority=132,mpls,mpls_label=100,mpls_tc=5,mpls_bos=1 actions=drop",
    "priority=133,mplsm,mpls_label=1048575 actions=drop",
    "priority=134,tun_id=0x5 actions=drop",
    "priority=135,tun_id=0x500/0xff00 actions=drop",
    "priority=136,dl_type=0x88e7 actions=drop",
    "priority=137,ip,nw_ttl=5,nw_frag=first actions=drop",
    "priority=138,tcp,tcp_flags=+syn-ack actions=drop",
    "priority=139,mpls,mpls_ttl=5 actions=drop",
    "priority=140,rarp,arp_op=3 actions=drop",
    "priority=141,ipv6,nw_frag=later actions=drop",
];

/// Hosts h1..hn at 10.79.0.I/24.
const HOSTS: Hosts = Hosts(79);

#[test]
fn ovs_ofctl_every_match_field_round_trips() {
    if !ready(&["ovs-ofctl"]) {
        return;
    }
    let lab = HOSTS.secure_lab("ofmatch", 2);
    let t = listener(&lab);
    for f in FLOWS {
        ofctl(&["add-flow", &t, &f.replace(" actions=", ",actions=")]).ok();
    }
    let want = sorted(FLOWS);
    assert_eq!(dumped(&t), want, "ovs-ofctl dump-flows");
    // The switch's own printing is ovs-ofctl's.
    let own = own_flows(&lab);
    // (It names ports: port 1 is h1's.)
    let named: Vec<String> = want
        .iter()
        .map(|f| f.replace("in_port=1 ", "in_port=h1 "))
        .collect();
    assert_eq!(own, named, "vnet switch dump-flows");

    // Masks where OpenFlow 1.3 allows none are refused, as the spec says.
    for bad in [
        "tcp,tp_dst=0x400/0xfc00,actions=drop",
        "udp,tp_src=0x1000/0xf000,actions=drop",
        "sctp6,tp_dst=8/8,actions=drop",
    ] {
        let r = ofctl(&["add-flow", &t, bad]);
        assert!(!r.success(), "{bad} accepted");
        assert!(r.stderr.contains("OFPBMC_BAD_MASK"), "{bad}: {r:#?}");
    }
    assert_eq!(dumped(&t), want);

    // The flows file holds them in a form the restarted daemon reads back
    // (once the burst's save is done).
    let t = restart_when_saved(&lab, FLOWS.len());
    assert_eq!(dumped(&t), want, "after a restart");
}

/// `ovs-ofctl ofp-print` of the codec's description of `n_tables` tables,
/// table by table (the text after each `table N`), max_entries left out.
fn codec_tables(n_tables: u8) -> Vec<String> {
    let reply = Message::MultipartReply(MultipartReply {
        flags: 0,
        body: MultipartReplyBody::TableFeatures(
            (0..n_tables)
                .map(|t| TableFeatures::supported(t, n_tables, 0))
                .collect(),
        ),
    });
    let hex: String = reply
        .encode(1)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let out = ofctl(&["ofp-print", &hex]).ok();
    per_table(&out.stdout)
}

fn per_table(text: &str) -> Vec<String> {
    format!("\n{text}")
        .split("\n  table ")
        .skip(1)
        .map(|t| {
            t.lines()
                .filter(|l| !l.contains("max_entries="))
                .collect::<Vec<_>>()
                .join("\n")
                .trim_end()
                .to_string()
        })
        .collect()
}

#[test]
fn ovs_ofctl_dump_table_features_of_a_live_switch() {
    if !ready(&["ovs-ofctl"]) {
        return;
    }
    let lab = HOSTS.secure_lab("oftfeat", 1);
    let t = listener(&lab);
    let live = ofctl(&["dump-table-features", &t]).ok().stdout;
    let tables = per_table(&live);
    assert_eq!(tables.len(), 16, "{live}");
    assert_eq!(tables, codec_tables(16), "live:\n{live}");
    // What the truth is, in ovs-ofctl's words (see table_features_truth.rs
    // for every field and action one by one).
    assert!(live.contains("next tables: 1-15"), "{live}");
    assert!(!live.contains("must exact match"), "{live}");
    assert!(
        live.contains("exact match or wildcard: in_port_oxm eth_type"),
        "{live}"
    );
    assert!(live.contains("max_entries=1000000"), "{live}");
}

/// (active, lookups, matched) of each table, from `ovs-ofctl dump-tables`
/// (whose `tables A...B: ditto` repeats the table before).
fn table_stats(target: &str) -> Vec<(u64, u64, u64)> {
    let out = ofctl(&["dump-tables", target]).ok().stdout;
    let num = |s: &str, key: &str| -> u64 {
        s.split([' ', ','])
            .find_map(|w| w.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let mut v: Vec<(u64, u64, u64)> = Vec::new();
    for l in out.lines().map(str::trim) {
        if l.starts_with("active=") {
            v.push((num(l, "active="), num(l, "lookup="), num(l, "matched=")));
        } else if let Some(range) = l.strip_prefix("tables ") {
            let (a, b) = range
                .trim_end_matches(": ditto")
                .split_once("...")
                .expect("tables A...B: ditto");
            let n = b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1;
            let last = *v.last().expect("a table before ditto");
            v.extend(std::iter::repeat_n(last, n));
        }
    }
    v
}

#[test]
fn ovs_ofctl_dump_tables_counts_lookups_and_matches() {
    if !ready(&["ovs-ofctl"]) {
        return;
    }
    // One host; whatever it sends is not of ethertype 0x88b5.
    let lab = HOSTS.secure_lab("oftstats", 1);
    let t = listener(&lab);
    for f in [
        "table=0,priority=100,dl_type=0x88b5,actions=goto_table:1",
        "table=0,priority=0,actions=drop",
        "table=1,priority=10,dl_dst=02:00:00:00:00:77,actions=drop",
    ] {
        ofctl(&["add-flow", &t, f]).ok();
    }
    let before = table_stats(&t);
    assert_eq!(before.len(), 16);
    assert_eq!((before[0].0, before[1].0, before[2].0), (2, 1, 0));
    let hit = frame_hex("02:00:00:00:00:77");
    let miss = frame_hex("02:00:00:00:00:78");
    for (hex, n) in [(&hit, 3), (&miss, 2)] {
        for _ in 0..n {
            ofctl(&[
                "packet-out",
                &t,
                &format!("in_port=1 packet={hex} actions=TABLE"),
            ])
            .ok();
        }
    }
    // Table 1 sees exactly those five frames and matches three; table 0
    // (whose catch-all also takes whatever the host sends) matches every
    // frame it looks up; table 2 is never reached.
    let mut after = table_stats(&t);
    assert!(wait_for(Duration::from_secs(5), || {
        after = table_stats(&t);
        after[1].1 - before[1].1 == 5
    }));
    assert_eq!((after[1].1 - before[1].1, after[1].2 - before[1].2), (5, 3));
    assert!(after[0].1 - before[0].1 >= 5);
    assert_eq!(after[0].1, after[0].2, "table 0 has a catch-all");
    assert_eq!(after[2], (0, 0, 0));
}
