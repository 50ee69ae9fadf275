//! Groups and meters as the datapath runs them, looked up in the current
//! rules when a frame reaches `Op::Group` / `Op::Meter` (the decision that
//! holds the op is of the same rules version: caches never hold another).
//!
//! - ALL: every live bucket, each on its own copy of the frame; INDIRECT:
//!   its bucket; FAST_FAILOVER: the first live bucket; SELECT: one live
//!   bucket of non-zero weight by weighted rendezvous hashing over a hash
//!   of the frame's headers ([`select_hash`]): each bucket scores
//!   `-ln(u) / weight` with `u` uniform from the hash and the bucket's
//!   index, the lowest wins, so a bucket gets its weight's share of the
//!   flows and a bucket going down moves only its own flows.
//! - A bucket is live when its watch port exists with its link up (see
//!   [`Datapath::set_port_live`]) and its watch group has a live bucket.
//! - Buckets act on a copy of the frame, so what follows a group action
//!   sees the frame as it was; when the group is the last op, its last
//!   bucket takes the frame itself (no copy for the common
//!   `actions=group:N`). Chains stop at [`MAX_CHAIN`] groups.
//! - Meters: [`MeterEntry::run`](crate::meter::MeterEntry::run) with the
//!   datapath's `now`; DSCP_REMARK rewrites the DSCP (and the IPv4 header
//!   checksum).

use vnet_wire::FlowKey;

use super::{Datapath, Frame};
use crate::flow::{PortNo, ANY_GROUP};
use crate::group::{BucketExec, GroupExec, GroupType, MAX_CHAIN};
use crate::meter::{remark_dscp, MeterVerdict};

/// Where a group runs: the frame's ingress, the clock, the depth of ops.
pub(super) struct GroupAt {
    pub pi: Option<usize>,
    pub in_ofport: u32,
    pub now_ms: u64,
    pub depth: u8,
}

impl Datapath {
    /// Marks a port's link up or down (fast-failover liveness); ports are
    /// up unless marked down. A port that does not exist is never live.
    pub fn set_port_live(&mut self, ofport: u32, live: bool) {
        if live {
            self.link_down.remove(&ofport);
        } else {
            self.link_down.insert(ofport);
        }
    }

    /// Whether a port exists and its link is up.
    pub fn port_live(&self, ofport: u32) -> bool {
        self.port_index(ofport).is_some() && !self.link_down.contains(&ofport)
    }

    fn bucket_live(&self, b: &BucketExec, depth: usize) -> bool {
        (b.watch_port == PortNo::ANY.0 || self.port_live(b.watch_port))
            && (b.watch_group == ANY_GROUP || self.group_live(b.watch_group, depth + 1))
    }

    /// Whether a group has a live bucket.
    fn group_live(&self, id: u32, depth: usize) -> bool {
        depth <= MAX_CHAIN
            && self
                .rules
                .group(id)
                .is_some_and(|g| g.buckets.iter().any(|b| self.bucket_live(b, depth)))
    }

    /// Runs group `id` on frame `i`; `last` when nothing follows it (its
    /// last bucket may then change the frame itself). Whether the frame
    /// went anywhere.
    pub(super) fn run_group(
        &mut self,
        id: u32,
        at: &GroupAt,
        rx: &mut [Frame],
        i: usize,
        refs: &mut Vec<(usize, usize)>,
        last: bool,
    ) -> bool {
        if usize::from(at.depth) > MAX_CHAIN + 1 {
            return false;
        }
        let Some(g) = self.rules.group(id) else {
            return false;
        };
        let len = rx[i].eth().len() as u64;
        g.counter.record(len);
        let chosen: Vec<usize> = match g.group_type {
            GroupType::All => (0..g.buckets.len())
                .filter(|b| self.bucket_live(&g.buckets[*b], 0))
                .collect(),
            GroupType::Indirect => (0..g.buckets.len().min(1)).collect(),
            GroupType::FastFailover => (0..g.buckets.len())
                .find(|b| self.bucket_live(&g.buckets[*b], 0))
                .into_iter()
                .collect(),
            GroupType::Select => self.select(&g, &rx[i], at.in_ofport).into_iter().collect(),
        };
        let mut sent = false;
        for (n, &b) in chosen.iter().enumerate() {
            let bucket = &g.buckets[b];
            bucket.counter.record(len);
            let depth = at.depth + 1;
            if last && n + 1 == chosen.len() {
                sent |= self.run_ops(
                    at.pi,
                    at.in_ofport,
                    &bucket.ops,
                    &bucket.rewrites,
                    rx,
                    i,
                    refs,
                    at.now_ms,
                    depth,
                );
            } else {
                let mut copy = [rx[i].clone_compact()];
                let mut copy_refs = Vec::new();
                sent |= self.run_ops(
                    at.pi,
                    at.in_ofport,
                    &bucket.ops,
                    &bucket.rewrites,
                    &mut copy,
                    0,
                    &mut copy_refs,
                    at.now_ms,
                    depth,
                );
                // Outputs queued from the copy's buffer get their own.
                self.materialize(&mut copy_refs, &copy[0]);
            }
        }
        sent
    }

