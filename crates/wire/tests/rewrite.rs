//! Every rewrite, checked byte for byte: the incrementally updated frame
//! must equal the same frame with all checksums recomputed from scratch,
//! and, where a builder can make the expected frame directly, that frame.
//! etherparse cross-checks the TCP/UDP checksums independently.

mod common;

use common::*;
use etherparse::{NetHeaders, PacketHeaders, TransportHeader};
use vnet_wire::checksum;
use vnet_wire::rewrite::*;
use vnet_wire::{build, L4Kind};

/// Checks every checksum of `frame` against a from-scratch recomputation.
#[track_caller]
fn assert_checksums(frame: &[u8]) {
    assert_eq!(
        frame,
        &recompute(frame)[..],
        "checksums differ from a recomputation"
    );
    etherparse_checksums(frame);
}

/// Independent check of the IPv4 header and TCP/UDP checksums.
#[track_caller]
fn etherparse_checksums(frame: &[u8]) {
    let Ok(h) = PacketHeaders::from_ethernet_slice(frame) else {
        return;
    };
    let payload = h.payload.slice();
    match (&h.net, &h.transport) {
        (Some(NetHeaders::Ipv4(ip, _)), t) => {
            assert_eq!(
                ip.header_checksum,
                ip.calc_header_checksum(),
                "etherparse: IPv4 header checksum"
            );
            match t {
                Some(TransportHeader::Udp(u)) if u.checksum != 0 => {
                    assert_eq!(
                        u.checksum,
                        u.calc_checksum_ipv4(ip, payload).unwrap(),
                        "etherparse: UDP"
                    )
                }
                Some(TransportHeader::Tcp(t)) => {
                    assert_eq!(
                        t.checksum,
                        t.calc_checksum_ipv4(ip, payload).unwrap(),
                        "etherparse: TCP"
                    )
                }
                _ => {}
            }
        }
        (Some(NetHeaders::Ipv6(ip, _)), t) => match t {
            Some(TransportHeader::Udp(u)) => {
                assert_eq!(
                    u.checksum,
                    u.calc_checksum_ipv6(ip, payload).unwrap(),
                    "etherparse: UDP6"
                )
            }
            Some(TransportHeader::Tcp(t)) => {
                assert_eq!(
                    t.checksum,
                    t.calc_checksum_ipv6(ip, payload).unwrap(),
                    "etherparse: TCP6"
                )
            }
            _ => {}
        },
        _ => {}
    }
}

#[test]
fn samples_start_with_correct_checksums() {
    for (name, f) in samples() {
        assert_eq!(f, recompute(&f), "{name}");
        etherparse_checksums(&f);
    }
}

#[test]
fn ipv4_addresses_match_a_frame_built_with_them() {
    let n1 = std::net::Ipv4Addr::new(192, 168, 77, 1);
    let n2 = std::net::Ipv4Addr::new(172, 16, 0, 254);
    for vlan in [None, Some(5)] {
        let mut f = build::udp4(H1, H2, vlan, A1, A2, 1234, 53, b"hello udp");
        let (_, l) = layout(&f);
        set_ipv4_src(&mut f, &l, n1, false).unwrap();
        set_ipv4_dst(&mut f, &l, n2, false).unwrap();
        assert_eq!(f, build::udp4(H1, H2, vlan, n1, n2, 1234, 53, b"hello udp"));

        let mut f = build::tcp4(H1, H2, vlan, A1, A2, 1, 2, 0x10, b"x");
        let (_, l) = layout(&f);
        set_ipv4_dst(&mut f, &l, n2, false).unwrap();
        set_ipv4_src(&mut f, &l, n1, false).unwrap();
        assert_eq!(f, build::tcp4(H1, H2, vlan, n1, n2, 1, 2, 0x10, b"x"));

        let mut f = build::icmp4_echo(H1, H2, vlan, A1, A2, true, 1, 2, b"abc");
        let (_, l) = layout(&f);
        set_ipv4_src(&mut f, &l, n1, false).unwrap();
        assert_eq!(
            f,
            build::icmp4_echo(H1, H2, vlan, n1, A2, true, 1, 2, b"abc")
        );

        let mut f = build::sctp4(H1, H2, vlan, A1, A2, 5, 6, &[1, 2, 3, 4]);
        let (_, l) = layout(&f);
        set_ipv4_src(&mut f, &l, n1, false).unwrap();
        assert_eq!(f, build::sctp4(H1, H2, vlan, n1, A2, 5, 6, &[1, 2, 3, 4]));
    }
}

