//! Rewrites applied to an extracted frame, one control triple each, with
//! what each must have done checked against a fresh extraction.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{checks, recompute, CONTROL_LEN};
use crate::build::make_csum_partial;
use crate::checksum::complete_partial;
use crate::eth::ethertype;
use crate::extract::{L3Kind, L4Kind, Layout};
use crate::field::be16;
use crate::flow::{FlowKey, VLAN_CFI, VLAN_VID_MASK};
use crate::ipv4::Ipv4Packet;
use crate::ipv6::FLOW_LABEL_MASK;
use crate::mpls::{MplsLse, ISID_MASK, ITAG_LEN};
use crate::rewrite::{self as rw, DecTtl, RewriteError, PBB_ENCAP_LEN};
use crate::vlan;

/// Operations per input.
pub(super) const MAX_OPS: usize = 6;
/// Distinct operations; the operation byte modulo this picks one, the
/// quotient (0..=6) selects variants (TPIDs, ethertypes).
const N_OPS: u8 = 39;

/// What a successful operation promises.
struct Promise {
    /// The key a fresh extraction gives now (when the layout was in step
    /// with the frame before).
    key: Option<FlowKey>,
    /// Compare keys without the neighbour discovery fields.
    nd_loose: bool,
    /// The layout it left equals a fresh extraction.
    exact: bool,
    /// Correct checksums stay correct.
    keeps_sums: bool,
    /// The frame is unchanged (TTL already expired).
    unchanged: bool,
    /// Change of the frame's length.
    grows: isize,
}

impl Promise {
    fn key(key: FlowKey) -> Promise {
        Promise {
            key: Some(key),
            nd_loose: false,
            exact: true,
            keeps_sums: true,
            unchanged: false,
            grows: 0,
        }
    }
}

fn mac(v: u16) -> [u8; 6] {
    let [a, b] = v.to_be_bytes();
    [a, b, 0x5e, a ^ 0xff, b.rotate_left(1), 1]
}

fn ip4(v: u16) -> Ipv4Addr {
    let [a, b] = v.to_be_bytes();
    Ipv4Addr::new(10, a, b, a ^ b)
}

fn ip6(v: u16, w: u8) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, u16::from(w), 0, 0, v.rotate_left(4), v)
}

fn is_mpls(t: u16) -> bool {
    t == ethertype::MPLS || t == ethertype::MPLS_MCAST
}

/// The IPv4 header at `at`, if it is there with a correct checksum.
fn v4_sum_ok(f: &[u8], at: usize) -> bool {
    f.get(at..)
        .and_then(|b| Ipv4Packet::new_checked(b).ok())
        .is_some_and(|p| p.version() == 4 && p.verify_checksum())
}

