//! OXM ↔ the switch's flow model: [`OxmMatch`] ↔ [`Match`] (a flow key
//! and a mask) and, for set-field actions, [`OxmTlv`] ↔ [`Field`].
//!
//! Matches are emitted in Open vSwitch's field order (in_port, Ethernet,
//! VLAN, MPLS, L3, L4, ARP, then tunnel and metadata), so a flow ovs-ofctl
//! sends comes back in the same bytes.
//!
//! What it must never do: drop a field. A TLV the switch cannot match
//! exactly, or a match bit OXM cannot carry, is an error.

use vnet_switch::flow::{Field, Match, MatchError};
use vnet_wire::flow::VLAN_CFI;
use vnet_wire::FlowKey;

use super::{OxmField, OxmMatch, OxmTlv, OFPVID_PRESENT};
use crate::error::*;

type F = OxmField;

fn mac(v: u128) -> [u8; 6] {
    let b = v.to_be_bytes();
    [b[10], b[11], b[12], b[13], b[14], b[15]]
}

fn mac_num(m: [u8; 6]) -> u128 {
    m.iter().fold(0u128, |a, &x| a << 8 | u128::from(x))
}

/// The OpenFlow error a match the switch model refuses gets.
pub fn match_error_kind(e: &MatchError) -> ErrorKind {
    match e {
        MatchError::ValueOutsideMask { .. } => OFPBMC_BAD_WILDCARDS,
        MatchError::BadMask { .. } => OFPBMC_BAD_MASK,
        MatchError::Prerequisite { .. } => OFPBMC_BAD_PREREQ,
    }
}

impl OxmMatch {
    /// The switch-model match these TLVs express, checked with
    /// [`Match::validate`].
    pub fn to_switch(&self) -> Result<Match, DecodeError> {
        let mut k = FlowKey::default();
        let mut m = FlowKey::default();
        for t in &self.fields {
            let v = t.value;
            let mk = t.mask.unwrap_or(u128::MAX);
            // Narrowing casts below keep the field's own width, which the
            // decoder already checked the value fits.
            match t.field {
                F::InPort => (k.in_port, m.in_port) = (v as u32, !0),
                F::InPhyPort => {
                    // This switch has no logical ports: the physical input
                    // port is the input port.
                    let in_port = self.get(F::InPort).map(|p| p.value);
                    if in_port != Some(v) {
                        return Err(DecodeError::new(
                            OFPBMC_BAD_VALUE,
                            format!("in_phy_port {v} differs from in_port (no logical ports here)"),
                        ));
                    }
                }
                F::Metadata => (k.metadata, m.metadata) = (v as u64, mk as u64),
                F::EthDst => (k.dl_dst, m.dl_dst) = (mac(v), mac(mk)),
                F::EthSrc => (k.dl_src, m.dl_src) = (mac(v), mac(mk)),
                F::EthType => (k.dl_type, m.dl_type) = (v as u16, !0),
                F::VlanVid => {
                    k.vlan_tci |= (v & 0x1fff) as u16;
                    m.vlan_tci |= (mk & 0x1fff) as u16;
                }
                F::VlanPcp => {
                    k.vlan_tci |= (v as u16) << 13;
                    m.vlan_tci |= 0xe000;
                }
                F::IpDscp => {
                    k.nw_tos |= (v as u8) << 2;
                    m.nw_tos |= 0xfc;
                }
                F::IpEcn => {
                    k.nw_tos |= v as u8;
                    m.nw_tos |= 0x03;
                }
                F::IpProto => (k.nw_proto, m.nw_proto) = (v as u8, !0),
                F::ArpOp => {
                    let op = u8::try_from(v).map_err(|_| {
                        DecodeError::new(
                            OFPBMC_BAD_VALUE,
                            format!("arp_op {v}: the switch matches ARP opcodes up to 255"),
                        )
                    })?;
                    (k.nw_proto, m.nw_proto) = (op, !0);
                }
                F::Ipv4Src | F::ArpSpa => (k.ipv4_src, m.ipv4_src) = (v as u32, mk as u32),
                F::Ipv4Dst | F::ArpTpa => (k.ipv4_dst, m.ipv4_dst) = (v as u32, mk as u32),
                F::TcpSrc | F::UdpSrc | F::SctpSrc | F::Icmpv4Type | F::Icmpv6Type => {
                    (k.tp_src, m.tp_src) = (v as u16, narrow16(t, mk))
                }
                F::TcpDst | F::UdpDst | F::SctpDst | F::Icmpv4Code | F::Icmpv6Code => {
                    (k.tp_dst, m.tp_dst) = (v as u16, narrow16(t, mk))
                }
                F::ArpSha => (k.arp_sha, m.arp_sha) = (mac(v), mac(mk)),
                F::ArpTha => (k.arp_tha, m.arp_tha) = (mac(v), mac(mk)),
                F::Ipv6Src => (k.ipv6_src, m.ipv6_src) = (v, mk),
                F::Ipv6Dst => (k.ipv6_dst, m.ipv6_dst) = (v, mk),
                F::Ipv6Flabel => (k.ipv6_label, m.ipv6_label) = (v as u32, mk as u32 & 0xf_ffff),
                F::Ipv6NdTarget => (k.nd_target, m.nd_target) = (v, mk),
                F::Ipv6NdSll => (k.nd_sll, m.nd_sll) = (mac(v), mac(mk)),
                F::Ipv6NdTll => (k.nd_tll, m.nd_tll) = (mac(v), mac(mk)),
                F::MplsLabel => {
                    k.mpls_lse |= (v as u32) << 12;
                    m.mpls_lse |= 0xffff_f000;
                }
                F::MplsTc => {
                    k.mpls_lse |= (v as u32) << 9;
                    m.mpls_lse |= 0x0e00;
                }
                F::MplsBos => {
                    k.mpls_lse |= (v as u32) << 8;
                    m.mpls_lse |= 0x0100;
                }
                F::NxMplsTtl => {
                    k.mpls_lse |= v as u32;
                    m.mpls_lse |= 0x00ff;
                }
                F::PbbIsid => (k.pbb_isid, m.pbb_isid) = (v as u32, mk as u32 & 0xff_ffff),
                F::TunnelId => (k.tunnel_id, m.tunnel_id) = (v as u64, mk as u64),
                F::Ipv6Exthdr => (k.ipv6_exthdr, m.ipv6_exthdr) = (v as u16, mk as u16 & 0x1ff),
                F::NxIpFrag => (k.nw_frag, m.nw_frag) = (v as u8, mk as u8 & 3),
                F::NxIpTtl => (k.nw_ttl, m.nw_ttl) = (v as u8, !0),
                F::NxTcpFlags | F::OnfTcpFlags => {
                    (k.tcp_flags, m.tcp_flags) = (v as u16, mk as u16 & 0x0fff)
                }
            }
        }
        let out = Match::new(k, m);
        out.validate()
            .map_err(|e| DecodeError::new(match_error_kind(&e), e.to_string()))?;
        Ok(out)
    }

