//! The datapath: frames in from ports, decisions, frames out — in batches.
//!
//! Per received batch: for each frame, the flow key is extracted in place;
//! the exact-match cache answers if it holds the key *for the current rules
//! version*; otherwise the rules (the OpenFlow pipeline) are consulted and
//! the answer cached. The resulting operations run against the frame;
//! outputs are queued per port and flushed once per batch. A frame sent
//! unchanged to one port is sent straight from its receive buffer; copies
//! are made only when outputs differ (VLAN variants, rewrites).
//!
//! NORMAL is a learning switch per VLAN with Open vSwitch's port semantics:
//! a port without VLAN configuration carries every VLAN (untagged = VLAN 0),
//! an access port one VLAN untagged, a trunk its allowed VLANs tagged and
//! its native VLAN untagged. Explicit outputs send the frame as it is.
//!
//! OpenFlow's slow path: a frame for the controller (the `controller`
//! action, a table miss to the controller, `dec_ttl` on an expiring TTL)
//! is copied, cut to its `max_len`, to the [`ControllerSink`] set with
//! [`Datapath::set_controller`] — a bounded queue that never blocks the
//! datapath (a full queue drops and counts). [`Datapath::packet_out`] runs
//! a controller's frame through actions like a received one, `TABLE`
//! included.
//!
//! Groups and meters run here, looked up in the rules when a frame gets to
//! them (`groups`): the buckets of a group act on copies of the frame, a
//! SELECT group hashes the frame's headers, a FAST_FAILOVER group asks
//! which ports are live.

mod cache;
mod groups;
mod normal;
mod ops;

use std::collections::HashMap;
use std::sync::Arc;

use cache::{KeyMap, MegaflowCache};
pub use ops::Continuation;

use vnet_wire::FlowKey;

use crate::control::PortStats;
use crate::frame::Frame;
use crate::learning::MacTable;
use crate::port::PortIo;
use groups::GroupAt;

/// VLAN configuration of a port.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum VlanMode {
    /// Carries every VLAN; untagged frames are VLAN 0.
    #[default]
    Unaware,
    Access(u16),
    Trunk {
        allowed: Vec<u16>,
        native: Option<u16>,
    },
}

impl VlanMode {
    /// The VLAN a frame received with tag `tci` (or untagged) belongs to;
    /// `None` = not admitted.
    fn ingress_vlan(&self, tci: Option<u16>) -> Option<u16> {
        let vid = tci.map(|t| t & 0x0fff);
        match self {
            VlanMode::Unaware => Some(vid.unwrap_or(0)),
            VlanMode::Access(v) => vid.is_none().then_some(*v),
            VlanMode::Trunk { allowed, native } => match vid {
                Some(v) if allowed.contains(&v) => Some(v),
                Some(_) => None,
                None => *native,
            },
        }
    }

    /// How a frame of `vlan` leaves this port: `None` = not at all,
    /// `Some(false)` untagged, `Some(true)` tagged.
    fn egress_tagged(&self, vlan: u16) -> Option<bool> {
        match self {
            VlanMode::Unaware => Some(vlan != 0),
            VlanMode::Access(v) => (*v == vlan).then_some(false),
            VlanMode::Trunk { allowed, native } => {
                if *native == Some(vlan) {
                    Some(false)
                } else {
                    allowed.contains(&vlan).then_some(true)
                }
            }
        }
    }
}

/// Reserved output ports (OpenFlow 1.3 numbering).
pub mod ofpp {
    pub const IN_PORT: u32 = 0xffff_fff8;
    pub const TABLE: u32 = 0xffff_fff9;
    pub const NORMAL: u32 = 0xffff_fffa;
    pub const FLOOD: u32 = 0xffff_fffb;
    pub const ALL: u32 = 0xffff_fffc;
    pub const CONTROLLER: u32 = 0xffff_fffd;
    pub const LOCAL: u32 = 0xffff_fffe;
}

