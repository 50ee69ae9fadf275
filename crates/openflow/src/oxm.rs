//! OXM, OpenFlow 1.3's match format: the fields ([`OxmField`]), one
//! type-length-value ([`OxmTlv`]), a whole `ofp_match` ([`OxmMatch`]), the
//! codec with the spec's checks (length, unknown field, mask allowed,
//! value range, value bits outside the mask, duplicates, prerequisites),
//! and — in [`convert`] — the translation to and from the switch's
//! [`vnet_switch::flow::Match`].
//!
//! Fields: every OpenFlow basic field (class 0x8000, 0..=39), plus the four
//! extensions Open vSwitch uses in OpenFlow 1.3 for what the switch matches
//! and the basic class cannot say: `NXM_NX_IP_FRAG`, `NXM_NX_IP_TTL`,
//! `NXM_NX_MPLS_TTL` (class 0x0001) and `ONFOXM_ET_TCP_FLAGS` (experimenter
//! class, ONF id 0x4f4e4600; `NXM_NX_TCP_FLAGS` is accepted too).
//! Masks are allowed exactly where the spec's table of OXM fields allows
//! them (OpenFlow 1.3.5, table 12): METADATA, ETH_DST/SRC, VLAN_VID,
//! IPV4_SRC/DST, ARP_SPA/TPA/SHA/THA, IPV6_SRC/DST, IPV6_FLABEL, PBB_ISID,
//! TUNNEL_ID, IPV6_EXTHDR (plus the extensions `NXM_NX_IP_FRAG` and the TCP
//! flags, maskable in Open vSwitch). A masked TLV of any other field —
//! the TCP/UDP/SCTP ports included, which Open vSwitch masks as an
//! extension — is OFPBMC_BAD_MASK. (The switch model itself can hold a
//! masked port, from its own `vnet switch add-flow`; such a flow is
//! reported with a masked port TLV, the only way to say it, as Open vSwitch
//! does.)
//!
//! Checks, in the order a TLV meets them: length (OFPBMC_BAD_LEN), known
//! class and field (OFPBMC_BAD_FIELD), a mask only where allowed
//! (OFPBMC_BAD_MASK), value bits outside the field's width
//! (OFPBMC_BAD_VALUE), value bits outside the mask (OFPBMC_BAD_WILDCARDS),
//! the same field twice (OFPBMC_DUP_FIELD); then for the whole match the
//! prerequisites (OFPBMC_BAD_PREREQ, in any order of the TLVs — the spec's
//! ordering rule is not enforced) and VLAN_VID values that can never match
//! (a VID without OFPVID_PRESENT: OFPBMC_BAD_VALUE).
//!
//! What it must never do: accept a TLV it cannot represent exactly, or
//! panic on any input.

pub mod convert;

use crate::buf::{pad8, Put, Reader};
use crate::error::*;

/// `ofp_match.type` for OXM matches.
pub const OFPMT_OXM: u16 = 1;
/// OXM class of the OpenFlow basic fields.
pub const OFPXMC_OPENFLOW_BASIC: u16 = 0x8000;
/// OXM class of Open vSwitch's NXM_1 fields.
pub const OFPXMC_NXM_1: u16 = 0x0001;
/// OXM class of experimenter fields (a 32-bit experimenter id follows).
pub const OFPXMC_EXPERIMENTER: u16 = 0xffff;
/// The ONF's experimenter id.
pub const ONF_EXPERIMENTER_ID: u32 = 0x4f4e_4600;
/// `VLAN_VID` bit meaning "a tag is present" (`OFPVID_PRESENT`).
pub const OFPVID_PRESENT: u16 = 0x1000;
/// `VLAN_VID` value meaning "no tag" (`OFPVID_NONE`).
pub const OFPVID_NONE: u16 = 0x0000;

/// What a field needs the rest of the match to say (spec table 12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OxmPrereq {
    InPort,
    /// VLAN_VID present and not OFPVID_NONE.
    Vlan,
    /// ETH_TYPE 0x0800 or 0x86dd.
    Ip,
    Ipv4,
    Ipv6,
    /// ETH_TYPE 0x0806 (or 0x8035, RARP, as Open vSwitch accepts).
    Arp,
    Tcp,
    Udp,
    Sctp,
    Icmpv4,
    Icmpv6,
    /// ICMPV6_TYPE 135 or 136.
    Nd,
    /// ICMPV6_TYPE 135.
    NdSll,
    /// ICMPV6_TYPE 136.
    NdTll,
    /// ETH_TYPE 0x8847 or 0x8848.
    Mpls,
    /// ETH_TYPE 0x88e7.
    Pbb,
}