    /// The TLVs expressing `m`, in Open vSwitch's order.
    pub fn from_switch(m: &Match) -> Result<OxmMatch, EncodeError> {
        let (k, mk) = (&m.key, &m.mask);
        let mut out = Vec::new();
        let bad = |field, reason| EncodeError::Match { field, reason };
        let mut put = |f: F, v: u128, mask: u128| {
            // Exactness of the non-maskable fields is checked before.
            if mask != 0 && f.maskable() {
                out.push(OxmTlv::masked(f, v, mask));
            } else if mask != 0 {
                out.push(OxmTlv::exact(f, v));
            }
        };
        let exact_only = |field, mask: u128, full: u128| {
            if mask != 0 && mask != full {
                return Err(bad(field, "only an exact match is possible"));
            }
            Ok(())
        };
        exact_only("in_port", mk.in_port.into(), u32::MAX.into())?;
        put(F::InPort, k.in_port.into(), mk.in_port.into());
        put(F::EthSrc, mac_num(k.dl_src), mac_num(mk.dl_src));
        put(F::EthDst, mac_num(k.dl_dst), mac_num(mk.dl_dst));
        exact_only("dl_type", mk.dl_type.into(), 0xffff)?;
        put(F::EthType, k.dl_type.into(), mk.dl_type.into());
        put(
            F::VlanVid,
            (k.vlan_tci & 0x1fff).into(),
            (mk.vlan_tci & 0x1fff).into(),
        );
        let pcp_mask = mk.vlan_tci & 0xe000;
        exact_only("vlan_pcp", pcp_mask.into(), 0xe000)?;
        if pcp_mask != 0 && (k.vlan_tci & VLAN_CFI == 0 || mk.vlan_tci & OFPVID_PRESENT == 0) {
            return Err(bad(
                "vlan_pcp",
                "the PCP needs a tag (vlan_vid with 0x1000) matched",
            ));
        }
        put(
            F::VlanPcp,
            (k.vlan_tci >> 13).into(),
            (pcp_mask >> 13).into(),
        );
        let dl_type = m.exact_dl_type();
        let lse = |sub: u32| (k.mpls_lse & sub, mk.mpls_lse & sub);
        for (field, sub, f, shift) in [
            ("mpls_tc", 0x0e00, F::MplsTc, 9),
            ("mpls_bos", 0x0100, F::MplsBos, 8),
            ("mpls_ttl", 0x00ff, F::NxMplsTtl, 0),
            ("mpls_label", 0xffff_f000, F::MplsLabel, 12),
        ] {
            let (v, msk) = lse(sub);
            exact_only(field, msk.into(), sub.into())?;
            put(f, (v >> shift).into(), (msk >> shift).into());
        }
        let arp = matches!(dl_type, Some(0x0806 | 0x8035));
        if !arp {
            put(F::Ipv4Src, k.ipv4_src.into(), mk.ipv4_src.into());
            put(F::Ipv4Dst, k.ipv4_dst.into(), mk.ipv4_dst.into());
        }
        put(F::Ipv6Src, k.ipv6_src, mk.ipv6_src);
        put(F::Ipv6Dst, k.ipv6_dst, mk.ipv6_dst);
        put(F::NxIpFrag, k.nw_frag.into(), mk.nw_frag.into());
        let (dscp_m, ecn_m) = (mk.nw_tos & 0xfc, mk.nw_tos & 0x03);
        exact_only("ip_dscp", dscp_m.into(), 0xfc)?;
        exact_only("ip_ecn", ecn_m.into(), 0x03)?;
        put(F::IpDscp, (k.nw_tos >> 2).into(), (dscp_m >> 2).into());
        put(F::IpEcn, (k.nw_tos & 3).into(), ecn_m.into());
        exact_only("nw_ttl", mk.nw_ttl.into(), 0xff)?;
        put(F::NxIpTtl, k.nw_ttl.into(), mk.nw_ttl.into());
        put(F::Ipv6Flabel, k.ipv6_label.into(), mk.ipv6_label.into());
        exact_only("nw_proto", mk.nw_proto.into(), 0xff)?;
        if !arp {
            put(F::IpProto, k.nw_proto.into(), mk.nw_proto.into());
        }
        let proto = m.exact_nw_proto();
        let (src, dst) = (u128::from(k.tp_src), u128::from(k.tp_dst));
        let (src_m, dst_m) = (u128::from(mk.tp_src), u128::from(mk.tp_dst));
        let l4 = match (dl_type, proto) {
            (Some(0x0800 | 0x86dd), Some(6)) => Some((F::TcpSrc, F::TcpDst)),
            (Some(0x0800 | 0x86dd), Some(17)) => Some((F::UdpSrc, F::UdpDst)),
            (Some(0x0800 | 0x86dd), Some(132)) => Some((F::SctpSrc, F::SctpDst)),
            (Some(0x0800), Some(1)) => Some((F::Icmpv4Type, F::Icmpv4Code)),
            (Some(0x86dd), Some(58)) => Some((F::Icmpv6Type, F::Icmpv6Code)),
            _ => None,
        };
        match l4 {
            Some((fs, fd)) => {
                if !fs.maskable() {
                    exact_only("icmp_type", src_m, 0xffff)?;
                    exact_only("icmp_code", dst_m, 0xffff)?;
                }
                let narrow = |v: u128, msk: u128| {
                    if fs.maskable() {
                        (v, msk)
                    } else {
                        (v, msk & 0xff)
                    }
                };
                let (v, msk) = narrow(src, src_m);
                put(fs, v, msk);
                let (v, msk) = narrow(dst, dst_m);
                put(fd, v, msk);
            }
            None if src_m != 0 || dst_m != 0 => {
                return Err(bad("tp_src", "needs tcp, udp, sctp, icmp or icmp6"));
            }
            None => {}
        }
        put(F::OnfTcpFlags, k.tcp_flags.into(), mk.tcp_flags.into());
        exact_only("nd_target", mk.nd_target, u128::MAX)?;
        put(F::Ipv6NdTarget, k.nd_target, mk.nd_target);
        for (field, v, msk, f) in [
            ("nd_sll", k.nd_sll, mk.nd_sll, F::Ipv6NdSll),
            ("nd_tll", k.nd_tll, mk.nd_tll, F::Ipv6NdTll),
        ] {
            exact_only(field, mac_num(msk), mac_num([0xff; 6]))?;
            put(f, mac_num(v), mac_num(msk));
        }
        if arp {
            put(F::ArpOp, k.nw_proto.into(), mk.nw_proto.into());
            put(F::ArpSpa, k.ipv4_src.into(), mk.ipv4_src.into());
            put(F::ArpTpa, k.ipv4_dst.into(), mk.ipv4_dst.into());
        }
        put(F::ArpSha, mac_num(k.arp_sha), mac_num(mk.arp_sha));
        put(F::ArpTha, mac_num(k.arp_tha), mac_num(mk.arp_tha));
        put(F::PbbIsid, k.pbb_isid.into(), mk.pbb_isid.into());
        put(F::Ipv6Exthdr, k.ipv6_exthdr.into(), mk.ipv6_exthdr.into());
        put(F::TunnelId, k.tunnel_id.into(), mk.tunnel_id.into());
        put(F::Metadata, k.metadata.into(), mk.metadata.into());
        let out = OxmMatch::new(out);
        Ok(out)
    }

