//! Printing flows, matches and actions the way `ovs-ofctl -O OpenFlow13
//! dump-flows` does (OVS 3.1's `match_format` and `ofpacts_format`): the
//! priority unless it is the default, a protocol shorthand (`ip`, `tcp6`,
//! `arp`...) instead of dl_type/nw_proto, fields in a fixed order, CIDR for
//! prefix masks, `dl_vlan`/`dl_vlan_pcp` when they say it all, actions in
//! their OpenFlow 1.3 form (`set_field:..->eth_src`, `CONTROLLER:65535`).

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

use vnet_wire::flow::{VLAN_CFI, VLAN_VID_MASK};

use super::parse::TCP_FLAG_NAMES;
use super::value;
use crate::flow::{
    Action, Field, Instruction, Match, PortNo, DEFAULT_PRIORITY, ETH_TYPE_ARP, ETH_TYPE_IP,
    ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_RARP, IPPROTO_ICMP, IPPROTO_ICMPV6,
    IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, MPLS_BOS_MASK, MPLS_LABEL_MASK, MPLS_TC_MASK,
    MPLS_TTL_MASK, VLAN_PCP_MASK,
};

type Names<'a> = &'a dyn Fn(u32) -> Option<String>;

/// A port: its name if `names` knows it, else a reserved name, else the
/// number.
pub(super) fn port(out: &mut String, p: PortNo, names: Names) {
    if let Some(n) = names(p.0) {
        out.push_str(&value::port_name(&n));
    } else {
        let _ = write!(out, "{p}");
    }
}

fn mac(out: &mut String, m: [u8; 6]) {
    let _ = write!(
        out,
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    );
}

fn mac_masked(out: &mut String, name: &str, v: [u8; 6], m: [u8; 6]) {
    if m != [0; 6] {
        let _ = write!(out, "{name}=");
        mac(out, v);
        if m != [0xff; 6] {
            out.push('/');
            mac(out, m);
        }
        out.push(',');
    }
}

fn ipv4_masked(out: &mut String, name: &str, v: u32, m: u32) {
    if m != 0 {
        let _ = write!(out, "{name}={}", Ipv4Addr::from(v));
        if m != !0 {
            if m.leading_ones() + m.trailing_zeros() == 32 {
                let _ = write!(out, "/{}", m.leading_ones());
            } else {
                let _ = write!(out, "/{}", Ipv4Addr::from(m));
            }
        }
        out.push(',');
    }
}

fn ipv6_masked(out: &mut String, name: &str, v: u128, m: u128) {
    if m != 0 {
        let _ = write!(out, "{name}={}", Ipv6Addr::from(v));
        if m != !0 {
            if m.leading_ones() + m.trailing_zeros() == 128 {
                let _ = write!(out, "/{}", m.leading_ones());
            } else {
                let _ = write!(out, "/{}", Ipv6Addr::from(m));
            }
        }
        out.push(',');
    }
}

/// C's `%#x`: `0` for zero, `0x..` otherwise.
fn hash_x(v: u64) -> String {
    if v == 0 {
        "0".into()
    } else {
        format!("{v:#x}")
    }
}

fn u64_masked(out: &mut String, name: &str, v: u64, m: u64) {
    if m != 0 {
        let _ = write!(out, "{name}={}", hash_x(v));
        if m != !0 {
            let _ = write!(out, "/{}", hash_x(m));
        }
        out.push(',');
    }
}

fn u16_masked(out: &mut String, name: &str, v: u16, m: u16) {
    match m {
        0 => {}
        0xffff => {
            let _ = write!(out, "{name}={v},");
        }
        _ => {
            let _ = write!(out, "{name}={v:#x}/{m:#x},");
        }
    }
}

fn tcp_flags(out: &mut String, v: u16, m: u16) {
    let name = |bit: u16| match bit.trailing_zeros() as usize {
        i if i < TCP_FLAG_NAMES.len() => TCP_FLAG_NAMES[i].to_string(),
        _ => format!("{bit:#x}"),
    };
    out.push_str("tcp_flags=");
    if m & 0x0fff == 0x0fff {
        let set: Vec<String> = (0..12)
            .map(|i| 1u16 << i)
            .filter(|b| v & b != 0)
            .map(name)
            .collect();
        out.push_str(if set.is_empty() { "0" } else { "" });
        out.push_str(&set.join("|"));
    } else {
        for bit in (0..12).map(|i| 1u16 << i).filter(|b| m & b != 0) {
            out.push(if v & bit != 0 { '+' } else { '-' });
            out.push_str(&name(bit));
        }
    }
    out.push(',');
}

