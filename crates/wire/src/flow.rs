//! The flow key: every header field the switch can match on, extracted from
//! a frame in one pass with no allocation.
//!
//! Conventions (those of OpenFlow/OVS):
//! - `vlan_tci` is the outermost 802.1Q/802.1ad tag: PCP (3 bits) | CFI
//!   (1 bit, always set here to mean "tag present", as OVS does) | VID (12
//!   bits); 0 means untagged. `dl_type` is the ethertype after the tags.
//! - for ARP: `nw_proto` holds the opcode's low byte, `ipv4_src`/`ipv4_dst`
//!   the sender/target protocol addresses, `arp_sha`/`arp_tha` the hardware
//!   addresses;
//! - for ICMP/ICMPv6: `tp_src` = type, `tp_dst` = code.
//! - IPv4 addresses are host-order `u32`, IPv6 host-order `u128`.
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
}

macro_rules! each_field {
    ($m:ident) => {
        $m!(in_port, metadata, dl_dst, dl_src, dl_type, vlan_tci, ipv4_src, ipv4_dst, ipv6_src,
            ipv6_dst, ipv6_label, nw_proto, nw_tos, nw_ttl, nw_frag, tp_src, tp_dst, tcp_flags,
            arp_sha, arp_tha, nd_target)
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
        }
    }

    /// The VLAN ID of the outer tag, if tagged.
    pub fn vlan_vid(&self) -> Option<u16> {
        (self.vlan_tci & VLAN_CFI != 0).then_some(self.vlan_tci & VLAN_VID_MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_only_mask_bits() {
        let k = FlowKey { in_port: 7, ipv4_dst: 0x0a00_0105, dl_dst: [1, 2, 3, 4, 5, 6], ..Default::default() };
        let m = FlowKey { ipv4_dst: 0xffff_ff00, dl_dst: [0xff, 0, 0, 0, 0, 0], ..Default::default() };
        let r = k.masked(&m);
        assert_eq!(r.in_port, 0);
        assert_eq!(r.ipv4_dst, 0x0a00_0100);
        assert_eq!(r.dl_dst, [1, 0, 0, 0, 0, 0]);
        assert_eq!(k.masked(&FlowKey::exact_mask()), k);
    }
}
