//! Rollback: the undo log replayed backwards, so a failed run leaves the
//! lab as it was (see the parent module's docs).

use ipnet::IpNet;

use vnet_sys::netns::{Netns, NetnsError};

use super::{kernel, lab_has_ipv6, route_spec, ApplyError, ApplyReport, Run, Undo};
use crate::lab::Lab;
use crate::plan::Plan;

impl Run<'_> {
    /// Undoes everything in reverse; returns what could not be undone.
    pub(super) fn rollback(&mut self, _plan: &Plan) -> Vec<String> {
        let mut failures = Vec::new();
        let mut restored_old_links = Vec::new();
        let mut restored_nodes = Vec::new();
        let mut routes = Vec::new();
        while let Some(u) = self.undo.pop() {
            let r: Result<(), String> = match &u {
                Undo::DeleteNetns(ns) => {
                    self.k.nl.remove(ns);
                    self.k.ns.remove(ns);
                    Netns::delete(ns).or_else(|e| match e {
                        NetnsError::NotFound { .. } => Ok(()),
                        e => Err(e.to_string()),
                    })
                }
                Undo::DeleteLink { ns, iface } => match self.k.netlink(ns) {
                    Ok(nl) => nl.delete(iface).or_else(|e| {
                        if e.is_not_found() {
                            Ok(())
                        } else {
                            Err(e.to_string())
                        }
                    }),
                    Err(e) => Err(e.to_string()),
                },
                Undo::DelAddr { ns, iface, addr } => self.addr(ns, iface, *addr, false),
                Undo::AddAddr { ns, iface, addr } => self.addr(ns, iface, *addr, true),
                Undo::DelRoute { ns, route } => match self.k.netlink(ns) {
                    Ok(nl) => nl.route_del(route).or_else(|e| {
                        if e.is_not_found() {
                            Ok(())
                        } else {
                            Err(e.to_string())
                        }
                    }),
                    Err(e) => Err(e.to_string()),
                },
                Undo::RecreateOldLink(li) => {
                    restored_old_links.push(*li);
                    Ok(())
                }
                Undo::RestoreNode(i) => {
                    restored_nodes.push(*i);
                    Ok(())
                }
                Undo::AddRoute { ns, route } => {
                    routes.push((ns.clone(), route.clone()));
                    Ok(())
                }
            };
            if let Err(e) = r {
                failures.push(format!("undo {u:?}: {e}"));
            }
        }
        if let Some(old) = self.old {
            if !restored_old_links.is_empty() || !restored_nodes.is_empty() {
                failures.extend(self.restore_old(old, &restored_old_links, &restored_nodes));
            }
        }
        // Deleted routes go back last: their interfaces and gateways are back.
        for (ns, r) in routes.into_iter().rev() {
            let added = route_spec(&mut self.k, &ns, &r).and_then(|spec| {
                self.k
                    .netlink(&ns)?
                    .route_add(&spec)
                    .map_err(kernel(format!("netns {ns}")))
            });
            match added {
                Ok(()) => {}
                Err(ApplyError::Kernel { source, .. }) if source.is_exists() => {}
                Err(e) => failures.push(format!("restore route {} in {ns}: {e}", r.dst)),
            }
        }
        failures
    }

    fn addr(&mut self, ns: &str, iface: &str, addr: IpNet, add: bool) -> Result<(), String> {
        let i = self.k.index(ns, iface).map_err(|e| e.to_string())?;
        let nl = self.k.netlink(ns).map_err(|e| e.to_string())?;
        let r = if add {
            nl.addr_add(i, addr.addr(), addr.prefix_len())
        } else {
            nl.addr_del(i, addr.addr(), addr.prefix_len())
        };
        r.or_else(|e| {
            if e.is_not_found() || e.is_exists() {
                Ok(())
            } else {
                Err(e.to_string())
            }
        })
    }

    /// Re-creates the old lab's deleted nodes (`nodes`, indices into
    /// `old.nodes`) and deleted links (with their addresses), then adds
    /// every route of the old lab (routes through them went with them).
    fn restore_old(&mut self, old: &Lab, links: &[usize], nodes: &[usize]) -> Vec<String> {
        let mut links = links.to_vec();
        // A re-created namespace needs all of its links again.
        for (li, l) in old.links.iter().enumerate() {
            let touches = std::iter::once(&l.a.node)
                .chain(l.b.as_ref().map(|b| &b.node))
                .chain(l.device_of.as_ref())
                .any(|n| nodes.iter().any(|&i| old.nodes[i].name == *n));
            if touches && !links.contains(&li) {
                links.push(li);
            }
        }
        let mut plan = Plan {
            new_nodes: nodes.to_vec(),
            new_links: links.clone(),
            ..Plan::default()
        };
        for n in &old.nodes {
            for i in n.interfaces.iter().filter(|i| links.contains(&i.link)) {
                for a in &i.addresses {
                    plan.addr_add.push(crate::plan::AddrChange {
                        node: n.name.clone(),
                        iface: i.name.clone(),
                        addr: *a,
                    });
                }
            }
        }
        let mut sub = Run {
            old: None,
            new: old,
            k: std::mem::take(&mut self.k),
            undo: Vec::new(),
            report: ApplyReport::default(),
            ipv6: lab_has_ipv6(old),
            progress: self.progress,
        };
        let mut failures = Vec::new();
        if let Err(e) = sub
            .create_namespaces(&plan)
            .and_then(|()| sub.create_links(&plan))
            .and_then(|()| sub.configure(&plan))
        {
            failures.push(format!("restore deleted nodes and links: {e}"));
        }
        for n in &old.nodes {
            let Some(ns) = n.netns.as_deref() else {
                continue;
            };
            for r in &n.routes {
                let Ok(spec) = route_spec(&mut sub.k, ns, r) else {
                    continue;
                };
                if let Ok(nl) = sub.k.netlink(ns) {
                    if let Err(e) = nl.route_add(&spec) {
                        if !e.is_exists() {
                            failures.push(format!("restore route on {}: {e}", n.name));
                        }
                    }
                }
            }
        }
        self.k = std::mem::take(&mut sub.k);
        failures
    }
}
