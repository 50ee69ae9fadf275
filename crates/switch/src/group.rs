//! OpenFlow 1.3 groups: the model a GROUP_MOD translates to (a group's
//! type and buckets), the checks a group must pass on its own, the
//! counters shared with the datapath, and the compiled form the datapath
//! runs ([`GroupExec`]). The group table itself lives in the pipeline
//! (`pipeline::groups`), next to the flows that point at it, so that one
//! snapshot (one `version`) holds both.
//!
//! Semantics (OpenFlow 1.3.5, 5.6): ALL runs every live bucket on its own
//! copy of the packet; SELECT one live bucket picked by a hash of the
//! packet's headers, in proportion to the bucket weights; INDIRECT its one
//! bucket; FAST_FAILOVER the first live bucket. A bucket is live when its
//! watch port (if any) exists with its link up and its watch group (if
//! any) has a live bucket. A bucket's actions are an action set: at most
//! one action of each kind (one `set_field` per field), run in the spec's
//! order, a `group` action chaining to another group.
//!
//! Invariants checked here ([`Group::validate`]): a valid group number,
//! exactly one bucket for INDIRECT, weights only in SELECT groups, a watch
//! on every FAST_FAILOVER bucket and only on real ports, bucket actions
//! that make a valid action set and name no queue (there are none:
//! OFPBAC_BAD_QUEUE). What needs the other groups (references, loops,
//! chain depth) is checked by the pipeline.

use std::sync::Arc;

use crate::datapath::{Op, RewriteFn};
use crate::flow::{Action, ActionError, Counter, Match, PortNo, ANY_GROUP};

/// Largest ordinary group number (`OFPG_MAX`).
pub const MAX_GROUP: u32 = 0xffff_ff00;
/// "Every group" in a delete (`OFPG_ALL`).
pub const ALL_GROUPS: u32 = 0xffff_fffc;
/// Groups a switch holds at most.
pub const MAX_GROUPS: usize = 65_536;
/// Buckets a group holds at most.
pub const MAX_BUCKETS: usize = 256;
/// Longest chain of groups (a flow's group action counts 1).
pub const MAX_CHAIN: usize = 16;

/// `ofp_group_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupType {
    All = 0,
    Select = 1,
    Indirect = 2,
    FastFailover = 3,
}

impl GroupType {
    /// Every type, in `ofp_group_type` order.
    pub const TYPES: [GroupType; 4] = [
        GroupType::All,
        GroupType::Select,
        GroupType::Indirect,
        GroupType::FastFailover,
    ];

    /// The ovs-ofctl name (`ff` for fast failover).
    pub fn name(self) -> &'static str {
        match self {
            GroupType::All => "all",
            GroupType::Select => "select",
            GroupType::Indirect => "indirect",
            GroupType::FastFailover => "ff",
        }
    }

    /// The type named so (`fast_failover` too), case-insensitively.
    pub fn from_name(s: &str) -> Option<GroupType> {
        let s = s.to_ascii_lowercase();
        Some(match s.as_str() {
            "all" => GroupType::All,
            "select" => GroupType::Select,
            "indirect" => GroupType::Indirect,
            "ff" | "fast_failover" => GroupType::FastFailover,
            _ => return None,
        })
    }
}

/// One bucket (`ofp_bucket`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Bucket {
    /// Share of the traffic in a SELECT group; 0 elsewhere.
    pub weight: u16,
    /// [`PortNo::ANY`] = none.
    pub watch_port: PortNo,
    /// [`ANY_GROUP`] = none.
    pub watch_group: u32,
    /// An action set: at most one action of each kind.
    pub actions: Vec<Action>,
}

impl Bucket {
    /// A bucket with these actions, no weight and no watch.
    pub fn new(actions: Vec<Action>) -> Bucket {
        Bucket {
            weight: 0,
            watch_port: PortNo::ANY,
            watch_group: ANY_GROUP,
            actions,
        }
    }

    /// The group its `group` action chains to, if any.
    pub fn chained_group(&self) -> Option<u32> {
        self.actions.iter().find_map(|a| match a {
            Action::Group(g) => Some(*g),
            _ => None,
        })
    }
}

/// A group entry as a GROUP_MOD states it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Group {
    pub id: u32,
    pub group_type: GroupType,
    pub buckets: Vec<Bucket>,
}

/// `ofp_group_mod_command`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupModCommand {
    Add = 0,
    Modify = 1,
    Delete = 2,
}

/// A GROUP_MOD. For a delete only `group.id` counts ([`ALL_GROUPS`] for
/// every group).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupMod {
    pub command: GroupModCommand,
    pub group: Group,
}

