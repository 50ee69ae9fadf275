//! The daemon's switches: built from the lab state and kept in step with
//! it, programmed through the control protocol.
//!
//! Source of truth, so a restarted daemon comes back identical:
//! - ports: the lab as last applied (`lab.json`), numbered stably through
//!   `ports.json`;
//! - flows: `flows-SWITCH.txt`, rewritten after every change (ovs-ofctl
//!   syntax, one per line); when absent, the lab file's `flows:` — or, when
//!   the file gives none, `priority=0,actions=normal` as Open vSwitch does.
//!   `flows-SWITCH.lab` remembers the lab file's flows last installed, so a
//!   changed lab file replaces them on reload.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use serde_json::json;
use vnet_switch::control::{Reply, Request};
use vnet_switch::flow::{FlowMod, FlowModCommand};
use vnet_switch::ofctl;
use vnet_switch::pipeline::Pipeline;
use vnet_switch::rules::PipelineRules;
use vnet_switch::runtime::SwitchHandle;
use vnet_sys::netlink::format_mac;
use vnet_topo::state::{lab_dir, read_applied};

use crate::switchd::switch_configs;

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
}

impl SwitchSet {
    pub fn new(lab: &str) -> SwitchSet {
        SwitchSet {
            lab: lab.to_string(),
            epoch: Instant::now(),
            switches: BTreeMap::new(),
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn path(&self, file: &str) -> PathBuf {
        lab_dir(&self.lab).join(file)
    }

    /// Re-reads the lab and reconciles switches, ports and lab-file flows.
    pub fn reload(&mut self) -> Result<()> {
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
        }
        for config in configs {
            let lab_flows: Vec<String> = applied
                .lab
                .node(&config.name)
                .map(|n| n.flows.clone())
                .unwrap_or_default();
            let lab_flows = if lab_flows.is_empty() {
                vec![DEFAULT_FLOW.to_string()]
            } else {
                lab_flows
            };
            match self.switches.get_mut(&config.name) {
                Some(r) => r.handle.reconfigure(config.clone())?,
                None => {
                    let handle = SwitchHandle::start(config.clone())?;
                    let mut pipeline = Pipeline::new(TABLES);
                    let saved =
                        std::fs::read_to_string(self.path(&format!("flows-{}.txt", config.name)))
                            .ok();
                    let name = config.name.clone();
                    self.switches.insert(
                        name.clone(),
                        Running {
                            handle,
                            pipeline: Pipeline::new(TABLES),
                        },
                    );
                    let text = saved.unwrap_or_else(|| lab_flows.join("\n"));
                    let mods = self.parse_mods(&name, &text)?;
                    let now = self.now();
                    for m in &mods {
                        pipeline
                            .apply(m, now)
                            .map_err(|e| anyhow!("switch {name}: {e}"))?;
                    }
                    if let Some(r) = self.switches.get_mut(&name) {
                        r.pipeline = pipeline;
                    }
                    self.publish(&name)?;
                }
            }
            self.sync_lab_flows(&config.name, &lab_flows)?;
        }
        Ok(())
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
        let epoch = self.epoch;
        let r = self
            .switches
            .get(name)
            .ok_or_else(|| anyhow!("no switch {name}"))?;
        let rules = Arc::new(PipelineRules::new(r.pipeline.snapshot(), epoch));
        r.handle
            .dp
            .lock()
            .map_err(|_| anyhow!("switch {name}: datapath lock poisoned"))?
            .set_rules(rules);
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
        Ok(())
    }

    /// Removes flows whose timeouts passed; republishes when any did.
    pub fn expire(&mut self) {
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
            }
        }
    }

    pub fn stop_all(&mut self) {
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
                Ok(Reply::ok(
                    text,
                    json!({ "switch": switch, "netns": r.handle.config.netns, "ports": ports,
                            "flows": r.pipeline.n_flows(), "datapath": dp.stats }),
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
        for (i, m) in mods.iter().enumerate() {
            next.apply(m, now).map_err(|e| {
                if mods.len() > 1 {
                    anyhow!("switch {switch}: flow {} of {}: {e}", i + 1, mods.len())
                } else {
                    anyhow!("switch {switch}: {e}")
                }
            })?;
        }
        r.pipeline = next;
        self.publish(switch)?;
        Ok(Reply::ok("", json!({ "applied": mods.len() })))
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
