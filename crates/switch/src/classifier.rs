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
//! Copy on write, for cheap snapshots: a table is cloned for every
//! snapshot the datapath gets (see `pipeline`), and changed after. So each
//! subtable's hash index is split by hash into `Arc`ed shards (one up to
//! 512 buckets, then about `buckets / 512`, at most about `sqrt(buckets)`),
//! and buckets are `Arc`ed: cloning a table copies each subtable's shard
//! pointers, and a change then copies the one shard it touches (bucket
//! pointers), never the table: O(masks + sqrt(flows of the mask)) per
//! change instead of O(flows). Subtables stay inline in the table (not
//! `Arc`ed): one pointer less to follow per subtable on every lookup.
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

use std::collections::HashMap;
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

/// Flows sharing one masked key, highest priority first (never empty).
#[derive(Clone, Debug)]
struct Bucket {
    /// Priority of the first flow.
    top: u16,
    /// The masked key.
    key: Words,
    flows: Vec<FlowRef>,
}

/// What the hash index holds per bucket: the full hash, so that probing
/// reads the bucket only when it matches, and the bucket, `Arc`ed so that
/// copying a shard copies pointers, not keys.
#[derive(Clone, Debug)]
struct Entry {
    hash: u64,
    b: Arc<Bucket>,
}

/// Part of a subtable's hash index: the buckets whose hash selects it.
#[derive(Clone, Debug, Default)]
struct Shard {
    index: HashTable<Entry>,
    /// The highest `top` among the buckets (0 when empty); may be too
    /// high after a removal (then `stale`) until [`Subtable::settle`].
    max: u16,
    stale: bool,
}

/// Fewest buckets a shard is meant to hold before a subtable splits.
const MIN_SHARD: usize = 512;

