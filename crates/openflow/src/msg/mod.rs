//! Messages: the OpenFlow header ([`Header`]), the [`Message`] enum with
//! one variant per OpenFlow 1.3 message this switch handles, and their
//! decode/encode.
//!
//! - [`basic`]: HELLO, ERROR, EXPERIMENTER, FEATURES, config, ROLE,
//!   async, PORT_STATUS, TABLE_MOD;
//! - [`flow`]: FLOW_MOD, FLOW_REMOVED, PACKET_IN, PACKET_OUT;
//! - [`group`], [`meter`]: GROUP_MOD, METER_MOD.
//!
//! Decoding checks the header (length equals the bytes given; version 4
//! except for HELLO, which negotiates) and refuses trailing bytes after a
//! fixed-size body, so every message either decodes exactly or gives the
//! error to answer with.
//!
//! What it must never do: panic on any input.

pub mod basic;
pub mod flow;
pub mod group;
pub mod meter;

use crate::buf::{Put, Reader};
use crate::error::*;
use crate::multipart::{MultipartReply, MultipartRequest};
use crate::port::{PortDesc, PortMod};
use crate::OFP_VERSION;

pub use basic::{
    AsyncConfig, ControllerRole, ErrorMsg, Experimenter, Hello, HelloElement, PortStatus, RoleMsg,
    SwitchConfig, SwitchFeatures, TableMod,
};
pub use flow::{FlowMod, FlowRemoved, PacketIn, PacketOut};
pub use group::{Bucket, GroupMod, GroupModCommand, GroupType};
pub use meter::{MeterBand, MeterMod, MeterModCommand};

pub const OFPT_HELLO: u8 = 0;
pub const OFPT_ERROR: u8 = 1;
pub const OFPT_ECHO_REQUEST: u8 = 2;
pub const OFPT_ECHO_REPLY: u8 = 3;
pub const OFPT_EXPERIMENTER: u8 = 4;
pub const OFPT_FEATURES_REQUEST: u8 = 5;
pub const OFPT_FEATURES_REPLY: u8 = 6;
pub const OFPT_GET_CONFIG_REQUEST: u8 = 7;
pub const OFPT_GET_CONFIG_REPLY: u8 = 8;
pub const OFPT_SET_CONFIG: u8 = 9;
pub const OFPT_PACKET_IN: u8 = 10;
pub const OFPT_FLOW_REMOVED: u8 = 11;
pub const OFPT_PORT_STATUS: u8 = 12;
pub const OFPT_PACKET_OUT: u8 = 13;
pub const OFPT_FLOW_MOD: u8 = 14;
pub const OFPT_GROUP_MOD: u8 = 15;
pub const OFPT_PORT_MOD: u8 = 16;
pub const OFPT_TABLE_MOD: u8 = 17;
pub const OFPT_MULTIPART_REQUEST: u8 = 18;
pub const OFPT_MULTIPART_REPLY: u8 = 19;
pub const OFPT_BARRIER_REQUEST: u8 = 20;
pub const OFPT_BARRIER_REPLY: u8 = 21;
pub const OFPT_QUEUE_GET_CONFIG_REQUEST: u8 = 22;
pub const OFPT_QUEUE_GET_CONFIG_REPLY: u8 = 23;
pub const OFPT_ROLE_REQUEST: u8 = 24;
pub const OFPT_ROLE_REPLY: u8 = 25;
pub const OFPT_GET_ASYNC_REQUEST: u8 = 26;
pub const OFPT_GET_ASYNC_REPLY: u8 = 27;
pub const OFPT_SET_ASYNC: u8 = 28;
pub const OFPT_METER_MOD: u8 = 29;

