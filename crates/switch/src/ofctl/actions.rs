//! Parsing the text after `actions=` into OpenFlow 1.3 instructions.
//!
//! Plain actions form the apply-actions instruction; `meter`,
//! `clear_actions`, `write_actions(...)`, `write_metadata` and `goto_table`
//! are instructions and must come in OpenFlow order, each at most once.
//! ovs-ofctl's legacy actions become what ovs-ofctl sends in OpenFlow 1.3:
//! `mod_vlan_vid`/`mod_vlan_pcp` are `set_field` preceded by a
//! `push_vlan:0x8100` when the packet may be untagged at that point,
//! `mod_dl_src` is `set_field:..->eth_src`, `mod_nw_tos` sets `ip_dscp`,
//! `mod_tp_src` sets tcp/udp/sctp_src by the flow's protocol,
//! `strip_vlan` is `pop_vlan`, `set_mpls_label`/`set_mpls_tc` set those
//! fields. Each action is checked against what the match and the actions
//! before it guarantee about the packet (write-actions in the order the
//! action set runs them).

use super::lex::{Lexer, Token};
use super::{value, ParseError, ParseErrorKind};
use crate::flow::{
    check_write_actions, Action, Field, FlowError, Instruction, Match, PortNo, ETH_TYPE_VLAN,
    IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP,
};

const INSTRUCTION_NAMES: [&str; 6] = [
    "meter",
    "apply_actions",
    "clear_actions",
    "write_actions",
    "write_metadata",
    "goto_table",
];

pub(super) fn instructions(
    text: &str,
    base: usize,
    m: &Match,
    table_id: u8,
    names: &dyn Fn(&str) -> Option<u32>,
) -> Result<Vec<Instruction>, ParseError> {
    let mut state = *m;
    let mut apply = Vec::new();
    let mut out: Vec<Instruction> = Vec::new();
    let mut last_rank: Option<usize> = None;
    let mut drop: Option<Token> = None;
    let mut n_items = 0;
    for t in Lexer::new(text, base) {
        let err = |kind| ParseError::new(t.key_pos, t.text(), kind);
        let bad = |r: String| err(ParseErrorKind::BadValue(r));
        let key = t.key.to_ascii_lowercase();
        if key == "drop" {
            drop = Some(t);
            continue;
        }
        n_items += 1;
        let (rank, inst) = match key.as_str() {
            "apply_actions" => return Err(err(ParseErrorKind::ApplyActionsKeyword)),
            "meter" => (
                0,
                Some(Instruction::Meter(
                    value::uint_max(t.value, 0xffff_ffff).map_err(bad)? as u32,
                )),
            ),
            "clear_actions" => (2, Some(Instruction::ClearActions)),
            "write_actions" => {
                let mut set_state = state;
                let list = action_list(t.value, t.value_pos, &mut set_state, names)?;
                (3, Some(Instruction::WriteActions(list)))
            }
            "write_metadata" => {
                let (value, mask) = value::uint_masked(t.value, u64::MAX).map_err(bad)?;
                (4, Some(Instruction::WriteMetadata { value, mask }))
            }
            "goto_table" => {
                let to = value::uint_max(t.value, 0xfe).map_err(bad)? as u8;
                if to <= table_id {
                    return Err(err(ParseErrorKind::Flow(FlowError::GotoBackward {
                        from: table_id,
                        to,
                    })));
                }
                (5, Some(Instruction::GotoTable(to)))
            }
            _ => {
                apply.extend(action(&t, &mut state, names)?);
                (1, None)
            }
        };
        if let Some(last) = last_rank {
            if rank < last {
                let e = FlowError::InstructionOrder {
                    first: INSTRUCTION_NAMES[rank],
                    second: INSTRUCTION_NAMES[last],
                };
                return Err(err(ParseErrorKind::Flow(e)));
            }
            if rank == last && rank != 1 {
                return Err(err(ParseErrorKind::Flow(FlowError::DuplicateInstruction(
                    INSTRUCTION_NAMES[rank],
                ))));
            }
        }
        last_rank = Some(rank);
        if rank == 1
            && !out
                .iter()
                .any(|i| matches!(i, Instruction::ApplyActions(_)))
        {
            out.push(Instruction::ApplyActions(Vec::new()));
        }
        out.extend(inst);
    }
    if let Some(t) = drop {
        if n_items > 0 {
            return Err(ParseError::new(
                t.key_pos,
                t.text(),
                ParseErrorKind::DropWithOthers,
            ));
        }
    }
    for i in &mut out {
        if let Instruction::ApplyActions(list) = i {
            *list = std::mem::take(&mut apply);
        }
    }
    Ok(out)
}

