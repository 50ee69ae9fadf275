//! Groups and meters of the daemon's switches: GROUP_MOD and METER_MOD
//! from controllers and the CLI, applied to the switch's pipeline (which
//! holds both tables beside the flows), published like flow-mods, and
//! kept in `groups-SWITCH.txt` and `meters-SWITCH.txt` (ovs-ofctl syntax,
//! one per line, rewritten with `flows-SWITCH.txt`; absent when empty).
//! A switch that starts loads its meters, then its groups (saved so that a
//! group comes after the groups it refers to), then its flows, so a
//! restarted daemon comes back with all three.
//!
//! Fast-failover liveness (`Datapath::set_port_live`) comes from the
//! datapath thread's link monitor (`vnet_switch::runtime`), not from here.

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{anyhow, Context, Result};
use serde_json::json;
use vnet_switch::control::{Reply, Request};
use vnet_switch::flow::RemovedFlow;
use vnet_switch::group::{Group, GroupMod, GroupModCommand};
use vnet_switch::meter::{MeterMod, MeterModCommand};
use vnet_switch::ofctl;
use vnet_switch::pipeline::Pipeline;

use super::SwitchSet;

impl SwitchSet {
    fn groups_path(&self, name: &str) -> PathBuf {
        self.path(&format!("groups-{name}.txt"))
    }

    fn meters_path(&self, name: &str) -> PathBuf {
        self.path(&format!("meters-{name}.txt"))
    }

    /// Forgets the saved groups and meters of a removed switch.
    pub(super) fn remove_groups_meters(&self, name: &str) {
        let _ = std::fs::remove_file(self.groups_path(name));
        let _ = std::fs::remove_file(self.meters_path(name));
        let _ = std::fs::remove_file(self.lab_record(name, "groups"));
        let _ = std::fs::remove_file(self.lab_record(name, "meters"));
    }

    /// Installs the saved meters and groups of a starting switch into its
    /// (still flowless) pipeline.
    pub(super) fn load_groups_meters(&self, name: &str, pipeline: &mut Pipeline) -> Result<()> {
        let now = self.now();
        if let Ok(text) = std::fs::read_to_string(self.meters_path(name)) {
            let mods = ofctl::parse_meters_file(&text)
                .map_err(|e| anyhow!("switch {name}: meters file: {e}"))?;
            for m in mods {
                pipeline
                    .apply_meter_mod(&m, now)
                    .map_err(|e| anyhow!("switch {name}: {e}"))?;
            }
        }
        if let Ok(text) = std::fs::read_to_string(self.groups_path(name)) {
            let names = |n: &str| self.port_number(name, n);
            let mods = ofctl::parse_groups_file(&text, &names)
                .map_err(|e| anyhow!("switch {name}: groups file: {e}"))?;
            for g in mods {
                pipeline
                    .apply_group_mod(&g, now)
                    .map_err(|e| anyhow!("switch {name}: {e}"))?;
            }
        }
        Ok(())
    }

