//! Matches: a flow key and a mask, what OpenFlow 1.3 can express of them,
//! and the prerequisites of each matched field.

use vnet_wire::flow::VLAN_CFI;
use vnet_wire::FlowKey;

use super::{
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_PBB,
    ETH_TYPE_RARP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP,
    MPLS_BOS_MASK, MPLS_LABEL_MASK, MPLS_TC_MASK, MPLS_TTL_MASK, VLAN_PCP_MASK,
};

/// A wildcarded match: a packet matches when `packet & mask == key`.
/// Mask bits set = must match. `key` never has bits outside `mask`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Match {
    pub key: FlowKey,
    pub mask: FlowKey,
}

/// Something a matched field or an action needs the match to guarantee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prereq {
    Vlan,
    Ipv4,
    Ipv6,
    Ip,
    IpOrArp,
    Arp,
    Tcp,
    Udp,
    Sctp,
    /// tcp, udp, sctp, icmp or icmp6.
    L4,
    Icmpv4,
    Icmpv6,
    /// icmp or icmp6.
    Icmp,
    /// ICMPv6 neighbour solicitation or advertisement (type 135/136, code 0).
    Nd,
    /// ICMPv6 neighbour solicitation (type 135, code 0).
    NdSolicit,
    /// ICMPv6 neighbour advertisement (type 136, code 0).
    NdAdvert,
    /// MPLS (dl_type 0x8847 or 0x8848).
    Mpls,
    /// PBB (dl_type 0x88e7).
    Pbb,
}

impl Prereq {
    /// Whether `m` guarantees this.
    pub fn holds(self, m: &Match) -> bool {
        let dl = m.exact_dl_type();
        let proto = m.exact_nw_proto();
        let v4 = dl == Some(ETH_TYPE_IP);
        let v6 = dl == Some(ETH_TYPE_IPV6);
        let ip = v4 || v6;
        let arp = matches!(dl, Some(ETH_TYPE_ARP | ETH_TYPE_RARP));
        let nd_type =
            (v6 && proto == Some(IPPROTO_ICMPV6) && m.mask.tp_src == 0xffff && m.key.tp_dst == 0)
                .then_some(m.key.tp_src);
        match self {
            Prereq::Vlan => m.has_vlan(),
            Prereq::Ipv4 => v4,
            Prereq::Ipv6 => v6,
            Prereq::Ip => ip,
            Prereq::IpOrArp => v4 || arp,
            Prereq::Arp => arp,
            Prereq::Tcp => ip && proto == Some(IPPROTO_TCP),
            Prereq::Udp => ip && proto == Some(IPPROTO_UDP),
            Prereq::Sctp => ip && proto == Some(IPPROTO_SCTP),
            Prereq::L4 => match proto {
                Some(IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP) => ip,
                Some(IPPROTO_ICMP) => v4,
                Some(IPPROTO_ICMPV6) => v6,
                _ => false,
            },
            Prereq::Icmpv4 => v4 && proto == Some(IPPROTO_ICMP),
            Prereq::Icmpv6 => v6 && proto == Some(IPPROTO_ICMPV6),
            Prereq::Icmp => Prereq::Icmpv4.holds(m) || Prereq::Icmpv6.holds(m),
            Prereq::Nd => matches!(nd_type, Some(135 | 136)),
            Prereq::NdSolicit => nd_type == Some(135),
            Prereq::NdAdvert => nd_type == Some(136),
            Prereq::Mpls => matches!(dl, Some(ETH_TYPE_MPLS | ETH_TYPE_MPLS_MCAST)),
            Prereq::Pbb => dl == Some(ETH_TYPE_PBB),
        }
    }