#[test]
fn ipv6_addresses_match_a_frame_built_with_them() {
    let n1: std::net::Ipv6Addr = "fd00::abcd:1".parse().unwrap();
    let n2: std::net::Ipv6Addr = "fe80::ffff:ffff:ffff:fffe".parse().unwrap();
    let mut f = build::udp6(H1, H2, None, B1, B2, 546, 547, b"dhcpv6");
    let (_, l) = layout(&f);
    set_ipv6_src(&mut f, &l, n1, false).unwrap();
    set_ipv6_dst(&mut f, &l, n2, false).unwrap();
    assert_eq!(f, build::udp6(H1, H2, None, n1, n2, 546, 547, b"dhcpv6"));

    let mut f = build::tcp6(H1, H2, Some(3), B1, B2, 22, 50000, 0x12, b"");
    let (_, l) = layout(&f);
    set_ipv6_dst(&mut f, &l, n2, false).unwrap();
    assert_eq!(
        f,
        build::tcp6(H1, H2, Some(3), B1, n2, 22, 50000, 0x12, b"")
    );

    let mut f = build::icmp6_ns(H1, H2, None, B1, B2, B2, Some(H1));
    let (_, l) = layout(&f);
    set_ipv6_src(&mut f, &l, n1, false).unwrap();
    assert_eq!(f, build::icmp6_ns(H1, H2, None, n1, B2, B2, Some(H1)));
}

#[test]
fn ports_match_a_frame_built_with_them() {
    for vlan in [None, Some(0x0fff)] {
        let mut f = build::udp4(H1, H2, vlan, A1, A2, 1234, 53, b"hello udp");
        let (_, l) = layout(&f);
        set_tp_src(&mut f, &l, 0xffff, false).unwrap();
        set_tp_dst(&mut f, &l, 0, false).unwrap();
        assert_eq!(
            f,
            build::udp4(H1, H2, vlan, A1, A2, 0xffff, 0, b"hello udp")
        );

        let mut f = build::tcp6(H1, H2, vlan, B1, B2, 22, 50000, 0x12, b"data");
        let (_, l) = layout(&f);
        set_tp_src(&mut f, &l, 2222, false).unwrap();
        set_tp_dst(&mut f, &l, 8080, false).unwrap();
        assert_eq!(
            f,
            build::tcp6(H1, H2, vlan, B1, B2, 2222, 8080, 0x12, b"data")
        );

        let mut f = build::sctp4(H1, H2, vlan, A1, A2, 5, 6, &[1, 2, 3, 4]);
        let (_, l) = layout(&f);
        set_tp_src(&mut f, &l, 36412, false).unwrap();
        set_tp_dst(&mut f, &l, 38412, false).unwrap();
        assert_eq!(
            f,
            build::sctp4(H1, H2, vlan, A1, A2, 36412, 38412, &[1, 2, 3, 4])
        );
    }
}

/// A rewrite bound to its layout; true when it applied.
type Check = Box<dyn Fn(&mut Vec<u8>) -> bool>;

