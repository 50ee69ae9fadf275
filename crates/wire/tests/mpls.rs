//! MPLS actions: push/pop with the OpenFlow field-copy rules, label/TC/TTL
//! set-field, TTL decrement and copy in/out, checked byte for byte.

mod common;

use common::*;
use vnet_wire::build;
use vnet_wire::rewrite::*;
use vnet_wire::MplsLse;

#[test]
fn push_set_and_pop_round_trip() {
    let orig = build::tcp4(H1, H2, Some(10), A1, A2, 1, 2, 0x10, b"mpls");
    let mut f = orig.clone();
    let (_, mut l) = layout(&f);

    // First push: inside the VLAN tag, label 0, TC 0, BOS, TTL from IP (64).
    push_mpls(&mut f, &mut l, 0x8847).unwrap();
    assert_eq!(&f[..16], &orig[..16], "Ethernet and tag unchanged");
    #[rustfmt::skip]
    assert_eq!(&f[16..22], &[
        0x88, 0x47,             // ethertype MPLS
        0x00, 0x00, 0x01, 0x40, // label 0, TC 0, BOS, TTL 64
    ]);
    assert_eq!(&f[22..], &orig[18..]);
    let (k, l2) = layout(&f);
    assert_eq!(l2, l);
    assert_eq!(
        (k.dl_type, k.mpls_lse, l.l3, k.vlan_vid()),
        (0x8847, 0x0000_0140, None, Some(10))
    );
    // IP fields are behind the label stack now.
    assert_eq!(
        set_ipv4_src(&mut f, &l, A2, false),
        Err(RewriteError::NotIpv4)
    );

    set_mpls_label(&mut f, &l, 0xabcde).unwrap();
    set_mpls_tc(&mut f, &l, 5).unwrap();
    assert_eq!(layout(&f).0.mpls_lse, MplsLse::new(0xabcde, 5, true, 64).0);

    // Second push copies label, TC and TTL; BOS clear.
    push_mpls(&mut f, &mut l, 0x8848).unwrap();
    let (k, _) = layout(&f);
    assert_eq!(
        (k.dl_type, k.mpls_lse),
        (0x8848, MplsLse::new(0xabcde, 5, false, 64).0)
    );
    set_mpls_ttl(&mut f, &l, 9).unwrap();
    assert_eq!(dec_mpls_ttl(&mut f, &l), Ok(DecTtl::Decremented));
    assert_eq!(layout(&f).0.mpls_lse & 0xff, 8);

    // copy_ttl_in: outer (8) into the next entry.
    copy_ttl_in(&mut f, &l).unwrap();
    assert_eq!(f[25], 8);

    pop_mpls(&mut f, &mut l, 0x8847).unwrap();
    assert_eq!(layout(&f).0.mpls_lse, MplsLse::new(0xabcde, 5, true, 8).0);
    pop_mpls(&mut f, &mut l, 0x0800).unwrap();
    // Back to IPv4; the TTL was never copied into IP, so the frame is the original.
    assert_eq!(f, orig);
    assert_eq!(l, layout(&orig).1);
    assert_eq!(pop_mpls(&mut f, &mut l, 0x0800), Err(RewriteError::NotMpls));
}

#[test]
fn ttl_copies_with_ip_inside() {
    let mut f = build::udp4(H1, H2, None, A1, A2, 1, 2, b"x");
    let (_, mut l) = layout(&f);
    push_mpls(&mut f, &mut l, 0x8847).unwrap();
    set_mpls_ttl(&mut f, &l, 200).unwrap();
    copy_ttl_in(&mut f, &l).unwrap(); // into the IPv4 header, checksum updated
    pop_mpls(&mut f, &mut l, 0x0800).unwrap();
    assert_eq!(layout(&f).0.nw_ttl, 200);
    assert_eq!(f, recompute(&f));

    let mut f = build::udp6(H1, H2, None, B1, B2, 1, 2, b"x");
    let (_, mut l) = layout(&f);
    push_mpls(&mut f, &mut l, 0x8847).unwrap();
    assert_eq!(layout(&f).0.mpls_lse & 0xff, 64);
    set_mpls_ttl(&mut f, &l, 1).unwrap();
    assert_eq!(dec_mpls_ttl(&mut f, &l), Ok(DecTtl::Expired));
    copy_ttl_out(&mut f, &l).unwrap(); // from the IPv6 hop limit
    assert_eq!(layout(&f).0.mpls_lse & 0xff, 64);
}

#[test]
fn push_onto_non_ip_uses_ttl_64_and_rejects_bad_types() {
    let mut f = build::arp_request(H1, None, A1, A2);
    let (_, mut l) = layout(&f);
    assert_eq!(
        push_mpls(&mut f, &mut l, 0x0800),
        Err(RewriteError::BadEthertype(0x0800))
    );
    push_mpls(&mut f, &mut l, 0x8847).unwrap();
    assert_eq!(layout(&f).0.mpls_lse, MplsLse::new(0, 0, true, 64).0);
    assert_eq!(copy_ttl_out(&mut f, &l), Err(RewriteError::NotIp));
    let (_, l0) = layout(&build::udp4(H1, H2, None, A1, A2, 1, 2, b""));
    let mut g = build::udp4(H1, H2, None, A1, A2, 1, 2, b"");
    assert_eq!(set_mpls_label(&mut g, &l0, 1), Err(RewriteError::NotMpls));
    let mut short = vec![0u8; 5];
    assert_eq!(
        push_mpls(&mut short, &mut l0.clone(), 0x8847),
        Err(RewriteError::Truncated)
    );
}

/// Found by the `extract` fuzz target: a payload of another ethertype
/// that merely starts like an IPv6 header (nibble 6) gave its "hop limit"
/// to the pushed entry instead of 64.
#[test]
fn push_onto_non_ip_that_looks_like_ip_uses_ttl_64() {
    for (et, first) in [(0x88b5u16, 0x60u8), (0x88b5, 0x45), (0x0800, 0x60)] {
        let mut body = vec![0u8; 40];
        body[0] = first;
        body[7] = 200; // IPv6 hop limit position
        body[8] = 201; // IPv4 TTL position
        let mut f = build::ethernet(H1, H2, None, et, &body);
        let (_, mut l) = layout(&f);
        push_mpls(&mut f, &mut l, 0x8847).unwrap();
        assert_eq!(
            layout(&f).0.mpls_lse,
            MplsLse::new(0, 0, true, 64).0,
            "ethertype {et:#06x}, first byte {first:#04x}"
        );
    }
}
