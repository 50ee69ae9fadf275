//! Actions and the fields `set_field` writes: what each needs the packet to
//! be (checked against the match and the actions before it) and what it
//! makes of the packet, as far as a match can say.
//!
//! Fields OpenFlow 1.3 cannot set here, refused by the codec with
//! OFPBAC_BAD_SET_TYPE (they are not in [`Field`]): IN_PORT, IN_PHY_PORT
//! and METADATA (pipeline fields, not headers: the spec excludes them),
//! ETH_TYPE, IP_PROTO and IPV6_EXTHDR (they say what the rest of the packet
//! is; changing them would reinterpret the payload, not rewrite a header
//! field — Open vSwitch treats them as read-only too).

use vnet_wire::flow::{VLAN_CFI, VLAN_VID_MASK};
use vnet_wire::FlowKey;

use super::{
    Match, PortNo, Prereq, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_PBB, ETH_TYPE_VLAN,
    ETH_TYPE_VLAN_8021AD, MPLS_BOS_MASK, MPLS_LABEL_MASK, MPLS_TC_MASK, MPLS_TTL_MASK,
    VLAN_PCP_MASK,
};

/// A header field `set_field` can write, with its value (OpenFlow 1.3 OXM
/// fields, plus Open vSwitch's NXM `mpls_ttl` and `nw_ttl`, which
/// ovs-ofctl sends as set-fields). `VlanVid` holds the 12-bit VID (the OXM
/// present bit is implied).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    EthDst([u8; 6]),
    EthSrc([u8; 6]),
    VlanVid(u16),
    VlanPcp(u8),
    IpDscp(u8),
    IpEcn(u8),
    Ipv4Src(u32),
    Ipv4Dst(u32),
    TcpSrc(u16),
    TcpDst(u16),
    UdpSrc(u16),
    UdpDst(u16),
    SctpSrc(u16),
    SctpDst(u16),
    Icmpv4Type(u8),
    Icmpv4Code(u8),
    ArpOp(u16),
    ArpSpa(u32),
    ArpTpa(u32),
    ArpSha([u8; 6]),
    ArpTha([u8; 6]),
    Ipv6Src(u128),
    Ipv6Dst(u128),
    Ipv6Label(u32),
    Icmpv6Type(u8),
    Icmpv6Code(u8),
    NdTarget(u128),
    NdSll([u8; 6]),
    NdTll([u8; 6]),
    /// The outermost label (20 bits).
    MplsLabel(u32),
    /// The outermost traffic class (3 bits).
    MplsTc(u8),
    /// The outermost bottom-of-stack bit (0 or 1).
    MplsBos(u8),
    /// The outermost MPLS TTL (`NXM_NX_MPLS_TTL`).
    MplsTtl(u8),
    /// The IP TTL / hop limit (`NXM_NX_IP_TTL`).
    NwTtl(u8),
    /// The outermost I-TAG's service ID (24 bits).
    PbbIsid(u32),
    /// Pipeline metadata of a logical port: later tables match it; the
    /// packet does not change (this switch has no tunnel ports).
    TunnelId(u64),
}

