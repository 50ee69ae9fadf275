//! OpenFlow 1.3 actions (`ofp_action_*`): the codec-level [`Action`] with
//! every action of the spec, its wire codec, and the translation to and
//! from the switch's [`vnet_switch::flow::Action`].
//!
//! Every action of the spec has its switch-model counterpart, one to one
//! ([`Action::to_switch`], [`Action::from_switch`]); what the switch then
//! refuses (a set-field it cannot set, a queue it does not have, an action
//! the match makes impossible) gets the spec's error there. Experimenter
//! actions are refused at decode with OFPBAC_BAD_EXPERIMENTER (no
//! experimenter is known).
//!
//! What it must never do: drop or reorder an action, or panic on input.

use vnet_switch::flow::{self, PortNo};

use crate::buf::{len16, pad8, Put, Reader};
use crate::error::*;
use crate::oxm::{OxmTlv, TlvProblem};

pub const OFPAT_OUTPUT: u16 = 0;
pub const OFPAT_COPY_TTL_OUT: u16 = 11;
pub const OFPAT_COPY_TTL_IN: u16 = 12;
pub const OFPAT_SET_MPLS_TTL: u16 = 15;
pub const OFPAT_DEC_MPLS_TTL: u16 = 16;
pub const OFPAT_PUSH_VLAN: u16 = 17;
pub const OFPAT_POP_VLAN: u16 = 18;
pub const OFPAT_PUSH_MPLS: u16 = 19;
pub const OFPAT_POP_MPLS: u16 = 20;
pub const OFPAT_SET_QUEUE: u16 = 21;
pub const OFPAT_GROUP: u16 = 22;
pub const OFPAT_SET_NW_TTL: u16 = 23;
pub const OFPAT_DEC_NW_TTL: u16 = 24;
pub const OFPAT_SET_FIELD: u16 = 25;
pub const OFPAT_PUSH_PBB: u16 = 26;
pub const OFPAT_POP_PBB: u16 = 27;
pub const OFPAT_EXPERIMENTER: u16 = 0xffff;

/// Every action type this switch runs (what table and group features
/// advertise). SET_QUEUE is not among them: no port has queues, so every
/// set_queue is refused with OFPBAC_BAD_QUEUE.
pub const SUPPORTED_ACTIONS: [u16; 15] = [
    OFPAT_OUTPUT,
    OFPAT_COPY_TTL_OUT,
    OFPAT_COPY_TTL_IN,
    OFPAT_SET_MPLS_TTL,
    OFPAT_DEC_MPLS_TTL,
    OFPAT_PUSH_VLAN,
    OFPAT_POP_VLAN,
    OFPAT_PUSH_MPLS,
    OFPAT_POP_MPLS,
    OFPAT_GROUP,
    OFPAT_SET_NW_TTL,
    OFPAT_DEC_NW_TTL,
    OFPAT_SET_FIELD,
    OFPAT_PUSH_PBB,
    OFPAT_POP_PBB,
];

/// `max_len` asking for the whole packet, unbuffered (`OFPCML_NO_BUFFER`).
pub const OFPCML_NO_BUFFER: u16 = 0xffff;
/// Largest buffered `max_len` (`OFPCML_MAX`).
pub const OFPCML_MAX: u16 = 0xffe5;

/// An OpenFlow 1.3 action.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `max_len` matters only for the CONTROLLER port.
    Output {
        port: u32,
        max_len: u16,
    },
    CopyTtlOut,
    CopyTtlIn,
    SetMplsTtl(u8),
    DecMplsTtl,
    /// The TPID (0x8100 or 0x88a8).
    PushVlan(u16),
    PopVlan,
    /// The MPLS ethertype (0x8847 or 0x8848).
    PushMpls(u16),
    /// The ethertype of the payload after the pop.
    PopMpls(u16),
    SetQueue(u32),
    Group(u32),
    SetNwTtl(u8),
    DecNwTtl,
    SetField(OxmTlv),
    /// The PBB ethertype (0x88e7).
    PushPbb(u16),
    PopPbb,
}