    /// What it means, for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Prereq::Vlan => "a VLAN tag (dl_vlan, vlan_tci with 0x1000, or a push_vlan before it)",
            Prereq::Ipv4 => "ip (dl_type=0x0800)",
            Prereq::Ipv6 => "ipv6 (dl_type=0x86dd)",
            Prereq::Ip => "ip or ipv6 (dl_type=0x0800 or 0x86dd)",
            Prereq::IpOrArp => "ip or arp (dl_type=0x0800 or 0x0806)",
            Prereq::Arp => "arp (dl_type=0x0806)",
            Prereq::Tcp => "tcp or tcp6 (nw_proto=6)",
            Prereq::Udp => "udp or udp6 (nw_proto=17)",
            Prereq::Sctp => "sctp or sctp6 (nw_proto=132)",
            Prereq::L4 => "tcp, udp, sctp, icmp or icmp6 (nw_proto=6, 17, 132, 1 or 58)",
            Prereq::Icmpv4 => "icmp (dl_type=0x0800, nw_proto=1)",
            Prereq::Icmpv6 => "icmp6 (dl_type=0x86dd, nw_proto=58)",
            Prereq::Icmp => "icmp or icmp6 (nw_proto=1 or 58)",
            Prereq::Nd => "icmp6 with icmp_type=135 or 136 and icmp_code=0",
            Prereq::NdSolicit => "icmp6 with icmp_type=135 and icmp_code=0",
            Prereq::NdAdvert => "icmp6 with icmp_type=136 and icmp_code=0",
            Prereq::Mpls => "mpls or mplsm (dl_type=0x8847 or 0x8848)",
            Prereq::Pbb => "dl_type=0x88e7 (PBB)",
        }
    }
}