#[test]
fn every_ip_field_rewrite_keeps_checksums_exact() {
    for (name, f0) in samples() {
        let (k0, l) = layout(&f0);
        let ops: Vec<(&str, Check)> = vec![
            ("dscp", Box::new(move |f| set_ip_dscp(f, &l, 46).is_ok())),
            ("ecn", Box::new(move |f| set_ip_ecn(f, &l, 3).is_ok())),
            ("ttl", Box::new(move |f| set_ip_ttl(f, &l, 17).is_ok())),
            (
                "dec_ttl",
                Box::new(move |f| dec_ttl(f, &l) == Ok(DecTtl::Decremented)),
            ),
            (
                "v4src",
                Box::new(move |f| set_ipv4_src(f, &l, [255, 255, 255, 255].into(), false).is_ok()),
            ),
            (
                "v4dst",
                Box::new(move |f| set_ipv4_dst(f, &l, [0, 0, 0, 0].into(), false).is_ok()),
            ),
            (
                "v6src",
                Box::new(move |f| set_ipv6_src(f, &l, "::".parse().unwrap(), false).is_ok()),
            ),
            (
                "v6dst",
                Box::new(move |f| {
                    set_ipv6_dst(f, &l, "ffff::ffff".parse().unwrap(), false).is_ok()
                }),
            ),
            (
                "flabel",
                Box::new(move |f| set_ipv6_flabel(f, &l, 0xfffff).is_ok()),
            ),
            (
                "tp_src",
                Box::new(move |f| set_tp_src(f, &l, 7, false).is_ok()),
            ),
            (
                "tp_dst",
                Box::new(move |f| set_tp_dst(f, &l, 65535, false).is_ok()),
            ),
            (
                "icmp_type",
                Box::new(move |f| set_icmp_type(f, &l, 3, false).is_ok()),
            ),
            (
                "icmp_code",
                Box::new(move |f| set_icmp_code(f, &l, 255, false).is_ok()),
            ),
            (
                "nd_target",
                Box::new(move |f| set_nd_target(f, &l, "fe80::99".parse().unwrap(), false).is_ok()),
            ),
            (
                "nd_sll",
                Box::new(move |f| set_nd_sll(f, &l, [0xff; 6], false).is_ok()),
            ),
            (
                "nd_tll",
                Box::new(move |f| set_nd_tll(f, &l, [0x0e; 6], false).is_ok()),
            ),
        ];
        let mut applied = 0;
        for (op, apply) in &ops {
            let mut f = f0.clone();
            if apply(&mut f) {
                applied += 1;
                assert_ne!(f, f0, "{name}/{op}: nothing changed");
                assert_eq!(f, recompute(&f), "{name}/{op}");
                etherparse_checksums(&f);
            } else {
                assert_eq!(f, f0, "{name}/{op}: a failed rewrite changed the frame");
            }
        }
        // Rewrites compose: apply them all in sequence.
        let mut f = f0.clone();
        for (_, apply) in &ops {
            apply(&mut f);
        }
        assert_eq!(f, recompute(&f), "{name}: all ops");
        assert!(
            applied >= if k0.dl_type == 0x0806 { 0 } else { 4 },
            "{name}: only {applied} ops applied"
        );
    }
}

