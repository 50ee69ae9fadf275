//! The group and meter tables of a pipeline: GROUP_MOD and METER_MOD with
//! OpenFlow 1.3 semantics, the references flows and groups make to them
//! (checked at every change), and their use counts.
//!
//! Invariants, kept by every change: every group a flow or a bucket names
//! exists (a GROUP_MOD delete removes the flows naming the group, and is
//! refused while another group names it); groups never refer to each
//! other in a loop, and no chain is longer than [`MAX_CHAIN`]; every meter
//! a flow names exists (a METER_MOD delete removes its flows).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::{Pipeline, PipelineError};
use crate::flow::{Action, Flow, FlowSelector, Instruction, RemovedFlow, RemovedReason};
use crate::group::{
    Group, GroupEntry, GroupError, GroupMod, GroupModCommand, ALL_GROUPS, MAX_CHAIN, MAX_GROUPS,
};
use crate::meter::{
    MeterEntry, MeterError, MeterMod, MeterModCommand, ALL_METERS, MAX_METER, MAX_METERS,
};

impl Pipeline {
    /// Every group, by number.
    pub fn groups(&self) -> impl Iterator<Item = &Arc<GroupEntry>> {
        self.groups.values()
    }

    pub fn group(&self, id: u32) -> Option<&Arc<GroupEntry>> {
        self.groups.get(&id)
    }

    pub fn n_groups(&self) -> usize {
        self.groups.len()
    }

    /// Every meter, by number.
    pub fn meters(&self) -> impl Iterator<Item = &Arc<MeterEntry>> {
        self.meters.values()
    }

    pub fn meter(&self, id: u32) -> Option<&Arc<MeterEntry>> {
        self.meters.get(&id)
    }

    /// The groups a flow sends to and the meters it names exist.
    pub(super) fn check_references(&self, flow: &Flow) -> Result<(), PipelineError> {
        for a in flow.actions() {
            if let Action::Group(g) = a {
                if !self.groups.contains_key(g) {
                    return Err(PipelineError::UnknownGroup(*g));
                }
            }
        }
        for i in &flow.instructions {
            if let Instruction::Meter(m) = i {
                if !self.meters.contains_key(m) {
                    return Err(PipelineError::UnknownMeter(*m));
                }
            }
        }
        Ok(())
    }

    /// Applies a GROUP_MOD; returns the flows a delete removed (reason
    /// GROUP_DELETE). A refused change changes nothing. Deleting a group
    /// that does not exist is no error (OpenFlow 1.3).
    pub fn apply_group_mod(
        &mut self,
        gm: &GroupMod,
        now: u64,
    ) -> Result<Vec<RemovedFlow>, GroupError> {
        let g = &gm.group;
        match gm.command {
            GroupModCommand::Add | GroupModCommand::Modify => {
                g.validate()?;
                let previous = self.groups.get(&g.id).cloned();
                match (gm.command, &previous) {
                    (GroupModCommand::Add, Some(_)) => return Err(GroupError::Exists(g.id)),
                    (GroupModCommand::Modify, None) => return Err(GroupError::Unknown(g.id)),
                    _ => {}
                }
                if previous.is_none() && self.groups.len() >= MAX_GROUPS {
                    return Err(GroupError::OutOfGroups);
                }
                self.check_group_references(g)?;
                self.check_chains(g)?;
                let entry = GroupEntry::new(g.clone(), now, previous.as_deref());
                Arc::make_mut(&mut self.groups).insert(g.id, Arc::new(entry));
                self.version += 1;
                Ok(Vec::new())
            }
            GroupModCommand::Delete if g.id == ALL_GROUPS => {
                if self.groups.is_empty() {
                    return Ok(Vec::new());
                }
                let removed = self.remove_flows(
                    |f| f.actions().any(|a| matches!(a, Action::Group(_))),
                    RemovedReason::GroupDelete,
                );
                Arc::make_mut(&mut self.groups).clear();
                self.version += 1;
                Ok(removed)
            }
            GroupModCommand::Delete => {
                if !self.groups.contains_key(&g.id) {
                    return Ok(Vec::new());
                }
                if let Some(by) = self
                    .groups
                    .values()
                    .find(|e| e.group.id != g.id && e.group.referenced_groups().any(|r| r == g.id))
                {
                    return Err(GroupError::Chained {
                        id: g.id,
                        by: by.group.id,
                    });
                }
                let removed = self.remove_flows(|f| f.uses_group(g.id), RemovedReason::GroupDelete);
                Arc::make_mut(&mut self.groups).remove(&g.id);
                self.version += 1;
                Ok(removed)
            }
        }
    }

    /// The groups `g`'s buckets chain to and watch exist.
    fn check_group_references(&self, g: &Group) -> Result<(), GroupError> {
        for (i, b) in g.buckets.iter().enumerate() {
            if let Some(to) = b.chained_group() {
                if !self.groups.contains_key(&to) {
                    return Err(GroupError::UnknownOutGroup {
                        id: g.id,
                        bucket: i,
                        to,
                    });
                }
            }
            if b.watch_group != crate::flow::ANY_GROUP && !self.groups.contains_key(&b.watch_group)
            {
                return Err(GroupError::BadWatch {
                    id: g.id,
                    bucket: i,
                    reason: format!("group {} does not exist", b.watch_group),
                });
            }
        }
        Ok(())
    }