/// One step of what to do with a frame, as the datapath executes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Output to a port number or a reserved port (`ofpp`).
    Output(u32),
    PushVlan {
        tpid: u16,
    },
    PopVlan,
    SetVlanVid(u16),
    SetVlanPcp(u8),
    /// A header rewrite done by the rules' own function (index into
    /// `Decision::rewrites`), e.g. set_field on IP addresses or ports.
    Rewrite(usize),
    /// Decrement the IP TTL / hop limit; a packet whose TTL is already
    /// ≤ 1 is dropped there, and offered to the controller as this
    /// packet-in (reason INVALID_TTL, for connections that asked for it).
    DecTtl(ToController),
    /// Decrement the outermost MPLS TTL, like [`Op::DecTtl`].
    DecMplsTtl(ToController),
    /// Extract the frame's key again and run what the rules decide for
    /// the rest of the pipeline walk (see [`Continuation`]).
    Resume(Arc<Continuation>),
    /// Hand the frame to the controller as a packet-in (see
    /// [`Datapath::set_controller`]); counted as dropped without one.
    Controller(ToController),
    /// Run the group with this number from the rules (see
    /// [`Rules::group`]); its buckets are picked per packet.
    Group(u32),
    /// Run the frame through the meter with this number (see
    /// [`Rules::meter`]); a frame it drops goes no further.
    Meter(u32),
    /// Nothing (keeps actions and ops one to one: `set_queue`, which
    /// flows and groups cannot hold — there are no queues — but a
    /// PACKET_OUT's actions may).
    Nop,
}

/// OpenFlow port config bits (`ofp_port_config`) a PORT_MOD may set.
pub mod port_config {
    /// Administratively down (the device is set down too).
    pub const PORT_DOWN: u32 = 1 << 0;
    /// Drop everything received on the port.
    pub const NO_RECV: u32 = 1 << 2;
    /// Drop everything forwarded to the port.
    pub const NO_FWD: u32 = 1 << 5;
    /// No packet-ins for frames received on the port.
    pub const NO_PACKET_IN: u32 = 1 << 6;
    /// The bits the switch implements.
    pub const SUPPORTED: u32 = PORT_DOWN | NO_RECV | NO_FWD | NO_PACKET_IN;
}

/// Why a frame goes to the controller (`ofp_packet_in_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum PacketInReason {
    /// A table miss (or a table-miss flow: priority 0, matching all).
    NoMatch = 0,
    /// An output to CONTROLLER in a flow or a packet-out.
    Action = 1,
    /// `dec_ttl` on a packet with TTL ≤ 1.
    InvalidTtl = 2,
}

/// The packet-in an [`Op::Controller`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ToController {
    /// Bytes of the frame to send; `0xffff` = all of it.
    pub max_len: u16,
    pub reason: PacketInReason,
    /// The table of the flow (or miss) that sent it.
    pub table_id: u8,
    /// The cookie of that flow; all ones for a table miss.
    pub cookie: u64,
    /// Pipeline context when the packet-in is made (the packet-in's match
    /// carries them when non-zero): metadata and tunnel id.
    pub metadata: u64,
    pub tunnel_id: u64,
}

/// A frame for the controller: what a PACKET_IN carries (never buffered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerPacket {
    pub in_port: u32,
    pub reason: PacketInReason,
    pub table_id: u8,
    pub cookie: u64,
    /// See [`ToController::metadata`].
    pub metadata: u64,
    pub tunnel_id: u64,
    /// The whole frame's length.
    pub total_len: usize,
    /// The frame as it was at that point, cut to `max_len`.
    pub data: Vec<u8>,
}

/// Where packet-ins go: called on the datapath thread with the switch
/// locked, so it must not block (a bounded queue: `false` = full, the
/// packet-in is dropped and counted).
pub type ControllerSink = Arc<dyn Fn(ControllerPacket) -> bool + Send + Sync>;

