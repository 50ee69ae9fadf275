//! The flow key: every header field the switch can match on, extracted from
//! a frame in one pass with no allocation.
//!
//! Conventions (those of OpenFlow/OVS):
//! - `vlan_tci` is the outermost 802.1Q/802.1ad tag: PCP (3 bits) | CFI
//!   (1 bit, always set here to mean "tag present", as OVS does) | VID (12
//!   bits); 0 means untagged. `dl_type` is the ethertype after the tags.
//! - for ARP: `nw_proto` holds the opcode's low byte (0 for opcodes above
//!   255), `ipv4_src`/`ipv4_dst` the sender/target protocol addresses,
//!   `arp_sha`/`arp_tha` the hardware addresses;
//! - for ICMP/ICMPv6: `tp_src` = type, `tp_dst` = code.
//! - IPv4 addresses are host-order `u32`, IPv6 host-order `u128`.
//! - `nw_frag`: [`FRAG_ANY`] for any fragment, plus [`FRAG_LATER`] when the
//!   offset is non-zero (then no transport field is extracted, and for IPv6
//!   `nw_proto` is 44, as in Open vSwitch).
//! - IPv6 neighbour discovery (NS/NA, code 0): `nd_target`, and `nd_sll` /
//!   `nd_tll` from the source/target link-layer address options (whichever
//!   message carries them, as Open vSwitch does); all three are zero when an
//!   option is malformed or an address option repeats.
//! - MPLS (dl_type 0x8847/0x8848): `mpls_lse` is the outermost label stack
//!   entry as on the wire; nothing after the label stack is extracted.
//! - PBB (dl_type 0x88e7): `pbb_isid` is the I-TAG's service ID.
//! - `ipv6_exthdr` holds OpenFlow's `OFPIEH_*` bits ([`IEH_NONEXT`], ...).
//! - `metadata` and `tunnel_id` are pipeline state, never read from the
//!   frame; extraction leaves them zero.
//!
//! `FlowKey` doubles as its own mask type: a mask is a `FlowKey` whose set
//! bits are the bits that matter.

/// Tag-present bit in `vlan_tci`.
pub const VLAN_CFI: u16 = 0x1000;
pub const VLAN_VID_MASK: u16 = 0x0fff;
pub const VLAN_PCP_SHIFT: u16 = 13;

/// `nw_frag` bits.
pub const FRAG_ANY: u8 = 1;
pub const FRAG_LATER: u8 = 2;

/// `ipv6_exthdr` bits (OpenFlow 1.3 `ofp_ipv6exthdr_flags`).
pub const IEH_NONEXT: u16 = 1 << 0;
pub const IEH_ESP: u16 = 1 << 1;
pub const IEH_AUTH: u16 = 1 << 2;
pub const IEH_DEST: u16 = 1 << 3;
pub const IEH_FRAG: u16 = 1 << 4;
pub const IEH_ROUTER: u16 = 1 << 5;
pub const IEH_HOP: u16 = 1 << 6;
pub const IEH_UNREP: u16 = 1 << 7;
pub const IEH_UNSEQ: u16 = 1 << 8;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub in_port: u32,
    pub metadata: u64,
    pub dl_dst: [u8; 6],
    pub dl_src: [u8; 6],
    pub dl_type: u16,
    pub vlan_tci: u16,
    pub ipv4_src: u32,
    pub ipv4_dst: u32,
    pub ipv6_src: u128,
    pub ipv6_dst: u128,
    pub ipv6_label: u32,
    pub nw_proto: u8,
    /// The whole TOS / traffic-class byte: DSCP << 2 | ECN.
    pub nw_tos: u8,
    pub nw_ttl: u8,
    pub nw_frag: u8,
    pub tp_src: u16,
    pub tp_dst: u16,
    pub tcp_flags: u16,
    pub arp_sha: [u8; 6],
    pub arp_tha: [u8; 6],
    /// IPv6 neighbour discovery target (NS/NA).
    pub nd_target: u128,
    /// IPv6 ND source link-layer address option (sent with NS).
    pub nd_sll: [u8; 6],
    /// IPv6 ND target link-layer address option (sent with NA).
    pub nd_tll: [u8; 6],
    /// Outermost MPLS label stack entry: label (20) | TC (3) | BOS (1) |
    /// TTL (8); 0 when not MPLS.
    pub mpls_lse: u32,
    /// PBB I-SID (24 bits).
    pub pbb_isid: u32,
    /// OpenFlow `IPV6_EXTHDR` pseudo-field (`IEH_*` bits).
    pub ipv6_exthdr: u16,
    /// Tunnel ID: metadata set by a tunnel port, not extracted.
    pub tunnel_id: u64,
}