    /// The SELECT group's bucket for this frame, if any is live.
    fn select(&self, g: &GroupExec, frame: &Frame, in_ofport: u32) -> Option<usize> {
        let mut key = FlowKey::default();
        vnet_wire::extract::extract(frame.eth(), in_ofport, &mut key);
        let h = select_hash(&key);
        let mut best: Option<(f64, usize)> = None;
        for (i, b) in g.buckets.iter().enumerate() {
            if b.weight == 0 || !self.bucket_live(b, 0) {
                continue;
            }
            let x = mix(h ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            // Uniform in (0, 1) from the top 53 bits.
            let u = ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            let score = -u.ln() / f64::from(b.weight);
            if best.is_none_or(|(s, _)| score < s) {
                best = Some((score, i));
            }
        }
        best.map(|(_, i)| i)
    }

    /// Runs meter `id` on frame `i`; false when the meter drops it.
    pub(super) fn run_meter(
        &mut self,
        id: u32,
        rx: &mut [Frame],
        i: usize,
        refs: &mut Vec<(usize, usize)>,
        now_ms: u64,
    ) -> bool {
        let Some(m) = self.rules.meter(id) else {
            return true;
        };
        match m.run(now_ms, rx[i].eth().len() as u64) {
            MeterVerdict::Pass => true,
            MeterVerdict::Drop => false,
            MeterVerdict::Remark(levels) => {
                let mut key = FlowKey::default();
                let layout = vnet_wire::extract::extract(rx[i].eth(), 0, &mut key);
                if matches!(key.dl_type, 0x0800 | 0x86dd) {
                    let dscp = key.nw_tos >> 2;
                    let remarked = remark_dscp(dscp, levels);
                    if remarked != dscp {
                        self.materialize(refs, &rx[i]);
                        let _ = vnet_wire::rewrite::set_ip_dscp(rx[i].eth_mut(), &layout, remarked);
                    }
                }
                true
            }
        }
    }
}

/// The SELECT hash: the headers that tell flows apart, from L2 up —
/// Ethernet addresses, VLAN ID, ethertype, IPv4/IPv6 (or ARP) addresses,
/// ARP hardware addresses, protocol (ARP opcode) and L4 ports — so flows
/// differing only in MAC or ARP fields spread too.
pub fn select_hash(k: &FlowKey) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(&k.dl_src);
    eat(&k.dl_dst);
    eat(&(k.vlan_tci & 0x1fff).to_be_bytes());
    eat(&k.dl_type.to_be_bytes());
    eat(&k.ipv4_src.to_be_bytes());
    eat(&k.ipv4_dst.to_be_bytes());
    eat(&k.ipv6_src.to_be_bytes());
    eat(&k.ipv6_dst.to_be_bytes());
    eat(&k.arp_sha);
    eat(&k.arp_tha);
    eat(&[k.nw_proto]);
    eat(&k.tp_src.to_be_bytes());
    eat(&k.tp_dst.to_be_bytes());
    mix(h)
}

/// A 64-bit finalizer (splitmix64's): every input bit reaches every
/// output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