/// A rewrite of header fields, supplied by the rules.
pub type RewriteFn = Arc<dyn Fn(&mut Frame) + Send + Sync>;

/// What the rules decided for one flow key.
#[derive(Clone, Default)]
pub struct Decision {
    pub ops: Vec<Op>,
    pub rewrites: Vec<RewriteFn>,
    /// Called with the frame length for each packet that takes this decision
    /// (flow counters).
    pub hit: Option<Arc<dyn Fn(u64) + Send + Sync>>,
    /// The key bits this decision depends on (a megaflow mask): every key
    /// equal to this one under the mask gets the same decision. `None`
    /// when only this exact key may reuse it.
    pub wildcards: Option<FlowKey>,
}

impl std::fmt::Debug for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decision").field("ops", &self.ops).finish()
    }
}

/// The forwarding rules: an OpenFlow pipeline, or plain NORMAL.
pub trait Rules: Send + Sync {
    /// Changes whenever the rules change; cached decisions of other
    /// versions are never used.
    fn version(&self) -> u64;
    fn decide(&self, key: &FlowKey) -> Decision;
    /// The group `Op::Group` names, as these rules have it.
    fn group(&self, _id: u32) -> Option<Arc<crate::group::GroupExec>> {
        None
    }
    /// The meter `Op::Meter` names, as these rules have it.
    fn meter(&self, _id: u32) -> Option<Arc<crate::meter::MeterEntry>> {
        None
    }
    /// What follows `Op::Resume` for a frame whose key is now `key`.
    fn resume(&self, _key: &FlowKey, _at: &crate::pipeline::Resume) -> Decision {
        Decision::default()
    }
}

/// Rules with no flows: every frame takes NORMAL.
#[derive(Debug, Default)]
pub struct NormalOnly;

impl Rules for NormalOnly {
    fn version(&self) -> u64 {
        0
    }
    fn decide(&self, _key: &FlowKey) -> Decision {
        Decision {
            ops: vec![Op::Output(ofpp::NORMAL)],
            ..Decision::default()
        }
    }
}

/// A port as the datapath holds it.
pub struct SwitchPort {
    pub name: String,
    pub ofport: u32,
    pub vlan: VlanMode,
    pub io: Box<dyn PortIo>,
    pub stats: PortStats,
}

impl std::fmt::Debug for SwitchPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchPort")
            .field("name", &self.name)
            .field("ofport", &self.ofport)
            .finish()
    }
}

/// Where an output frame comes from at flush time.
enum TxItem {
    /// Receive buffer `i` of the current batch, as it is at flush.
    Rx(usize),
    Owned(Frame),
}

/// Bound on the exact-match cache; it is cleared when full.
const EMC_CAPACITY: usize = 8192;
pub const BATCH: usize = 32;

/// Cache and datapath counters.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct DatapathStats {
    pub emc_hits: u64,
    pub megaflow_hits: u64,
    /// Lookups that had to run the full rules (pipeline).
    pub upcalls: u64,
    pub dropped: u64,
    /// Frames handed to the controller sink.
    pub packet_ins: u64,
    /// Packet-ins lost: no controller sink, or its queue was full.
    pub packet_in_dropped: u64,
}

/// One switch: ports, MAC table, rules, caches.
pub struct Datapath {
    pub name: String,
    pub ports: Vec<SwitchPort>,
    pub macs: MacTable,
    rules: Arc<dyn Rules>,
    emc: KeyMap<(u64, Arc<Decision>)>,
    megaflows: MegaflowCache,
    rx: Vec<Frame>,
    tx: Vec<Vec<TxItem>>,
    pub stats: DatapathStats,
    epoch: std::time::Instant,
    /// Port mirrors: every frame a port receives or sends, as pcap.
    mirrors: HashMap<u32, Mirror>,
    /// Where packet-ins go (the OpenFlow connections), if anywhere.
    controller: Option<ControllerSink>,
    /// Ports whose link is down (see [`Datapath::set_port_live`]).
    link_down: std::collections::HashSet<u32>,
    /// OpenFlow port config bits set by PORT_MOD (see [`port_config`]),
    /// by port number; absent = 0.
    port_config: HashMap<u32, u32>,
}

