//! Golden frames: hand-written bytes, one comment per field, and the exact
//! flow key and layout `extract` must produce for each.

use vnet_wire::flow::*;
use vnet_wire::{extract, L3Kind, L4Kind, Layout};

fn run(frame: &[u8]) -> (FlowKey, Layout) {
    let mut k = FlowKey {
        metadata: 99,
        tunnel_id: 7,
        ..Default::default()
    }; // must be reset
    let l = extract(frame, 3, &mut k);
    (k, l)
}

const H1: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const H2: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

#[test]
fn qinq_ipv4_with_options_tcp_with_options() {
    #[rustfmt::skip]
    let frame = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // dst
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src
        0x88, 0xa8,                         // TPID 802.1ad (S-TAG)
        0xa0, 0x64,                         // PCP 5, DEI 0, VID 100
        0x81, 0x00,                         // TPID 802.1Q (C-TAG)
        0x30, 0x0a,                         // PCP 1, VID 10
        0x08, 0x00,                         // ethertype IPv4
        // IPv4 @22
        0x46,                               // version 4, IHL 6 (24 bytes)
        0x2e,                               // DSCP 11, ECN 2
        0x00, 0x30,                         // total length 48
        0x00, 0x01,                         // ident
        0x40, 0x00,                         // DF
        0x3f,                               // TTL 63
        0x06,                               // TCP
        0x00, 0x00,                         // header checksum (not checked)
        10, 1, 2, 3,                        // src 10.1.2.3
        10, 4, 5, 6,                        // dst 10.4.5.6
        0x01, 0x01, 0x01, 0x00,             // options: NOP NOP NOP EOL
        // TCP @46
        0x9c, 0x40,                         // src port 40000
        0x01, 0xbb,                         // dst port 443
        0x00, 0x00, 0x00, 0x01,             // seq
        0x00, 0x00, 0x00, 0x02,             // ack
        0x61, 0x12,                         // data offset 6, flags NS|ACK|SYN (0x112)
        0x10, 0x00,                         // window
        0x00, 0x00,                         // checksum
        0x00, 0x00,                         // urgent
        0x01, 0x01, 0x01, 0x01,             // options: NOPs
        0xee, 0xee,                         // Ethernet padding past the total length
    ];
    let (k, l) = run(&frame);
    assert_eq!(
        k,
        FlowKey {
            in_port: 3,
            dl_dst: H2,
            dl_src: H1,
            dl_type: 0x0800,
            vlan_tci: 0xa064 | VLAN_CFI,
            ipv4_src: 0x0a01_0203,
            ipv4_dst: 0x0a04_0506,
            nw_proto: 6,
            nw_tos: 0x2e,
            nw_ttl: 63,
            tp_src: 40000,
            tp_dst: 443,
            tcp_flags: 0x112,
            ..Default::default()
        }
    );
    assert_eq!(
        (k.ip_dscp(), k.ip_ecn(), k.vlan_vid(), k.vlan_pcp()),
        (11, 2, Some(100), 5)
    );
    assert_eq!(
        l,
        Layout {
            l2_len: 22,
            vlans: 2,
            l3: Some(22),
            l3_kind: L3Kind::Ipv4,
            l4: Some(46),
            l4_kind: L4Kind::Tcp,
            end: 70,
            fragment: false,
            routed: false
        }
    );
}

#[test]
fn untagged_udp4() {
    #[rustfmt::skip]
    let frame = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // dst broadcast
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src
        0x08, 0x00,                         // IPv4
        0x45, 0x00, 0x00, 0x1c,             // v4, IHL 5, TOS 0, total 28
        0x00, 0x00, 0x00, 0x00,             // ident, no fragment
        0x01, 0x11, 0x00, 0x00,             // TTL 1, UDP, checksum
        0, 0, 0, 0,                         // src 0.0.0.0
        255, 255, 255, 255,                 // dst broadcast
        0x00, 0x44, 0x00, 0x43,             // ports 68 -> 67
        0x00, 0x08, 0x00, 0x00,             // length 8, checksum none
    ];
    let (k, l) = run(&frame);
    assert_eq!(
        k,
        FlowKey {
            in_port: 3,
            dl_dst: [0xff; 6],
            dl_src: H1,
            dl_type: 0x0800,
            ipv4_dst: 0xffff_ffff,
            nw_proto: 17,
            nw_ttl: 1,
            tp_src: 68,
            tp_dst: 67,
            ..Default::default()
        }
    );
    assert_eq!(
        (l.l3, l.l4, l.l4_kind, l.end),
        (Some(14), Some(34), L4Kind::Udp, 42)
    );
}

