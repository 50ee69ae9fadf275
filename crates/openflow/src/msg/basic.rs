//! The small fixed-layout messages: HELLO (version bitmap and
//! negotiation), ERROR, EXPERIMENTER, FEATURES_REPLY, switch config,
//! ROLE, async config, PORT_STATUS and TABLE_MOD.
//!
//! What it must never do: panic on input, or lose bytes of a HELLO
//! element or ERROR payload it does not understand (they round-trip).

use crate::buf::{pad8, Put, Reader};
use crate::error::*;
use crate::port::PortDesc;

/// `OFPHET_VERSIONBITMAP`.
pub const OFPHET_VERSIONBITMAP: u16 = 1;

/// One element of a HELLO.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HelloElement {
    /// Bit `v` of the bitmap (bit 0 of word 0 = version 0) set = version
    /// `v` supported.
    VersionBitmap(Vec<u32>),
    /// An element this codec does not know (ignored, as the spec says).
    Unknown { r#type: u16, data: Vec<u8> },
}

/// HELLO: optional elements.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Hello {
    pub elements: Vec<HelloElement>,
}

impl Hello {
    /// A HELLO advertising exactly `versions` (wire version numbers).
    pub fn with_versions(versions: &[u8]) -> Hello {
        let words = versions.iter().map(|&v| usize::from(v) / 32 + 1).max();
        let mut bitmap = vec![0u32; words.unwrap_or(1)];
        for &v in versions {
            bitmap[usize::from(v) / 32] |= 1 << (v % 32);
        }
        Hello {
            elements: vec![HelloElement::VersionBitmap(bitmap)],
        }
    }