impl Field {
    /// The name ovs-ofctl prints after `->`.
    pub fn name(&self) -> &'static str {
        use Field::*;
        match self {
            EthDst(_) => "eth_dst",
            EthSrc(_) => "eth_src",
            VlanVid(_) => "vlan_vid",
            VlanPcp(_) => "vlan_pcp",
            IpDscp(_) => "ip_dscp",
            IpEcn(_) => "nw_ecn",
            Ipv4Src(_) => "ip_src",
            Ipv4Dst(_) => "ip_dst",
            TcpSrc(_) => "tcp_src",
            TcpDst(_) => "tcp_dst",
            UdpSrc(_) => "udp_src",
            UdpDst(_) => "udp_dst",
            SctpSrc(_) => "sctp_src",
            SctpDst(_) => "sctp_dst",
            Icmpv4Type(_) => "icmp_type",
            Icmpv4Code(_) => "icmp_code",
            ArpOp(_) => "arp_op",
            ArpSpa(_) => "arp_spa",
            ArpTpa(_) => "arp_tpa",
            ArpSha(_) => "arp_sha",
            ArpTha(_) => "arp_tha",
            Ipv6Src(_) => "ipv6_src",
            Ipv6Dst(_) => "ipv6_dst",
            Ipv6Label(_) => "ipv6_label",
            Icmpv6Type(_) => "icmpv6_type",
            Icmpv6Code(_) => "icmpv6_code",
            NdTarget(_) => "nd_target",
            NdSll(_) => "nd_sll",
            NdTll(_) => "nd_tll",
            MplsLabel(_) => "mpls_label",
            MplsTc(_) => "mpls_tc",
            MplsBos(_) => "mpls_bos",
            MplsTtl(_) => "mpls_ttl",
            NwTtl(_) => "nw_ttl",
            PbbIsid(_) => "pbb_isid",
            TunnelId(_) => "tun_id",
        }
    }

    /// What the packet must be for the field to exist.
    pub fn prerequisite(&self) -> Option<Prereq> {
        use Field::*;
        Some(match self {
            EthDst(_) | EthSrc(_) | TunnelId(_) => return None,
            VlanVid(_) | VlanPcp(_) => Prereq::Vlan,
            IpDscp(_) | IpEcn(_) | NwTtl(_) => Prereq::Ip,
            Ipv4Src(_) | Ipv4Dst(_) => Prereq::Ipv4,
            TcpSrc(_) | TcpDst(_) => Prereq::Tcp,
            UdpSrc(_) | UdpDst(_) => Prereq::Udp,
            SctpSrc(_) | SctpDst(_) => Prereq::Sctp,
            Icmpv4Type(_) | Icmpv4Code(_) => Prereq::Icmpv4,
            ArpOp(_) | ArpSpa(_) | ArpTpa(_) | ArpSha(_) | ArpTha(_) => Prereq::Arp,
            Ipv6Src(_) | Ipv6Dst(_) | Ipv6Label(_) => Prereq::Ipv6,
            Icmpv6Type(_) | Icmpv6Code(_) => Prereq::Icmpv6,
            NdTarget(_) => Prereq::Nd,
            NdSll(_) => Prereq::NdSolicit,
            NdTll(_) => Prereq::NdAdvert,
            MplsLabel(_) | MplsTc(_) | MplsBos(_) | MplsTtl(_) => Prereq::Mpls,
            PbbIsid(_) => Prereq::Pbb,
        })
    }

    /// The value, if out of the field's range.
    pub(crate) fn bad_value(&self) -> Option<u64> {
        use Field::*;
        let (v, max) = match *self {
            VlanVid(v) => (u64::from(v), 0xfff),
            VlanPcp(v) => (u64::from(v), 7),
            IpDscp(v) => (u64::from(v), 63),
            IpEcn(v) => (u64::from(v), 3),
            ArpOp(v) => (u64::from(v), 0xff),
            Ipv6Label(v) => (u64::from(v), 0xf_ffff),
            MplsLabel(v) => (u64::from(v), 0xf_ffff),
            MplsTc(v) => (u64::from(v), 7),
            MplsBos(v) => (u64::from(v), 1),
            PbbIsid(v) => (u64::from(v), 0xff_ffff),
            _ => return None,
        };
        (v > max).then_some(v)
    }

    /// Writes the value into `key` as the packet rewrite would change it.
    pub fn apply(&self, key: &mut FlowKey) {
        let mut mask = FlowKey::default();
        self.write(key, &mut mask);
    }

    /// Writes the value into `key` and sets the written bits in `mask`.
    pub fn write(&self, key: &mut FlowKey, mask: &mut FlowKey) {
        use Field::*;
        let mut lse = |bits: u32, v: u32| {
            key.mpls_lse = key.mpls_lse & !bits | v & bits;
            mask.mpls_lse |= bits;
        };
        match *self {
            MplsLabel(v) => return lse(MPLS_LABEL_MASK, v << 12),
            MplsTc(v) => return lse(MPLS_TC_MASK, u32::from(v) << 9),
            MplsBos(v) => return lse(MPLS_BOS_MASK, u32::from(v) << 8),
            MplsTtl(v) => return lse(MPLS_TTL_MASK, v.into()),
            _ => {}
        }
        match *self {
            EthDst(v) => (key.dl_dst, mask.dl_dst) = (v, [0xff; 6]),
            EthSrc(v) => (key.dl_src, mask.dl_src) = (v, [0xff; 6]),
            VlanVid(v) => {
                key.vlan_tci = (key.vlan_tci & !VLAN_VID_MASK) | VLAN_CFI | (v & VLAN_VID_MASK);
                mask.vlan_tci |= VLAN_CFI | VLAN_VID_MASK;
            }
            VlanPcp(v) => {
                key.vlan_tci =
                    (key.vlan_tci & !VLAN_PCP_MASK) | VLAN_CFI | (u16::from(v & 7) << 13);
                mask.vlan_tci |= VLAN_CFI | VLAN_PCP_MASK;
            }
            IpDscp(v) => {
                key.nw_tos = (key.nw_tos & 0x03) | (v << 2);
                mask.nw_tos |= 0xfc;
            }
            IpEcn(v) => {
                key.nw_tos = (key.nw_tos & 0xfc) | (v & 3);
                mask.nw_tos |= 0x03;
            }
            Ipv4Src(v) | ArpSpa(v) => (key.ipv4_src, mask.ipv4_src) = (v, !0),
            Ipv4Dst(v) | ArpTpa(v) => (key.ipv4_dst, mask.ipv4_dst) = (v, !0),
            TcpSrc(v) | UdpSrc(v) | SctpSrc(v) => (key.tp_src, mask.tp_src) = (v, !0),
            TcpDst(v) | UdpDst(v) | SctpDst(v) => (key.tp_dst, mask.tp_dst) = (v, !0),
            Icmpv4Type(v) | Icmpv6Type(v) => (key.tp_src, mask.tp_src) = (v.into(), !0),
            Icmpv4Code(v) | Icmpv6Code(v) => (key.tp_dst, mask.tp_dst) = (v.into(), !0),
            ArpOp(v) => (key.nw_proto, mask.nw_proto) = (v as u8, !0),
            ArpSha(v) => (key.arp_sha, mask.arp_sha) = (v, [0xff; 6]),
            ArpTha(v) => (key.arp_tha, mask.arp_tha) = (v, [0xff; 6]),
            NdSll(v) => (key.nd_sll, mask.nd_sll) = (v, [0xff; 6]),
            NdTll(v) => (key.nd_tll, mask.nd_tll) = (v, [0xff; 6]),
            TunnelId(v) => (key.tunnel_id, mask.tunnel_id) = (v, !0),
            Ipv6Src(v) => (key.ipv6_src, mask.ipv6_src) = (v, !0),
            Ipv6Dst(v) => (key.ipv6_dst, mask.ipv6_dst) = (v, !0),
            Ipv6Label(v) => (key.ipv6_label, mask.ipv6_label) = (v, 0xf_ffff),
            NdTarget(v) => (key.nd_target, mask.nd_target) = (v, !0),
            NwTtl(v) => (key.nw_ttl, mask.nw_ttl) = (v, !0),
            PbbIsid(v) => (key.pbb_isid, mask.pbb_isid) = (v, 0xff_ffff),
            MplsLabel(_) | MplsTc(_) | MplsBos(_) | MplsTtl(_) => {}
        }
    }
}