/// Reserved port numbers, as on the wire (`ofp_port_no`).
pub const OFPP_MAX: u32 = 0xffff_ff00;
pub const OFPP_IN_PORT: u32 = 0xffff_fff8;
pub const OFPP_TABLE: u32 = 0xffff_fff9;
pub const OFPP_NORMAL: u32 = 0xffff_fffa;
pub const OFPP_FLOOD: u32 = 0xffff_fffb;
pub const OFPP_ALL: u32 = 0xffff_fffc;
pub const OFPP_CONTROLLER: u32 = 0xffff_fffd;
pub const OFPP_LOCAL: u32 = 0xffff_fffe;
pub const OFPP_ANY: u32 = 0xffff_ffff;
/// `table_id` meaning every table (`OFPTT_ALL`).
pub const OFPTT_ALL: u8 = 0xff;

/// The 8-byte OpenFlow header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    pub version: u8,
    pub r#type: u8,
    /// Whole message, header included.
    pub length: u16,
    pub xid: u32,
}

/// Header size.
pub const HEADER_LEN: usize = 8;

impl Header {
    /// The header at the start of `bytes` (OFPBRC_BAD_LEN if fewer than 8
    /// bytes or a length below 8).
    pub fn parse(bytes: &[u8]) -> Result<Header, DecodeError> {
        let mut r = Reader::new(bytes, OFPBRC_BAD_LEN, "OpenFlow header");
        let h = Header {
            version: r.u8()?,
            r#type: r.u8()?,
            length: r.u16()?,
            xid: r.u32()?,
        };
        if usize::from(h.length) < HEADER_LEN {
            return Err(DecodeError::new(
                OFPBRC_BAD_LEN,
                format!("header length {} is below 8", h.length),
            ));
        }
        Ok(h)
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u8(self.version);
        out.put_u8(self.r#type);
        out.put_u16(self.length);
        out.put_u32(self.xid);
    }
}

/// An OpenFlow 1.3 message (the header's version, type, length and xid
/// live apart: see [`Message::decode`] and [`Message::encode`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {
    Hello(Hello),
    Error(ErrorMsg),
    EchoRequest(Vec<u8>),
    EchoReply(Vec<u8>),
    Experimenter(Experimenter),
    FeaturesRequest,
    FeaturesReply(SwitchFeatures),
    GetConfigRequest,
    GetConfigReply(SwitchConfig),
    SetConfig(SwitchConfig),
    PacketIn(PacketIn),
    FlowRemoved(FlowRemoved),
    PortStatus(PortStatus),
    PacketOut(PacketOut),
    FlowMod(FlowMod),
    GroupMod(GroupMod),
    PortMod(PortMod),
    TableMod(TableMod),
    MultipartRequest(MultipartRequest),
    MultipartReply(MultipartReply),
    BarrierRequest,
    BarrierReply,
    RoleRequest(RoleMsg),
    RoleReply(RoleMsg),
    GetAsyncRequest,
    GetAsyncReply(AsyncConfig),
    SetAsync(AsyncConfig),
    MeterMod(MeterMod),
}

impl Message {
    /// The `OFPT_*` type.
    pub fn type_code(&self) -> u8 {
        use Message as M;
        match self {
            M::Hello(_) => OFPT_HELLO,
            M::Error(_) => OFPT_ERROR,
            M::EchoRequest(_) => OFPT_ECHO_REQUEST,
            M::EchoReply(_) => OFPT_ECHO_REPLY,
            M::Experimenter(_) => OFPT_EXPERIMENTER,
            M::FeaturesRequest => OFPT_FEATURES_REQUEST,
            M::FeaturesReply(_) => OFPT_FEATURES_REPLY,
            M::GetConfigRequest => OFPT_GET_CONFIG_REQUEST,
            M::GetConfigReply(_) => OFPT_GET_CONFIG_REPLY,
            M::SetConfig(_) => OFPT_SET_CONFIG,
            M::PacketIn(_) => OFPT_PACKET_IN,
            M::FlowRemoved(_) => OFPT_FLOW_REMOVED,
            M::PortStatus(_) => OFPT_PORT_STATUS,
            M::PacketOut(_) => OFPT_PACKET_OUT,
            M::FlowMod(_) => OFPT_FLOW_MOD,
            M::GroupMod(_) => OFPT_GROUP_MOD,
            M::PortMod(_) => OFPT_PORT_MOD,
            M::TableMod(_) => OFPT_TABLE_MOD,
            M::MultipartRequest(_) => OFPT_MULTIPART_REQUEST,
            M::MultipartReply(_) => OFPT_MULTIPART_REPLY,
            M::BarrierRequest => OFPT_BARRIER_REQUEST,
            M::BarrierReply => OFPT_BARRIER_REPLY,
            M::RoleRequest(_) => OFPT_ROLE_REQUEST,
            M::RoleReply(_) => OFPT_ROLE_REPLY,
            M::GetAsyncRequest => OFPT_GET_ASYNC_REQUEST,
            M::GetAsyncReply(_) => OFPT_GET_ASYNC_REPLY,
            M::SetAsync(_) => OFPT_SET_ASYNC,
            M::MeterMod(_) => OFPT_METER_MOD,
        }
    }