/// Why a GROUP_MOD (or a flow naming a group) is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    #[error("group {0} already exists")]
    Exists(u32),
    #[error("group {id}: {reason}")]
    Invalid { id: u32, reason: String },
    #[error("group {0}: only select groups have bucket weights")]
    WeightUnsupported(u32),
    #[error("the group table is full ({MAX_GROUPS} groups)")]
    OutOfGroups,
    #[error("group {0}: more than {MAX_BUCKETS} buckets")]
    OutOfBuckets(u32),
    #[error("group {id}: chains of more than {MAX_CHAIN} groups are not supported")]
    ChainTooLong { id: u32 },
    #[error("group {0}: the change would make a loop of groups")]
    Loop(u32),
    #[error("group {0} does not exist")]
    Unknown(u32),
    #[error("group {id} is used by group {by}: delete or change that one first")]
    Chained { id: u32, by: u32 },
    #[error("group {id}, bucket {bucket}: {reason}")]
    BadBucket {
        id: u32,
        bucket: usize,
        reason: String,
    },
    #[error("group {id}, bucket {bucket}: {reason}")]
    BadWatch {
        id: u32,
        bucket: usize,
        reason: String,
    },
    #[error("group {id}, bucket {bucket}: {problem}")]
    BadAction {
        id: u32,
        bucket: usize,
        problem: ActionError,
    },
    #[error("group {id}, bucket {bucket}: group {to} does not exist")]
    UnknownOutGroup { id: u32, bucket: usize, to: u32 },
}

impl GroupError {
    /// The OpenFlow 1.3 error (`type`, `code`) a GROUP_MOD refused for
    /// this reason gets.
    pub fn ofp_error(&self) -> (u16, u16) {
        const GROUP_MOD_FAILED: u16 = 6;
        const BAD_ACTION: u16 = 2;
        let code = match self {
            GroupError::Exists(_) => 0,
            GroupError::Invalid { .. } => 1,
            GroupError::WeightUnsupported(_) => 2,
            GroupError::OutOfGroups => 3,
            GroupError::OutOfBuckets(_) => 4,
            GroupError::ChainTooLong { .. } => 5, // CHAINING_UNSUPPORTED
            GroupError::Loop(_) => 7,
            GroupError::Unknown(_) => 8,
            GroupError::Chained { .. } => 9,
            GroupError::BadBucket { .. } => 12,
            GroupError::BadWatch { .. } => 13,
            GroupError::BadAction { problem, .. } => {
                return (BAD_ACTION, action_error_code(problem))
            }
            GroupError::UnknownOutGroup { .. } => return (BAD_ACTION, 9), // BAD_OUT_GROUP
        };
        (GROUP_MOD_FAILED, code)
    }
}

/// The `OFPBAC_*` code of an action refused inside a bucket.
fn action_error_code(e: &ActionError) -> u16 {
    e.ofpbac_code()
}

type Slot = (
    std::mem::Discriminant<Action>,
    Option<std::mem::Discriminant<crate::flow::Field>>,
);

/// The kind of an action in an action set (one of each per set; output
/// and controller are one kind).
fn set_slot(a: &Action) -> Slot {
    use std::mem::discriminant;
    match a {
        Action::Controller { .. } => (discriminant(&Action::Output(PortNo::ANY)), None),
        Action::SetField(f) => (discriminant(a), Some(discriminant(f))),
        _ => (discriminant(a), None),
    }
}

impl Group {
    /// Every group this one refers to: chained through a bucket's `group`
    /// action or watched.
    pub fn referenced_groups(&self) -> impl Iterator<Item = u32> + '_ {
        self.buckets.iter().flat_map(|b| {
            b.chained_group()
                .into_iter()
                .chain((b.watch_group != ANY_GROUP).then_some(b.watch_group))
        })
    }

    /// The checks a group passes on its own (see the module docs).
    pub fn validate(&self) -> Result<(), GroupError> {
        let id = self.id;
        if id > MAX_GROUP {
            return Err(GroupError::Invalid {
                id,
                reason: format!("{id:#x} is a reserved group number"),
            });
        }
        if self.buckets.len() > MAX_BUCKETS {
            return Err(GroupError::OutOfBuckets(id));
        }
        if self.group_type == GroupType::Indirect && self.buckets.len() != 1 {
            return Err(GroupError::Invalid {
                id,
                reason: format!(
                    "an indirect group has exactly one bucket, not {}",
                    self.buckets.len()
                ),
            });
        }
        for (i, b) in self.buckets.iter().enumerate() {
            if b.weight != 0 && self.group_type != GroupType::Select {
                return Err(GroupError::WeightUnsupported(id));
            }
            let bad_watch = |reason: String| GroupError::BadWatch {
                id,
                bucket: i,
                reason,
            };
            let p = b.watch_port;
            if p != PortNo::ANY && p >= PortNo::MAX && p != PortNo::LOCAL {
                return Err(bad_watch(format!("cannot watch port {p}")));
            }
            if b.watch_group != ANY_GROUP && b.watch_group > MAX_GROUP {
                return Err(bad_watch(format!(
                    "cannot watch group {:#x}",
                    b.watch_group
                )));
            }
            if b.watch_group == id {
                return Err(GroupError::Loop(id));
            }
            if self.group_type == GroupType::FastFailover
                && p == PortNo::ANY
                && b.watch_group == ANY_GROUP
            {
                return Err(bad_watch(
                    "a fast-failover bucket needs a watch_port or a watch_group".into(),
                ));
            }
            check_bucket_actions(id, i, &b.actions)?;
        }
        Ok(())
    }
}

