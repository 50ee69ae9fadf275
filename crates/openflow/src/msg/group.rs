//! GROUP_MOD and the bucket lists it shares with the GROUP_DESC multipart
//! reply. The switch model has no groups yet: these stay codec-level.
//!
//! What it must never do: panic on input; a bucket whose length does not
//! hold its actions is OFPGMFC_BAD_BUCKET.

use crate::action::{actions_len, decode_actions, encode_actions, Action};
use crate::buf::{Put, Reader};
use crate::error::*;

/// Group numbers (`ofp_group`).
pub const OFPG_MAX: u32 = 0xffff_ff00;
pub const OFPG_ALL: u32 = 0xffff_fffc;
pub const OFPG_ANY: u32 = 0xffff_ffff;

/// `ofp_group_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupType {
    All = 0,
    Select = 1,
    Indirect = 2,
    FastFailover = 3,
}

impl GroupType {
    pub fn from_u8(v: u8) -> Option<GroupType> {
        Some(match v {
            0 => GroupType::All,
            1 => GroupType::Select,
            2 => GroupType::Indirect,
            3 => GroupType::FastFailover,
            _ => return None,
        })
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<GroupType, DecodeError> {
        let v = r.u8()?;
        GroupType::from_u8(v)
            .ok_or_else(|| DecodeError::new(OFPGMFC_BAD_TYPE, format!("group type {v}")))
    }
}

/// `ofp_group_mod_command`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupModCommand {
    Add = 0,
    Modify = 1,
    Delete = 2,
}

/// One bucket (`ofp_bucket`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Bucket {
    /// Select groups only.
    pub weight: u16,
    /// Fast-failover groups only; [`crate::msg::OFPP_ANY`] = none.
    pub watch_port: u32,
    /// Fast-failover groups only; [`OFPG_ANY`] = none.
    pub watch_group: u32,
    pub actions: Vec<Action>,
}

/// Appends buckets.
pub(crate) fn encode_buckets(buckets: &[Bucket], out: &mut Vec<u8>) {
    for b in buckets {
        out.put_u16((16 + actions_len(&b.actions)) as u16);
        out.put_u16(b.weight);
        out.put_u32(b.watch_port);
        out.put_u32(b.watch_group);
        out.put_zeros(4);
        encode_actions(&b.actions, out);
    }
}

/// Reads buckets filling `bytes`.
pub(crate) fn decode_buckets(bytes: &[u8]) -> Result<Vec<Bucket>, DecodeError> {
    let mut r = Reader::new(bytes, OFPGMFC_BAD_BUCKET, "bucket");
    let mut out = Vec::new();
    while !r.is_empty() {
        let len = usize::from(r.u16()?);
        if len < 16 || len % 8 != 0 {
            return Err(r.error(format!("bucket length {len}")));
        }
        let weight = r.u16()?;
        let watch_port = r.u32()?;
        let watch_group = r.u32()?;
        r.skip(4)?;
        let actions = decode_actions(r.bytes(len - 16)?)?;
        out.push(Bucket {
            weight,
            watch_port,
            watch_group,
            actions,
        });
    }
    Ok(out)
}

/// GROUP_MOD.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupMod {
    pub command: GroupModCommand,
    pub group_type: GroupType,
    pub group_id: u32,
    pub buckets: Vec<Bucket>,
}

impl GroupMod {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16(self.command as u16);
        out.put_u8(self.group_type as u8);
        out.put_zeros(1);
        out.put_u32(self.group_id);
        encode_buckets(&self.buckets, out);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<GroupMod, DecodeError> {
        let c = r.u16()?;
        let command = match c {
            0 => GroupModCommand::Add,
            1 => GroupModCommand::Modify,
            2 => GroupModCommand::Delete,
            _ => {
                return Err(DecodeError::new(
                    OFPGMFC_BAD_COMMAND,
                    format!("group_mod command {c}"),
                ))
            }
        };
        let group_type = GroupType::decode(r)?;
        r.skip(1)?;
        let group_id = r.u32()?;
        let buckets = decode_buckets(r.rest())?;
        Ok(GroupMod {
            command,
            group_type,
            group_id,
            buckets,
        })
    }
}
