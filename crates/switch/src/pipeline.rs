//! The OpenFlow table pipeline: N flow tables, table-miss behaviour per
//! table, flow-mods applied across tables, and the walk of a packet key
//! through the tables that yields a [`Verdict`].
//!
//! Snapshots (RCU style): the control plane owns a working `Pipeline`,
//! applies flow-mods to it and publishes `Arc<Pipeline>` snapshots with
//! [`Pipeline::snapshot`]; datapath threads only ever read a snapshot.
//! Tables are `Arc`ed and cloned on write, and so are their parts (see
//! `classifier`): publishing copies a few pointers per table, and a
//! change after a snapshot copies only what it touches, O(sqrt(flows of
//! the mask)), not the table — so a snapshot per flow-mod (a barrier after
//! each, as `ovs-ofctl add-flows` sends them) stays cheap in a table of
//! 100k flows. Every change bumps [`Pipeline::version`], which caches built
//! from a snapshot carry. Flow counters live in `Arc<FlowStats>` shared by
//! all versions of an entry.
//!
//! Execution follows OpenFlow 1.3: apply-actions run at once (they change the
//! key later tables see: set_field, push_vlan, dec_ttl, MPLS TTLs;
//! write_metadata changes `metadata`), write-actions accumulate in the
//! action set ([`ActionSet`]), which is appended at the end in the spec's
//! order. A table miss drops, sends to the controller, hands to NORMAL, or
//! continues to the next table, as configured; a miss that ends processing
//! discards the action set.
//!
//! An apply-action whose effect on the key cannot be known from the key
//! (VLAN pop — an inner tag is not in the key —, MPLS and PBB push and
//! pop, copy_ttl_out) makes the key stale: if a goto_table follows, the
//! walk stops there with a [`Resume`] (the target table, metadata, tunnel
//! id and the action set so far), and the datapath, once the actions ran on
//! the frame, extracts its key again and asks [`Pipeline::resume`] for the
//! rest (Open vSwitch's recirculation). The first part's megaflow mask
//! holds only what it consulted; the rest is decided per new key.
//!
//! The pipeline also holds the group and meter tables (`groups` module):
//! a flow may only name groups and meters that exist, deleting a group or
//! meter removes the flows naming it, and every change to either bumps
//! the same `version` as a flow-mod, so caches never outlive them.
//!
//! What it must never do: read a clock, or let execution loop (goto_table
//! goes forward only, checked at insert).

mod groups;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use vnet_wire::flow::{VLAN_CFI, VLAN_VID_MASK};
use vnet_wire::FlowKey;

use crate::classifier::{from_words, to_words, FlowTable, TableError, KEY_WORDS};
pub(crate) use crate::flow::ActionSet;
use crate::flow::{
    Action, Field, FlowError, FlowFlags, FlowMod, FlowModCommand, FlowRef, Instruction, PortNo,
    RemovedFlow, RemovedReason, ALL_TABLES, MPLS_TTL_MASK, VLAN_PCP_MASK,
};
use crate::group::GroupEntry;
use crate::meter::MeterEntry;

/// Tables in a pipeline made by [`Pipeline::default`].
pub const DEFAULT_TABLES: usize = 254;
/// Most tables a pipeline can have (ids 0..=254; 255 means "all").
pub const MAX_TABLES: usize = 255;
/// OpenFlow's default `miss_send_len`.
pub const DEFAULT_MISS_SEND_LEN: u16 = 128;

/// What happens to a packet no flow in a table matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TableMiss {
    /// Drop (OpenFlow 1.3's behaviour without a table-miss flow).
    #[default]
    Drop,
    /// Packet-in to the controller (reason: no match), `max_len` bytes.
    Controller { max_len: u16 },
    /// Hand the packet to NORMAL (MAC learning switch).
    Normal,
    /// Go on to the next table (drop after the last).
    Continue,
}