#[test]
fn ipv4_fragments() {
    #[rustfmt::skip]
    let mut frame = vec![
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x1c,             // total 28
        0x00, 0x07,                         // ident
        0x20, 0x00,                         // MF, offset 0: first fragment
        0x40, 0x11, 0x00, 0x00,             // TTL 64, UDP
        10, 0, 0, 1, 10, 0, 0, 2,
        0x30, 0x39, 0x00, 0x35,             // ports 12345 -> 53
        0x00, 0x20, 0x00, 0x00,             // length 32 (more in later fragments)
    ];
    let (k, l) = run(&frame);
    assert_eq!(
        (k.nw_frag, k.tp_src, k.tp_dst, l.fragment, l.l4),
        (FRAG_ANY, 12345, 53, true, Some(34))
    );
    frame[20..22].copy_from_slice(&[0x00, 0x01]); // offset 1 (8 bytes), last fragment
    let (k, l) = run(&frame);
    assert_eq!(
        (k.nw_frag, k.nw_proto, k.tp_src, k.tp_dst),
        (FRAG_ANY | FRAG_LATER, 17, 0, 0)
    );
    assert_eq!(
        (l.l3, l.l4, l.l4_kind, l.fragment),
        (Some(14), None, L4Kind::None, true)
    );
}

#[test]
fn arp_request_with_vlan() {
    #[rustfmt::skip]
    let frame = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // dst broadcast
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src
        0x81, 0x00, 0x00, 0x14,             // 802.1Q, VID 20
        0x08, 0x06,                         // ARP
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, // Ethernet / IPv4, hlen 6, plen 4
        0x00, 0x01,                         // request
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // sha
        192, 168, 0, 1,                     // spa
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // tha
        192, 168, 0, 2,                     // tpa
    ];
    let (k, l) = run(&frame);
    assert_eq!(
        k,
        FlowKey {
            in_port: 3,
            dl_dst: [0xff; 6],
            dl_src: H1,
            dl_type: 0x0806,
            vlan_tci: 0x0014 | VLAN_CFI,
            ipv4_src: 0xc0a8_0001,
            ipv4_dst: 0xc0a8_0002,
            nw_proto: 1,
            arp_sha: H1,
            ..Default::default()
        }
    );
    assert_eq!(
        (l.l3, l.l3_kind, l.l4, l.end),
        (Some(18), L3Kind::Arp, None, 46)
    );
}

#[test]
fn icmp4_echo() {
    #[rustfmt::skip]
    let frame = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00, // ICMP
        10, 0, 0, 1, 10, 0, 0, 2,
        0x08, 0x00,                         // echo request, code 0
        0xf7, 0xfe,                         // checksum
        0x00, 0x01, 0x00, 0x00,             // ident 1, seq 0
    ];
    let (k, l) = run(&frame);
    assert_eq!(
        (k.nw_proto, k.tp_src, k.tp_dst, l.l4_kind),
        (1, 8, 0, L4Kind::Icmpv4)
    );
}

