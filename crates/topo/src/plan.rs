//! The plan: what `vnet up` must change to turn the lab as last applied
//! (`old`, or nothing) into the lab in the file (`new`). Pure: no kernel.
//!
//! Identity rules:
//! - a node is kept when it exists in both with the same kind and namespace;
//! - a link is kept when both its end nodes are kept and it is identical in
//!   both (ends, kind, MTU, MACs, device owner);
//! - an interface survives exactly when its link is kept. Kept objects are
//!   never touched, so their ifindex does not change.
//! - addresses are diffed per surviving interface; a node's routes are
//!   replaced when they differ or any of its interfaces changed (the kernel
//!   drops routes through a deleted interface).

use std::collections::{BTreeSet, HashSet};

use ipnet::IpNet;
use serde::Serialize;

use crate::lab::{Interface, Lab, Link, Node, NodeKind, Route};

/// An address on an interface of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddrChange {
    pub node: String,
    pub iface: String,
    pub addr: IpNet,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteChange {
    pub node: String,
    pub route: Route,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Indices into `new.nodes` whose namespace must be created.
    pub new_nodes: Vec<usize>,
    /// Indices into `old.nodes` whose namespace must be deleted.
    pub removed_nodes: Vec<usize>,
    /// Indices into `new.links` to create.
    pub new_links: Vec<usize>,
    /// Indices into `old.links` to delete (their namespaces survive).
    pub removed_links: Vec<usize>,
    pub addr_del: Vec<AddrChange>,
    pub addr_add: Vec<AddrChange>,
    pub route_del: Vec<RouteChange>,
    pub route_add: Vec<RouteChange>,
    /// (node, command) for new nodes, in node order.
    pub exec: Vec<(String, String)>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.new_nodes.is_empty()
            && self.removed_nodes.is_empty()
            && self.new_links.is_empty()
            && self.removed_links.is_empty()
            && self.addr_del.is_empty()
            && self.addr_add.is_empty()
            && self.route_del.is_empty()
            && self.route_add.is_empty()
    }

    /// Kernel operations the plan will perform (for progress).
    pub fn operations(&self) -> usize {
        self.new_nodes.len()
            + self.removed_nodes.len()
            + self.new_links.len()
            + self.removed_links.len()
            + self.addr_del.len()
            + self.addr_add.len()
            + self.route_del.len()
            + self.route_add.len()
            + self.exec.len()
    }
}

fn node_identity(n: &Node) -> (NodeKind, &Option<String>, &Option<String>) {
    (n.kind, &n.netns, &n.bridge_dev)
}

/// MTU and MAC of one end of a link (`None` when the end has no interface).
type EndProps = Option<(Option<u32>, Option<[u8; 6]>)>;

/// Everything about a link that, when changed, means re-creating it.
#[derive(PartialEq)]
struct LinkIdentity<'a> {
    link: &'a Link,
    ends: Vec<EndProps>,
    owner: Option<(Option<u32>, Option<u32>)>,
}

fn iface_of<'a>(lab: &'a Lab, node: &str, iface: &str) -> Option<&'a Interface> {
    lab.node(node)?.interfaces.iter().find(|i| i.name == iface)
}

fn link_identity(lab: &Lab, idx: usize) -> LinkIdentity<'_> {
    let link = &lab.links[idx];
    let mut ends = vec![iface_of(lab, &link.a.node, &link.a.iface).map(|i| (i.mtu, i.mac))];
    if let Some(b) = &link.b {
        ends.push(iface_of(lab, &b.node, &b.iface).map(|i| (i.mtu, i.mac)));
    }
    let owner = link
        .device_of
        .as_ref()
        .and_then(|d| lab.node(d))
        .map(|n| (n.owner, n.group));
    LinkIdentity { link, ends, owner }
}

fn link_nodes(link: &Link) -> impl Iterator<Item = &str> {
    std::iter::once(link.a.node.as_str())
        .chain(link.b.as_ref().map(|b| b.node.as_str()))
        .chain(link.device_of.as_deref())
}

