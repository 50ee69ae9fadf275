//! PBB actions (push/pop with the OpenFlow field-copy rules, I-SID
//! set-field) and MPLS bottom-of-stack set-field, byte for byte, with the
//! layout they leave equal to a fresh extraction; and software GSO of
//! super-frames behind such encapsulations.

mod common;

use common::*;
use vnet_wire::rewrite::*;
use vnet_wire::{build, MplsLse};

#[test]
fn push_pbb_on_an_untagged_frame() {
    let c = build::udp4(H1, H2, None, A1, A2, 1, 2, b"pbb");
    let mut f = c.clone();
    let (_, mut l) = layout(&f);
    push_pbb(&mut f, &mut l, 0x88e7).unwrap();
    // B-DA/B-SA are the frame's own addresses; the customer frame follows
    // the I-TAG (PCP 0, I-SID 0) whole.
    assert_eq!(f, build::pbb(H1, H2, None, 0, &c));
    #[rustfmt::skip]
    assert_eq!(&f[..30], &[
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, // B-DA, B-SA
        0x88, 0xe7, 0, 0, 0, 0,                         // I-TAG
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, // C-DA, C-SA
    ]);
    let (k, fresh) = layout(&f);
    assert_eq!(l, fresh);
    assert_eq!((k.dl_type, k.pbb_isid, k.vlan_tci), (0x88e7, 0, 0));
}

#[test]
fn push_pbb_copies_the_vlan_pcp_and_an_existing_isid() {
    // Tagged (PCP 5, DEI 1, VID 10): I-PCP 5; the tag rides inside.
    let c = build::udp4(H1, H2, Some(0xb00a), A1, A2, 1, 2, b"x");
    let mut f = c.clone();
    let (_, mut l) = layout(&f);
    push_pbb(&mut f, &mut l, 0x88e7).unwrap();
    assert_eq!(f, build::pbb(H1, H2, None, 5 << 29, &c));
    assert_eq!(layout(&f).1, l);
    // Onto a PBB frame (I-SID 0xabcdef, PCP 3, UCA set): I-SID copied,
    // nothing else (no VLAN tag: PCP 0).
    let inner = build::pbb(H1, H2, None, 3 << 29 | 1 << 27 | 0xab_cdef, &c);
    let mut g = inner.clone();
    let (_, mut l) = layout(&g);
    push_pbb(&mut g, &mut l, 0x88e7).unwrap();
    assert_eq!(g, build::pbb(H1, H2, None, 0xab_cdef, &inner));
    assert_eq!(layout(&g).0.pbb_isid, 0xab_cdef);
    assert_eq!(layout(&g).1, l);
}

#[test]
fn pop_pbb_leaves_the_customer_frame() {
    let c = build::tcp4(H2, H1, Some(7), A1, A2, 1, 2, 0x10, b"customer");
    for b_tag in [None, Some(0x2064)] {
        let mut f = build::pbb(H1, H2, b_tag, 0x12_3456, &c);
        let (k, mut l) = layout(&f);
        assert_eq!((k.dl_type, k.pbb_isid), (0x88e7, 0x12_3456));
        pop_pbb(&mut f, &mut l).unwrap();
        assert_eq!(f, c, "B-TAG {b_tag:?}");
        assert_eq!(layout(&f).1, l);
    }
}

#[test]
fn set_pbb_isid_changes_only_the_isid() {
    let c = build::udp4(H1, H2, None, A1, A2, 1, 2, b"x");
    let mut f = build::pbb(H1, H2, Some(5), 6 << 29 | 0x11_1111, &c);
    let (_, l) = layout(&f);
    set_pbb_isid(&mut f, &l, 0xfe_dcba).unwrap();
    assert_eq!(f, build::pbb(H1, H2, Some(5), 6 << 29 | 0xfe_dcba, &c));
    assert_eq!(layout(&f).0.pbb_isid, 0xfe_dcba);
}

#[test]
fn pbb_actions_refuse_what_is_not_pbb() {
    let mut f = build::udp4(H1, H2, None, A1, A2, 1, 2, b"x");
    let orig = f.clone();
    let (_, mut l) = layout(&f);
    assert_eq!(
        push_pbb(&mut f, &mut l, 0x8100),
        Err(RewriteError::BadPbbEthertype(0x8100))
    );
    assert_eq!(pop_pbb(&mut f, &mut l), Err(RewriteError::NotPbb));
    assert_eq!(set_pbb_isid(&mut f, &l, 1), Err(RewriteError::NotPbb));
    assert_eq!(f, orig);
    // An I-TAG without the customer addresses after it is cut short.
    let mut short = build::pbb(H1, H2, None, 1, &[]);
    let (_, mut l) = layout(&short);
    assert_eq!(pop_pbb(&mut short, &mut l), Err(RewriteError::Truncated));
}

