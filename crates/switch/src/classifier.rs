//! One OpenFlow flow table: tuple-space search over the installed flows.
//!
//! Flows are grouped by mask into *subtables*; each subtable is a hash table
//! keyed by the masked packet key, whose buckets hold the flows sharing that
//! masked key by descending priority. A lookup masks the packet key with each
//! subtable's mask in turn, visiting subtables by descending maximum priority
//! and stopping once no remaining subtable can beat the best match found.
//! [`FlowTable::lookup_with_wildcards`] also returns the union of the masks of
//! the subtables it visited: the bits the answer depended on, i.e. the mask
//! of a megaflow cache entry that is valid for every packet agreeing with
//! this one on those bits.
//!
//! Keys are handled as fixed arrays of 64-bit words ([`to_words`]); a
//! subtable hashes and compares only the words its mask touches.
//!
//! Semantics are OpenFlow 1.3's (`add` replaces an identical match+priority,
//! CHECK_OVERLAP, strict and non-strict modify/delete, cookie and out_port
//! filters). The table does not validate flows ([`Flow::validate`] does,
//! and the pipeline calls it) except for modify, whose new instructions are
//! checked against every selected flow before any is changed. Ties between
//! flows of equal priority that both match are broken deterministically
//! (subtable creation order), not by any OpenFlow rule.
//!
//! What it must never do: read a clock (time comes in as `now`), or let a
//! lookup allocate.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use vnet_wire::FlowKey;

use crate::flow::{
    Flow, FlowEntry, FlowError, FlowFlags, FlowRef, FlowSelector, FlowStats, Instruction, Match,
    RemovedFlow, RemovedReason, MILLIS_PER_SEC,
};

/// Number of 64-bit words in a [`FlowKey`] laid out by [`to_words`].
pub const KEY_WORDS: usize = 19;
type Words = [u64; KEY_WORDS];

/// Default bound on the flows one table holds.
pub const DEFAULT_MAX_FLOWS: usize = 1 << 20;

const HASH_SEED: u64 = 0x5eed_f10b_ca11_ab1e;

fn mac(a: [u8; 6]) -> u64 {
    u64::from_be_bytes([0, 0, a[0], a[1], a[2], a[3], a[4], a[5]])
}

