//! Parsing a flow (`add-flow`, `mod-flows`, `del-flows` text) into a
//! [`FlowMod`]: the keywords before `actions=` (match fields, protocol
//! shorthands, priority, table, cookie, timeouts, flags), then the actions.
//! Which keywords a command accepts follows ovs-ofctl: no actions, flags or
//! timeouts in a delete, no priority in a non-strict delete, no cookie mask
//! in an add, no out_port outside a delete.

use vnet_wire::flow::{VLAN_CFI, VLAN_VID_MASK};
use vnet_wire::FlowKey;

use super::lex::{Lexer, Token};
use super::{actions, value, ParseError, ParseErrorKind};
use crate::flow::{
    Flow, FlowFlags, FlowMod, FlowModCommand, Match, MatchError, Prereq, ALL_TABLES, ETH_TYPE_ARP,
    ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_RARP, IPPROTO_ICMP,
    IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, VLAN_PCP_MASK,
};

/// TCP flag names, bit by bit from the lowest (as ovs-ofctl prints them).
pub(super) const TCP_FLAG_NAMES: [&str; 9] =
    ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns"];

/// A match field set, remembered to place errors found later.
struct Seen {
    /// The `FlowKey` field it sets.
    slot: &'static str,
    pos: usize,
    token: String,
    /// A prerequisite of this keyword beyond its field's own (`tcp_src`
    /// needs tcp, where `tp_src` takes any transport), with the keyword.
    extra: Option<(&'static str, Prereq)>,
}

fn command_name(c: FlowModCommand) -> &'static str {
    match c {
        FlowModCommand::Add => "add",
        FlowModCommand::Modify => "modify",
        FlowModCommand::ModifyStrict => "modify --strict",
        FlowModCommand::Delete => "delete",
        FlowModCommand::DeleteStrict => "delete --strict",
    }
}

fn protocol(name: &str) -> Option<(u16, Option<u8>)> {
    Some(match name {
        "ip" => (ETH_TYPE_IP, None),
        "ipv6" => (ETH_TYPE_IPV6, None),
        "icmp" => (ETH_TYPE_IP, Some(IPPROTO_ICMP)),
        "icmp6" => (ETH_TYPE_IPV6, Some(IPPROTO_ICMPV6)),
        "tcp" => (ETH_TYPE_IP, Some(IPPROTO_TCP)),
        "tcp6" => (ETH_TYPE_IPV6, Some(IPPROTO_TCP)),
        "udp" => (ETH_TYPE_IP, Some(IPPROTO_UDP)),
        "udp6" => (ETH_TYPE_IPV6, Some(IPPROTO_UDP)),
        "sctp" => (ETH_TYPE_IP, Some(IPPROTO_SCTP)),
        "sctp6" => (ETH_TYPE_IPV6, Some(IPPROTO_SCTP)),
        "arp" => (ETH_TYPE_ARP, None),
        "rarp" => (ETH_TYPE_RARP, None),
        "mpls" => (ETH_TYPE_MPLS, None),
        "mplsm" => (ETH_TYPE_MPLS_MCAST, None),
        _ => return None,
    })
}

