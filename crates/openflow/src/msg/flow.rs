//! The flow-carrying messages: FLOW_MOD ↔ [`vnet_switch::flow::FlowMod`],
//! FLOW_REMOVED from [`vnet_switch::flow::RemovedFlow`], PACKET_IN and
//! PACKET_OUT.
//!
//! What it must never do: accept a FLOW_MOD the switch would run
//! differently from what it says (unknown command or flag bits are
//! refused), or read a clock (durations come from the caller's `now`).

use vnet_switch::flow::{self, FlowFlags, FlowModCommand, PortNo, RemovedFlow, MILLIS_PER_SEC};

use crate::action::{actions_len, actions_to_switch, decode_actions, encode_actions, Action};
use crate::buf::{Put, Reader};
use crate::error::*;
use crate::instruction::{
    decode_instructions, encode_instructions, instructions_from_switch, instructions_to_switch,
    Instruction,
};
use crate::oxm::OxmMatch;

/// `buffer_id` meaning "no buffered packet" (`OFP_NO_BUFFER`).
pub const OFP_NO_BUFFER: u32 = 0xffff_ffff;
/// Every `OFPFF_*` bit OpenFlow 1.3 defines.
pub const OFPFF_ALL: u16 = 0x1f;

/// `(duration_sec, duration_nsec)` of something created at `created`, at
/// `now` (milliseconds, the switch's `now`).
pub fn duration(now: u64, created: u64) -> (u32, u32) {
    let ms = now.saturating_sub(created);
    let sec = u32::try_from(ms / MILLIS_PER_SEC).unwrap_or(u32::MAX);
    (sec, (ms % MILLIS_PER_SEC) as u32 * 1_000_000)
}

/// FLOW_MOD as on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FlowMod {
    pub cookie: u64,
    pub cookie_mask: u64,
    pub table_id: u8,
    pub command: FlowModCommand,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub priority: u16,
    pub buffer_id: u32,
    pub out_port: u32,
    pub out_group: u32,
    pub flags: FlowFlags,
    pub r#match: OxmMatch,
    pub instructions: Vec<Instruction>,
}

fn command_from_u8(c: u8) -> Option<FlowModCommand> {
    Some(match c {
        0 => FlowModCommand::Add,
        1 => FlowModCommand::Modify,
        2 => FlowModCommand::ModifyStrict,
        3 => FlowModCommand::Delete,
        4 => FlowModCommand::DeleteStrict,
        _ => return None,
    })
}

impl FlowMod {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u64(self.cookie);
        out.put_u64(self.cookie_mask);
        out.put_u8(self.table_id);
        out.put_u8(self.command as u8);
        out.put_u16(self.idle_timeout);
        out.put_u16(self.hard_timeout);
        out.put_u16(self.priority);
        out.put_u32(self.buffer_id);
        out.put_u32(self.out_port);
        out.put_u32(self.out_group);
        out.put_u16(self.flags.0);
        out.put_zeros(2);
        self.r#match.encode(out);
        encode_instructions(&self.instructions, out);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<FlowMod, DecodeError> {
        let cookie = r.u64()?;
        let cookie_mask = r.u64()?;
        let table_id = r.u8()?;
        let cmd = r.u8()?;
        let command = command_from_u8(cmd).ok_or_else(|| {
            DecodeError::new(OFPFMFC_BAD_COMMAND, format!("flow_mod command {cmd}"))
        })?;
        let idle_timeout = r.u16()?;
        let hard_timeout = r.u16()?;
        let priority = r.u16()?;
        let buffer_id = r.u32()?;
        let out_port = r.u32()?;
        let out_group = r.u32()?;
        let flags = r.u16()?;
        if flags & !OFPFF_ALL != 0 {
            return Err(DecodeError::new(
                OFPFMFC_BAD_FLAGS,
                format!("flow_mod flags {flags:#x} has unknown bits"),
            ));
        }
        r.skip(2)?;
        let r#match = OxmMatch::decode(r)?;
        let instructions = decode_instructions(r.rest())?;
        Ok(FlowMod {
            cookie,
            cookie_mask,
            table_id,
            command,
            idle_timeout,
            hard_timeout,
            priority,
            buffer_id,
            out_port,
            out_group,
            flags: FlowFlags(flags),
            r#match,
            instructions,
        })
    }

    /// The switch's flow-mod. Adds and modifies are checked with
    /// [`flow::Flow::validate`] (its `ofp_error`); the pipeline adds the
    /// table checks. `buffer_id` stays with the caller.
    pub fn to_switch(&self) -> Result<flow::FlowMod, DecodeError> {
        let r#match = self.r#match.to_switch()?;
        let instructions = instructions_to_switch(&self.instructions)?;
        let fm = flow::FlowMod {
            command: self.command,
            flow: flow::Flow {
                table_id: self.table_id,
                priority: self.priority,
                r#match,
                instructions,
                cookie: self.cookie,
                idle_timeout: self.idle_timeout,
                hard_timeout: self.hard_timeout,
                flags: self.flags,
            },
            cookie_mask: self.cookie_mask,
            out_port: PortNo(self.out_port),
            out_group: self.out_group,
        };
        if matches!(
            self.command,
            FlowModCommand::Add | FlowModCommand::Modify | FlowModCommand::ModifyStrict
        ) {
            fm.flow
                .validate()
                .map_err(|e| DecodeError::new(e.ofp_error(), e.to_string()))?;
        }
        Ok(fm)
    }

