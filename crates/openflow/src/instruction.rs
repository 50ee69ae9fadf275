//! OpenFlow 1.3 instructions (`ofp_instruction_*`): codec-level
//! [`Instruction`], its wire codec, and the translation to and from the
//! switch's [`vnet_switch::flow::Instruction`].
//!
//! The spec runs instructions in a fixed order whatever their order in the
//! message; the switch model keeps them in that order, so
//! [`instructions_to_switch`] sorts them (duplicates are then refused by
//! the switch's flow validation).
//!
//! What it must never do: drop an instruction, or panic on input.

use vnet_switch::flow;

use crate::action::{
    actions_from_switch, actions_len, actions_to_switch, decode_actions, encode_actions, Action,
};
use crate::buf::{len16, Put, Reader};
use crate::error::*;

pub const OFPIT_GOTO_TABLE: u16 = 1;
pub const OFPIT_WRITE_METADATA: u16 = 2;
pub const OFPIT_WRITE_ACTIONS: u16 = 3;
pub const OFPIT_APPLY_ACTIONS: u16 = 4;
pub const OFPIT_CLEAR_ACTIONS: u16 = 5;
pub const OFPIT_METER: u16 = 6;
pub const OFPIT_EXPERIMENTER: u16 = 0xffff;

/// An OpenFlow 1.3 instruction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Instruction {
    GotoTable(u8),
    WriteMetadata { value: u64, mask: u64 },
    WriteActions(Vec<Action>),
    ApplyActions(Vec<Action>),
    ClearActions,
    Meter(u32),
}

impl Instruction {
    /// The `OFPIT_*` type.
    pub fn type_code(&self) -> u16 {
        match self {
            Instruction::GotoTable(_) => OFPIT_GOTO_TABLE,
            Instruction::WriteMetadata { .. } => OFPIT_WRITE_METADATA,
            Instruction::WriteActions(_) => OFPIT_WRITE_ACTIONS,
            Instruction::ApplyActions(_) => OFPIT_APPLY_ACTIONS,
            Instruction::ClearActions => OFPIT_CLEAR_ACTIONS,
            Instruction::Meter(_) => OFPIT_METER,
        }
    }

    /// Encoded size.
    pub fn encoded_len(&self) -> usize {
        match self {
            Instruction::WriteMetadata { .. } => 24,
            Instruction::WriteActions(a) | Instruction::ApplyActions(a) => 8 + actions_len(a),
            _ => 8,
        }
    }