    /// The pipeline fields of a PACKET_IN's match: IN_PORT, plus METADATA
    /// and TUNNEL_ID when non-zero (spec 7.4.1).
    pub fn packet_in(in_port: u32, metadata: u64, tunnel_id: u64) -> OxmMatch {
        let mut f = vec![OxmTlv::exact(F::InPort, in_port.into())];
        if metadata != 0 {
            f.push(OxmTlv::exact(F::Metadata, metadata.into()));
        }
        if tunnel_id != 0 {
            f.push(OxmTlv::exact(F::TunnelId, tunnel_id.into()));
        }
        OxmMatch::new(f)
    }
}

/// An L4 mask as the key's 16-bit `tp_*` holds it: ICMP's 8-bit exact
/// fields match the whole `tp_*` (the key holds the byte zero-extended).
fn narrow16(t: &OxmTlv, mk: u128) -> u16 {
    if t.field.width() == 1 {
        0xffff
    } else {
        mk as u16
    }
}

impl OxmTlv {
    /// The switch's set-field for this TLV (OFPBAC_BAD_SET_TYPE when the
    /// switch cannot set the field, OFPBAC_BAD_SET_ARGUMENT for a mask).
    ///
    /// Not settable: IN_PORT, IN_PHY_PORT, METADATA (pipeline fields: the
    /// spec excludes them), ETH_TYPE, IP_PROTO, IPV6_EXTHDR and the NXM
    /// fragment and TCP flag fields (they describe what the packet is or
    /// holds rather than a header field to overwrite; Open vSwitch treats
    /// them as read-only too). NXM_NX_MPLS_TTL and NXM_NX_IP_TTL, which
    /// ovs-ofctl sends for `set_field:..->mpls_ttl` / `->nw_ttl`, are.
    pub fn to_field(&self) -> Result<Field, DecodeError> {
        if self.mask.is_some() {
            return Err(DecodeError::new(
                OFPBAC_BAD_SET_ARGUMENT,
                format!("set_field {} with a mask", self.field.name()),
            ));
        }
        let v = self.value;
        Ok(match self.field {
            F::EthDst => Field::EthDst(mac(v)),
            F::EthSrc => Field::EthSrc(mac(v)),
            F::VlanVid => Field::VlanVid(v as u16 & 0x0fff),
            F::VlanPcp => Field::VlanPcp(v as u8),
            F::IpDscp => Field::IpDscp(v as u8),
            F::IpEcn => Field::IpEcn(v as u8),
            F::Ipv4Src => Field::Ipv4Src(v as u32),
            F::Ipv4Dst => Field::Ipv4Dst(v as u32),
            F::TcpSrc => Field::TcpSrc(v as u16),
            F::TcpDst => Field::TcpDst(v as u16),
            F::UdpSrc => Field::UdpSrc(v as u16),
            F::UdpDst => Field::UdpDst(v as u16),
            F::SctpSrc => Field::SctpSrc(v as u16),
            F::SctpDst => Field::SctpDst(v as u16),
            F::Icmpv4Type => Field::Icmpv4Type(v as u8),
            F::Icmpv4Code => Field::Icmpv4Code(v as u8),
            F::ArpOp => Field::ArpOp(v as u16),
            F::ArpSpa => Field::ArpSpa(v as u32),
            F::ArpTpa => Field::ArpTpa(v as u32),
            F::ArpSha => Field::ArpSha(mac(v)),
            F::ArpTha => Field::ArpTha(mac(v)),
            F::Ipv6Src => Field::Ipv6Src(v),
            F::Ipv6Dst => Field::Ipv6Dst(v),
            F::Ipv6Flabel => Field::Ipv6Label(v as u32),
            F::Icmpv6Type => Field::Icmpv6Type(v as u8),
            F::Icmpv6Code => Field::Icmpv6Code(v as u8),
            F::Ipv6NdTarget => Field::NdTarget(v),
            F::Ipv6NdSll => Field::NdSll(mac(v)),
            F::Ipv6NdTll => Field::NdTll(mac(v)),
            F::TunnelId => Field::TunnelId(v as u64),
            F::MplsLabel => Field::MplsLabel(v as u32),
            F::MplsTc => Field::MplsTc(v as u8),
            F::MplsBos => Field::MplsBos(v as u8),
            F::NxMplsTtl => Field::MplsTtl(v as u8),
            F::NxIpTtl => Field::NwTtl(v as u8),
            F::PbbIsid => Field::PbbIsid(v as u32),
            f => {
                return Err(DecodeError::new(
                    OFPBAC_BAD_SET_TYPE,
                    format!("set_field {}: not settable in this switch", f.name()),
                ))
            }
        })
    }

