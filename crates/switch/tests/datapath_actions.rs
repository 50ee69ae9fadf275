//! Every OpenFlow 1.3 action but OUTPUT/GROUP/SET_FIELD (elsewhere: see
//! datapath_mem.rs, datapath_groups.rs, datapath_set_field.rs) run by the
//! datapath on crafted frames, the bytes that leave compared exactly with
//! frames built independently (vnet_wire's builders, plus the test's own
//! checksum code in `support`), checksums verified from scratch.

mod support;

use std::net::Ipv6Addr;

use support::{assert_checksums, patch, recompute, Sw, A, B, IP_A, IP_B};
use vnet_switch::datapath::PacketInReason;
use vnet_switch::group::GroupModCommand;
use vnet_switch::pipeline::PipelineError;
use vnet_wire::{build, MplsLse};

const V6_A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const V6_B: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

fn lse(label: u32, tc: u8, bos: bool, ttl: u8) -> MplsLse {
    MplsLse::new(label, tc, bos, ttl)
}

fn udp4(vlan: Option<u16>) -> Vec<u8> {
    build::udp4(A, B, vlan, IP_A, IP_B, 1000, 2000, b"payload")
}

fn tcp4() -> Vec<u8> {
    build::tcp4(A, B, None, IP_A, IP_B, 1000, 80, 0x18, b"data")
}

fn udp6() -> Vec<u8> {
    build::udp6(A, B, None, V6_A, V6_B, 1000, 2000, b"payload")
}

/// `frame` (IPv4 at 14) with TTL `ttl`, checksums recomputed.
fn ttl4(frame: &[u8], ttl: u8) -> Vec<u8> {
    recompute(&patch(frame, 14 + 8, &[ttl]))
}

/// A one-flow switch of three ports: `flow` on frames from port 1.
fn sw(flow: &str) -> Sw {
    let mut s = Sw::new(3);
    s.flows(&[flow]);
    s
}

// ------------------------------------------------------------ TTL copies

#[test]
fn copy_ttl_out_from_ip_and_from_the_next_label() {
    let mut s = sw("mpls,actions=copy_ttl_out,output:2");
    // IP (TTL 64) under the bottom of the stack → outer TTL 64.
    let f = build::mpls(&tcp4(), 0x8847, &[lse(100, 3, true, 10)]);
    let got = s.through(&f);
    assert_eq!(got, build::mpls(&tcp4(), 0x8847, &[lse(100, 3, true, 64)]));
    assert_checksums(&got);
    // IPv6 hop limit.
    let f = build::mpls(&udp6(), 0x8847, &[lse(7, 0, true, 1)]);
    assert_eq!(
        s.through(&f),
        build::mpls(&udp6(), 0x8847, &[lse(7, 0, true, 64)])
    );
    // MPLS to MPLS: the next entry's TTL.
    let f = build::mpls(&tcp4(), 0x8847, &[lse(1, 0, false, 5), lse(2, 0, true, 9)]);
    assert_eq!(
        s.through(&f),
        build::mpls(&tcp4(), 0x8847, &[lse(1, 0, false, 9), lse(2, 0, true, 9)])
    );
}

#[test]
fn copy_ttl_in_to_ipv4_with_its_checksum_ipv6_and_the_next_label() {
    let mut s = sw("mpls,actions=copy_ttl_in,output:2");
    let f = build::mpls(&tcp4(), 0x8847, &[lse(100, 0, true, 20)]);
    let got = s.through(&f);
    assert_eq!(
        got,
        build::mpls(&ttl4(&tcp4(), 20), 0x8847, &[lse(100, 0, true, 20)])
    );
    assert_checksums(&got);
    let f = build::mpls(&udp6(), 0x8847, &[lse(5, 0, true, 33)]);
    let got = s.through(&f);
    let want_ip = patch(&udp6(), 14 + 7, &[33]);
    assert_eq!(got, build::mpls(&want_ip, 0x8847, &[lse(5, 0, true, 33)]));
    assert_checksums(&got);
    let f = build::mpls(&tcp4(), 0x8847, &[lse(1, 0, false, 7), lse(2, 4, true, 50)]);
    assert_eq!(
        s.through(&f),
        build::mpls(&tcp4(), 0x8847, &[lse(1, 0, false, 7), lse(2, 4, true, 7)])
    );
}

