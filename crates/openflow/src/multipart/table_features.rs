//! TABLE_FEATURES: the per-table description (`ofp_table_features`) with
//! its properties, and [`TableFeatures::supported`], the truthful
//! description of what this codec and the switch model can do — the eight
//! non-miss properties ovs-ofctl requires plus their miss twins.
//!
//! The lists come from one place each: match fields and masks from
//! [`OxmField`]'s table, actions from [`SUPPORTED_ACTIONS`] (which GROUP_FEATURES
//! reads too), set-fields by asking the translation to the switch model
//! ([`OxmTlv::to_field`]) about each field, so a field added there shows
//! up here without another edit.
//!
//! What it must never do: claim a field, instruction or action the
//! translation to the switch model refuses, or leave out one it accepts.

use crate::action::*;
use crate::buf::{len16, pad8, Put, Reader};
use crate::error::*;
use crate::instruction::*;
use crate::oxm::{OxmField, OxmTlv, OFPXMC_EXPERIMENTER};

pub const OFPTFPT_INSTRUCTIONS: u16 = 0;
pub const OFPTFPT_INSTRUCTIONS_MISS: u16 = 1;
pub const OFPTFPT_NEXT_TABLES: u16 = 2;
pub const OFPTFPT_NEXT_TABLES_MISS: u16 = 3;
pub const OFPTFPT_WRITE_ACTIONS: u16 = 4;
pub const OFPTFPT_WRITE_ACTIONS_MISS: u16 = 5;
pub const OFPTFPT_APPLY_ACTIONS: u16 = 6;
pub const OFPTFPT_APPLY_ACTIONS_MISS: u16 = 7;
pub const OFPTFPT_MATCH: u16 = 8;
pub const OFPTFPT_WILDCARDS: u16 = 10;
pub const OFPTFPT_WRITE_SETFIELD: u16 = 12;
pub const OFPTFPT_WRITE_SETFIELD_MISS: u16 = 13;
pub const OFPTFPT_APPLY_SETFIELD: u16 = 14;
pub const OFPTFPT_APPLY_SETFIELD_MISS: u16 = 15;
pub const OFPTFPT_EXPERIMENTER: u16 = 0xfffe;
pub const OFPTFPT_EXPERIMENTER_MISS: u16 = 0xffff;

/// `OFP_MAX_TABLE_NAME_LEN`.
pub const MAX_TABLE_NAME_LEN: usize = 32;

/// An OXM id in a property: the header, and the experimenter id for
/// experimenter-class fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OxmId {
    pub header: u32,
    pub experimenter: Option<u32>,
}

impl OxmId {
    /// The id of `field` (unmasked header).
    pub fn of(field: OxmField) -> OxmId {
        OxmId {
            header: field.header(false),
            experimenter: field.experimenter(),
        }
    }
}

/// A table feature property. Instruction and action ids are their
/// `OFPIT_*`/`OFPAT_*` types (experimenter ids lose their experimenter).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TableFeatureProp {
    Instructions {
        miss: bool,
        ids: Vec<u16>,
    },
    NextTables {
        miss: bool,
        tables: Vec<u8>,
    },
    WriteActions {
        miss: bool,
        ids: Vec<u16>,
    },
    ApplyActions {
        miss: bool,
        ids: Vec<u16>,
    },
    Match(Vec<OxmId>),
    Wildcards(Vec<OxmId>),
    WriteSetfield {
        miss: bool,
        ids: Vec<OxmId>,
    },
    ApplySetfield {
        miss: bool,
        ids: Vec<OxmId>,
    },
    Experimenter {
        miss: bool,
        experimenter: u32,
        exp_type: u32,
        data: Vec<u8>,
    },
}