/// Applies operation `op` (3 control bytes). `old` is the key of the
/// frame, valid only when `sync` (the layout is a fresh extraction).
fn apply(
    op: &[u8],
    f: &mut Vec<u8>,
    lay: &mut Layout,
    old: &FlowKey,
    partial: bool,
    sync: bool,
) -> Result<Promise, RewriteError> {
    let (code, sel) = (op[0] % N_OPS, op[0] / N_OPS);
    let v = u16::from_be_bytes([op[1], op[2]]);
    let b = op[1];
    let l = *lay;
    let mut k = *old;
    let p = match code {
        0 => {
            rw::set_eth_src(f, mac(v))?;
            k.dl_src = mac(v);
            Promise::key(k)
        }
        1 => {
            rw::set_eth_dst(f, mac(v))?;
            k.dl_dst = mac(v);
            Promise::key(k)
        }
        2 => {
            let tpid = match sel & 3 {
                1 => ethertype::QINQ,
                2 => v,
                _ => ethertype::VLAN,
            };
            let tci = (sel & 4 != 0).then_some(v);
            rw::push_vlan(f, lay, tpid, tci)?;
            k.vlan_tci = match tci {
                Some(t) => t | VLAN_CFI,
                None if l.vlans > 0 => old.vlan_tci,
                None => VLAN_CFI,
            };
            // A third tag hides what the second one announced.
            let exact = l.vlans < 2;
            Promise {
                exact,
                grows: 4,
                ..Promise::key(k)
            }
        }
        3 => {
            let inner = match l.vlans {
                2.. => f.get(18..20).map_or(0, |t| be16(t, 0) | VLAN_CFI),
                _ => 0,
            };
            // With two tags parsed and a third TPID, popping one makes the
            // third visible.
            let exact = !(l.vlans >= 2 && vlan::is_tpid(old.dl_type));
            rw::pop_vlan(f, lay)?;
            k.vlan_tci = inner;
            Promise {
                exact,
                // What the third tag hid was never checked.
                keeps_sums: exact,
                grows: -4,
                ..Promise::key(k)
            }
        }
        4 => {
            rw::set_vlan_vid(f, &l, v)?;
            k.vlan_tci = k.vlan_tci & !VLAN_VID_MASK | v & VLAN_VID_MASK;
            Promise::key(k)
        }
        5 => {
            rw::set_vlan_pcp(f, &l, b)?;
            k.vlan_tci = k.vlan_tci & 0x1fff | u16::from(b & 7) << 13;
            Promise::key(k)
        }
        6 => {
            rw::set_ipv4_src(f, &l, ip4(v), partial)?;
            k.ipv4_src = ip4(v).into();
            Promise::key(k)
        }
        7 => {
            rw::set_ipv4_dst(f, &l, ip4(v), partial)?;
            k.ipv4_dst = ip4(v).into();
            Promise::key(k)
        }
        8 => {
            rw::set_ip_dscp(f, &l, b)?;
            k.nw_tos = k.nw_tos & 3 | (b & 0x3f) << 2;
            Promise::key(k)
        }
        9 => {
            rw::set_ip_ecn(f, &l, b)?;
            k.nw_tos = k.nw_tos & 0xfc | b & 3;
            Promise::key(k)
        }
        10 => {
            rw::set_ip_ttl(f, &l, b)?;
            k.nw_ttl = b;
            Promise::key(k)
        }
        11 => match rw::dec_ttl(f, &l)? {
            DecTtl::Decremented => {
                k.nw_ttl = k.nw_ttl.wrapping_sub(1);
                Promise::key(k)
            }
            DecTtl::Expired => Promise {
                unchanged: true,
                ..Promise::key(k)
            },
        },
        12 => {
            rw::set_ipv6_src(f, &l, ip6(v, b), partial)?;
            k.ipv6_src = ip6(v, b).into();
            Promise::key(k)
        }
        13 => {
            rw::set_ipv6_dst(f, &l, ip6(v, b), partial)?;
            k.ipv6_dst = ip6(v, b).into();
            Promise::key(k)
        }
        14 => {
            let label = u32::from(v) | u32::from(op[0]) << 16;
            rw::set_ipv6_flabel(f, &l, label)?;
            k.ipv6_label = label & FLOW_LABEL_MASK;
            Promise::key(k)
        }
        15 => {
            rw::set_arp_op(f, &l, v)?;
            k.nw_proto = u8::try_from(v).unwrap_or(0);
            Promise::key(k)
        }
        16 => {
            rw::set_arp_sha(f, &l, mac(v))?;
            k.arp_sha = mac(v);
            Promise::key(k)
        }
        17 => {
            rw::set_arp_spa(f, &l, ip4(v))?;
            k.ipv4_src = ip4(v).into();
            Promise::key(k)
        }
        18 => {
            rw::set_arp_tha(f, &l, mac(v))?;
            k.arp_tha = mac(v);
            Promise::key(k)
        }
        19 => {
            rw::set_arp_tpa(f, &l, ip4(v))?;
            k.ipv4_dst = ip4(v).into();
            Promise::key(k)
        }
        20 => {
            rw::set_tp_src(f, &l, v, partial)?;
            k.tp_src = v;
            Promise::key(k)
        }
        21 => {
            rw::set_tp_dst(f, &l, v, partial)?;
            k.tp_dst = v;
            Promise::key(k)
        }
        22 | 23 => {
            if code == 22 {
                rw::set_icmp_type(f, &l, b, partial)?;
                k.tp_src = b.into();
            } else {
                rw::set_icmp_code(f, &l, b, partial)?;
                k.tp_dst = b.into();
            }
            // Whether the message is NS/NA (with ND fields) may change.
            Promise {
                nd_loose: true,
                ..Promise::key(k)
            }
        }
        24 => {
            rw::set_nd_target(f, &l, ip6(v, b), partial)?;
            // With ND fields extracted before, the options were valid.
            let had = old.nd_target != 0 || old.nd_sll != [0; 6] || old.nd_tll != [0; 6];
            k.nd_target = ip6(v, b).into();
            Promise {
                nd_loose: !had,
                ..Promise::key(k)
            }
        }
        25 | 26 => {
            let (had, r) = if code == 25 {
                (old.nd_sll != [0; 6], rw::set_nd_sll(f, &l, mac(v), partial))
            } else {
                (old.nd_tll != [0; 6], rw::set_nd_tll(f, &l, mac(v), partial))
            };
            if sync && had {
                assert_eq!(
                    r,
                    Ok(()),
                    "extract found the ND address option, set_nd_*ll not"
                );
            }
            r?;
            if code == 25 {
                k.nd_sll = mac(v);
            } else {
                k.nd_tll = mac(v);
            }
            Promise {
                nd_loose: !had,
                ..Promise::key(k)
            }
        }
        27 => {
            let t = match sel & 3 {
                1 => ethertype::MPLS_MCAST,
                2 => v,
                _ => ethertype::MPLS,
            };
            let ttl = match l.l3_kind {
                L3Kind::Ipv4 | L3Kind::Ipv6 => old.nw_ttl,
                _ => 64,
            };
            let lse = if is_mpls(old.dl_type) {
                old.mpls_lse & !0x100
            } else {
                MplsLse::new(0, 0, true, ttl).0
            };
            rw::push_mpls(f, lay, t)?;
            let k = FlowKey {
                in_port: old.in_port,
                dl_dst: old.dl_dst,
                dl_src: old.dl_src,
                vlan_tci: old.vlan_tci,
                dl_type: t,
                mpls_lse: lse,
                ..FlowKey::default()
            };
            Promise {
                grows: 4,
                ..Promise::key(k)
            }
        }
        28 => {
            let t = match sel & 3 {
                0 => ethertype::IPV4,
                1 => ethertype::IPV6,
                2 => ethertype::MPLS,
                _ => v,
            };
            rw::pop_mpls(f, lay, t)?;
            Promise {
                key: None,
                exact: t >= ethertype::MIN && !vlan::is_tpid(t),
                // What it uncovers was never checked.
                keeps_sums: false,
                grows: -4,
                ..Promise::key(k)
            }
        }
        29 => {
            let label = u32::from(v) | u32::from(op[0]) << 16;
            rw::set_mpls_label(f, &l, label)?;
            k.mpls_lse = MplsLse(k.mpls_lse).with_label(label).0;
            Promise::key(k)
        }
        30 => {
            rw::set_mpls_tc(f, &l, b)?;
            k.mpls_lse = MplsLse(k.mpls_lse).with_tc(b).0;
            Promise::key(k)
        }
        31 => {
            rw::set_mpls_ttl(f, &l, b)?;
            k.mpls_lse = MplsLse(k.mpls_lse).with_ttl(b).0;
            Promise::key(k)
        }
        32 => match rw::dec_mpls_ttl(f, &l)? {
            DecTtl::Decremented => {
                let lse = MplsLse(k.mpls_lse);
                k.mpls_lse = lse.with_ttl(lse.ttl().wrapping_sub(1)).0;
                Promise::key(k)
            }
            DecTtl::Expired => Promise {
                unchanged: true,
                ..Promise::key(k)
            },
        },
        33 => {
            rw::copy_ttl_out(f, &l)?;
            let ttl = f.get(l.l2_len.saturating_add(3)).copied().unwrap_or(0);
            k.mpls_lse = MplsLse(k.mpls_lse).with_ttl(ttl).0;
            Promise::key(k)
        }
        34 => {
            rw::set_mpls_bos(f, &l, b)?;
            k.mpls_lse = k.mpls_lse & !0x100 | u32::from(b & 1) << 8;
            Promise::key(k)
        }
        35 => {
            let t = if sel & 1 == 0 { ethertype::PBB } else { v };
            // The I-SID of a PBB header with the customer addresses after
            // it carries over.
            let whole = f.len() >= l.l2_len.saturating_add(ITAG_LEN + 12);
            let isid = if old.dl_type == ethertype::PBB && whole {
                old.pbb_isid
            } else {
                0
            };
            rw::push_pbb(f, lay, t)?;
            let k = FlowKey {
                in_port: old.in_port,
                dl_dst: old.dl_dst,
                dl_src: old.dl_src,
                dl_type: ethertype::PBB,
                pbb_isid: isid,
                ..FlowKey::default()
            };
            Promise {
                grows: PBB_ENCAP_LEN as isize,
                ..Promise::key(k)
            }
        }
        36 => {
            let grows = -(l.l2_len.min(isize::MAX as usize - 4) as isize + 4);
            rw::pop_pbb(f, lay)?;
            Promise {
                key: None,
                keeps_sums: false,
                grows,
                ..Promise::key(k)
            }
        }
        37 => {
            let isid = u32::from(v) | u32::from(op[0]) << 16;
            rw::set_pbb_isid(f, &l, isid)?;
            k.pbb_isid = isid & ISID_MASK;
            Promise::key(k)
        }
        _ => {
            // An IPv4 header under the bottom of the stack keeps a
            // correct checksum.
            let top = l.l2_len;
            let bos = f.get(top.saturating_add(2)).is_some_and(|&x| x & 1 != 0);
            let inner = top.saturating_add(4);
            let was_ok = bos && v4_sum_ok(f, inner);
            rw::copy_ttl_in(f, &l)?;
            if was_ok {
                assert!(v4_sum_ok(f, inner), "copy_ttl_in: inner IPv4 checksum");
            }
            Promise::key(k)
        }
    };
    Ok(p)
}