/// The actions inside `write_actions(...)`: each checked on its own, then
/// all against `state` in the order the action set will run them
/// ([`check_write_actions`]), an error placed at the action's keyword.
fn action_list(
    text: &str,
    base: usize,
    state: &mut Match,
    names: &dyn Fn(&str) -> Option<u32>,
) -> Result<Vec<Action>, ParseError> {
    let mut out = Vec::new();
    let mut tokens = Vec::new();
    let start = *state;
    for t in Lexer::new(text, base) {
        let key = t.key.to_ascii_lowercase();
        if INSTRUCTION_NAMES.contains(&key.as_str()) || key == "drop" {
            let kind =
                ParseErrorKind::BadValue(format!("{key} is not an action (inside write_actions)"));
            return Err(ParseError::new(t.key_pos, t.text(), kind));
        }
        // In writing order only for what legacy actions expand to.
        for a in unchecked_action(&t, state, names)? {
            let _ = a.check(state);
            out.push(a);
            tokens.push(t);
        }
    }
    check_write_actions(&out, &start).map_err(|(i, e)| {
        let t = &tokens[i];
        ParseError::new(t.key_pos, t.text(), ParseErrorKind::Action(e))
    })?;
    Ok(out)
}

/// The action list of a group bucket: plain actions only (`drop` = none).
/// Each is checked on its own (values, ports), not against a match: a
/// group does not know the packets it will see.
pub(super) fn bucket_actions(
    text: &str,
    base: usize,
    names: &dyn Fn(&str) -> Option<u32>,
) -> Result<Vec<Action>, ParseError> {
    let mut out = Vec::new();
    for t in Lexer::new(text, base) {
        let key = t.key.to_ascii_lowercase();
        if key == "drop" && t.delim.is_none() {
            continue;
        }
        if INSTRUCTION_NAMES.contains(&key.as_str()) {
            let kind = ParseErrorKind::BadValue(format!("{key} is not an action (in a bucket)"));
            return Err(ParseError::new(t.key_pos, t.text(), kind));
        }
        let mut state = Match::catch_all();
        for a in unchecked_action(&t, &state, names)? {
            match a.check(&mut state) {
                Ok(()) | Err(crate::flow::ActionError::Prerequisite { .. }) => out.push(a),
                Err(e) => {
                    return Err(ParseError::new(
                        t.key_pos,
                        t.text(),
                        ParseErrorKind::Action(e),
                    ))
                }
            }
        }
    }
    Ok(out)
}

/// One action keyword (may expand to two actions), checked against and
/// applied to `state`.
fn action(
    t: &Token,
    state: &mut Match,
    names: &dyn Fn(&str) -> Option<u32>,
) -> Result<Vec<Action>, ParseError> {
    let err = |kind| ParseError::new(t.key_pos, t.text(), kind);
    let actions = unchecked_action(t, state, names)?;
    for a in &actions {
        a.check(state).map_err(|e| err(ParseErrorKind::Action(e)))?;
    }
    Ok(actions)
}

