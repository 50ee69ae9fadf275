//! The daemon's switches: built from the lab state and kept in step with
//! it, programmed through the control protocol.
//!
//! Source of truth, so a restarted daemon comes back identical:
//! - ports: the lab as last applied (`lab.json`), numbered stably through
//!   `ports.json`;
//! - flows: `flows-SWITCH.txt`, rewritten after every change (ovs-ofctl
//!   syntax, one per line), with the groups and meters they use beside it
//!   (`groups-SWITCH.txt`, `meters-SWITCH.txt`, see `groups`); when absent, the lab file's `flows:` — or, when
//!   the file gives none, `priority=0,actions=normal` as Open vSwitch does.
//!   `flows-SWITCH.lab` remembers the lab file's flows last installed, so a
//!   changed lab file replaces them on reload. A `secure` OpenFlow switch
//!   gets no default flow: it forwards only what controllers install.
//! - OpenFlow settings (listeners, controllers, fail mode): the lab file's
//!   `openflow:`, or what `set-controller` set since
//!   (`openflow-SWITCH.json`); `openflow-SWITCH.lab` remembers the lab
//!   file's, so a changed lab file wins again. Each switch with targets
//!   runs an [`OfService`] (see `crate::openflow`).
//!
//! The standalone switches' daemon (`crate::standalone`) is the same set
//! under the pseudo-lab `@switches`: its switches and ports come from
//! `switches.json` instead of the lab, and it opens their ports itself
//! (each port has its own namespace).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use serde_json::json;
use vnet_openflow::msg::flow::FlowRemoved;
use vnet_switch::control::{Reply, Request};
use vnet_switch::flow::{FlowFlags, FlowMod, FlowModCommand, RemovedFlow};
use vnet_switch::ofctl;
use vnet_switch::pipeline::{Pipeline, TableMiss};
use vnet_switch::rules::PipelineRules;
use vnet_switch::runtime::{SwitchConfig, SwitchHandle};
use vnet_sys::netlink::format_mac;
use vnet_topo::lab::FailMode;
use vnet_topo::state::{lab_dir, read_applied};

use crate::openflow::{ControlRequest, Notice, OfService, Settings};
use crate::switchd::switch_configs;

mod groups;
use groups::{LabGroupsMeters, SyncPhase};

/// The flow a switch starts with when its lab file gives none.
pub const DEFAULT_FLOW: &str = "priority=0,actions=normal";
const TABLES: usize = 16;

struct Running {
    handle: SwitchHandle,
    pipeline: Pipeline,
}

pub struct SwitchSet {
    lab: String,
    epoch: Instant,
    switches: BTreeMap<String, Running>,
    /// The OpenFlow side of each switch with OpenFlow settings.
    openflow: BTreeMap<String, OfState>,
    /// This set, for the OpenFlow threads (empty for [`SwitchSet::new`]).
    me: Weak<Mutex<SwitchSet>>,
    /// For the standalone switches' daemon ([`crate::standalone`]): the
    /// switches as `switches.json` last gave them (empty for a lab).
    vswitches: BTreeMap<String, crate::standalone::VSwitch>,
}

/// A switch's OpenFlow settings and service.
struct OfState {
    settings: Settings,
    service: Option<OfService>,
    /// Whether any connection is up (the fail mode acts when none is).
    connected: bool,
    /// Flow-mods applied but not yet published to the datapath, or not
    /// yet saved (see `publish_flow_mods`).
    dirty: bool,
    unsaved: bool,
}

impl SwitchSet {
    pub fn new(lab: &str) -> SwitchSet {
        SwitchSet {
            lab: lab.to_string(),
            epoch: Instant::now(),
            switches: BTreeMap::new(),
            openflow: BTreeMap::new(),
            me: Weak::new(),
            vswitches: BTreeMap::new(),
        }
    }