/// Where a port mirror writes.
pub type Mirror = vnet_wire::pcap::PcapWriter<Box<dyn std::io::Write + Send>>;

impl std::fmt::Debug for Datapath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Datapath")
            .field("name", &self.name)
            .field("ports", &self.ports)
            .finish()
    }
}

impl Datapath {
    pub fn new(name: impl Into<String>, macs: MacTable) -> Datapath {
        Datapath {
            name: name.into(),
            ports: Vec::new(),
            macs,
            rules: Arc::new(NormalOnly),
            emc: KeyMap::default(),
            megaflows: MegaflowCache::default(),
            rx: (0..BATCH)
                .map(|_| Frame::with_capacity(crate::frame::VNET_HDR_LEN + 65536, false))
                .collect(),
            tx: Vec::new(),
            stats: DatapathStats::default(),
            epoch: std::time::Instant::now(),
            mirrors: HashMap::new(),
            controller: None,
            link_down: Default::default(),
            port_config: HashMap::new(),
        }
    }

    /// Sets a port's OpenFlow config bits (PORT_MOD): [`port_config`]'s
    /// NO_RECV, NO_FWD and NO_PACKET_IN take effect here, at once and for
    /// cached decisions too (they are checked when a frame is received,
    /// queued for output or handed to the controller); PORT_DOWN is only
    /// recorded (the caller sets the device down).
    pub fn set_port_config(&mut self, ofport: u32, config: u32) {
        if config == 0 {
            self.port_config.remove(&ofport);
        } else {
            self.port_config.insert(ofport, config);
        }
    }

    /// A port's config bits (0 unless a PORT_MOD set some).
    pub fn port_config(&self, ofport: u32) -> u32 {
        self.port_config.get(&ofport).copied().unwrap_or(0)
    }

    fn port_has(&self, ofport: u32, bit: u32) -> bool {
        !self.port_config.is_empty() && self.port_config(ofport) & bit != 0
    }

    /// Sets (Some) or clears (None) where packet-ins go.
    pub fn set_controller(&mut self, sink: Option<ControllerSink>) {
        self.controller = sink;
    }

    /// Runs a frame from the controller (PACKET_OUT) through `ops`, as
    /// received on `in_port` (a port number, LOCAL, or CONTROLLER/ANY for
    /// none). `Op::Output(TABLE)` runs it through the rules.
    pub fn packet_out(
        &mut self,
        in_port: u32,
        data: &[u8],
        ops: &[Op],
        rewrites: &[RewriteFn],
        now_ms: u64,
    ) {
        let mut rx = vec![Frame::from_eth(data, false)];
        let pi = self.port_index(in_port);
        let mut refs = Vec::new();
        let sent = self.run_ops(pi, in_port, ops, rewrites, &mut rx, 0, &mut refs, now_ms, 0);
        if !sent {
            self.stats.dropped += 1;
        }
        self.flush(&rx);
    }

    /// Milliseconds since this datapath was made: the clock of its MAC table.
    pub fn clock_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Starts (Some) or stops (None) mirroring port `ofport`'s traffic.
    pub fn set_mirror(&mut self, ofport: u32, mirror: Option<Mirror>) {
        match mirror {
            Some(m) => {
                self.mirrors.insert(ofport, m);
            }
            None => {
                self.mirrors.remove(&ofport);
            }
        }
    }

    /// Ports being mirrored.
    pub fn mirrored(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.mirrors.keys().copied().collect();
        v.sort();
        v
    }