/// A match that breaks an invariant of [`Match`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    #[error("match on {field} has value bits outside its mask")]
    ValueOutsideMask { field: &'static str },
    #[error("{field} cannot be matched with this mask: {reason}")]
    BadMask {
        field: &'static str,
        reason: &'static str,
    },
    #[error("match on {field} requires {}", needs.describe())]
    Prerequisite { field: &'static str, needs: Prereq },
}

impl Match {
    /// The match-everything match.
    pub fn catch_all() -> Match {
        Match::default()
    }

    /// `key` masked by `mask`.
    pub fn new(key: FlowKey, mask: FlowKey) -> Match {
        Match {
            key: key.masked(&mask),
            mask,
        }
    }

    /// Matches exactly this key.
    pub fn exact(key: FlowKey) -> Match {
        Match {
            key,
            mask: FlowKey::exact_mask(),
        }
    }

    /// Whether the packet with this key matches.
    #[inline]
    pub fn matches(&self, key: &FlowKey) -> bool {
        key.masked(&self.mask) == self.key
    }

    /// Every packet `other` matches, `self` matches too (`self` is at most
    /// as specific): OpenFlow's non-strict modify/delete selection.
    pub fn covers(&self, other: &Match) -> bool {
        self.mask.masked(&other.mask) == self.mask && other.key.masked(&self.mask) == self.key
    }

    /// Some packet matches both.
    pub fn overlaps(&self, other: &Match) -> bool {
        let common = self.mask.masked(&other.mask);
        self.key.masked(&common) == other.key.masked(&common)
    }

    /// `dl_type`, if matched exactly.
    pub fn exact_dl_type(&self) -> Option<u16> {
        (self.mask.dl_type == 0xffff).then_some(self.key.dl_type)
    }

    /// `nw_proto`, if matched exactly.
    pub fn exact_nw_proto(&self) -> Option<u8> {
        (self.mask.nw_proto == 0xff).then_some(self.key.nw_proto)
    }

    /// Whether the match guarantees an 802.1Q tag.
    pub fn has_vlan(&self) -> bool {
        self.mask.vlan_tci & VLAN_CFI != 0 && self.key.vlan_tci & VLAN_CFI != 0
    }

    /// Checks the invariants in the module docs: normalization, masks that
    /// OpenFlow 1.3 (plus OVS's extensions) can express, prerequisites.
    pub fn validate(&self) -> Result<(), MatchError> {
        let (k, m) = (&self.key, &self.mask);
        if k.masked(m) != *k {
            let field = differing_field(k, &k.masked(m));
            return Err(MatchError::ValueOutsideMask { field });
        }
        let bad = |field, reason| Err(MatchError::BadMask { field, reason });
        if !matches!(m.in_port, 0 | 0xffff_ffff) {
            return bad("in_port", "only exact");
        }
        if !matches!(m.dl_type, 0 | 0xffff) {
            return bad("dl_type", "only exact");
        }
        if !matches!(m.nw_proto, 0 | 0xff) {
            return bad("nw_proto", "only exact");
        }
        if !matches!(m.nw_ttl, 0 | 0xff) {
            return bad("nw_ttl", "only exact");
        }
        if !matches!(m.nw_tos, 0 | 0xfc | 0x03 | 0xff) {
            return bad("nw_tos", "DSCP (0xfc) and ECN (0x03) are matched whole");
        }
        if m.nw_frag & !3 != 0 || (m.nw_frag == 3 && k.nw_frag == 2) {
            return bad("nw_frag", "not one of no, yes, first, later, not_later");
        }
        let pcp = m.vlan_tci & VLAN_PCP_MASK;
        if pcp != 0 && (pcp != VLAN_PCP_MASK || !self.has_vlan()) {
            return bad(
                "vlan_tci",
                "the PCP is matched whole, and only with a tag (0x1000) matched",
            );
        }
        if m.tcp_flags & !0x0fff != 0 {
            return bad("tcp_flags", "only the low 12 bits exist");
        }
        if m.ipv6_label & !0xf_ffff != 0 {
            return bad("ipv6_label", "only the low 20 bits exist");
        }
        for (sub, field) in [
            (MPLS_LABEL_MASK, "mpls_label"),
            (MPLS_TC_MASK, "mpls_tc"),
            (MPLS_BOS_MASK, "mpls_bos"),
            (MPLS_TTL_MASK, "mpls_ttl"),
        ] {
            if m.mpls_lse & sub != 0 && m.mpls_lse & sub != sub {
                return bad(field, "only exact");
            }
        }
        if m.pbb_isid & !0xff_ffff != 0 {
            return bad("pbb_isid", "only the low 24 bits exist");
        }
        if m.ipv6_exthdr & !0x1ff != 0 {
            return bad("ipv6_exthdr", "only the low 9 bits exist");
        }
        self.check_prerequisites()?;
        let icmp = Prereq::Icmp.holds(self);
        if icmp && (!matches!(m.tp_src, 0 | 0xffff) || !matches!(m.tp_dst, 0 | 0xffff)) {
            return bad("icmp_type", "only exact");
        }
        if icmp && (k.tp_src > 0xff || k.tp_dst > 0xff) {
            return bad("icmp_type", "ICMP type and code are 8 bits");
        }
        Ok(())
    }

    /// The prerequisite part of [`validate`](Self::validate) alone.
    pub fn check_prerequisites(&self) -> Result<(), MatchError> {
        let m = &self.mask;
        let arp = Prereq::Arp.holds(self);
        let checks: &[(bool, &'static str, Prereq)] = &[
            (
                m.ipv4_src != 0,
                if arp { "arp_spa" } else { "nw_src" },
                Prereq::IpOrArp,
            ),
            (
                m.ipv4_dst != 0,
                if arp { "arp_tpa" } else { "nw_dst" },
                Prereq::IpOrArp,
            ),
            (m.ipv6_src != 0, "ipv6_src", Prereq::Ipv6),
            (m.ipv6_dst != 0, "ipv6_dst", Prereq::Ipv6),
            (m.ipv6_label != 0, "ipv6_label", Prereq::Ipv6),
            (m.nw_proto != 0 && !arp, "nw_proto", Prereq::Ip),
            (m.nw_tos != 0, "nw_tos", Prereq::Ip),
            (m.nw_ttl != 0, "nw_ttl", Prereq::Ip),
            (m.nw_frag != 0, "nw_frag", Prereq::Ip),
            (m.tp_src != 0, "tp_src", Prereq::L4),
            (m.tp_dst != 0, "tp_dst", Prereq::L4),
            (m.tcp_flags != 0, "tcp_flags", Prereq::Tcp),
            (m.arp_sha != [0; 6], "arp_sha", Prereq::Arp),
            (m.arp_tha != [0; 6], "arp_tha", Prereq::Arp),
            (m.nd_target != 0, "nd_target", Prereq::Nd),
            (m.nd_sll != [0; 6], "nd_sll", Prereq::NdSolicit),
            (m.nd_tll != [0; 6], "nd_tll", Prereq::NdAdvert),
            (m.mpls_lse != 0, "mpls_label", Prereq::Mpls),
            (m.pbb_isid != 0, "pbb_isid", Prereq::Pbb),
            (m.ipv6_exthdr != 0, "ipv6_exthdr", Prereq::Ipv6),
        ];
        for &(used, field, needs) in checks {
            if used && !needs.holds(self) {
                return Err(MatchError::Prerequisite { field, needs });
            }
        }
        Ok(())
    }
}

/// The name of the first field in which `a` and `b` differ.
fn differing_field(a: &FlowKey, b: &FlowKey) -> &'static str {
    macro_rules! first_diff {
        ($($f:ident),*) => { $( if a.$f != b.$f { return stringify!($f); } )* };
    }
    first_diff!(
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
    );
    "flow key"
}
