//! Carrying out a plan against the kernel, transactionally.
//!
//! Order: (A) delete removed routes, addresses and links of surviving
//! nodes, and the namespaces of nodes that are replaced (same namespace
//! name, another kind); (B) create new namespaces (journaled first); (C)
//! create links;
//! (D) bring interfaces up, add addresses and routes; (E) run `exec`
//! commands of new nodes; (F) delete namespaces of removed nodes.
//! Every change of A–E is recorded in an undo log; when any step fails,
//! the log is replayed backwards so the lab is left as it was before this
//! run (a replaced node is rebuilt from the old lab, with its links,
//! addresses and routes). F comes last because a deleted namespace cannot
//! be restored.

use std::collections::HashMap;
use std::os::fd::AsFd;

use ipnet::IpNet;
use vnet_sys::netlink::{BridgeOptions, NewLink, Request, RouteSpec};
use vnet_sys::netns::{set_sysctl, Netns, NetnsError};
use vnet_sys::tuntap::{Mode, TunTapBuilder};
use vnet_sys::{Netlink, NetlinkError};

use crate::lab::{Lab, LinkKind, Node, NodeKind, Route};
use crate::plan::Plan;
use crate::state::{LabState, StateError};

mod rollback;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("node {node}: {source}")]
    Netns { node: String, source: NetnsError },
    #[error("{context}: {source}")]
    Kernel {
        context: String,
        source: NetlinkError,
    },
    #[error("{context}: {reason}")]
    Other { context: String, reason: String },
    #[error(transparent)]
    State(#[from] StateError),
    #[error("{cause}\nrollback failed for {} step(s):\n  {}", failures.len(), failures.join("\n  "))]
    RollbackFailed {
        cause: Box<ApplyError>,
        failures: Vec<String>,
    },
}

/// What one run changed, for the user.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ApplyReport {
    pub namespaces_created: usize,
    pub namespaces_deleted: usize,
    pub links_created: usize,
    pub links_deleted: usize,
    pub addresses_added: usize,
    pub addresses_deleted: usize,
    pub routes_added: usize,
    pub routes_deleted: usize,
    pub commands_run: usize,
}

/// Progress events: a phase name and how many of its items are done.
pub type Progress<'a> = &'a (dyn Fn(&str, usize, usize) + Sync);

/// Things to undo, in the order they were done.
#[derive(Debug)]
enum Undo {
    DeleteNetns(String),
    DeleteLink {
        ns: String,
        iface: String,
    },
    DelAddr {
        ns: String,
        iface: String,
        addr: IpNet,
    },
    DelRoute {
        ns: String,
        route: RouteSpec,
    },
    /// A link of the old lab was deleted: recreate it (with its addresses).
    RecreateOldLink(usize),
    /// A route of a surviving node was deleted: add it back (at the end,
    /// once interfaces and addresses are back).
    AddRoute {
        ns: String,
        route: Route,
    },
    /// The namespace of an old node was deleted to make room for its
    /// replacement: rebuild it (with its links) from the old lab.
    RestoreNode(usize),
    AddAddr {
        ns: String,
        iface: String,
        addr: IpNet,
    },
}

/// Open namespaces and netlink sockets, by namespace name.
#[derive(Default)]
struct Kernel {
    ns: HashMap<String, Netns>,
    nl: HashMap<String, Netlink>,
}

impl Kernel {
    fn netns(&mut self, name: &str) -> Result<&Netns, ApplyError> {
        if !self.ns.contains_key(name) {
            let ns = Netns::open(name).map_err(|e| ApplyError::Netns {
                node: name.to_string(),
                source: e,
            })?;
            self.ns.insert(name.to_string(), ns);
        }
        Ok(&self.ns[name])
    }

    fn netlink(&mut self, name: &str) -> Result<&mut Netlink, ApplyError> {
        if !self.nl.contains_key(name) {
            let nl = self.netns(name)?.netlink().map_err(|e| ApplyError::Netns {
                node: name.to_string(),
                source: e,
            })?;
            self.nl.insert(name.to_string(), nl);
        }
        Ok(self.nl.get_mut(name).expect("just inserted"))
    }

