//! The OpenFlow pipeline as datapath [`Rules`]: a verdict's actions turned
//! into datapath operations, header rewrites into closures over
//! `vnet-wire`'s rewrite functions, and matched flows' counters bumped on
//! every packet (cache hits included).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Instant;

use vnet_wire::rewrite as rw;
use vnet_wire::{extract, FlowKey, Layout};

use crate::datapath::{Decision, Op, RewriteFn, Rules};
use crate::flow::{Action, Field};
use crate::frame::Frame;
use crate::pipeline::Pipeline;

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

fn rewrite(field: Field) -> Option<RewriteFn> {
    let f: RewriteFn = Arc::new(move |frame: &mut Frame| {
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
            // VLAN fields are datapath ops; tunnel ids need a tunnel port.
            Field::VlanVid(_) | Field::VlanPcp(_) | Field::TunnelId(_) => Ok(()),
        };
    });
    Some(f)
}

fn ttl_rewrite(set: Option<u8>) -> RewriteFn {
    Arc::new(move |frame: &mut Frame| {
        let mut key = FlowKey::default();
        let layout = extract(frame.eth(), 0, &mut key);
        let e = frame.eth_mut();
        let _ = match set {
            Some(t) => rw::set_ip_ttl(e, &layout, t),
            None => rw::dec_ttl(e, &layout).map(drop),
        };
    })
}

/// Translates pipeline actions into datapath operations.
pub fn compile(actions: &[Action]) -> (Vec<Op>, Vec<RewriteFn>) {
    let mut ops = Vec::with_capacity(actions.len());
    let mut rewrites = Vec::new();
    for a in actions {
        match *a {
            Action::Output(p) => ops.push(Op::Output(p.0)),
            Action::Controller { .. } => ops.push(Op::Controller),
            Action::PushVlan(tpid) => ops.push(Op::PushVlan { tpid }),
            Action::PopVlan => ops.push(Op::PopVlan),
            Action::SetField(Field::VlanVid(v)) => ops.push(Op::SetVlanVid(v)),
            Action::SetField(Field::VlanPcp(p)) => ops.push(Op::SetVlanPcp(p)),
            Action::SetField(f) => {
                if let Some(r) = rewrite(f) {
                    ops.push(Op::Rewrite(rewrites.len()));
                    rewrites.push(r);
                }
            }
            Action::DecTtl => {
                ops.push(Op::Rewrite(rewrites.len()));
                rewrites.push(ttl_rewrite(None));
            }
            Action::SetNwTtl(t) => {
                ops.push(Op::Rewrite(rewrites.len()));
                rewrites.push(ttl_rewrite(Some(t)));
            }
            // Groups and queues are not implemented by this datapath yet.
            Action::Group(_) | Action::SetQueue(_) => {}
        }
    }
    (ops, rewrites)
}

impl Rules for PipelineRules {
    fn version(&self) -> u64 {
        self.pipeline.version()
    }

    fn decide(&self, key: &FlowKey) -> Decision {
        let v = self.pipeline.execute(key);
        let (ops, rewrites) = compile(&v.actions);
        let matched = v.matched;
        let epoch = self.epoch;
        let hit: Option<Arc<dyn Fn(u64) + Send + Sync>> = if matched.is_empty() {
            None
        } else {
            Some(Arc::new(move |bytes: u64| {
                let now = epoch.elapsed().as_millis() as u64;
                for f in &matched {
                    f.stats.record(1, bytes, now);
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
