//! GROUP_MOD and the bucket lists it shares with the GROUP_DESC multipart
//! reply, and their translation to and from the switch's groups
//! ([`vnet_switch::group`]): bucket actions the switch lacks are refused
//! with the action's error; what the switch then refuses about the group
//! itself (weights, watches, loops) it answers with its own errors.
//!
//! What it must never do: panic on input; a bucket whose length does not
//! hold its actions is OFPGMFC_BAD_BUCKET.

use vnet_switch::flow::PortNo;
use vnet_switch::group as sw;

use crate::action::{
    actions_from_switch, actions_len, actions_to_switch, decode_actions, encode_actions, Action,
};
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

    pub fn to_switch(self) -> sw::GroupType {
        match self {
            GroupType::All => sw::GroupType::All,
            GroupType::Select => sw::GroupType::Select,
            GroupType::Indirect => sw::GroupType::Indirect,
            GroupType::FastFailover => sw::GroupType::FastFailover,
        }
    }

    pub fn from_switch(t: sw::GroupType) -> GroupType {
        match t {
            sw::GroupType::All => GroupType::All,
            sw::GroupType::Select => GroupType::Select,
            sw::GroupType::Indirect => GroupType::Indirect,
            sw::GroupType::FastFailover => GroupType::FastFailover,
        }
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

impl Bucket {
    /// The switch's bucket (the first refused action's error).
    pub fn to_switch(&self) -> Result<sw::Bucket, DecodeError> {
        Ok(sw::Bucket {
            weight: self.weight,
            watch_port: PortNo(self.watch_port),
            watch_group: self.watch_group,
            actions: actions_to_switch(&self.actions)?,
        })
    }

    pub fn from_switch(b: &sw::Bucket) -> Bucket {
        Bucket {
            weight: b.weight,
            watch_port: b.watch_port.0,
            watch_group: b.watch_group,
            actions: actions_from_switch(&b.actions),
        }
    }
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
    /// The switch's group-mod (errors: a bucket action the switch lacks).
    pub fn to_switch(&self) -> Result<sw::GroupMod, DecodeError> {
        Ok(sw::GroupMod {
            command: match self.command {
                GroupModCommand::Add => sw::GroupModCommand::Add,
                GroupModCommand::Modify => sw::GroupModCommand::Modify,
                GroupModCommand::Delete => sw::GroupModCommand::Delete,
            },
            group: sw::Group {
                id: self.group_id,
                group_type: self.group_type.to_switch(),
                buckets: self
                    .buckets
                    .iter()
                    .map(Bucket::to_switch)
                    .collect::<Result<_, _>>()?,
            },
        })
    }

    /// The wire form of the switch's group-mod.
    pub fn from_switch(gm: &sw::GroupMod) -> GroupMod {
        GroupMod {
            command: match gm.command {
                sw::GroupModCommand::Add => GroupModCommand::Add,
                sw::GroupModCommand::Modify => GroupModCommand::Modify,
                sw::GroupModCommand::Delete => GroupModCommand::Delete,
            },
            group_type: GroupType::from_switch(gm.group.group_type),
            group_id: gm.group.id,
            buckets: gm.group.buckets.iter().map(Bucket::from_switch).collect(),
        }
    }

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
