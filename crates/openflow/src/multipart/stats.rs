//! Fixed-layout multipart bodies: switch description (DESC), table stats,
//! queue stats, group stats/description/features and meter
//! stats/config/features, the group and meter ones also from the
//! switch's tables (`from_switch`, `supported`).
//!
//! What it must never do: panic on input; a length field that does not
//! fit its entry is an error of the reader's kind.

use vnet_switch::group::{GroupEntry, GroupType as SwGroupType, MAX_GROUPS};
use vnet_switch::meter::{MeterEntry, MAX_BANDS, MAX_METERS};

use crate::buf::{Put, Reader};
use crate::error::DecodeError;
use crate::msg::flow::duration;
use crate::msg::group::{decode_buckets, encode_buckets, Bucket, GroupType};
use crate::msg::meter::{
    bands_len, decode_bands, encode_bands, MeterBand, OFPMBT_DROP, OFPMBT_DSCP_REMARK,
};

/// `DESC_STR_LEN` and `SERIAL_NUM_LEN`.
pub const DESC_STR_LEN: usize = 256;
pub const SERIAL_NUM_LEN: usize = 32;

/// The DESC reply (`ofp_desc`): NUL-padded strings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Desc {
    pub mfr_desc: String,
    pub hw_desc: String,
    pub sw_desc: String,
    pub serial_num: String,
    pub dp_desc: String,
}

impl Desc {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_string(&self.mfr_desc, DESC_STR_LEN);
        out.put_string(&self.hw_desc, DESC_STR_LEN);
        out.put_string(&self.sw_desc, DESC_STR_LEN);
        out.put_string(&self.serial_num, SERIAL_NUM_LEN);
        out.put_string(&self.dp_desc, DESC_STR_LEN);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Desc, DecodeError> {
        Ok(Desc {
            mfr_desc: r.string(DESC_STR_LEN)?,
            hw_desc: r.string(DESC_STR_LEN)?,
            sw_desc: r.string(DESC_STR_LEN)?,
            serial_num: r.string(SERIAL_NUM_LEN)?,
            dp_desc: r.string(DESC_STR_LEN)?,
        })
    }
}

/// One table in a TABLE reply (`ofp_table_stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TableStats {
    pub table_id: u8,
    pub active_count: u32,
    pub lookup_count: u64,
    pub matched_count: u64,
}

impl TableStats {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u8(self.table_id);
        out.put_zeros(3);
        out.put_u32(self.active_count);
        out.put_u64(self.lookup_count);
        out.put_u64(self.matched_count);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<TableStats, DecodeError> {
        let table_id = r.u8()?;
        r.skip(3)?;
        Ok(TableStats {
            table_id,
            active_count: r.u32()?,
            lookup_count: r.u64()?,
            matched_count: r.u64()?,
        })
    }
}

/// One queue in a QUEUE reply (`ofp_queue_stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct QueueStats {
    pub port_no: u32,
    pub queue_id: u32,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
}

impl QueueStats {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32(self.port_no);
        out.put_u32(self.queue_id);
        out.put_u64(self.tx_bytes);
        out.put_u64(self.tx_packets);
        out.put_u64(self.tx_errors);
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<QueueStats, DecodeError> {
        Ok(QueueStats {
            port_no: r.u32()?,
            queue_id: r.u32()?,
            tx_bytes: r.u64()?,
            tx_packets: r.u64()?,
            tx_errors: r.u64()?,
            duration_sec: r.u32()?,
            duration_nsec: r.u32()?,
        })
    }
}

/// One group in a GROUP reply (`ofp_group_stats`); `bucket_stats` holds
/// (packet_count, byte_count) per bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct GroupStats {
    pub group_id: u32,
    pub ref_count: u32,
    pub packet_count: u64,
    pub byte_count: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub bucket_stats: Vec<(u64, u64)>,
}