macro_rules! oxm_fields {
    ($( $(#[$doc:meta])* $var:ident = ($class:expr, $code:expr, $width:expr, $maskable:expr,
        $bits:expr, $prereq:expr, $name:expr) ),* $(,)?) => {
        /// An OXM field this codec knows.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum OxmField { $( $(#[$doc])* $var ),* }

        impl OxmField {
            /// Every field, in declaration order.
            pub const ALL: &'static [OxmField] = &[$(OxmField::$var),*];

            /// The OXM class (0x8000 for the basic fields).
            pub fn class(self) -> u16 { match self { $(OxmField::$var => $class),* } }
            /// The field number within the class.
            pub fn code(self) -> u8 { match self { $(OxmField::$var => $code),* } }
            /// The value's size in bytes.
            pub fn width(self) -> usize { match self { $(OxmField::$var => $width),* } }
            /// Whether the field can be carried with a mask (what this
            /// codec writes for a masked switch-model field); see
            /// [`OxmField::mask_allowed`] for what it accepts.
            pub fn maskable(self) -> bool { match self { $(OxmField::$var => $maskable),* } }
            /// Significant bits of the value; higher bits must be zero.
            pub fn bits(self) -> u32 { match self { $(OxmField::$var => $bits),* } }
            /// What the rest of the match must say for this field to be used.
            pub fn prerequisite(self) -> Option<OxmPrereq> {
                match self { $(OxmField::$var => $prereq),* }
            }
            /// The name Open vSwitch and the spec use (`OXM_OF_` dropped).
            pub fn name(self) -> &'static str { match self { $(OxmField::$var => $name),* } }
        }
    };
}

use OxmPrereq as P;
const B: u16 = OFPXMC_OPENFLOW_BASIC;
const NX: u16 = OFPXMC_NXM_1;
const X: u16 = OFPXMC_EXPERIMENTER;

