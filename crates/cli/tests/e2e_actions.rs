//! OpenFlow 1.3 actions and set-fields against a live switch and ovs-ofctl
//! (Open vSwitch 3.1) on its `ptcp:` listener:
//!
//! - a flow using every action and set-field ovs-ofctl can send (MPLS
//!   push/pop/TTLs, 802.1ad and stacked VLAN pushes, IP TTLs, every
//!   settable field, write-actions) is added with `add-flow` and comes
//!   back from `dump-flows` exactly as it went in, from the switch's own
//!   `dump-flows` too, and again after the daemon was killed and restarted
//!   from its flows file;
//! - the actions ovs-ofctl does not have (copy_ttl_out/in, push_pbb,
//!   pop_pbb, set_field on mpls_bos and pbb_isid) go in and come back
//!   through `vnet switch add-flow` / `dump-flows`;
//! - set_queue is refused with OFPBAC_BAD_QUEUE (there are no queues);
//! - real pings cross the switch inside an MPLS label (pushed, looked up in
//!   a later table after the push, popped) one way and a PBB encapsulation
//!   the other way, with dec_ttl, so the kernel checks what comes out.
//!
//! Tests skip (printing SKIP) without root, the first without ovs-ofctl.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

/// Flows as ovs-ofctl prints them; priorities keep them apart.
const OVS_FLOWS: &[&str] = &[
    "priority=101,ip actions=push_mpls:0x8847,set_field:1000->mpls_label,set_field:5->mpls_tc,set_mpls_ttl(9),dec_mpls_ttl,output:1",
    "priority=102,mpls actions=set_field:1->mpls_ttl,pop_mpls:0x0800,set_field:9->nw_ttl,output:2",
    "priority=103,mpls actions=push_mpls:0x8848,output:1",
    "priority=104,mplsm,mpls_bos=0 actions=pop_mpls:0x8847,output:1",
    "priority=105 actions=push_vlan:0x88a8,set_field:4196->vlan_vid,push_vlan:0x8100,output:1",
    "priority=106,ip actions=mod_nw_ttl:7,dec_ttl,output:1",
    "priority=107 actions=set_field:00:00:00:00:00:01->eth_dst,set_field:00:00:00:00:00:02->eth_src,set_field:0x55->tun_id,output:2",
    "priority=108,dl_vlan=5 actions=set_field:4103->vlan_vid,set_field:3->vlan_pcp,output:2",
    "priority=109,tcp actions=set_field:5->ip_dscp,set_field:2->nw_ecn,set_field:10.0.0.1->ip_src,set_field:10.0.0.2->ip_dst,set_field:80->tcp_src,set_field:443->tcp_dst,output:2",
    "priority=110,udp actions=set_field:53->udp_src,set_field:5353->udp_dst,output:2",
    "priority=111,sctp actions=set_field:1->sctp_src,set_field:2->sctp_dst,output:2",
    "priority=112,icmp actions=set_field:0->icmp_type,set_field:1->icmp_code,output:2",
    "priority=113,arp actions=set_field:2->arp_op,set_field:10.0.0.1->arp_spa,set_field:10.0.0.2->arp_tpa,set_field:00:00:00:00:00:03->arp_sha,set_field:00:00:00:00:00:04->arp_tha,output:2",
    "priority=114,ipv6 actions=set_field:2001:db8::1->ipv6_src,set_field:2001:db8::2->ipv6_dst,set_field:0x12345->ipv6_label,output:2",
    "priority=115,icmp6 actions=set_field:129->icmpv6_type,set_field:0->icmpv6_code,output:2",
    "priority=116,icmp6,icmp_type=135,icmp_code=0 actions=set_field:2001:db8::3->nd_target,set_field:00:00:00:00:00:05->nd_sll,output:2",
    "priority=117,icmp6,icmp_type=136,icmp_code=0 actions=set_field:00:00:00:00:00:06->nd_tll,output:2",
    "priority=118,mpls actions=set_field:100->mpls_label,set_field:5->mpls_tc,set_field:9->mpls_ttl,output:2",
    "priority=119,ip actions=write_actions(set_field:10.0.0.9->ip_dst,dec_ttl,output:2)",
    "priority=120,mpls actions=write_actions(dec_ttl,pop_mpls:0x0800,output:2)",
    "priority=121,ipv6 actions=dec_ttl,set_field:fd00::1->ipv6_dst,output:1",
];

/// Flows ovs-ofctl has no syntax or encoding for.
const OWN_FLOWS: &[&str] = &[
    "priority=201,mpls actions=copy_ttl_out,copy_ttl_in,dec_mpls_ttl,output:2",
    "priority=202 actions=push_pbb:0x88e7,set_field:0x123456->pbb_isid,output:2",
    "priority=203,dl_type=0x88e7 actions=pop_pbb,output:1",
    "priority=204,mpls actions=set_field:0->mpls_bos,output:2",
    "priority=205,ip actions=write_actions(copy_ttl_out,push_mpls:0x8847,output:2)",
];