pub(super) fn flow_mod(
    text: &str,
    command: FlowModCommand,
    names: &dyn Fn(&str) -> Option<u32>,
) -> Result<FlowMod, ParseError> {
    let adding = command == FlowModCommand::Add;
    let deleting = matches!(
        command,
        FlowModCommand::Delete | FlowModCommand::DeleteStrict
    );
    let strict = matches!(
        command,
        FlowModCommand::ModifyStrict | FlowModCommand::DeleteStrict
    );
    let mut fm = FlowMod::add(Flow {
        table_id: if adding { 0 } else { ALL_TABLES },
        ..Flow::default()
    });
    fm.command = command;
    let (mut key, mut mask) = (FlowKey::default(), FlowKey::default());
    let mut seen: Vec<Seen> = Vec::new();
    let mut actions_at: Option<usize> = None;
    for t in Lexer::new(text, 0) {
        let err = |kind| ParseError::new(t.key_pos, t.text(), kind);
        let not_allowed = || {
            err(ParseErrorKind::NotAllowed {
                what: t.key.to_string(),
                command: command_name(command),
            })
        };
        let num = |max| value::uint_max(t.value, max).map_err(|r| err(ParseErrorKind::BadValue(r)));
        if let Some((dl_type, proto)) = protocol(t.key) {
            (key.dl_type, mask.dl_type) = (dl_type, !0);
            if let Some(p) = proto {
                (key.nw_proto, mask.nw_proto) = (p, !0);
            }
            let slot = if proto.is_some() {
                "nw_proto"
            } else {
                "dl_type"
            };
            seen.push(Seen {
                slot,
                pos: t.key_pos,
                token: t.text(),
                extra: None,
            });
            continue;
        }
        if let Some(&(flag, _)) = FlowFlags::NAMES.iter().find(|(_, n)| *n == t.key) {
            if deleting {
                return Err(not_allowed());
            }
            fm.flow.flags |= flag;
            continue;
        }
        match t.key {
            "actions" | "action" => {
                if deleting {
                    return Err(not_allowed());
                }
                actions_at = Some(t.value_pos);
                break;
            }
            "table" => {
                let table = num(0xff)? as u8;
                if adding && table == ALL_TABLES {
                    return Err(err(ParseErrorKind::BadValue(
                        "a flow cannot be added to all tables (255)".into(),
                    )));
                }
                fm.flow.table_id = table;
            }
            "priority" if deleting && !strict => return Err(not_allowed()),
            "priority" => fm.flow.priority = num(0xffff)? as u16,
            "idle_timeout" | "hard_timeout" if deleting => return Err(not_allowed()),
            "idle_timeout" => fm.flow.idle_timeout = num(0xffff)? as u16,
            "hard_timeout" => fm.flow.hard_timeout = num(0xffff)? as u16,
            "cookie" => match t.value.split_once('/') {
                Some(_) if adding => return Err(err(ParseErrorKind::CookieMaskOnAdd)),
                Some(_) => {
                    let (c, m) = value::uint_masked(t.value, u64::MAX)
                        .map_err(|r| err(ParseErrorKind::BadValue(r)))?;
                    (fm.flow.cookie, fm.cookie_mask) = (c, m);
                }
                None if deleting => return Err(err(ParseErrorKind::CookieWithoutMask)),
                None => fm.flow.cookie = num(u64::MAX)?,
            },
            "out_port" if !deleting => return Err(not_allowed()),
            "out_port" => {
                fm.out_port = value::port(t.value, names)
                    .ok_or_else(|| err(ParseErrorKind::UnknownPort(t.value.to_string())))?;
            }
            "out_group" if !deleting => return Err(not_allowed()),
            "out_group" => fm.out_group = num(0xffff_ffff)? as u32,
            // What dump-flows prints and add-flow ignores, so that dump-flows
            // output can be fed back.
            "duration" | "n_packets" | "n_bytes" | "idle_age" | "hard_age" => {}
            _ => {
                if t.value.is_empty() && t.delim.is_none() && is_field(t.key) {
                    return Err(err(ParseErrorKind::MissingValue(t.key.to_string())));
                }
                match field(&t, &mut key, &mut mask, names) {
                    Ok(Some((slot, extra))) => seen.push(Seen {
                        slot,
                        pos: t.key_pos,
                        token: t.text(),
                        extra,
                    }),
                    Ok(None) => return Err(err(ParseErrorKind::UnknownKeyword(t.key.to_string()))),
                    Err(kind) => return Err(err(kind)),
                }
            }
        }
    }
    // OpenFlow 1.3 has no way to say "untagged" with the PCP bits: a match
    // on an absent tag ignores them (as ovs-ofctl's round trip shows).
    if mask.vlan_tci & VLAN_CFI != 0 && key.vlan_tci & (VLAN_CFI | VLAN_PCP_MASK) == 0 {
        mask.vlan_tci &= !VLAN_PCP_MASK;
    }
    fm.flow.r#match = Match::new(key, mask);
    check_match(&fm.flow.r#match, &seen)?;
    match actions_at {
        Some(at) => {
            fm.flow.instructions =
                actions::instructions(&text[at..], at, &fm.flow.r#match, fm.flow.table_id, names)?
        }
        None if !deleting => {
            return Err(ParseError::new(
                text.len(),
                String::new(),
                ParseErrorKind::MissingActions,
            ))
        }
        None => {}
    }
    if !deleting {
        // Everything was checked piecewise with positions; this is the net.
        fm.flow
            .validate()
            .map_err(|e| ParseError::new(0, text.to_string(), ParseErrorKind::Flow(e)))?;
    }
    Ok(fm)
}

/// Validates the match, placing an error at the keyword that caused it.
fn check_match(m: &Match, seen: &[Seen]) -> Result<(), ParseError> {
    let place = |slot: &str, kind| {
        let s = seen.iter().rev().find(|s| s.slot == slot);
        ParseError::new(
            s.map_or(0, |s| s.pos),
            s.map_or_else(String::new, |s| s.token.clone()),
            kind,
        )
    };
    for s in seen {
        if let Some((field, needs)) = s.extra.filter(|(_, p)| !p.holds(m)) {
            let kind = ParseErrorKind::Match(MatchError::Prerequisite { field, needs });
            return Err(ParseError::new(s.pos, s.token.clone(), kind));
        }
    }
    if let Err(e) = m.validate() {
        let field = match &e {
            MatchError::ValueOutsideMask { field }
            | MatchError::BadMask { field, .. }
            | MatchError::Prerequisite { field, .. } => *field,
        };
        return Err(place(slot_of(field), ParseErrorKind::Match(e)));
    }
    Ok(())
}

/// The `FlowKey` field behind a field name in a [`MatchError`].
fn slot_of(field: &str) -> &str {
    match field {
        "nw_src" | "arp_spa" => "ipv4_src",
        "nw_dst" | "arp_tpa" => "ipv4_dst",
        "icmp_type" => "tp_src",
        "mpls_label" | "mpls_tc" | "mpls_bos" | "mpls_ttl" => "mpls_lse",
        "arp_op" => "nw_proto",
        f => f,
    }
}

fn is_field(name: &str) -> bool {
    let mut k = FlowKey::default();
    let mut m = FlowKey::default();
    let probe = Token {
        key: name,
        key_pos: 0,
        value: "0",
        value_pos: 0,
        delim: Some(b'='),
    };
    !matches!(field(&probe, &mut k, &mut m, &|_| None), Ok(None))
}

type FieldResult = Result<Option<(&'static str, Option<(&'static str, Prereq)>)>, ParseErrorKind>;

/// Sets the match field named by `t.key` from `t.value`; `Ok(None)` when
/// `t.key` names no field.
fn field(
    t: &Token,
    key: &mut FlowKey,
    mask: &mut FlowKey,
    names: &dyn Fn(&str) -> Option<u32>,
) -> FieldResult {
    let v = t.value;
    let bad = ParseErrorKind::BadValue;
    let exact = |max: u64| -> Result<u64, ParseErrorKind> {
        if v.contains('/') {
            return Err(bad(format!("{v}: field {} cannot be masked", t.key)));
        }
        value::uint_max(v, max).map_err(bad)
    };
    let masked = |max: u64| value::uint_masked(v, max).map_err(bad);
    macro_rules! set {
        ($f:ident, $pair:expr) => {{
            let (val, m) = $pair;
            (key.$f, mask.$f) = (val & m, m);
            stringify!($f)
        }};
    }
    macro_rules! set_mac {
        ($f:ident) => {{
            let (val, m) = value::mac_masked(v).map_err(bad)?;
            (key.$f, mask.$f) = (std::array::from_fn(|i| val[i] & m[i]), m);
            stringify!($f)
        }};
    }
    let slot: &'static str = match t.key {
        "in_port" | "in_port_oxm" => {
            let p = value::port(v, names).ok_or_else(|| bad(format!("{v}: unknown port")))?;
            set!(in_port, (p.0, !0u32))
        }
        "metadata" => set!(metadata, masked(u64::MAX)?),
        "dl_src" | "eth_src" => set_mac!(dl_src),
        "dl_dst" | "eth_dst" => set_mac!(dl_dst),
        "dl_type" | "eth_type" => set!(dl_type, (exact(0xffff)? as u16, !0u16)),
        "dl_vlan" => {
            let vid = exact(0xffff)? as u16;
            if vid == 0xffff {
                (key.vlan_tci, mask.vlan_tci) = (0, mask.vlan_tci | VLAN_CFI | VLAN_VID_MASK);
            } else if vid > VLAN_VID_MASK {
                return Err(bad(format!(
                    "{v}: not a valid VLAN id (0 to 4095, or 0xffff for none)"
                )));
            } else {
                key.vlan_tci = (key.vlan_tci & !VLAN_VID_MASK) | VLAN_CFI | vid;
                mask.vlan_tci |= VLAN_CFI | VLAN_VID_MASK;
            }
            "vlan_tci"
        }
        "dl_vlan_pcp" | "vlan_pcp" => {
            let pcp = exact(7)? as u16;
            key.vlan_tci = (key.vlan_tci & !VLAN_PCP_MASK) | VLAN_CFI | pcp << 13;
            mask.vlan_tci |= VLAN_CFI | VLAN_PCP_MASK;
            "vlan_tci"
        }
        "vlan_tci" => {
            let (val, m) = masked(0xffff)?;
            set!(vlan_tci, (val as u16, m as u16))
        }
        "vlan_vid" => {
            let (val, m) = masked(0x1fff)?;
            key.vlan_tci = (key.vlan_tci & !0x1fff) | (val & m) as u16;
            mask.vlan_tci = (mask.vlan_tci & !0x1fff) | m as u16;
            "vlan_tci"
        }
        "nw_src" | "ip_src" | "arp_spa" => set!(ipv4_src, value::ipv4_masked(v).map_err(bad)?),
        "nw_dst" | "ip_dst" | "arp_tpa" => set!(ipv4_dst, value::ipv4_masked(v).map_err(bad)?),
        "nw_proto" | "ip_proto" | "arp_op" => set!(nw_proto, (exact(0xff)? as u8, !0u8)),
        "nw_tos" => {
            let tos = exact(0xff)? as u8;
            if tos & 3 != 0 {
                return Err(bad(format!(
                    "{v}: nw_tos holds the DSCP bits of the TOS byte (a multiple of 4)"
                )));
            }
            (key.nw_tos, mask.nw_tos) = ((key.nw_tos & 3) | tos, mask.nw_tos | 0xfc);
            "nw_tos"
        }
        "ip_dscp" => {
            let dscp = exact(63)? as u8;
            (key.nw_tos, mask.nw_tos) = ((key.nw_tos & 3) | dscp << 2, mask.nw_tos | 0xfc);
            "nw_tos"
        }
        "nw_ecn" | "ip_ecn" => {
            let ecn = exact(3)? as u8;
            (key.nw_tos, mask.nw_tos) = ((key.nw_tos & 0xfc) | ecn, mask.nw_tos | 3);
            "nw_tos"
        }
        "nw_ttl" => set!(nw_ttl, (exact(0xff)? as u8, !0u8)),
        "nw_frag" => set!(
            nw_frag,
            match v {
                "no" => (0u8, 1u8),
                "yes" => (1, 1),
                "first" => (1, 3),
                "later" => (3, 3),
                "not_later" => (0, 2),
                _ =>
                    return Err(bad(format!(
                        "{v}: nw_frag is one of no, yes, first, later, not_later"
                    ))),
            }
        ),
        "tp_src" | "tcp_src" | "udp_src" | "sctp_src" => {
            let (val, m) = masked(0xffff)?;
            set!(tp_src, (val as u16, m as u16))
        }
        "tp_dst" | "tcp_dst" | "udp_dst" | "sctp_dst" => {
            let (val, m) = masked(0xffff)?;
            set!(tp_dst, (val as u16, m as u16))
        }
        "tcp_flags" => set!(tcp_flags, tcp_flags(v).map_err(bad)?),
        "icmp_type" | "icmpv4_type" | "icmpv6_type" => set!(tp_src, (exact(0xff)? as u16, !0u16)),
        "icmp_code" | "icmpv4_code" | "icmpv6_code" => set!(tp_dst, (exact(0xff)? as u16, !0u16)),
        "arp_sha" => set_mac!(arp_sha),
        "arp_tha" => set_mac!(arp_tha),
        "nd_sll" => set_mac!(nd_sll),
        "nd_tll" => set_mac!(nd_tll),
        "ipv6_src" => set!(ipv6_src, value::ipv6_masked(v).map_err(bad)?),
        "ipv6_dst" => set!(ipv6_dst, value::ipv6_masked(v).map_err(bad)?),
        "nd_target" => set!(nd_target, value::ipv6_masked(v).map_err(bad)?),
        "ipv6_label" => {
            let (val, m) = masked(0xf_ffff)?;
            set!(ipv6_label, (val as u32, m as u32))
        }
        "tun_id" | "tunnel_id" => set!(tunnel_id, masked(u64::MAX)?),
        "mpls_label" | "mpls_tc" | "mpls_bos" | "mpls_ttl" => {
            let (max, shift) = match t.key {
                "mpls_label" => (0xf_ffff, 12),
                "mpls_tc" => (7, 9),
                "mpls_bos" => (1, 8),
                _ => (0xff, 0),
            };
            let val = (exact(max)? as u32) << shift;
            let m = (max as u32) << shift;
            (key.mpls_lse, mask.mpls_lse) = ((key.mpls_lse & !m) | val, mask.mpls_lse | m);
            "mpls_lse"
        }
        "pbb_isid" => {
            let (val, m) = masked(0xff_ffff)?;
            set!(pbb_isid, (val as u32, m as u32))
        }
        "ipv6_exthdr" => {
            let (val, m) = masked(0x1ff)?;
            set!(ipv6_exthdr, (val as u16, m as u16))
        }
        _ => return Ok(None),
    };
    let extra = match t.key {
        "tcp_src" => Some(("tcp_src", Prereq::Tcp)),
        "tcp_dst" => Some(("tcp_dst", Prereq::Tcp)),
        "udp_src" => Some(("udp_src", Prereq::Udp)),
        "udp_dst" => Some(("udp_dst", Prereq::Udp)),
        "sctp_src" => Some(("sctp_src", Prereq::Sctp)),
        "sctp_dst" => Some(("sctp_dst", Prereq::Sctp)),
        "icmp_type" => Some(("icmp_type", Prereq::Icmp)),
        "icmp_code" => Some(("icmp_code", Prereq::Icmp)),
        "icmpv4_type" => Some(("icmpv4_type", Prereq::Icmpv4)),
        "icmpv4_code" => Some(("icmpv4_code", Prereq::Icmpv4)),
        "icmpv6_type" => Some(("icmpv6_type", Prereq::Icmpv6)),
        "icmpv6_code" => Some(("icmpv6_code", Prereq::Icmpv6)),
        _ => None,
    };
    Ok(Some((slot, extra)))
}