impl Action {
    /// The `OFPAT_*` type.
    pub fn type_code(&self) -> u16 {
        match self {
            Action::Output { .. } => OFPAT_OUTPUT,
            Action::CopyTtlOut => OFPAT_COPY_TTL_OUT,
            Action::CopyTtlIn => OFPAT_COPY_TTL_IN,
            Action::SetMplsTtl(_) => OFPAT_SET_MPLS_TTL,
            Action::DecMplsTtl => OFPAT_DEC_MPLS_TTL,
            Action::PushVlan(_) => OFPAT_PUSH_VLAN,
            Action::PopVlan => OFPAT_POP_VLAN,
            Action::PushMpls(_) => OFPAT_PUSH_MPLS,
            Action::PopMpls(_) => OFPAT_POP_MPLS,
            Action::SetQueue(_) => OFPAT_SET_QUEUE,
            Action::Group(_) => OFPAT_GROUP,
            Action::SetNwTtl(_) => OFPAT_SET_NW_TTL,
            Action::DecNwTtl => OFPAT_DEC_NW_TTL,
            Action::SetField(_) => OFPAT_SET_FIELD,
            Action::PushPbb(_) => OFPAT_PUSH_PBB,
            Action::PopPbb => OFPAT_POP_PBB,
        }
    }