// ------------------------------------------------------------ MPLS TTL

#[test]
fn set_mpls_ttl_sets_the_outermost_ttl() {
    let mut s = sw("mpls,actions=set_mpls_ttl(33),output:2");
    let f = build::mpls(&tcp4(), 0x8847, &[lse(1, 2, false, 7), lse(2, 4, true, 50)]);
    assert_eq!(
        s.through(&f),
        build::mpls(
            &tcp4(),
            0x8847,
            &[lse(1, 2, false, 33), lse(2, 4, true, 50)]
        )
    );
}

#[test]
fn dec_mpls_ttl_decrements_or_sends_invalid_ttl_to_the_controller() {
    let mut s = Sw::new(3);
    s.flows(&[
        "table=0,mpls,actions=goto_table:3",
        "table=3,cookie=0xabc,mpls,actions=dec_mpls_ttl,output:2",
    ]);
    let f = build::mpls(&tcp4(), 0x8847, &[lse(1, 0, true, 10)]);
    assert_eq!(
        s.through(&f),
        build::mpls(&tcp4(), 0x8847, &[lse(1, 0, true, 9)])
    );
    assert!(s.packet_ins().is_empty());
    // TTL 1 and 0: not forwarded; a packet-in, the frame unchanged.
    for ttl in [1, 0] {
        let f = build::mpls(&tcp4(), 0x8847, &[lse(1, 0, true, ttl)]);
        s.send(1, &f);
        assert!(s.out(2).is_empty(), "TTL {ttl} forwarded");
        let pins = s.packet_ins();
        assert_eq!(pins.len(), 1);
        assert_eq!(pins[0].reason, PacketInReason::InvalidTtl);
        // Named after the flow that decremented.
        assert_eq!((pins[0].table_id, pins[0].cookie), (3, 0xabc));
        assert_eq!((pins[0].in_port, &pins[0].data), (1, &f));
    }
}

// ------------------------------------------------------------ MPLS push/pop

#[test]
fn push_mpls_onto_ip_takes_the_ip_ttl_and_sets_bottom_of_stack() {
    let mut s = Sw::new(3);
    s.flows(&[
        "priority=10,ip,actions=push_mpls:0x8847,output:2",
        "priority=10,ipv6,actions=push_mpls:0x8848,output:2",
    ]);
    let v4 = ttl4(&tcp4(), 77);
    let got = s.through(&v4);
    // Label 0, TC 0, BOS, TTL 77; the IP packet untouched behind it.
    assert_eq!(got, build::mpls(&v4, 0x8847, &[lse(0, 0, true, 77)]));
    assert_checksums(&got);
    let v6 = patch(&udp6(), 14 + 7, &[3]);
    assert_eq!(
        s.through(&v6),
        build::mpls(&v6, 0x8848, &[lse(0, 0, true, 3)])
    );
}

#[test]
fn push_mpls_onto_mpls_copies_label_tc_and_ttl_without_bottom_of_stack() {
    let mut s = sw("mpls,actions=push_mpls:0x8848,output:2");
    let f = build::mpls(&tcp4(), 0x8847, &[lse(100, 5, true, 9)]);
    assert_eq!(
        s.through(&f),
        build::mpls(
            &tcp4(),
            0x8848,
            &[lse(100, 5, false, 9), lse(100, 5, true, 9)]
        )
    );
}

#[test]
fn push_mpls_goes_after_vlan_tags_and_onto_non_ip_with_ttl_64() {
    let mut s = Sw::new(3);
    s.flows(&[
        "priority=10,dl_vlan=10,actions=push_mpls:0x8847,set_field:1000->mpls_label,output:2",
        "priority=5,arp,actions=push_mpls:0x8847,output:2",
    ]);
    let tagged = udp4(Some(10));
    let got = s.through(&tagged);
    assert_eq!(got, build::mpls(&tagged, 0x8847, &[lse(1000, 0, true, 64)]));
    assert_eq!(&got[12..18], &[0x81, 0x00, 0x00, 0x0a, 0x88, 0x47]);
    let arp = build::arp_request(A, None, IP_A, IP_B);
    assert_eq!(
        s.through(&arp),
        build::mpls(&arp, 0x8847, &[lse(0, 0, true, 64)])
    );
}