    /// A set the OpenFlow services can reach (they need it to apply
    /// flow-mods).
    pub fn shared(lab: &str) -> Arc<Mutex<SwitchSet>> {
        Arc::new_cyclic(|me| {
            let mut s = SwitchSet::new(lab);
            s.me = me.clone();
            Mutex::new(s)
        })
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn path(&self, file: &str) -> PathBuf {
        lab_dir(&self.lab).join(file)
    }

    /// Re-reads the lab and reconciles switches, ports and lab-file flows.
    pub fn reload(&mut self) -> Result<()> {
        let (lab, configs) = if self.lab == crate::standalone::DIR_NAME {
            self.standalone_configs()?
        } else {
            self.lab_configs()?
        };

        let wanted: Vec<String> = configs.iter().map(|c| c.name.clone()).collect();
        let gone: Vec<String> = self
            .switches
            .keys()
            .filter(|k| !wanted.contains(k))
            .cloned()
            .collect();
        for g in gone {
            if let Some(mut r) = self.switches.remove(&g) {
                r.handle.stop();
            }
            let _ = std::fs::remove_file(self.path(&format!("flows-{g}.txt")));
            let _ = std::fs::remove_file(self.path(&format!("flows-{g}.lab")));
            self.remove_groups_meters(&g);
            self.forget_openflow(&g);
        }
        // One switch's trouble (a port whose device is missing, a bad flow
        // in the file) must not keep the lab's other switches down: each
        // switch is reconciled, and the errors reported together.
        let mut errors = Vec::new();
        for config in configs {
            let name = config.name.clone();
            if let Err(e) = self.reload_switch(&lab, config) {
                errors.push(format!("{e:#}"));
            }
            if let Err(e) = self.sync_openflow(&lab, &name) {
                errors.push(format!("{e:#}"));
            }
            if let Some(r) = self.switches.get(&name) {
                errors.extend(r.handle.failed_ports.iter().map(|e| e.to_string()));
            }
        }
        if !errors.is_empty() {
            return Err(anyhow!(errors.join("; ")));
        }
        Ok(())
    }

    /// The lab's switches, numbered stably through `ports.json`.
    fn lab_configs(&self) -> Result<(vnet_topo::lab::Lab, Vec<SwitchConfig>)> {
        let applied =
            read_applied(&self.lab)?.ok_or_else(|| anyhow!("lab {} is not up", self.lab))?;
        let ports_path = self.path("ports.json");
        let previous: BTreeMap<String, BTreeMap<String, u32>> = std::fs::read(&ports_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let configs = switch_configs(&applied.lab, &previous);
        let numbering: BTreeMap<String, BTreeMap<String, u32>> = configs
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    c.ports.iter().map(|p| (p.name.clone(), p.ofport)).collect(),
                )
            })
            .collect();
        std::fs::write(&ports_path, serde_json::to_vec_pretty(&numbering)?)?;
        Ok((applied.lab, configs))
    }

    /// The standalone switches of `switches.json` (numbered there), as
    /// switches of a lab without nodes: no lab-file flows or OpenFlow
    /// settings, so flows and controllers are what the verbs set.
    fn standalone_configs(&mut self) -> Result<(vnet_topo::lab::Lab, Vec<SwitchConfig>)> {
        let config = crate::standalone::Config::load()?;
        let configs = config.switches.iter().map(|s| s.switch_config()).collect();
        self.vswitches = config
            .switches
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect();
        let lab = vnet_topo::lab::Lab {
            name: self.lab.clone(),
            nodes: vec![],
            links: vec![],
        };
        Ok((lab, configs))
    }

    /// Starts or reconfigures one switch and brings its lab-file flows up
    /// to date.
    fn reload_switch(&mut self, lab: &vnet_topo::lab::Lab, config: SwitchConfig) -> Result<()> {
        let lab_flows: Vec<String> = lab
            .node(&config.name)
            .map(|n| n.flows.clone())
            .unwrap_or_default();
        let secure = lab
            .node(&config.name)
            .and_then(|n| n.openflow.as_ref())
            .is_some_and(|of| of.fail_mode == FailMode::Secure);
        let lab_gm = LabGroupsMeters::of(lab, &config.name);
        let lab_flows = if lab_flows.is_empty() && !secure {
            vec![DEFAULT_FLOW.to_string()]
        } else {
            lab_flows
        };
        match self.switches.get_mut(&config.name) {
            Some(r) => match self.vswitches.get(&config.name) {
                Some(v) => crate::standalone::reconfigure(&mut r.handle, v),
                None => r.handle.reconfigure(config.clone())?,
            },
            None => {
                let handle = match self.vswitches.get(&config.name) {
                    Some(v) => crate::standalone::start(v)?,
                    None => SwitchHandle::start(config.clone())?,
                };
                let mut pipeline = Pipeline::new(TABLES);
                let saved =
                    std::fs::read_to_string(self.path(&format!("flows-{}.txt", config.name))).ok();
                let name = config.name.clone();
                self.switches.insert(
                    name.clone(),
                    Running {
                        handle,
                        pipeline: Pipeline::new(TABLES),
                    },
                );
                // Meters and groups first: flows name them. Saved state
                // (a restart) wins over the lab file's lists (a first start).
                let first_start = saved.is_none();
                let text = saved.unwrap_or_else(|| lab_flows.join("\n"));
                let groups_meters = if first_start {
                    self.install_lab_groups_meters(&name, &mut pipeline, &lab_gm)
                } else {
                    self.load_groups_meters(&name, &mut pipeline)
                };
                let installed = groups_meters
                    .and_then(|()| self.parse_mods(&name, &text))
                    .and_then(|mods| {
                        let now = self.now();
                        mods.iter().try_for_each(|m| {
                            pipeline
                                .apply(m, now)
                                .map(drop)
                                .map_err(|e| anyhow!("switch {name}: {e}"))
                        })
                    });
                if let Err(e) = installed {
                    // Not left running without its flows (and without a
                    // record of the file's flows, so that a fixed file
                    // would not be installed): the next reload starts it
                    // afresh.
                    if let Some(mut r) = self.switches.remove(&name) {
                        r.handle.stop();
                    }
                    return Err(e);
                }
                if let Some(r) = self.switches.get_mut(&name) {
                    r.pipeline = pipeline;
                }
                self.publish(&name)?;
            }
        }
        self.sync_lab_groups_meters(&config.name, &lab_gm, SyncPhase::AddChange)?;
        self.sync_lab_flows(&config.name, &lab_flows)?;
        self.sync_lab_groups_meters(&config.name, &lab_gm, SyncPhase::Remove)
    }

    /// Replaces the lab-file flows installed earlier when the file changed.
    fn sync_lab_flows(&mut self, name: &str, lab_flows: &[String]) -> Result<()> {
        let path = self.path(&format!("flows-{name}.lab"));
        let before: Vec<String> = std::fs::read_to_string(&path)
            .map(|t| t.lines().map(str::to_string).collect())
            .unwrap_or_else(|_| lab_flows.to_vec());
        if before != lab_flows {
            let now = self.now();
            let old = self
                .parse_mods(name, &before.join("\n"))
                .unwrap_or_default();
            let new = self.parse_mods(name, &lab_flows.join("\n"))?;
            let r = self
                .switches
                .get_mut(name)
                .ok_or_else(|| anyhow!("no switch {name}"))?;
            for mut m in old {
                m.command = FlowModCommand::DeleteStrict;
                let _ = r.pipeline.apply(&m, now);
            }
            for m in &new {
                r.pipeline
                    .apply(m, now)
                    .map_err(|e| anyhow!("switch {name}: {e}"))?;
            }
            self.publish(name)?;
        }
        std::fs::write(&path, lab_flows.join("\n"))?;
        Ok(())
    }

    fn port_number(&self, switch: &str, name: &str) -> Option<u32> {
        self.switches
            .get(switch)?
            .handle
            .config
            .ports
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.ofport)
    }

    fn port_name(&self, switch: &str, n: u32) -> Option<String> {
        self.switches
            .get(switch)?
            .handle
            .config
            .ports
            .iter()
            .find(|p| p.ofport == n)
            .map(|p| p.name.clone())
    }

    fn parse_mods(&self, switch: &str, text: &str) -> Result<Vec<FlowMod>> {
        let names = |n: &str| self.port_number(switch, n);
        ofctl::parse_flows_file(text, &names).map_err(|e| {
            anyhow!(
                "switch {switch}: line {}, column {}: {}",
                e.line,
                e.column,
                e.error
            )
        })
    }

    /// Publishes the pipeline to the datapath and saves the flows.
    fn publish(&mut self, name: &str) -> Result<()> {
        self.publish_rules(name)?;
        self.save_flows(name)
    }

    /// Hands the datapath a snapshot of the pipeline.
    fn publish_rules(&self, name: &str) -> Result<()> {
        let r = self
            .switches
            .get(name)
            .ok_or_else(|| anyhow!("no switch {name}"))?;
        let rules = Arc::new(PipelineRules::new(r.pipeline.snapshot(), self.epoch));
        r.handle
            .dp
            .lock()
            .map_err(|_| anyhow!("switch {name}: datapath lock poisoned"))?
            .set_rules(rules);
        Ok(())
    }

    /// Rewrites `flows-SWITCH.txt` with the pipeline's flows.
    fn save_flows(&self, name: &str) -> Result<()> {
        let r = self
            .switches
            .get(name)
            .ok_or_else(|| anyhow!("no switch {name}"))?;
        let labels = |n: u32| self.port_name(name, n);
        let text: String = r
            .pipeline
            .flows()
            .map(|f| ofctl::format_flow_spec(&f.flow, &labels) + "\n")
            .collect();
        let path = self.path(&format!("flows-{name}.txt"));
        let tmp = self.path(&format!("flows-{name}.txt.tmp"));
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .context("save flows")?;
        self.save_groups_meters(name)
    }

    /// Removes flows whose timeouts passed; republishes when any did.
    /// Also refreshes the link state fast-failover groups watch.
    /// Also tells the OpenFlow service of each switch that had a port
    /// detached from its device or re-attached to a new one.
    pub fn expire(&mut self) {
        for (name, r) in &self.switches {
            if r.handle.take_ports_changed() {
                if let Some(s) = self.openflow.get(name).and_then(|o| o.service.as_ref()) {
                    s.notify(Notice::PortsChanged);
                }
            }
        }
        let now = self.now();
        let names: Vec<String> = self.switches.keys().cloned().collect();
        for n in names {
            let removed = self
                .switches
                .get_mut(&n)
                .map(|r| r.pipeline.expire(now))
                .unwrap_or_default();
            if !removed.is_empty() {
                let _ = self.publish(&n);
                self.flows_removed(&n, &removed, now);
            }
        }
    }

    pub fn stop_all(&mut self) {
        for (_, mut of) in std::mem::take(&mut self.openflow) {
            if let Some(s) = &mut of.service {
                s.stop();
            }
        }
        for (_, mut r) in std::mem::take(&mut self.switches) {
            r.handle.stop();
        }
    }

    pub fn handle(&mut self, req: Request) -> Reply {
        match self.try_handle(req) {
            Ok(r) => r,
            Err(e) => Reply::err(format!("{e:#}")),
        }
    }

    fn try_handle(&mut self, req: Request) -> Result<Reply> {
        let now = self.now();
        match req {
            Request::Ping => Ok(Reply::ok("pong", serde_json::Value::Null)),
            Request::Reload => self
                .reload()
                .map(|()| Reply::ok("", serde_json::Value::Null)),
            Request::Shutdown => Ok(Reply::ok("", serde_json::Value::Null)),
            Request::AddFlow { switch, flow } => {
                let fm = {
                    let names = |n: &str| self.port_number(&switch, n);
                    let flow = ofctl::parse_flow(&flow, &names).map_err(|e| anyhow!("{e}"))?;
                    FlowMod::add(flow)
                };
                self.apply(&switch, &[fm], now)
            }
            Request::AddFlows { switch, text } => {
                let mods = self.parse_mods(&switch, &text)?;
                self.apply(&switch, &mods, now)
            }
            Request::DelFlows {
                switch,
                r#match,
                strict,
            } => {
                let command = if strict {
                    FlowModCommand::DeleteStrict
                } else {
                    FlowModCommand::Delete
                };
                let fm = {
                    let names = |n: &str| self.port_number(&switch, n);
                    ofctl::parse_flow_mod(r#match.as_deref().unwrap_or(""), command, &names)
                        .map_err(|e| anyhow!("{e}"))?
                };
                self.apply(&switch, &[fm], now)
            }
            Request::DumpFlows { switch } => {
                let r = self
                    .switches
                    .get(&switch)
                    .ok_or_else(|| anyhow!("no switch {switch}"))?;
                let labels = |n: u32| self.port_name(&switch, n);
                let mut text = String::new();
                let mut data = Vec::new();
                for f in r.pipeline.flows() {
                    text.push_str(&ofctl::format_flow(&f.flow, &f.stats, now, &labels));
                    text.push('\n');
                    data.push(json!({
                        "table": f.flow.table_id,
                        "priority": f.flow.priority,
                        "cookie": f.flow.cookie,
                        "n_packets": f.stats.packets(),
                        "n_bytes": f.stats.bytes(),
                        "flow": ofctl::format_flow_spec(&f.flow, &labels),
                    }));
                }
                Ok(Reply::ok(text, json!(data)))
            }
            req @ (Request::AddGroup { .. }
            | Request::ModGroup { .. }
            | Request::DelGroups { .. }
            | Request::DumpGroups { .. }
            | Request::AddMeter { .. }
            | Request::ModMeter { .. }
            | Request::DelMeters { .. }
            | Request::DumpMeters { .. }) => self.group_meter_request(req),
            Request::DumpPorts { switch } => {
                let r = self
                    .switches
                    .get(&switch)
                    .ok_or_else(|| anyhow!("no switch {switch}"))?;
                let dp = r
                    .handle
                    .dp
                    .lock()
                    .map_err(|_| anyhow!("datapath lock poisoned"))?;
                let mut text = format!("port stats of {switch}: {} ports\n", dp.ports.len());
                let mut data = Vec::new();
                for p in &dp.ports {
                    let s = &p.stats;
                    text.push_str(&format!(
                        "  port {:>5} ({}): rx pkts={}, bytes={}, drop={} ; tx pkts={}, bytes={}, drop={}\n",
                        port_label(p.ofport), p.name, s.rx_packets, s.rx_bytes, s.rx_dropped, s.tx_packets, s.tx_bytes, s.tx_dropped
                    ));
                    data.push(json!({ "port": p.ofport, "name": p.name, "stats": s }));
                }
                Ok(Reply::ok(text, json!(data)))
            }
            Request::Show { switch } => {
                let r = self
                    .switches
                    .get(&switch)
                    .ok_or_else(|| anyhow!("no switch {switch}"))?;
                let dp = r
                    .handle
                    .dp
                    .lock()
                    .map_err(|_| anyhow!("datapath lock poisoned"))?;
                let mut text = format!(
                    "switch {switch} (netns {}): {} ports, {} flows in {} tables; cache hits: exact {}, megaflow {}; upcalls {}\n",
                    r.handle.config.netns,
                    dp.ports.len(),
                    r.pipeline.n_flows(),
                    r.pipeline.n_tables(),
                    dp.stats.emc_hits,
                    dp.stats.megaflow_hits,
                    dp.stats.upcalls
                );
                let mut ports = Vec::new();
                for p in &dp.ports {
                    let vlan = match &p.vlan {
                        vnet_switch::datapath::VlanMode::Unaware => String::new(),
                        vnet_switch::datapath::VlanMode::Access(v) => format!(" vlan {v}"),
                        vnet_switch::datapath::VlanMode::Trunk { allowed, native } => format!(
                            " trunk {}{}",
                            allowed
                                .iter()
                                .map(|v| v.to_string())
                                .collect::<Vec<_>>()
                                .join(","),
                            native.map(|n| format!(" native {n}")).unwrap_or_default()
                        ),
                    };
                    text.push_str(&format!(" {}({}){vlan}\n", port_label(p.ofport), p.name));
                    ports.push(json!({ "port": p.ofport, "name": p.name, "vlan": p.vlan }));
                }
                let openflow = self.openflow_status(&switch);
                if let Some(st) = &openflow {
                    text.push_str(&st.text());
                }
                Ok(Reply::ok(
                    text,
                    json!({ "switch": switch, "netns": r.handle.config.netns, "ports": ports,
                            "flows": r.pipeline.n_flows(), "datapath": dp.stats,
                            "openflow": openflow }),
                ))
            }
            Request::Mirror { switch, port, file } => {
                let ofport = self
                    .port_number(&switch, &port)
                    .or_else(|| {
                        port.parse()
                            .ok()
                            .filter(|n| self.port_name(&switch, *n).is_some())
                    })
                    .ok_or_else(|| anyhow!("switch {switch}: no port {port}"))?;
                let r = self
                    .switches
                    .get(&switch)
                    .ok_or_else(|| anyhow!("no switch {switch}"))?;
                let mirror = match &file {
                    Some(path) => {
                        let f = std::fs::File::create(path)
                            .with_context(|| format!("create {path}"))?;
                        let w: Box<dyn std::io::Write + Send> =
                            Box::new(std::io::BufWriter::new(f));
                        Some(vnet_wire::pcap::PcapWriter::new(w, 65535)?)
                    }
                    None => None,
                };
                let mut dp = r
                    .handle
                    .dp
                    .lock()
                    .map_err(|_| anyhow!("datapath lock poisoned"))?;
                dp.set_mirror(ofport, mirror);
                let text = match &file {
                    Some(p) => format!("mirroring port {ofport} ({port}) of {switch} into {p}\n"),
                    None => format!("stopped mirroring port {ofport} ({port}) of {switch}\n"),
                };
                Ok(Reply::ok(text, json!({ "mirrored": dp.mirrored() })))
            }
            Request::Fdb { switch } => {
                let r = self
                    .switches
                    .get(&switch)
                    .ok_or_else(|| anyhow!("no switch {switch}"))?;
                let dp = r
                    .handle
                    .dp
                    .lock()
                    .map_err(|_| anyhow!("datapath lock poisoned"))?;
                let mut text = String::from(" port  VLAN  MAC                Age\n");
                let mut data = Vec::new();
                for e in dp.macs.entries(dp.clock_ms()) {
                    let name = self.port_name(&switch, e.port).unwrap_or_default();
                    text.push_str(&format!(
                        "{:>5}  {:>4}  {}  {}\n",
                        e.port,
                        e.vlan,
                        format_mac(&e.mac),
                        e.age_ms / 1000
                    ));
                    data.push(json!({ "port": e.port, "port_name": name, "vlan": e.vlan, "mac": format_mac(&e.mac), "age_s": e.age_ms / 1000 }));
                }
                Ok(Reply::ok(text, json!(data)))
            }
        }
    }

    fn apply(&mut self, switch: &str, mods: &[FlowMod], now: u64) -> Result<Reply> {
        let r = self
            .switches
            .get_mut(switch)
            .ok_or_else(|| anyhow!("no switch {switch}"))?;
        // All or nothing: work on a copy, publish only if every mod applies.
        let mut next = r.pipeline.clone();
        let mut removed = Vec::new();
        for (i, m) in mods.iter().enumerate() {
            let outcome = next.apply(m, now).map_err(|e| {
                if mods.len() > 1 {
                    anyhow!("switch {switch}: flow {} of {}: {e}", i + 1, mods.len())
                } else {
                    anyhow!("switch {switch}: {e}")
                }
            })?;
            removed.extend(outcome.removed);
        }
        r.pipeline = next;
        self.publish(switch)?;
        self.flows_removed(switch, &removed, now);
        Ok(Reply::ok("", json!({ "applied": mods.len() })))
    }
}

