//! Routes: the explicit ones from the file (checked), a default route for
//! every host on a segment with a router, and with `routes: auto` static
//! routes so every router and host reaches every segment's subnet.
//!
//! Automatic routes are shortest paths in router hops. The search runs once
//! per router over the bipartite router–segment graph (BFS, O(R·(R+S+E))),
//! expanding each level in node order, so ties go to the router that comes
//! first in the file and the result never depends on hash order. A route
//! the file already gives (same destination) is never added again.
//!
//! Order in `Node::routes`: explicit routes as written, then the default
//! routes (IPv4, IPv6), then the automatic ones by segment.

use std::collections::HashSet;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde_saphyr::Spanned;

use super::addressing::Segments;
use super::model::RawRoute;
use super::resolve::Draft;
use super::{fail, Located};
use crate::lab::{Lab, NodeKind, Route};

/// `routes:` at the top of the file: `auto` (true) or `none`/absent (false).
pub(super) fn parse_mode(raw: Option<&Spanned<String>>) -> Result<bool, Located> {
    match raw.map(|r| (r.value.as_str(), r.referenced)) {
        None | Some(("none", _)) => Ok(false),
        Some(("auto", _)) => Ok(true),
        Some((other, at)) => fail(
            at,
            format!("routes: expected `auto` or `none`, found `{other}`"),
        ),
    }
}

/// The two address families, as indices.
const FAMILIES: [bool; 2] = [false, true];

fn is_v6(net: &IpNet) -> bool {
    matches!(net, IpNet::V6(_))
}

/// The first address of the family on an interface.
fn addr_on(lab: &Lab, node: usize, iface: usize, v6: bool) -> Option<IpAddr> {
    lab.nodes[node].interfaces[iface]
        .addresses
        .iter()
        .find(|a| is_v6(a) == v6)
        .map(|a| a.addr())
}

fn default_dst(v6: bool) -> IpNet {
    if v6 {
        IpNet::V6(Ipv6Net::default())
    } else {
        IpNet::V4(Ipv4Net::default())
    }
}

/// A segment's subnet of one family.
fn subnet(segs: &Segments, s: usize, v6: bool) -> Option<IpNet> {
    let seg = &segs.list[s];
    if v6 {
        seg.v6.map(IpNet::V6)
    } else {
        seg.v4.map(IpNet::V4)
    }
}

pub(super) fn compute(draft: &mut Draft, segs: &Segments, auto: bool) -> Result<(), Located> {
    for n in 0..draft.lab.nodes.len() {
        let raw = std::mem::take(&mut draft.routes[n]);
        for r in &raw {
            let route = parse_route(&draft.lab, n, r)?;
            let node = &draft.lab.nodes[n];
            if let Some(prev) = node
                .routes
                .iter()
                .position(|p| p.dst == route.dst && p.metric == route.metric)
            {
                let prev_at = raw[prev].value.dst.referenced;
                return fail(
                    r.value.dst.referenced,
                    format!(
                        "node `{}`: a route to {} with the same metric is already given at line \
                         {}, column {}",
                        node.name,
                        route.dst,
                        prev_at.line(),
                        prev_at.column()
                    ),
                );
            }
            draft.lab.nodes[n].routes.push(route);
        }
    }
    let gateways = default_routes(&mut draft.lab, segs);
    if auto {
        auto_routes(&mut draft.lab, segs, &gateways);
    }
    Ok(())
}