macro_rules! each_field {
    ($m:ident) => {
        $m!(
            in_port,
            metadata,
            dl_dst,
            dl_src,
            dl_type,
            vlan_tci,
            ipv4_src,
            ipv4_dst,
            ipv6_src,
            ipv6_dst,
            ipv6_label,
            nw_proto,
            nw_tos,
            nw_ttl,
            nw_frag,
            tp_src,
            tp_dst,
            tcp_flags,
            arp_sha,
            arp_tha,
            nd_target,
            nd_sll,
            nd_tll,
            mpls_lse,
            pbb_isid,
            ipv6_exthdr,
            tunnel_id
        )
    };
}

trait BitAnd: Copy {
    fn and(self, o: Self) -> Self;
}
macro_rules! int_and {
    ($($t:ty),*) => {$(impl BitAnd for $t { #[inline] fn and(self, o: Self) -> Self { self & o } })*};
}
int_and!(u8, u16, u32, u64, u128);
impl BitAnd for [u8; 6] {
    #[inline]
    fn and(self, o: Self) -> Self {
        let mut r = [0; 6];
        for i in 0..6 {
            r[i] = self[i] & o[i];
        }
        r
    }
}

impl FlowKey {
    /// `self & mask`, field by field.
    #[inline]
    pub fn masked(&self, mask: &FlowKey) -> FlowKey {
        macro_rules! and {
            ($($f:ident),*) => { FlowKey { $($f: BitAnd::and(self.$f, mask.$f)),* } };
        }
        each_field!(and)
    }

    /// A mask with every bit set (exact match).
    pub fn exact_mask() -> FlowKey {
        FlowKey {
            in_port: !0,
            metadata: !0,
            dl_dst: [0xff; 6],
            dl_src: [0xff; 6],
            dl_type: !0,
            vlan_tci: !0,
            ipv4_src: !0,
            ipv4_dst: !0,
            ipv6_src: !0,
            ipv6_dst: !0,
            ipv6_label: !0,
            nw_proto: !0,
            nw_tos: !0,
            nw_ttl: !0,
            nw_frag: !0,
            tp_src: !0,
            tp_dst: !0,
            tcp_flags: !0,
            arp_sha: [0xff; 6],
            arp_tha: [0xff; 6],
            nd_target: !0,
            nd_sll: [0xff; 6],
            nd_tll: [0xff; 6],
            mpls_lse: !0,
            pbb_isid: !0,
            ipv6_exthdr: !0,
            tunnel_id: !0,
        }
    }

    /// The VLAN ID of the outer tag, if tagged.
    pub fn vlan_vid(&self) -> Option<u16> {
        (self.vlan_tci & VLAN_CFI != 0).then_some(self.vlan_tci & VLAN_VID_MASK)
    }

    /// The PCP of the outer tag (0 when untagged).
    pub fn vlan_pcp(&self) -> u8 {
        (self.vlan_tci >> VLAN_PCP_SHIFT) as u8
    }

    /// IP DSCP (the top 6 bits of `nw_tos`).
    pub fn ip_dscp(&self) -> u8 {
        self.nw_tos >> 2
    }

    /// IP ECN (the low 2 bits of `nw_tos`).
    pub fn ip_ecn(&self) -> u8 {
        self.nw_tos & 3
    }

    /// MPLS label of the outermost entry.
    pub fn mpls_label(&self) -> u32 {
        self.mpls_lse >> 12
    }

    /// MPLS traffic class of the outermost entry.
    pub fn mpls_tc(&self) -> u8 {
        ((self.mpls_lse >> 9) & 7) as u8
    }

    /// MPLS bottom-of-stack bit of the outermost entry.
    pub fn mpls_bos(&self) -> bool {
        self.mpls_lse & 0x100 != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_only_mask_bits() {
        let k = FlowKey {
            in_port: 7,
            ipv4_dst: 0x0a00_0105,
            dl_dst: [1, 2, 3, 4, 5, 6],
            ..Default::default()
        };
        let m = FlowKey {
            ipv4_dst: 0xffff_ff00,
            dl_dst: [0xff, 0, 0, 0, 0, 0],
            ..Default::default()
        };
        let r = k.masked(&m);
        assert_eq!(r.in_port, 0);
        assert_eq!(r.ipv4_dst, 0x0a00_0100);
        assert_eq!(r.dl_dst, [1, 0, 0, 0, 0, 0]);
        assert_eq!(k.masked(&FlowKey::exact_mask()), k);
    }
}