#[test]
fn ipv6_extension_headers_to_udp() {
    #[rustfmt::skip]
    let frame = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x01, // dst (IPv6 multicast MAC)
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src
        0x86, 0xdd,                         // IPv6
        // IPv6 @14
        0x6b, 0x8a, 0xbc, 0xde,             // version 6, TC 0xb8, flow label 0xabcde
        0x00, 0x28,                         // payload length 40
        0x00,                               // next: hop-by-hop
        0x05,                               // hop limit 5
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // src 2001:db8::1
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // dst 2001:db8::2
        // hop-by-hop @54
        0x3c, 0x00,                         // next: destination options, length 8
        0x01, 0x04, 0x00, 0x00, 0x00, 0x00, // PadN
        // destination options @62
        0x2c, 0x00,                         // next: fragment, length 8
        0x01, 0x04, 0x00, 0x00, 0x00, 0x00, // PadN
        // fragment @70
        0x11, 0x00,                         // next: UDP
        0x00, 0x01,                         // offset 0, M: first fragment
        0x00, 0x00, 0x00, 0x2a,             // ident
        // UDP @78
        0x02, 0x22, 0x02, 0x23,             // ports 546 -> 547
        0x00, 0x10, 0x00, 0x00,             // length 16 (rest in other fragments), checksum
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // payload
    ];
    let (k, l) = run(&frame);
    assert_eq!(
        k,
        FlowKey {
            in_port: 3,
            dl_dst: [0x33, 0x33, 0, 0, 0, 1],
            dl_src: H1,
            dl_type: 0x86dd,
            ipv6_src: 0x2001_0db8_0000_0000_0000_0000_0000_0001,
            ipv6_dst: 0x2001_0db8_0000_0000_0000_0000_0000_0002,
            ipv6_label: 0xabcde,
            nw_proto: 17,
            nw_tos: 0xb8,
            nw_ttl: 5,
            nw_frag: FRAG_ANY,
            tp_src: 546,
            tp_dst: 547,
            ipv6_exthdr: IEH_HOP | IEH_DEST | IEH_FRAG,
            ..Default::default()
        }
    );
    assert_eq!(
        (l.l3, l.l4, l.l4_kind, l.end, l.fragment),
        (Some(14), Some(78), L4Kind::Udp, 94, true)
    );
}

#[test]
fn ipv6_later_fragment() {
    #[rustfmt::skip]
    let frame = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd,
        0x60, 0x00, 0x00, 0x00,             // version 6
        0x00, 0x10,                         // payload length 16
        0x2c, 0x40,                         // next: fragment, hop limit 64
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // src fe80::1
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // dst fe80::2
        0x06, 0x00,                         // next: TCP
        0x00, 0xb8,                         // offset 23 (184 bytes), last fragment
        0x00, 0x00, 0x00, 0x2a,             // ident
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // data (not a TCP header)
    ];
    let (k, l) = run(&frame);
    assert_eq!(
        (k.nw_proto, k.nw_frag, k.tp_src, k.ipv6_exthdr),
        (44, FRAG_ANY | FRAG_LATER, 0, IEH_FRAG)
    );
    assert_eq!((l.l4, l.fragment), (None, true));
}

#[test]
fn neighbor_solicitation_and_advertisement() {
    #[rustfmt::skip]
    let mut frame = vec![
        0x33, 0x33, 0xff, 0x00, 0x00, 0x02, // dst: solicited-node multicast MAC
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src
        0x86, 0xdd,
        0x60, 0x00, 0x00, 0x00, 0x00, 0x20, // payload length 32
        0x3a, 0xff,                         // ICMPv6, hop limit 255
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,       // src fe80::1
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0, 0, 0x02, // dst ff02::1:ff00:2
        // ICMPv6 @54
        0x87, 0x00,                         // NS, code 0
        0x00, 0x00,                         // checksum (not checked)
        0x00, 0x00, 0x00, 0x00,             // reserved
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,       // target fe80::2
        0x01, 0x01,                         // option SLL, length 8
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // its address
    ];
    let (k, l) = run(&frame);
    assert_eq!(
        (k.nw_proto, k.tp_src, k.tp_dst, l.l4_kind, l.l4),
        (58, 135, 0, L4Kind::Icmpv6, Some(54))
    );
    assert_eq!(k.nd_target, 0xfe80_0000_0000_0000_0000_0000_0000_0002);
    assert_eq!((k.nd_sll, k.nd_tll), (H1, [0; 6]));

    // As an advertisement with a target link-layer address option.
    frame[54] = 0x88;
    frame[78] = 0x02;
    let (k, _) = run(&frame);
    assert_eq!((k.tp_src, k.nd_sll, k.nd_tll), (136, [0; 6], H1));

    // A zero-length option is malformed: ND fields stay zero, type/code stay.
    frame[79] = 0;
    let (k, _) = run(&frame);
    assert_eq!((k.tp_src, k.nd_target, k.nd_tll), (136, 0, [0; 6]));

    // A repeated address option is malformed too.
    frame[79] = 1;
    frame.extend_from_slice(&[0x02, 0x01, 0x02, 0, 0, 0, 0, 9]);
    frame[19] = 40;
    let (k, _) = run(&frame);
    assert_eq!((k.nd_target, k.nd_tll), (0, [0; 6]));
}