#[test]
fn rewritten_fields_are_what_extract_reads_back() {
    let mut f = build::tcp4(H1, H2, Some(10), A1, A2, 1, 2, 0x02, b"");
    let (_, l) = layout(&f);
    set_eth_src(&mut f, H2).unwrap();
    set_eth_dst(&mut f, [0xff; 6]).unwrap();
    set_vlan_vid(&mut f, &l, 4000).unwrap();
    set_vlan_pcp(&mut f, &l, 6).unwrap();
    set_ip_dscp(&mut f, &l, 10).unwrap();
    set_ip_ecn(&mut f, &l, 1).unwrap();
    set_ip_ttl(&mut f, &l, 9).unwrap();
    set_tp_dst(&mut f, &l, 443, false).unwrap();
    let (k, l2) = layout(&f);
    assert_eq!(l2, l);
    assert_eq!(
        (k.dl_src, k.dl_dst, k.vlan_vid(), k.vlan_pcp()),
        (H2, [0xff; 6], Some(4000), 6)
    );
    assert_eq!(
        (k.ip_dscp(), k.ip_ecn(), k.nw_ttl, k.tp_dst),
        (10, 1, 9, 443)
    );
    assert_checksums(&f);

    let mut f = build::udp6(H1, H2, None, B1, B2, 1, 2, b"");
    let (_, l) = layout(&f);
    set_ipv6_flabel(&mut f, &l, 0x12345).unwrap();
    set_ip_dscp(&mut f, &l, 63).unwrap();
    set_ip_ecn(&mut f, &l, 2).unwrap();
    let (k, _) = layout(&f);
    assert_eq!((k.ipv6_label, k.nw_tos), (0x12345, 0xfe));

    let mut f = build::arp_request(H1, None, A1, A2);
    let (_, l) = layout(&f);
    set_arp_op(&mut f, &l, 2).unwrap();
    set_arp_sha(&mut f, &l, H2).unwrap();
    set_arp_tha(&mut f, &l, H1).unwrap();
    set_arp_spa(&mut f, &l, A2).unwrap();
    set_arp_tpa(&mut f, &l, A1).unwrap();
    let (k, _) = layout(&f);
    assert_eq!(
        (k.nw_proto, k.arp_sha, k.arp_tha, k.ipv4_src, k.ipv4_dst),
        (2, H2, H1, 0x0a00_0002, 0x0a00_0001)
    );

    let mut f = build::icmp6_na(H2, H1, None, B2, B1, B2, 0x60, Some(H2));
    let (_, l) = layout(&f);
    set_nd_tll(&mut f, &l, H1, false).unwrap();
    set_nd_target(&mut f, &l, B1, false).unwrap();
    // This NA has no source link-layer address option to change.
    assert_eq!(set_nd_sll(&mut f, &l, H1, false), Err(RewriteError::NotNd));
    let (k, _) = layout(&f);
    assert_eq!((k.nd_tll, k.nd_target), (H1, u128::from(B1)));
    assert_eq!(f, build::icmp6_na(H2, H1, None, B2, B1, B1, 0x60, Some(H1)));
}

#[test]
fn udp_without_checksum_keeps_zero() {
    let mut f = build::udp4(H1, H2, None, A1, A2, 1234, 53, b"no checksum");
    let (_, l) = layout(&f);
    let c = l.l4.unwrap() + 6;
    f[c..c + 2].fill(0);
    set_ipv4_src(&mut f, &l, [1, 2, 3, 4].into(), false).unwrap();
    set_tp_dst(&mut f, &l, 5353, false).unwrap();
    assert_eq!(&f[c..c + 2], &[0, 0]);
    assert_eq!(f, recompute(&f));
}

#[test]
fn udp_checksum_that_updates_to_zero_is_written_ffff() {
    // Choose a payload word so that after the port change the checksum
    // computed from scratch is 0 (sent as 0xffff).
    let mut f = build::udp4(H1, H2, None, A1, A2, 1, 2, &[0, 0]);
    let (_, l) = layout(&f);
    let l4 = l.l4.unwrap();
    let mut target = build::udp4(H1, H2, None, A1, A2, 1, 3, &[0, 0]);
    let c = u16::from_be_bytes([target[l4 + 6], target[l4 + 7]]);
    // A payload equal to the checksum makes the total sum 0xffff.
    f[l4 + 8..l4 + 10].copy_from_slice(&c.to_be_bytes());
    target[l4 + 8..l4 + 10].copy_from_slice(&c.to_be_bytes());
    let f = recompute(&f);
    let target = recompute(&target);
    assert_eq!(&target[l4 + 6..l4 + 8], &[0xff, 0xff]);
    let mut g = f.clone();
    set_tp_dst(&mut g, &l, 3, false).unwrap();
    assert_eq!(g, target);
}

