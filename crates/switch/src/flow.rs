//! The flow model: matches, actions, instructions, flows and their counters,
//! shaped after OpenFlow 1.3 so that FLOW_MOD and flow-stats messages map onto
//! it one to one (the `openflow` crate translates; `ofctl` parses and prints).
//!
//! Invariants this module defines and checks ([`Match::validate`],
//! [`Flow::validate`]), relied on by the classifier and the pipeline:
//! - a [`Match`]'s key has no bit set outside its mask ([`Match::new`] masks);
//! - every matched field has its OpenFlow prerequisites (`nw_src` needs
//!   `dl_type` ip or arp, `tp_dst` needs `nw_proto` tcp/udp/sctp/icmp, ...);
//! - instructions appear at most once each, in OpenFlow order (meter, apply,
//!   clear, write, write_metadata, goto_table); `goto_table` goes forward only;
//! - every action is consistent with what the match (and the actions before
//!   it) guarantee about the packet: `pop_vlan` needs a tag, `set_field:..->
//!   tcp_src` needs tcp, output to ANY/TABLE is refused;
//! - output to the controller is always [`Action::Controller`], never
//!   `Output(PortNo::CONTROLLER)`.
//!
//! Time is passed in as `now`: monotonic milliseconds from an epoch the
//! caller picks (sans-I/O); nothing here reads a clock.

mod matching;
mod stats;

use std::fmt;
use std::sync::Arc;

pub use matching::{Match, MatchError, Prereq};
pub use stats::{Counter, FlowStats};

use vnet_wire::flow::{VLAN_CFI, VLAN_VID_MASK};
use vnet_wire::FlowKey;

/// `now` units (milliseconds) per second, for timeouts given in seconds.
pub const MILLIS_PER_SEC: u64 = 1_000;
/// OpenFlow's default flow priority (`OFP_DEFAULT_PRIORITY`).
pub const DEFAULT_PRIORITY: u16 = 0x8000;
/// `table_id` meaning "all tables" in modify/delete requests (`OFPTT_ALL`).
pub const ALL_TABLES: u8 = 0xff;
/// `out_group` meaning "no group filter" (`OFPG_ANY`).
pub const ANY_GROUP: u32 = 0xffff_ffff;
/// `vlan_tci` bits holding the priority code point.
pub const VLAN_PCP_MASK: u16 = 0xe000;

pub const ETH_TYPE_IP: u16 = 0x0800;
pub const ETH_TYPE_ARP: u16 = 0x0806;
pub const ETH_TYPE_RARP: u16 = 0x8035;
pub const ETH_TYPE_IPV6: u16 = 0x86dd;
pub const ETH_TYPE_VLAN: u16 = 0x8100;
pub const ETH_TYPE_VLAN_8021AD: u16 = 0x88a8;
pub const ETH_TYPE_MPLS: u16 = 0x8847;
pub const ETH_TYPE_MPLS_MCAST: u16 = 0x8848;
pub const ETH_TYPE_PBB: u16 = 0x88e7;
/// `mpls_lse` sub-fields: label (20 bits) | TC (3) | BOS (1) | TTL (8).
pub const MPLS_LABEL_MASK: u32 = 0xffff_f000;
pub const MPLS_TC_MASK: u32 = 0x0000_0e00;
pub const MPLS_BOS_MASK: u32 = 0x0000_0100;
pub const MPLS_TTL_MASK: u32 = 0x0000_00ff;
pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ICMPV6: u8 = 58;
pub const IPPROTO_SCTP: u8 = 132;

/// An OpenFlow 1.3 port number, including the reserved ports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortNo(pub u32);

impl PortNo {
    /// First number past the physical/logical ports (`OFPP_MAX`).
    pub const MAX: PortNo = PortNo(0xffff_ff00);
    pub const IN_PORT: PortNo = PortNo(0xffff_fff8);
    pub const TABLE: PortNo = PortNo(0xffff_fff9);
    pub const NORMAL: PortNo = PortNo(0xffff_fffa);
    pub const FLOOD: PortNo = PortNo(0xffff_fffb);
    pub const ALL: PortNo = PortNo(0xffff_fffc);
    pub const CONTROLLER: PortNo = PortNo(0xffff_fffd);
    pub const LOCAL: PortNo = PortNo(0xffff_fffe);
    pub const ANY: PortNo = PortNo(0xffff_ffff);