    /// Rewrites (or removes, when empty) the groups and meters files.
    pub(super) fn save_groups_meters(&self, name: &str) -> Result<()> {
        let r = self
            .switches
            .get(name)
            .ok_or_else(|| anyhow!("no switch {name}"))?;
        let labels = |n: u32| self.port_name(name, n);
        let groups: String = dependency_order(&r.pipeline)
            .iter()
            .map(|g| ofctl::format_group(g, &labels) + "\n")
            .collect();
        let meters: String = r
            .pipeline
            .meters()
            .map(|m| ofctl::format_meter(&m.meter) + "\n")
            .collect();
        for (path, text) in [
            (self.groups_path(name), groups),
            (self.meters_path(name), meters),
        ] {
            if text.is_empty() {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(e).context("save groups and meters")
                    }
                    _ => {}
                }
                continue;
            }
            let tmp = path.with_extension("txt.tmp");
            std::fs::write(&tmp, text)
                .and_then(|()| std::fs::rename(&tmp, &path))
                .context("save groups and meters")?;
        }
        Ok(())
    }

    /// Applies a GROUP_MOD from a controller: published and saved with
    /// the flow-mods (see [`SwitchSet::publish_flow_mods`]); flows a
    /// delete removed get their FLOW_REMOVED.
    pub(crate) fn apply_group_mod(&mut self, name: &str, gm: &GroupMod) -> Result<(), (u16, u16)> {
        self.openflow_mod(name, |p, now| {
            p.apply_group_mod(gm, now).map_err(|e| e.ofp_error())
        })
    }

    /// Applies a METER_MOD from a controller (as [`Self::apply_group_mod`]).
    pub(crate) fn apply_meter_mod(&mut self, name: &str, mm: &MeterMod) -> Result<(), (u16, u16)> {
        self.openflow_mod(name, |p, now| {
            p.apply_meter_mod(mm, now).map_err(|e| e.ofp_error())
        })
    }

    /// Runs `apply` (a group or meter mod from a controller, failing with
    /// the OpenFlow error) on the switch's pipeline, marks the switch for
    /// publishing and saving, and reports the flows it removed.
    fn openflow_mod(
        &mut self,
        name: &str,
        apply: impl FnOnce(&mut Pipeline, u64) -> Result<Vec<RemovedFlow>, (u16, u16)>,
    ) -> Result<(), (u16, u16)> {
        let now = self.now();
        let r = self.switches.get_mut(name).ok_or((1, 5))?; // OFPBRC_EPERM
        let removed = apply(&mut r.pipeline, now)?;
        if let Some(of) = self.openflow.get_mut(name) {
            of.dirty = true;
            of.unsaved = true;
        }
        self.flows_removed(name, &removed, now);
        Ok(())
    }

    /// The control protocol's group and meter requests.
    pub(super) fn group_meter_request(&mut self, req: Request) -> Result<Reply> {
        use GroupModCommand as G;
        use MeterModCommand as M;
        match req {
            Request::AddGroup { switch, group } => self.group_verb(&switch, G::Add, &group),
            Request::ModGroup { switch, group } => self.group_verb(&switch, G::Modify, &group),
            Request::DelGroups { switch, group } => {
                self.group_verb(&switch, G::Delete, group.as_deref().unwrap_or(""))
            }
            Request::DumpGroups { switch } => self.dump_groups(&switch),
            Request::AddMeter { switch, meter } => self.meter_verb(&switch, M::Add, &meter),
            Request::ModMeter { switch, meter } => self.meter_verb(&switch, M::Modify, &meter),
            Request::DelMeters { switch, meter } => {
                self.meter_verb(&switch, M::Delete, meter.as_deref().unwrap_or(""))
            }
            Request::DumpMeters { switch } => self.dump_meters(&switch),
            other => Err(anyhow!("not a group or meter request: {other:?}")),
        }
    }

    /// `add-group`, `mod-group`, `del-groups` from the CLI: applied,
    /// published and saved at once.
    fn group_verb(&mut self, switch: &str, command: GroupModCommand, text: &str) -> Result<Reply> {
        let gm = {
            let names = |n: &str| self.port_number(switch, n);
            ofctl::parse_group(text, command, &names).map_err(|e| anyhow!("{e}"))?
        };
        self.cli_mod(switch, |p, now| p.apply_group_mod(&gm, now))
    }

    /// `add-meter`, `mod-meter`, `del-meters` from the CLI.
    fn meter_verb(&mut self, switch: &str, command: MeterModCommand, text: &str) -> Result<Reply> {
        let mm = ofctl::parse_meter(text, command).map_err(|e| anyhow!("{e}"))?;
        self.cli_mod(switch, |p, now| p.apply_meter_mod(&mm, now))
    }

    /// Runs `apply` (a group or meter mod from the CLI) on the switch's
    /// pipeline, publishes and saves at once, and reports the flows it
    /// removed.
    fn cli_mod<E: std::fmt::Display>(
        &mut self,
        switch: &str,
        apply: impl FnOnce(&mut Pipeline, u64) -> Result<Vec<RemovedFlow>, E>,
    ) -> Result<Reply> {
        let now = self.now();
        let r = self
            .switches
            .get_mut(switch)
            .ok_or_else(|| anyhow!("no switch {switch}"))?;
        let removed = apply(&mut r.pipeline, now).map_err(|e| anyhow!("switch {switch}: {e}"))?;
        self.publish(switch)?;
        self.flows_removed(switch, &removed, now);
        Ok(Reply::ok("", json!({ "flows_removed": removed.len() })))
    }

    /// `dump-groups`: each group as ovs-ofctl prints it, with its counters
    /// in the JSON.
    fn dump_groups(&self, switch: &str) -> Result<Reply> {
        let r = self
            .switches
            .get(switch)
            .ok_or_else(|| anyhow!("no switch {switch}"))?;
        let labels = |n: u32| self.port_name(switch, n);
        let refs = r.pipeline.group_ref_counts();
        let mut text = String::new();
        let mut data = Vec::new();
        for e in r.pipeline.groups() {
            let spec = ofctl::format_group(&e.group, &labels);
            text.push_str(&format!(" {spec}\n"));
            data.push(json!({
                "group_id": e.group.id,
                "type": e.group.group_type.name(),
                "group": spec,
                "ref_count": refs.get(&e.group.id).copied().unwrap_or(0),
                "packet_count": e.counter.packets(),
                "byte_count": e.counter.bytes(),
                "buckets": e.bucket_counters.iter().map(|c| json!({
                    "packet_count": c.packets(), "byte_count": c.bytes() })).collect::<Vec<_>>(),
            }));
        }
        Ok(Reply::ok(text, json!(data)))
    }

    /// `dump-meters`: each meter in add-meter syntax, with its counters in
    /// the JSON.
    fn dump_meters(&self, switch: &str) -> Result<Reply> {
        let r = self
            .switches
            .get(switch)
            .ok_or_else(|| anyhow!("no switch {switch}"))?;
        let flows = r.pipeline.meter_flow_counts();
        let mut text = String::new();
        let mut data = Vec::new();
        for e in r.pipeline.meters() {
            let spec = ofctl::format_meter(&e.meter);
            text.push_str(&format!("{spec}\n"));
            data.push(json!({
                "meter_id": e.meter.id,
                "meter": spec,
                "flow_count": flows.get(&e.meter.id).copied().unwrap_or(0),
                "packet_in_count": e.counter.packets(),
                "byte_in_count": e.counter.bytes(),
                "bands": e.band_counters.iter().map(|c| json!({
                    "packet_count": c.packets(), "byte_count": c.bytes() })).collect::<Vec<_>>(),
            }));
        }
        Ok(Reply::ok(text, json!(data)))
    }
}