/// The match (and the priority unless default), without trailing comma.
pub(super) fn match_(out: &mut String, mt: &Match, priority: u16, names: Names) {
    let start = out.len();
    let (k, m) = (&mt.key, &mt.mask);
    if priority != DEFAULT_PRIORITY {
        let _ = write!(out, "priority={priority},");
    }
    let dl_type = if m.dl_type != 0 { k.dl_type } else { 0 };
    let proto = (m.nw_proto != 0).then_some(k.nw_proto);
    let shorthand_proto = match (dl_type, proto) {
        (ETH_TYPE_IP, Some(IPPROTO_ICMP)) => Some("icmp"),
        (ETH_TYPE_IP, Some(IPPROTO_TCP)) => Some("tcp"),
        (ETH_TYPE_IP, Some(IPPROTO_UDP)) => Some("udp"),
        (ETH_TYPE_IP, Some(IPPROTO_SCTP)) => Some("sctp"),
        (ETH_TYPE_IPV6, Some(IPPROTO_ICMPV6)) => Some("icmp6"),
        (ETH_TYPE_IPV6, Some(IPPROTO_TCP)) => Some("tcp6"),
        (ETH_TYPE_IPV6, Some(IPPROTO_UDP)) => Some("udp6"),
        (ETH_TYPE_IPV6, Some(IPPROTO_SCTP)) => Some("sctp6"),
        _ => None,
    };
    let shorthand_type = match dl_type {
        _ if m.dl_type == 0 => None,
        ETH_TYPE_IP => Some("ip"),
        ETH_TYPE_IPV6 => Some("ipv6"),
        ETH_TYPE_ARP => Some("arp"),
        ETH_TYPE_RARP => Some("rarp"),
        ETH_TYPE_MPLS => Some("mpls"),
        ETH_TYPE_MPLS_MCAST => Some("mplsm"),
        _ => None,
    };
    if let Some(s) = shorthand_proto.or(shorthand_type) {
        let _ = write!(out, "{s},");
    }
    u64_masked(out, "tun_id", k.tunnel_id, m.tunnel_id);
    u64_masked(out, "metadata", k.metadata, m.metadata);
    if m.in_port != 0 {
        out.push_str("in_port=");
        port(out, PortNo(k.in_port), names);
        out.push(',');
    }
    if m.vlan_tci != 0 {
        let (vid, pcp) = (m.vlan_tci & VLAN_VID_MASK, m.vlan_tci & VLAN_PCP_MASK);
        if m.vlan_tci & VLAN_CFI != 0
            && k.vlan_tci & VLAN_CFI != 0
            && matches!(vid, 0 | VLAN_VID_MASK)
            && matches!(pcp, 0 | VLAN_PCP_MASK)
            && (vid != 0 || pcp != 0)
        {
            if vid != 0 {
                let _ = write!(out, "dl_vlan={},", k.vlan_tci & VLAN_VID_MASK);
            }
            if pcp != 0 {
                let _ = write!(out, "dl_vlan_pcp={},", k.vlan_tci >> 13);
            }
        } else if m.vlan_tci == 0xffff {
            let _ = write!(out, "vlan_tci=0x{:04x},", k.vlan_tci);
        } else {
            let _ = write!(out, "vlan_tci=0x{:04x}/0x{:04x},", k.vlan_tci, m.vlan_tci);
        }
    }
    mac_masked(out, "dl_src", k.dl_src, m.dl_src);
    mac_masked(out, "dl_dst", k.dl_dst, m.dl_dst);
    if shorthand_type.is_none() && m.dl_type != 0 {
        let _ = write!(out, "dl_type=0x{:04x},", k.dl_type);
    }
    let arp = matches!(dl_type, ETH_TYPE_ARP | ETH_TYPE_RARP);
    if dl_type == ETH_TYPE_IPV6 {
        ipv6_masked(out, "ipv6_src", k.ipv6_src, m.ipv6_src);
        ipv6_masked(out, "ipv6_dst", k.ipv6_dst, m.ipv6_dst);
        match m.ipv6_label {
            0 => {}
            0xf_ffff | u32::MAX => {
                let _ = write!(out, "ipv6_label=0x{:05x},", k.ipv6_label);
            }
            ml => {
                let _ = write!(out, "ipv6_label=0x{:05x}/0x{ml:05x},", k.ipv6_label);
            }
        }
    } else if arp {
        ipv4_masked(out, "arp_spa", k.ipv4_src, m.ipv4_src);
        ipv4_masked(out, "arp_tpa", k.ipv4_dst, m.ipv4_dst);
    } else {
        ipv4_masked(out, "nw_src", k.ipv4_src, m.ipv4_src);
        ipv4_masked(out, "nw_dst", k.ipv4_dst, m.ipv4_dst);
    }
    if shorthand_proto.is_none() && m.nw_proto != 0 {
        let _ = write!(
            out,
            "{}={},",
            if arp { "arp_op" } else { "nw_proto" },
            k.nw_proto
        );
    }
    if arp {
        mac_masked(out, "arp_sha", k.arp_sha, m.arp_sha);
        mac_masked(out, "arp_tha", k.arp_tha, m.arp_tha);
    }
    if m.nw_tos & 0xfc != 0 {
        let _ = write!(out, "nw_tos={},", k.nw_tos & 0xfc);
    }
    if m.nw_tos & 0x03 != 0 {
        let _ = write!(out, "nw_ecn={},", k.nw_tos & 0x03);
    }
    if m.nw_ttl != 0 {
        let _ = write!(out, "nw_ttl={},", k.nw_ttl);
    }
    let lse = k.mpls_lse;
    if m.mpls_lse & MPLS_LABEL_MASK != 0 {
        let _ = write!(out, "mpls_label={},", lse >> 12);
    }
    if m.mpls_lse & MPLS_TC_MASK != 0 {
        let _ = write!(out, "mpls_tc={},", (lse & MPLS_TC_MASK) >> 9);
    }
    if m.mpls_lse & MPLS_TTL_MASK != 0 {
        let _ = write!(out, "mpls_ttl={},", lse & MPLS_TTL_MASK);
    }
    if m.mpls_lse & MPLS_BOS_MASK != 0 {
        let _ = write!(out, "mpls_bos={},", (lse & MPLS_BOS_MASK) >> 8);
    }
    let frag = match (m.nw_frag, k.nw_frag) {
        (3, 3) => "later",
        (3, 1) => "first",
        (3, _) | (1, 0) => "no",
        (1, _) => "yes",
        (2, 0) => "not_later",
        (2, _) => "later",
        _ => "",
    };
    if !frag.is_empty() {
        let _ = write!(out, "nw_frag={frag},");
    }
    let proto = k.nw_proto;
    if dl_type == ETH_TYPE_IP && proto == IPPROTO_ICMP {
        u16_masked(out, "icmp_type", k.tp_src, m.tp_src);
        u16_masked(out, "icmp_code", k.tp_dst, m.tp_dst);
    } else if dl_type == ETH_TYPE_IPV6 && proto == IPPROTO_ICMPV6 {
        u16_masked(out, "icmp_type", k.tp_src, m.tp_src);
        u16_masked(out, "icmp_code", k.tp_dst, m.tp_dst);
        ipv6_masked(out, "nd_target", k.nd_target, m.nd_target);
        mac_masked(out, "nd_sll", k.nd_sll, m.nd_sll);
        mac_masked(out, "nd_tll", k.nd_tll, m.nd_tll);
    } else {
        u16_masked(out, "tp_src", k.tp_src, m.tp_src);
        u16_masked(out, "tp_dst", k.tp_dst, m.tp_dst);
    }
    if matches!(dl_type, ETH_TYPE_IP | ETH_TYPE_IPV6) && proto == IPPROTO_TCP && m.tcp_flags != 0 {
        tcp_flags(out, k.tcp_flags, m.tcp_flags);
    }
    // Not in ovs-ofctl (which cannot match them); OpenFlow 1.3 can.
    if m.pbb_isid != 0 {
        let _ = write!(out, "pbb_isid={:#x}/{:#x},", k.pbb_isid, m.pbb_isid);
    }
    if m.ipv6_exthdr != 0 {
        let _ = write!(
            out,
            "ipv6_exthdr={:#x}/{:#x},",
            k.ipv6_exthdr, m.ipv6_exthdr
        );
    }
    if out.len() > start && out.ends_with(',') {
        out.pop();
    }
}