    fn mirror(&mut self, ofport: u32, frame: &Frame) {
        if let Some(m) = self.mirrors.get_mut(&ofport) {
            if m.write(frame.eth()).is_err() {
                // A mirror whose file fails is stopped, never the switch.
                self.mirrors.remove(&ofport);
            }
        }
    }

    /// Replaces the rules; cached decisions of the old rules die with them.
    pub fn set_rules(&mut self, rules: Arc<dyn Rules>) {
        self.rules = rules;
        self.emc.clear();
        self.megaflows = MegaflowCache::default();
    }

    pub fn add_port(&mut self, port: SwitchPort) {
        self.ports.push(port);
        self.tx.push(Vec::new());
        self.emc.clear();
    }

    /// Removes a port by name; forgets what was learned on it.
    pub fn remove_port(&mut self, name: &str) -> Option<SwitchPort> {
        let i = self.ports.iter().position(|p| p.name == name)?;
        let p = self.ports.remove(i);
        self.tx.remove(i);
        self.macs.flush_port(p.ofport);
        self.emc.clear();
        Some(p)
    }

    fn port_index(&self, ofport: u32) -> Option<usize> {
        self.ports.iter().position(|p| p.ofport == ofport)
    }

    /// Receives one batch from port `pi` and forwards it; returns how many
    /// frames were received. A port whose device vanished yields an error
    /// the caller may use to drop the port.
    pub fn poll_port(&mut self, pi: usize, now_ms: u64) -> std::io::Result<usize> {
        let mut rx = std::mem::take(&mut self.rx);
        let got = match self.ports[pi].io.recv(&mut rx) {
            Ok(n) => n,
            Err(e) => {
                self.rx = rx;
                return Err(e);
            }
        };
        let no_recv = self.port_has(self.ports[pi].ofport, port_config::NO_RECV);
        for i in 0..got {
            if !self.mirrors.is_empty() {
                let ofport = self.ports[pi].ofport;
                self.mirror(ofport, &rx[i]);
            }
            let len = rx[i].eth().len() as u64;
            let st = &mut self.ports[pi].stats;
            st.rx_packets += 1;
            st.rx_bytes += len;
            if no_recv {
                st.rx_dropped += 1;
                continue;
            }
            self.forward(pi, &mut rx, i, now_ms);
        }
        self.flush(&rx);
        self.rx = rx;
        Ok(got)
    }

    /// Exact-match cache, then megaflow cache, then the rules. Entries of
    /// another rules version are never used.
    fn decision(&mut self, key: &FlowKey) -> Arc<Decision> {
        let version = self.rules.version();
        if let Some((v, d)) = self.emc.get(key) {
            if *v == version {
                self.stats.emc_hits += 1;
                return d.clone();
            }
        }
        let d = match self.megaflows.lookup(version, key) {
            Some(d) => {
                self.stats.megaflow_hits += 1;
                d.clone()
            }
            None => {
                self.stats.upcalls += 1;
                let d = Arc::new(self.rules.decide(key));
                if let Some(mask) = d.wildcards {
                    self.megaflows.insert(version, key, mask, d.clone());
                }
                d
            }
        };
        if self.emc.len() >= EMC_CAPACITY {
            self.emc.clear();
        }
        self.emc.insert(*key, (version, d.clone()));
        d
    }

    fn forward(&mut self, pi: usize, rx: &mut [Frame], i: usize, now_ms: u64) {
        let in_ofport = self.ports[pi].ofport;
        // Queue entries that refer to rx[i] as it is now.
        let mut refs: Vec<(usize, usize)> = Vec::new();
        if !self.through_rules(Some(pi), in_ofport, rx, i, &mut refs, now_ms, 0) {
            self.stats.dropped += 1;
        }
    }