/// An OpenFlow 1.3 action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Output to a port, reserved ones included (but never CONTROLLER: see
    /// [`Action::Controller`]; ANY and TABLE are refused in flows).
    Output(PortNo),
    /// Send to the controller as a packet-in (reason: action), at most
    /// `max_len` bytes of it (`0xffff` = whole packet, no buffering).
    Controller {
        max_len: u16,
    },
    /// Copy the TTL of the next-to-outermost header (MPLS entry, or the IP
    /// header under the bottom of the stack) into the outermost MPLS entry.
    CopyTtlOut,
    /// Copy the outermost MPLS entry's TTL into the next-to-outermost
    /// header (MPLS entry, or the IP header under the bottom of the stack).
    CopyTtlIn,
    /// Set the outermost MPLS TTL.
    SetMplsTtl(u8),
    /// Decrement the outermost MPLS TTL; at ≤ 1 the packet goes to the
    /// controller (reason INVALID_TTL) instead.
    DecMplsTtl,
    /// Push an outer tag with this TPID (0x8100 or 0x88a8), copying VID and
    /// PCP from the current outer tag if any.
    PushVlan(u16),
    PopVlan,
    /// Push an MPLS entry with this ethertype (0x8847 or 0x8848) after the
    /// Ethernet header and VLAN tags.
    PushMpls(u16),
    /// Pop the outermost MPLS entry; the argument is the ethertype of what
    /// follows.
    PopMpls(u16),
    /// Push a PBB encapsulation (I-TAG, customer addresses) with this
    /// ethertype (0x88e7).
    PushPbb(u16),
    /// Pop the PBB encapsulation (backbone header and I-TAG).
    PopPbb,
    SetField(Field),
    /// Decrement the IP TTL / hop limit (`OFPAT_DEC_NW_TTL`).
    DecTtl,
    /// Set the IP TTL / hop limit (`OFPAT_SET_NW_TTL`).
    SetNwTtl(u8),
    Group(u32),
    SetQueue(u32),
}