    /// With `g` in the table (added or replacing its old self): no loop
    /// through `g`, and no chain longer than [`MAX_CHAIN`].
    fn check_chains(&self, g: &Group) -> Result<(), GroupError> {
        let mut view: BTreeMap<u32, &Group> =
            self.groups.iter().map(|(id, e)| (*id, &e.group)).collect();
        view.insert(g.id, g);
        // The table had no loop before, so a new one passes through `g`.
        let mut stack: Vec<u32> = g.referenced_groups().collect();
        let mut seen = HashSet::new();
        while let Some(x) = stack.pop() {
            if x == g.id {
                return Err(GroupError::Loop(g.id));
            }
            if seen.insert(x) {
                if let Some(n) = view.get(&x) {
                    stack.extend(n.referenced_groups());
                }
            }
        }
        // Chain length = groups on the longest path down from a group.
        let mut height: HashMap<u32, usize> = HashMap::new();
        let roots: Vec<u32> = if self.groups.contains_key(&g.id) {
            view.keys().copied().collect()
        } else {
            // Nothing refers to a group being added.
            vec![g.id]
        };
        for r in roots {
            if chain_height(r, &view, &mut height) > MAX_CHAIN {
                return Err(GroupError::ChainTooLong { id: g.id });
            }
        }
        Ok(())
    }

    /// Flows plus groups that send to each group (its `ref_count`).
    pub fn group_ref_counts(&self) -> HashMap<u32, u32> {
        let mut counts: HashMap<u32, u32> = HashMap::new();
        let mut ids = Vec::new();
        for f in self.flows() {
            ids.clear();
            ids.extend(f.flow.actions().filter_map(|a| match a {
                Action::Group(g) => Some(*g),
                _ => None,
            }));
            ids.sort_unstable();
            ids.dedup();
            for g in &ids {
                *counts.entry(*g).or_default() += 1;
            }
        }
        for e in self.groups.values() {
            let mut to: Vec<u32> = e
                .group
                .buckets
                .iter()
                .filter_map(|b| b.chained_group())
                .collect();
            to.sort_unstable();
            to.dedup();
            for g in to {
                *counts.entry(g).or_default() += 1;
            }
        }
        counts
    }

    /// Applies a METER_MOD; returns the flows a delete removed (reason
    /// METER_DELETE). A refused change changes nothing.
    pub fn apply_meter_mod(
        &mut self,
        mm: &MeterMod,
        now: u64,
    ) -> Result<Vec<RemovedFlow>, MeterError> {
        let m = &mm.meter;
        match mm.command {
            MeterModCommand::Add | MeterModCommand::Modify => {
                m.validate()?;
                let previous = self.meters.get(&m.id).cloned();
                match (mm.command, &previous) {
                    (MeterModCommand::Add, Some(_)) => return Err(MeterError::Exists(m.id)),
                    (MeterModCommand::Modify, None) => return Err(MeterError::Unknown(m.id)),
                    _ => {}
                }
                if previous.is_none() && self.meters.len() >= MAX_METERS {
                    return Err(MeterError::OutOfMeters);
                }
                let entry = MeterEntry::new(m.clone(), now, previous.as_deref());
                Arc::make_mut(&mut self.meters).insert(m.id, Arc::new(entry));
                self.version += 1;
                Ok(Vec::new())
            }
            MeterModCommand::Delete => {
                let all = m.id == ALL_METERS;
                if !all && (m.id == 0 || m.id > MAX_METER) {
                    return Err(MeterError::Invalid(m.id));
                }
                if !all && !self.meters.contains_key(&m.id) || self.meters.is_empty() {
                    return Ok(Vec::new());
                }
                let id = m.id;
                let removed = self.remove_flows(
                    |f| {
                        f.instructions
                            .iter()
                            .any(|i| matches!(i, Instruction::Meter(x) if all || *x == id))
                    },
                    RemovedReason::MeterDelete,
                );
                let meters = Arc::make_mut(&mut self.meters);
                if all {
                    meters.clear();
                } else {
                    meters.remove(&id);
                }
                self.version += 1;
                Ok(removed)
            }
        }
    }

    /// Flows naming each meter (its `flow_count`).
    pub fn meter_flow_counts(&self) -> HashMap<u32, u32> {
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for f in self.flows() {
            for i in &f.flow.instructions {
                if let Instruction::Meter(m) = i {
                    *counts.entry(*m).or_default() += 1;
                }
            }
        }
        counts
    }

    /// Removes every flow `doomed` picks, from every table.
    fn remove_flows(
        &mut self,
        doomed: impl Fn(&Flow) -> bool,
        reason: RemovedReason,
    ) -> Vec<RemovedFlow> {
        let mut out = Vec::new();
        for t in &mut self.tables {
            let selectors: Vec<FlowSelector> = t
                .iter()
                .filter(|f| doomed(&f.flow))
                .map(|f| FlowSelector {
                    r#match: f.flow.r#match,
                    priority: Some(f.flow.priority),
                    ..FlowSelector::all()
                })
                .collect();
            if selectors.is_empty() {
                continue;
            }
            let table = Arc::make_mut(t);
            for sel in selectors {
                out.extend(
                    table
                        .delete(&sel)
                        .into_iter()
                        .map(|entry| RemovedFlow { entry, reason }),
                );
            }
        }
        out
    }
}

/// Groups on the longest chain down from `id` (itself included).
fn chain_height(id: u32, view: &BTreeMap<u32, &Group>, memo: &mut HashMap<u32, usize>) -> usize {
    if let Some(h) = memo.get(&id) {
        return *h;
    }
    let below = view
        .get(&id)
        .map(|g| {
            g.referenced_groups()
                .collect::<Vec<_>>()
                .into_iter()
                .map(|c| chain_height(c, view, memo))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    let h = below + 1;
    memo.insert(id, h);
    h
}