fn parse_route(lab: &Lab, n: usize, raw: &Spanned<RawRoute>) -> Result<crate::lab::Route, Located> {
    let node = &lab.nodes[n];
    let name = &node.name;
    let r = &raw.value;
    let via = match &r.via {
        None => None,
        Some(v) => Some(IpAddr::from_str(&v.value).map_err(|_| {
            Located::at(
                v.referenced,
                format!(
                    "node `{name}`: route via `{}` is not an IP address",
                    v.value
                ),
            )
        })?),
    };
    let dst = if r.dst.value == "default" {
        default_dst(matches!(via, Some(IpAddr::V6(_))))
    } else {
        let net = IpNet::from_str(&r.dst.value).map_err(|_| {
            Located::at(
                r.dst.referenced,
                format!(
                    "node `{name}`: route destination `{}` is not a prefix (like 10.9.0.0/16) or \
                     `default`",
                    r.dst.value
                ),
            )
        })?;
        if net.trunc() != net {
            return fail(
                r.dst.referenced,
                format!(
                    "node `{name}`: route destination {net} has host bits set; did you mean {}?",
                    net.trunc()
                ),
            );
        }
        net
    };
    if let (Some(via), Some(v)) = (via, &r.via) {
        if via.is_ipv6() != is_v6(&dst) {
            return fail(
                v.referenced,
                format!("node `{name}`: route to {dst} via {via} mixes IPv4 and IPv6"),
            );
        }
    }
    if let Some(dev) = &r.dev {
        if !node.interfaces.iter().any(|i| i.name == dev.value) {
            let have: Vec<&str> = node.interfaces.iter().map(|i| i.name.as_str()).collect();
            let have = if have.is_empty() {
                "none".to_owned()
            } else {
                have.join(", ")
            };
            return fail(
                dev.referenced,
                format!(
                    "node `{name}`: route dev `{}` is not an interface of `{name}` (it has: {have})",
                    dev.value
                ),
            );
        }
    }
    if via.is_none() && r.dev.is_none() {
        return fail(
            raw.referenced,
            format!("node `{name}`: route to {dst} needs `via` or `dev`"),
        );
    }
    Ok(Route {
        dst,
        via,
        dev: r.dev.as_ref().map(|d| d.value.clone()),
        metric: r.metric.as_ref().map(|m| m.value),
    })
}

/// Give every host without an explicit default route (per family) a default
/// route via the first router on its first segment that has one. Returns the
/// gateway chosen per node and family.
fn default_routes(lab: &mut Lab, segs: &Segments) -> Vec<[Option<IpAddr>; 2]> {
    let mut gateways = vec![[None; 2]; lab.nodes.len()];
    for (n, found) in gateways.iter_mut().enumerate() {
        if lab.nodes[n].kind != NodeKind::Host {
            continue;
        }
        for v6 in FAMILIES {
            let dst = default_dst(v6);
            if lab.nodes[n].routes.iter().any(|r| r.dst == dst) {
                continue;
            }
            let gw = segs.seg_of[n].iter().flatten().find_map(|&s| {
                segs.list[s]
                    .members
                    .iter()
                    .filter(|m| lab.nodes[m.node].kind == NodeKind::Router)
                    .find_map(|m| addr_on(lab, m.node, m.iface, v6))
            });
            if let Some(gw) = gw {
                found[usize::from(v6)] = Some(gw);
                lab.nodes[n].routes.push(Route {
                    dst,
                    via: Some(gw),
                    dev: None,
                    metric: None,
                });
            }
        }
    }
    gateways
}

/// A router's way out towards a destination: the neighbour router, the
/// segment shared with it and the neighbour's interface there.
#[derive(Clone, Copy)]
struct Hop {
    router: usize,
    iface: usize,
}

/// The router–segment graph.
struct RouterGraph {
    /// Node index of each router, in node order.
    routers: Vec<usize>,
    /// `(segment, interface)` of each router, in interface order, one per segment.
    segs_of: Vec<Vec<(usize, usize)>>,
    /// `(router, interface)` on each segment, in node order, one per router.
    routers_on: Vec<Vec<(usize, usize)>>,
}

impl RouterGraph {
    fn new(lab: &Lab, segs: &Segments) -> Self {
        let mut rid = vec![usize::MAX; lab.nodes.len()];
        let mut routers = Vec::new();
        for (n, node) in lab.nodes.iter().enumerate() {
            if node.kind == NodeKind::Router {
                rid[n] = routers.len();
                routers.push(n);
            }
        }
        let mut segs_of = vec![Vec::new(); routers.len()];
        for (r, &n) in routers.iter().enumerate() {
            for (i, s) in segs.seg_of[n].iter().enumerate() {
                if let Some(s) = *s {
                    if !segs_of[r].iter().any(|&(t, _)| t == s) {
                        segs_of[r].push((s, i));
                    }
                }
            }
        }
        let mut routers_on = vec![Vec::new(); segs.list.len()];
        for (s, seg) in segs.list.iter().enumerate() {
            for m in &seg.members {
                let r = rid[m.node];
                if r != usize::MAX && !routers_on[s].iter().any(|&(q, _)| q == r) {
                    routers_on[s].push((r, m.iface));
                }
            }
        }
        RouterGraph {
            routers,
            segs_of,
            routers_on,
        }
    }