/// Hosts h1 and h2 at 10.81.0.1 and .2.
const HOSTS: Hosts = Hosts(81);

/// The switch's own dump, in ovs-ofctl's `MATCH actions=` form, sorted,
/// ports by number.
fn own_dump(lab: &TestLab) -> Vec<String> {
    let mut v: Vec<String> = own_flows(lab)
        .into_iter()
        .map(|f| {
            f.replace("output:h1", "output:1")
                .replace("output:h2", "output:2")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn ovs_ofctl_every_action_and_set_field_round_trips() {
    if !ready(&["ovs-ofctl"]) {
        return;
    }
    let lab = HOSTS.secure_lab("ofact", 2);
    let t = listener(&lab);
    for f in OVS_FLOWS {
        ofctl(&["add-flow", &t, &f.replacen(" actions=", ",actions=", 1)]).ok();
    }
    let want = sorted(OVS_FLOWS);
    assert_eq!(dumped(&t), want, "ovs-ofctl dump-flows");
    assert_eq!(own_dump(&lab), want, "vnet switch dump-flows");

    // No queues: set_queue is refused, with the spec's error. And the
    // action set runs push_mpls before dec_ttl, so this write-actions
    // (which Open vSwitch accepts, then ignores the dec_ttl of) is
    // inconsistent.
    for (bad, error) in [
        ("actions=set_queue:0,output:1", "OFPBAC_BAD_QUEUE"),
        (
            "actions=write_actions(set_queue:3,output:1)",
            "OFPBAC_BAD_QUEUE",
        ),
        (
            "ip,actions=write_actions(dec_ttl,push_mpls:0x8847,output:2)",
            "OFPBAC_MATCH_INCONSISTENT",
        ),
    ] {
        let r = ofctl(&["add-flow", &t, bad]);
        assert!(!r.success(), "{bad} accepted");
        assert!(r.stderr.contains(error), "{bad}: {r:#?}");
    }
    assert_eq!(dumped(&t), want);

    // After a restart from the flows file, the same flows.
    let t = restart_when_saved(&lab, OVS_FLOWS.len());
    assert_eq!(dumped(&t), want, "after a restart");
}

#[test]
fn actions_ovs_ofctl_lacks_round_trip_through_vnet_switch() {
    if !root_or_skip() {
        return;
    }
    let lab = HOSTS.secure_lab("ofown", 2);
    for f in OWN_FLOWS {
        sw(
            &lab,
            "sw1",
            &["add-flow", &f.replacen(" actions=", ",actions=", 1)],
        )
        .ok();
    }
    assert_eq!(own_dump(&lab), sorted(OWN_FLOWS));
    // Refusals name the problem.
    let r = sw(
        &lab,
        "sw1",
        &["add-flow", "ip,actions=copy_ttl_in,output:1"],
    )
    .fails();
    assert!(r.stderr.contains("copy_ttl_in requires"), "{r:#?}");
    let r = sw(
        &lab,
        "sw1",
        &["add-flow", "actions=push_pbb:0x8100,output:1"],
    )
    .fails();
    assert!(r.stderr.contains("0x8100"), "{r:#?}");
    let r = sw(&lab, "sw1", &["add-flow", "actions=set_queue:1,output:1"]).fails();
    assert!(r.stderr.contains("no queues"), "{r:#?}");
}

fn ping(lab: &TestLab, from: &str, to: &str) -> Run {
    exec(
        lab,
        from,
        &["timeout", "10", "ping", "-n", "-c3", "-i0.2", "-W2", to],
    )
}

#[test]
fn pings_cross_the_switch_inside_mpls_and_pbb() {
    if !root_or_skip() {
        return;
    }
    let lab = HOSTS.secure_lab("ofencap", 2);
    // h1 → h2: MPLS pushed in table 0, matched by label in table 1 (after
    // the push), popped with dec_ttl. h2 → h1: PBB pushed with an I-SID,
    // matched in table 1, popped. ARP floods.
    for f in [
        "table=0,priority=10,in_port=1,ip,actions=push_mpls:0x8847,set_field:1234->mpls_label,goto_table:1",
        "table=0,priority=10,in_port=2,ip,actions=push_pbb:0x88e7,set_field:0x4242->pbb_isid,goto_table:1",
        "table=0,priority=5,arp,actions=FLOOD",
        "table=1,mpls,mpls_label=1234,mpls_bos=1,actions=pop_mpls:0x0800,dec_ttl,output:2",
        "table=1,dl_type=0x88e7,actions=pop_pbb,output:1",
    ] {
        sw(&lab, "sw1", &["add-flow", f]).ok();
    }
    let r = ping(&lab, "h1", &HOSTS.ip(2));
    assert!(r.success(), "{r:#?}");
    // The echo replies came back with TTL 64 (PBB), the requests arrived
    // with 63 (dec_ttl after the MPLS pop): the replies say ttl=64.
    assert!(r.stdout.contains("ttl=64"), "{}", r.stdout);
    let dump = sw(&lab, "sw1", &["dump-flows"]).ok().stdout;
    for (flow, at_least) in [("mpls_label=1234", 3), ("dl_type=0x88e7", 3)] {
        let line = dump
            .lines()
            .find(|l| l.contains(flow))
            .unwrap_or_else(|| panic!("{flow} in {dump}"));
        let n: u64 = line
            .split("n_packets=")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        assert!(n >= at_least, "{line}");
    }
}

/// `iperf3` bytes received by the server, from a client's `-J` report.
fn iperf_received(r: &Run) -> u64 {
    let j: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:#?}"));
    j.pointer("/end/sum_received/bytes")
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

#[test]
fn tcp_crosses_an_mpls_and_pbb_core_with_offloads_on() {
    if !ready(&["iperf3"]) {
        return;
    }
    // h1 - sw1 = sw2 - h2: sw1 labels (MPLS) what goes to h2 and sw2 pops
    // it; sw2 wraps (PBB) what goes to h1 and sw1 unwraps it. The core
    // link has room for the encapsulations (MTU 1600). The hosts' veths
    // hand over TCP super-frames (TSO): behind an encapsulation the kernel
    // cannot cut them, so the switch does.
    let lab = TestLab::new("ofcore");
    let s = format!(
        "name: {}\nnodes:\n  sw1: {{ kind: switch, openflow: {{ listen: \"ptcp:0\", fail_mode: secure }} }}\n  sw2: {{ kind: switch, openflow: {{ listen: \"ptcp:0\", fail_mode: secure }} }}\n  h1: {{ kind: host }}\n  h2: {{ kind: host }}\nlinks:\n  - endpoints: [{{ node: h1, addresses: [10.83.0.1/24] }}, sw1]\n  - endpoints: [sw1, sw2]\n    mtu: 1600\n  - endpoints: [{{ node: h2, addresses: [10.83.0.2/24] }}, sw2]\n",
        lab.name
    );
    let path = lab.write("lab.yaml", &s);
    vnet(&["up", &path]).ok();
    let add = |switch: &str, flow: &str| {
        vnet(&["switch", &lab.name, switch, "add-flow", flow]).ok();
    };
    add(
        "sw1",
        "in_port=h1,ip,actions=push_mpls:0x8847,set_field:77->mpls_label,output:sw2",
    );
    add("sw1", "in_port=h1,arp,actions=output:sw2");
    add(
        "sw1",
        "in_port=sw2,dl_type=0x88e7,actions=pop_pbb,output:h1",
    );
    add("sw1", "in_port=sw2,arp,actions=output:h1");
    add(
        "sw2",
        "in_port=sw1,mpls,mpls_label=77,mpls_bos=1,actions=pop_mpls:0x0800,output:h2",
    );
    add("sw2", "in_port=sw1,arp,actions=output:h2");
    add(
        "sw2",
        "in_port=h2,ip,actions=push_pbb:0x88e7,set_field:0x77->pbb_isid,output:sw1",
    );
    add("sw2", "in_port=h2,arp,actions=output:sw1");
    for (port, reverse) in [("5301", false), ("5302", true)] {
        exec(&lab, "h2", &["iperf3", "-s", "-1", "-D", "-p", port]).ok();
        let mut ok = false;
        for _ in 0..50 {
            let mut args = vec!["timeout", "30", "iperf3", "-c", "10.83.0.2", "-p", port];
            args.extend_from_slice(&["-t", "1", "-J"]);
            if reverse {
                args.push("-R");
            }
            let r = exec(&lab, "h1", &args);
            if r.stdout.contains("Connection refused") || !r.success() && r.stdout.is_empty() {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            let got = iperf_received(&r);
            assert!(got > 10_000_000, "{got} bytes (reverse {reverse}): {r:#?}");
            ok = true;
            break;
        }
        assert!(ok, "iperf3 never ran (reverse {reverse})");
    }
    // The super-frames were cut: more frames left sw1 for the core than
    // came in from h1.
    let ports = vnet(&["switch", &lab.name, "sw1", "dump-ports", "--json"])
        .ok()
        .json();
    let stat = |name: &str, key: &str| {
        ports
            .as_array()
            .and_then(|a| a.iter().find(|p| p["name"] == name))
            .and_then(|p| p["stats"][key].as_u64())
            .unwrap_or_else(|| panic!("{name} {key} in {ports}"))
    };
    assert!(
        stat("sw2", "tx_packets") > stat("h1", "rx_packets"),
        "{ports}"
    );
}