    /// Looks the frame up in the rules (caches first) and runs the
    /// decision; whether the frame went anywhere.
    #[allow(clippy::too_many_arguments)]
    fn through_rules(
        &mut self,
        pi: Option<usize>,
        in_ofport: u32,
        rx: &mut [Frame],
        i: usize,
        refs: &mut Vec<(usize, usize)>,
        now_ms: u64,
        depth: u8,
    ) -> bool {
        let mut key = FlowKey::default();
        vnet_wire::extract::extract(rx[i].eth(), in_ofport, &mut key);
        let d = self.decision(&key);
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

    /// Runs `ops` on frame `i` received on port index `pi` (`None`: from
    /// the controller); whether the frame went anywhere.
    #[allow(clippy::too_many_arguments)]
    fn run_ops(
        &mut self,
        pi: Option<usize>,
        in_ofport: u32,
        ops: &[Op],
        rewrites: &[RewriteFn],
        rx: &mut [Frame],
        i: usize,
        refs: &mut Vec<(usize, usize)>,
        now_ms: u64,
        depth: u8,
    ) -> bool {
        let mut sent = false;
        for op in ops {
            match op {
                // Only a packet-out has TABLE (flows cannot output there).
                Op::Output(ofpp::TABLE) if depth == 0 => {
                    sent |= self.through_rules(pi, in_ofport, rx, i, refs, now_ms, depth + 1);
                }
                Op::Output(p) => {
                    sent |= self.output(pi, *p, rx, i, refs, now_ms);
                }
                Op::Controller(to) => {
                    self.packet_in(in_ofport, &rx[i], to);
                    sent = true;
                }
                Op::Group(g) => {
                    let last = std::ptr::eq(op, ops.last().unwrap_or(op));
                    let at = GroupAt {
                        pi,
                        in_ofport,
                        now_ms,
                        depth,
                    };
                    sent |= self.run_group(*g, &at, rx, i, refs, last);
                }
                Op::Meter(m) => {
                    if !self.run_meter(*m, rx, i, refs, now_ms) {
                        return sent;
                    }
                }
                Op::Nop => {}
                Op::DecTtl(_) | Op::DecMplsTtl(_) => {
                    if !self.dec_ttl(op, in_ofport, rx, i, refs) {
                        return sent;
                    }
                }
                Op::Resume(c) => {
                    sent |= self.resume(pi, in_ofport, c, rx, i, refs, now_ms, depth);
                }
                modify => {
                    // Earlier outputs must keep the frame as it was.
                    self.materialize(refs, &rx[i]);
                    ops::modify(modify, &mut rx[i], rewrites);
                }
            }
        }
        sent
    }

    /// Hands a copy of the frame, as it is now, to the controller sink.
    fn packet_in(&mut self, in_port: u32, frame: &Frame, to: &ToController) {
        if self.port_has(in_port, port_config::NO_PACKET_IN) {
            return;
        }
        let Some(sink) = &self.controller else {
            self.stats.packet_in_dropped += 1;
            return;
        };
        let eth = frame.eth();
        let n = if to.max_len == 0xffff {
            eth.len()
        } else {
            eth.len().min(usize::from(to.max_len))
        };
        let p = ControllerPacket {
            in_port,
            reason: to.reason,
            table_id: to.table_id,
            cookie: to.cookie,
            metadata: to.metadata,
            tunnel_id: to.tunnel_id,
            total_len: eth.len(),
            data: frame.eth_completed(n),
        };
        if sink(p) {
            self.stats.packet_ins += 1;
        } else {
            self.stats.packet_in_dropped += 1;
        }
    }

    /// Replaces queued references to the receive buffer by copies.
    fn materialize(&mut self, refs: &mut Vec<(usize, usize)>, frame: &Frame) {
        for (port, idx) in refs.drain(..) {
            self.tx[port][idx] = TxItem::Owned(frame.clone_compact());
        }
    }

    /// Queues the frame for output port `p` (a port number or reserved);
    /// `pi` is the ingress port's index (`None`: from the controller).
    fn output(
        &mut self,
        pi: Option<usize>,
        p: u32,
        rx: &mut [Frame],
        i: usize,
        refs: &mut Vec<(usize, usize)>,
        now_ms: u64,
    ) -> bool {
        match p {
            ofpp::NORMAL => self.normal(pi, rx, i, refs, now_ms),
            ofpp::FLOOD | ofpp::ALL => {
                let mut any = false;
                for q in 0..self.ports.len() {
                    if Some(q) != pi {
                        self.enqueue(q, rx, i, refs, None);
                        any = true;
                    }
                }
                any
            }
            ofpp::IN_PORT => match pi {
                Some(pi) => {
                    self.enqueue(pi, rx, i, refs, None);
                    true
                }
                None => false,
            },
            ofpp::CONTROLLER | ofpp::TABLE => false,
            n => match self.port_index(n) {
                // OpenFlow: output to the input port needs IN_PORT.
                Some(q) if Some(q) != pi => {
                    self.enqueue(q, rx, i, refs, None);
                    true
                }
                _ => false,
            },
        }
    }

    fn enqueue(
        &mut self,
        q: usize,
        rx: &mut [Frame],
        i: usize,
        refs: &mut Vec<(usize, usize)>,
        variant: Option<Variant>,
    ) {
        if self.port_has(self.ports[q].ofport, port_config::NO_FWD) {
            self.ports[q].stats.tx_dropped += 1;
            return;
        }
        let want_vnet = self.ports[q].io.vnet_hdr();
        let f = &rx[i];
        if variant.is_none() {
            if let Some(pieces) = ops::soft_segments(f, want_vnet) {
                self.tx[q].extend(pieces.into_iter().map(TxItem::Owned));
                return;
            }
            if f.vnet == want_vnet {
                refs.push((q, self.tx[q].len()));
                self.tx[q].push(TxItem::Rx(i));
                return;
            }
        }
        let mut c = f.clone_compact();
        match variant {
            Some(Variant::Pop) => {
                c.pop_vlan();
            }
            Some(Variant::Push(tci)) => {
                c.push_vlan(0x8100, tci);
            }
            Some(Variant::Retag(v)) => {
                c.set_vlan_vid(v);
            }
            None => {}
        }
        if let Some(pieces) = ops::soft_segments(&c, want_vnet) {
            self.tx[q].extend(pieces.into_iter().map(TxItem::Owned));
            return;
        }
        if c.vnet && !want_vnet {
            c.strip_vnet();
        } else if !c.vnet && want_vnet {
            c.add_vnet();
        }
        self.tx[q].push(TxItem::Owned(c));
    }

    fn flush(&mut self, rx: &[Frame]) {
        for q in 0..self.ports.len() {
            if self.tx[q].is_empty() {
                continue;
            }
            let items = std::mem::take(&mut self.tx[q]);
            let frames: Vec<&Frame> = items
                .iter()
                .map(|t| match t {
                    TxItem::Rx(i) => &rx[*i],
                    TxItem::Owned(f) => f,
                })
                .collect();
            let ofport = self.ports[q].ofport;
            if let Some(m) = self.mirrors.get_mut(&ofport) {
                if frames.iter().any(|f| m.write(f.eth()).is_err()) {
                    self.mirrors.remove(&ofport);
                }
            }
            let port = &mut self.ports[q];
            let sent = port.io.send(&frames).unwrap_or(0);
            for f in &frames[..sent.min(frames.len())] {
                port.stats.tx_packets += 1;
                port.stats.tx_bytes += f.eth().len() as u64;
            }
            port.stats.tx_dropped += (frames.len() - sent.min(frames.len())) as u64;
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Variant {
    Pop,
    Push(u16),
    Retag(u16),
}

impl Frame {
    /// A copy holding only this frame's bytes (plus headroom).
    pub fn clone_compact(&self) -> Frame {
        let mut c = Frame::with_capacity(self.len, self.vnet);
        let s = c.start;
        c.buf[s..s + self.len].copy_from_slice(self.wire());
        c.len = self.len;
        c
    }
}
