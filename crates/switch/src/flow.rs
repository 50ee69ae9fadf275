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
//!   tcp_src` needs tcp, `pop_mpls` and the MPLS TTL actions need MPLS,
//!   output to ANY/TABLE is refused; write-actions are checked in the order
//!   the action set runs them ([`ActionSet`], [`check_write_actions`]);
//! - output to the controller is always [`Action::Controller`], never
//!   `Output(PortNo::CONTROLLER)`.
//!
//! Time is passed in as `now`: monotonic milliseconds from an epoch the
//! caller picks (sans-I/O); nothing here reads a clock.

mod action;
mod action_set;
mod matching;
mod stats;

use std::fmt;
use std::sync::Arc;

pub use action::{check_write_actions, Action, ActionError, Field};
pub use action_set::ActionSet;
pub use matching::{Match, MatchError, Prereq};
pub use stats::{Counter, FlowStats};

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
            FlowError::Action { problem, .. } => (BAD_ACTION, problem.ofpbac_code()),
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
                // Checked as the action set runs them, not as written.
                Instruction::WriteActions(actions) => check_write_actions(actions, &state)
                    .map_err(|(action, problem)| FlowError::Action {
                        instruction: i,
                        action,
                        problem,
                    })?,
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
