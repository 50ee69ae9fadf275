//! Carrying out a connection's requests against the switch: FLOW_MODs
//! (batched, each answered on its own), GROUP_MOD and METER_MOD (after
//! the flow-mods before them, published at once), PACKET_OUT, the
//! MULTIPART replies (groups and meters from the switch's tables),
//! FEATURES, BARRIER, PORT_MOD and TABLE_MOD, and role changes.
//!
//! What it must never do: answer out of order, or let a request see the
//! switch without the flow-mods sent before it.

use vnet_openflow::conn::{ConnEvent, Request as OfRequest};
use vnet_openflow::error::*;
use vnet_openflow::msg::basic::{
    ControllerRole, SwitchFeatures, OFPC_FLOW_STATS, OFPC_GROUP_STATS, OFPC_PORT_STATS,
    OFPC_TABLE_STATS,
};
use vnet_openflow::msg::flow::{PacketOut, OFP_NO_BUFFER};
use vnet_openflow::msg::group::OFPG_ALL;
use vnet_openflow::msg::meter::OFPM_ALL;
use vnet_openflow::msg::{Message, OFPP_ANY, OFPP_CONTROLLER, OFPP_LOCAL, OFPTT_ALL};
use vnet_openflow::multipart::{
    AggregateStats, Desc, FlowStatsEntry, GroupDesc, GroupFeatures, GroupStats, MeterConfig,
    MeterFeatures, MeterStats, MultipartReply, MultipartReplyBody as Body, MultipartRequest,
    MultipartRequestBody as ReqBody, TableFeatures, TableStats,
};
use vnet_openflow::port::{PortMod, PortStats};
use vnet_openflow::MAX_MESSAGE_LEN;
use vnet_switch::flow::FlowMod;

use super::{
    datapath_id, lock_set, read_macs, set_ports, Worker, MAX_ENTRIES, PUBLISH_DELAY, SAVE_DELAY,
};
use crate::switchset::SwitchSet;

/// One queued FLOW_MOD of a batch.
struct PendingMod {
    xid: u32,
    head: Vec<u8>,
    fm: FlowMod,
    buffer_id: u32,
}

impl Worker {
    /// Carries out a batch of events of peer `i`, in order.
    pub(super) fn handle_events(&mut self, i: usize, events: Vec<ConnEvent>, now: u64) {
        let needs_switch = events.iter().any(|e| matches!(e, ConnEvent::Request(_)));
        let arc = if needs_switch {
            self.set.upgrade()
        } else {
            None
        };
        let mut guard = match &arc {
            Some(a) => lock_set(a, &self.stop),
            None => None,
        };
        let mut batch = Vec::new();
        for ev in events {
            match ev {
                ConnEvent::Connected { .. } => {
                    let via = self.via(self.peers[i].origin);
                    self.log(format_args!(
                        "connection {} via {via}: OpenFlow 1.3 up",
                        self.peers[i].remote
                    ));
                }
                ConnEvent::PeerError { xid, error } => self.log(format_args!(
                    "connection {}: peer sent error {} (xid {xid})",
                    self.peers[i].remote,
                    ErrorName(error.kind())
                )),
                ConnEvent::Closed(r) => self.closing(i, now, &r.to_string()),
                ConnEvent::RoleRequest {
                    xid,
                    role,
                    generation_id,
                    head,
                } => {
                    let verdict = self
                        .arbiter
                        .check(role, generation_id)
                        .map(|()| self.arbiter.generation().unwrap_or(generation_id));
                    if verdict.is_ok() && role == ControllerRole::Master {
                        for (j, p) in self.peers.iter_mut().enumerate() {
                            if j != i {
                                p.conn.demote();
                            }
                        }
                    }
                    self.peers[i].conn.answer_role(xid, role, verdict, &head);
                }
                ConnEvent::Request(req) => {
                    if let Some(set) = guard.as_deref_mut() {
                        self.request(set, i, req, &mut batch);
                    }
                }
            }
        }
        if let Some(set) = guard.as_deref_mut() {
            self.flush_mods(set, i, &mut batch);
        }
    }

    /// Applies the queued FLOW_MODs (each on its own) and publishes them.
    fn flush_mods(&mut self, set: &mut SwitchSet, i: usize, batch: &mut Vec<PendingMod>) {
        if batch.is_empty() {
            return;
        }
        let mods: Vec<FlowMod> = batch.iter().map(|m| m.fm.clone()).collect();
        let results = set.apply_flow_mods(&self.switch, &mods);
        let now = self.now();
        self.publish_at.get_or_insert(now + PUBLISH_DELAY);
        self.save_at.get_or_insert(now + SAVE_DELAY);
        let conn = &mut self.peers[i].conn;
        for (m, r) in batch.drain(..).zip(results) {
            if let Err(kind) = r {
                conn.send_error(m.xid, kind, &m.head);
            } else if m.buffer_id != OFP_NO_BUFFER {
                conn.send_error(m.xid, OFPBRC_BUFFER_UNKNOWN, &m.head);
            }
        }
    }