/// The OpenFlow side: settings, services, and what they ask of the switch.
impl SwitchSet {
    fn of_path(&self, name: &str, ext: &str) -> PathBuf {
        self.path(&format!("openflow-{name}.{ext}"))
    }

    /// Brings a switch's OpenFlow settings and service in line with the
    /// lab file (or the settings `set-controller` saved since), hands the
    /// service's packet-in sink to the datapath, and applies the fail mode.
    fn sync_openflow(&mut self, lab: &vnet_topo::lab::Lab, name: &str) -> Result<()> {
        if !self.switches.contains_key(name) {
            self.forget_openflow(name);
            return Ok(());
        }
        let from_lab = Settings::from_lab(lab.node(name).and_then(|n| n.openflow.as_ref()));
        let read = |p: PathBuf| -> Option<Settings> {
            serde_json::from_slice(&std::fs::read(p).ok()?).ok()
        };
        let lab_path = self.of_path(name, "lab");
        let saved_path = self.of_path(name, "json");
        // The saved settings hold while the lab file's are what they were.
        let settings = match (read(lab_path.clone()), read(saved_path.clone())) {
            (Some(before), Some(saved)) if before == from_lab => saved,
            _ => from_lab.clone(),
        };
        std::fs::write(&lab_path, serde_json::to_vec(&from_lab)?)?;
        self.set_openflow(name, settings)
    }

