//! What of a lab as last applied still exists in the kernel.
//!
//! `vnet up` plans against the lab as observed, not as recorded, so objects
//! removed behind vnet's back (a namespace deleted with `ip netns del`, a
//! link deleted by hand) are recreated instead of being assumed present.

use std::collections::{HashMap, HashSet};

use vnet_sys::Netns;

use crate::lab::{Lab, NodeKind};

/// What `observe` found missing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Drift {
    pub missing_nodes: Vec<String>,
    /// Links (as `node:iface`) with an end missing.
    pub missing_links: Vec<String>,
    /// Surviving ends of those links, as (namespace, interface): a veth end
    /// whose peer's namespace was deleted lingers until the kernel's
    /// asynchronous cleanup reaches it, and would block re-creation.
    pub stale_ends: Vec<(String, String)>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.missing_nodes.is_empty() && self.missing_links.is_empty()
    }
}

/// Returns `lab` without the nodes whose namespace (or bridge device) is
/// gone and without the links whose interfaces are gone, and what was
/// dropped. Namespaces that cannot be read are treated as present.
pub fn observe(lab: &Lab) -> (Lab, Drift) {
    let mut drift = Drift::default();
    // Interface names present in each namespace of the lab.
    let mut present: HashMap<String, HashSet<String>> = HashMap::new();
    let mut gone_nodes: HashSet<String> = HashSet::new();
    for n in &lab.nodes {
        let Some(ns) = &n.netns else { continue };
        if !Netns::exists(ns) {
            gone_nodes.insert(n.name.clone());
            continue;
        }
        let names = Netns::open(ns)
            .and_then(|ns| ns.netlink())
            .ok()
            .and_then(|mut nl| nl.links().ok())
            .map(|links| links.into_iter().map(|l| l.name).collect::<HashSet<_>>());
        if let Some(names) = names {
            if n.kind == NodeKind::Bridge
                && n.bridge_dev.as_ref().is_some_and(|d| !names.contains(d))
            {
                gone_nodes.insert(n.name.clone());
            }
            present.insert(ns.clone(), names);
        }
    }
    let exists = |node: &str, iface: &str| -> bool {
        if gone_nodes.contains(node) {
            return false;
        }
        match lab.netns_of(&crate::lab::Endpoint {
            node: node.into(),
            iface: iface.into(),
        }) {
            Some(ns) => present.get(ns).is_none_or(|names| names.contains(iface)),
            None => true,
        }
    };
    let mut keep = Vec::with_capacity(lab.links.len());
    for l in &lab.links {
        let ends_ok =
            exists(&l.a.node, &l.a.iface) && l.b.as_ref().is_none_or(|b| exists(&b.node, &b.iface));
        let owner_ok = l.device_of.as_ref().is_none_or(|d| !gone_nodes.contains(d));
        if ends_ok && owner_ok {
            keep.push(true);
        } else {
            keep.push(false);
            drift
                .missing_links
                .push(format!("{}:{}", l.a.node, l.a.iface));
            for end in std::iter::once(&l.a).chain(l.b.as_ref()) {
                if let Some(ns) = lab.netns_of(end) {
                    let alive = !gone_nodes.contains(&end.node)
                        && present
                            .get(ns)
                            .is_some_and(|names| names.contains(&end.iface));
                    if alive {
                        drift.stale_ends.push((ns.to_string(), end.iface.clone()));
                    }
                }
            }
        }
    }
    let mut remap = vec![usize::MAX; lab.links.len()];
    let mut links = Vec::new();
    for (i, l) in lab.links.iter().enumerate() {
        if keep[i] {
            remap[i] = links.len();
            links.push(l.clone());
        }
    }
    let mut nodes = Vec::new();
    for n in &lab.nodes {
        if gone_nodes.contains(&n.name) {
            drift.missing_nodes.push(n.name.clone());
            continue;
        }
        let mut n = n.clone();
        n.interfaces
            .retain(|i| keep.get(i.link).copied().unwrap_or(false));
        for i in &mut n.interfaces {
            i.link = remap[i.link];
        }
        nodes.push(n);
    }
    (
        Lab {
            name: lab.name.clone(),
            nodes,
            links,
        },
        drift,
    )
}

/// Deletes the stale ends `observe` found, so the links can be recreated.
/// An end already gone (the kernel got there first) is fine.
pub fn remove_stale_ends(drift: &Drift) -> Result<(), String> {
    for (ns, iface) in &drift.stale_ends {
        let mut nl = Netns::open(ns)
            .and_then(|n| n.netlink())
            .map_err(|e| e.to_string())?;
        match nl.delete(iface) {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}