    fn request(
        &mut self,
        set: &mut SwitchSet,
        i: usize,
        req: OfRequest,
        batch: &mut Vec<PendingMod>,
    ) {
        let OfRequest { xid, msg, head } = req;
        if let Message::FlowMod(fm) = &msg {
            match fm.to_switch() {
                Ok(f) => batch.push(PendingMod {
                    xid,
                    head,
                    fm: f,
                    buffer_id: fm.buffer_id,
                }),
                Err(e) => self.peers[i].conn.send_error(xid, e.kind, &head),
            }
            return;
        }
        // Everything else sees the flow-mods before it, in the datapath too.
        self.flush_mods(set, i, batch);
        if self.publish_at.take().is_some() {
            set.publish_flow_mods(&self.switch, false);
        }
        let reply: Result<Option<Message>, ErrorKind> = match msg {
            Message::FeaturesRequest => Ok(Some(Message::FeaturesReply(SwitchFeatures {
                datapath_id: datapath_id(&self.lab, &self.switch),
                n_buffers: 0,
                n_tables: set
                    .pipeline(&self.switch)
                    .map_or(0, |p| p.n_tables().min(254) as u8),
                auxiliary_id: 0,
                capabilities: OFPC_FLOW_STATS
                    | OFPC_TABLE_STATS
                    | OFPC_PORT_STATS
                    | OFPC_GROUP_STATS,
            }))),
            Message::BarrierRequest => Ok(Some(Message::BarrierReply)),
            Message::PacketOut(po) => self.packet_out(set, &po).map(|()| None),
            Message::MultipartRequest(mp) => match self.multipart(set, &mp) {
                Ok(body) => {
                    let reply = MultipartReply { flags: 0, body };
                    let conn = &mut self.peers[i].conn;
                    for part in reply.encode_split(xid, MAX_MESSAGE_LEN) {
                        conn.send_raw(&part);
                    }
                    Ok(None)
                }
                Err(k) => Err(k),
            },
            Message::PortMod(pm) => self.port_mod(set, &pm).map(|()| None),
            Message::TableMod(tm) => {
                let n = set.pipeline(&self.switch).map_or(0, |p| p.n_tables());
                if tm.table_id != OFPTT_ALL && usize::from(tm.table_id) >= n {
                    Err(OFPTMFC_BAD_TABLE)
                } else if tm.config != 0 && tm.config != 3 {
                    Err(OFPTMFC_BAD_CONFIG)
                } else {
                    Ok(None)
                }
            }
            Message::GroupMod(gm) => {
                let applied = gm
                    .to_switch()
                    .map_err(|e| e.kind)
                    .and_then(|g| set.apply_group_mod(&self.switch, &g));
                self.published_now(set, applied.is_ok());
                applied.map(|()| None)
            }
            Message::MeterMod(mm) => {
                let applied = mm
                    .to_switch()
                    .map_err(|e| e.kind)
                    .and_then(|m| set.apply_meter_mod(&self.switch, &m));
                self.published_now(set, applied.is_ok());
                applied.map(|()| None)
            }
            _ => Err(OFPBRC_BAD_TYPE),
        };
        let conn = &mut self.peers[i].conn;
        match reply {
            Ok(Some(m)) => conn.send(xid, &m),
            Ok(None) => {}
            Err(kind) => conn.send_error(xid, kind, &head),
        }
    }

    /// After a GROUP_MOD or METER_MOD: the datapath sees it at once (the
    /// cached decisions of the old tables die with the old version); the
    /// files a little later, as for flow-mods.
    fn published_now(&mut self, set: &mut SwitchSet, changed: bool) {
        if changed {
            set.publish_flow_mods(&self.switch, false);
            self.save_at.get_or_insert(self.now() + SAVE_DELAY);
        }
    }