    /// Runs `settings` for switch `name`: (re)starts the service when they
    /// changed, saves them, re-plumbs the packet-in sink and fail mode.
    fn set_openflow(&mut self, name: &str, settings: Settings) -> Result<()> {
        std::fs::write(self.of_path(name, "json"), serde_json::to_vec(&settings)?)?;
        let (lab, me) = (self.lab.clone(), self.me.clone());
        let state = self.openflow.entry(name.to_string()).or_insert(OfState {
            settings: Settings::default(),
            service: None,
            connected: false,
            dirty: false,
            unsaved: false,
        });
        let running = state.service.as_ref().map(|s| &s.settings);
        let mut result = Ok(());
        if running != Some(&settings) || !settings.active() {
            if let Some(mut old) = state.service.take() {
                old.stop();
            }
            state.connected = false;
            if settings.active() {
                match OfService::start(&lab, name, settings.clone(), me) {
                    Ok(s) => state.service = Some(s),
                    Err(e) => result = Err(anyhow!("switch {name}: openflow: {e}")),
                }
            }
        } else if let Some(s) = &state.service {
            s.notify(Notice::PortsChanged);
        }
        state.settings = settings;
        let sink = state.service.as_ref().map(|s| s.sink());
        if let Some(r) = self.switches.get(name) {
            if let Ok(mut dp) = r.handle.dp.lock() {
                dp.set_controller(sink);
            }
        }
        self.apply_fail_mode(name)?;
        result
    }