fn unmac(w: u64) -> [u8; 6] {
    let b = w.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// `key` as words. The destructuring lists every field on purpose: a field
/// added to `FlowKey` must be given a place here (and in [`from_words`]).
#[inline]
pub fn to_words(key: &FlowKey) -> [u64; KEY_WORDS] {
    let FlowKey {
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
        tunnel_id,
    } = *key;
    [
        u64::from(in_port) << 32 | u64::from(dl_type) << 16 | u64::from(vlan_tci),
        metadata,
        mac(dl_dst) << 16 | u64::from(nw_proto) << 8 | u64::from(nw_tos),
        mac(dl_src) << 16 | u64::from(nw_ttl) << 8 | u64::from(nw_frag),
        u64::from(ipv4_src) << 32 | u64::from(ipv4_dst),
        u64::from(tp_src) << 48
            | u64::from(tp_dst) << 32
            | u64::from(tcp_flags) << 16
            | u64::from(ipv6_exthdr),
        (ipv6_src >> 64) as u64,
        ipv6_src as u64,
        (ipv6_dst >> 64) as u64,
        ipv6_dst as u64,
        u64::from(ipv6_label) << 32 | u64::from(mpls_lse),
        mac(arp_sha),
        mac(arp_tha),
        (nd_target >> 64) as u64,
        nd_target as u64,
        mac(nd_sll),
        mac(nd_tll),
        u64::from(pbb_isid),
        tunnel_id,
    ]
}

/// The inverse of [`to_words`].
pub fn from_words(w: &[u64; KEY_WORDS]) -> FlowKey {
    let u128_of = |hi: u64, lo: u64| u128::from(hi) << 64 | u128::from(lo);
    FlowKey {
        in_port: (w[0] >> 32) as u32,
        dl_type: (w[0] >> 16) as u16,
        vlan_tci: w[0] as u16,
        metadata: w[1],
        dl_dst: unmac(w[2] >> 16),
        nw_proto: (w[2] >> 8) as u8,
        nw_tos: w[2] as u8,
        dl_src: unmac(w[3] >> 16),
        nw_ttl: (w[3] >> 8) as u8,
        nw_frag: w[3] as u8,
        ipv4_src: (w[4] >> 32) as u32,
        ipv4_dst: w[4] as u32,
        tp_src: (w[5] >> 48) as u16,
        tp_dst: (w[5] >> 32) as u16,
        tcp_flags: (w[5] >> 16) as u16,
        ipv6_exthdr: w[5] as u16,
        ipv6_src: u128_of(w[6], w[7]),
        ipv6_dst: u128_of(w[8], w[9]),
        ipv6_label: (w[10] >> 32) as u32,
        mpls_lse: w[10] as u32,
        arp_sha: unmac(w[11]),
        arp_tha: unmac(w[12]),
        nd_target: u128_of(w[13], w[14]),
        nd_sll: unmac(w[15]),
        nd_tll: unmac(w[16]),
        pbb_isid: w[17] as u32,
        tunnel_id: w[18],
    }
}

/// Flows sharing one masked key, highest priority first. A bucket with no
/// flows is free (listed in `Subtable::free`).
#[derive(Clone, Debug)]
struct Bucket {
    hash: u64,
    key: Words,
    flows: Vec<FlowRef>,
}

/// What the hash index holds per bucket: small, so that probing stays in
/// cache; the bucket is read only when the full hash matches.
#[derive(Clone, Copy, Debug)]
struct IndexEntry {
    hash: u64,
    bucket: u32,
    /// Priority of the bucket's first flow.
    top: u16,
}

/// All flows with one mask.
#[derive(Clone, Debug)]
struct Subtable {
    mask: Words,
    /// Indices of the non-zero words of `mask`, `n_idx` of them.
    idx: [u8; KEY_WORDS],
    n_idx: u8,
    /// Creation order, for deterministic ordering among equal priorities.
    seq: u64,
    /// Flow count per priority; the last key is the maximum.
    priorities: BTreeMap<u16, usize>,
    index: HashTable<IndexEntry>,
    buckets: Vec<Bucket>,
    free: Vec<u32>,
}

impl Subtable {
    fn new(mask: Words, seq: u64) -> Subtable {
        let mut idx = [0u8; KEY_WORDS];
        let mut n_idx = 0;
        for (i, w) in mask.iter().enumerate() {
            if *w != 0 {
                idx[n_idx] = i as u8;
                n_idx += 1;
            }
        }
        Subtable {
            mask,
            idx,
            n_idx: n_idx as u8,
            seq,
            priorities: BTreeMap::new(),
            index: HashTable::new(),
            buckets: Vec::new(),
            free: Vec::new(),
        }
    }

    fn max_priority(&self) -> u16 {
        self.priorities.last_key_value().map_or(0, |(p, _)| *p)
    }

    fn words(&self) -> &[u8] {
        &self.idx[..usize::from(self.n_idx)]
    }

    /// The hash of `key` masked.
    #[inline]
    fn hash(&self, key: &Words, hasher: &FixedState) -> u64 {
        let mut h = hasher.build_hasher();
        for &i in self.words() {
            let i = usize::from(i);
            h.write_u64(key[i] & self.mask[i]);
        }
        h.finish()
    }

    /// Whether bucket `b` holds `key` (unmasked).
    #[inline]
    fn holds(&self, b: u32, key: &Words) -> bool {
        let bk = &self.buckets[b as usize].key;
        self.words()
            .iter()
            .all(|&i| bk[usize::from(i)] == key[usize::from(i)] & self.mask[usize::from(i)])
    }

    /// The index entry of the bucket holding `key` (unmasked).
    #[inline]
    fn find(&self, key: &Words, hasher: &FixedState) -> Option<&IndexEntry> {
        let hash = self.hash(key, hasher);
        self.index
            .find(hash, |e| e.hash == hash && self.holds(e.bucket, key))
    }

    /// The live buckets with their numbers.
    fn live(&self) -> impl Iterator<Item = (u32, &Bucket)> {
        self.buckets
            .iter()
            .enumerate()
            .filter(|(_, b)| !b.flows.is_empty())
            .map(|(i, b)| (i as u32, b))
    }

    /// Re-reads bucket `b`'s top priority into the index, or drops it from
    /// the index (and frees it) when empty.
    fn refresh(&mut self, b: u32) {
        let bucket = &self.buckets[b as usize];
        let hash = bucket.hash;
        let top = bucket.flows.first().map(|f| f.flow.priority);
        let Ok(entry) = self.index.find_entry(hash, |e| e.bucket == b) else {
            return;
        };
        match top {
            Some(top) => entry.into_mut().top = top,
            None => {
                entry.remove();
                self.free.push(b);
            }
        }
    }

    fn n_flows(&self) -> usize {
        self.priorities.values().sum()
    }
}

/// Why a table refused a change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error(
        "flow overlaps an existing flow of the same priority ({priority}) and check_overlap is set"
    )]
    Overlap { priority: u16 },
    #[error("table full ({max} flows)")]
    Full { max: usize },
    #[error(transparent)]
    Flow(#[from] FlowError),
}