#[test]
fn pop_mpls_of_the_bottom_entry_restores_the_ip_frame() {
    let mut s = sw("mpls,mpls_bos=1,actions=pop_mpls:0x0800,output:2");
    let ip = tcp4();
    let got = s.through(&build::mpls(&ip, 0x8847, &[lse(5, 0, true, 9)]));
    assert_eq!(got, ip);
    assert_checksums(&got);
    // Inside a VLAN tag.
    let tagged = udp4(Some(0x2005));
    let got = s.through(&build::mpls(&tagged, 0x8847, &[lse(5, 0, true, 9)]));
    assert_eq!(got, tagged);
}

#[test]
fn pop_mpls_of_a_non_bottom_entry_keeps_the_rest_of_the_stack() {
    // mplsm (0x8848) popped to mpls (0x8847): the ethertype as given.
    let mut s = sw("mplsm,mpls_bos=0,actions=pop_mpls:0x8847,output:2");
    let f = build::mpls(&tcp4(), 0x8848, &[lse(5, 1, false, 9), lse(6, 2, true, 8)]);
    assert_eq!(
        s.through(&f),
        build::mpls(&tcp4(), 0x8847, &[lse(6, 2, true, 8)])
    );
}

// ------------------------------------------------------------ PBB

#[test]
fn push_pbb_encapsulates_with_copied_addresses_pcp_and_isid() {
    let mut s = Sw::new(3);
    s.flows(&["actions=push_pbb:0x88e7,output:2"]);
    // Untagged: I-TAG all zero, B-addresses = customer addresses.
    let c = udp4(None);
    let got = s.through(&c);
    assert_eq!(got, build::pbb(A, B, None, 0, &c));
    assert_eq!(&got[..12], &c[..12]);
    assert_eq!(&got[18..30], &c[..12]);
    assert_checksums(&got);
    // Tagged with PCP 5 (and DEI): I-PCP 5, the tag inside.
    let t = udp4(Some(0xb00a));
    assert_eq!(s.through(&t), build::pbb(A, B, None, 5 << 29, &t));
    // Already PBB: the I-SID is copied.
    let p = build::pbb(A, B, None, 2 << 29 | 0xab_cdef, &c);
    assert_eq!(s.through(&p), build::pbb(A, B, None, 0xab_cdef, &p));
}

#[test]
fn push_pbb_then_a_backbone_tag_and_isid() {
    let mut s = sw(
        "actions=push_pbb:0x88e7,set_field:0x123456->pbb_isid,push_vlan:0x88a8,set_field:100->vlan_vid,output:2",
    );
    let c = udp4(Some(10));
    assert_eq!(s.through(&c), build::pbb(A, B, Some(100), 0x12_3456, &c));
}

#[test]
fn pop_pbb_leaves_the_customer_frame_with_or_without_a_backbone_tag() {
    let mut s = sw("dl_type=0x88e7,actions=pop_pbb,output:2");
    let c = build::tcp4(B, A, Some(7), IP_B, IP_A, 80, 1000, 0x12, b"x");
    assert_eq!(s.through(&build::pbb(A, B, None, 0x123, &c)), c);
    assert_eq!(s.through(&build::pbb(A, B, Some(0x3064), 0x123, &c)), c);
}

// ------------------------------------------------------------ VLAN

#[test]
fn push_vlan_8021ad_and_stacking_copies_vid_and_pcp_not_dei() {
    let mut s = Sw::new(3);
    s.flows(&[
        "priority=10,vlan_tci=0x0000/0x1000,actions=push_vlan:0x88a8,output:2",
        "priority=10,vlan_tci=0x1000/0x1000,actions=push_vlan:0x88a8,output:2",
    ]);
    // Untagged: a 0x88a8 tag with TCI 0.
    let f = udp4(None);
    let mut want = f[..12].to_vec();
    want.extend_from_slice(&[0x88, 0xa8, 0x00, 0x00]);
    want.extend_from_slice(&f[12..]);
    assert_eq!(s.through(&f), want);
    // Tagged PCP 5, DEI 1, VID 10: the new outer tag has PCP 5, VID 10,
    // DEI 0; the old one stays inside.
    let t = udp4(Some(0xb00a));
    let mut want = t[..12].to_vec();
    want.extend_from_slice(&[0x88, 0xa8, 0xa0, 0x0a]);
    want.extend_from_slice(&t[12..]);
    assert_eq!(s.through(&t), want);
}