/// Applies the control operations to `frame` (see the module docs).
pub(super) fn run(ctl: &[u8; CONTROL_LEN], frame: &[u8]) {
    let flags = ctl[0];
    let in_port = u32::from(flags);
    let mut f = frame.to_vec();
    if flags & 1 != 0 {
        f = recompute(&f);
    }
    let (mut key, mut lay) = checks::frame(&f, in_port);
    // CHECKSUM_PARTIAL: made from a frame with correct checksums, completed
    // at the end, must equal a recomputation.
    let valid_at_start = f == recompute(&f);
    let partial = flags & 2 != 0;
    let partial_at = if partial {
        make_csum_partial(&mut f)
    } else {
        None
    };
    let start_kind = lay.l4_kind;
    let mut sync = true;
    let mut mpls_done = false;
    for op in ctl[1..].chunks_exact(3) {
        let before = f.clone();
        let lay_before = lay;
        let valid = sync && !partial && !lay.routed && f == recompute(&f);
        let promise = match apply(op, &mut f, &mut lay, &key, partial, sync) {
            Ok(p) => p,
            Err(e) => {
                assert_eq!(f, before, "{e} but the frame changed");
                assert_eq!(lay, lay_before, "{e} but the layout changed");
                continue;
            }
        };
        let code = op[0] % N_OPS;
        // MPLS and PBB operations hide or uncover the IP packet.
        mpls_done |= code >= 27;
        assert_eq!(
            f.len() as isize - before.len() as isize,
            promise.grows,
            "operation {code}: frame length"
        );
        if promise.unchanged {
            assert_eq!(f, before, "operation {code}: frame changed");
        }
        checks::layout(f.len(), &lay);
        let (k2, l2) = checks::frame(&f, in_port);
        if sync && promise.exact {
            assert_eq!(lay, l2, "operation {code}: layout differs from extraction");
            if let Some(mut want) = promise.key {
                if promise.nd_loose {
                    (want.nd_target, want.nd_sll, want.nd_tll) =
                        (k2.nd_target, k2.nd_sll, k2.nd_tll);
                }
                assert_eq!(k2, want, "operation {code}: key");
            }
        }
        if valid && promise.keeps_sums && !l2.routed {
            assert_eq!(f, recompute(&f), "operation {code}: checksums");
        }
        sync = lay == l2;
        key = k2;
    }
    let Some((_, csum_offset)) = partial_at else {
        return;
    };
    let comparable = valid_at_start
        && sync
        && !mpls_done
        && !lay.routed
        && lay.end == f.len()
        && lay.l4_kind == start_kind;
    // Completion sums to the end of the frame, the UDP oracle only up to
    // the UDP length: compare where the two agree.
    let udp_len_ok =
        |l4: usize| lay.l4_kind != L4Kind::Udp || usize::from(be16(&f, l4 + 4)) == f.len() - l4;
    if let (true, Some(l4)) = (comparable, lay.l4.filter(|&l4| udp_len_ok(l4))) {
        complete_partial(&mut f, l4, csum_offset).expect("csum_start/offset in the frame");
        let want = recompute(&f);
        // A zero result is stored as 0xffff (as Linux does); from scratch
        // TCP and ICMPv6 write 0x0000: the same ones'-complement zero.
        let at = l4 + csum_offset;
        if f[at..at + 2] == [0xff, 0xff] && want[at..at + 2] == [0, 0] {
            f[at..at + 2].fill(0);
        }
        assert_eq!(f, want, "completed CHECKSUM_PARTIAL frame");
    }
}