/// Found by the `extract` fuzz target: an ICMPv4 echo request with
/// identifier, sequence and data all zero becomes an all-zero message when
/// its type is set to echo reply; its checksum is 0xffff (from scratch),
/// not the 0x0000 a plain incremental update gives (which a receiver
/// summing the message rejects).
#[test]
fn icmpv4_message_that_becomes_all_zeros_gets_checksum_ffff() {
    let f = build::icmp4_echo(H1, H2, None, A1, A2, true, 0, 0, b"");
    let (_, l) = layout(&f);
    let l4 = l.l4.unwrap();
    for partial in [false, true] {
        let mut g = f.clone();
        set_icmp_type(&mut g, &l, 0, partial).unwrap();
        if partial {
            // Offloaded: the field is left alone.
            assert_eq!(&g[l4 + 2..l4 + 4], &f[l4 + 2..l4 + 4]);
            continue;
        }
        assert_eq!(&g[l4..], &[0, 0, 0xff, 0xff, 0, 0, 0, 0]);
        assert_eq!(g, recompute(&g));
        assert!(vnet_wire::Icmpv4Packet::new_checked(&g[l4..])
            .unwrap()
            .verify_checksum());
        // And back: a non-zero message again, from the 0xffff form.
        set_icmp_type(&mut g, &l, 8, false).unwrap();
        assert_eq!(g, f);
    }
}

#[test]
fn dec_ttl_decrements_or_reports_expiry() {
    let mut f = build::udp4(H1, H2, None, A1, A2, 1, 2, b"");
    let (_, l) = layout(&f);
    for want in (1..64).rev() {
        assert_eq!(dec_ttl(&mut f, &l), Ok(DecTtl::Decremented));
        assert_eq!(layout(&f).0.nw_ttl, want);
        assert_checksums(&f);
    }
    let before = f.clone();
    assert_eq!(dec_ttl(&mut f, &l), Ok(DecTtl::Expired));
    assert_eq!(f, before);
    set_ip_ttl(&mut f, &l, 0).unwrap();
    assert_eq!(dec_ttl(&mut f, &l), Ok(DecTtl::Expired));

    let mut f = build::icmp6_ns(H1, H2, None, B1, B2, B2, None);
    let (_, l) = layout(&f);
    assert_eq!(dec_ttl(&mut f, &l), Ok(DecTtl::Decremented));
    assert_eq!(layout(&f).0.nw_ttl, 254);
    assert_checksums(&f);

    let mut f = build::arp_request(H1, None, A1, A2);
    let (_, l) = layout(&f);
    assert_eq!(dec_ttl(&mut f, &l), Err(RewriteError::NotIp));
}