/// One action keyword as it reads (`state` decides what legacy actions
/// expand to), unchecked.
fn unchecked_action(
    t: &Token,
    state: &Match,
    names: &dyn Fn(&str) -> Option<u32>,
) -> Result<Vec<Action>, ParseError> {
    let err = |kind| ParseError::new(t.key_pos, t.text(), kind);
    let bad = |r: String| err(ParseErrorKind::BadValue(r));
    let v = t.value;
    let num = |max| value::uint_max(v, max).map_err(bad);
    let key = t.key.to_ascii_lowercase();
    let set = |f| vec![Action::SetField(f)];
    let actions = match key.as_str() {
        "output" => {
            let p = value::port(v, names)
                .ok_or_else(|| err(ParseErrorKind::UnknownPort(v.to_string())))?;
            vec![output(p)]
        }
        "controller" => vec![Action::Controller {
            max_len: controller(v).map_err(bad)?,
        }],
        "strip_vlan" | "pop_vlan" => vec![Action::PopVlan],
        "push_vlan" => vec![Action::PushVlan(num(0xffff)? as u16)],
        "mod_vlan_vid" | "set_vlan_vid" => {
            let vid = value::uint(v)
                .filter(|&x| x <= 0xfff)
                .ok_or_else(|| bad(format!("{v}: not a valid VLAN VID")))?;
            vlan(key.starts_with("mod"), state, Field::VlanVid(vid as u16))
        }
        "mod_vlan_pcp" | "set_vlan_pcp" => {
            let pcp = value::uint(v)
                .filter(|&x| x <= 7)
                .ok_or_else(|| bad(format!("{v}: not a valid VLAN PCP")))?;
            vlan(key.starts_with("mod"), state, Field::VlanPcp(pcp as u8))
        }
        "mod_dl_src" => set(Field::EthSrc(value::mac(v).map_err(bad)?)),
        "mod_dl_dst" => set(Field::EthDst(value::mac(v).map_err(bad)?)),
        "mod_nw_src" => set(Field::Ipv4Src(value::ipv4(v).map_err(bad)?)),
        "mod_nw_dst" => set(Field::Ipv4Dst(value::ipv4(v).map_err(bad)?)),
        "mod_nw_tos" => {
            let tos = value::uint(v)
                .filter(|&x| x <= 0xff && x & 3 == 0)
                .ok_or_else(|| bad(format!("{v}: not a valid TOS")))?;
            set(Field::IpDscp((tos >> 2) as u8))
        }
        "mod_nw_ecn" => {
            let ecn = value::uint(v)
                .filter(|&x| x <= 3)
                .ok_or_else(|| bad(format!("{v}: not a valid ECN")))?;
            set(Field::IpEcn(ecn as u8))
        }
        "mod_nw_ttl" | "set_nw_ttl" => vec![Action::SetNwTtl(num(0xff)? as u8)],
        "mod_tp_src" | "mod_tp_dst" => {
            let port = num(0xffff)? as u16;
            let src = key == "mod_tp_src";
            let f = match state.exact_nw_proto() {
                Some(IPPROTO_TCP) if src => Field::TcpSrc(port),
                Some(IPPROTO_TCP) => Field::TcpDst(port),
                Some(IPPROTO_UDP) if src => Field::UdpSrc(port),
                Some(IPPROTO_UDP) => Field::UdpDst(port),
                Some(IPPROTO_SCTP) if src => Field::SctpSrc(port),
                Some(IPPROTO_SCTP) => Field::SctpDst(port),
                _ => return Err(bad(format!("{key} requires tcp, udp or sctp in the match"))),
            };
            set(f)
        }
        "set_field" => set(set_field(v).map_err(bad)?),
        "dec_ttl" if !v.is_empty() => {
            return Err(bad("dec_ttl with controller ids is not supported".into()))
        }
        "dec_ttl" => vec![Action::DecTtl],
        "copy_ttl_out" if v.is_empty() => vec![Action::CopyTtlOut],
        "copy_ttl_in" if v.is_empty() => vec![Action::CopyTtlIn],
        "dec_mpls_ttl" if v.is_empty() => vec![Action::DecMplsTtl],
        "pop_pbb" if v.is_empty() => vec![Action::PopPbb],
        "set_mpls_ttl" => vec![Action::SetMplsTtl(num(0xff)? as u8)],
        "push_mpls" => vec![Action::PushMpls(num(0xffff)? as u16)],
        "pop_mpls" => vec![Action::PopMpls(num(0xffff)? as u16)],
        "push_pbb" => vec![Action::PushPbb(num(0xffff)? as u16)],
        "set_mpls_label" => set(Field::MplsLabel(num(0xf_ffff)? as u32)),
        "set_mpls_tc" => set(Field::MplsTc(num(7)? as u8)),
        "set_queue" => vec![Action::SetQueue(num(0xffff_ffff)? as u32)],
        "group" => vec![Action::Group(num(0xffff_ffff)? as u32)],
        _ => match value::port(t.key, names) {
            // A bare port number or name (`2`, `normal`, `LOCAL`) outputs.
            Some(p) if t.delim.is_none() => vec![output(p)],
            _ => return Err(err(ParseErrorKind::UnknownAction(t.key.to_string()))),
        },
    };
    Ok(actions)
}

fn output(p: PortNo) -> Action {
    if p == PortNo::CONTROLLER {
        Action::Controller { max_len: u16::MAX }
    } else {
        Action::Output(p)
    }
}

/// `mod_vlan_*` pushes a tag first if the packet may have none.
fn vlan(push_if_needed: bool, state: &Match, f: Field) -> Vec<Action> {
    if push_if_needed && !state.has_vlan() {
        vec![Action::PushVlan(ETH_TYPE_VLAN), Action::SetField(f)]
    } else {
        vec![Action::SetField(f)]
    }
}