/// The outcome of running a packet key through the pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Apply-actions in the order met, then the action set in OpenFlow's
    /// order; a final miss to the controller or NORMAL appends
    /// `Controller`/`Output(NORMAL)`. Empty = drop.
    pub actions: Vec<Action>,
    /// Every flow that matched, table by table (for counters).
    pub matched: Vec<FlowRef>,
    /// For each of `actions`: the pipeline context (metadata, tunnel id)
    /// when it runs — what a packet-in it makes reports.
    pub context: Vec<(u64, u64)>,
    /// Every table looked up, in order (for the table counters: a table
    /// in here without a flow in `matched` missed).
    pub looked_up: Vec<u8>,
    /// The key bits the verdict depends on: a megaflow mask.
    pub wildcards: FlowKey,
    /// The table whose miss ended processing, if one did.
    pub table_miss: Option<u8>,
    /// Meter instructions met, in order, each with the number of
    /// `actions` before it (it runs after those, before the rest).
    pub meters: Vec<(usize, u32)>,
    /// The flow whose write-actions put the action set's output there (the
    /// last to write one since a clear), for its packet-in.
    pub set_writer: Option<FlowRef>,
    /// Set when an apply-action restructured the packet (see
    /// [`Action::restructures`]) and a goto_table followed: `actions` end
    /// there, and the walk goes on from the packet's key as extracted
    /// again ([`Pipeline::resume`]).
    pub resume: Option<Resume>,
}

/// Where a walk through the tables goes on after an apply-action made the
/// key unknowable (MPLS or PBB push/pop, VLAN pop, TTL copy outwards):
/// everything of the walk that is not in the packet itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Resume {
    /// The goto_table target.
    pub table: u8,
    pub metadata: u64,
    pub tunnel_id: u64,
    /// The action set written so far.
    pub set: ActionSet,
    /// See [`Verdict::set_writer`].
    pub set_writer: Option<FlowRef>,
}

/// Why the pipeline refused a change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    #[error("table {table} does not exist (the pipeline has {n_tables} tables)")]
    BadTable { table: u8, n_tables: usize },
    #[error("goto_table:{to}: the pipeline has {n_tables} tables")]
    GotoPastEnd { to: u8, n_tables: usize },
    #[error("table {table}: {source}")]
    Table { table: u8, source: TableError },
    #[error("group {0} does not exist")]
    UnknownGroup(u32),
    #[error("meter {0} does not exist")]
    UnknownMeter(u32),
    /// No port has queues (see [`ActionError::BadQueue`]).
    ///
    /// [`ActionError::BadQueue`]: crate::flow::ActionError::BadQueue
    #[error("set_queue:{0}: this switch has no queues")]
    UnknownQueue(u32),
}

impl PipelineError {
    /// The OpenFlow 1.3 error (`type`, `code`) for a FLOW_MOD refused so.
    pub fn ofp_error(&self) -> (u16, u16) {
        match self {
            PipelineError::BadTable { .. } => (5, 2), // FLOW_MOD_FAILED / BAD_TABLE_ID
            PipelineError::GotoPastEnd { .. } => (3, 2), // BAD_INSTRUCTION / BAD_TABLE_ID
            PipelineError::Table { source, .. } => source.ofp_error(),
            PipelineError::UnknownGroup(_) => (2, 9), // BAD_ACTION / BAD_OUT_GROUP
            PipelineError::UnknownMeter(_) => (12, 3), // METER_MOD_FAILED / UNKNOWN_METER
            PipelineError::UnknownQueue(_) => (2, 8), // BAD_ACTION / BAD_QUEUE
        }
    }
}

/// What a flow-mod changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlowModOutcome {
    /// Add: the flow it replaced (same match and priority).
    pub replaced: Option<FlowRef>,
    /// Modify: the flows as they are now.
    pub modified: Vec<FlowRef>,
    /// Delete: the flows removed (reason `Delete`).
    pub removed: Vec<RemovedFlow>,
}