// ------------------------------------------------------------ IP TTL

#[test]
fn set_nw_ttl_on_ipv4_with_its_checksum_and_ipv6() {
    let mut s = Sw::new(3);
    s.flows(&[
        "priority=10,ip,actions=mod_nw_ttl:9,output:2",
        "priority=10,ipv6,actions=mod_nw_ttl:9,output:2",
    ]);
    let got = s.through(&tcp4());
    assert_eq!(got, ttl4(&tcp4(), 9));
    assert_checksums(&got);
    assert_eq!(s.through(&udp6()), patch(&udp6(), 14 + 7, &[9]));
}

#[test]
fn dec_nw_ttl_decrements_or_sends_invalid_ttl_to_the_controller() {
    let mut s = Sw::new(3);
    s.flows(&[
        "cookie=0x5,priority=10,ip,actions=dec_ttl,output:2",
        "cookie=0x6,priority=10,ipv6,actions=write_actions(dec_ttl,output:2)",
    ]);
    let got = s.through(&tcp4());
    assert_eq!(got, ttl4(&tcp4(), 63));
    assert_checksums(&got);
    assert_eq!(s.through(&udp6()), patch(&udp6(), 14 + 7, &[63]));
    for (f, cookie) in [
        (ttl4(&tcp4(), 1), 5),
        (patch(&udp6(), 14 + 7, &[1]), 6),
        (ttl4(&tcp4(), 0), 5),
    ] {
        s.send(1, &f);
        assert!(s.out(2).is_empty());
        let pins = s.packet_ins();
        assert_eq!(pins.len(), 1);
        assert_eq!(pins[0].reason, PacketInReason::InvalidTtl);
        assert_eq!((pins[0].table_id, pins[0].cookie), (0, cookie));
        assert_eq!(pins[0].data, f);
    }
}

// ------------------------------------------------------------ SET_QUEUE

#[test]
fn set_queue_is_refused_there_being_no_queues() {
    let mut s = Sw::new(2);
    for text in [
        "actions=set_queue:0,output:2",
        "actions=write_actions(set_queue:7,output:2)",
    ] {
        let e = s.try_flow(text).unwrap_err();
        assert!(matches!(e, PipelineError::UnknownQueue(_)), "{text}: {e}");
        assert_eq!(e.ofp_error(), (2, 8), "OFPBAC_BAD_QUEUE");
    }
}

// ------------------------------------------------------------ action set

#[test]
fn the_action_set_runs_in_the_spec_order_whatever_the_writing_order() {
    // Written backwards: set, push, pop. Run: pop_mpls (IPv4 back), then
    // push_vlan, then set the new tag's VID and the IPv4 TTL.
    let mut s = sw("mpls,actions=write_actions(set_field:4096->vlan_vid,mod_nw_ttl:5,push_vlan:0x8100,pop_mpls:0x0800,output:2)");
    let f = build::mpls(&tcp4(), 0x8847, &[lse(9, 0, true, 30)]);
    let want = build::tcp4(A, B, Some(0), IP_A, IP_B, 1000, 80, 0x18, b"data");
    let want = recompute(&patch(&want, 18 + 8, &[5]));
    let got = s.through(&f);
    assert_eq!(got, want);
    assert_checksums(&got);
    // copy_ttl_in first, then pops; push_mpls, then copy_ttl_out and the
    // MPLS TTL decrement, then set_mpls_ttl... here: the popped-to IPv4
    // packet gets the label's TTL before the pop.
    let mut s = sw("mpls,mpls_bos=1,actions=write_actions(pop_mpls:0x0800,copy_ttl_in,output:2)");
    let got = s.through(&f);
    assert_eq!(got, ttl4(&tcp4(), 30));
    assert_checksums(&got);
    // push_mpls then copy_ttl_out then dec_mpls_ttl (IPv4 TTL 64 → 63).
    let mut s = sw("ip,actions=write_actions(dec_mpls_ttl,copy_ttl_out,push_mpls:0x8847,output:2)");
    assert_eq!(
        s.through(&tcp4()),
        build::mpls(&tcp4(), 0x8847, &[lse(0, 0, true, 63)])
    );
}