    /// Stops a switch's service and forgets its settings (switch removed).
    fn forget_openflow(&mut self, name: &str) {
        if let Some(mut of) = self.openflow.remove(name) {
            if let Some(s) = &mut of.service {
                s.stop();
            }
        }
        let _ = std::fs::remove_file(self.of_path(name, "json"));
        let _ = std::fs::remove_file(self.of_path(name, "lab"));
    }

    /// Table 0's miss: NORMAL for a standalone OpenFlow switch while no
    /// connection is up, else OpenFlow's drop.
    fn apply_fail_mode(&mut self, name: &str) -> Result<()> {
        let miss = match self.openflow.get(name) {
            Some(of)
                if of.settings.active()
                    && of.settings.fail_mode == FailMode::Standalone
                    && !of.connected =>
            {
                TableMiss::Normal
            }
            _ => TableMiss::Drop,
        };
        let Some(r) = self.switches.get_mut(name) else {
            return Ok(());
        };
        if r.pipeline.table_miss(0) != Some(miss) {
            r.pipeline.set_table_miss(0, miss)?;
            self.publish(name)?;
        }
        Ok(())
    }

    /// A service's connections came up (some) or went down (all).
    pub(crate) fn openflow_connected(&mut self, name: &str, up: bool) {
        if let Some(of) = self.openflow.get_mut(name) {
            of.connected = up;
        }
        if let Err(e) = self.apply_fail_mode(name) {
            eprintln!("vnet switchd {}: switch {name}: fail mode: {e:#}", self.lab);
        }
    }