#[test]
fn sctp4() {
    #[rustfmt::skip]
    let frame = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x40, 0x84, 0x00, 0x00, // SCTP (132)
        10, 0, 0, 1, 10, 0, 0, 2,
        0x0b, 0x59, 0x0b, 0x5a,             // ports 2905 -> 2906
        0x00, 0x00, 0x00, 0x01,             // verification tag
        0x00, 0x00, 0x00, 0x00,             // CRC32c
    ];
    let (k, l) = run(&frame);
    assert_eq!(
        (k.nw_proto, k.tp_src, k.tp_dst, l.l4_kind, l.l4),
        (132, 2905, 2906, L4Kind::Sctp, Some(34))
    );
}

#[test]
fn mpls_and_pbb() {
    #[rustfmt::skip]
    let frame = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x88, 0x47,                         // MPLS unicast
        0x00, 0x01, 0x0b, 0x40,             // label 16, TC 5, BOS, TTL 64
        0x45, 0x00,                         // (IPv4 inside: not extracted)
    ];
    let (k, l) = run(&frame);
    assert_eq!(
        (
            k.dl_type,
            k.mpls_label(),
            k.mpls_tc(),
            k.mpls_bos(),
            k.mpls_lse & 0xff
        ),
        (0x8847, 16, 5, true, 64)
    );
    assert_eq!((l.l2_len, l.l3, k.nw_proto), (14, None, 0));

    #[rustfmt::skip]
    let frame = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x88, 0xe7,                         // PBB I-TAG
        0x60, 0x12, 0x34, 0x56,             // PCP 3, I-SID 0x123456
    ];
    let (k, _) = run(&frame);
    assert_eq!((k.dl_type, k.pbb_isid), (0x88e7, 0x12_3456));
}

#[test]
fn ieee_802_3_frames() {
    #[rustfmt::skip]
    let llc = [
        0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x00, 0x26,                         // 802.3 length 38
        0x42, 0x42, 0x03,                   // LLC: STP
        0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    let (k, l) = run(&llc);
    assert_eq!((k.dl_type, l.l2_len, l.l3), (0x05ff, 14, None));

    #[rustfmt::skip]
    let snap = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x00, 0x24,                         // 802.3 length 36
        0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, // LLC/SNAP, OUI 0
        0x08, 0x06,                         // ARP
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 1,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 10, 0, 0, 2,
    ];
    let (k, l) = run(&snap);
    assert_eq!(
        (k.dl_type, k.nw_proto, k.arp_tha, l.l2_len, l.l3),
        (0x0806, 2, H2, 22, Some(22))
    );
}

#[test]
fn truncated_frames_fill_what_is_there() {
    let (k, l) = run(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(
        (k.in_port, k.dl_dst, k.dl_src, k.dl_type, l.l2_len),
        (3, [1, 2, 3, 4, 5, 6], [0; 6], 0, 9)
    );
    assert_eq!(k.metadata, 0);
    // A VLAN TPID with no room for the tag: dl_type is the TPID.
    let (k, l) = run(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00]);
    assert_eq!((k.dl_type, k.vlan_tci, l.vlans), (0x8100, 0, 0));
    // Three tags: the third TPID becomes dl_type.
    #[rustfmt::skip]
    let (k, l) = run(&[
        2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1,
        0x88, 0xa8, 0x00, 0x01, 0x81, 0x00, 0x00, 0x02, 0x81, 0x00, 0x00, 0x03, 0x08, 0x00,
    ]);
    assert_eq!(
        (k.dl_type, k.vlan_tci, l.vlans, l.l2_len),
        (0x8100, 0x1001, 2, 22)
    );
    // IPv4 header cut short: no network fields at all.
    #[rustfmt::skip]
    let (k, l) = run(&[
        2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 10, 0, 0, 1, 10, 0,
    ]);
    assert_eq!(
        (k.dl_type, k.ipv4_src, k.nw_proto, l.l3),
        (0x0800, 0, 0, None)
    );
    // UDP header cut short: network fields, no ports.
    #[rustfmt::skip]
    let (k, l) = run(&[
        2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
        10, 0, 0, 1, 10, 0, 0, 2,
        0x00, 0x44, 0x00,                   // 3 bytes of UDP
    ]);
    assert_eq!(
        (k.ipv4_dst, k.nw_proto, k.tp_src, l.l3, l.l4),
        (0x0a00_0002, 17, 0, Some(14), None)
    );
}