#[test]
fn push_and_pop_vlan() {
    let untagged = build::udp4(H1, H2, None, A1, A2, 1, 2, b"payload");
    let tagged = build::udp4(H1, H2, Some(0x6005), A1, A2, 1, 2, b"payload");

    // Push an explicit TCI onto an untagged frame, then pop it again.
    let mut f = untagged.clone();
    let (_, mut l) = layout(&f);
    push_vlan(&mut f, &mut l, 0x8100, Some(0x6005)).unwrap();
    assert_eq!(f, tagged);
    assert_eq!(l, layout(&f).1);
    pop_vlan(&mut f, &mut l).unwrap();
    assert_eq!(f, untagged);
    assert_eq!(l, layout(&f).1);
    assert_eq!(pop_vlan(&mut f, &mut l), Err(RewriteError::NoVlan));

    // OpenFlow push onto an untagged frame: VID 0, PCP 0; then set-field.
    let mut f = untagged.clone();
    let (_, mut l) = layout(&f);
    push_vlan(&mut f, &mut l, 0x8100, None).unwrap();
    assert_eq!(layout(&f).0.vlan_tci, 0x1000);
    set_vlan_vid(&mut f, &l, 5).unwrap();
    set_vlan_pcp(&mut f, &l, 3).unwrap();
    assert_eq!(f, tagged);

    // OpenFlow push onto a tagged frame: the new outer tag copies VID and
    // PCP (not DEI) of the old outer tag; TPID 0x88a8 (QinQ).
    let mut f = build::udp4(H1, H2, Some(0x7005), A1, A2, 1, 2, b"payload"); // DEI set
    let (_, mut l) = layout(&f);
    push_vlan(&mut f, &mut l, 0x88a8, None).unwrap();
    assert_eq!(
        &f[12..22],
        &[0x88, 0xa8, 0x60, 0x05, 0x81, 0x00, 0x70, 0x05, 0x08, 0x00]
    );
    let (k, l2) = layout(&f);
    assert_eq!(
        (k.vlan_tci, l2.vlans, l2.l3, l2.l4),
        (0x7005, 2, Some(22), Some(42))
    );
    assert_eq!(l2, l);
    set_ipv4_src(&mut f, &l, A2, false).unwrap(); // offsets still right
    assert_checksums(&f);
    pop_vlan(&mut f, &mut l).unwrap();
    assert_eq!(layout(&f).0.vlan_tci, 0x7005 | 0x1000);

    assert_eq!(
        push_vlan(&mut f, &mut l, 0x0800, None),
        Err(RewriteError::BadTpid(0x0800))
    );
    let mut short = vec![1, 2, 3];
    assert_eq!(
        push_vlan(&mut short, &mut l, 0x8100, None),
        Err(RewriteError::Truncated)
    );
    assert_eq!(short, vec![1, 2, 3]);
}

#[test]
fn errors_leave_the_frame_alone() {
    let f0 = build::icmp4_echo(H1, H2, None, A1, A2, true, 1, 1, b"");
    let (_, l) = layout(&f0);
    let mut f = f0.clone();
    assert_eq!(set_tp_src(&mut f, &l, 1, false), Err(RewriteError::NoPorts));
    assert_eq!(
        set_ipv6_src(&mut f, &l, B1, false),
        Err(RewriteError::NotIpv6)
    );
    assert_eq!(set_ipv6_flabel(&mut f, &l, 1), Err(RewriteError::NotIpv6));
    assert_eq!(set_vlan_vid(&mut f, &l, 1), Err(RewriteError::NoVlan));
    assert_eq!(
        set_nd_target(&mut f, &l, B1, false),
        Err(RewriteError::NotNd)
    );
    assert_eq!(set_arp_op(&mut f, &l, 1), Err(RewriteError::NotArp));
    let u = build::udp6(H1, H2, None, B1, B2, 1, 2, b"");
    let (_, lu) = layout(&u);
    assert_eq!(
        set_ipv4_src(&mut f, &lu, A1, false),
        Err(RewriteError::NotIpv4)
    );
    assert_eq!(
        set_icmp_type(&mut f, &lu, 1, false),
        Err(RewriteError::NotIcmp)
    );
    assert_eq!(f, f0);
    // A layout from a longer frame applied to a short one: no panic.
    let mut short = f0[..20].to_vec();
    assert_eq!(
        set_ipv4_src(&mut short, &l, A2, false),
        Err(RewriteError::Truncated)
    );
    assert_eq!(
        set_icmp_code(&mut short, &l, 1, false),
        Err(RewriteError::Truncated)
    );
    assert!(set_ip_ttl(&mut short, &l, 1).is_err());
}

#[test]
fn sctp_port_change_on_a_fragment_is_refused() {
    let mut f = build::sctp4(H1, H2, None, A1, A2, 5, 6, &[1, 2, 3, 4]);
    f[20] |= 0x20; // MF: a first fragment
    let f = recompute(&f);
    let (k, l) = layout(&f);
    assert_eq!((k.nw_frag, l.l4_kind), (1, L4Kind::Sctp));
    let mut g = f.clone();
    assert_eq!(
        set_tp_src(&mut g, &l, 1, false),
        Err(RewriteError::SctpFragment)
    );
    assert_eq!(g, f);
    // With the CRC offloaded it is the sender's job: allowed.
    set_tp_src(&mut g, &l, 1, true).unwrap();
    assert_eq!(layout(&g).0.tp_src, 1);
}

