//! Builders → extract: every frame the builders make reads back as the
//! flow key it was built from, with correct checksums.

mod common;

use common::*;
use vnet_wire::flow::{FlowKey, VLAN_CFI};
use vnet_wire::icmpv6::na_flags;
use vnet_wire::{build, L3Kind, L4Kind};

fn key(vlan: Option<u16>, dl_type: u16) -> FlowKey {
    FlowKey {
        in_port: 1,
        dl_src: H1,
        dl_dst: H2,
        dl_type,
        vlan_tci: vlan.map_or(0, |v| v | VLAN_CFI),
        ..Default::default()
    }
}

#[test]
fn ipv4_transports() {
    for vlan in [None, Some(1), Some(0xefff)] {
        let base = FlowKey {
            ipv4_src: 0x0a00_0001,
            ipv4_dst: 0x0a00_0002,
            nw_ttl: 64,
            ..key(vlan, 0x0800)
        };
        let f = build::udp4(H1, H2, vlan, A1, A2, 1234, 53, b"hello");
        assert_eq!(
            layout(&f).0,
            FlowKey {
                nw_proto: 17,
                tp_src: 1234,
                tp_dst: 53,
                ..base
            }
        );
        let f = build::tcp4(H1, H2, vlan, A1, A2, 40000, 80, 0x1ff, b"");
        assert_eq!(
            layout(&f).0,
            FlowKey {
                nw_proto: 6,
                tp_src: 40000,
                tp_dst: 80,
                tcp_flags: 0x1ff,
                ..base
            }
        );
        let f = build::sctp4(H1, H2, vlan, A1, A2, 9, 10, &[0; 4]);
        assert_eq!(
            layout(&f).0,
            FlowKey {
                nw_proto: 132,
                tp_src: 9,
                tp_dst: 10,
                ..base
            }
        );
        let f = build::icmp4_echo(H1, H2, vlan, A1, A2, false, 1, 2, b"");
        assert_eq!(
            layout(&f).0,
            FlowKey {
                nw_proto: 1,
                tp_src: 0,
                tp_dst: 0,
                ..base
            }
        );
        let f = build::icmp4_echo(H1, H2, vlan, A1, A2, true, 1, 2, b"");
        let (k, l) = layout(&f);
        assert_eq!(
            k,
            FlowKey {
                nw_proto: 1,
                tp_src: 8,
                ..base
            }
        );
        let hl = if vlan.is_some() { 18 } else { 14 };
        assert_eq!(
            (l.l2_len, l.l3, l.l4, l.end, l.l3_kind, l.l4_kind),
            (
                hl,
                Some(hl),
                Some(hl + 20),
                f.len(),
                L3Kind::Ipv4,
                L4Kind::Icmpv4
            )
        );
    }
}

#[test]
fn arp() {
    let f = build::arp_request(H1, Some(42), A1, A2);
    assert_eq!(
        layout(&f).0,
        FlowKey {
            dl_dst: [0xff; 6],
            nw_proto: 1,
            ipv4_src: 0x0a00_0001,
            ipv4_dst: 0x0a00_0002,
            arp_sha: H1,
            ..key(Some(42), 0x0806)
        }
    );
    let f = build::arp_reply(H1, H2, None, A1, A2);
    assert_eq!(
        layout(&f).0,
        FlowKey {
            nw_proto: 2,
            ipv4_src: 0x0a00_0001,
            ipv4_dst: 0x0a00_0002,
            arp_sha: H1,
            arp_tha: H2,
            ..key(None, 0x0806)
        }
    );
}

#[test]
fn ipv6_transports() {
    for vlan in [None, Some(100)] {
        let base = FlowKey {
            ipv6_src: u128::from(B1),
            ipv6_dst: u128::from(B2),
            nw_ttl: 64,
            ..key(vlan, 0x86dd)
        };
        let f = build::udp6(H1, H2, vlan, B1, B2, 546, 547, b"x");
        assert_eq!(
            layout(&f).0,
            FlowKey {
                nw_proto: 17,
                tp_src: 546,
                tp_dst: 547,
                ..base
            }
        );
        let f = build::tcp6(H1, H2, vlan, B1, B2, 1, 2, 0x011, b"abc");
        assert_eq!(
            layout(&f).0,
            FlowKey {
                nw_proto: 6,
                tp_src: 1,
                tp_dst: 2,
                tcp_flags: 0x011,
                ..base
            }
        );
        let f = build::icmp6_echo(H1, H2, vlan, B1, B2, true, 1, 2, b"");
        assert_eq!(
            layout(&f).0,
            FlowKey {
                nw_proto: 58,
                tp_src: 128,
                ..base
            }
        );
        let f = build::icmp6_ns(H1, H2, vlan, B1, B2, B2, Some(H1));
        assert_eq!(
            layout(&f).0,
            FlowKey {
                nw_proto: 58,
                nw_ttl: 255,
                tp_src: 135,
                nd_target: u128::from(B2),
                nd_sll: H1,
                ..base
            }
        );
        let f = build::icmp6_na(H1, H2, vlan, B1, B2, B1, na_flags::SOLICITED, Some(H1));
        assert_eq!(
            layout(&f).0,
            FlowKey {
                nw_proto: 58,
                nw_ttl: 255,
                tp_src: 136,
                nd_target: u128::from(B1),
                nd_tll: H1,
                ..base
            }
        );
        let f = build::icmp6_ns(H1, H2, vlan, B1, B2, B2, None);
        assert_eq!(
            layout(&f).0,
            FlowKey {
                nw_proto: 58,
                nw_ttl: 255,
                tp_src: 135,
                nd_target: u128::from(B2),
                ..base
            }
        );
    }
}

#[test]
fn builders_make_correct_checksums() {
    for (name, f) in samples() {
        assert_eq!(f, recompute(&f), "{name}");
        let (_, l) = layout(&f);
        if let Some(l3) = l.l3 {
            if l.l3_kind == L3Kind::Ipv4 {
                assert!(
                    vnet_wire::Ipv4Packet::new_checked(&f[l3..])
                        .unwrap()
                        .verify_checksum(),
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn csum_partial_helper_round_trips() {
    for (name, f) in samples() {
        let mut p = f.clone();
        if let Some((start, off)) = build::make_csum_partial(&mut p) {
            vnet_wire::checksum::complete_partial(&mut p, start, off).unwrap();
            assert_eq!(p, f, "{name}");
        }
    }
}
