//! MULTIPART_REQUEST / MULTIPART_REPLY: the request and reply bodies of
//! every OpenFlow 1.3 multipart type except EXPERIMENTER (refused with
//! OFPBRC_BAD_EXPERIMENTER), and [`MultipartReply::encode_split`], which cuts a long reply
//! into messages flagged OFPMPF_REPLY_MORE.
//!
//! - [`flow`]: FLOW and AGGREGATE (from the switch's flows);
//! - [`stats`]: DESC, TABLE, QUEUE, GROUP*, METER*;
//! - [`table_features`]: TABLE_FEATURES and what this switch supports.
//!
//! What it must never do: panic on input, or encode a reply part over the
//! size it was given.

pub mod flow;
pub mod stats;
pub mod table_features;

use crate::buf::{Put, Reader};
use crate::error::*;
use crate::port::{PortDesc, PortStats};

pub use flow::{AggregateStats, FlowStatsEntry, FlowStatsRequest};
pub use stats::{
    Desc, GroupDesc, GroupFeatures, GroupStats, MeterConfig, MeterFeatures, MeterStats, QueueStats,
    TableStats,
};
pub use table_features::{OxmId, TableFeatureProp, TableFeatures};

pub const OFPMP_DESC: u16 = 0;
pub const OFPMP_FLOW: u16 = 1;
pub const OFPMP_AGGREGATE: u16 = 2;
pub const OFPMP_TABLE: u16 = 3;
pub const OFPMP_PORT_STATS: u16 = 4;
pub const OFPMP_QUEUE: u16 = 5;
pub const OFPMP_GROUP: u16 = 6;
pub const OFPMP_GROUP_DESC: u16 = 7;
pub const OFPMP_GROUP_FEATURES: u16 = 8;
pub const OFPMP_METER: u16 = 9;
pub const OFPMP_METER_CONFIG: u16 = 10;
pub const OFPMP_METER_FEATURES: u16 = 11;
pub const OFPMP_TABLE_FEATURES: u16 = 12;
pub const OFPMP_PORT_DESC: u16 = 13;
pub const OFPMP_EXPERIMENTER: u16 = 0xffff;

/// More parts follow (`OFPMPF_REQ_MORE` / `OFPMPF_REPLY_MORE`).
pub const OFPMPF_MORE: u16 = 1;

/// `OFPQ_ALL`: every queue.
pub const OFPQ_ALL: u32 = 0xffff_ffff;

/// A multipart request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MultipartRequest {
    pub flags: u16,
    pub body: MultipartRequestBody,
}

/// What a multipart request asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MultipartRequestBody {
    Desc,
    Flow(FlowStatsRequest),
    Aggregate(FlowStatsRequest),
    Table,
    /// `OFPP_ANY` = every port.
    PortStats {
        port_no: u32,
    },
    Queue {
        port_no: u32,
        queue_id: u32,
    },
    /// `OFPG_ALL` = every group.
    Group {
        group_id: u32,
    },
    GroupDesc,
    GroupFeatures,
    /// `OFPM_ALL` = every meter.
    Meter {
        meter_id: u32,
    },
    MeterConfig {
        meter_id: u32,
    },
    MeterFeatures,
    /// Empty = just report; otherwise the controller sets the tables.
    TableFeatures(Vec<TableFeatures>),
    PortDesc,
}

impl MultipartRequestBody {
    /// The `OFPMP_*` type.
    pub fn type_code(&self) -> u16 {
        use MultipartRequestBody as B;
        match self {
            B::Desc => OFPMP_DESC,
            B::Flow(_) => OFPMP_FLOW,
            B::Aggregate(_) => OFPMP_AGGREGATE,
            B::Table => OFPMP_TABLE,
            B::PortStats { .. } => OFPMP_PORT_STATS,
            B::Queue { .. } => OFPMP_QUEUE,
            B::Group { .. } => OFPMP_GROUP,
            B::GroupDesc => OFPMP_GROUP_DESC,
            B::GroupFeatures => OFPMP_GROUP_FEATURES,
            B::Meter { .. } => OFPMP_METER,
            B::MeterConfig { .. } => OFPMP_METER_CONFIG,
            B::MeterFeatures => OFPMP_METER_FEATURES,
            B::TableFeatures(_) => OFPMP_TABLE_FEATURES,
            B::PortDesc => OFPMP_PORT_DESC,
        }
    }
}