impl GroupStats {
    /// A group's counters at `now`; `ref_count`: flows and groups that
    /// send to it.
    pub fn from_switch(e: &GroupEntry, ref_count: u32, now: u64) -> GroupStats {
        let (duration_sec, duration_nsec) = duration(now, e.created);
        GroupStats {
            group_id: e.group.id,
            ref_count,
            packet_count: e.counter.packets(),
            byte_count: e.counter.bytes(),
            duration_sec,
            duration_nsec,
            bucket_stats: e
                .bucket_counters
                .iter()
                .map(|c| (c.packets(), c.bytes()))
                .collect(),
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16((40 + 16 * self.bucket_stats.len()) as u16);
        out.put_zeros(2);
        out.put_u32(self.group_id);
        out.put_u32(self.ref_count);
        out.put_zeros(4);
        out.put_u64(self.packet_count);
        out.put_u64(self.byte_count);
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
        for (p, b) in &self.bucket_stats {
            out.put_u64(*p);
            out.put_u64(*b);
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<GroupStats, DecodeError> {
        let len = usize::from(r.u16()?);
        if len < 40 || (len - 40) % 16 != 0 {
            return Err(r.error(format!("group stats entry of length {len}")));
        }
        let mut b = r.sub(len - 2, "group stats")?;
        b.skip(2)?;
        let group_id = b.u32()?;
        let ref_count = b.u32()?;
        b.skip(4)?;
        let mut g = GroupStats {
            group_id,
            ref_count,
            packet_count: b.u64()?,
            byte_count: b.u64()?,
            duration_sec: b.u32()?,
            duration_nsec: b.u32()?,
            bucket_stats: Vec::new(),
        };
        while !b.is_empty() {
            g.bucket_stats.push((b.u64()?, b.u64()?));
        }
        Ok(g)
    }
}

/// One group in a GROUP_DESC reply (`ofp_group_desc`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupDesc {
    pub group_type: GroupType,
    pub group_id: u32,
    pub buckets: Vec<Bucket>,
}

impl GroupDesc {
    /// A group as it was given.
    pub fn from_switch(g: &vnet_switch::group::Group) -> GroupDesc {
        GroupDesc {
            group_type: GroupType::from_switch(g.group_type),
            group_id: g.id,
            buckets: g.buckets.iter().map(Bucket::from_switch).collect(),
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let at = out.len();
        out.put_u16(0);
        out.put_u8(self.group_type as u8);
        out.put_zeros(1);
        out.put_u32(self.group_id);
        encode_buckets(&self.buckets, out);
        let len = crate::buf::len16(out.len() - at);
        out.set_u16(at, len);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<GroupDesc, DecodeError> {
        let len = usize::from(r.u16()?);
        if len < 8 {
            return Err(r.error(format!("group desc entry of length {len}")));
        }
        let mut b = r.sub(len - 2, "group desc")?;
        let group_type = GroupType::decode(&mut b)?;
        b.skip(1)?;
        Ok(GroupDesc {
            group_type,
            group_id: b.u32()?,
            buckets: decode_buckets(b.rest())?,
        })
    }
}

/// `ofp_group_capabilities`.
pub const OFPGFC_SELECT_WEIGHT: u32 = 1 << 0;
pub const OFPGFC_SELECT_LIVENESS: u32 = 1 << 1;
pub const OFPGFC_CHAINING: u32 = 1 << 2;
pub const OFPGFC_CHAINING_CHECKS: u32 = 1 << 3;

/// The GROUP_FEATURES reply: `types` is a bitmap of group types;
/// `max_groups` and `actions` (bitmaps of `OFPAT_*`) per group type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct GroupFeatures {
    pub types: u32,
    pub capabilities: u32,
    pub max_groups: [u32; 4],
    pub actions: [u32; 4],
}

impl GroupFeatures {
    /// What this switch's groups do: every type, weighted and liveness-
    /// aware selection, chaining; in every type the actions flows have
    /// (the list TABLE_FEATURES gives, from the same place).
    pub fn supported() -> GroupFeatures {
        let actions = super::table_features::supported_actions()
            .iter()
            .filter(|a| **a < 32)
            .fold(0u32, |m, a| m | 1 << a);
        GroupFeatures {
            types: SwGroupType::TYPES
                .iter()
                .fold(0, |m, t| m | 1 << (*t as u32)),
            capabilities: OFPGFC_SELECT_WEIGHT | OFPGFC_SELECT_LIVENESS | OFPGFC_CHAINING,
            max_groups: [MAX_GROUPS as u32; 4],
            actions: [actions; 4],
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32(self.types);
        out.put_u32(self.capabilities);
        self.max_groups.iter().for_each(|v| out.put_u32(*v));
        self.actions.iter().for_each(|v| out.put_u32(*v));
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<GroupFeatures, DecodeError> {
        let mut g = GroupFeatures {
            types: r.u32()?,
            capabilities: r.u32()?,
            ..GroupFeatures::default()
        };
        for v in &mut g.max_groups {
            *v = r.u32()?;
        }
        for v in &mut g.actions {
            *v = r.u32()?;
        }
        Ok(g)
    }
}

/// One meter in a METER reply (`ofp_meter_stats`); `band_stats` holds
/// (packet_band_count, byte_band_count) per band.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MeterStats {
    pub meter_id: u32,
    pub flow_count: u32,
    pub packet_in_count: u64,
    pub byte_in_count: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub band_stats: Vec<(u64, u64)>,
}

impl MeterStats {
    /// A meter's counters at `now`; `flow_count`: flows naming it.
    pub fn from_switch(e: &MeterEntry, flow_count: u32, now: u64) -> MeterStats {
        let (duration_sec, duration_nsec) = duration(now, e.created);
        MeterStats {
            meter_id: e.meter.id,
            flow_count,
            packet_in_count: e.counter.packets(),
            byte_in_count: e.counter.bytes(),
            duration_sec,
            duration_nsec,
            band_stats: e
                .band_counters
                .iter()
                .map(|c| (c.packets(), c.bytes()))
                .collect(),
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32(self.meter_id);
        out.put_u16((40 + 16 * self.band_stats.len()) as u16);
        out.put_zeros(6);
        out.put_u32(self.flow_count);
        out.put_u64(self.packet_in_count);
        out.put_u64(self.byte_in_count);
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
        for (p, b) in &self.band_stats {
            out.put_u64(*p);
            out.put_u64(*b);
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<MeterStats, DecodeError> {
        let meter_id = r.u32()?;
        let len = usize::from(r.u16()?);
        if len < 40 || (len - 40) % 16 != 0 {
            return Err(r.error(format!("meter stats entry of length {len}")));
        }
        let mut b = r.sub(len - 6, "meter stats")?;
        b.skip(6)?;
        let mut m = MeterStats {
            meter_id,
            flow_count: b.u32()?,
            packet_in_count: b.u64()?,
            byte_in_count: b.u64()?,
            duration_sec: b.u32()?,
            duration_nsec: b.u32()?,
            band_stats: Vec::new(),
        };
        while !b.is_empty() {
            m.band_stats.push((b.u64()?, b.u64()?));
        }
        Ok(m)
    }
}

/// One meter in a METER_CONFIG reply (`ofp_meter_config`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MeterConfig {
    pub flags: u16,
    pub meter_id: u32,
    pub bands: Vec<MeterBand>,
}

impl MeterConfig {
    /// A meter exactly as it was given.
    pub fn from_switch(m: &vnet_switch::meter::Meter) -> MeterConfig {
        MeterConfig {
            flags: m.flags.0,
            meter_id: m.id,
            bands: m.bands.iter().map(MeterBand::from_switch).collect(),
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16((8 + bands_len(&self.bands)) as u16);
        out.put_u16(self.flags);
        out.put_u32(self.meter_id);
        encode_bands(&self.bands, out);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<MeterConfig, DecodeError> {
        let len = usize::from(r.u16()?);
        if len < 8 {
            return Err(r.error(format!("meter config entry of length {len}")));
        }
        let mut b = r.sub(len - 2, "meter config")?;
        Ok(MeterConfig {
            flags: b.u16()?,
            meter_id: b.u32()?,
            bands: decode_bands(b.rest())?,
        })
    }
}

/// The METER_FEATURES reply (`ofp_meter_features`); `band_types` is a
/// bitmap of `1 << OFPMBT_*`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MeterFeatures {
    pub max_meter: u32,
    pub band_types: u32,
    pub capabilities: u32,
    pub max_bands: u8,
    pub max_color: u8,
}

impl MeterFeatures {
    /// What this switch's meters do: DROP and DSCP_REMARK bands, every
    /// flag, no colors.
    pub fn supported() -> MeterFeatures {
        MeterFeatures {
            max_meter: MAX_METERS as u32,
            band_types: 1 << OFPMBT_DROP | 1 << OFPMBT_DSCP_REMARK,
            capabilities: 0xf, // KBPS | PKTPS | BURST | STATS
            max_bands: MAX_BANDS as u8,
            max_color: 0,
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32(self.max_meter);
        out.put_u32(self.band_types);
        out.put_u32(self.capabilities);
        out.put_u8(self.max_bands);
        out.put_u8(self.max_color);
        out.put_zeros(2);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<MeterFeatures, DecodeError> {
        let m = MeterFeatures {
            max_meter: r.u32()?,
            band_types: r.u32()?,
            capabilities: r.u32()?,
            max_bands: r.u8()?,
            max_color: r.u8()?,
        };
        r.skip(2)?;
        Ok(m)
    }
}