/// CHECKSUM_PARTIAL: the field holds the pseudo-header sum; address
/// rewrites keep it equal to the new pseudo-header sum, port rewrites leave
/// it, and completing it gives exactly the fully checksummed frame.
#[test]
fn csum_partial_rewrites() {
    type Op = Box<dyn Fn(&mut Vec<u8>, &vnet_wire::Layout, bool)>;
    let ops: Vec<(&str, Op)> = vec![
        (
            "v4src",
            Box::new(|f, l, p| set_ipv4_src(f, l, [192, 0, 2, 1].into(), p).unwrap()),
        ),
        (
            "v4dst",
            Box::new(|f, l, p| set_ipv4_dst(f, l, [198, 51, 100, 255].into(), p).unwrap()),
        ),
        (
            "ports",
            Box::new(|f, l, p| {
                set_tp_src(f, l, 61000, p).unwrap();
                set_tp_dst(f, l, 8443, p).unwrap()
            }),
        ),
        ("ttl", Box::new(|f, l, _| set_ip_ttl(f, l, 3).unwrap())),
    ];
    let ops6: Vec<(&str, Op)> = vec![
        (
            "v6src",
            Box::new(|f, l, p| set_ipv6_src(f, l, "2001:db8:ffff::1".parse().unwrap(), p).unwrap()),
        ),
        (
            "v6dst",
            Box::new(|f, l, p| set_ipv6_dst(f, l, "fd12:3456::9".parse().unwrap(), p).unwrap()),
        ),
        ("ports", Box::new(|f, l, p| set_tp_src(f, l, 1, p).unwrap())),
    ];
    let frames4 = [
        build::tcp4(H1, H2, None, A1, A2, 40000, 80, 0x18, &[0xab; 1000]),
        build::udp4(H1, H2, Some(7), A1, A2, 1234, 53, b"odd length payload"),
    ];
    let frames6 = [
        build::tcp6(H1, H2, None, B1, B2, 40000, 80, 0x18, &[0xcd; 333]),
        build::udp6(H1, H2, None, B1, B2, 546, 547, b"x"),
    ];
    for (frames, ops) in [(&frames4[..], &ops), (&frames6[..], &ops6)] {
        for full in frames {
            for (name, op) in ops.iter() {
                let (_, l) = layout(full);
                // Reference: the fully checksummed frame rewritten normally.
                let mut want = full.clone();
                op(&mut want, &l, false);
                // The same frame as handed over with checksum offload.
                let mut partial = full.clone();
                let (start, off) = build::make_csum_partial(&mut partial).unwrap();
                op(&mut partial, &l, true);
                // The field is now the pseudo-header sum of the new headers.
                let mut expect_partial = want.clone();
                build::make_csum_partial(&mut expect_partial).unwrap();
                assert_eq!(partial, expect_partial, "{name}: partial field");
                // Completing it as a NIC would gives the full checksum.
                checksum::complete_partial(&mut partial, start, off).unwrap();
                assert_eq!(partial, want, "{name}: completed");
                assert_checksums(&want);
            }
        }
    }
}

#[test]
fn partial_udp_checksum_of_zero_value_is_still_updated() {
    // In partial mode the field is a sum, never "no checksum".
    let mut f = build::udp4(H1, H2, None, A1, A2, 1, 2, b"");
    let (_, l) = layout(&f);
    let at = l.l4.unwrap() + 6;
    f[at..at + 2].copy_from_slice(&[0, 0]);
    set_ipv4_src(&mut f, &l, [0, 0, 0, 1].into(), true).unwrap();
    assert_ne!(&f[at..at + 2], &[0, 0]);
}