impl MultipartRequest {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        use MultipartRequestBody as B;
        out.put_u16(self.body.type_code());
        out.put_u16(self.flags);
        out.put_zeros(4);
        let id_pad = |out: &mut Vec<u8>, id: u32| {
            out.put_u32(id);
            out.put_zeros(4);
        };
        match &self.body {
            B::Flow(f) | B::Aggregate(f) => f.encode(out),
            B::PortStats { port_no } => id_pad(out, *port_no),
            B::Queue { port_no, queue_id } => {
                out.put_u32(*port_no);
                out.put_u32(*queue_id);
            }
            B::Group { group_id } => id_pad(out, *group_id),
            B::Meter { meter_id } | B::MeterConfig { meter_id } => id_pad(out, *meter_id),
            B::TableFeatures(t) => t.iter().for_each(|t| t.encode(out)),
            B::Desc
            | B::Table
            | B::GroupDesc
            | B::GroupFeatures
            | B::MeterFeatures
            | B::PortDesc => {}
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<MultipartRequest, DecodeError> {
        use MultipartRequestBody as B;
        let mtype = r.u16()?;
        let flags = r.u16()?;
        r.skip(4)?;
        let id_pad = |r: &mut Reader| {
            let id = r.u32()?;
            r.skip(4)?;
            Ok::<_, DecodeError>(id)
        };
        let body = match mtype {
            OFPMP_DESC => B::Desc,
            OFPMP_FLOW => B::Flow(FlowStatsRequest::decode(r)?),
            OFPMP_AGGREGATE => B::Aggregate(FlowStatsRequest::decode(r)?),
            OFPMP_TABLE => B::Table,
            OFPMP_PORT_STATS => B::PortStats {
                port_no: id_pad(r)?,
            },
            OFPMP_QUEUE => B::Queue {
                port_no: r.u32()?,
                queue_id: r.u32()?,
            },
            OFPMP_GROUP => B::Group {
                group_id: id_pad(r)?,
            },
            OFPMP_GROUP_DESC => B::GroupDesc,
            OFPMP_GROUP_FEATURES => B::GroupFeatures,
            OFPMP_METER => B::Meter {
                meter_id: id_pad(r)?,
            },
            OFPMP_METER_CONFIG => B::MeterConfig {
                meter_id: id_pad(r)?,
            },
            OFPMP_METER_FEATURES => B::MeterFeatures,
            OFPMP_TABLE_FEATURES => B::TableFeatures(table_features::decode_list(r)?),
            OFPMP_PORT_DESC => B::PortDesc,
            OFPMP_EXPERIMENTER => {
                return Err(DecodeError::new(
                    OFPBRC_BAD_EXPERIMENTER,
                    "experimenter multipart requests are not supported",
                ))
            }
            t => {
                return Err(DecodeError::new(
                    OFPBRC_BAD_MULTIPART,
                    format!("unknown multipart type {t}"),
                ))
            }
        };
        if !r.is_empty() {
            return Err(r.error(format!(
                "multipart request type {mtype} has {} trailing bytes",
                r.remaining()
            )));
        }
        Ok(MultipartRequest { flags, body })
    }
}

/// A multipart reply.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MultipartReply {
    pub flags: u16,
    pub body: MultipartReplyBody,
}