/// The groups, each after the groups it refers to (so that adding them in
/// this order never names a missing group).
fn dependency_order(p: &Pipeline) -> Vec<&Group> {
    let mut out: Vec<&Group> = Vec::new();
    let mut done: HashSet<u32> = HashSet::new();
    fn visit<'a>(id: u32, p: &'a Pipeline, done: &mut HashSet<u32>, out: &mut Vec<&'a Group>) {
        if !done.insert(id) {
            return;
        }
        if let Some(e) = p.group(id) {
            for r in e.group.referenced_groups() {
                visit(r, p, done, out);
            }
            out.push(&e.group);
        }
    }
    for e in p.groups() {
        visit(e.group.id, p, &mut done, &mut out);
    }
    out
}

/// The lab file's `meters:` and `groups:` of one switch.
pub(super) struct LabGroupsMeters {
    pub meters: Vec<String>,
    pub groups: Vec<String>,
}

impl LabGroupsMeters {
    pub(super) fn of(lab: &vnet_topo::lab::Lab, switch: &str) -> LabGroupsMeters {
        let node = lab.node(switch);
        LabGroupsMeters {
            meters: node.map(|n| n.meters.clone()).unwrap_or_default(),
            groups: node.map(|n| n.groups.clone()).unwrap_or_default(),
        }
    }
}

/// Which half of a lab-file sync: additions and changes go before the
/// flows are synced (flows name groups and meters), removals after.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum SyncPhase {
    AddChange,
    Remove,
}

impl SwitchSet {
    fn lab_record(&self, name: &str, kind: &str) -> PathBuf {
        self.path(&format!("{kind}-{name}.lab"))
    }

    /// Parses lab-file meters (`command` for each).
    fn lab_meters(
        &self,
        name: &str,
        lines: &[String],
        command: MeterModCommand,
    ) -> Result<Vec<MeterMod>> {
        lines
            .iter()
            .map(|l| {
                ofctl::parse_meter(l, command)
                    .map_err(|e| anyhow!("switch {name}: meter `{l}`: {e}"))
            })
            .collect()
    }

    /// Parses lab-file groups (`command` for each).
    fn lab_groups(
        &self,
        name: &str,
        lines: &[String],
        command: GroupModCommand,
    ) -> Result<Vec<GroupMod>> {
        let names = |n: &str| self.port_number(name, n);
        lines
            .iter()
            .map(|l| {
                ofctl::parse_group(l, command, &names)
                    .map_err(|e| anyhow!("switch {name}: group `{l}`: {e}"))
            })
            .collect()
    }

    /// Installs the lab file's meters, then groups, into a starting
    /// switch's pipeline (one without saved state).
    pub(super) fn install_lab_groups_meters(
        &self,
        name: &str,
        pipeline: &mut Pipeline,
        lab: &LabGroupsMeters,
    ) -> Result<()> {
        let now = self.now();
        for m in self.lab_meters(name, &lab.meters, MeterModCommand::Add)? {
            pipeline
                .apply_meter_mod(&m, now)
                .map_err(|e| anyhow!("switch {name}: meter {}: {e}", m.meter.id))?;
        }
        for g in self.lab_groups(name, &lab.groups, GroupModCommand::Add)? {
            pipeline
                .apply_group_mod(&g, now)
                .map_err(|e| anyhow!("switch {name}: group {}: {e}", g.group.id))?;
        }
        Ok(())
    }