impl TableFeatureProp {
    fn type_code(&self) -> u16 {
        use TableFeatureProp as P;
        let (base, miss) = match self {
            P::Instructions { miss, .. } => (OFPTFPT_INSTRUCTIONS, *miss),
            P::NextTables { miss, .. } => (OFPTFPT_NEXT_TABLES, *miss),
            P::WriteActions { miss, .. } => (OFPTFPT_WRITE_ACTIONS, *miss),
            P::ApplyActions { miss, .. } => (OFPTFPT_APPLY_ACTIONS, *miss),
            P::Match(_) => (OFPTFPT_MATCH, false),
            P::Wildcards(_) => (OFPTFPT_WILDCARDS, false),
            P::WriteSetfield { miss, .. } => (OFPTFPT_WRITE_SETFIELD, *miss),
            P::ApplySetfield { miss, .. } => (OFPTFPT_APPLY_SETFIELD, *miss),
            P::Experimenter { miss, .. } => (OFPTFPT_EXPERIMENTER, *miss),
        };
        base + u16::from(miss)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        use TableFeatureProp as P;
        let start = out.len();
        out.put_u16(self.type_code());
        out.put_u16(0);
        let ids16 = |out: &mut Vec<u8>, ids: &[u16]| {
            for id in ids {
                out.put_u16(*id);
                out.put_u16(4);
            }
        };
        let oxms = |out: &mut Vec<u8>, ids: &[OxmId]| {
            for id in ids {
                out.put_u32(id.header);
                if let Some(e) = id.experimenter {
                    out.put_u32(e);
                }
            }
        };
        match self {
            P::Instructions { ids, .. }
            | P::WriteActions { ids, .. }
            | P::ApplyActions { ids, .. } => ids16(out, ids),
            P::NextTables { tables, .. } => out.extend_from_slice(tables),
            P::Match(ids) | P::Wildcards(ids) => oxms(out, ids),
            P::WriteSetfield { ids, .. } | P::ApplySetfield { ids, .. } => oxms(out, ids),
            P::Experimenter {
                experimenter,
                exp_type,
                data,
                ..
            } => {
                out.put_u32(*experimenter);
                out.put_u32(*exp_type);
                out.extend_from_slice(data);
            }
        }
        let len = len16(out.len() - start);
        out.set_u16(start + 2, len);
        out.pad8_from(start);
    }

    fn decode(r: &mut Reader) -> Result<TableFeatureProp, DecodeError> {
        use TableFeatureProp as P;
        let ptype = r.u16()?;
        let len = usize::from(r.u16()?);
        let bad_len = || {
            DecodeError::new(
                OFPTFFC_BAD_LEN,
                format!("table feature property {ptype} has length {len}"),
            )
        };
        if len < 4 {
            return Err(bad_len());
        }
        let mut b = r
            .sub(len - 4, "table feature property")
            .map_err(|_| bad_len())?
            .with_kind(OFPTFFC_BAD_LEN, "table feature property");
        r.skip((pad8(len) - len).min(r.remaining()))?;
        let miss = ptype & 1 == 1;
        let ids16 = |b: &mut Reader| {
            let mut ids = Vec::new();
            while !b.is_empty() {
                let t = b.u16()?;
                let l = usize::from(b.u16()?);
                // An instruction or action id is its 4-byte header; only an
                // experimenter's is longer, and those are not supported
                // (skipping its bytes would re-encode a different message).
                if l != 4 {
                    return Err(if t == 0xffff && l >= 8 {
                        DecodeError::new(
                            OFPTFFC_BAD_ARGUMENT,
                            "experimenter instruction and action ids are not supported",
                        )
                    } else {
                        bad_len()
                    });
                }
                ids.push(t);
            }
            Ok(ids)
        };
        let oxms = |b: &mut Reader| {
            let mut ids = Vec::new();
            while !b.is_empty() {
                let header = b.u32()?;
                let experimenter = if (header >> 16) as u16 == OFPXMC_EXPERIMENTER {
                    Some(b.u32()?)
                } else {
                    None
                };
                ids.push(OxmId {
                    header,
                    experimenter,
                });
            }
            Ok::<_, DecodeError>(ids)
        };
        Ok(match ptype {
            OFPTFPT_INSTRUCTIONS | OFPTFPT_INSTRUCTIONS_MISS => P::Instructions {
                miss,
                ids: ids16(&mut b)?,
            },
            OFPTFPT_NEXT_TABLES | OFPTFPT_NEXT_TABLES_MISS => P::NextTables {
                miss,
                tables: b.rest().to_vec(),
            },
            OFPTFPT_WRITE_ACTIONS | OFPTFPT_WRITE_ACTIONS_MISS => P::WriteActions {
                miss,
                ids: ids16(&mut b)?,
            },
            OFPTFPT_APPLY_ACTIONS | OFPTFPT_APPLY_ACTIONS_MISS => P::ApplyActions {
                miss,
                ids: ids16(&mut b)?,
            },
            OFPTFPT_MATCH => P::Match(oxms(&mut b)?),
            OFPTFPT_WILDCARDS => P::Wildcards(oxms(&mut b)?),
            OFPTFPT_WRITE_SETFIELD | OFPTFPT_WRITE_SETFIELD_MISS => P::WriteSetfield {
                miss,
                ids: oxms(&mut b)?,
            },
            OFPTFPT_APPLY_SETFIELD | OFPTFPT_APPLY_SETFIELD_MISS => P::ApplySetfield {
                miss,
                ids: oxms(&mut b)?,
            },
            OFPTFPT_EXPERIMENTER | OFPTFPT_EXPERIMENTER_MISS => P::Experimenter {
                miss,
                experimenter: b.u32()?,
                exp_type: b.u32()?,
                data: b.rest().to_vec(),
            },
            t => {
                return Err(DecodeError::new(
                    OFPTFFC_BAD_TYPE,
                    format!("unknown table feature property type {t}"),
                ))
            }
        })
    }
}