    /// Breadth-first search from router `r0`: for every segment its distance
    /// in router hops (0 = attached) and, when not attached, the first hop.
    fn search(&self, r0: usize, dist: &mut [u32], hop: &mut [Option<Hop>]) {
        dist.fill(u32::MAX);
        hop.fill(None);
        let mut dist_r = vec![u32::MAX; self.routers.len()];
        let mut hop_r: Vec<Option<Hop>> = vec![None; self.routers.len()];
        dist_r[r0] = 0;
        let mut frontier = vec![r0];
        let mut d = 0;
        while !frontier.is_empty() {
            frontier.sort_unstable();
            let mut next = Vec::new();
            for &x in &frontier {
                for &(s, _) in &self.segs_of[x] {
                    if dist[s] != u32::MAX {
                        continue;
                    }
                    dist[s] = d;
                    hop[s] = hop_r[x];
                    for &(r, iface) in &self.routers_on[s] {
                        if dist_r[r] == u32::MAX {
                            dist_r[r] = d + 1;
                            hop_r[r] = if x == r0 {
                                Some(Hop { router: r, iface })
                            } else {
                                hop_r[x]
                            };
                            next.push(r);
                        }
                    }
                }
            }
            frontier = next;
            d += 1;
        }
    }
}

fn auto_routes(lab: &mut Lab, segs: &Segments, gateways: &[[Option<IpAddr>; 2]]) {
    let graph = RouterGraph::new(lab, segs);
    let nseg = segs.list.len();

    // Hosts that see several routers get specific routes via the best one;
    // they need those routers' distances.
    let mut candidates: Vec<Vec<(usize, usize, usize)>> = vec![Vec::new(); lab.nodes.len()];
    let mut keep = vec![false; graph.routers.len()];
    for (n, node) in lab.nodes.iter().enumerate() {
        if node.kind != NodeKind::Host {
            continue;
        }
        let mut c: Vec<(usize, usize, usize)> = Vec::new();
        for s in segs.seg_of[n].iter().flatten() {
            for &(r, iface) in &graph.routers_on[*s] {
                if !c.iter().any(|&(q, _, _)| q == r) {
                    c.push((r, *s, iface));
                }
            }
        }
        if c.len() >= 2 {
            for &(r, _, _) in &c {
                keep[r] = true;
            }
            candidates[n] = c;
        }
    }

    let mut kept: Vec<Option<Vec<u32>>> = vec![None; graph.routers.len()];
    let mut dist = vec![0u32; nseg];
    let mut hop = vec![None; nseg];
    for r0 in 0..graph.routers.len() {
        graph.search(r0, &mut dist, &mut hop);
        let n = graph.routers[r0];
        let mut added = Vec::new();
        for (s, h) in hop.iter().enumerate() {
            let Some(h) = h else { continue };
            for v6 in FAMILIES {
                let Some(dst) = subnet(segs, s, v6) else {
                    continue;
                };
                let Some(via) = addr_on(lab, graph.routers[h.router], h.iface, v6) else {
                    continue;
                };
                added.push(Route {
                    dst,
                    via: Some(via),
                    dev: None,
                    metric: None,
                });
            }
        }
        push_new(&mut lab.nodes[n].routes, added);
        if keep[r0] {
            kept[r0] = Some(dist.clone());
        }
    }

    for (n, c) in candidates.iter().enumerate() {
        if c.is_empty() {
            continue;
        }
        let on: HashSet<usize> = segs.seg_of[n].iter().flatten().copied().collect();
        let mut added = Vec::new();
        for s in (0..nseg).filter(|s| !on.contains(s)) {
            let best = c
                .iter()
                .filter_map(|&(r, shared, iface)| {
                    let d = kept[r].as_ref().map_or(u32::MAX, |d| d[s]);
                    (d != u32::MAX).then_some((d, r, shared, iface))
                })
                .min_by_key(|&(d, ..)| d);
            let Some((_, r, _, iface)) = best else {
                continue;
            };
            for v6 in FAMILIES {
                let Some(dst) = subnet(segs, s, v6) else {
                    continue;
                };
                let Some(via) = addr_on(lab, graph.routers[r], iface, v6) else {
                    continue;
                };
                if gateways[n][usize::from(v6)] == Some(via) {
                    continue;
                }
                added.push(Route {
                    dst,
                    via: Some(via),
                    dev: None,
                    metric: None,
                });
            }
        }
        push_new(&mut lab.nodes[n].routes, added);
    }
}

/// Append computed routes whose destination the node has no route for yet.
fn push_new(routes: &mut Vec<Route>, added: Vec<Route>) {
    let have: HashSet<IpNet> = routes.iter().map(|r| r.dst).collect();
    routes.extend(added.into_iter().filter(|r| !have.contains(&r.dst)));
}