/// `controller`, `controller:N`, `controller(max_len=N,reason=action,id=0)`.
fn controller(v: &str) -> Result<u16, String> {
    if v.is_empty() {
        return Ok(u16::MAX);
    }
    if !v.contains('=') {
        return Ok(value::uint_max(v, 0xffff)? as u16);
    }
    let mut max_len = u16::MAX;
    for t in Lexer::new(v, 0) {
        match (t.key, t.value) {
            ("max_len", n) => max_len = value::uint_max(n, 0xffff)? as u16,
            ("reason", "action") | ("id", "0") => {}
            _ => return Err(format!("controller option {} is not supported", t.text())),
        }
    }
    Ok(max_len)
}

/// `VALUE->FIELD`.
fn set_field(v: &str) -> Result<Field, String> {
    let (val, name) = v
        .rsplit_once("->")
        .ok_or_else(|| format!("{v}: missing `->`"))?;
    if val.contains('/') {
        return Err(format!("{v}: set_field with a mask needs OpenFlow 1.5"));
    }
    let n = |max: u64| value::uint_max(val, max);
    use Field::*;
    Ok(match name {
        "eth_src" | "dl_src" => EthSrc(value::mac(val)?),
        "eth_dst" | "dl_dst" => EthDst(value::mac(val)?),
        // With or without OpenFlow's present bit (0x1000).
        "vlan_vid" => VlanVid((n(0x1fff)? & 0xfff) as u16),
        "vlan_pcp" | "dl_vlan_pcp" => VlanPcp(n(7)? as u8),
        "ip_dscp" => IpDscp(n(63)? as u8),
        "nw_tos" => {
            let tos = n(0xff)?;
            if tos & 3 != 0 {
                return Err(format!("{tos} is not a valid value for field nw_tos"));
            }
            IpDscp((tos >> 2) as u8)
        }
        "nw_ecn" | "ip_ecn" => IpEcn(n(3)? as u8),
        "ip_src" | "nw_src" | "ipv4_src" => Ipv4Src(value::ipv4(val)?),
        "ip_dst" | "nw_dst" | "ipv4_dst" => Ipv4Dst(value::ipv4(val)?),
        "tcp_src" | "tp_src" => TcpSrc(n(0xffff)? as u16),
        "tcp_dst" | "tp_dst" => TcpDst(n(0xffff)? as u16),
        "udp_src" => UdpSrc(n(0xffff)? as u16),
        "udp_dst" => UdpDst(n(0xffff)? as u16),
        "sctp_src" => SctpSrc(n(0xffff)? as u16),
        "sctp_dst" => SctpDst(n(0xffff)? as u16),
        "icmp_type" | "icmpv4_type" => Icmpv4Type(n(0xff)? as u8),
        "icmp_code" | "icmpv4_code" => Icmpv4Code(n(0xff)? as u8),
        "icmpv6_type" => Icmpv6Type(n(0xff)? as u8),
        "icmpv6_code" => Icmpv6Code(n(0xff)? as u8),
        "arp_op" => ArpOp(n(0xff)? as u16),
        "arp_spa" => ArpSpa(value::ipv4(val)?),
        "arp_tpa" => ArpTpa(value::ipv4(val)?),
        "arp_sha" => ArpSha(value::mac(val)?),
        "arp_tha" => ArpTha(value::mac(val)?),
        "ipv6_src" => Ipv6Src(value::ipv6(val)?),
        "ipv6_dst" => Ipv6Dst(value::ipv6(val)?),
        "ipv6_label" => Ipv6Label(n(0xf_ffff)? as u32),
        "nd_target" => NdTarget(value::ipv6(val)?),
        "nd_sll" => NdSll(value::mac(val)?),
        "nd_tll" => NdTll(value::mac(val)?),
        "tun_id" | "tunnel_id" => TunnelId(n(u64::MAX)?),
        "mpls_label" => MplsLabel(n(0xf_ffff)? as u32),
        "mpls_tc" => MplsTc(n(7)? as u8),
        "mpls_bos" => MplsBos(n(1)? as u8),
        "mpls_ttl" => MplsTtl(n(0xff)? as u8),
        "nw_ttl" | "ip_ttl" => NwTtl(n(0xff)? as u8),
        "pbb_isid" => PbbIsid(n(0xff_ffff)? as u32),
        _ => return Err(format!("{name} is not a valid OXM field name")),
    })
}