    fn packet_out(&mut self, set: &mut SwitchSet, po: &PacketOut) -> Result<(), ErrorKind> {
        if po.buffer_id != OFP_NO_BUFFER {
            return Err(OFPBRC_BUFFER_UNKNOWN);
        }
        let in_port = po.in_port;
        let known = self.ports.iter().any(|p| p.ofport == in_port)
            || set_ports(set, &self.switch)
                .iter()
                .any(|p| p.ofport == in_port);
        if !(known || matches!(in_port, OFPP_CONTROLLER | OFPP_LOCAL | OFPP_ANY)) {
            return Err(OFPBRC_BAD_PORT);
        }
        let actions = po.actions_to_switch().map_err(|e| e.kind)?;
        // No queues exist: set_queue would otherwise do nothing, silently.
        vnet_switch::pipeline::check_queues(&actions).map_err(|_| OFPBAC_BAD_QUEUE)?;
        let pipeline = set.pipeline(&self.switch).ok_or(OFPBRC_EPERM)?;
        for a in &actions {
            if let vnet_switch::flow::Action::Group(g) = a {
                if pipeline.group(*g).is_none() {
                    return Err(OFPBAC_BAD_OUT_GROUP);
                }
            }
        }
        if po.data.is_empty() {
            return Ok(());
        }
        let (ops, rewrites) = vnet_switch::rules::compile(&actions);
        // Through the datapath thread's queue, not its lock: under a miss
        // flood that thread re-takes the lock back to back and a packet-out
        // waiting on it would starve.
        let injector = set.injector(&self.switch).ok_or(OFPBRC_EPERM)?;
        injector.inject(vnet_switch::runtime::Injected {
            in_port,
            data: po.data.clone(),
            ops,
            rewrites,
        });
        Ok(())
    }

    fn port_mod(&mut self, set: &mut SwitchSet, pm: &PortMod) -> Result<(), ErrorKind> {
        let ports = set_ports(set, &self.switch);
        let Some(p) = ports.iter().find(|p| p.ofport == pm.port_no) else {
            return Err(OFPPMFC_BAD_PORT);
        };
        let desc = self.port_desc(p);
        if desc.hw_addr != [0; 6] && desc.hw_addr != pm.hw_addr {
            return Err(OFPPMFC_BAD_HW_ADDR);
        }
        use vnet_switch::datapath::port_config::{PORT_DOWN, SUPPORTED};
        if pm.mask & !SUPPORTED != 0 {
            return Err(OFPPMFC_BAD_CONFIG);
        }
        // Nothing to advertise: no speeds or media can be chosen.
        if pm.advertise != 0 {
            return Err(OFPPMFC_BAD_ADVERTISE);
        }
        let dp = set.datapath(&self.switch).ok_or(OFPBRC_EPERM)?;
        let old = dp.lock().map_err(|_| OFPBRC_EPERM)?.port_config(p.ofport);
        let new = (old & !pm.mask) | (pm.config & pm.mask);
        if (old ^ new) & PORT_DOWN != 0 {
            let ns = set.netns_of(&self.switch).ok_or(OFPBRC_EPERM)?;
            set_admin_up(&ns, &p.name, new & PORT_DOWN == 0).map_err(|e| {
                self.log(format_args!("PORT_MOD of {}: {e}", p.name));
                OFPPMFC_EPERM
            })?;
        }
        dp.lock()
            .map_err(|_| OFPBRC_EPERM)?
            .set_port_config(p.ofport, new);
        self.ports_changed = true;
        Ok(())
    }