/// `tcp_flags`: `+syn-ack` (each named bit set or clear, others ignored),
/// `syn|ack` (exactly these), or a number with an optional mask.
fn tcp_flags(v: &str) -> Result<(u16, u16), String> {
    let bit = |name: &str| -> Result<u16, String> {
        if let Some(i) = TCP_FLAG_NAMES.iter().position(|n| *n == name) {
            return Ok(1 << i);
        }
        match value::uint(name) {
            Some(b) if b.is_power_of_two() && b <= 0x800 => Ok(b as u16),
            _ => Err(format!("{name}: unknown TCP flag")),
        }
    };
    if v.starts_with('+') || v.starts_with('-') {
        let (mut val, mut mask) = (0u16, 0u16);
        let mut rest = v;
        while let Some(sign) = rest.chars().next() {
            let body = &rest[1..];
            let end = body.find(['+', '-']).unwrap_or(body.len());
            let b = bit(&body[..end])?;
            mask |= b;
            if sign == '+' {
                val |= b;
            }
            rest = &body[end..];
        }
        return Ok((val, mask));
    }
    if v.contains('|') || v.bytes().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        let mut val = 0;
        for name in v.split('|') {
            val |= bit(name)?;
        }
        return Ok((val, 0x0fff));
    }
    let (val, m) = value::uint_masked(v, 0x0fff)?;
    Ok((val as u16, m as u16))
}