    /// The versions the bitmap element lists, if there is one.
    pub fn versions(&self) -> Option<Vec<u8>> {
        self.elements.iter().find_map(|e| match e {
            HelloElement::VersionBitmap(words) => Some(
                (0..words.len().min(8) * 32)
                    .filter(|&v| words[v / 32] & (1 << (v % 32)) != 0)
                    .map(|v| v as u8)
                    .collect(),
            ),
            HelloElement::Unknown { .. } => None,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        for e in &self.elements {
            let start = out.len();
            match e {
                HelloElement::VersionBitmap(words) => {
                    out.put_u16(OFPHET_VERSIONBITMAP);
                    out.put_u16((4 + 4 * words.len()) as u16);
                    words.iter().for_each(|w| out.put_u32(*w));
                }
                HelloElement::Unknown { r#type, data } => {
                    out.put_u16(*r#type);
                    out.put_u16((4 + data.len()) as u16);
                    out.extend_from_slice(data);
                }
            }
            out.pad8_from(start);
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Hello, DecodeError> {
        let mut elements = Vec::new();
        while r.remaining() >= 4 {
            let etype = r.u16()?;
            let len = usize::from(r.u16()?);
            if len < 4 {
                return Err(r.error(format!("hello element of length {len}")));
            }
            let mut body = r.sub(len - 4, "hello element")?;
            // The last element's padding is sometimes left off.
            r.skip((pad8(len) - len).min(r.remaining()))?;
            elements.push(if etype == OFPHET_VERSIONBITMAP {
                let mut words = Vec::new();
                while body.remaining() >= 4 {
                    words.push(body.u32()?);
                }
                HelloElement::VersionBitmap(words)
            } else {
                HelloElement::Unknown {
                    r#type: etype,
                    data: body.rest().to_vec(),
                }
            });
        }
        Ok(Hello { elements })
    }
}

/// The version both sides speak: the highest in both bitmaps when the
/// peer sent one, else the lower of the two header versions when we
/// support it (spec 6.3.1). `None` = OFPHFC_INCOMPATIBLE.
pub fn negotiate_version(ours: &[u8], peer_header_version: u8, peer: &Hello) -> Option<u8> {
    match peer.versions() {
        Some(theirs) => ours.iter().copied().filter(|v| theirs.contains(v)).max(),
        None => {
            let highest = ours.iter().copied().max()?;
            let v = highest.min(peer_header_version);
            ours.contains(&v).then_some(v)
        }
    }
}

/// ERROR. For experimenter errors (`type` 0xffff) `code` is the
/// experimenter's code and `data` starts with the experimenter id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ErrorMsg {
    pub r#type: u16,
    pub code: u16,
    pub data: Vec<u8>,
}

/// How much of an offending message an error echoes (spec: at least 64
/// bytes).
pub const ERROR_ECHO_LEN: usize = 64;

impl ErrorMsg {
    /// The error answering `err`, echoing the first 64 bytes of the
    /// offending message.
    pub fn reply_to(err: &DecodeError, offending: &[u8]) -> ErrorMsg {
        ErrorMsg::new(err.kind, &offending[..offending.len().min(ERROR_ECHO_LEN)])
    }

    pub fn new(kind: ErrorKind, data: &[u8]) -> ErrorMsg {
        ErrorMsg {
            r#type: kind.0,
            code: kind.1,
            data: data.to_vec(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        (self.r#type, self.code)
    }
}

/// EXPERIMENTER: decoded so it can be refused precisely (this switch
/// knows no experimenter: the answer is OFPBRC_BAD_EXPERIMENTER).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Experimenter {
    pub experimenter: u32,
    pub exp_type: u32,
    pub data: Vec<u8>,
}

/// `ofp_capabilities` bits.
pub const OFPC_FLOW_STATS: u32 = 1 << 0;
pub const OFPC_TABLE_STATS: u32 = 1 << 1;
pub const OFPC_PORT_STATS: u32 = 1 << 2;
pub const OFPC_GROUP_STATS: u32 = 1 << 3;
pub const OFPC_IP_REASM: u32 = 1 << 5;
pub const OFPC_QUEUE_STATS: u32 = 1 << 6;
pub const OFPC_PORT_BLOCKED: u32 = 1 << 8;

/// FEATURES_REPLY (`ofp_switch_features`; `reserved` is sent as 0).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SwitchFeatures {
    pub datapath_id: u64,
    pub n_buffers: u32,
    pub n_tables: u8,
    pub auxiliary_id: u8,
    pub capabilities: u32,
}

impl SwitchFeatures {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u64(self.datapath_id);
        out.put_u32(self.n_buffers);
        out.put_u8(self.n_tables);
        out.put_u8(self.auxiliary_id);
        out.put_zeros(2);
        out.put_u32(self.capabilities);
        out.put_u32(0);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<SwitchFeatures, DecodeError> {
        let f = SwitchFeatures {
            datapath_id: r.u64()?,
            n_buffers: r.u32()?,
            n_tables: r.u8()?,
            auxiliary_id: r.u8()?,
            capabilities: {
                r.skip(2)?;
                r.u32()?
            },
        };
        r.skip(4)?;
        Ok(f)
    }
}

/// `ofp_config_flags`: fragment handling.
pub const OFPC_FRAG_NORMAL: u16 = 0;
pub const OFPC_FRAG_DROP: u16 = 1;
pub const OFPC_FRAG_REASM: u16 = 2;
pub const OFPC_FRAG_MASK: u16 = 3;

/// GET_CONFIG_REPLY / SET_CONFIG (`ofp_switch_config`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SwitchConfig {
    pub flags: u16,
    pub miss_send_len: u16,
}

/// A controller's role (`ofp_controller_role`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ControllerRole {
    NoChange = 0,
    Equal = 1,
    Master = 2,
    Slave = 3,
}

impl ControllerRole {
    pub fn from_u32(v: u32) -> Option<ControllerRole> {
        Some(match v {
            0 => ControllerRole::NoChange,
            1 => ControllerRole::Equal,
            2 => ControllerRole::Master,
            3 => ControllerRole::Slave,
            _ => return None,
        })
    }
}

/// ROLE_REQUEST / ROLE_REPLY.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RoleMsg {
    pub role: ControllerRole,
    pub generation_id: u64,
}

impl RoleMsg {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32(self.role as u32);
        out.put_zeros(4);
        out.put_u64(self.generation_id);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<RoleMsg, DecodeError> {
        let v = r.u32()?;
        r.skip(4)?;
        let generation_id = r.u64()?;
        let role = ControllerRole::from_u32(v).ok_or_else(|| {
            DecodeError::new(
                OFPRRFC_BAD_ROLE,
                format!("role {v} is not a controller role"),
            )
        })?;
        Ok(RoleMsg {
            role,
            generation_id,
        })
    }
}

/// GET_ASYNC_REPLY / SET_ASYNC (`ofp_async_config`): per message kind,
/// a reason bitmap for [master-or-equal, slave].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AsyncConfig {
    pub packet_in_mask: [u32; 2],
    pub port_status_mask: [u32; 2],
    pub flow_removed_mask: [u32; 2],
}

impl AsyncConfig {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        for m in [
            self.packet_in_mask,
            self.port_status_mask,
            self.flow_removed_mask,
        ] {
            out.put_u32(m[0]);
            out.put_u32(m[1]);
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<AsyncConfig, DecodeError> {
        let mut pair = || Ok::<_, DecodeError>([r.u32()?, r.u32()?]);
        Ok(AsyncConfig {
            packet_in_mask: pair()?,
            port_status_mask: pair()?,
            flow_removed_mask: pair()?,
        })
    }
}

/// `ofp_port_reason`.
pub const OFPPR_ADD: u8 = 0;
pub const OFPPR_DELETE: u8 = 1;
pub const OFPPR_MODIFY: u8 = 2;

/// PORT_STATUS.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PortStatus {
    pub reason: u8,
    pub desc: PortDesc,
}

/// TABLE_MOD (`config` is deprecated in 1.3 and must be 0 or 3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TableMod {
    pub table_id: u8,
    pub config: u32,
}