/// One table's features.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableFeatures {
    pub table_id: u8,
    /// At most 31 bytes go on the wire.
    pub name: String,
    pub metadata_match: u64,
    pub metadata_write: u64,
    pub config: u32,
    pub max_entries: u32,
    pub properties: Vec<TableFeatureProp>,
}

impl TableFeatures {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.put_u16(0);
        out.put_u8(self.table_id);
        out.put_zeros(5);
        out.put_string(&self.name, MAX_TABLE_NAME_LEN);
        out.put_u64(self.metadata_match);
        out.put_u64(self.metadata_write);
        out.put_u32(self.config);
        out.put_u32(self.max_entries);
        for p in &self.properties {
            p.encode(out);
        }
        let len = len16(out.len() - start);
        out.set_u16(start, len);
    }

    fn decode(r: &mut Reader) -> Result<TableFeatures, DecodeError> {
        let len = usize::from(r.u16()?);
        if len < 64 {
            return Err(DecodeError::new(
                OFPTFFC_BAD_LEN,
                format!("table features entry of length {len}"),
            ));
        }
        let mut b = r
            .sub(len - 2, "table features")?
            .with_kind(OFPTFFC_BAD_LEN, "table features");
        let table_id = b.u8()?;
        b.skip(5)?;
        let mut t = TableFeatures {
            table_id,
            name: b.string(MAX_TABLE_NAME_LEN)?,
            metadata_match: b.u64()?,
            metadata_write: b.u64()?,
            config: b.u32()?,
            max_entries: b.u32()?,
            properties: Vec::new(),
        };
        while !b.is_empty() {
            t.properties.push(TableFeatureProp::decode(&mut b)?);
        }
        Ok(t)
    }

    /// What table `table_id` of an `n_tables` pipeline supports, as this
    /// codec translates it to the switch model (see [`match_fields`],
    /// [`wildcard_fields`], [`settable_fields`], [`supported_actions`] and
    /// [`supported_instructions`]); goto_table and next tables only below
    /// the last table. The miss twins say the same: a table-miss flow is an
    /// ordinary flow here.
    pub fn supported(table_id: u8, n_tables: u8, max_entries: u32) -> TableFeatures {
        let last = table_id.saturating_add(1) >= n_tables;
        let insts = supported_instructions(last);
        let next: Vec<u8> = (table_id.saturating_add(1)..n_tables).collect();
        let actions = supported_actions();
        let settable = settable_fields();
        use TableFeatureProp as P;
        let mut properties = Vec::new();
        for miss in [false, true] {
            properties.push(P::Instructions {
                miss,
                ids: insts.clone(),
            });
            properties.push(P::NextTables {
                miss,
                tables: next.clone(),
            });
            properties.push(P::WriteActions {
                miss,
                ids: actions.clone(),
            });
            properties.push(P::ApplyActions {
                miss,
                ids: actions.clone(),
            });
        }
        properties.push(P::Match(match_fields()));
        properties.push(P::Wildcards(wildcard_fields()));
        for miss in [false, true] {
            properties.push(P::WriteSetfield {
                miss,
                ids: settable.clone(),
            });
            properties.push(P::ApplySetfield {
                miss,
                ids: settable.clone(),
            });
        }
        TableFeatures {
            table_id,
            name: format!("table{table_id}"),
            metadata_match: u64::MAX,
            metadata_write: u64::MAX,
            config: 0,
            max_entries,
            properties,
        }
    }
}