    /// The set-field TLV for the switch's `field` (VLAN_VID with
    /// OFPVID_PRESENT, as Open vSwitch sends it).
    pub fn from_field(field: &Field) -> OxmTlv {
        let (f, v): (F, u128) = match *field {
            Field::EthDst(m) => (F::EthDst, mac_num(m)),
            Field::EthSrc(m) => (F::EthSrc, mac_num(m)),
            Field::VlanVid(v) => (F::VlanVid, u128::from(v & 0x0fff | OFPVID_PRESENT)),
            Field::VlanPcp(v) => (F::VlanPcp, v.into()),
            Field::IpDscp(v) => (F::IpDscp, v.into()),
            Field::IpEcn(v) => (F::IpEcn, v.into()),
            Field::Ipv4Src(v) => (F::Ipv4Src, v.into()),
            Field::Ipv4Dst(v) => (F::Ipv4Dst, v.into()),
            Field::TcpSrc(v) => (F::TcpSrc, v.into()),
            Field::TcpDst(v) => (F::TcpDst, v.into()),
            Field::UdpSrc(v) => (F::UdpSrc, v.into()),
            Field::UdpDst(v) => (F::UdpDst, v.into()),
            Field::SctpSrc(v) => (F::SctpSrc, v.into()),
            Field::SctpDst(v) => (F::SctpDst, v.into()),
            Field::Icmpv4Type(v) => (F::Icmpv4Type, v.into()),
            Field::Icmpv4Code(v) => (F::Icmpv4Code, v.into()),
            Field::ArpOp(v) => (F::ArpOp, v.into()),
            Field::ArpSpa(v) => (F::ArpSpa, v.into()),
            Field::ArpTpa(v) => (F::ArpTpa, v.into()),
            Field::ArpSha(m) => (F::ArpSha, mac_num(m)),
            Field::ArpTha(m) => (F::ArpTha, mac_num(m)),
            Field::Ipv6Src(v) => (F::Ipv6Src, v),
            Field::Ipv6Dst(v) => (F::Ipv6Dst, v),
            Field::Ipv6Label(v) => (F::Ipv6Flabel, v.into()),
            Field::Icmpv6Type(v) => (F::Icmpv6Type, v.into()),
            Field::Icmpv6Code(v) => (F::Icmpv6Code, v.into()),
            Field::NdTarget(v) => (F::Ipv6NdTarget, v),
            Field::NdSll(m) => (F::Ipv6NdSll, mac_num(m)),
            Field::NdTll(m) => (F::Ipv6NdTll, mac_num(m)),
            Field::TunnelId(v) => (F::TunnelId, v.into()),
            Field::MplsLabel(v) => (F::MplsLabel, v.into()),
            Field::MplsTc(v) => (F::MplsTc, v.into()),
            Field::MplsBos(v) => (F::MplsBos, v.into()),
            Field::MplsTtl(v) => (F::NxMplsTtl, v.into()),
            Field::NwTtl(v) => (F::NxIpTtl, v.into()),
            Field::PbbIsid(v) => (F::PbbIsid, v.into()),
        };
        OxmTlv::exact(f, v)
    }
}