    fn index(&mut self, ns: &str, iface: &str) -> Result<u32, ApplyError> {
        self.netlink(ns)?
            .index_of(iface)
            .map_err(|e| ApplyError::Kernel {
                context: format!("netns {ns}"),
                source: e,
            })
    }
}

fn kernel(context: impl Into<String>) -> impl FnOnce(NetlinkError) -> ApplyError {
    let context = context.into();
    move |source| ApplyError::Kernel { context, source }
}

fn ns_of<'a>(lab: &'a Lab, node: &str) -> Result<&'a str, ApplyError> {
    lab.node(node)
        .and_then(|n| n.netns.as_deref())
        .ok_or_else(|| ApplyError::Other {
            context: format!("node {node}"),
            reason: "has no namespace".into(),
        })
}

fn lab_has_ipv6(lab: &Lab) -> bool {
    lab.nodes
        .iter()
        .flat_map(|n| &n.interfaces)
        .flat_map(|i| &i.addresses)
        .any(|a| matches!(a, IpNet::V6(_)))
        || lab
            .nodes
            .iter()
            .flat_map(|n| &n.routes)
            .any(|r| matches!(r.dst, IpNet::V6(_)))
}

fn route_spec(kernel: &mut Kernel, ns: &str, r: &Route) -> Result<RouteSpec, ApplyError> {
    let dev = match &r.dev {
        Some(d) => Some(kernel.index(ns, d)?),
        None => None,
    };
    Ok(RouteSpec {
        dst: r.dst.network(),
        dst_len: r.dst.prefix_len(),
        via: r.via,
        dev,
        metric: r.metric,
    })
}

/// The run: the labs, the kernel handles, the undo log and the report.
struct Run<'a> {
    old: Option<&'a Lab>,
    new: &'a Lab,
    k: Kernel,
    undo: Vec<Undo>,
    report: ApplyReport,
    ipv6: bool,
    progress: Progress<'a>,
}

/// Applies `plan` (from `old` to `new`). On failure everything this run
/// changed is undone and the error says what failed (and what could not be
/// undone, if anything). The caller saves state on success.
pub fn apply(
    old: Option<&Lab>,
    new: &Lab,
    plan: &Plan,
    state: &LabState,
    progress: Progress<'_>,
) -> Result<ApplyReport, ApplyError> {
    let mut run = Run {
        old,
        new,
        k: Kernel::default(),
        undo: Vec::new(),
        report: ApplyReport::default(),
        ipv6: lab_has_ipv6(new),
        progress,
    };
    let new_ns: Vec<String> = plan
        .new_nodes
        .iter()
        .filter_map(|&i| new.nodes[i].netns.clone())
        .collect();
    state.journal_namespaces(&new_ns)?;
    // Interfaces made in namespaces that already exist: a killed run
    // would leave them there (new namespaces take theirs along).
    let link_ends: Vec<(String, String)> = plan
        .new_links
        .iter()
        .flat_map(|&li| {
            let l = &new.links[li];
            std::iter::once(&l.a).chain(l.b.as_ref())
        })
        .filter_map(|e| {
            let ns = new.netns_of(e)?;
            (!new_ns.iter().any(|n| n == ns)).then(|| (ns.to_string(), e.iface.clone()))
        })
        .collect();
    state.journal_links(&link_ends)?;
    let result = run.forward(plan);
    match result {
        Ok(()) => {
            run.delete_removed_nodes(plan);
            Ok(run.report)
        }
        Err(cause) => {
            let failures = run.rollback(plan);
            if failures.is_empty() {
                Err(cause)
            } else {
                Err(ApplyError::RollbackFailed {
                    cause: Box::new(cause),
                    failures,
                })
            }
        }
    }
}