/// A table's TABLE_STATS counters: packets looked up in it, and those a
/// flow (a table-miss flow included) matched. Shared by every snapshot of
/// a pipeline, bumped by the datapath for every packet (cache hits
/// included).
#[derive(Debug, Default)]
pub struct TableCounters {
    lookups: AtomicU64,
    matched: AtomicU64,
}

impl TableCounters {
    pub fn lookups(&self) -> u64 {
        self.lookups.load(Ordering::Relaxed)
    }

    pub fn matched(&self) -> u64 {
        self.matched.load(Ordering::Relaxed)
    }

    pub fn record_lookup(&self) {
        self.lookups.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_match(&self) {
        self.matched.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counters are not part of what a pipeline is.
impl PartialEq for TableCounters {
    fn eq(&self, _: &TableCounters) -> bool {
        true
    }
}

/// N flow tables and their table-miss behaviour (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline {
    version: u64,
    tables: Vec<Arc<FlowTable>>,
    counters: Arc<[TableCounters]>,
    misses: Vec<TableMiss>,
    groups: Arc<BTreeMap<u32, Arc<GroupEntry>>>,
    meters: Arc<BTreeMap<u32, Arc<MeterEntry>>>,
}

impl Default for Pipeline {
    fn default() -> Pipeline {
        Pipeline::new(DEFAULT_TABLES)
    }
}

impl Pipeline {
    /// `n_tables` empty tables (clamped to 1..=255), all dropping on miss.
    pub fn new(n_tables: usize) -> Pipeline {
        let n = n_tables.clamp(1, MAX_TABLES);
        let empty = Arc::new(FlowTable::new());
        Pipeline {
            version: 1,
            tables: vec![empty; n],
            counters: (0..n).map(|_| TableCounters::default()).collect(),
            misses: vec![TableMiss::Drop; n],
            groups: Arc::default(),
            meters: Arc::default(),
        }
    }

    /// Bumped by every change; carried by snapshots.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn n_tables(&self) -> usize {
        self.tables.len()
    }

    pub fn table(&self, id: u8) -> Option<&FlowTable> {
        self.tables.get(usize::from(id)).map(|t| &**t)
    }

    /// Every table with its id.
    pub fn tables(&self) -> impl Iterator<Item = (u8, &FlowTable)> {
        self.tables.iter().enumerate().map(|(i, t)| (i as u8, &**t))
    }

    /// Every flow in every table.
    pub fn flows(&self) -> impl Iterator<Item = &FlowRef> {
        self.tables.iter().flat_map(|t| t.iter())
    }

    pub fn n_flows(&self) -> usize {
        self.tables.iter().map(|t| t.len()).sum()
    }

    /// Table `id`'s counters.
    pub fn table_counters(&self, id: u8) -> Option<&TableCounters> {
        self.counters.get(usize::from(id))
    }

    /// Every table's counters, by table id (shared, for the datapath).
    pub fn counters(&self) -> Arc<[TableCounters]> {
        Arc::clone(&self.counters)
    }

    pub fn table_miss(&self, id: u8) -> Option<TableMiss> {
        self.misses.get(usize::from(id)).copied()
    }

    pub fn set_table_miss(&mut self, id: u8, miss: TableMiss) -> Result<(), PipelineError> {
        let n_tables = self.tables.len();
        let slot = self
            .misses
            .get_mut(usize::from(id))
            .ok_or(PipelineError::BadTable {
                table: id,
                n_tables,
            })?;
        if *slot != miss {
            *slot = miss;
            self.version += 1;
        }
        Ok(())
    }

    /// Bounds the flows of every table.
    pub fn set_max_flows_per_table(&mut self, max: usize) {
        for t in &mut self.tables {
            Arc::make_mut(t).set_max_flows(max);
        }
        self.version += 1;
    }

    /// An immutable copy for the datapath.
    pub fn snapshot(&self) -> Arc<Pipeline> {
        Arc::new(self.clone())
    }

    /// Adds `flow` (a FLOW_MOD add); returns the flow it replaced.
    pub fn add_flow(
        &mut self,
        flow: crate::flow::Flow,
        now: u64,
    ) -> Result<Option<FlowRef>, PipelineError> {
        Ok(self.apply(&FlowMod::add(flow), now)?.replaced)
    }

    /// Applies a FLOW_MOD with OpenFlow 1.3 semantics. Validation happens
    /// before any change: a refused flow-mod changes nothing. A modify that
    /// selects no flow adds none (1.3 dropped 1.0's implicit add).
    pub fn apply(&mut self, fm: &FlowMod, now: u64) -> Result<FlowModOutcome, PipelineError> {
        let n_tables = self.tables.len();
        let table = fm.flow.table_id;
        let err = |source: TableError| PipelineError::Table { table, source };
        if let Some(to) = fm
            .flow
            .goto_table()
            .filter(|&to| usize::from(to) >= n_tables)
        {
            return Err(PipelineError::GotoPastEnd { to, n_tables });
        }
        if fm.command != FlowModCommand::Delete && fm.command != FlowModCommand::DeleteStrict {
            self.check_references(&fm.flow)?;
            check_queues(fm.flow.actions())?;
        }
        let targets: Vec<usize> = if table == ALL_TABLES && fm.command != FlowModCommand::Add {
            (0..n_tables).collect()
        } else if usize::from(table) < n_tables {
            vec![usize::from(table)]
        } else {
            return Err(PipelineError::BadTable { table, n_tables });
        };
        let mut out = FlowModOutcome::default();
        match fm.command {
            FlowModCommand::Add => {
                fm.flow.validate().map_err(|e| err(e.into()))?;
                out.replaced = Arc::make_mut(&mut self.tables[targets[0]])
                    .insert(fm.flow.clone(), now)
                    .map_err(err)?;
                self.version += 1;
            }
            FlowModCommand::Modify | FlowModCommand::ModifyStrict => {
                let sel = fm.selector();
                let mut selected = Vec::new();
                for &t in &targets {
                    let flows = self.tables[t].select(&sel);
                    for f in &flows {
                        let flow = crate::flow::Flow {
                            instructions: fm.flow.instructions.clone(),
                            ..f.flow.clone()
                        };
                        let table = t as u8;
                        flow.validate()
                            .map_err(|e: FlowError| PipelineError::Table {
                                table,
                                source: e.into(),
                            })?;
                    }
                    if !flows.is_empty() {
                        selected.push(t);
                    }
                }
                let reset = fm.flow.flags.contains(FlowFlags::RESET_COUNTS);
                for t in selected {
                    let table = Arc::make_mut(&mut self.tables[t]);
                    let modified = table
                        .modify(&sel, &fm.flow.instructions, reset, now)
                        .map_err(|source| PipelineError::Table {
                            table: t as u8,
                            source,
                        })?;
                    out.modified.extend(modified);
                }
                if !out.modified.is_empty() {
                    self.version += 1;
                }
            }
            FlowModCommand::Delete | FlowModCommand::DeleteStrict => {
                let sel = fm.selector();
                for t in targets {
                    if self.tables[t].select(&sel).is_empty() {
                        continue;
                    }
                    let removed = Arc::make_mut(&mut self.tables[t]).delete(&sel);
                    out.removed
                        .extend(removed.into_iter().map(|entry| RemovedFlow {
                            entry,
                            reason: RemovedReason::Delete,
                        }));
                }
                if !out.removed.is_empty() {
                    self.version += 1;
                }
            }
        }
        Ok(out)
    }

    /// Removes every flow whose idle or hard timeout has passed at `now`.
    pub fn expire(&mut self, now: u64) -> Vec<RemovedFlow> {
        let mut out = Vec::new();
        for t in &mut self.tables {
            if t.has_expired(now) {
                out.extend(Arc::make_mut(t).expire(now));
            }
        }
        if !out.is_empty() {
            self.version += 1;
        }
        out
    }

    /// Runs a packet with this key through the tables from table 0.
    pub fn execute(&self, key: &FlowKey) -> Verdict {
        self.walk(key, None)
    }

    /// Goes on with a walk that stopped at `r` (see [`Verdict::resume`]);
    /// `key` is the packet's key as extracted now (its `metadata` and
    /// `tunnel_id` are taken from `r`).
    pub fn resume(&self, key: &FlowKey, r: &Resume) -> Verdict {
        self.walk(key, Some(r))
    }

    fn walk(&self, key: &FlowKey, from: Option<&Resume>) -> Verdict {
        let mut key = *key;
        let mut wc = [0u64; KEY_WORDS];
        let mut extra = FlowKey::default();
        let mut v = Verdict {
            actions: Vec::new(),
            matched: Vec::new(),
            context: Vec::new(),
            looked_up: Vec::new(),
            wildcards: FlowKey::default(),
            table_miss: None,
            meters: Vec::new(),
            set_writer: None,
            resume: None,
        };
        let mut set = ActionSet::default();
        let mut t = 0usize;
        if let Some(r) = from {
            (key.metadata, key.tunnel_id) = (r.metadata, r.tunnel_id);
            (set, v.set_writer) = (r.set.clone(), r.set_writer.clone());
            t = usize::from(r.table);
        }
        // Set once an apply-action made `key` stale.
        let mut stale = false;
        let run_set = loop {
            let Some(table) = self.tables.get(t) else {
                break false;
            };
            v.looked_up.push(t as u8);
            let (hit, mask) = table.lookup_with_wildcards(&key);
            for (w, m) in wc.iter_mut().zip(to_words(&mask)) {
                *w |= m;
            }
            let Some(entry) = hit else {
                match self.misses[t] {
                    TableMiss::Continue if t + 1 < self.tables.len() => {
                        t += 1;
                        continue;
                    }
                    TableMiss::Drop | TableMiss::Continue => {}
                    TableMiss::Controller { max_len } => {
                        v.actions.push(Action::Controller { max_len })
                    }
                    TableMiss::Normal => v.actions.push(Action::Output(PortNo::NORMAL)),
                }
                v.table_miss = Some(t as u8);
                break false;
            };
            v.matched.push(Arc::clone(entry));
            let mut next = None;
            for inst in &entry.flow.instructions {
                match inst {
                    Instruction::Meter(m) => v.meters.push((v.actions.len(), *m)),
                    Instruction::ApplyActions(actions) => {
                        for a in actions {
                            if a.restructures() {
                                stale = true;
                            } else if !stale {
                                apply_to_key(a, &mut key, &mut extra);
                            } else if let Action::SetField(Field::TunnelId(id)) = a {
                                // Pipeline state, not in the packet.
                                key.tunnel_id = *id;
                            }
                            v.actions.push(*a);
                            v.context.push((key.metadata, key.tunnel_id));
                        }
                    }
                    Instruction::ClearActions => {
                        set = ActionSet::default();
                        v.set_writer = None;
                    }
                    Instruction::WriteActions(actions) => {
                        actions.iter().for_each(|a| set.write(*a));
                        if actions
                            .iter()
                            .any(|a| matches!(a, Action::Controller { .. } | Action::Output(_)))
                        {
                            v.set_writer = Some(Arc::clone(entry));
                        }
                    }
                    Instruction::WriteMetadata { value, mask } => {
                        key.metadata = (key.metadata & !mask) | (value & mask);
                    }
                    Instruction::GotoTable(n) => next = Some(usize::from(*n)),
                }
            }
            match next {
                Some(n) if n > t && n < self.tables.len() && stale => {
                    v.resume = Some(Resume {
                        table: n as u8,
                        metadata: key.metadata,
                        tunnel_id: key.tunnel_id,
                        set: std::mem::take(&mut set),
                        set_writer: v.set_writer.take(),
                    });
                    break false;
                }
                Some(n) if n > t && n < self.tables.len() => t = n,
                _ => break true,
            }
        };
        if run_set {
            set.append_to(&mut v.actions);
        }
        // The action set and a miss run with the context the walk ended with.
        v.context
            .resize(v.actions.len(), (key.metadata, key.tunnel_id));
        output_dependencies(&v.actions, &mut extra);
        for (w, m) in wc.iter_mut().zip(to_words(&extra)) {
            *w |= m;
        }
        v.wildcards = from_words(&wc);
        v
    }
}

/// Refuses `set_queue`: no port of this switch has queues (see
/// [`ActionError::BadQueue`](crate::flow::ActionError::BadQueue)).
pub fn check_queues<'a>(
    actions: impl IntoIterator<Item = &'a Action>,
) -> Result<(), PipelineError> {
    match actions.into_iter().find_map(|a| match a {
        Action::SetQueue(q) => Some(*q),
        _ => None,
    }) {
        Some(q) => Err(PipelineError::UnknownQueue(q)),
        None => Ok(()),
    }
}