fn field_value(out: &mut String, f: &Field) {
    use Field::*;
    let _ = match *f {
        EthDst(m) | EthSrc(m) | ArpSha(m) | ArpTha(m) | NdSll(m) | NdTll(m) => {
            mac(out, m);
            Ok(())
        }
        VlanVid(v) => write!(out, "{}", v | VLAN_CFI),
        VlanPcp(v) | IpDscp(v) | IpEcn(v) | Icmpv4Type(v) | Icmpv4Code(v) | Icmpv6Type(v)
        | Icmpv6Code(v) => {
            write!(out, "{v}")
        }
        TcpSrc(v) | TcpDst(v) | UdpSrc(v) | UdpDst(v) | SctpSrc(v) | SctpDst(v) | ArpOp(v) => {
            write!(out, "{v}")
        }
        Ipv4Src(a) | Ipv4Dst(a) | ArpSpa(a) | ArpTpa(a) => write!(out, "{}", Ipv4Addr::from(a)),
        Ipv6Src(a) | Ipv6Dst(a) | NdTarget(a) => write!(out, "{}", Ipv6Addr::from(a)),
        Ipv6Label(v) => write!(out, "{v:#x}"),
        TunnelId(v) => write!(out, "{v:#x}"),
        MplsLabel(v) => write!(out, "{v}"),
        MplsTc(v) | MplsBos(v) | MplsTtl(v) | NwTtl(v) => write!(out, "{v}"),
        // Not in ovs-ofctl (no PBB there): hexadecimal, like tun_id.
        PbbIsid(v) => write!(out, "{v:#x}"),
    };
}