oxm_fields! {
    InPort = (B, 0, 4, false, 32, None, "in_port"),
    InPhyPort = (B, 1, 4, false, 32, Some(P::InPort), "in_phy_port"),
    Metadata = (B, 2, 8, true, 64, None, "metadata"),
    EthDst = (B, 3, 6, true, 48, None, "eth_dst"),
    EthSrc = (B, 4, 6, true, 48, None, "eth_src"),
    EthType = (B, 5, 2, false, 16, None, "eth_type"),
    /// OFPVID_PRESENT | VID (13 bits).
    VlanVid = (B, 6, 2, true, 13, None, "vlan_vid"),
    VlanPcp = (B, 7, 1, false, 3, Some(P::Vlan), "vlan_pcp"),
    IpDscp = (B, 8, 1, false, 6, Some(P::Ip), "ip_dscp"),
    IpEcn = (B, 9, 1, false, 2, Some(P::Ip), "ip_ecn"),
    IpProto = (B, 10, 1, false, 8, Some(P::Ip), "ip_proto"),
    Ipv4Src = (B, 11, 4, true, 32, Some(P::Ipv4), "ipv4_src"),
    Ipv4Dst = (B, 12, 4, true, 32, Some(P::Ipv4), "ipv4_dst"),
    TcpSrc = (B, 13, 2, true, 16, Some(P::Tcp), "tcp_src"),
    TcpDst = (B, 14, 2, true, 16, Some(P::Tcp), "tcp_dst"),
    UdpSrc = (B, 15, 2, true, 16, Some(P::Udp), "udp_src"),
    UdpDst = (B, 16, 2, true, 16, Some(P::Udp), "udp_dst"),
    SctpSrc = (B, 17, 2, true, 16, Some(P::Sctp), "sctp_src"),
    SctpDst = (B, 18, 2, true, 16, Some(P::Sctp), "sctp_dst"),
    Icmpv4Type = (B, 19, 1, false, 8, Some(P::Icmpv4), "icmpv4_type"),
    Icmpv4Code = (B, 20, 1, false, 8, Some(P::Icmpv4), "icmpv4_code"),
    ArpOp = (B, 21, 2, false, 16, Some(P::Arp), "arp_op"),
    ArpSpa = (B, 22, 4, true, 32, Some(P::Arp), "arp_spa"),
    ArpTpa = (B, 23, 4, true, 32, Some(P::Arp), "arp_tpa"),
    ArpSha = (B, 24, 6, true, 48, Some(P::Arp), "arp_sha"),
    ArpTha = (B, 25, 6, true, 48, Some(P::Arp), "arp_tha"),
    Ipv6Src = (B, 26, 16, true, 128, Some(P::Ipv6), "ipv6_src"),
    Ipv6Dst = (B, 27, 16, true, 128, Some(P::Ipv6), "ipv6_dst"),
    Ipv6Flabel = (B, 28, 4, true, 20, Some(P::Ipv6), "ipv6_flabel"),
    Icmpv6Type = (B, 29, 1, false, 8, Some(P::Icmpv6), "icmpv6_type"),
    Icmpv6Code = (B, 30, 1, false, 8, Some(P::Icmpv6), "icmpv6_code"),
    Ipv6NdTarget = (B, 31, 16, false, 128, Some(P::Nd), "ipv6_nd_target"),
    Ipv6NdSll = (B, 32, 6, false, 48, Some(P::NdSll), "ipv6_nd_sll"),
    Ipv6NdTll = (B, 33, 6, false, 48, Some(P::NdTll), "ipv6_nd_tll"),
    MplsLabel = (B, 34, 4, false, 20, Some(P::Mpls), "mpls_label"),
    MplsTc = (B, 35, 1, false, 3, Some(P::Mpls), "mpls_tc"),
    MplsBos = (B, 36, 1, false, 1, Some(P::Mpls), "mpls_bos"),
    PbbIsid = (B, 37, 3, true, 24, Some(P::Pbb), "pbb_isid"),
    TunnelId = (B, 38, 8, true, 64, None, "tunnel_id"),
    /// `OFPIEH_*` bits (9).
    Ipv6Exthdr = (B, 39, 2, true, 9, Some(P::Ipv6), "ipv6_exthdr"),
    /// `NXM_NX_IP_FRAG`: bit 0 = fragment, bit 1 = later fragment.
    NxIpFrag = (NX, 26, 1, true, 2, Some(P::Ip), "nx_ip_frag"),
    /// `NXM_NX_IP_TTL`.
    NxIpTtl = (NX, 29, 1, false, 8, Some(P::Ip), "nx_ip_ttl"),
    /// `NXM_NX_MPLS_TTL`.
    NxMplsTtl = (NX, 30, 1, false, 8, Some(P::Mpls), "nx_mpls_ttl"),
    /// `NXM_NX_TCP_FLAGS` (decoded; the encoder emits the ONF form).
    NxTcpFlags = (NX, 34, 2, true, 12, Some(P::Tcp), "nx_tcp_flags"),
    /// `ONFOXM_ET_TCP_FLAGS`, Open vSwitch's choice in OpenFlow 1.3.
    OnfTcpFlags = (X, 42, 2, true, 12, Some(P::Tcp), "onf_tcp_flags"),
}

impl OxmField {
    /// The field with this class and number, if known (`experimenter` is
    /// the id following an experimenter-class header).
    pub fn from_class_code(class: u16, code: u8, experimenter: Option<u32>) -> Option<OxmField> {
        if class == OFPXMC_EXPERIMENTER && experimenter != Some(ONF_EXPERIMENTER_ID) {
            return None;
        }
        OxmField::ALL
            .iter()
            .copied()
            .find(|f| f.class() == class && f.code() == code)
    }

    /// Whether a received TLV of this field may have a mask: the spec's
    /// table of OXM fields. The TCP/UDP/SCTP ports are maskable only in
    /// Open vSwitch: this codec writes them masked when the switch model
    /// holds a masked port (there is no other way to say it) but refuses
    /// a masked port from a peer with OFPBMC_BAD_MASK, as the spec says.
    pub fn mask_allowed(self) -> bool {
        self.maskable()
            && !matches!(
                self,
                OxmField::TcpSrc
                    | OxmField::TcpDst
                    | OxmField::UdpSrc
                    | OxmField::UdpDst
                    | OxmField::SctpSrc
                    | OxmField::SctpDst
            )
    }