    const NAMED: [(PortNo, &'static str); 8] = [
        (Self::IN_PORT, "IN_PORT"),
        (Self::TABLE, "TABLE"),
        (Self::NORMAL, "NORMAL"),
        (Self::FLOOD, "FLOOD"),
        (Self::ALL, "ALL"),
        (Self::CONTROLLER, "CONTROLLER"),
        (Self::LOCAL, "LOCAL"),
        (Self::ANY, "ANY"),
    ];

    /// True for numbers at or above `MAX` (reserved ports and the unused
    /// range just below them).
    pub fn is_reserved(self) -> bool {
        self >= Self::MAX
    }

    /// The ovs-ofctl name of a reserved port (`"LOCAL"`), if it has one.
    pub fn reserved_name(self) -> Option<&'static str> {
        Self::NAMED
            .iter()
            .find(|(p, _)| *p == self)
            .map(|(_, n)| *n)
    }

    /// The reserved port with this name, case-insensitively (`"local"`);
    /// `"NONE"` is accepted for ANY as ovs-ofctl does.
    pub fn from_reserved_name(name: &str) -> Option<PortNo> {
        if name.eq_ignore_ascii_case("none") {
            return Some(Self::ANY);
        }
        Self::NAMED
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(p, _)| *p)
    }
}

impl From<u32> for PortNo {
    fn from(n: u32) -> Self {
        PortNo(n)
    }
}

impl fmt::Display for PortNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reserved_name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