#[test]
fn set_mpls_bos_flips_only_the_bit() {
    let ip = build::udp4(H1, H2, None, A1, A2, 1, 2, b"x");
    let lse = [
        MplsLse::new(100, 5, false, 9),
        MplsLse::new(200, 1, true, 8),
    ];
    let mut f = build::mpls(&ip, 0x8847, &lse);
    let (_, l) = layout(&f);
    set_mpls_bos(&mut f, &l, 1).unwrap();
    let want = [MplsLse::new(100, 5, true, 9), lse[1]];
    assert_eq!(f, build::mpls(&ip, 0x8847, &want));
    set_mpls_bos(&mut f, &l, 0).unwrap();
    assert_eq!(f, build::mpls(&ip, 0x8847, &lse));
    assert_eq!(
        set_mpls_bos(&mut ip.clone(), &layout(&ip).1, 1),
        Err(RewriteError::NotMpls)
    );
}

/// Expected piece `k` of a segmented TCP/IPv4 super-frame built by
/// `build::tcp4` with flags 0x19 (FIN, PSH, ACK): its own payload, sequence
/// number `TCP_SEQ + offset`, IPv4 id `k`, FIN and PSH only on the last.
fn tcp4_piece(payload: &[u8], k: usize, offset: usize, last: bool) -> Vec<u8> {
    let flags = if last { 0x19 } else { 0x10 };
    let mut f = build::tcp4(H1, H2, None, A1, A2, 1000, 80, flags, payload);
    let seq = build::TCP_SEQ.wrapping_add(offset as u32);
    f[14 + 20 + 4..14 + 20 + 8].copy_from_slice(&seq.to_be_bytes());
    f[14 + 4..14 + 6].copy_from_slice(&(k as u16).to_be_bytes());
    recompute(&f)
}

#[test]
fn gso_segment_cuts_tcp_inside_mpls_into_complete_frames() {
    let payload: Vec<u8> = (0..2500u32).map(|i| (i * 7) as u8).collect();
    let big = build::tcp4(H1, H2, None, A1, A2, 1000, 80, 0x19, &payload);
    let lse = [MplsLse::new(100, 0, true, 64)];
    let framed = build::mpls(&big, 0x8847, &lse);
    let mut got = Vec::new();
    gso_segment(&framed, GsoKind::Tcp4, 14 + 4 + 20, 1000, |p| {
        got.push(p.to_vec())
    })
    .unwrap();
    let want: Vec<Vec<u8>> = payload
        .chunks(1000)
        .enumerate()
        .map(|(k, c)| build::mpls(&tcp4_piece(c, k, k * 1000, k == 2), 0x8847, &lse))
        .collect();
    assert_eq!(got, want);
    // Without an encapsulation, the same pieces.
    let mut plain = Vec::new();
    gso_segment(&big, GsoKind::Tcp4, 34, 1000, |p| plain.push(p.to_vec())).unwrap();
    assert_eq!(plain.len(), 3);
    assert_eq!(plain[2], tcp4_piece(&payload[2000..], 2, 2000, true));
}

#[test]
fn gso_segment_cuts_tcp6_in_pbb_and_udp_datagrams() {
    let payload = vec![0xabu8; 1500];
    let big = build::tcp6(H1, H2, None, B1, B2, 1, 2, 0x18, &payload);
    let framed = build::pbb(H1, H2, None, 0x42, &big);
    let mut got = Vec::new();
    gso_segment(&framed, GsoKind::Tcp6, 18 + 14 + 40, 1000, |p| {
        got.push(p.to_vec())
    })
    .unwrap();
    assert_eq!(got.len(), 2);
    let first = build::tcp6(H1, H2, None, B1, B2, 1, 2, 0x10, &payload[..1000]);
    assert_eq!(got[0], build::pbb(H1, H2, None, 0x42, &first));
    let mut second = build::tcp6(H1, H2, None, B1, B2, 1, 2, 0x18, &payload[1000..]);
    let seq = build::TCP_SEQ.wrapping_add(1000);
    second[14 + 40 + 4..14 + 40 + 8].copy_from_slice(&seq.to_be_bytes());
    assert_eq!(got[1], build::pbb(H1, H2, None, 0x42, &recompute(&second)));
    // UDP GSO: one datagram per piece.
    let big = build::udp4(H1, H2, Some(5), A1, A2, 1, 2, &payload);
    let mut got = Vec::new();
    gso_segment(&big, GsoKind::UdpL4, 18 + 20, 600, |p| got.push(p.to_vec())).unwrap();
    let want: Vec<Vec<u8>> = payload
        .chunks(600)
        .enumerate()
        .map(|(k, c)| {
            let mut f = build::udp4(H1, H2, Some(5), A1, A2, 1, 2, c);
            f[18 + 4..18 + 6].copy_from_slice(&(k as u16).to_be_bytes());
            recompute(&f)
        })
        .collect();
    assert_eq!(got, want);
    // The kind must match the packet.
    assert!(gso_segment(&big, GsoKind::Tcp6, 38, 600, |_| {}).is_err());
}