    /// FLOW_REMOVED for the removed flows that asked for it.
    fn flows_removed(&self, name: &str, removed: &[RemovedFlow], now: u64) {
        let Some(service) = self.openflow.get(name).and_then(|o| o.service.as_ref()) else {
            return;
        };
        let msgs: Vec<FlowRemoved> = removed
            .iter()
            .filter(|r| r.entry.flow.flags.contains(FlowFlags::SEND_FLOW_REM))
            .filter_map(|r| FlowRemoved::from_switch(r, now).ok())
            .collect();
        if !msgs.is_empty() {
            service.notify(Notice::FlowRemoved(msgs));
        }
    }

    /// Applies flow-mods from a controller, each on its own (a refused one
    /// changes nothing and gets its error). They reach the datapath and
    /// the flows file with [`SwitchSet::publish_flow_mods`], which the
    /// service calls for the datapath before anything that must see them
    /// (BARRIER, PACKET_OUT, stats) and shortly after a burst, and for
    /// the file a little later: a burst of thousands of flow-mods (each
    /// followed by a barrier, as ovs-ofctl sends them) is saved a few
    /// times, not thousands.
    pub(crate) fn apply_flow_mods(
        &mut self,
        name: &str,
        mods: &[FlowMod],
    ) -> Vec<Result<(), (u16, u16)>> {
        let now = self.now();
        let Some(r) = self.switches.get_mut(name) else {
            return mods.iter().map(|_| Err((1, 5))).collect(); // OFPBRC_EPERM
        };
        let mut removed = Vec::new();
        let mut changed = false;
        let results = mods
            .iter()
            .map(|m| match r.pipeline.apply(m, now) {
                Ok(outcome) => {
                    changed = true;
                    removed.extend(outcome.removed);
                    Ok(())
                }
                Err(e) => Err(e.ofp_error()),
            })
            .collect();
        if changed {
            if let Some(of) = self.openflow.get_mut(name) {
                of.dirty = true;
                of.unsaved = true;
            }
        }
        self.flows_removed(name, &removed, now);
        results
    }