/// Changes `key` as an apply-action changes the packet, so later tables
/// match the packet as it then is; marks in `wc` the original bits the
/// change depends on. Not for actions that [restructure] the packet.
///
/// [restructure]: Action::restructures
fn apply_to_key(a: &Action, key: &mut FlowKey, wc: &mut FlowKey) {
    match *a {
        Action::SetField(f) => f.apply(key),
        Action::PushVlan(_) => {
            wc.vlan_tci = !0;
            let inherited = if key.vlan_tci & VLAN_CFI != 0 {
                key.vlan_tci & (VLAN_VID_MASK | VLAN_PCP_MASK)
            } else {
                0
            };
            key.vlan_tci = VLAN_CFI | inherited;
        }
        Action::DecTtl => {
            (wc.nw_ttl, wc.dl_type) = (!0, !0);
            key.nw_ttl = key.nw_ttl.saturating_sub(1);
        }
        Action::SetNwTtl(ttl) => key.nw_ttl = ttl,
        Action::DecMplsTtl => {
            wc.mpls_lse |= MPLS_TTL_MASK;
            wc.dl_type = !0;
            let ttl = (key.mpls_lse & MPLS_TTL_MASK).saturating_sub(1);
            key.mpls_lse = key.mpls_lse & !MPLS_TTL_MASK | ttl;
        }
        Action::SetMplsTtl(ttl) => Field::MplsTtl(ttl).apply(key),
        // The outer header keeps its TTL; the inner one is not in the key.
        Action::CopyTtlIn => {}
        Action::PopVlan
        | Action::PushMpls(_)
        | Action::PopMpls(_)
        | Action::PushPbb(_)
        | Action::PopPbb
        | Action::CopyTtlOut => {}
        Action::Output(_) | Action::Controller { .. } | Action::Group(_) | Action::SetQueue(_) => {}
    }
}

/// Marks the key bits the datapath's handling of the final actions reads:
/// every output depends on `in_port` (no output back to the ingress port
/// unless IN_PORT), NORMAL also on the MACs and the VLAN.
fn output_dependencies(actions: &[Action], wc: &mut FlowKey) {
    for a in actions {
        match *a {
            Action::Output(p) => {
                wc.in_port = !0;
                if p == PortNo::NORMAL {
                    (wc.dl_src, wc.dl_dst, wc.vlan_tci) = ([0xff; 6], [0xff; 6], !0);
                }
            }
            // A group's buckets are resolved per packet by the datapath
            // (select hash, liveness): the decision itself depends on
            // nothing more than an output does.
            Action::Group(_) => wc.in_port = !0,
            _ => {}
        }
    }
}