    fn multipart(&mut self, set: &mut SwitchSet, mp: &MultipartRequest) -> Result<Body, ErrorKind> {
        let pipeline = set.pipeline(&self.switch).ok_or(OFPBRC_EPERM)?;
        let n_tables = pipeline.n_tables();
        let now = set.clock();
        Ok(match &mp.body {
            ReqBody::Desc => Body::Desc(Desc {
                mfr_desc: "vnet".into(),
                hw_desc: "vnet userspace switch".into(),
                sw_desc: format!("vnet {}", env!("CARGO_PKG_VERSION")),
                serial_num: "None".into(),
                dp_desc: format!("switch {} of lab {}", self.switch, self.lab),
            }),
            ReqBody::Flow(req) | ReqBody::Aggregate(req) => {
                let (table, sel) = req.to_selector().map_err(|e| e.kind)?;
                if table != OFPTT_ALL && usize::from(table) >= n_tables {
                    return Err(OFPBRC_BAD_TABLE_ID);
                }
                let flows: Vec<_> = pipeline
                    .tables()
                    .filter(|(t, _)| table == OFPTT_ALL || *t == table)
                    .flat_map(|(_, t)| t.select(&sel))
                    .collect();
                if matches!(mp.body, ReqBody::Flow(_)) {
                    Body::Flow(
                        flows
                            .iter()
                            .filter_map(|f| FlowStatsEntry::from_switch(f, now).ok())
                            .collect(),
                    )
                } else {
                    Body::Aggregate(AggregateStats::of(flows))
                }
            }
            ReqBody::Table => Body::Table(
                pipeline
                    .tables()
                    .map(|(id, t)| {
                        let c = pipeline.table_counters(id);
                        TableStats {
                            table_id: id,
                            active_count: t.len() as u32,
                            lookup_count: c.map_or(0, |c| c.lookups()),
                            matched_count: c.map_or(0, |c| c.matched()),
                        }
                    })
                    .collect(),
            ),
            ReqBody::TableFeatures(t) if t.is_empty() => Body::TableFeatures(
                (0..n_tables.min(254) as u8)
                    .map(|id| TableFeatures::supported(id, n_tables as u8, MAX_ENTRIES))
                    .collect(),
            ),
            ReqBody::TableFeatures(_) => return Err(OFPTFFC_EPERM),
            ReqBody::PortStats { port_no } => {
                let dp = set.datapath(&self.switch).ok_or(OFPBRC_EPERM)?;
                let dp = dp.lock().map_err(|_| OFPBRC_EPERM)?;
                let (sec, nsec) = vnet_openflow::msg::flow::duration(now, 0);
                let stats: Vec<PortStats> = dp
                    .ports
                    .iter()
                    .filter(|p| *port_no == OFPP_ANY || p.ofport == *port_no)
                    .map(|p| PortStats {
                        port_no: p.ofport,
                        rx_packets: p.stats.rx_packets,
                        tx_packets: p.stats.tx_packets,
                        rx_bytes: p.stats.rx_bytes,
                        tx_bytes: p.stats.tx_bytes,
                        rx_dropped: p.stats.rx_dropped,
                        tx_dropped: p.stats.tx_dropped,
                        duration_sec: sec,
                        duration_nsec: nsec,
                        ..PortStats::default()
                    })
                    .collect();
                if stats.is_empty() && *port_no != OFPP_ANY {
                    return Err(OFPBRC_BAD_PORT);
                }
                Body::PortStats(stats)
            }
            ReqBody::PortDesc => {
                let ports = set_ports(set, &self.switch);
                if ports != self.ports {
                    if let Some(ns) = set.netns_of(&self.switch) {
                        self.macs = read_macs(&ns);
                    }
                    self.ports = ports;
                }
                Body::PortDesc(self.ports.iter().map(|p| self.port_desc(p)).collect())
            }
            ReqBody::Queue { .. } => Body::Queue(vec![]),
            ReqBody::Group { group_id } => {
                let refs = pipeline.group_ref_counts();
                Body::Group(
                    pipeline
                        .groups()
                        .filter(|e| *group_id == OFPG_ALL || e.group.id == *group_id)
                        .map(|e| {
                            let n = refs.get(&e.group.id).copied().unwrap_or(0);
                            GroupStats::from_switch(e, n, now)
                        })
                        .collect(),
                )
            }
            ReqBody::GroupDesc => Body::GroupDesc(
                pipeline
                    .groups()
                    .map(|e| GroupDesc::from_switch(&e.group))
                    .collect(),
            ),
            ReqBody::GroupFeatures => Body::GroupFeatures(GroupFeatures::supported()),
            ReqBody::Meter { meter_id } => {
                let flows = pipeline.meter_flow_counts();
                Body::Meter(
                    pipeline
                        .meters()
                        .filter(|e| *meter_id == OFPM_ALL || e.meter.id == *meter_id)
                        .map(|e| {
                            let n = flows.get(&e.meter.id).copied().unwrap_or(0);
                            MeterStats::from_switch(e, n, now)
                        })
                        .collect(),
                )
            }
            ReqBody::MeterConfig { meter_id } => Body::MeterConfig(
                pipeline
                    .meters()
                    .filter(|e| *meter_id == OFPM_ALL || e.meter.id == *meter_id)
                    .map(|e| MeterConfig::from_switch(&e.meter))
                    .collect(),
            ),
            ReqBody::MeterFeatures => Body::MeterFeatures(MeterFeatures::supported()),
        })
    }
}

/// Sets a switch port's device administratively up or down (PORT_MOD's
/// PORT_DOWN), in the switch's namespace.
fn set_admin_up(netns: &str, name: &str, up: bool) -> Result<(), String> {
    let ns = vnet_sys::Netns::open(netns).map_err(|e| e.to_string())?;
    ns.run(|| {
        let mut nl = vnet_sys::Netlink::open().map_err(|e| e.to_string())?;
        let index = nl.index_of(name).map_err(|e| e.to_string())?;
        nl.set_up(index, up).map_err(|e| e.to_string())
    })
    .map_err(|e| e.to_string())?
}