/// A header field `set_field` can write, with its value (OpenFlow 1.3 OXM
/// fields). `VlanVid` holds the 12-bit VID (the OXM present bit is implied).
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
            TunnelId(_) => "tun_id",
        }
    }

    /// What the packet must be for the field to exist.
    pub fn prerequisite(&self) -> Option<Prereq> {
        use Field::*;
        Some(match self {
            EthDst(_) | EthSrc(_) | TunnelId(_) => return None,
            VlanVid(_) | VlanPcp(_) => Prereq::Vlan,
            IpDscp(_) | IpEcn(_) => Prereq::Ip,
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
        })
    }

    /// The value, if out of the field's range.
    fn bad_value(&self) -> Option<u64> {
        use Field::*;
        let (v, max) = match *self {
            VlanVid(v) => (u64::from(v), 0xfff),
            VlanPcp(v) => (u64::from(v), 7),
            IpDscp(v) => (u64::from(v), 63),
            IpEcn(v) => (u64::from(v), 3),
            ArpOp(v) => (u64::from(v), 0xff),
            Ipv6Label(v) => (u64::from(v), 0xf_ffff),
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
    /// Push an outer tag with this TPID (0x8100 or 0x88a8), copying VID and
    /// PCP from the current outer tag if any.
    PushVlan(u16),
    PopVlan,
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
    #[error("{action} requires {}", needs.describe())]
    Prerequisite { action: &'static str, needs: Prereq },
    #[error("{value} is not a valid value for field {field}")]
    BadValue { field: &'static str, value: u64 },
}

impl Action {
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

/// An OpenFlow 1.3 instruction. A flow holds each kind at most once, in the
/// order of this enum's variants.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Instruction {
    Meter(u32),
    ApplyActions(Vec<Action>),
    ClearActions,
    WriteActions(Vec<Action>),
    WriteMetadata { value: u64, mask: u64 },
    GotoTable(u8),
}

impl Instruction {
    /// Position in the required order (0 = first).
    pub fn rank(&self) -> u8 {
        match self {
            Instruction::Meter(_) => 0,
            Instruction::ApplyActions(_) => 1,
            Instruction::ClearActions => 2,
            Instruction::WriteActions(_) => 3,
            Instruction::WriteMetadata { .. } => 4,
            Instruction::GotoTable(_) => 5,
        }
    }

    /// The ovs-ofctl name.
    pub fn name(&self) -> &'static str {
        [
            "meter",
            "apply_actions",
            "clear_actions",
            "write_actions",
            "write_metadata",
            "goto_table",
        ][usize::from(self.rank())]
    }
}

/// OpenFlow 1.3 flow-mod flags (`OFPFF_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowFlags(pub u16);

impl FlowFlags {
    pub const SEND_FLOW_REM: FlowFlags = FlowFlags(1 << 0);
    pub const CHECK_OVERLAP: FlowFlags = FlowFlags(1 << 1);
    pub const RESET_COUNTS: FlowFlags = FlowFlags(1 << 2);
    pub const NO_PKT_COUNTS: FlowFlags = FlowFlags(1 << 3);
    pub const NO_BYT_COUNTS: FlowFlags = FlowFlags(1 << 4);
    /// Each flag with its ovs-ofctl keyword, in printing order.
    pub const NAMES: [(FlowFlags, &'static str); 5] = [
        (Self::SEND_FLOW_REM, "send_flow_rem"),
        (Self::CHECK_OVERLAP, "check_overlap"),
        (Self::RESET_COUNTS, "reset_counts"),
        (Self::NO_PKT_COUNTS, "no_packet_counts"),
        (Self::NO_BYT_COUNTS, "no_byte_counts"),
    ];

    pub fn contains(self, other: FlowFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for FlowFlags {
    type Output = FlowFlags;
    fn bitor(self, o: FlowFlags) -> FlowFlags {
        FlowFlags(self.0 | o.0)
    }
}

impl std::ops::BitOrAssign for FlowFlags {
    fn bitor_assign(&mut self, o: FlowFlags) {
        self.0 |= o.0;
    }
}

/// A flow entry as a controller or ovs-ofctl states it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Flow {
    pub table_id: u8,
    pub priority: u16,
    pub r#match: Match,
    pub instructions: Vec<Instruction>,
    pub cookie: u64,
    /// Seconds without a packet before removal; 0 = never.
    pub idle_timeout: u16,
    /// Seconds after creation before removal; 0 = never.
    pub hard_timeout: u16,
    pub flags: FlowFlags,
}

impl Default for Flow {
    fn default() -> Flow {
        Flow {
            table_id: 0,
            priority: DEFAULT_PRIORITY,
            r#match: Match::catch_all(),
            instructions: Vec::new(),
            cookie: 0,
            idle_timeout: 0,
            hard_timeout: 0,
            flags: FlowFlags::default(),
        }
    }
}

/// Why a flow is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    Match(#[from] MatchError),
    #[error("invalid instruction ordering: {first} must appear before {second}")]
    InstructionOrder {
        first: &'static str,
        second: &'static str,
    },
    #[error("instruction {0} may be specified only once")]
    DuplicateInstruction(&'static str),
    #[error("goto_table:{to} in table {from}: goto_table must go to a later table")]
    GotoBackward { from: u8, to: u8 },
    /// `instruction` and `action` index `Flow::instructions` and the action
    /// list inside it.
    #[error("{problem}")]
    Action {
        instruction: usize,
        action: usize,
        problem: ActionError,
    },
}

impl FlowError {
    /// The OpenFlow 1.3 error (`type`, `code`) a FLOW_MOD refused for this
    /// reason gets.
    pub fn ofp_error(&self) -> (u16, u16) {
        const BAD_ACTION: u16 = 2;
        const BAD_INSTRUCTION: u16 = 3;
        const BAD_MATCH: u16 = 4;
        match self {
            FlowError::Match(MatchError::ValueOutsideMask { .. }) => (BAD_MATCH, 5), // BAD_WILDCARDS
            FlowError::Match(MatchError::BadMask { .. }) => (BAD_MATCH, 8),          // BAD_MASK
            FlowError::Match(MatchError::Prerequisite { .. }) => (BAD_MATCH, 9),     // BAD_PREREQ
            FlowError::InstructionOrder { .. } | FlowError::DuplicateInstruction(_) => {
                (BAD_INSTRUCTION, 1) // UNSUP_INST
            }
            FlowError::GotoBackward { .. } => (BAD_INSTRUCTION, 2), // BAD_TABLE_ID
            FlowError::Action { problem, .. } => match problem {
                ActionError::BadOutPort(_) => (BAD_ACTION, 4),
                ActionError::BadVlanTpid(_) => (BAD_ACTION, 5), // BAD_ARGUMENT
                ActionError::Prerequisite { .. } => (BAD_ACTION, 10), // MATCH_INCONSISTENT
                ActionError::BadValue { .. } => (BAD_ACTION, 15), // BAD_SET_ARGUMENT
            },
        }
    }
}

impl Flow {
    /// Checks every invariant in the module docs (the pipeline adds that
    /// the tables exist).
    pub fn validate(&self) -> Result<(), FlowError> {
        self.r#match.validate()?;
        let mut prev: Option<&Instruction> = None;
        let mut state = self.r#match;
        for (i, inst) in self.instructions.iter().enumerate() {
            if let Some(p) = prev {
                if p.rank() == inst.rank() {
                    return Err(FlowError::DuplicateInstruction(inst.name()));
                }
                if p.rank() > inst.rank() {
                    return Err(FlowError::InstructionOrder {
                        first: inst.name(),
                        second: p.name(),
                    });
                }
            }
            prev = Some(inst);
            let check_all = |actions: &[Action], state: &mut Match| {
                for (a, action) in actions.iter().enumerate() {
                    action.check(state).map_err(|problem| FlowError::Action {
                        instruction: i,
                        action: a,
                        problem,
                    })?;
                }
                Ok::<(), FlowError>(())
            };
            match inst {
                Instruction::ApplyActions(actions) => check_all(actions, &mut state)?,
                Instruction::WriteActions(actions) => {
                    let mut set_state = state;
                    check_all(actions, &mut set_state)?
                }
                Instruction::GotoTable(to) if *to <= self.table_id => {
                    return Err(FlowError::GotoBackward {
                        from: self.table_id,
                        to: *to,
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Every action, apply-actions first, then write-actions.
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.instructions.iter().flat_map(|i| match i {
            Instruction::ApplyActions(a) | Instruction::WriteActions(a) => a.as_slice(),
            _ => &[],
        })
    }

    /// Whether an action outputs to `port` (OpenFlow's `out_port` filter).
    pub fn outputs_to(&self, port: PortNo) -> bool {
        self.actions().any(|a| match *a {
            Action::Output(p) => p == port,
            Action::Controller { .. } => port == PortNo::CONTROLLER,
            _ => false,
        })
    }

    /// Whether an action sends to `group` (OpenFlow's `out_group` filter).
    pub fn uses_group(&self, group: u32) -> bool {
        self.actions().any(|a| *a == Action::Group(group))
    }

    /// The `goto_table` target, if any.
    pub fn goto_table(&self) -> Option<u8> {
        self.instructions.iter().find_map(|i| match i {
            Instruction::GotoTable(t) => Some(*t),
            _ => None,
        })
    }
}

/// A flow installed in a table, with its counters.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowEntry {
    pub flow: Flow,
    pub stats: Arc<FlowStats>,
}

/// How tables, snapshots and verdicts refer to an installed flow.
pub type FlowRef = Arc<FlowEntry>;

/// Why a flow left its table (`OFPRR_*`, for FLOW_REMOVED).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RemovedReason {
    IdleTimeout = 0,
    HardTimeout = 1,
    Delete = 2,
    GroupDelete = 3,
    MeterDelete = 4,
}

/// A flow removed from a table, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct RemovedFlow {
    pub entry: FlowRef,
    pub reason: RemovedReason,
}

/// FLOW_MOD commands (`OFPFC_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowModCommand {
    Add = 0,
    Modify = 1,
    ModifyStrict = 2,
    Delete = 3,
    DeleteStrict = 4,
}

/// A FLOW_MOD: a command and the flow it adds or selects.
///
/// For modify/delete, `flow.r#match` (and `flow.priority` when strict)
/// select flows, `flow.cookie`/`cookie_mask` filter them, and `out_port`/
/// `out_group` filter deletes. `flow.table_id` may be [`ALL_TABLES`] there.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FlowMod {
    pub command: FlowModCommand,
    pub flow: Flow,
    pub cookie_mask: u64,
    pub out_port: PortNo,
    pub out_group: u32,
}

impl FlowMod {
    /// An add of `flow`.
    pub fn add(flow: Flow) -> FlowMod {
        FlowMod {
            command: FlowModCommand::Add,
            flow,
            cookie_mask: 0,
            out_port: PortNo::ANY,
            out_group: ANY_GROUP,
        }
    }

    /// The selection this modify/delete applies to.
    pub fn selector(&self) -> FlowSelector {
        let strict = matches!(
            self.command,
            FlowModCommand::ModifyStrict | FlowModCommand::DeleteStrict
        );
        let deleting = matches!(
            self.command,
            FlowModCommand::Delete | FlowModCommand::DeleteStrict
        );
        FlowSelector {
            r#match: self.flow.r#match,
            priority: strict.then_some(self.flow.priority),
            cookie: self.flow.cookie,
            cookie_mask: self.cookie_mask,
            // OpenFlow 1.3: out_port/out_group are ignored by modify.
            out_port: if deleting { self.out_port } else { PortNo::ANY },
            out_group: if deleting { self.out_group } else { ANY_GROUP },
        }
    }
}

/// Which flows a modify, delete or stats request addresses.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FlowSelector {
    pub r#match: Match,
    /// `Some` = strict: only this priority and exactly this match.
    pub priority: Option<u16>,
    pub cookie: u64,
    pub cookie_mask: u64,
    /// [`PortNo::ANY`] = no filter.
    pub out_port: PortNo,
    /// [`ANY_GROUP`] = no filter.
    pub out_group: u32,
}

impl FlowSelector {
    /// Every flow.
    pub fn all() -> FlowSelector {
        FlowSelector {
            r#match: Match::catch_all(),
            priority: None,
            cookie: 0,
            cookie_mask: 0,
            out_port: PortNo::ANY,
            out_group: ANY_GROUP,
        }
    }

    pub fn selects(&self, flow: &Flow) -> bool {
        let by_match = match self.priority {
            Some(p) => p == flow.priority && self.r#match == flow.r#match,
            None => self.r#match.covers(&flow.r#match),
        };
        by_match
            && (flow.cookie ^ self.cookie) & self.cookie_mask == 0
            && (self.out_port == PortNo::ANY || flow.outputs_to(self.out_port))
            && (self.out_group == ANY_GROUP || flow.uses_group(self.out_group))
    }
}