    /// Brings the lab-file meters and groups installed earlier in line with
    /// the file, one phase at a time (see [`SyncPhase`]): a meter or group
    /// the file changed is modified, a new one added, and one the file no
    /// longer has deleted (with the flows that use it, as a delete does).
    /// Ones added by controllers or the CLI are left alone. The record of
    /// what the file had is written when the removals are done.
    pub(super) fn sync_lab_groups_meters(
        &mut self,
        name: &str,
        lab: &LabGroupsMeters,
        phase: SyncPhase,
    ) -> Result<()> {
        let read = |kind: &str, now: &[String]| -> Vec<String> {
            std::fs::read_to_string(self.lab_record(name, kind))
                .map(|t| t.lines().map(str::to_string).collect())
                .unwrap_or_else(|_| now.to_vec())
        };
        let (meters_before, groups_before) =
            (read("meters", &lab.meters), read("groups", &lab.groups));
        if meters_before == lab.meters && groups_before == lab.groups {
            if phase == SyncPhase::Remove {
                self.write_lab_records(name, lab)?;
            }
            return Ok(());
        }
        let now = self.now();
        // What the file had, as deletes (parsed as adds: a delete takes
        // only the id).
        let old_meters: Vec<MeterMod> = self
            .lab_meters(name, &meters_before, MeterModCommand::Add)
            .unwrap_or_default()
            .into_iter()
            .map(|m| MeterMod {
                command: MeterModCommand::Delete,
                ..m
            })
            .collect();
        let old_groups: Vec<GroupMod> = self
            .lab_groups(name, &groups_before, GroupModCommand::Add)
            .unwrap_or_default()
            .into_iter()
            .map(|g| GroupMod {
                command: GroupModCommand::Delete,
                ..g
            })
            .collect();
        let new_meters = self.lab_meters(name, &lab.meters, MeterModCommand::Add)?;
        let new_groups = self.lab_groups(name, &lab.groups, GroupModCommand::Add)?;
        let r = self
            .switches
            .get_mut(name)
            .ok_or_else(|| anyhow!("no switch {name}"))?;
        let mut removed = Vec::new();
        match phase {
            SyncPhase::AddChange => {
                for mut m in new_meters {
                    if r.pipeline.meter(m.meter.id).is_some() {
                        m.command = MeterModCommand::Modify;
                    }
                    r.pipeline
                        .apply_meter_mod(&m, now)
                        .map_err(|e| anyhow!("switch {name}: meter {}: {e}", m.meter.id))?;
                }
                for mut g in new_groups {
                    if r.pipeline.group(g.group.id).is_some() {
                        g.command = GroupModCommand::Modify;
                    }
                    r.pipeline
                        .apply_group_mod(&g, now)
                        .map_err(|e| anyhow!("switch {name}: group {}: {e}", g.group.id))?;
                }
            }
            SyncPhase::Remove => {
                let kept_groups: HashSet<u32> = new_groups.iter().map(|g| g.group.id).collect();
                let kept_meters: HashSet<u32> = new_meters.iter().map(|m| m.meter.id).collect();
                // Groups in reverse file order: one naming another goes first.
                for g in old_groups
                    .iter()
                    .rev()
                    .filter(|g| !kept_groups.contains(&g.group.id))
                {
                    removed.extend(r.pipeline.apply_group_mod(g, now).unwrap_or_default());
                }
                for m in old_meters
                    .iter()
                    .filter(|m| !kept_meters.contains(&m.meter.id))
                {
                    removed.extend(r.pipeline.apply_meter_mod(m, now).unwrap_or_default());
                }
            }
        }
        self.flows_removed(name, &removed, now);
        self.publish(name)?;
        if phase == SyncPhase::Remove {
            self.write_lab_records(name, lab)?;
        }
        Ok(())
    }

    fn write_lab_records(&self, name: &str, lab: &LabGroupsMeters) -> Result<()> {
        for (kind, lines) in [("meters", &lab.meters), ("groups", &lab.groups)] {
            std::fs::write(self.lab_record(name, kind), lines.join("\n"))
                .with_context(|| format!("record the lab file's {kind}"))?;
        }
        Ok(())
    }
}
