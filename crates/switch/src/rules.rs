//! The OpenFlow pipeline as datapath [`Rules`]: a verdict's actions turned
//! into datapath operations, header rewrites into closures over
//! `vnet-wire`'s rewrite functions, and matched flows' counters bumped on
//! every packet (cache hits included). An output to the controller
//! becomes a packet-in naming the flow (table, cookie) or table miss it
//! came from, with reason NO_MATCH for a table miss or table-miss flow
//! (priority 0, matching all) and ACTION otherwise.
//!
//! Groups and meters are looked up when a packet reaches them
//! (`Op::Group`, `Op::Meter`): a group's bucket choice depends on the
//! packet (select hash) and on port liveness (fast failover), and a meter
//! on time, so none of it is baked into a cached decision. The tables they
//! are looked up in are the same snapshot the decision came from.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Instant;

use vnet_wire::rewrite as rw;
use vnet_wire::{extract, FlowKey, Layout};

use crate::datapath::{Continuation, Decision, Op, PacketInReason, RewriteFn, Rules, ToController};
use crate::flow::{Action, Field, FlowRef, Instruction, Match};
use crate::frame::Frame;
use crate::group::GroupExec;
use crate::meter::MeterEntry;
use crate::pipeline::{Pipeline, Resume, TableMiss, Verdict};

/// An immutable pipeline snapshot, as the datapath consults it.
#[derive(Debug)]
pub struct PipelineRules {
    pipeline: Arc<Pipeline>,
    epoch: Instant,
}

impl PipelineRules {
    /// `epoch` is the instant the pipeline's `now` values count from (ms).
    pub fn new(pipeline: Arc<Pipeline>, epoch: Instant) -> PipelineRules {
        PipelineRules { pipeline, epoch }
    }
}

/// Whether the frame's transport checksum is still to be completed by the
/// kernel (virtio NEEDS_CSUM): then only the pseudo-header part changes.
fn csum_partial(f: &Frame) -> bool {
    f.vnet_hdr().is_some_and(|h| h[0] & 1 != 0)
}

fn rewrite(field: Field) -> RewriteFn {
    Arc::new(move |frame: &mut Frame| {
        let partial = csum_partial(frame);
        let mut key = FlowKey::default();
        let layout: Layout = extract(frame.eth(), 0, &mut key);
        let e = frame.eth_mut();
        let _ = match field {
            Field::EthDst(m) => rw::set_eth_dst(e, m),
            Field::EthSrc(m) => rw::set_eth_src(e, m),
            Field::IpDscp(v) => rw::set_ip_dscp(e, &layout, v),
            Field::IpEcn(v) => rw::set_ip_ecn(e, &layout, v),
            Field::Ipv4Src(a) => rw::set_ipv4_src(e, &layout, Ipv4Addr::from(a), partial),
            Field::Ipv4Dst(a) => rw::set_ipv4_dst(e, &layout, Ipv4Addr::from(a), partial),
            Field::TcpSrc(p) | Field::UdpSrc(p) | Field::SctpSrc(p) => {
                rw::set_tp_src(e, &layout, p, partial)
            }
            Field::TcpDst(p) | Field::UdpDst(p) | Field::SctpDst(p) => {
                rw::set_tp_dst(e, &layout, p, partial)
            }
            Field::Icmpv4Type(t) | Field::Icmpv6Type(t) => {
                rw::set_icmp_type(e, &layout, t, partial)
            }
            Field::Icmpv4Code(c) | Field::Icmpv6Code(c) => {
                rw::set_icmp_code(e, &layout, c, partial)
            }
            Field::ArpOp(o) => rw::set_arp_op(e, &layout, o),
            Field::ArpSpa(a) => rw::set_arp_spa(e, &layout, Ipv4Addr::from(a)),
            Field::ArpTpa(a) => rw::set_arp_tpa(e, &layout, Ipv4Addr::from(a)),
            Field::ArpSha(m) => rw::set_arp_sha(e, &layout, m),
            Field::ArpTha(m) => rw::set_arp_tha(e, &layout, m),
            Field::Ipv6Src(a) => rw::set_ipv6_src(e, &layout, Ipv6Addr::from(a), partial),
            Field::Ipv6Dst(a) => rw::set_ipv6_dst(e, &layout, Ipv6Addr::from(a), partial),
            Field::Ipv6Label(l) => rw::set_ipv6_flabel(e, &layout, l),
            Field::NdTarget(t) => rw::set_nd_target(e, &layout, Ipv6Addr::from(t), partial),
            Field::NdSll(m) => rw::set_nd_sll(e, &layout, m, partial),
            Field::NdTll(m) => rw::set_nd_tll(e, &layout, m, partial),
            Field::MplsLabel(l) => rw::set_mpls_label(e, &layout, l),
            Field::MplsTc(t) => rw::set_mpls_tc(e, &layout, t),
            Field::MplsBos(b) => rw::set_mpls_bos(e, &layout, b),
            Field::MplsTtl(t) => rw::set_mpls_ttl(e, &layout, t),
            Field::NwTtl(t) => rw::set_ip_ttl(e, &layout, t),
            Field::PbbIsid(i) => rw::set_pbb_isid(e, &layout, i),
            // VLAN fields are datapath ops; the tunnel id is pipeline
            // metadata (later tables match it), not a header.
            Field::VlanVid(_) | Field::VlanPcp(_) | Field::TunnelId(_) => Ok(()),
        };
    })
}