pub(super) fn action(out: &mut String, a: &Action, names: Names) {
    let _ = match *a {
        Action::Output(p) => {
            if p < PortNo::MAX {
                out.push_str("output:");
            }
            port(out, p, names);
            Ok(())
        }
        Action::Controller { max_len } => write!(out, "CONTROLLER:{max_len}"),
        Action::PushVlan(tpid) => write!(out, "push_vlan:{tpid:#x}"),
        Action::PopVlan => write!(out, "pop_vlan"),
        Action::SetField(f) => {
            out.push_str("set_field:");
            field_value(out, &f);
            write!(out, "->{}", f.name())
        }
        Action::DecTtl => write!(out, "dec_ttl"),
        Action::SetNwTtl(t) => write!(out, "mod_nw_ttl:{t}"),
        Action::Group(g) => write!(out, "group:{g}"),
        Action::SetQueue(q) => write!(out, "set_queue:{q}"),
        // As ovs-ofctl prints them; copy_ttl_* and the PBB actions are not
        // in ovs-ofctl, and take the spec's names.
        Action::CopyTtlOut => write!(out, "copy_ttl_out"),
        Action::CopyTtlIn => write!(out, "copy_ttl_in"),
        Action::SetMplsTtl(t) => write!(out, "set_mpls_ttl({t})"),
        Action::DecMplsTtl => write!(out, "dec_mpls_ttl"),
        Action::PushMpls(t) => write!(out, "push_mpls:{t:#06x}"),
        Action::PopMpls(t) => write!(out, "pop_mpls:{t:#06x}"),
        Action::PushPbb(t) => write!(out, "push_pbb:{t:#06x}"),
        Action::PopPbb => write!(out, "pop_pbb"),
    };
}

fn action_list(out: &mut String, list: &[Action], names: Names) {
    for (i, a) in list.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        action(out, a, names);
    }
}

/// The instructions as ovs-ofctl prints them after `actions=`; `drop` when
/// there are none.
pub(super) fn instructions(out: &mut String, insts: &[Instruction], names: Names) {
    let mut parts: Vec<String> = Vec::with_capacity(insts.len());
    for inst in insts {
        let mut s = String::new();
        let _ = match inst {
            Instruction::Meter(m) => write!(s, "meter:{m}"),
            Instruction::ApplyActions(list) if list.is_empty() => continue,
            Instruction::ApplyActions(list) => {
                action_list(&mut s, list, names);
                Ok(())
            }
            Instruction::ClearActions => write!(s, "clear_actions"),
            Instruction::WriteActions(list) => {
                s.push_str("write_actions(");
                action_list(&mut s, list, names);
                write!(s, ")")
            }
            Instruction::WriteMetadata { value, mask } if *mask == u64::MAX => {
                write!(s, "write_metadata:{}", hash_x(*value))
            }
            Instruction::WriteMetadata { value, mask } => {
                write!(s, "write_metadata:{}/{}", hash_x(*value), hash_x(*mask))
            }
            Instruction::GotoTable(t) => write!(s, "goto_table:{t}"),
        };
        parts.push(s);
    }
    if parts.is_empty() {
        out.push_str("drop");
    } else {
        out.push_str(&parts.join(","));
    }
}

/// `duration` as ovs-ofctl prints it (milliseconds in).
pub(super) fn duration(ms: u64) -> String {
    let (sec, ms) = (ms / 1000, ms % 1000);
    if ms == 0 {
        format!("{sec}s")
    } else {
        format!("{sec}.{ms:03}s")
    }
}