    /// The experimenter id that follows the header, for experimenter fields.
    pub fn experimenter(self) -> Option<u32> {
        (self.class() == OFPXMC_EXPERIMENTER).then_some(ONF_EXPERIMENTER_ID)
    }

    /// The 32-bit OXM header for a TLV of this field.
    pub fn header(self, has_mask: bool) -> u32 {
        let len = self.width() * if has_mask { 2 } else { 1 } + self.exp_len();
        u32::from(self.class()) << 16
            | u32::from(self.code()) << 9
            | u32::from(has_mask) << 8
            | len as u32
    }

    fn exp_len(self) -> usize {
        if self.experimenter().is_some() {
            4
        } else {
            0
        }
    }

    /// Fields that match the same thing (the two TCP flags encodings).
    fn same_as(self, other: OxmField) -> bool {
        let canon = |f| match f {
            OxmField::NxTcpFlags => OxmField::OnfTcpFlags,
            f => f,
        };
        canon(self) == canon(other)
    }

    /// The largest value (all significant bits set).
    pub fn max_value(self) -> u128 {
        if self.bits() >= 128 {
            u128::MAX
        } else {
            (1u128 << self.bits()) - 1
        }
    }

    fn all_ones(self) -> u128 {
        if self.width() >= 16 {
            u128::MAX
        } else {
            (1u128 << (self.width() * 8)) - 1
        }
    }
}

/// One OXM TLV. `value` and `mask` hold the field's bytes as a big-endian
/// number (`width()` bytes). `mask` is `None` for an unmasked TLV.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OxmTlv {
    pub field: OxmField,
    pub value: u128,
    pub mask: Option<u128>,
}

/// What is wrong with one TLV; the caller picks the error type (a match's
/// or a set-field action's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TlvProblem {
    Len,
    Field,
    Mask,
    Value,
    Wildcards,
}

impl OxmTlv {
    /// An exact-match TLV.
    pub fn exact(field: OxmField, value: u128) -> OxmTlv {
        OxmTlv {
            field,
            value,
            mask: None,
        }
    }

    /// A TLV with a mask, or without one when the mask covers every
    /// significant bit of the field.
    pub fn masked(field: OxmField, value: u128, mask: u128) -> OxmTlv {
        let max = field.max_value();
        let mask = (mask & max != max).then_some(mask & field.all_ones());
        OxmTlv {
            field,
            value: value & mask.unwrap_or(u128::MAX),
            mask,
        }
    }

    /// The bytes of the TLV (header included).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let f = self.field;
        out.put_u32(f.header(self.mask.is_some()));
        if let Some(exp) = f.experimenter() {
            out.put_u32(exp);
        }
        put_be(out, self.value, f.width());
        if let Some(m) = self.mask {
            put_be(out, m, f.width());
        }
    }

    /// Encoded size.
    pub fn len(&self) -> usize {
        4 + self.field.exp_len() + self.field.width() * if self.mask.is_some() { 2 } else { 1 }
    }

    /// Never true (a TLV has at least a header); for clippy's sake.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Reads one TLV, checking length, field, mask and value.
    pub(crate) fn decode(r: &mut Reader) -> Result<OxmTlv, (TlvProblem, String)> {
        let header = r
            .u32()
            .map_err(|e| (TlvProblem::Len, format!("OXM header: {}", e.message)))?;
        let class = (header >> 16) as u16;
        let code = ((header >> 9) & 0x7f) as u8;
        let has_mask = header & 0x100 != 0;
        let len = (header & 0xff) as usize;
        let mut body = r.sub(len, "OXM TLV").map_err(|_| {
            (
                TlvProblem::Len,
                format!("OXM TLV {header:#010x} of length {len} overruns its container"),
            )
        })?;
        let experimenter = if class == OFPXMC_EXPERIMENTER {
            Some(
                body.u32()
                    .map_err(|_| (TlvProblem::Len, "experimenter OXM too short".to_string()))?,
            )
        } else {
            None
        };
        let Some(field) = OxmField::from_class_code(class, code, experimenter) else {
            return Err((
                TlvProblem::Field,
                format!("unknown OXM field class {class:#06x} field {code}"),
            ));
        };
        let w = field.width();
        if body.remaining() != w * if has_mask { 2 } else { 1 } {
            return Err((
                TlvProblem::Len,
                format!(
                    "OXM {} has length {len}, expected {}",
                    field.name(),
                    field.header(has_mask) & 0xff
                ),
            ));
        }
        if has_mask && !field.mask_allowed() {
            return Err((
                TlvProblem::Mask,
                format!("OXM {} cannot be masked", field.name()),
            ));
        }
        let value = get_be(body.bytes(w).unwrap_or_default());
        let mask = has_mask.then(|| get_be(body.bytes(w).unwrap_or_default()));
        if value > field.max_value() {
            return Err((
                TlvProblem::Value,
                format!("{:#x} is out of range for {}", value, field.name()),
            ));
        }
        if let Some(m) = mask {
            if value & !m != 0 {
                return Err((
                    TlvProblem::Wildcards,
                    format!(
                        "{} value {value:#x} has bits outside mask {m:#x}",
                        field.name()
                    ),
                ));
            }
        }
        Ok(OxmTlv { field, value, mask })
    }
}