    /// The spec's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Output { .. } => "output",
            Action::CopyTtlOut => "copy_ttl_out",
            Action::CopyTtlIn => "copy_ttl_in",
            Action::SetMplsTtl(_) => "set_mpls_ttl",
            Action::DecMplsTtl => "dec_mpls_ttl",
            Action::PushVlan(_) => "push_vlan",
            Action::PopVlan => "pop_vlan",
            Action::PushMpls(_) => "push_mpls",
            Action::PopMpls(_) => "pop_mpls",
            Action::SetQueue(_) => "set_queue",
            Action::Group(_) => "group",
            Action::SetNwTtl(_) => "set_nw_ttl",
            Action::DecNwTtl => "dec_nw_ttl",
            Action::SetField(_) => "set_field",
            Action::PushPbb(_) => "push_pbb",
            Action::PopPbb => "pop_pbb",
        }
    }

    /// Appends the action.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.put_u16(self.type_code());
        out.put_u16(0);
        match self {
            Action::Output { port, max_len } => {
                out.put_u32(*port);
                out.put_u16(*max_len);
                out.put_zeros(6);
            }
            Action::SetMplsTtl(t) | Action::SetNwTtl(t) => {
                out.put_u8(*t);
                out.put_zeros(3);
            }
            Action::PushVlan(e) | Action::PushMpls(e) | Action::PopMpls(e) | Action::PushPbb(e) => {
                out.put_u16(*e);
                out.put_zeros(2);
            }
            Action::SetQueue(n) | Action::Group(n) => out.put_u32(*n),
            Action::SetField(tlv) => tlv.encode(out),
            Action::CopyTtlOut
            | Action::CopyTtlIn
            | Action::DecMplsTtl
            | Action::PopVlan
            | Action::DecNwTtl
            | Action::PopPbb => out.put_zeros(4),
        }
        out.pad8_from(start);
        let len = len16(out.len() - start);
        out.set_u16(start + 2, len);
    }

    /// Reads one action.
    fn decode(r: &mut Reader) -> Result<Action, DecodeError> {
        let at = r.pos();
        let atype = r.u16()?;
        let len = usize::from(r.u16()?);
        if len < 8 || len % 8 != 0 {
            return Err(DecodeError::new(
                OFPBAC_BAD_LEN,
                format!("action type {atype} at offset {at} has length {len}"),
            ));
        }
        let mut b = r.sub(len - 4, "action")?;
        let fixed = |want: usize| {
            if len == want {
                Ok(())
            } else {
                Err(DecodeError::new(
                    OFPBAC_BAD_LEN,
                    format!("action type {atype} has length {len}, expected {want}"),
                ))
            }
        };
        let a = match atype {
            OFPAT_OUTPUT => {
                fixed(16)?;
                Action::Output {
                    port: b.u32()?,
                    max_len: b.u16()?,
                }
            }
            OFPAT_COPY_TTL_OUT => fixed(8).map(|_| Action::CopyTtlOut)?,
            OFPAT_COPY_TTL_IN => fixed(8).map(|_| Action::CopyTtlIn)?,
            OFPAT_SET_MPLS_TTL => fixed(8).and_then(|_| Ok(Action::SetMplsTtl(b.u8()?)))?,
            OFPAT_DEC_MPLS_TTL => fixed(8).map(|_| Action::DecMplsTtl)?,
            OFPAT_PUSH_VLAN => fixed(8).and_then(|_| Ok(Action::PushVlan(b.u16()?)))?,
            OFPAT_POP_VLAN => fixed(8).map(|_| Action::PopVlan)?,
            OFPAT_PUSH_MPLS => fixed(8).and_then(|_| Ok(Action::PushMpls(b.u16()?)))?,
            OFPAT_POP_MPLS => fixed(8).and_then(|_| Ok(Action::PopMpls(b.u16()?)))?,
            OFPAT_SET_QUEUE => fixed(8).and_then(|_| Ok(Action::SetQueue(b.u32()?)))?,
            OFPAT_GROUP => fixed(8).and_then(|_| Ok(Action::Group(b.u32()?)))?,
            OFPAT_SET_NW_TTL => fixed(8).and_then(|_| Ok(Action::SetNwTtl(b.u8()?)))?,
            OFPAT_DEC_NW_TTL => fixed(8).map(|_| Action::DecNwTtl)?,
            OFPAT_PUSH_PBB => fixed(8).and_then(|_| Ok(Action::PushPbb(b.u16()?)))?,
            OFPAT_POP_PBB => fixed(8).map(|_| Action::PopPbb)?,
            OFPAT_SET_FIELD => {
                let tlv = OxmTlv::decode(&mut b).map_err(|(p, m)| {
                    let kind = match p {
                        TlvProblem::Len => OFPBAC_BAD_SET_LEN,
                        TlvProblem::Field => OFPBAC_BAD_SET_TYPE,
                        TlvProblem::Mask | TlvProblem::Value | TlvProblem::Wildcards => {
                            OFPBAC_BAD_SET_ARGUMENT
                        }
                    };
                    DecodeError::new(kind, format!("set_field: {m}"))
                })?;
                // What follows the TLV is padding: fewer than 8 zero bytes.
                let pad = b.rest();
                if pad.len() >= 8 || pad.iter().any(|&x| x != 0) {
                    return Err(DecodeError::new(
                        OFPBAC_BAD_SET_LEN,
                        format!("set_field {}: bad padding", tlv.field.name()),
                    ));
                }
                if tlv.mask.is_some() {
                    return Err(DecodeError::new(
                        OFPBAC_BAD_SET_ARGUMENT,
                        format!(
                            "set_field {}: OpenFlow 1.3 allows no mask",
                            tlv.field.name()
                        ),
                    ));
                }
                Action::SetField(tlv)
            }
            OFPAT_EXPERIMENTER => {
                let exp = b.u32()?;
                return Err(DecodeError::new(
                    OFPBAC_BAD_EXPERIMENTER,
                    format!("experimenter action {exp:#010x} is not supported"),
                ));
            }
            t => {
                return Err(DecodeError::new(
                    OFPBAC_BAD_TYPE,
                    format!("unknown action type {t}"),
                ))
            }
        };
        Ok(a)
    }

    /// The switch's action (a set-field the switch cannot set is
    /// OFPBAC_BAD_SET_TYPE).
    pub fn to_switch(&self) -> Result<flow::Action, DecodeError> {
        Ok(match self {
            Action::Output { port, max_len } => {
                if *port == PortNo::CONTROLLER.0 {
                    flow::Action::Controller { max_len: *max_len }
                } else {
                    flow::Action::Output(PortNo(*port))
                }
            }
            Action::PushVlan(t) => flow::Action::PushVlan(*t),
            Action::PopVlan => flow::Action::PopVlan,
            Action::SetQueue(q) => flow::Action::SetQueue(*q),
            Action::Group(g) => flow::Action::Group(*g),
            Action::SetNwTtl(t) => flow::Action::SetNwTtl(*t),
            Action::DecNwTtl => flow::Action::DecTtl,
            Action::SetField(tlv) => flow::Action::SetField(tlv.to_field()?),
            Action::CopyTtlOut => flow::Action::CopyTtlOut,
            Action::CopyTtlIn => flow::Action::CopyTtlIn,
            Action::SetMplsTtl(t) => flow::Action::SetMplsTtl(*t),
            Action::DecMplsTtl => flow::Action::DecMplsTtl,
            Action::PushMpls(t) => flow::Action::PushMpls(*t),
            Action::PopMpls(t) => flow::Action::PopMpls(*t),
            Action::PushPbb(t) => flow::Action::PushPbb(*t),
            Action::PopPbb => flow::Action::PopPbb,
        })
    }

    /// The OpenFlow form of the switch's action.
    pub fn from_switch(a: &flow::Action) -> Action {
        match *a {
            // 0 for ordinary ports, as Open vSwitch sends it.
            flow::Action::Output(p) => Action::Output {
                port: p.0,
                max_len: 0,
            },
            flow::Action::Controller { max_len } => Action::Output {
                port: PortNo::CONTROLLER.0,
                max_len,
            },
            flow::Action::PushVlan(t) => Action::PushVlan(t),
            flow::Action::PopVlan => Action::PopVlan,
            flow::Action::SetField(f) => Action::SetField(OxmTlv::from_field(&f)),
            flow::Action::DecTtl => Action::DecNwTtl,
            flow::Action::SetNwTtl(t) => Action::SetNwTtl(t),
            flow::Action::Group(g) => Action::Group(g),
            flow::Action::SetQueue(q) => Action::SetQueue(q),
            flow::Action::CopyTtlOut => Action::CopyTtlOut,
            flow::Action::CopyTtlIn => Action::CopyTtlIn,
            flow::Action::SetMplsTtl(t) => Action::SetMplsTtl(t),
            flow::Action::DecMplsTtl => Action::DecMplsTtl,
            flow::Action::PushMpls(t) => Action::PushMpls(t),
            flow::Action::PopMpls(t) => Action::PopMpls(t),
            flow::Action::PushPbb(t) => Action::PushPbb(t),
            flow::Action::PopPbb => Action::PopPbb,
        }
    }
}

/// Reads a list of actions filling `bytes` exactly.
pub fn decode_actions(bytes: &[u8]) -> Result<Vec<Action>, DecodeError> {
    let mut r = Reader::new(bytes, OFPBAC_BAD_LEN, "action list");
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(Action::decode(&mut r)?);
    }
    Ok(out)
}

/// Appends a list of actions.
pub fn encode_actions(actions: &[Action], out: &mut Vec<u8>) {
    for a in actions {
        a.encode(out);
    }
}

/// Encoded size of a list of actions.
pub fn actions_len(actions: &[Action]) -> usize {
    actions
        .iter()
        .map(|a| match a {
            Action::Output { .. } => 16,
            Action::SetField(t) => pad8(4 + t.len()),
            _ => 8,
        })
        .sum()
}

/// The switch's actions for a list (the first refused action's error).
pub fn actions_to_switch(actions: &[Action]) -> Result<Vec<flow::Action>, DecodeError> {
    actions.iter().map(Action::to_switch).collect()
}

/// The OpenFlow form of the switch's actions.
pub fn actions_from_switch(actions: &[flow::Action]) -> Vec<Action> {
    actions.iter().map(Action::from_switch).collect()
}