/// The fields a match may name, once each: every field [`OxmField`]
/// decodes (the two TCP-flags encodings listed once, as the ONF one).
fn matchable() -> impl Iterator<Item = OxmField> {
    OxmField::ALL
        .iter()
        .copied()
        .filter(|f| *f != OxmField::NxTcpFlags)
}

/// OFPTFPT_MATCH: every field the codec accepts in a match (and the
/// switch matches), with the has-mask bit set exactly on those a peer may
/// mask ([`OxmField::mask_allowed`]).
pub fn match_fields() -> Vec<OxmId> {
    matchable()
        .map(|f| OxmId {
            header: f.header(f.mask_allowed()),
            experimenter: f.experimenter(),
        })
        .collect()
}

/// OFPTFPT_WILDCARDS: the fields a flow may leave out of its match — all
/// of them, the classifier being a wildcard table.
pub fn wildcard_fields() -> Vec<OxmId> {
    matchable().map(OxmId::of).collect()
}

/// A value of `f` the set-field translation must accept if it can set the
/// field at all (VLAN_VID with OFPVID_PRESENT, as peers send it).
fn sample_value(f: OxmField) -> u128 {
    match f {
        OxmField::VlanVid => 0x1001,
        f => f.max_value().min(1),
    }
}

/// OFPTFPT_*_SETFIELD: the fields whose SET_FIELD action translates to
/// the switch model (asked of the translation itself, so the list cannot
/// drift from it).
pub fn settable_fields() -> Vec<OxmId> {
    matchable()
        .filter(|f| OxmTlv::exact(*f, sample_value(*f)).to_field().is_ok())
        .map(OxmId::of)
        .collect()
}

/// The `OFPAT_*` types a flow (or a group bucket) may use, in type order:
/// what OFPTFPT_*_ACTIONS and GROUP_FEATURES list, both from
/// [`SUPPORTED_ACTIONS`], the one list of them.
pub fn supported_actions() -> Vec<u16> {
    let mut v = SUPPORTED_ACTIONS.to_vec();
    v.sort_unstable();
    v
}

/// The `OFPIT_*` types a flow may use: all six, goto_table except in the
/// `last` table.
pub fn supported_instructions(last: bool) -> Vec<u16> {
    let mut insts = vec![
        OFPIT_GOTO_TABLE,
        OFPIT_WRITE_METADATA,
        OFPIT_WRITE_ACTIONS,
        OFPIT_APPLY_ACTIONS,
        OFPIT_CLEAR_ACTIONS,
        OFPIT_METER,
    ];
    if last {
        insts.retain(|&i| i != OFPIT_GOTO_TABLE);
    }
    insts
}

/// Reads table-features entries until the reader is empty.
pub(crate) fn decode_list(r: &mut Reader) -> Result<Vec<TableFeatures>, DecodeError> {
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(TableFeatures::decode(r)?);
    }
    Ok(out)
}