#[test]
fn group_buckets_are_action_sets_run_in_the_spec_order() {
    let mut s = Sw::new(3);
    s.group(GroupModCommand::Add, "group_id=1,type=all,bucket=set_field:7->mpls_label,push_mpls:0x8847,output:2,bucket=push_pbb:0x88e7,output:3");
    s.flows(&["ip,actions=group:1"]);
    let f = tcp4();
    s.send(1, &f);
    assert_eq!(
        s.out(2),
        vec![build::mpls(&f, 0x8847, &[lse(7, 0, true, 64)])]
    );
    assert_eq!(s.out(3), vec![build::pbb(A, B, None, 0, &f)]);
}

#[test]
fn outputs_before_an_encapsulation_keep_the_frame_as_it_was() {
    let mut s = Sw::new(4);
    s.flows(&[
        "ip,actions=output:3,push_mpls:0x8847,output:2,pop_mpls:0x0800,push_pbb:0x88e7,output:4",
    ]);
    let f = tcp4();
    s.send(1, &f);
    assert_eq!(s.out(3), vec![f.clone()]);
    assert_eq!(
        s.out(2),
        vec![build::mpls(&f, 0x8847, &[lse(0, 0, true, 64)])]
    );
    assert_eq!(s.out(4), vec![build::pbb(A, B, None, 0, &f)]);
}

// ------------------------------------------------------------ GSO

/// A TCP/IPv4 super-frame of 2500 payload bytes as a sender with TSO hands
/// it over: the virtio header (NEEDS_CSUM, GSO TCPV4, gso_size 1000) and
/// the frame with the pseudo-header sum in its checksum field.
fn tso_frame() -> (Vec<u8>, Vec<u8>) {
    let payload: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
    let big = build::tcp4(A, B, None, IP_A, IP_B, 1000, 80, 0x18, &payload);
    let (p, mut hdr) = support::partial(&big);
    hdr[1] = 1; // GSO TCPV4
    hdr[2..4].copy_from_slice(&54u16.to_le_bytes()); // hdr_len
    hdr[4..6].copy_from_slice(&1000u16.to_le_bytes()); // gso_size
    let mut wire = hdr.to_vec();
    wire.extend_from_slice(&p);
    (wire, payload)
}

/// Piece `k` of `payload` as the kernel would cut it: sequence number
/// advanced, IPv4 id `k`, PSH only on the last, checksums complete.
fn tso_piece(payload: &[u8], k: usize) -> Vec<u8> {
    let chunk = &payload[k * 1000..payload.len().min(k * 1000 + 1000)];
    let last = (k + 1) * 1000 >= payload.len();
    let flags = if last { 0x18 } else { 0x10 };
    let f = build::tcp4(A, B, None, IP_A, IP_B, 1000, 80, flags, chunk);
    let seq = build::TCP_SEQ.wrapping_add((k * 1000) as u32);
    let f = patch(&f, 14 + 20 + 4, &seq.to_be_bytes());
    recompute(&patch(&f, 14 + 4, &(k as u16).to_be_bytes()))
}

#[test]
fn an_encapsulated_super_frame_is_segmented_in_software() {
    // MPLS in front of the IP header: Linux cannot segment that for a
    // packet socket, so the switch sends complete pieces, each with a
    // header saying nothing is pending.
    let mut s = Sw::with_vnet_port(1);
    s.flows(&["in_port=2,ip,actions=push_mpls:0x8847,output:in_port"]);
    let (wire, payload) = tso_frame();
    s.send_vnet(&wire);
    let out = s.out_vnet();
    assert_eq!(out.len(), 3);
    for (k, got) in out.iter().enumerate() {
        assert_eq!(&got[..10], &[0; 10], "piece {k}: no offload pending");
        let want = build::mpls(&tso_piece(&payload, k), 0x8847, &[lse(0, 0, true, 64)]);
        assert_eq!(&got[10..], &want[..], "piece {k}");
        assert_checksums(&got[10..]);
    }
    // A plain IP super-frame to a vnet port goes out whole (the kernel
    // segments it); to a port without vnet headers, in pieces.
    let mut s = Sw::with_vnet_port(1);
    s.flows(&["in_port=2,ip,actions=output:in_port,output:1"]);
    s.send_vnet(&wire);
    assert_eq!(s.out_vnet(), vec![wire.clone()]);
    let plain = s.out(1);
    assert_eq!(plain.len(), 3);
    for (k, got) in plain.iter().enumerate() {
        assert_eq!(got, &tso_piece(&payload, k));
    }
}