/// Why an action is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("output to port {0} is not allowed in a flow")]
    BadOutPort(PortNo),
    #[error("{0:#x} is not a valid VLAN ethertype")]
    BadVlanTpid(u16),
    #[error("{ethertype:#06x} is not a valid ethertype for {action}")]
    BadEthertype {
        action: &'static str,
        ethertype: u16,
    },
    #[error("{action} requires {}", needs.describe())]
    Prerequisite { action: &'static str, needs: Prereq },
    #[error("{value} is not a valid value for field {field}")]
    BadValue { field: &'static str, value: u64 },
    /// No port of this switch has queues (queue-get-config reports none),
    /// so every queue id names a queue that does not exist.
    #[error("set_queue:{0}: this switch has no queues")]
    BadQueue(u32),
}

impl ActionError {
    /// The `OFPBAC_*` code (error type OFPET_BAD_ACTION).
    pub fn ofpbac_code(&self) -> u16 {
        match self {
            ActionError::BadOutPort(_) => 4,
            ActionError::BadVlanTpid(_) | ActionError::BadEthertype { .. } => 5, // BAD_ARGUMENT
            ActionError::BadQueue(_) => 8,
            ActionError::Prerequisite { .. } => 10, // MATCH_INCONSISTENT
            ActionError::BadValue { .. } => 15,     // BAD_SET_ARGUMENT
        }
    }
}

/// Forgets everything a match says above the link layer (and the MPLS
/// and PBB fields): what an encapsulation push or pop makes unknowable.
fn forget_payload(m: &mut Match) {
    for k in [&mut m.key, &mut m.mask] {
        *k = FlowKey {
            in_port: k.in_port,
            metadata: k.metadata,
            tunnel_id: k.tunnel_id,
            dl_dst: k.dl_dst,
            dl_src: k.dl_src,
            dl_type: k.dl_type,
            vlan_tci: k.vlan_tci,
            ..FlowKey::default()
        };
    }
}

fn set_dl_type(m: &mut Match, t: u16) {
    (m.key.dl_type, m.mask.dl_type) = (t, 0xffff);
}

impl Action {
    /// Whether the action changes where headers are (pushes and pops
    /// other than VLAN push) or a header field a flow key cannot follow
    /// (`copy_ttl_out` takes a TTL from below the outermost header):
    /// after it, the key of the packet must be extracted again.
    pub fn restructures(&self) -> bool {
        matches!(
            self,
            Action::PopVlan
                | Action::PushMpls(_)
                | Action::PopMpls(_)
                | Action::PushPbb(_)
                | Action::PopPbb
                | Action::CopyTtlOut
        )
    }

    /// Checks the action against what `state` (the match, updated by the
    /// actions before this one) guarantees, then updates `state` with the
    /// action's effect.
    pub fn check(&self, state: &mut Match) -> Result<(), ActionError> {
        let need = |action, needs: Prereq, state: &Match| {
            if needs.holds(state) {
                Ok(())
            } else {
                Err(ActionError::Prerequisite { action, needs })
            }
        };
        let mpls = |t| matches!(t, ETH_TYPE_MPLS | ETH_TYPE_MPLS_MCAST);
        match *self {
            Action::Output(p) => {
                let named_or_plain = p < PortNo::MAX || p >= PortNo::IN_PORT;
                if !named_or_plain || matches!(p, PortNo::ANY | PortNo::TABLE | PortNo::CONTROLLER)
                {
                    return Err(ActionError::BadOutPort(p));
                }
            }
            Action::PushVlan(tpid) => {
                if !matches!(tpid, ETH_TYPE_VLAN | ETH_TYPE_VLAN_8021AD) {
                    return Err(ActionError::BadVlanTpid(tpid));
                }
                state.key.vlan_tci |= VLAN_CFI;
                state.mask.vlan_tci |= VLAN_CFI;
            }
            Action::PopVlan => {
                need("pop_vlan", Prereq::Vlan, state)?;
                // The inner tag, if any, is unknown from here on.
                state.key.vlan_tci = 0;
                state.mask.vlan_tci = 0;
            }
            Action::PushMpls(t) => {
                if !mpls(t) {
                    return Err(ActionError::BadEthertype {
                        action: "push_mpls",
                        ethertype: t,
                    });
                }
                // The IP header (if any) is now inside the label stack.
                forget_payload(state);
                set_dl_type(state, t);
            }
            Action::PopMpls(t) => {
                need("pop_mpls", Prereq::Mpls, state)?;
                forget_payload(state);
                set_dl_type(state, t);
            }
            Action::PushPbb(t) => {
                if t != ETH_TYPE_PBB {
                    return Err(ActionError::BadEthertype {
                        action: "push_pbb",
                        ethertype: t,
                    });
                }
                // Tags and all move into the customer frame.
                forget_payload(state);
                set_dl_type(state, t);
                (state.key.vlan_tci, state.mask.vlan_tci) = (0, VLAN_CFI);
            }
            Action::PopPbb => {
                need("pop_pbb", Prereq::Pbb, state)?;
                // What the customer frame is, nothing says.
                forget_payload(state);
                (state.key.dl_type, state.mask.dl_type) = (0, 0);
                (state.key.vlan_tci, state.mask.vlan_tci) = (0, 0);
                (state.key.dl_src, state.mask.dl_src) = ([0; 6], [0; 6]);
                (state.key.dl_dst, state.mask.dl_dst) = ([0; 6], [0; 6]);
            }
            Action::CopyTtlOut | Action::CopyTtlIn | Action::DecMplsTtl => {
                // IP-in-IP (the other TTL copy the spec names) is not a
                // header this switch parses: only MPLS packets qualify.
                let name = match self {
                    Action::CopyTtlOut => "copy_ttl_out",
                    Action::CopyTtlIn => "copy_ttl_in",
                    _ => "dec_mpls_ttl",
                };
                need(name, Prereq::Mpls, state)?;
                if !matches!(self, Action::CopyTtlIn) {
                    state.mask.mpls_lse &= !MPLS_TTL_MASK;
                    state.key.mpls_lse &= !MPLS_TTL_MASK;
                }
            }
            Action::SetMplsTtl(t) => {
                need("set_mpls_ttl", Prereq::Mpls, state)?;
                Field::MplsTtl(t).write(&mut state.key, &mut state.mask);
            }
            Action::SetField(f) => {
                if let Some(value) = f.bad_value() {
                    return Err(ActionError::BadValue {
                        field: f.name(),
                        value,
                    });
                }
                if let Some(p) = f.prerequisite() {
                    need(f.name(), p, state)?;
                }
                f.write(&mut state.key, &mut state.mask);
            }
            Action::DecTtl => need("dec_ttl", Prereq::Ip, state)?,
            Action::SetNwTtl(_) => need("mod_nw_ttl", Prereq::Ip, state)?,
            Action::Controller { .. } | Action::Group(_) | Action::SetQueue(_) => {}
        }
        Ok(())
    }
}

/// Checks write-actions as the action set will run them (its order, one
/// action of each kind, the last written kept): each action's own values
/// first, then each against `state` in execution order. The error names
/// the action by its index in `actions`.
pub fn check_write_actions(actions: &[Action], state: &Match) -> Result<(), (usize, ActionError)> {
    let mut set = super::ActionSet::default();
    for (i, a) in actions.iter().enumerate() {
        match a.check(&mut Match::catch_all()) {
            Ok(()) | Err(ActionError::Prerequisite { .. }) => {}
            Err(e) => return Err((i, e)),
        }
        set.write(*a);
    }
    let mut state = *state;
    for a in set.ordered() {
        a.check(&mut state).map_err(|e| {
            let i = actions.iter().rposition(|b| *b == a).unwrap_or(0);
            (i, e)
        })?;
    }
    Ok(())
}