/// A rewrite of the frame by an action other than set_field (`None` for
/// actions that are datapath ops of their own). Each works on the frame's
/// layout as extracted at that point, so it sees what earlier actions
/// made of it.
fn action_rewrite(a: Action) -> Option<RewriteFn> {
    fn with_layout(f: impl Fn(&mut Frame, &mut Layout) + Send + Sync + 'static) -> RewriteFn {
        Arc::new(move |frame: &mut Frame| {
            let mut key = FlowKey::default();
            let mut layout = extract(frame.eth(), 0, &mut key);
            f(frame, &mut layout)
        })
    }
    Some(match a {
        Action::SetNwTtl(t) => with_layout(move |f, l| {
            let _ = rw::set_ip_ttl(f.eth_mut(), l, t);
        }),
        Action::SetMplsTtl(t) => with_layout(move |f, l| {
            let _ = rw::set_mpls_ttl(f.eth_mut(), l, t);
        }),
        Action::CopyTtlOut => with_layout(|f, l| {
            let _ = rw::copy_ttl_out(f.eth_mut(), l);
        }),
        Action::CopyTtlIn => with_layout(|f, l| {
            let _ = rw::copy_ttl_in(f.eth_mut(), l);
        }),
        Action::PushMpls(t) => with_layout(move |f, l| {
            let _ = rw::push_mpls(f, l, t);
        }),
        Action::PopMpls(t) => with_layout(move |f, l| {
            let _ = rw::pop_mpls(f, l, t);
        }),
        Action::PushPbb(t) => with_layout(move |f, l| {
            let _ = rw::push_pbb(f, l, t);
        }),
        Action::PopPbb => with_layout(|f, l| {
            let _ = rw::pop_pbb(f, l);
        }),
        _ => return None,
    })
}

/// Translates actions into datapath operations; an output to the
/// controller becomes a packet-in of reason ACTION from table `0xff`
/// (what a PACKET_OUT's actions are).
pub fn compile(actions: &[Action]) -> (Vec<Op>, Vec<RewriteFn>) {
    let pin = |reason| ToController {
        max_len: 0xffff,
        reason,
        table_id: 0xff,
        cookie: u64::MAX,
        metadata: 0,
        tunnel_id: 0,
    };
    compile_with(
        actions,
        |_, max_len| ToController {
            max_len,
            ..pin(PacketInReason::Action)
        },
        |_| pin(PacketInReason::InvalidTtl),
    )
}