/// The reply bodies; lists may be split across messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MultipartReplyBody {
    Desc(Desc),
    Flow(Vec<FlowStatsEntry>),
    Aggregate(AggregateStats),
    Table(Vec<TableStats>),
    PortStats(Vec<PortStats>),
    Queue(Vec<QueueStats>),
    Group(Vec<GroupStats>),
    GroupDesc(Vec<GroupDesc>),
    GroupFeatures(GroupFeatures),
    Meter(Vec<MeterStats>),
    MeterConfig(Vec<MeterConfig>),
    MeterFeatures(MeterFeatures),
    TableFeatures(Vec<TableFeatures>),
    PortDesc(Vec<PortDesc>),
}

impl MultipartReplyBody {
    /// The `OFPMP_*` type.
    pub fn type_code(&self) -> u16 {
        use MultipartReplyBody as B;
        match self {
            B::Desc(_) => OFPMP_DESC,
            B::Flow(_) => OFPMP_FLOW,
            B::Aggregate(_) => OFPMP_AGGREGATE,
            B::Table(_) => OFPMP_TABLE,
            B::PortStats(_) => OFPMP_PORT_STATS,
            B::Queue(_) => OFPMP_QUEUE,
            B::Group(_) => OFPMP_GROUP,
            B::GroupDesc(_) => OFPMP_GROUP_DESC,
            B::GroupFeatures(_) => OFPMP_GROUP_FEATURES,
            B::Meter(_) => OFPMP_METER,
            B::MeterConfig(_) => OFPMP_METER_CONFIG,
            B::MeterFeatures(_) => OFPMP_METER_FEATURES,
            B::TableFeatures(_) => OFPMP_TABLE_FEATURES,
            B::PortDesc(_) => OFPMP_PORT_DESC,
        }
    }

    /// The body as separately encoded entries (one for single bodies).
    fn entries(&self) -> Vec<Vec<u8>> {
        use MultipartReplyBody as B;
        fn each<T>(items: &[T], enc: impl Fn(&T, &mut Vec<u8>)) -> Vec<Vec<u8>> {
            items
                .iter()
                .map(|i| {
                    let mut v = Vec::new();
                    enc(i, &mut v);
                    v
                })
                .collect()
        }
        let one = |enc: &dyn Fn(&mut Vec<u8>)| {
            let mut v = Vec::new();
            enc(&mut v);
            vec![v]
        };
        match self {
            B::Desc(d) => one(&|o| d.encode(o)),
            B::Flow(l) => each(l, FlowStatsEntry::encode),
            B::Aggregate(a) => one(&|o| a.encode(o)),
            B::Table(l) => each(l, TableStats::encode),
            B::PortStats(l) => each(l, PortStats::encode),
            B::Queue(l) => each(l, QueueStats::encode),
            B::Group(l) => each(l, GroupStats::encode),
            B::GroupDesc(l) => each(l, GroupDesc::encode),
            B::GroupFeatures(g) => one(&|o| g.encode(o)),
            B::Meter(l) => each(l, MeterStats::encode),
            B::MeterConfig(l) => each(l, MeterConfig::encode),
            B::MeterFeatures(m) => one(&|o| m.encode(o)),
            B::TableFeatures(l) => each(l, TableFeatures::encode),
            B::PortDesc(l) => each(l, PortDesc::encode),
        }
    }