/// All flows with one mask.
///
/// The hash index is split into `shards.len()` (a power of two) `Arc`ed
/// shards chosen by hash bits 32 and up (hashbrown uses the low and top
/// bits within a shard), so a change while a snapshot is outstanding
/// copies one shard, not the subtable.
#[derive(Clone, Debug)]
struct Subtable {
    mask: Words,
    /// Indices of the non-zero words of `mask`, `n_idx` of them.
    idx: [u8; KEY_WORDS],
    n_idx: u8,
    /// Creation order, for deterministic ordering among equal priorities.
    seq: u64,
    shards: Vec<Arc<Shard>>,
    n_buckets: usize,
    n_flows: usize,
    /// The highest priority of any flow (0 when empty); see `Shard::max`.
    max: u16,
    /// Whether a removal may have left `max` or a shard's `max` stale.
    stale: bool,
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
            shards: vec![Arc::new(Shard::default())],
            n_buckets: 0,
            n_flows: 0,
            max: 0,
            stale: false,
        }
    }

    fn max_priority(&self) -> u16 {
        self.max
    }

    #[inline]
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

    #[inline]
    fn shard_of(hash: u64, n_shards: usize) -> usize {
        (hash >> 32) as usize & (n_shards - 1)
    }

    /// Whether `b` holds `key` (unmasked).
    #[inline]
    fn holds(&self, b: &Bucket, key: &Words) -> bool {
        self.words()
            .iter()
            .all(|&i| b.key[usize::from(i)] == key[usize::from(i)] & self.mask[usize::from(i)])
    }

    /// The bucket holding `key` (unmasked).
    #[inline]
    fn find(&self, key: &Words, hasher: &FixedState) -> Option<&Bucket> {
        let hash = self.hash(key, hasher);
        let shard = &self.shards[Self::shard_of(hash, self.shards.len())];
        shard
            .index
            .find(hash, |e| e.hash == hash && self.holds(&e.b, key))
            .map(|e| &*e.b)
    }

    /// Every bucket.
    fn buckets(&self) -> impl Iterator<Item = &Bucket> {
        self.shards
            .iter()
            .flat_map(|s| s.index.iter().map(|e| &*e.b))
    }

    /// Adds `f` under `key` (masked), replacing the flow of the same
    /// priority there (returned).
    fn put(&mut self, key: Words, f: FlowRef, hasher: &FixedState) -> Option<FlowRef> {
        let hash = self.hash(&key, hasher);
        let p = f.flow.priority;
        let n_shards = self.shards.len();
        let shard = Arc::make_mut(&mut self.shards[Self::shard_of(hash, n_shards)]);
        match shard
            .index
            .find_mut(hash, |e| e.hash == hash && e.b.key == key)
        {
            Some(e) => {
                let b = Arc::make_mut(&mut e.b);
                let pos = b.flows.partition_point(|g| g.flow.priority > p);
                if b.flows.get(pos).is_some_and(|g| g.flow.priority == p) {
                    return Some(std::mem::replace(&mut b.flows[pos], f));
                }
                b.flows.insert(pos, f);
                b.top = b.flows[0].flow.priority;
            }
            None => {
                let b = Arc::new(Bucket {
                    top: p,
                    key,
                    flows: vec![f],
                });
                shard
                    .index
                    .insert_unique(hash, Entry { hash, b }, |e| e.hash);
                self.n_buckets += 1;
            }
        }
        shard.max = shard.max.max(p);
        self.max = self.max.max(p);
        self.n_flows += 1;
        if self.n_buckets > n_shards * (2 * n_shards).max(MIN_SHARD) {
            self.split();
        }
        None
    }

    /// Doubles the number of shards.
    fn split(&mut self) {
        let n = self.shards.len() * 2;
        let mut shards = vec![Shard::default(); n];
        for e in self.shards.iter().flat_map(|s| s.index.iter()) {
            let s = &mut shards[Self::shard_of(e.hash, n)];
            s.index.insert_unique(e.hash, e.clone(), |e| e.hash);
            s.max = s.max.max(e.b.top);
        }
        self.shards = shards.into_iter().map(Arc::new).collect();
    }

    /// Calls `f` on the flow of `priority` under `key` (masked) and puts
    /// what it returns in its place; returns that.
    fn update(
        &mut self,
        key: &Words,
        priority: u16,
        hasher: &FixedState,
        f: impl FnOnce(&FlowRef) -> FlowRef,
    ) -> Option<FlowRef> {
        let hash = self.hash(key, hasher);
        let si = Self::shard_of(hash, self.shards.len());
        let e = self.shards[si]
            .index
            .find(hash, |e| e.hash == hash && e.b.key == *key)?;
        let pos = e.b.flows.iter().position(|g| g.flow.priority == priority)?;
        let shard = Arc::make_mut(&mut self.shards[si]);
        let e = shard
            .index
            .find_mut(hash, |e| e.hash == hash && e.b.key == *key)?;
        let b = Arc::make_mut(&mut e.b);
        let new = f(&b.flows[pos]);
        b.flows[pos] = Arc::clone(&new);
        Some(new)
    }

    /// Removes the flow of `priority` under `key` (masked). Leaves the
    /// maxima to [`settle`](Self::settle).
    fn remove(&mut self, key: &Words, priority: u16, hasher: &FixedState) -> Option<FlowRef> {
        let hash = self.hash(key, hasher);
        let si = Self::shard_of(hash, self.shards.len());
        let e = self.shards[si]
            .index
            .find(hash, |e| e.hash == hash && e.b.key == *key)?;
        let pos = e.b.flows.iter().position(|g| g.flow.priority == priority)?;
        let shard = Arc::make_mut(&mut self.shards[si]);
        let Ok(mut entry) = shard
            .index
            .find_entry(hash, |e| e.hash == hash && e.b.key == *key)
        else {
            return None;
        };
        let b = Arc::make_mut(&mut entry.get_mut().b);
        let f = b.flows.remove(pos);
        match b.flows.first() {
            Some(first) => b.top = first.flow.priority,
            None => {
                entry.remove();
                self.n_buckets -= 1;
            }
        }
        self.n_flows -= 1;
        if priority >= shard.max {
            shard.stale = true;
            self.stale = true;
        }
        Some(f)
    }

    /// Brings the maxima up to date after removals.
    fn settle(&mut self) {
        if !std::mem::take(&mut self.stale) {
            return;
        }
        for s in &mut self.shards {
            if s.stale {
                // Made unique by the removal that set `stale`: no copy.
                let s = Arc::make_mut(s);
                s.max = s.index.iter().map(|e| e.b.top).max().unwrap_or(0);
                s.stale = false;
            }
        }
        self.max = self.shards.iter().map(|s| s.max).max().unwrap_or(0);
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

/// Where a flow sits: subtable, masked key and priority.
#[derive(Clone, Copy)]
struct Slot {
    subtable: usize,
    key: Words,
    priority: u16,
}

/// One flow table (see the module docs).
///
/// Cloning is cheap and so is changing a clone: subtables' shards are
/// `Arc`ed and copied on write, so a change after a snapshot copies only
/// the shards it touches (see the module docs).
#[derive(Clone)]
pub struct FlowTable {
    subtables: Vec<Subtable>,
    by_mask: Arc<HashMap<Words, usize>>,
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

fn is_timed(f: &Flow) -> bool {
    f.idle_timeout != 0 || f.hard_timeout != 0
}

impl FlowTable {
    pub fn new() -> FlowTable {
        FlowTable {
            subtables: Vec::new(),
            by_mask: Arc::new(HashMap::new()),
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
        let mut best: Option<&Bucket> = None;
        for &(max, i) in &self.order {
            if best.is_some_and(|b| b.top >= max) {
                break;
            }
            let st = &self.subtables[i as usize];
            visit(st);
            if let Some(b) = st.find(w, &self.hasher) {
                if best.is_none_or(|best| b.top > best.top) {
                    best = Some(b);
                }
            }
        }
        best.map(|b| &b.flows[0])
    }

    /// The bucket holding match `m`'s key in its subtable.
    fn bucket_of(&self, m: &Match) -> Option<(usize, &Bucket)> {
        let si = *self.by_mask.get(&to_words(&m.mask))?;
        let b = self.subtables[si].find(&to_words(&m.key), &self.hasher)?;
        Some((si, b))
    }

    /// The flow with exactly this match and priority.
    pub fn find_strict(&self, m: &Match, priority: u16) -> Option<&FlowRef> {
        let (_, b) = self.bucket_of(m)?;
        b.flows.iter().find(|f| f.flow.priority == priority)
    }

    /// Every flow, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &FlowRef> {
        self.subtables
            .iter()
            .flat_map(|st| st.buckets().flat_map(|b| b.flows.iter()))
    }

    /// The flows `sel` selects (for flow-stats requests).
    pub fn select(&self, sel: &FlowSelector) -> Vec<&FlowRef> {
        let mut out = Vec::new();
        self.visit_selected(sel, |e, _, _| out.push(e));
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
        let old_stats = self
            .find_strict(&flow.r#match, priority)
            .map(|f| Arc::clone(&f.stats));
        if old_stats.is_none() && self.n_flows >= self.max_flows {
            return Err(TableError::Full {
                max: self.max_flows,
            });
        }
        let stats = match old_stats {
            Some(_) if flow.flags.contains(FlowFlags::RESET_COUNTS) => FlowStats::new(now),
            Some(old) => old.carried_over(now),
            None => FlowStats::new(now),
        };
        let mask = to_words(&flow.r#match.mask);
        let key = to_words(&flow.r#match.key);
        let timed = is_timed(&flow);
        let entry = Arc::new(FlowEntry {
            flow,
            stats: Arc::new(stats),
        });
        let mut new_subtable = false;
        let si = match self.by_mask.get(&mask) {
            Some(&si) => si,
            None => {
                new_subtable = true;
                let si = self.subtables.len();
                self.subtables.push(Subtable::new(mask, self.next_seq));
                self.next_seq += 1;
                Arc::make_mut(&mut self.by_mask).insert(mask, si);
                si
            }
        };
        let st = &mut self.subtables[si];
        let old_max = st.max_priority();
        if let Some(old) = st.put(key, entry, &self.hasher) {
            self.n_timed = self.n_timed + usize::from(timed) - usize::from(is_timed(&old.flow));
            return Ok(Some(old));
        }
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
            .filter(|st| st.max_priority() >= priority);
        candidates.into_iter().any(|st| {
            st.buckets().any(|b| {
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
        self.visit_selected(sel, |e, subtable, key| {
            if checked.is_ok() {
                checked = Flow {
                    instructions: instructions.to_vec(),
                    ..e.flow.clone()
                }
                .validate();
            }
            slots.push(Slot {
                subtable,
                key: *key,
                priority: e.flow.priority,
            });
        });
        checked?;
        let mut out = Vec::with_capacity(slots.len());
        for slot in slots {
            let st = &mut self.subtables[slot.subtable];
            let new = st.update(&slot.key, slot.priority, &self.hasher, |f| {
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
                Arc::new(FlowEntry { flow, stats })
            });
            out.extend(new);
        }
        Ok(out)
    }

    /// OpenFlow 1.3 delete: removes every flow `sel` selects.
    pub fn delete(&mut self, sel: &FlowSelector) -> Vec<FlowRef> {
        let mut slots = Vec::new();
        self.visit_selected(sel, |e, subtable, key| {
            slots.push(Slot {
                subtable,
                key: *key,
                priority: e.flow.priority,
            })
        });
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
            for b in st.buckets() {
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
                        key: b.key,
                        priority: f.flow.priority,
                    });
                    reasons.push(reason);
                }
            }
        }
        (slots, reasons)
    }

    /// Calls `f` on every flow `sel` selects, with its subtable and
    /// bucket key.
    fn visit_selected<'a>(
        &'a self,
        sel: &FlowSelector,
        mut f: impl FnMut(&'a FlowRef, usize, &'a Words),
    ) {
        if let Some(priority) = sel.priority {
            if let Some((si, b)) = self.bucket_of(&sel.r#match) {
                if let Some(e) = b.flows.iter().find(|e| e.flow.priority == priority) {
                    if sel.selects(&e.flow) {
                        f(e, si, &b.key);
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
            for b in st.buckets() {
                if (0..KEY_WORDS).any(|i| b.key[i] & mask[i] != key[i]) {
                    continue;
                }
                for e in &b.flows {
                    if sel.selects(&e.flow) {
                        f(e, si, &b.key);
                    }
                }
            }
        }
    }

    fn remove_slots(&mut self, slots: &[Slot]) -> Vec<FlowRef> {
        let mut removed = Vec::with_capacity(slots.len());
        for slot in slots {
            let st = &mut self.subtables[slot.subtable];
            let Some(f) = st.remove(&slot.key, slot.priority, &self.hasher) else {
                continue;
            };
            self.n_flows -= 1;
            self.n_timed -= usize::from(is_timed(&f.flow));
            removed.push(f);
        }
        if !removed.is_empty() {
            for st in &mut self.subtables {
                st.settle();
            }
            if self.subtables.iter().any(|st| st.n_flows == 0) {
                self.subtables.retain(|st| st.n_flows != 0);
                self.by_mask = Arc::new(
                    self.subtables
                        .iter()
                        .enumerate()
                        .map(|(i, st)| (st.mask, i))
                        .collect(),
                );
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

    /// Consistency check for tests: counts, orders, index, shards and
    /// buckets.
    #[doc(hidden)]
    pub fn check_invariants(&self) {
        let mut n = 0;
        let mut timed = 0;
        assert_eq!(self.by_mask.len(), self.subtables.len());
        for (i, st) in self.subtables.iter().enumerate() {
            assert_eq!(self.by_mask.get(&st.mask), Some(&i));
            assert!(st.n_flows > 0, "empty subtable kept");
            assert!(!st.stale);
            assert!(st.shards.len().is_power_of_two());
            let mut st_flows = 0;
            let mut st_buckets = 0;
            for (si, shard) in st.shards.iter().enumerate() {
                assert!(!shard.stale);
                let top = shard.index.iter().map(|e| e.b.top).max().unwrap_or(0);
                assert_eq!(shard.max, top, "shard max");
                for e in shard.index.iter() {
                    let b = &*e.b;
                    assert_eq!(e.hash, st.hash(&b.key, &self.hasher));
                    assert_eq!(Subtable::shard_of(e.hash, st.shards.len()), si);
                    assert!(std::ptr::eq(
                        st.find(&b.key, &self.hasher).expect("bucket indexed"),
                        b
                    ));
                    assert!((0..KEY_WORDS).all(|j| b.key[j] & !st.mask[j] == 0));
                    assert!(!b.flows.is_empty(), "empty bucket kept");
                    assert_eq!(b.top, b.flows[0].flow.priority);
                    assert!(b
                        .flows
                        .windows(2)
                        .all(|w| w[0].flow.priority > w[1].flow.priority));
                    for f in &b.flows {
                        assert_eq!(to_words(&f.flow.r#match.mask), st.mask);
                        assert_eq!(to_words(&f.flow.r#match.key), b.key);
                        timed += usize::from(is_timed(&f.flow));
                    }
                    st_flows += b.flows.len();
                    st_buckets += 1;
                }
            }
            assert_eq!(st.n_flows, st_flows);
            assert_eq!(st.n_buckets, st_buckets);
            let top = st.shards.iter().map(|s| s.max).max().unwrap_or(0);
            assert_eq!(st.max, top, "subtable max");
            n += st_flows;
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