    /// The wire form of the switch's flow-mod (no buffer).
    pub fn from_switch(fm: &flow::FlowMod) -> Result<FlowMod, EncodeError> {
        let f = &fm.flow;
        Ok(FlowMod {
            cookie: f.cookie,
            cookie_mask: fm.cookie_mask,
            table_id: f.table_id,
            command: fm.command,
            idle_timeout: f.idle_timeout,
            hard_timeout: f.hard_timeout,
            priority: f.priority,
            buffer_id: OFP_NO_BUFFER,
            out_port: fm.out_port.0,
            out_group: fm.out_group,
            flags: f.flags,
            r#match: OxmMatch::from_switch(&f.r#match)?,
            instructions: instructions_from_switch(&f.instructions),
        })
    }
}

/// `ofp_flow_removed_reason`.
pub const OFPRR_IDLE_TIMEOUT: u8 = 0;
pub const OFPRR_HARD_TIMEOUT: u8 = 1;
pub const OFPRR_DELETE: u8 = 2;
pub const OFPRR_GROUP_DELETE: u8 = 3;

/// FLOW_REMOVED.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FlowRemoved {
    pub cookie: u64,
    pub priority: u16,
    pub reason: u8,
    pub table_id: u8,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub packet_count: u64,
    pub byte_count: u64,
    pub r#match: OxmMatch,
}

impl FlowRemoved {
    /// The message for a flow the switch removed, at `now`.
    pub fn from_switch(removed: &RemovedFlow, now: u64) -> Result<FlowRemoved, EncodeError> {
        let e = &removed.entry;
        let (duration_sec, duration_nsec) = duration(now, e.stats.created());
        Ok(FlowRemoved {
            cookie: e.flow.cookie,
            priority: e.flow.priority,
            // OpenFlow 1.3 has no METER_DELETE reason (1.4 added it).
            reason: match removed.reason {
                vnet_switch::flow::RemovedReason::MeterDelete => OFPRR_DELETE,
                r => r as u8,
            },
            table_id: e.flow.table_id,
            duration_sec,
            duration_nsec,
            idle_timeout: e.flow.idle_timeout,
            hard_timeout: e.flow.hard_timeout,
            packet_count: e.stats.packets(),
            byte_count: e.stats.bytes(),
            r#match: OxmMatch::from_switch(&e.flow.r#match)?,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u64(self.cookie);
        out.put_u16(self.priority);
        out.put_u8(self.reason);
        out.put_u8(self.table_id);
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
        out.put_u16(self.idle_timeout);
        out.put_u16(self.hard_timeout);
        out.put_u64(self.packet_count);
        out.put_u64(self.byte_count);
        self.r#match.encode(out);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<FlowRemoved, DecodeError> {
        Ok(FlowRemoved {
            cookie: r.u64()?,
            priority: r.u16()?,
            reason: r.u8()?,
            table_id: r.u8()?,
            duration_sec: r.u32()?,
            duration_nsec: r.u32()?,
            idle_timeout: r.u16()?,
            hard_timeout: r.u16()?,
            packet_count: r.u64()?,
            byte_count: r.u64()?,
            r#match: OxmMatch::decode(r)?,
        })
    }
}

/// `ofp_packet_in_reason`.
pub const OFPR_NO_MATCH: u8 = 0;
pub const OFPR_ACTION: u8 = 1;
pub const OFPR_INVALID_TTL: u8 = 2;

/// PACKET_IN. `data` is the (possibly truncated) frame; `total_len` the
/// full frame's length.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PacketIn {
    pub buffer_id: u32,
    pub total_len: u16,
    pub reason: u8,
    pub table_id: u8,
    pub cookie: u64,
    pub r#match: OxmMatch,
    pub data: Vec<u8>,
}

impl PacketIn {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32(self.buffer_id);
        out.put_u16(self.total_len);
        out.put_u8(self.reason);
        out.put_u8(self.table_id);
        out.put_u64(self.cookie);
        self.r#match.encode(out);
        out.put_zeros(2);
        out.extend_from_slice(&self.data);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<PacketIn, DecodeError> {
        let p = PacketIn {
            buffer_id: r.u32()?,
            total_len: r.u16()?,
            reason: r.u8()?,
            table_id: r.u8()?,
            cookie: r.u64()?,
            r#match: OxmMatch::decode(r)?,
            data: Vec::new(),
        };
        r.skip(2)?;
        Ok(PacketIn {
            data: r.rest().to_vec(),
            ..p
        })
    }
}

/// PACKET_OUT. `in_port` may be CONTROLLER; `data` is the frame when
/// `buffer_id` is [`OFP_NO_BUFFER`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PacketOut {
    pub buffer_id: u32,
    pub in_port: u32,
    pub actions: Vec<Action>,
    pub data: Vec<u8>,
}

impl PacketOut {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32(self.buffer_id);
        out.put_u32(self.in_port);
        out.put_u16(actions_len(&self.actions) as u16);
        out.put_zeros(6);
        encode_actions(&self.actions, out);
        out.extend_from_slice(&self.data);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<PacketOut, DecodeError> {
        let buffer_id = r.u32()?;
        let in_port = r.u32()?;
        let alen = usize::from(r.u16()?);
        r.skip(6)?;
        let actions = decode_actions(r.bytes(alen).map_err(|_| {
            DecodeError::new(
                OFPBRC_BAD_LEN,
                format!("packet_out actions_len {alen} overruns the message"),
            )
        })?)?;
        Ok(PacketOut {
            buffer_id,
            in_port,
            actions,
            data: r.rest().to_vec(),
        })
    }

    /// The switch's actions to run on the packet.
    pub fn actions_to_switch(&self) -> Result<Vec<flow::Action>, DecodeError> {
        actions_to_switch(&self.actions)
    }
}