    fn decode(mtype: u16, r: &mut Reader) -> Result<MultipartReplyBody, DecodeError> {
        use MultipartReplyBody as B;
        fn list<T>(
            r: &mut Reader,
            dec: impl Fn(&mut Reader) -> Result<T, DecodeError>,
        ) -> Result<Vec<T>, DecodeError> {
            let mut out = Vec::new();
            while !r.is_empty() {
                out.push(dec(r)?);
            }
            Ok(out)
        }
        Ok(match mtype {
            OFPMP_DESC => B::Desc(Desc::decode(r)?),
            OFPMP_FLOW => B::Flow(list(r, FlowStatsEntry::decode)?),
            OFPMP_AGGREGATE => B::Aggregate(AggregateStats::decode(r)?),
            OFPMP_TABLE => B::Table(list(r, TableStats::decode)?),
            OFPMP_PORT_STATS => B::PortStats(list(r, PortStats::decode)?),
            OFPMP_QUEUE => B::Queue(list(r, QueueStats::decode)?),
            OFPMP_GROUP => B::Group(list(r, GroupStats::decode)?),
            OFPMP_GROUP_DESC => B::GroupDesc(list(r, GroupDesc::decode)?),
            OFPMP_GROUP_FEATURES => B::GroupFeatures(GroupFeatures::decode(r)?),
            OFPMP_METER => B::Meter(list(r, MeterStats::decode)?),
            OFPMP_METER_CONFIG => B::MeterConfig(list(r, MeterConfig::decode)?),
            OFPMP_METER_FEATURES => B::MeterFeatures(MeterFeatures::decode(r)?),
            OFPMP_TABLE_FEATURES => B::TableFeatures(table_features::decode_list(r)?),
            OFPMP_PORT_DESC => B::PortDesc(list(r, PortDesc::decode)?),
            OFPMP_EXPERIMENTER => {
                return Err(DecodeError::new(
                    OFPBRC_BAD_EXPERIMENTER,
                    "experimenter multipart replies are not supported",
                ))
            }
            t => {
                return Err(DecodeError::new(
                    OFPBRC_BAD_MULTIPART,
                    format!("unknown multipart type {t}"),
                ))
            }
        })
    }

    /// Whether the body is a list of entries that may be split across
    /// messages (the others go whole into one).
    fn is_list(&self) -> bool {
        use MultipartReplyBody as B;
        !matches!(
            self,
            B::Desc(_) | B::Aggregate(_) | B::GroupFeatures(_) | B::MeterFeatures(_)
        )
    }
}

impl MultipartReply {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16(self.body.type_code());
        out.put_u16(self.flags);
        out.put_zeros(4);
        for e in self.body.entries() {
            out.extend_from_slice(&e);
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<MultipartReply, DecodeError> {
        let mtype = r.u16()?;
        let flags = r.u16()?;
        r.skip(4)?;
        let body = MultipartReplyBody::decode(mtype, r)?;
        if !r.is_empty() {
            return Err(r.error(format!(
                "multipart reply type {mtype} has {} trailing bytes",
                r.remaining()
            )));
        }
        Ok(MultipartReply { flags, body })
    }

    /// The reply as one or more complete messages of at most `max_len`
    /// bytes (at least 16 + the largest entry; 65535 at most), all but the
    /// last flagged OFPMPF_REPLY_MORE. An entry larger than `max_len`
    /// still goes alone in one message (up to the 65535-byte limit).
    pub fn encode_split(&self, xid: u32, max_len: usize) -> Vec<Vec<u8>> {
        const HEAD: usize = 16;
        let max_len = max_len.clamp(HEAD + 8, crate::MAX_MESSAGE_LEN);
        let entries = self.body.entries();
        let mut parts: Vec<Vec<u8>> = Vec::new();
        let mut cur: Vec<u8> = Vec::new();
        let mut any = false;
        for e in entries {
            if any && HEAD + cur.len() + e.len() > max_len && self.body.is_list() {
                parts.push(std::mem::take(&mut cur));
            }
            cur.extend_from_slice(&e);
            any = true;
        }
        parts.push(cur);
        let n = parts.len();
        parts
            .into_iter()
            .enumerate()
            .map(|(i, body)| {
                let mut out = Vec::with_capacity(HEAD + body.len());
                let len = crate::buf::len16(HEAD + body.len());
                crate::Header {
                    version: crate::OFP_VERSION,
                    r#type: crate::msg::OFPT_MULTIPART_REPLY,
                    length: len,
                    xid,
                }
                .encode(&mut out);
                out.put_u16(self.body.type_code());
                let more = if i + 1 < n { OFPMPF_MORE } else { 0 };
                out.put_u16(self.flags | more);
                out.put_zeros(4);
                out.extend_from_slice(&body);
                out
            })
            .collect()
    }
}