impl Run<'_> {
    fn forward(&mut self, plan: &Plan) -> Result<(), ApplyError> {
        self.remove_stale(plan)?;
        self.delete_replaced(plan)?;
        self.create_namespaces(plan)?;
        self.create_links(plan)?;
        self.configure(plan)?;
        self.exec(plan)
    }

    /// Phase A.
    fn remove_stale(&mut self, plan: &Plan) -> Result<(), ApplyError> {
        let Some(old) = self.old else { return Ok(()) };
        for rc in &plan.route_del {
            let ns = ns_of(old, &rc.node)?.to_string();
            // Routes through an interface that is going away may be gone already.
            let Ok(spec) = route_spec(&mut self.k, &ns, &rc.route) else {
                continue;
            };
            match self.k.netlink(&ns)?.route_del(&spec) {
                Ok(()) => {
                    self.undo.push(Undo::AddRoute {
                        ns,
                        route: rc.route.clone(),
                    });
                    self.report.routes_deleted += 1;
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(kernel(format!("node {}", rc.node))(e)),
            }
        }
        for ac in &plan.addr_del {
            let ns = ns_of(old, &ac.node)?.to_string();
            let idx = self.k.index(&ns, &ac.iface)?;
            self.k
                .netlink(&ns)?
                .addr_del(idx, ac.addr.addr(), ac.addr.prefix_len())
                .map_err(kernel(format!("node {} interface {}", ac.node, ac.iface)))?;
            self.undo.push(Undo::AddAddr {
                ns,
                iface: ac.iface.clone(),
                addr: ac.addr,
            });
            self.report.addresses_deleted += 1;
        }
        for &li in &plan.removed_links {
            let link = &old.links[li];
            // Delete from whichever end still has a namespace.
            let end = std::iter::once(&link.a).chain(link.b.as_ref()).find(|e| {
                self.new.node(&e.node).is_some_and(|n| n.netns.is_some())
                    && old.netns_of(e).is_some()
            });
            let Some(end) = end else { continue };
            let ns = old.netns_of(end).unwrap_or_default().to_string();
            match self.k.netlink(&ns)?.delete(&end.iface) {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(kernel(format!("node {}", end.node))(e)),
            }
            self.undo.push(Undo::RecreateOldLink(li));
            self.report.links_deleted += 1;
        }
        Ok(())
    }

    /// Old nodes whose namespace name a new node takes (a node whose kind
    /// changed): indices into `old.nodes`.
    fn replaced(&self, plan: &Plan) -> Vec<usize> {
        let Some(old) = self.old else { return vec![] };
        plan.removed_nodes
            .iter()
            .copied()
            .filter(|&i| {
                old.nodes[i].netns.as_ref().is_some_and(|ns| {
                    plan.new_nodes
                        .iter()
                        .any(|&j| self.new.nodes[j].netns.as_ref() == Some(ns))
                })
            })
            .collect()
    }

    /// End of phase A: delete the namespaces of replaced nodes, so their
    /// replacements can be created under the same name.
    fn delete_replaced(&mut self, plan: &Plan) -> Result<(), ApplyError> {
        let Some(old) = self.old else { return Ok(()) };
        for i in self.replaced(plan) {
            let node = &old.nodes[i];
            let ns = node.netns.clone().unwrap_or_default();
            self.k.nl.remove(&ns);
            self.k.ns.remove(&ns);
            match Netns::delete(&ns) {
                Ok(()) => {
                    self.undo.push(Undo::RestoreNode(i));
                    self.report.namespaces_deleted += 1;
                }
                Err(NetnsError::NotFound { .. }) => {}
                Err(e) => {
                    return Err(ApplyError::Netns {
                        node: node.name.clone(),
                        source: e,
                    })
                }
            }
        }
        Ok(())
    }

    /// Phase B: namespaces, on one worker thread, with per-kind setup inside.
    fn create_namespaces(&mut self, plan: &Plan) -> Result<(), ApplyError> {
        if plan.new_nodes.is_empty() {
            return Ok(());
        }
        let nodes: Vec<&Node> = plan.new_nodes.iter().map(|&i| &self.new.nodes[i]).collect();
        let names: Vec<&str> = nodes.iter().filter_map(|n| n.netns.as_deref()).collect();
        let ipv6 = self.ipv6;
        let total = names.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let progress = self.progress;
        let results = Netns::create_many(&names, |ns, nl| {
            let node = nodes
                .iter()
                .find(|n| n.netns.as_deref() == Some(ns.name()))
                .expect("node of netns");
            setup_namespace(node, nl, ipv6).map_err(|e| match e {
                ApplyError::Netns { source, .. } => source,
                other => NetnsError::Io {
                    op: "set up",
                    name: ns.name().to_string(),
                    source: std::io::Error::other(other.to_string()),
                },
            })?;
            let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress("namespaces", d, total);
            Ok(())
        });
        let mut first_err = None;
        for (r, name) in results.into_iter().zip(&names) {
            match r {
                Ok((ns, nl)) => {
                    self.undo.push(Undo::DeleteNetns(name.to_string()));
                    self.report.namespaces_created += 1;
                    self.k.ns.insert(name.to_string(), ns);
                    self.k.nl.insert(name.to_string(), nl);
                }
                Err(e) => {
                    // A namespace made before its setup failed must go too.
                    if !matches!(e, NetnsError::Exists { .. }) && Netns::exists(name) {
                        self.undo.push(Undo::DeleteNetns(name.to_string()));
                    }
                    let node = nodes
                        .iter()
                        .find(|n| n.netns.as_deref() == Some(*name))
                        .map(|n| n.name.clone());
                    first_err.get_or_insert(ApplyError::Netns {
                        node: node.unwrap_or_default(),
                        source: e,
                    });
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Phase C: links, batched per creating namespace.
    fn create_links(&mut self, plan: &Plan) -> Result<(), ApplyError> {
        let lab = self.new;
        // Veth pairs grouped by the namespace that creates them.
        let mut by_ns: Vec<(String, Vec<usize>)> = Vec::new();
        for &li in &plan.new_links {
            let link = &lab.links[li];
            match link.kind {
                LinkKind::Veth => {
                    let (creator, _) = veth_ends(lab, li);
                    let ns = ns_of(lab, &creator.node)?.to_string();
                    match by_ns.iter_mut().find(|(n, _)| *n == ns) {
                        Some((_, v)) => v.push(li),
                        None => by_ns.push((ns, vec![li])),
                    }
                }
                LinkKind::Tap | LinkKind::Tun => self.create_tuntap(li)?,
            }
        }
        let total = plan.new_links.len();
        let mut done = 0;
        for (ns, links) in by_ns {
            let mut peers: Vec<String> = Vec::new();
            for &li in &links {
                let (_, other) = veth_ends(lab, li);
                let pns = ns_of(lab, &other.node)?.to_string();
                self.k.netns(&pns)?;
                peers.push(pns);
            }
            let master = match lab.node(&veth_ends(lab, links[0]).0.node) {
                Some(n) if n.kind == NodeKind::Bridge => {
                    let dev = n.bridge_dev.clone().unwrap_or_default();
                    Some(self.k.index(&ns, &dev)?)
                }
                _ => None,
            };
            self.k.netlink(&ns)?;
            let Kernel {
                ns: open_ns,
                nl: sockets,
            } = &mut self.k;
            let specs: Vec<NewLink> = links
                .iter()
                .zip(&peers)
                .map(|(&li, pns)| {
                    let (me, other) = veth_ends(lab, li);
                    let mine = lab
                        .node(&me.node)
                        .and_then(|n| n.interfaces.iter().find(|i| i.name == me.iface));
                    let theirs = lab
                        .node(&other.node)
                        .and_then(|n| n.interfaces.iter().find(|i| i.name == other.iface));
                    let mut l = NewLink::veth(me.iface.clone(), other.iface.clone())
                        .peer_netns(open_ns[pns].as_fd())
                        .label(format!(
                            "{}:{} <-> {}:{}",
                            me.node, me.iface, other.node, other.iface
                        ));
                    l.mtu = mine.and_then(|i| i.mtu).or(lab.links[li].mtu);
                    l.mac = mine.and_then(|i| i.mac);
                    if let vnet_sys::netlink::NewLinkKind::Veth {
                        peer_mtu, peer_mac, ..
                    } = &mut l.kind
                    {
                        *peer_mtu = theirs.and_then(|i| i.mtu).or(lab.links[li].mtu);
                        *peer_mac = theirs.and_then(|i| i.mac);
                    }
                    if let Some(m) = master {
                        l = l.master(m).up();
                    }
                    l
                })
                .collect();
            let results = sockets
                .get_mut(&ns)
                .expect("opened above")
                .create_many(&specs);
            drop(specs);
            let mut first_err = None;
            for (r, &li) in results.into_iter().zip(&links) {
                let (me, _) = veth_ends(lab, li);
                match r {
                    Ok(()) => {
                        self.undo.push(Undo::DeleteLink {
                            ns: ns.clone(),
                            iface: me.iface.clone(),
                        });
                        self.report.links_created += 1;
                    }
                    Err(e) => {
                        first_err.get_or_insert(ApplyError::Kernel {
                            context: format!("link {li}"),
                            source: e,
                        });
                    }
                }
                done += 1;
            }
            (self.progress)("links", done, total);
            if let Some(e) = first_err {
                return Err(e);
            }
        }
        Ok(())
    }

    fn create_tuntap(&mut self, li: usize) -> Result<(), ApplyError> {
        let lab = self.new;
        let link = &lab.links[li];
        let ns = ns_of(lab, &link.a.node)?.to_string();
        let owner_node = link.device_of.as_deref().and_then(|d| lab.node(d));
        let mode = if link.kind == LinkKind::Tun {
            Mode::Tun
        } else {
            Mode::Tap
        };
        let mut b = TunTapBuilder::new(link.a.iface.clone(), mode).persistent(true);
        if let Some(u) = owner_node.and_then(|n| n.owner) {
            b = b.owner(u);
        }
        if let Some(g) = owner_node.and_then(|n| n.group) {
            b = b.group(g);
        }
        let made = self.k.netns(&ns)?.run(|| b.create().map(drop));
        let context = format!(
            "node {}: create {} {}",
            link.device_of.as_deref().unwrap_or(&link.a.node),
            mode.as_str(),
            link.a.iface
        );
        match made {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(ApplyError::Other {
                    context,
                    reason: e.to_string(),
                })
            }
            Err(e) => {
                return Err(ApplyError::Netns {
                    node: link.a.node.clone(),
                    source: e,
                })
            }
        }
        self.undo.push(Undo::DeleteLink {
            ns,
            iface: link.a.iface.clone(),
        });
        self.report.links_created += 1;
        Ok(())
    }

    /// Phase D: per namespace, one batch: interfaces up (and enslaved where
    /// the bridge did not create them), addresses; then routes.
    fn configure(&mut self, plan: &Plan) -> Result<(), ApplyError> {
        let lab = self.new;
        // Interfaces created by this run, per namespace.
        let mut fresh: Vec<(String, String, String)> = Vec::new(); // (ns, node, iface)
        for &li in &plan.new_links {
            let link = &lab.links[li];
            let (creator, _) = if link.kind == LinkKind::Veth {
                veth_ends(lab, li)
            } else {
                (&link.a, &link.a)
            };
            for end in std::iter::once(&link.a).chain(link.b.as_ref()) {
                let node = lab.node(&end.node).expect("validated node");
                // Bridge ports made by the bridge's own namespace are up and enslaved already.
                if node.kind == NodeKind::Bridge
                    && std::ptr::eq(end, creator)
                    && link.kind == LinkKind::Veth
                {
                    continue;
                }
                fresh.push((
                    ns_of(lab, &end.node)?.to_string(),
                    end.node.clone(),
                    end.iface.clone(),
                ));
            }
        }
        let mut namespaces: Vec<String> = fresh.iter().map(|f| f.0.clone()).collect();
        for a in &plan.addr_add {
            namespaces.push(ns_of(lab, &a.node)?.to_string());
        }
        for r in &plan.route_add {
            namespaces.push(ns_of(lab, &r.node)?.to_string());
        }
        let mut seen = std::collections::HashSet::new();
        namespaces.retain(|n| seen.insert(n.clone()));
        let total = namespaces.len();
        // Addresses and routes by namespace, grouped once (filtering the
        // plan per namespace was quadratic in the lab's size).
        let mut addrs_in: HashMap<&str, Vec<&crate::plan::AddrChange>> = HashMap::new();
        for a in &plan.addr_add {
            addrs_in.entry(ns_of(lab, &a.node)?).or_default().push(a);
        }
        let mut routes_in: HashMap<&str, Vec<&crate::plan::RouteChange>> = HashMap::new();
        for r in &plan.route_add {
            routes_in.entry(ns_of(lab, &r.node)?).or_default().push(r);
        }
        let mut fresh_in: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
        for (ns, node, iface) in &fresh {
            fresh_in
                .entry(ns.as_str())
                .or_default()
                .push((node.as_str(), iface.as_str()));
        }
        for (done, ns) in namespaces.iter().enumerate() {
            let links = self
                .k
                .netlink(ns)?
                .links()
                .map_err(kernel(format!("netns {ns}")))?;
            let index: HashMap<&str, u32> =
                links.iter().map(|l| (l.name.as_str(), l.index)).collect();
            let idx = |iface: &str| -> Result<u32, ApplyError> {
                index.get(iface).copied().ok_or_else(|| ApplyError::Other {
                    context: format!("netns {ns}"),
                    reason: format!("interface {iface} is missing after creation"),
                })
            };
            let mut reqs: Vec<Request> = Vec::new();
            let mut undo_addrs = Vec::new();
            for &(node, iface) in fresh_in.get(ns.as_str()).into_iter().flatten() {
                let i = idx(iface)?;
                let n = lab.node(node).expect("validated node");
                if !self.ipv6 {
                    reqs.push(Netlink::addrgenmode_none_message(i));
                }
                if n.kind == NodeKind::Bridge {
                    let br = idx(n.bridge_dev.as_deref().unwrap_or_default())?;
                    reqs.push(Netlink::master_message(i, Some(br)));
                }
                reqs.push(Netlink::up_message(i, true));
            }
            for a in addrs_in.get(ns.as_str()).into_iter().flatten() {
                let i = idx(&a.iface)?;
                reqs.push(Netlink::addr_add_message(
                    i,
                    a.addr.addr(),
                    a.addr.prefix_len(),
                ));
                undo_addrs.push(Undo::DelAddr {
                    ns: ns.clone(),
                    iface: a.iface.clone(),
                    addr: a.addr,
                });
            }
            let n_addrs = undo_addrs.len();
            let results = self.k.netlink(ns)?.batch(reqs);
            let first_err = results.into_iter().find_map(|r| r.err());
            // Deleting an address that did not go in is harmless on rollback.
            self.undo.extend(undo_addrs);
            if let Some(e) = first_err {
                return Err(kernel(format!("netns {ns}"))(e));
            }
            self.report.addresses_added += n_addrs;
            for rc in routes_in.get(ns.as_str()).into_iter().flatten() {
                let spec = route_spec(&mut self.k, ns, &rc.route)?;
                self.k
                    .netlink(ns)?
                    .route_add(&spec)
                    .map_err(kernel(format!("node {}", rc.node)))?;
                self.undo.push(Undo::DelRoute {
                    ns: ns.clone(),
                    route: spec,
                });
                self.report.routes_added += 1;
            }
            (self.progress)("configure", done + 1, total);
        }
        Ok(())
    }

    /// Phase E: `exec` commands of new nodes, in order; any failure fails the run.
    fn exec(&mut self, plan: &Plan) -> Result<(), ApplyError> {
        for (node, cmd) in &plan.exec {
            let ns = ns_of(self.new, node)?.to_string();
            let out = self
                .k
                .netns(&ns)?
                .command("sh")
                .args(["-c", cmd])
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|e| ApplyError::Other {
                    context: format!("node {node}: exec `{cmd}`"),
                    reason: e.to_string(),
                })?;
            for line in String::from_utf8_lossy(&out.stdout)
                .lines()
                .chain(String::from_utf8_lossy(&out.stderr).lines())
            {
                eprintln!("[{node}] {line}");
            }
            if !out.status.success() {
                return Err(ApplyError::Other {
                    context: format!("node {node}: exec `{cmd}`"),
                    reason: format!("exited with {}", out.status),
                });
            }
            self.report.commands_run += 1;
        }
        Ok(())
    }

    /// Phase F.
    fn delete_removed_nodes(&mut self, plan: &Plan) {
        let Some(old) = self.old else { return };
        // Replaced nodes are gone already; their name is the new node's now.
        let replaced = self.replaced(plan);
        for &i in plan.removed_nodes.iter().filter(|i| !replaced.contains(i)) {
            if let Some(ns) = &old.nodes[i].netns {
                self.k.nl.remove(ns);
                self.k.ns.remove(ns);
                match Netns::delete(ns) {
                    Ok(()) => self.report.namespaces_deleted += 1,
                    Err(NetnsError::NotFound { .. }) => {}
                    Err(e) => eprintln!("warning: node {}: {e}", old.nodes[i].name),
                }
            }
        }
    }
}

/// Inside a new namespace (on the creating thread): loopback up, forwarding
/// for routers, and the bridge device for bridges.
fn setup_namespace(node: &Node, nl: &mut Netlink, ipv6: bool) -> Result<(), ApplyError> {
    let ctx = || format!("node {}", node.name);
    let io = |e: std::io::Error| ApplyError::Other {
        context: ctx(),
        reason: e.to_string(),
    };
    nl.set_up(1, true).map_err(kernel(ctx()))?;
    if node.kind == NodeKind::Router {
        set_sysctl("net/ipv4/ip_forward", "1").map_err(io)?;
        set_sysctl("net/ipv6/conf/all/forwarding", "1").map_err(io)?;
    }
    if matches!(node.kind, NodeKind::Bridge | NodeKind::Switch) && !ipv6 {
        // Ports come up at creation: keep them from sending NDP.
        set_sysctl("net/ipv6/conf/default/addr_gen_mode", "1").map_err(io)?;
    }
    if ipv6 && matches!(node.kind, NodeKind::Host | NodeKind::Router) {
        // Lab addresses are unique by construction: skip duplicate address
        // detection, so link-local addresses (which neighbour discovery and
        // routers use) work the moment the lab is up, not a second later.
        set_sysctl("net/ipv6/conf/default/accept_dad", "0").map_err(io)?;
        set_sysctl("net/ipv6/conf/all/accept_dad", "0").map_err(io)?;
    }
    if node.kind == NodeKind::Bridge {
        let dev = node.bridge_dev.clone().unwrap_or_else(|| node.name.clone());
        nl.create(&NewLink::bridge(dev, BridgeOptions::default()).up())
            .map_err(kernel(ctx()))?;
    }
    Ok(())
}

/// For a veth link: (the end whose namespace creates it, the other end).
/// A bridge (or switch) end creates, so a bridge port is enslaved and up
/// at creation.
fn veth_ends(lab: &Lab, li: usize) -> (&crate::lab::Endpoint, &crate::lab::Endpoint) {
    let link = &lab.links[li];
    let b = link.b.as_ref().expect("veth has two ends");
    let is_bridge = |n: &str| {
        lab.node(n)
            .is_some_and(|n| matches!(n.kind, NodeKind::Bridge | NodeKind::Switch))
    };
    if !is_bridge(&link.a.node) && is_bridge(&b.node) {
        (b, &link.a)
    } else {
        (&link.a, b)
    }
}

/// Deletes every namespace a lab owns (from its journal and its applied
/// state); keeps going past failures and reports each. Returns the names
/// deleted and the failures.
pub fn destroy(state: &LabState) -> Result<(Vec<String>, Vec<String>), StateError> {
    let mut names = state.journaled_namespaces()?;
    if let Some(applied) = state.applied()? {
        for n in applied.lab.nodes.iter().filter_map(|n| n.netns.clone()) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    let mut removed = Vec::new();
    let mut failures = Vec::new();
    for n in names {
        match Netns::delete(&n) {
            Ok(()) => removed.push(n),
            Err(NetnsError::NotFound { .. }) => {}
            Err(e) => failures.push(e.to_string()),
        }
    }
    Ok((removed, failures))
}