/// A big-endian number of `width` bytes.
fn put_be(out: &mut Vec<u8>, v: u128, width: usize) {
    out.extend_from_slice(&v.to_be_bytes()[16 - width..]);
}

fn get_be(b: &[u8]) -> u128 {
    b.iter().fold(0u128, |acc, &x| acc << 8 | u128::from(x))
}

/// An `ofp_match` of type OXM: a list of TLVs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OxmMatch {
    pub fields: Vec<OxmTlv>,
}

impl OxmMatch {
    pub fn new(fields: Vec<OxmTlv>) -> OxmMatch {
        OxmMatch { fields }
    }

    /// The TLV for `field`, if present.
    pub fn get(&self, field: OxmField) -> Option<&OxmTlv> {
        self.fields.iter().find(|t| t.field.same_as(field))
    }

    /// Encoded size, padding included.
    pub fn encoded_len(&self) -> usize {
        pad8(self.unpadded_len())
    }

    fn unpadded_len(&self) -> usize {
        4 + self.fields.iter().map(OxmTlv::len).sum::<usize>()
    }

    /// Appends `ofp_match` (type, length, TLVs, padding to 8).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.put_u16(OFPMT_OXM);
        out.put_u16(self.unpadded_len() as u16);
        for t in &self.fields {
            t.encode(out);
        }
        out.pad8_from(start);
    }

    /// Reads an `ofp_match` (padding included) and checks it: lengths,
    /// fields, masks, values, duplicates, prerequisites.
    pub(crate) fn decode(r: &mut Reader) -> Result<OxmMatch, DecodeError> {
        let bad_len = |m: String| DecodeError::new(OFPBMC_BAD_LEN, m);
        let mtype = r
            .u16()
            .map_err(|e| bad_len(format!("match: {}", e.message)))?;
        let len = usize::from(
            r.u16()
                .map_err(|e| bad_len(format!("match: {}", e.message)))?,
        );
        if mtype != OFPMT_OXM {
            return Err(DecodeError::new(
                OFPBMC_BAD_TYPE,
                format!("match type {mtype} is not OFPMT_OXM (1)"),
            ));
        }
        if len < 4 {
            return Err(bad_len(format!("match length {len} is below 4")));
        }
        let mut body = r
            .sub(len - 4, "match")
            .map_err(|_| bad_len(format!("match length {len} overruns the message")))?
            .with_kind(OFPBMC_BAD_LEN, "match");
        r.skip(pad8(len) - len)
            .map_err(|_| bad_len("match padding missing".into()))?;
        let mut fields: Vec<OxmTlv> = Vec::new();
        while !body.is_empty() {
            let tlv = OxmTlv::decode(&mut body).map_err(|(p, m)| {
                let kind = match p {
                    TlvProblem::Len => OFPBMC_BAD_LEN,
                    TlvProblem::Field => OFPBMC_BAD_FIELD,
                    TlvProblem::Mask => OFPBMC_BAD_MASK,
                    TlvProblem::Value => OFPBMC_BAD_VALUE,
                    TlvProblem::Wildcards => OFPBMC_BAD_WILDCARDS,
                };
                DecodeError::new(kind, m)
            })?;
            if fields.iter().any(|t| t.field.same_as(tlv.field)) {
                return Err(DecodeError::new(
                    OFPBMC_DUP_FIELD,
                    format!("{} appears twice in the match", tlv.field.name()),
                ));
            }
            fields.push(tlv);
        }
        let m = OxmMatch { fields };
        m.check_prerequisites()?;
        m.check_values()?;
        Ok(m)
    }

    /// Values the range check alone does not catch.
    fn check_values(&self) -> Result<(), DecodeError> {
        if let Some(t) = self.get(OxmField::VlanVid) {
            let present = u128::from(OFPVID_PRESENT);
            let m = t.mask.unwrap_or(u128::MAX);
            // A VID without the present bit can never match a packet.
            if m & present != 0 && t.value & present == 0 && t.value & 0x0fff != 0 {
                return Err(DecodeError::new(
                    OFPBMC_BAD_VALUE,
                    format!(
                        "vlan_vid {:#x} has a VID but not OFPVID_PRESENT (0x1000)",
                        t.value
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Checks every field's prerequisite (OFPBMC_BAD_PREREQ otherwise).
    /// Order does not matter.
    pub fn check_prerequisites(&self) -> Result<(), DecodeError> {
        let exact = |f: OxmField| {
            self.get(f)
                .filter(|t| t.mask.is_none_or(|m| m == f.all_ones()))
                .map(|t| t.value)
        };
        let eth_type = exact(OxmField::EthType);
        let proto = exact(OxmField::IpProto);
        let is_eth = |types: &[u128]| eth_type.is_some_and(|t| types.contains(&t));
        let ip = is_eth(&[0x0800, 0x86dd]);
        let v4 = is_eth(&[0x0800]);
        let v6 = is_eth(&[0x86dd]);
        let icmp6_type = exact(OxmField::Icmpv6Type);
        for t in &self.fields {
            let Some(p) = t.field.prerequisite() else {
                continue;
            };
            let ok = match p {
                P::InPort => self.get(OxmField::InPort).is_some(),
                P::Vlan => self.get(OxmField::VlanVid).is_some_and(|v| {
                    let present = u128::from(OFPVID_PRESENT);
                    v.value & present != 0 && v.mask.is_none_or(|m| m & present != 0)
                }),
                P::Ip => ip,
                P::Ipv4 => v4,
                P::Ipv6 => v6,
                P::Arp => is_eth(&[0x0806, 0x8035]),
                P::Tcp => ip && proto == Some(6),
                P::Udp => ip && proto == Some(17),
                P::Sctp => ip && proto == Some(132),
                P::Icmpv4 => v4 && proto == Some(1),
                P::Icmpv6 => v6 && proto == Some(58),
                P::Nd => v6 && proto == Some(58) && matches!(icmp6_type, Some(135 | 136)),
                P::NdSll => v6 && proto == Some(58) && icmp6_type == Some(135),
                P::NdTll => v6 && proto == Some(58) && icmp6_type == Some(136),
                P::Mpls => is_eth(&[0x8847, 0x8848]),
                P::Pbb => is_eth(&[0x88e7]),
            };
            if !ok {
                return Err(DecodeError::new(
                    OFPBMC_BAD_PREREQ,
                    format!("{} requires {}", t.field.name(), describe(p)),
                ));
            }
        }
        Ok(())
    }
}

fn describe(p: OxmPrereq) -> &'static str {
    match p {
        P::InPort => "in_port",
        P::Vlan => "vlan_vid with OFPVID_PRESENT",
        P::Ip => "eth_type 0x0800 or 0x86dd",
        P::Ipv4 => "eth_type 0x0800",
        P::Ipv6 => "eth_type 0x86dd",
        P::Arp => "eth_type 0x0806",
        P::Tcp => "ip_proto 6 (with eth_type ip or ipv6)",
        P::Udp => "ip_proto 17 (with eth_type ip or ipv6)",
        P::Sctp => "ip_proto 132 (with eth_type ip or ipv6)",
        P::Icmpv4 => "eth_type 0x0800 and ip_proto 1",
        P::Icmpv6 => "eth_type 0x86dd and ip_proto 58",
        P::Nd => "icmpv6_type 135 or 136",
        P::NdSll => "icmpv6_type 135",
        P::NdTll => "icmpv6_type 136",
        P::Mpls => "eth_type 0x8847 or 0x8848",
        P::Pbb => "eth_type 0x88e7",
    }
}