/// The packet-in of a TTL that expires at a flow's dec_ttl or
/// dec_mpls_ttl (the whole frame; the flow's table and cookie).
fn invalid_ttl(f: Option<&FlowRef>) -> ToController {
    ToController {
        max_len: 0xffff,
        reason: PacketInReason::InvalidTtl,
        table_id: f.map_or(0, |f| f.flow.table_id),
        cookie: f.map_or(u64::MAX, |f| f.flow.cookie),
        metadata: 0,
        tunnel_id: 0,
    }
}

/// Whether a flow is a table-miss flow (priority 0, matching every
/// packet): its packet-ins have reason NO_MATCH (OpenFlow 1.3, 5.4).
fn is_table_miss_flow(f: &FlowRef) -> bool {
    f.flow.priority == 0 && f.flow.r#match == Match::catch_all()
}

/// Translates a verdict's actions, each output to the controller
/// becoming the packet-in of the flow (or table miss) it came from.
pub fn compile_verdict(v: &Verdict, pipeline: &Pipeline) -> (Vec<Op>, Vec<RewriteFn>) {
    let from_flow = |f: &FlowRef, max_len| ToController {
        max_len,
        reason: if is_table_miss_flow(f) {
            PacketInReason::NoMatch
        } else {
            PacketInReason::Action
        },
        table_id: f.flow.table_id,
        cookie: f.flow.cookie,
        metadata: 0,
        tunnel_id: 0,
    };
    // Apply-actions come first, flow by flow; then the action set, whose
    // output was written last by the last flow writing one; then a miss.
    let mut apply: Vec<&FlowRef> = Vec::new();
    // The flow of each apply-action, in order (they open `v.actions`).
    let mut sources: Vec<&FlowRef> = Vec::new();
    for f in &v.matched {
        for i in &f.flow.instructions {
            if let Instruction::ApplyActions(a) = i {
                apply.extend(
                    a.iter()
                        .filter(|a| matches!(a, Action::Controller { .. }))
                        .map(|_| f),
                );
                sources.extend(a.iter().map(|_| f));
            }
        }
    }
    // A TTL decrement in the action set runs when the last flow is done.
    let ttl = |index: usize| invalid_ttl(sources.get(index).copied().or(v.matched.last()));
    let set_writer = v.set_writer.as_ref();
    let miss = v
        .table_miss
        .filter(|t| matches!(pipeline.table_miss(*t), Some(TableMiss::Controller { .. })));
    let mut k = 0;
    let (mut ops, rewrites) = compile_with(
        &v.actions,
        |index, max_len| {
            let n = k;
            k += 1;
            if let Some(f) = apply.get(n) {
                return from_flow(f, max_len);
            }
            match (miss, set_writer) {
                (Some(table_id), _) if index + 1 == v.actions.len() => ToController {
                    max_len,
                    reason: PacketInReason::NoMatch,
                    table_id,
                    cookie: u64::MAX,
                    metadata: 0,
                    tunnel_id: 0,
                },
                (_, Some(f)) => from_flow(f, max_len),
                _ => ToController {
                    max_len,
                    reason: PacketInReason::Action,
                    table_id: 0,
                    cookie: u64::MAX,
                    metadata: 0,
                    tunnel_id: 0,
                },
            }
        },
        ttl,
    );
    // Each action became exactly one op: its packet-in gets the pipeline
    // context the walk had when it met the action.
    for (op, ctx) in ops.iter_mut().zip(&v.context) {
        if let Op::Controller(to) | Op::DecTtl(to) | Op::DecMplsTtl(to) = op {
            (to.metadata, to.tunnel_id) = *ctx;
        }
    }
    // A meter met after `n` actions goes in at op `n` (later meters
    // first, so earlier indexes hold).
    for (n, m) in v.meters.iter().rev() {
        ops.insert((*n).min(ops.len()), Op::Meter(*m));
    }
    if let Some(r) = &v.resume {
        ops.push(Op::Resume(Arc::new(Continuation::new(r.clone()))));
    }
    (ops, rewrites)
}