impl TableError {
    /// The OpenFlow 1.3 error (`type`, `code`) for a FLOW_MOD refused so.
    pub fn ofp_error(&self) -> (u16, u16) {
        match self {
            TableError::Overlap { .. } => (5, 3), // FLOW_MOD_FAILED / OVERLAP
            TableError::Full { .. } => (5, 1),    // FLOW_MOD_FAILED / TABLE_FULL
            TableError::Flow(e) => e.ofp_error(),
        }
    }
}

/// Where a flow sits: subtable, bucket and priority.
#[derive(Clone, Copy)]
struct Slot {
    subtable: usize,
    bucket: u32,
    priority: u16,
}

/// One flow table (see the module docs).
#[derive(Clone)]
pub struct FlowTable {
    subtables: Vec<Subtable>,
    by_mask: HashMap<Words, usize>,
    /// (max priority, subtable index) by descending priority, then creation.
    order: Vec<(u16, u32)>,
    hasher: FixedState,
    n_flows: usize,
    /// Flows with an idle or hard timeout.
    n_timed: usize,
    next_seq: u64,
    max_flows: usize,
}

impl Default for FlowTable {
    fn default() -> FlowTable {
        FlowTable::new()
    }
}

impl fmt::Debug for FlowTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowTable")
            .field("flows", &self.n_flows)
            .field("subtables", &self.subtables.len())
            .field("max_flows", &self.max_flows)
            .finish()
    }
}

impl PartialEq for FlowTable {
    /// Same flows (entries compared whole, counters included).
    fn eq(&self, o: &FlowTable) -> bool {
        self.n_flows == o.n_flows
            && self.iter().all(|e| {
                o.find_strict(&e.flow.r#match, e.flow.priority)
                    .is_some_and(|f| **f == **e)
            })
    }
}

impl FlowTable {
    pub fn new() -> FlowTable {
        FlowTable {
            subtables: Vec::new(),
            by_mask: HashMap::new(),
            order: Vec::new(),
            hasher: FixedState::with_seed(HASH_SEED),
            n_flows: 0,
            n_timed: 0,
            next_seq: 0,
            max_flows: DEFAULT_MAX_FLOWS,
        }
    }

    /// Bounds the number of flows (adds beyond it fail with `Full`).
    pub fn set_max_flows(&mut self, max: usize) {
        self.max_flows = max;
    }

    pub fn len(&self) -> usize {
        self.n_flows
    }

    pub fn is_empty(&self) -> bool {
        self.n_flows == 0
    }

    /// Number of distinct masks.
    pub fn n_subtables(&self) -> usize {
        self.subtables.len()
    }

    /// The highest-priority flow matching `key`.
    #[inline]
    pub fn lookup(&self, key: &FlowKey) -> Option<&FlowRef> {
        self.search(&to_words(key), |_| {})
    }

    /// [`lookup`](Self::lookup), plus the union of the masks of the
    /// subtables consulted: the bits of `key` the answer depends on.
    pub fn lookup_with_wildcards(&self, key: &FlowKey) -> (Option<&FlowRef>, FlowKey) {
        let mut wc = [0u64; KEY_WORDS];
        let found = self.search(&to_words(key), |st| {
            for &j in st.words() {
                wc[usize::from(j)] |= st.mask[usize::from(j)];
            }
        });
        (found, from_words(&wc))
    }

    /// Tuple-space search; `visit` sees every subtable consulted.
    #[inline(always)]
    fn search(&self, w: &Words, mut visit: impl FnMut(&Subtable)) -> Option<&FlowRef> {
        let mut best: Option<(u16, usize, u32)> = None;
        for &(max, i) in &self.order {
            if best.is_some_and(|(top, _, _)| top >= max) {
                break;
            }
            let st = &self.subtables[i as usize];
            visit(st);
            if let Some(e) = st.find(w, &self.hasher) {
                if best.is_none_or(|(top, _, _)| e.top > top) {
                    best = Some((e.top, i as usize, e.bucket));
                }
            }
        }
        best.map(|(_, i, b)| &self.subtables[i].buckets[b as usize].flows[0])
    }