/// Computes the plan from `old` (as last applied) to `new`.
pub fn plan(old: Option<&Lab>, new: &Lab) -> Plan {
    let empty = Lab {
        name: new.name.clone(),
        nodes: vec![],
        links: vec![],
    };
    let old = old.unwrap_or(&empty);
    let mut p = Plan::default();

    let kept_nodes: HashSet<&str> = new
        .nodes
        .iter()
        .filter(|n| {
            old.node(&n.name)
                .is_some_and(|o| node_identity(o) == node_identity(n))
        })
        .map(|n| n.name.as_str())
        .collect();
    for (i, n) in new.nodes.iter().enumerate() {
        if !kept_nodes.contains(n.name.as_str()) {
            if n.netns.is_some() {
                p.new_nodes.push(i);
            }
            for cmd in &n.exec {
                p.exec.push((n.name.clone(), cmd.clone()));
            }
        }
    }
    for (i, n) in old.nodes.iter().enumerate() {
        if !kept_nodes.contains(n.name.as_str()) && n.netns.is_some() {
            p.removed_nodes.push(i);
        }
    }

    let links_kept_in = |lab: &Lab, other: &Lab, idx: usize| {
        link_nodes(&lab.links[idx]).all(|n| kept_nodes.contains(n)) && {
            let id = link_identity(lab, idx);
            (0..other.links.len()).any(|j| link_identity(other, j) == id)
        }
    };
    let mut kept_links_new = HashSet::new();
    for i in 0..new.links.len() {
        if links_kept_in(new, old, i) {
            kept_links_new.insert(i);
        } else {
            p.new_links.push(i);
        }
    }
    // Nodes whose interfaces change (a link of theirs is added or removed).
    let mut touched: BTreeSet<&str> = BTreeSet::new();
    for &i in &p.new_links {
        touched.extend(link_nodes(&new.links[i]));
    }
    for i in 0..old.links.len() {
        if !links_kept_in(old, new, i) {
            let ends: Vec<&str> = link_nodes(&old.links[i]).collect();
            touched.extend(ends.iter().copied());
            // Only delete when the namespace it lives in survives; otherwise
            // it goes with the namespace.
            let lives_in = &old.links[i].a.node;
            if kept_nodes.contains(lives_in.as_str()) {
                p.removed_links.push(i);
            } else if let Some(b) = &old.links[i].b {
                if kept_nodes.contains(b.node.as_str()) {
                    p.removed_links.push(i);
                }
            }
        }
    }

    for n in &new.nodes {
        let kept = kept_nodes.contains(n.name.as_str());
        let old_node = old.node(&n.name).filter(|_| kept);
        for iface in &n.interfaces {
            let old_iface = old_node
                .filter(|_| kept_links_new.contains(&iface.link))
                .and_then(|o| o.interfaces.iter().find(|i| i.name == iface.name));
            for a in &iface.addresses {
                if !old_iface.is_some_and(|o| o.addresses.contains(a)) {
                    p.addr_add.push(AddrChange {
                        node: n.name.clone(),
                        iface: iface.name.clone(),
                        addr: *a,
                    });
                }
            }
            if let Some(o) = old_iface {
                for a in &o.addresses {
                    if !iface.addresses.contains(a) {
                        p.addr_del.push(AddrChange {
                            node: n.name.clone(),
                            iface: iface.name.clone(),
                            addr: *a,
                        });
                    }
                }
            }
        }
        let replace_routes = match old_node {
            None => true,
            Some(o) => o.routes != n.routes || touched.contains(n.name.as_str()),
        };
        if replace_routes {
            if let Some(o) = old_node {
                for r in &o.routes {
                    p.route_del.push(RouteChange {
                        node: n.name.clone(),
                        route: r.clone(),
                    });
                }
            }
            for r in &n.routes {
                p.route_add.push(RouteChange {
                    node: n.name.clone(),
                    route: r.clone(),
                });
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{Endpoint, LinkKind};

    fn host(name: &str, ifaces: Vec<Interface>) -> Node {
        Node {
            name: name.into(),
            kind: NodeKind::Host,
            netns: Some(format!("vnet.t.{name}")),
            bridge_dev: None,
            interfaces: ifaces,
            routes: vec![],
            exec: vec![],
            owner: None,
            group: None,
            flows: vec![],
            groups: vec![],
            meters: vec![],
            openflow: None,
        }
    }

    fn iface(name: &str, link: usize, addr: &str) -> Interface {
        Interface {
            name: name.into(),
            link,
            addresses: vec![addr.parse().unwrap()],
            mtu: None,
            mac: None,
            vlan: None,
        }
    }

    fn veth(a: (&str, &str), b: (&str, &str)) -> Link {
        Link {
            kind: LinkKind::Veth,
            a: Endpoint {
                node: a.0.into(),
                iface: a.1.into(),
            },
            b: Some(Endpoint {
                node: b.0.into(),
                iface: b.1.into(),
            }),
            device_of: None,
            mtu: None,
        }
    }

    fn two_hosts() -> Lab {
        Lab {
            name: "t".into(),
            nodes: vec![
                host("h1", vec![iface("eth0", 0, "10.0.0.1/24")]),
                host("h2", vec![iface("eth0", 0, "10.0.0.2/24")]),
            ],
            links: vec![veth(("h1", "eth0"), ("h2", "eth0"))],
        }
    }

    #[test]
    fn fresh_lab_creates_everything() {
        let p = plan(None, &two_hosts());
        assert_eq!(p.new_nodes, vec![0, 1]);
        assert_eq!(p.new_links, vec![0]);
        assert_eq!(p.addr_add.len(), 2);
        assert!(p.removed_nodes.is_empty() && p.removed_links.is_empty());
    }

    #[test]
    fn identical_lab_changes_nothing() {
        let l = two_hosts();
        assert!(plan(Some(&l), &l).is_empty());
    }

    #[test]
    fn added_link_touches_only_it() {
        let old = two_hosts();
        let mut new = two_hosts();
        new.links.push(veth(("h1", "eth1"), ("h2", "eth1")));
        new.nodes[0]
            .interfaces
            .push(iface("eth1", 1, "10.0.1.1/24"));
        new.nodes[1]
            .interfaces
            .push(iface("eth1", 1, "10.0.1.2/24"));
        let p = plan(Some(&old), &new);
        assert_eq!(p.new_links, vec![1]);
        assert!(p.removed_links.is_empty() && p.new_nodes.is_empty());
        let added: Vec<String> = p.addr_add.iter().map(|a| a.addr.to_string()).collect();
        assert_eq!(added, ["10.0.1.1/24", "10.0.1.2/24"]);
        // And back: the link is removed, nothing else.
        let p = plan(Some(&new), &old);
        assert_eq!(p.removed_links, vec![1]);
        assert!(p.new_links.is_empty() && p.addr_add.is_empty() && p.addr_del.is_empty());
    }

    #[test]
    fn changed_address_is_diffed_in_place() {
        let old = two_hosts();
        let mut new = two_hosts();
        new.nodes[0].interfaces[0].addresses = vec!["10.0.0.9/24".parse().unwrap()];
        let p = plan(Some(&old), &new);
        assert!(p.new_links.is_empty() && p.removed_links.is_empty());
        assert_eq!(p.addr_del[0].addr.to_string(), "10.0.0.1/24");
        assert_eq!(p.addr_add[0].addr.to_string(), "10.0.0.9/24");
    }

    #[test]
    fn removed_node_takes_its_links_with_its_namespace() {
        let old = two_hosts();
        let mut new = two_hosts();
        new.nodes.truncate(1);
        new.nodes[0].interfaces.clear();
        new.links.clear();
        let p = plan(Some(&old), &new);
        assert_eq!(p.removed_nodes, vec![1]);
        // The veth end in h1 goes explicitly (h1 survives).
        assert_eq!(p.removed_links, vec![0]);
    }

    #[test]
    fn mtu_change_recreates_the_link() {
        let old = two_hosts();
        let mut new = two_hosts();
        new.nodes[0].interfaces[0].mtu = Some(9000);
        let p = plan(Some(&old), &new);
        assert_eq!(
            (p.new_links.clone(), p.removed_links.clone()),
            (vec![0], vec![0])
        );
        assert_eq!(
            p.addr_add.len(),
            2,
            "addresses go back on the new interfaces"
        );
    }
}