    /// The whole message (header included) with this xid and version 4.
    pub fn encode(&self, xid: u32) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(64);
        Header {
            version: OFP_VERSION,
            r#type: self.type_code(),
            length: 0,
            xid,
        }
        .encode(&mut out);
        self.encode_body(&mut out);
        let len = out.len();
        let len16 = u16::try_from(len).map_err(|_| EncodeError::TooLong { len })?;
        out.set_u16(2, len16);
        Ok(out)
    }

    fn encode_body(&self, out: &mut Vec<u8>) {
        use Message as M;
        match self {
            M::Hello(h) => h.encode(out),
            M::Error(e) => {
                out.put_u16(e.r#type);
                out.put_u16(e.code);
                out.extend_from_slice(&e.data);
            }
            M::EchoRequest(d) | M::EchoReply(d) => out.extend_from_slice(d),
            M::Experimenter(e) => {
                out.put_u32(e.experimenter);
                out.put_u32(e.exp_type);
                out.extend_from_slice(&e.data);
            }
            M::FeaturesReply(f) => f.encode(out),
            M::GetConfigReply(c) | M::SetConfig(c) => {
                out.put_u16(c.flags);
                out.put_u16(c.miss_send_len);
            }
            M::PacketIn(p) => p.encode(out),
            M::FlowRemoved(f) => f.encode(out),
            M::PortStatus(p) => {
                out.put_u8(p.reason);
                out.put_zeros(7);
                p.desc.encode(out);
            }
            M::PacketOut(p) => p.encode(out),
            M::FlowMod(f) => f.encode(out),
            M::GroupMod(g) => g.encode(out),
            M::PortMod(p) => p.encode(out),
            M::TableMod(t) => {
                out.put_u8(t.table_id);
                out.put_zeros(3);
                out.put_u32(t.config);
            }
            M::MultipartRequest(m) => m.encode(out),
            M::MultipartReply(m) => m.encode(out),
            M::RoleRequest(r) | M::RoleReply(r) => r.encode(out),
            M::GetAsyncReply(a) | M::SetAsync(a) => a.encode(out),
            M::MeterMod(m) => m.encode(out),
            M::FeaturesRequest
            | M::GetConfigRequest
            | M::BarrierRequest
            | M::BarrierReply
            | M::GetAsyncRequest => {}
        }
    }

    /// Decodes one whole message. `bytes` must be exactly the message (as
    /// the framing cuts it). On error, answer with
    /// [`ErrorMsg::reply_to`]`(&err, bytes)` under the header's xid.
    pub fn decode(bytes: &[u8]) -> Result<(Header, Message), DecodeError> {
        use Message as M;
        let h = Header::parse(bytes)?;
        if usize::from(h.length) != bytes.len() {
            return Err(DecodeError::new(
                OFPBRC_BAD_LEN,
                format!(
                    "header length {} but the message has {} bytes",
                    h.length,
                    bytes.len()
                ),
            ));
        }
        if h.version != OFP_VERSION && h.r#type != OFPT_HELLO {
            return Err(DecodeError::new(
                OFPBRC_BAD_VERSION,
                format!("version {:#04x}; this switch speaks 0x04 only", h.version),
            ));
        }
        let mut r = Reader::new(&bytes[HEADER_LEN..], OFPBRC_BAD_LEN, "message body");
        let r = &mut r;
        let msg = match h.r#type {
            OFPT_HELLO => M::Hello(Hello::decode(r)?),
            OFPT_ERROR => M::Error(ErrorMsg {
                r#type: r.u16()?,
                code: r.u16()?,
                data: r.rest().to_vec(),
            }),
            OFPT_ECHO_REQUEST => M::EchoRequest(r.rest().to_vec()),
            OFPT_ECHO_REPLY => M::EchoReply(r.rest().to_vec()),
            OFPT_EXPERIMENTER => M::Experimenter(Experimenter {
                experimenter: r.u32()?,
                exp_type: r.u32()?,
                data: r.rest().to_vec(),
            }),
            OFPT_FEATURES_REQUEST => M::FeaturesRequest,
            OFPT_FEATURES_REPLY => M::FeaturesReply(SwitchFeatures::decode(r)?),
            OFPT_GET_CONFIG_REQUEST => M::GetConfigRequest,
            OFPT_GET_CONFIG_REPLY | OFPT_SET_CONFIG => {
                let c = SwitchConfig {
                    flags: r.u16()?,
                    miss_send_len: r.u16()?,
                };
                if h.r#type == OFPT_SET_CONFIG {
                    M::SetConfig(c)
                } else {
                    M::GetConfigReply(c)
                }
            }
            OFPT_PACKET_IN => M::PacketIn(PacketIn::decode(r)?),
            OFPT_FLOW_REMOVED => M::FlowRemoved(FlowRemoved::decode(r)?),
            OFPT_PORT_STATUS => {
                let reason = r.u8()?;
                r.skip(7)?;
                M::PortStatus(PortStatus {
                    reason,
                    desc: PortDesc::decode(r)?,
                })
            }
            OFPT_PACKET_OUT => M::PacketOut(PacketOut::decode(r)?),
            OFPT_FLOW_MOD => M::FlowMod(FlowMod::decode(r)?),
            OFPT_GROUP_MOD => M::GroupMod(GroupMod::decode(r)?),
            OFPT_PORT_MOD => M::PortMod(PortMod::decode(r)?),
            OFPT_TABLE_MOD => {
                let table_id = r.u8()?;
                r.skip(3)?;
                M::TableMod(TableMod {
                    table_id,
                    config: r.u32()?,
                })
            }
            OFPT_MULTIPART_REQUEST => M::MultipartRequest(MultipartRequest::decode(r)?),
            OFPT_MULTIPART_REPLY => M::MultipartReply(MultipartReply::decode(r)?),
            OFPT_BARRIER_REQUEST => M::BarrierRequest,
            OFPT_BARRIER_REPLY => M::BarrierReply,
            OFPT_ROLE_REQUEST => M::RoleRequest(RoleMsg::decode(r)?),
            OFPT_ROLE_REPLY => M::RoleReply(RoleMsg::decode(r)?),
            OFPT_GET_ASYNC_REQUEST => M::GetAsyncRequest,
            OFPT_GET_ASYNC_REPLY => M::GetAsyncReply(AsyncConfig::decode(r)?),
            OFPT_SET_ASYNC => M::SetAsync(AsyncConfig::decode(r)?),
            OFPT_METER_MOD => M::MeterMod(MeterMod::decode(r)?),
            t => {
                return Err(DecodeError::new(
                    OFPBRC_BAD_TYPE,
                    format!("message type {t} is not supported"),
                ))
            }
        };
        if !r.is_empty() {
            return Err(DecodeError::new(
                OFPBRC_BAD_LEN,
                format!(
                    "message type {} has {} trailing bytes",
                    h.r#type,
                    r.remaining()
                ),
            ));
        }
        Ok((h, msg))
    }
}