/// [`compile`] with the packet-in of the `index`th action chosen by `to`
/// (an output to the controller) or `ttl` (a TTL decrement that expires).
fn compile_with(
    actions: &[Action],
    mut to: impl FnMut(usize, u16) -> ToController,
    ttl: impl Fn(usize) -> ToController,
) -> (Vec<Op>, Vec<RewriteFn>) {
    let mut ops = Vec::with_capacity(actions.len());
    let mut rewrites = Vec::new();
    for (index, a) in actions.iter().enumerate() {
        match *a {
            Action::Output(p) => ops.push(Op::Output(p.0)),
            Action::Controller { max_len } => ops.push(Op::Controller(to(index, max_len))),
            Action::PushVlan(tpid) => ops.push(Op::PushVlan { tpid }),
            Action::PopVlan => ops.push(Op::PopVlan),
            Action::SetField(Field::VlanVid(v)) => ops.push(Op::SetVlanVid(v)),
            Action::SetField(Field::VlanPcp(p)) => ops.push(Op::SetVlanPcp(p)),
            Action::SetField(f) => {
                ops.push(Op::Rewrite(rewrites.len()));
                rewrites.push(rewrite(f));
            }
            Action::DecTtl => ops.push(Op::DecTtl(ttl(index))),
            Action::DecMplsTtl => ops.push(Op::DecMplsTtl(ttl(index))),
            // Resolved when the packet gets there (see `datapath::groups`).
            Action::Group(g) => ops.push(Op::Group(g)),
            // Flows and groups naming a queue are refused (there are
            // none: `pipeline::check_queues`); one op all the same, so
            // that actions and ops stay one to one.
            Action::SetQueue(_) => ops.push(Op::Nop),
            other => match action_rewrite(other) {
                Some(rw) => {
                    ops.push(Op::Rewrite(rewrites.len()));
                    rewrites.push(rw);
                }
                None => ops.push(Op::Nop),
            },
        }
    }
    (ops, rewrites)
}

impl Rules for PipelineRules {
    fn version(&self) -> u64 {
        self.pipeline.version()
    }

    fn group(&self, id: u32) -> Option<Arc<GroupExec>> {
        self.pipeline.group(id).map(|e| Arc::clone(&e.exec))
    }

    fn meter(&self, id: u32) -> Option<Arc<MeterEntry>> {
        self.pipeline.meter(id).cloned()
    }

    fn decide(&self, key: &FlowKey) -> Decision {
        self.decision(self.pipeline.execute(key))
    }

    fn resume(&self, key: &FlowKey, at: &Resume) -> Decision {
        self.decision(self.pipeline.resume(key, at))
    }
}

impl PipelineRules {
    fn decision(&self, v: Verdict) -> Decision {
        let (ops, rewrites) = compile_verdict(&v, &self.pipeline);
        let matched = v.matched;
        let looked_up = v.looked_up;
        let counters = self.pipeline.counters();
        let epoch = self.epoch;
        let hit: Option<Arc<dyn Fn(u64) + Send + Sync>> = if looked_up.is_empty() {
            None
        } else {
            Some(Arc::new(move |bytes: u64| {
                let now = epoch.elapsed().as_millis() as u64;
                for t in &looked_up {
                    if let Some(c) = counters.get(usize::from(*t)) {
                        c.record_lookup();
                    }
                }
                for f in &matched {
                    f.stats.record(1, bytes, now);
                    if let Some(c) = counters.get(usize::from(f.flow.table_id)) {
                        c.record_match();
                    }
                }
            }))
        };
        Decision {
            ops,
            rewrites,
            hit,
            wildcards: Some(v.wildcards),
        }
    }
}