/// Every operation with a layout made up from the control bytes (not the
/// frame's): it must fail cleanly or succeed, never panic.
pub(super) fn forged_layouts(ctl: &[u8; CONTROL_LEN], frame: &[u8]) {
    let n = frame.len();
    let pick = |b: u8| -> usize {
        let low = usize::from(b & 63);
        match b >> 6 {
            0 => low,
            1 => n.saturating_sub(low),
            2 => n + (low & 7),
            _ => usize::MAX - (low & 7),
        }
    };
    const L3: [L3Kind; 4] = [L3Kind::None, L3Kind::Arp, L3Kind::Ipv4, L3Kind::Ipv6];
    const L4: [L4Kind; 6] = [
        L4Kind::None,
        L4Kind::Tcp,
        L4Kind::Udp,
        L4Kind::Sctp,
        L4Kind::Icmpv4,
        L4Kind::Icmpv6,
    ];
    let lay = Layout {
        l2_len: pick(ctl[1]),
        vlans: ctl[2] % 4,
        l3: (ctl[3] & 1 == 0).then(|| pick(ctl[4])),
        l3_kind: L3[usize::from(ctl[5] % 4)],
        l4: (ctl[3] & 2 == 0).then(|| pick(ctl[7])),
        l4_kind: L4[usize::from(ctl[8] % 6)],
        end: pick(ctl[10]),
        fragment: ctl[11] & 1 != 0,
        routed: ctl[11] & 2 != 0,
    };
    let key = FlowKey::default();
    for code in 0..N_OPS {
        let op = [code + N_OPS * (ctl[13] % 6), ctl[14], ctl[16]];
        let mut f = frame.to_vec();
        let mut l = lay;
        if apply(&op, &mut f, &mut l, &key, ctl[0] & 2 != 0, false).is_err() {
            assert_eq!(
                f, frame,
                "failed with a forged layout but changed the frame"
            );
            assert_eq!(l, lay, "failed with a forged layout but changed it");
        }
    }
}