    /// Publishes the flow-mods [`SwitchSet::apply_flow_mods`] applied to
    /// the datapath, and with `save` to the flows file.
    pub(crate) fn publish_flow_mods(&mut self, name: &str, save: bool) {
        let Some(of) = self.openflow.get_mut(name) else {
            return;
        };
        let publish = std::mem::take(&mut of.dirty);
        let save = save && std::mem::take(&mut of.unsaved);
        let done = match (publish, save) {
            (true, true) => self.publish(name),
            (true, false) => self.publish_rules(name),
            (false, true) => self.save_flows(name),
            (false, false) => Ok(()),
        };
        if let Err(e) = done {
            eprintln!("vnet switchd {}: switch {name}: {e:#}", self.lab);
        }
    }

    /// The pipeline's clock (ms): what flow durations count in.
    pub(crate) fn clock(&self) -> u64 {
        self.now()
    }

    pub(crate) fn pipeline(&self, name: &str) -> Option<&Pipeline> {
        self.switches.get(name).map(|r| &r.pipeline)
    }

    pub(crate) fn datapath(
        &self,
        name: &str,
    ) -> Option<Arc<Mutex<vnet_switch::datapath::Datapath>>> {
        self.switches.get(name).map(|r| r.handle.dp.clone())
    }

    /// Where a switch's PACKET_OUTs go (the datapath thread's queue).
    pub(crate) fn injector(&self, name: &str) -> Option<vnet_switch::runtime::Injector> {
        self.switches.get(name).map(|r| r.handle.injector())
    }

