//! Ops that change the frame in place (tags, rewrites), the TTL
//! decrements with their INVALID_TTL packet-ins, and the continuation of
//! a pipeline walk after an action restructured the frame ([`Op::Resume`]).

use std::sync::{Arc, Mutex};

use vnet_wire::rewrite::{self as rw, DecTtl, GsoKind};
use vnet_wire::FlowKey;

use super::cache::MegaflowCache;
use super::{Datapath, Frame, Op, RewriteFn};
use crate::pipeline::Resume;

/// The rest of a pipeline walk that stopped at an action restructuring
/// the frame (MPLS/PBB push or pop, VLAN pop, copy_ttl_out) before a
/// goto_table: the datapath extracts the frame's key again and asks the
/// rules ([`Rules::resume`](super::Rules::resume)) what follows.
///
/// Its answers are cached here, per masked new key, for as long as the
/// decision holding this continuation lives: caches hold decisions of the
/// current rules version only, so these are of that version too.
pub struct Continuation {
    pub resume: Resume,
    cache: Mutex<MegaflowCache>,
}

impl Continuation {
    pub fn new(resume: Resume) -> Continuation {
        Continuation {
            resume,
            cache: Mutex::new(MegaflowCache::default()),
        }
    }
}

impl std::fmt::Debug for Continuation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Continuation")
            .field("table", &self.resume.table)
            .field("metadata", &self.resume.metadata)
            .field("set", &self.resume.set)
            .finish()
    }
}

/// Continuations are compared by identity (each belongs to one decision).
impl PartialEq for Continuation {
    fn eq(&self, other: &Continuation) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for Continuation {}

/// Runs an op that changes the frame in place. A change the frame has no
/// header for (a rewrite of an absent field, a pop of an absent tag)
/// leaves it unchanged.
pub(super) fn modify(op: &Op, f: &mut Frame, rewrites: &[RewriteFn]) {
    match op {
        Op::PushVlan { tpid } => {
            // OpenFlow 1.3: the new tag copies VID and PCP of the current
            // outer tag (DEI is not copied), else both are 0.
            let tci = f.vlan_tci().map_or(0, |t| t & !0x1000);
            f.push_vlan(*tpid, tci);
        }
        Op::PopVlan => {
            f.pop_vlan();
        }
        Op::SetVlanVid(v) => {
            f.set_vlan_vid(*v);
        }
        Op::SetVlanPcp(p) => {
            f.set_vlan_pcp(*p);
        }
        Op::Rewrite(r) => {
            if let Some(rw) = rewrites.get(*r) {
                rw(f)
            }
        }
        Op::Output(_)
        | Op::Controller(_)
        | Op::DecTtl(_)
        | Op::DecMplsTtl(_)
        | Op::Resume(_)
        | Op::Group(_)
        | Op::Meter(_)
        | Op::Nop => {}
    }
}

/// The frames to send instead of GSO super-frame `f` when the kernel
/// cannot cut it: it leaves through a port without vnet headers
/// (`to_vnet` false), or an MPLS label stack or PBB encapsulation now sits
/// in front of its IP header (Linux segments neither for a packet
/// socket). `None`: send it as it is. The pieces carry complete checksums
/// and, for a vnet port, a header with no offload pending.
pub(super) fn soft_segments(f: &Frame, to_vnet: bool) -> Option<Vec<Frame>> {
    let h = f.vnet_hdr()?;
    let kind = GsoKind::from_virtio(h[1])?;
    let eth = f.eth();
    if to_vnet && !encapsulated(eth) {
        return None;
    }
    let size = usize::from(u16::from_le_bytes([h[4], h[5]]));
    let l4 = usize::from(u16::from_le_bytes([h[6], h[7]]));
    let mut out = Vec::new();
    rw::gso_segment(eth, kind, l4, size, |p| {
        out.push(Frame::from_eth(p, to_vnet))
    })
    .ok()?;
    Some(out)
}

/// Whether the ethertype after the VLAN tags is MPLS or PBB.
fn encapsulated(eth: &[u8]) -> bool {
    let mut at = 12;
    while let Some(t) = eth.get(at..at + 2) {
        match u16::from_be_bytes([t[0], t[1]]) {
            0x8100 | 0x88a8 => at += 4,
            t => return matches!(t, 0x8847 | 0x8848 | 0x88e7),
        }
    }
    false
}

impl Datapath {
    /// Runs [`Op::DecTtl`] or [`Op::DecMplsTtl`] on frame `i`; false when
    /// the TTL expired (the frame, unchanged, went to the controller with
    /// reason INVALID_TTL and goes no further).
    pub(super) fn dec_ttl(
        &mut self,
        op: &Op,
        in_ofport: u32,
        rx: &mut [Frame],
        i: usize,
        refs: &mut Vec<(usize, usize)>,
    ) -> bool {
        self.materialize(refs, &rx[i]);
        let f = &mut rx[i];
        let mut key = FlowKey::default();
        let layout = vnet_wire::extract::extract(f.eth(), 0, &mut key);
        let (done, to) = match op {
            Op::DecMplsTtl(to) => (rw::dec_mpls_ttl(f.eth_mut(), &layout), to),
            Op::DecTtl(to) => (rw::dec_ttl(f.eth_mut(), &layout), to),
            _ => return true,
        };
        if let Ok(DecTtl::Expired) = done {
            self.packet_in(in_ofport, &rx[i], to);
            return false;
        }
        true
    }

    /// Runs [`Op::Resume`]: the frame's key extracted again, the rest of
    /// the walk decided (or found in the continuation's cache) and run.
    /// Whether the frame went anywhere.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn resume(
        &mut self,
        pi: Option<usize>,
        in_ofport: u32,
        c: &Arc<Continuation>,
        rx: &mut [Frame],
        i: usize,
        refs: &mut Vec<(usize, usize)>,
        now_ms: u64,
        depth: u8,
    ) -> bool {
        let mut key = FlowKey::default();
        vnet_wire::extract::extract(rx[i].eth(), in_ofport, &mut key);
        (key.metadata, key.tunnel_id) = (c.resume.metadata, c.resume.tunnel_id);
        let d = {
            let mut cache = c.cache.lock().unwrap_or_else(|e| e.into_inner());
            match cache.lookup(0, &key) {
                Some(d) => {
                    self.stats.megaflow_hits += 1;
                    Arc::clone(d)
                }
                None => {
                    self.stats.upcalls += 1;
                    let d = Arc::new(self.rules.resume(&key, &c.resume));
                    if let Some(mask) = d.wildcards {
                        cache.insert(0, &key, mask, Arc::clone(&d));
                    }
                    d
                }
            }
        };
        if let Some(hit) = &d.hit {
            hit(rx[i].eth().len() as u64);
        }
        self.run_ops(
            pi,
            in_ofport,
            &d.ops,
            &d.rewrites,
            rx,
            i,
            refs,
            now_ms,
            depth,
        )
    }
}