/// A bucket's actions: valid each (values, ports), and an action set (one
/// of each kind, no output beside a group action). Header prerequisites
/// are not checked: a group does not know the flows that will use it, and
/// a rewrite of a header the packet lacks leaves it unchanged.
fn check_bucket_actions(id: u32, bucket: usize, actions: &[Action]) -> Result<(), GroupError> {
    let bad = |reason: String| GroupError::BadBucket { id, bucket, reason };
    let mut seen = Vec::new();
    for a in actions {
        let mut state = Match::catch_all();
        match a.check(&mut state) {
            Ok(()) | Err(ActionError::Prerequisite { .. }) => {}
            Err(problem) => {
                return Err(GroupError::BadAction {
                    id,
                    bucket,
                    problem,
                })
            }
        }
        if let Action::SetQueue(q) = a {
            return Err(GroupError::BadAction {
                id,
                bucket,
                problem: ActionError::BadQueue(*q),
            });
        }
        if let Action::Group(to) = a {
            if *to > MAX_GROUP {
                return Err(GroupError::UnknownOutGroup {
                    id,
                    bucket,
                    to: *to,
                });
            }
            if *to == id {
                return Err(GroupError::Loop(id));
            }
        }
        let slot = set_slot(a);
        if seen.contains(&slot) {
            return Err(bad(format!(
                "two actions of one kind ({}): a bucket's actions are an action set",
                crate::ofctl::format_action(a, &crate::ofctl::no_port_labels)
            )));
        }
        seen.push(slot);
    }
    let has = |a: Action| seen.contains(&set_slot(&a));
    if has(Action::Group(0)) && has(Action::Output(PortNo::ANY)) {
        return Err(bad(
            "an output beside a group action would be ignored (action set)".into(),
        ));
    }
    Ok(())
}

/// A group in the table: what was stated, since when, its counters, and
/// the compiled form the datapath runs.
pub struct GroupEntry {
    pub group: Group,
    /// `now` of the add (a modify keeps it).
    pub created: u64,
    /// Packets and bytes the group processed (kept by a modify).
    pub counter: Arc<Counter>,
    /// One per bucket (new buckets start at zero).
    pub bucket_counters: Vec<Arc<Counter>>,
    pub exec: Arc<GroupExec>,
}

impl std::fmt::Debug for GroupEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupEntry")
            .field("group", &self.group)
            .field("created", &self.created)
            .finish()
    }
}

impl PartialEq for GroupEntry {
    fn eq(&self, o: &GroupEntry) -> bool {
        self.group == o.group && self.created == o.created
    }
}

impl GroupEntry {
    /// A new entry for a valid group, created at `now` (counters from
    /// `previous` when it replaces one).
    pub fn new(group: Group, now: u64, previous: Option<&GroupEntry>) -> GroupEntry {
        let (created, counter) = match previous {
            Some(p) => (p.created, Arc::clone(&p.counter)),
            None => (now, Arc::new(Counter::default())),
        };
        let bucket_counters: Vec<Arc<Counter>> = group
            .buckets
            .iter()
            .map(|_| Arc::new(Counter::default()))
            .collect();
        let exec = Arc::new(GroupExec::compile(&group, &counter, &bucket_counters));
        GroupEntry {
            group,
            created,
            counter,
            bucket_counters,
            exec,
        }
    }
}

/// A bucket as the datapath runs it.
pub struct BucketExec {
    pub weight: u16,
    /// `PortNo::ANY.0` = none.
    pub watch_port: u32,
    /// [`ANY_GROUP`] = none.
    pub watch_group: u32,
    /// The action set, in the order the spec runs it.
    pub ops: Vec<Op>,
    pub rewrites: Vec<RewriteFn>,
    pub counter: Arc<Counter>,
}

/// A group as the datapath runs it (see `datapath::groups`).
pub struct GroupExec {
    pub id: u32,
    pub group_type: GroupType,
    pub buckets: Vec<BucketExec>,
    pub counter: Arc<Counter>,
}

impl std::fmt::Debug for GroupExec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupExec")
            .field("id", &self.id)
            .field("group_type", &self.group_type)
            .field("buckets", &self.buckets.len())
            .finish()
    }
}

impl GroupExec {
    fn compile(group: &Group, counter: &Arc<Counter>, buckets: &[Arc<Counter>]) -> GroupExec {
        GroupExec {
            id: group.id,
            group_type: group.group_type,
            counter: Arc::clone(counter),
            buckets: group
                .buckets
                .iter()
                .zip(buckets)
                .map(|(b, c)| {
                    let ordered = crate::flow::ActionSet::of(&b.actions).ordered();
                    let (ops, rewrites) = crate::rules::compile(&ordered);
                    BucketExec {
                        weight: b.weight,
                        watch_port: b.watch_port.0,
                        watch_group: b.watch_group,
                        ops,
                        rewrites,
                        counter: Arc::clone(c),
                    }
                })
                .collect(),
        }
    }
}