    pub(crate) fn netns_of(&self, name: &str) -> Option<String> {
        self.switches
            .get(name)
            .map(|r| r.handle.config.netns.clone())
    }

    fn openflow_status(&self, name: &str) -> Option<crate::openflow::Status> {
        let of = self.openflow.get(name)?;
        of.service.as_ref().map(|s| s.status())
    }

    /// `set-controller`, `del-controller`, `get-controller`, `set-fail-mode`.
    pub fn handle_control(&mut self, req: ControlRequest) -> Reply {
        let r = (|| -> Result<Reply> {
            let switch = match &req {
                ControlRequest::SetController { switch, .. }
                | ControlRequest::DelController { switch }
                | ControlRequest::GetController { switch }
                | ControlRequest::SetFailMode { switch, .. } => switch.clone(),
            };
            if !self.switches.contains_key(&switch) {
                return Err(anyhow!("no switch {switch}"));
            }
            let current = self
                .openflow
                .get(&switch)
                .map(|o| o.settings.clone())
                .unwrap_or_default();
            let next = match req {
                ControlRequest::GetController { .. } => {
                    let text: String = current.targets.iter().map(|t| format!("{t}\n")).collect();
                    return Ok(Reply::ok(text, json!(current)));
                }
                ControlRequest::SetController { targets, .. } => {
                    for t in &targets {
                        crate::openflow::Target::parse(t).map_err(|e| anyhow!("{e}"))?;
                    }
                    Settings { targets, ..current }
                }
                ControlRequest::DelController { .. } => Settings {
                    targets: vec![],
                    ..current
                },
                ControlRequest::SetFailMode { fail_mode, .. } => Settings {
                    fail_mode,
                    ..current
                },
            };
            self.set_openflow(&switch, next.clone())?;
            Ok(Reply::ok("", json!(next)))
        })();
        r.unwrap_or_else(|e| Reply::err(format!("{e:#}")))
    }
}

/// A port number as ovs-ofctl prints it (`LOCAL` for the internal port).
fn port_label(ofport: u32) -> String {
    if ofport == vnet_switch::runtime::LOCAL_PORT {
        "LOCAL".to_string()
    } else {
        ofport.to_string()
    }
}

impl Drop for SwitchSet {
    fn drop(&mut self) {
        self.stop_all();
    }
}
