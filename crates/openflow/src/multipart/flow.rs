//! FLOW and AGGREGATE multipart bodies: the request (a selection of
//! flows, [`FlowStatsRequest::to_selector`]), the per-flow entries built
//! from the switch's installed flows ([`FlowStatsEntry::from_switch`]),
//! and the aggregate counters.
//!
//! What it must never do: read a clock (durations come from `now`).

use vnet_switch::flow::{FlowFlags, FlowRef, FlowSelector, PortNo};

use crate::buf::{Put, Reader};
use crate::error::*;
use crate::instruction::{
    decode_instructions, encode_instructions, instructions_from_switch, instructions_len,
    Instruction,
};
use crate::msg::flow::duration;
use crate::oxm::OxmMatch;

/// A FLOW or AGGREGATE request (`ofp_flow_stats_request`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FlowStatsRequest {
    /// `OFPTT_ALL` (0xff) = every table.
    pub table_id: u8,
    pub out_port: u32,
    pub out_group: u32,
    pub cookie: u64,
    pub cookie_mask: u64,
    pub r#match: OxmMatch,
}

impl FlowStatsRequest {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u8(self.table_id);
        out.put_zeros(3);
        out.put_u32(self.out_port);
        out.put_u32(self.out_group);
        out.put_zeros(4);
        out.put_u64(self.cookie);
        out.put_u64(self.cookie_mask);
        self.r#match.encode(out);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<FlowStatsRequest, DecodeError> {
        let table_id = r.u8()?;
        r.skip(3)?;
        let out_port = r.u32()?;
        let out_group = r.u32()?;
        r.skip(4)?;
        Ok(FlowStatsRequest {
            table_id,
            out_port,
            out_group,
            cookie: r.u64()?,
            cookie_mask: r.u64()?,
            r#match: OxmMatch::decode(r)?,
        })
    }

    /// The table (`0xff` = all) and the switch's selection of flows
    /// (non-strict: every flow the match covers).
    pub fn to_selector(&self) -> Result<(u8, FlowSelector), DecodeError> {
        Ok((
            self.table_id,
            FlowSelector {
                r#match: self.r#match.to_switch()?,
                priority: None,
                cookie: self.cookie,
                cookie_mask: self.cookie_mask,
                out_port: PortNo(self.out_port),
                out_group: self.out_group,
            },
        ))
    }
}

/// One flow in a FLOW reply (`ofp_flow_stats`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FlowStatsEntry {
    pub table_id: u8,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub priority: u16,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub flags: FlowFlags,
    pub cookie: u64,
    pub packet_count: u64,
    pub byte_count: u64,
    pub r#match: OxmMatch,
    pub instructions: Vec<Instruction>,
}

impl FlowStatsEntry {
    /// The entry for an installed flow, at `now`.
    pub fn from_switch(f: &FlowRef, now: u64) -> Result<FlowStatsEntry, EncodeError> {
        let (duration_sec, duration_nsec) = duration(now, f.stats.created());
        Ok(FlowStatsEntry {
            table_id: f.flow.table_id,
            duration_sec,
            duration_nsec,
            priority: f.flow.priority,
            idle_timeout: f.flow.idle_timeout,
            hard_timeout: f.flow.hard_timeout,
            flags: f.flow.flags,
            cookie: f.flow.cookie,
            packet_count: f.stats.packets(),
            byte_count: f.stats.bytes(),
            r#match: OxmMatch::from_switch(&f.flow.r#match)?,
            instructions: instructions_from_switch(&f.flow.instructions),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let len = 48 + self.r#match.encoded_len() + instructions_len(&self.instructions);
        out.put_u16(crate::buf::len16(len));
        out.put_u8(self.table_id);
        out.put_zeros(1);
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
        out.put_u16(self.priority);
        out.put_u16(self.idle_timeout);
        out.put_u16(self.hard_timeout);
        out.put_u16(self.flags.0);
        out.put_zeros(4);
        out.put_u64(self.cookie);
        out.put_u64(self.packet_count);
        out.put_u64(self.byte_count);
        self.r#match.encode(out);
        encode_instructions(&self.instructions, out);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<FlowStatsEntry, DecodeError> {
        let len = usize::from(r.u16()?);
        if len < 48 {
            return Err(r.error(format!("flow stats entry of length {len}")));
        }
        let mut b = r.sub(len - 2, "flow stats entry")?;
        let table_id = b.u8()?;
        b.skip(1)?;
        let duration_sec = b.u32()?;
        let duration_nsec = b.u32()?;
        let priority = b.u16()?;
        let idle_timeout = b.u16()?;
        let hard_timeout = b.u16()?;
        let flags = FlowFlags(b.u16()?);
        b.skip(4)?;
        Ok(FlowStatsEntry {
            table_id,
            duration_sec,
            duration_nsec,
            priority,
            idle_timeout,
            hard_timeout,
            flags,
            cookie: b.u64()?,
            packet_count: b.u64()?,
            byte_count: b.u64()?,
            r#match: OxmMatch::decode(&mut b)?,
            instructions: decode_instructions(b.rest())?,
        })
    }
}

/// The AGGREGATE reply (`ofp_aggregate_stats_reply`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AggregateStats {
    pub packet_count: u64,
    pub byte_count: u64,
    pub flow_count: u32,
}

impl AggregateStats {
    /// Totals over `flows`.
    pub fn of<'a>(flows: impl IntoIterator<Item = &'a FlowRef>) -> AggregateStats {
        let mut a = AggregateStats::default();
        for f in flows {
            a.packet_count = a.packet_count.wrapping_add(f.stats.packets());
            a.byte_count = a.byte_count.wrapping_add(f.stats.bytes());
            a.flow_count = a.flow_count.saturating_add(1);
        }
        a
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u64(self.packet_count);
        out.put_u64(self.byte_count);
        out.put_u32(self.flow_count);
        out.put_zeros(4);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<AggregateStats, DecodeError> {
        let a = AggregateStats {
            packet_count: r.u64()?,
            byte_count: r.u64()?,
            flow_count: r.u32()?,
        };
        r.skip(4)?;
        Ok(a)
    }
}