    /// Appends the instruction.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.put_u16(self.type_code());
        out.put_u16(0);
        match self {
            Instruction::GotoTable(t) => {
                out.put_u8(*t);
                out.put_zeros(3);
            }
            Instruction::WriteMetadata { value, mask } => {
                out.put_zeros(4);
                out.put_u64(*value);
                out.put_u64(*mask);
            }
            Instruction::WriteActions(a) | Instruction::ApplyActions(a) => {
                out.put_zeros(4);
                encode_actions(a, out);
            }
            Instruction::ClearActions => out.put_zeros(4),
            Instruction::Meter(m) => out.put_u32(*m),
        }
        let len = len16(out.len() - start);
        out.set_u16(start + 2, len);
    }

    fn decode(r: &mut Reader) -> Result<Instruction, DecodeError> {
        let at = r.pos();
        let itype = r.u16()?;
        let len = usize::from(r.u16()?);
        let bad_len = |want: &str| {
            DecodeError::new(
                OFPBIC_BAD_LEN,
                format!("instruction type {itype} at offset {at} has length {len}{want}"),
            )
        };
        if len < 8 || len % 8 != 0 {
            return Err(bad_len(""));
        }
        let mut b = r.sub(len - 4, "instruction")?;
        let fixed = |want: usize| {
            if len == want {
                Ok(())
            } else {
                Err(bad_len(&format!(", expected {want}")))
            }
        };
        Ok(match itype {
            OFPIT_GOTO_TABLE => {
                fixed(8)?;
                Instruction::GotoTable(b.u8()?)
            }
            OFPIT_WRITE_METADATA => {
                fixed(24)?;
                b.skip(4)?;
                Instruction::WriteMetadata {
                    value: b.u64()?,
                    mask: b.u64()?,
                }
            }
            OFPIT_WRITE_ACTIONS | OFPIT_APPLY_ACTIONS => {
                b.skip(4)?;
                let actions = decode_actions(b.rest())?;
                if itype == OFPIT_WRITE_ACTIONS {
                    Instruction::WriteActions(actions)
                } else {
                    Instruction::ApplyActions(actions)
                }
            }
            OFPIT_CLEAR_ACTIONS => {
                fixed(8)?;
                Instruction::ClearActions
            }
            OFPIT_METER => {
                fixed(8)?;
                Instruction::Meter(b.u32()?)
            }
            OFPIT_EXPERIMENTER => {
                return Err(DecodeError::new(
                    OFPBIC_BAD_EXPERIMENTER,
                    format!(
                        "experimenter instruction {:#010x} is not supported",
                        b.u32()?
                    ),
                ))
            }
            t => {
                return Err(DecodeError::new(
                    OFPBIC_UNKNOWN_INST,
                    format!("unknown instruction type {t}"),
                ))
            }
        })
    }

    /// The switch's instruction (errors from the actions inside).
    pub fn to_switch(&self) -> Result<flow::Instruction, DecodeError> {
        Ok(match self {
            Instruction::GotoTable(t) => flow::Instruction::GotoTable(*t),
            Instruction::WriteMetadata { value, mask } => flow::Instruction::WriteMetadata {
                value: *value,
                mask: *mask,
            },
            Instruction::WriteActions(a) => flow::Instruction::WriteActions(actions_to_switch(a)?),
            Instruction::ApplyActions(a) => flow::Instruction::ApplyActions(actions_to_switch(a)?),
            Instruction::ClearActions => flow::Instruction::ClearActions,
            Instruction::Meter(m) => flow::Instruction::Meter(*m),
        })
    }

    pub fn from_switch(i: &flow::Instruction) -> Instruction {
        match i {
            flow::Instruction::Meter(m) => Instruction::Meter(*m),
            flow::Instruction::ApplyActions(a) => Instruction::ApplyActions(actions_from_switch(a)),
            flow::Instruction::ClearActions => Instruction::ClearActions,
            flow::Instruction::WriteActions(a) => Instruction::WriteActions(actions_from_switch(a)),
            flow::Instruction::WriteMetadata { value, mask } => Instruction::WriteMetadata {
                value: *value,
                mask: *mask,
            },
            flow::Instruction::GotoTable(t) => Instruction::GotoTable(*t),
        }
    }
}

/// Reads instructions filling `bytes` exactly.
pub fn decode_instructions(bytes: &[u8]) -> Result<Vec<Instruction>, DecodeError> {
    let mut r = Reader::new(bytes, OFPBIC_BAD_LEN, "instruction list");
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(Instruction::decode(&mut r)?);
    }
    Ok(out)
}

pub fn encode_instructions(insts: &[Instruction], out: &mut Vec<u8>) {
    for i in insts {
        i.encode(out);
    }
}

pub fn instructions_len(insts: &[Instruction]) -> usize {
    insts.iter().map(Instruction::encoded_len).sum()
}

/// The switch's instructions, in the order the spec executes them.
pub fn instructions_to_switch(
    insts: &[Instruction],
) -> Result<Vec<flow::Instruction>, DecodeError> {
    let mut out = insts
        .iter()
        .map(Instruction::to_switch)
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by_key(flow::Instruction::rank);
    Ok(out)
}

pub fn instructions_from_switch(insts: &[flow::Instruction]) -> Vec<Instruction> {
    insts.iter().map(Instruction::from_switch).collect()
}