    /// The flow with exactly this match and priority.
    pub fn find_strict(&self, m: &Match, priority: u16) -> Option<&FlowRef> {
        let slot = self.slot_of(m, priority)?;
        let b = &self.subtables[slot.subtable].buckets[slot.bucket as usize];
        b.flows.iter().find(|f| f.flow.priority == priority)
    }

    /// Every flow, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &FlowRef> {
        self.subtables
            .iter()
            .flat_map(|st| st.buckets.iter().flat_map(|b| b.flows.iter()))
    }

    /// The flows `sel` selects (for flow-stats requests).
    pub fn select(&self, sel: &FlowSelector) -> Vec<&FlowRef> {
        let mut out = Vec::new();
        self.visit_selected(sel, |e, _| out.push(e));
        out
    }

    /// Adds a flow with OpenFlow 1.3 add semantics: refused with `Overlap`
    /// if CHECK_OVERLAP is set and a same-priority flow may match the same
    /// packet; otherwise replaces the flow with an identical match and
    /// priority (returned), carrying its counters over unless RESET_COUNTS.
    pub fn insert(&mut self, mut flow: Flow, now: u64) -> Result<Option<FlowRef>, TableError> {
        flow.r#match = Match::new(flow.r#match.key, flow.r#match.mask);
        let priority = flow.priority;
        if flow.flags.contains(FlowFlags::CHECK_OVERLAP) && self.overlaps(&flow.r#match, priority) {
            return Err(TableError::Overlap { priority });
        }
        let replacing = self.find_strict(&flow.r#match, priority).is_some();
        if !replacing && self.n_flows >= self.max_flows {
            return Err(TableError::Full {
                max: self.max_flows,
            });
        }
        let mask = to_words(&flow.r#match.mask);
        let mut new_subtable = false;
        let si = *self.by_mask.entry(mask).or_insert_with(|| {
            new_subtable = true;
            self.subtables.push(Subtable::new(mask, self.next_seq));
            self.next_seq += 1;
            self.subtables.len() - 1
        });
        let timed = flow.idle_timeout != 0 || flow.hard_timeout != 0;
        let st = &mut self.subtables[si];
        let key = to_words(&flow.r#match.key);
        let old_max = st.max_priority();
        let b = match st.find(&key, &self.hasher) {
            Some(e) => e.bucket,
            None => {
                let hash = st.hash(&key, &self.hasher);
                let bucket = Bucket {
                    hash,
                    key,
                    flows: Vec::new(),
                };
                let b = match st.free.pop() {
                    Some(b) => {
                        st.buckets[b as usize] = bucket;
                        b
                    }
                    None => {
                        st.buckets.push(bucket);
                        (st.buckets.len() - 1) as u32
                    }
                };
                st.index.insert_unique(
                    hash,
                    IndexEntry {
                        hash,
                        bucket: b,
                        top: priority,
                    },
                    |e| e.hash,
                );
                b
            }
        };
        let flows = &mut st.buckets[b as usize].flows;
        let pos = flows.partition_point(|f| f.flow.priority > priority);
        if replacing {
            let old = &flows[pos];
            let stats = if flow.flags.contains(FlowFlags::RESET_COUNTS) {
                FlowStats::new(now)
            } else {
                old.stats.carried_over(now)
            };
            let entry = Arc::new(FlowEntry {
                flow,
                stats: Arc::new(stats),
            });
            let old = std::mem::replace(&mut flows[pos], entry);
            let was_timed = old.flow.idle_timeout != 0 || old.flow.hard_timeout != 0;
            self.n_timed = self.n_timed + usize::from(timed) - usize::from(was_timed);
            return Ok(Some(old));
        }
        let stats = Arc::new(FlowStats::new(now));
        flows.insert(pos, Arc::new(FlowEntry { flow, stats }));
        st.refresh(b);
        *st.priorities.entry(priority).or_insert(0) += 1;
        let max_changed = st.max_priority() != old_max;
        self.n_flows += 1;
        self.n_timed += usize::from(timed);
        if new_subtable || max_changed {
            self.reorder();
        }
        Ok(None)
    }

    /// Whether a flow of `priority` overlapping `m` exists.
    fn overlaps(&self, m: &Match, priority: u16) -> bool {
        let (key, mask) = (to_words(&m.key), to_words(&m.mask));
        let candidates = self
            .subtables
            .iter()
            .filter(|st| st.priorities.contains_key(&priority));
        candidates.into_iter().any(|st| {
            st.live().any(|(_, b)| {
                (0..KEY_WORDS).all(|i| (b.key[i] ^ key[i]) & st.mask[i] & mask[i] == 0)
                    && b.flows.iter().any(|f| f.flow.priority == priority)
            })
        })
    }

    /// OpenFlow 1.3 modify: replaces the instructions of every flow `sel`
    /// selects, keeping counters (reset with `reset_counts`), cookie,
    /// timeouts and flags. All-or-nothing: if the new instructions are
    /// invalid for any selected flow, nothing changes. Returns the new
    /// entries.
    pub fn modify(
        &mut self,
        sel: &FlowSelector,
        instructions: &[Instruction],
        reset_counts: bool,
        now: u64,
    ) -> Result<Vec<FlowRef>, TableError> {
        let mut slots = Vec::new();
        let mut checked: Result<(), FlowError> = Ok(());
        self.visit_selected(sel, |e, slot| {
            if checked.is_ok() {
                checked = Flow {
                    instructions: instructions.to_vec(),
                    ..e.flow.clone()
                }
                .validate();
            }
            slots.push(slot);
        });
        checked?;
        let mut out = Vec::with_capacity(slots.len());
        for slot in slots {
            let b = &mut self.subtables[slot.subtable].buckets[slot.bucket as usize];
            let Some(f) = b
                .flows
                .iter_mut()
                .find(|f| f.flow.priority == slot.priority)
            else {
                continue;
            };
            let stats = if reset_counts {
                let fresh = FlowStats::new(f.stats.created());
                fresh.record(0, 0, now);
                Arc::new(fresh)
            } else {
                Arc::clone(&f.stats)
            };
            let flow = Flow {
                instructions: instructions.to_vec(),
                ..f.flow.clone()
            };
            *f = Arc::new(FlowEntry { flow, stats });
            out.push(Arc::clone(f));
        }
        Ok(out)
    }

    /// OpenFlow 1.3 delete: removes every flow `sel` selects.
    pub fn delete(&mut self, sel: &FlowSelector) -> Vec<FlowRef> {
        let mut slots = Vec::new();
        self.visit_selected(sel, |_, slot| slots.push(slot));
        self.remove_slots(&slots)
    }

    /// Removes the flows whose hard timeout (since creation) or idle timeout
    /// (since last use) has passed at `now`.
    pub fn expire(&mut self, now: u64) -> Vec<RemovedFlow> {
        let (slots, reasons) = self.expired(now);
        let removed = self.remove_slots(&slots);
        let pairs = removed.into_iter().zip(reasons);
        pairs
            .map(|(entry, reason)| RemovedFlow { entry, reason })
            .collect()
    }

    /// Whether [`expire`](Self::expire) would remove anything at `now`.
    pub fn has_expired(&self, now: u64) -> bool {
        !self.expired(now).0.is_empty()
    }

    fn expired(&self, now: u64) -> (Vec<Slot>, Vec<RemovedReason>) {
        let (mut slots, mut reasons) = (Vec::new(), Vec::new());
        if self.n_timed == 0 {
            return (slots, reasons);
        }
        let past = |since: u64, secs: u16| {
            secs != 0 && now.saturating_sub(since) >= u64::from(secs) * MILLIS_PER_SEC
        };
        for (si, st) in self.subtables.iter().enumerate() {
            for (bi, b) in st.live() {
                for f in &b.flows {
                    let reason = if past(f.stats.created(), f.flow.hard_timeout) {
                        RemovedReason::HardTimeout
                    } else if past(f.stats.last_used(), f.flow.idle_timeout) {
                        RemovedReason::IdleTimeout
                    } else {
                        continue;
                    };
                    slots.push(Slot {
                        subtable: si,
                        bucket: bi,
                        priority: f.flow.priority,
                    });
                    reasons.push(reason);
                }
            }
        }
        (slots, reasons)
    }

    /// Calls `f` on every flow `sel` selects, with its slot.
    fn visit_selected<'a>(&'a self, sel: &FlowSelector, mut f: impl FnMut(&'a FlowRef, Slot)) {
        if let Some(priority) = sel.priority {
            if let Some(slot) = self.slot_of(&sel.r#match, priority) {
                let b = &self.subtables[slot.subtable].buckets[slot.bucket as usize];
                if let Some(e) = b.flows.iter().find(|e| e.flow.priority == priority) {
                    if sel.selects(&e.flow) {
                        f(e, slot);
                    }
                }
            }
            return;
        }
        let (key, mask) = (to_words(&sel.r#match.key), to_words(&sel.r#match.mask));
        for (si, st) in self.subtables.iter().enumerate() {
            if (0..KEY_WORDS).any(|i| mask[i] & !st.mask[i] != 0) {
                continue; // the subtable's flows are less specific than sel
            }
            for (bi, b) in st.live() {
                if (0..KEY_WORDS).any(|i| b.key[i] & mask[i] != key[i]) {
                    continue;
                }
                for e in &b.flows {
                    if sel.selects(&e.flow) {
                        f(
                            e,
                            Slot {
                                subtable: si,
                                bucket: bi,
                                priority: e.flow.priority,
                            },
                        );
                    }
                }
            }
        }
    }

    fn slot_of(&self, m: &Match, priority: u16) -> Option<Slot> {
        let subtable = *self.by_mask.get(&to_words(&m.mask))?;
        let e = self.subtables[subtable].find(&to_words(&m.key), &self.hasher)?;
        Some(Slot {
            subtable,
            bucket: e.bucket,
            priority,
        })
    }

    fn remove_slots(&mut self, slots: &[Slot]) -> Vec<FlowRef> {
        let mut removed = Vec::with_capacity(slots.len());
        for slot in slots {
            let st = &mut self.subtables[slot.subtable];
            let flows = &mut st.buckets[slot.bucket as usize].flows;
            let Some(pos) = flows.iter().position(|f| f.flow.priority == slot.priority) else {
                continue;
            };
            let f = flows.remove(pos);
            if pos == 0 {
                st.refresh(slot.bucket);
            }
            if let Some(n) = st.priorities.get_mut(&slot.priority) {
                *n -= 1;
                if *n == 0 {
                    st.priorities.remove(&slot.priority);
                }
            }
            self.n_flows -= 1;
            self.n_timed -= usize::from(f.flow.idle_timeout != 0 || f.flow.hard_timeout != 0);
            removed.push(f);
        }
        if !removed.is_empty() {
            if self.subtables.iter().any(|st| st.priorities.is_empty()) {
                self.subtables.retain(|st| !st.priorities.is_empty());
                self.by_mask = self
                    .subtables
                    .iter()
                    .enumerate()
                    .map(|(i, st)| (st.mask, i))
                    .collect();
            }
            self.reorder();
        }
        removed
    }

    /// Rebuilds `order` from the subtables' maximum priorities.
    fn reorder(&mut self) {
        let mut order: Vec<(u16, u32)> = self
            .subtables
            .iter()
            .enumerate()
            .map(|(i, st)| (st.max_priority(), i as u32))
            .collect();
        order.sort_by_key(|&(max, i)| (std::cmp::Reverse(max), self.subtables[i as usize].seq));
        self.order = order;
    }

    /// Consistency check for tests: counts, orders, index and buckets.
    #[doc(hidden)]
    pub fn check_invariants(&self) {
        let mut n = 0;
        let mut timed = 0;
        for (i, st) in self.subtables.iter().enumerate() {
            assert_eq!(self.by_mask.get(&st.mask), Some(&i));
            assert!(!st.priorities.is_empty(), "empty subtable kept");
            assert_eq!(
                st.n_flows(),
                st.live().map(|(_, b)| b.flows.len()).sum::<usize>()
            );
            assert_eq!(st.index.len(), st.live().count());
            assert_eq!(st.index.len() + st.free.len(), st.buckets.len());
            for (bi, b) in st.live() {
                let e = st.find(&b.key, &self.hasher).expect("live bucket indexed");
                assert_eq!(
                    (e.bucket, e.hash, e.top),
                    (bi, b.hash, b.flows[0].flow.priority)
                );
                assert!(b
                    .flows
                    .windows(2)
                    .all(|w| w[0].flow.priority > w[1].flow.priority));
                for f in &b.flows {
                    assert_eq!(to_words(&f.flow.r#match.mask), st.mask);
                    timed += usize::from(f.flow.idle_timeout != 0 || f.flow.hard_timeout != 0);
                }
                n += b.flows.len();
            }
        }
        assert_eq!(n, self.n_flows);
        assert_eq!(timed, self.n_timed);
        assert_eq!(self.order.len(), self.subtables.len());
        assert!(self.order.windows(2).all(|w| w[0].0 >= w[1].0));
        for &(max, i) in &self.order {
            assert_eq!(self.subtables[i as usize].max_priority(), max);
        }
    }
}
