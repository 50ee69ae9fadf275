//! L2 segments and addresses.
//!
//! A segment is a broadcast domain: a LAN, or a veth between two nodes that
//! are neither bridges nor switches (point-to-point). A tap/tun device on a
//! host or router with explicit addresses is a stub segment of its own; it
//! gets no automatic address but its subnet is routed to.
//!
//! LANs are built from *domains*: a bridge is one domain; a switch is one
//! domain per VLAN its ports use plus one for its VLAN-unaware ports (the
//! "untagged" domain). Links join domains: bridge–bridge; bridge–switch (the
//! bridge and the domain of the switch port's untagged traffic); switch–switch
//! (the domains of the untagged traffic at the two ends, and every VLAN both
//! ends of a trunk allow). A LAN is a set of joined domains with the host and
//! router interfaces attached to them; it is named after its least domain
//! (first node in file order; untagged before VLANs, VLANs by number).
//!
//! Per address family, a segment's subnet is the network of the first
//! explicit address on it, or else the next free block of the pool (LANs
//! first, `ipv4_prefix` long, in the order of their least domains; then
//! point-to-point links, /30; IPv6 always /64). Pool blocks never overlap an
//! explicit address; explicit addresses on different segments must not
//! overlap each other. Interfaces without an explicit address of the family
//! then get the lowest free host address of their segment's subnet: routers
//! first, in node order, then hosts.
//!
//! Sticky addresses: when the lab is already applied, `vnet up` passes the
//! applied lab as [`Hints`]. A segment that needs a pool block first tries
//! the block one of its interfaces had before (if it is still free and in
//! the pool), and an interface keeps its previous host address when that is
//! in its segment's subnet and free. So removing or adding a segment does
//! not renumber the others; blocks without a hint are allocated as above,
//! around the ones kept.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde_saphyr::{Location, Spanned};

use super::model::RawAddressing;
use super::resolve::{Draft, IfaceRef, LinkEnds};
use super::{fail, Located};
use crate::lab::{NodeKind, PortVlan};

const DEFAULT_V4_POOL: &str = "10.100.0.0/16";
const DEFAULT_V4_PREFIX: u8 = 24;
/// Point-to-point IPv4 links get a /30: two usable addresses.
const P2P_V4_PREFIX: u8 = 30;
/// Every IPv6 segment gets a /64.
const V6_PREFIX: u8 = 64;

/// The `addressing:` section with defaults filled in.
#[derive(Debug)]
pub(super) struct Pools {
    v4: Ipv4Net,
    v4_prefix: u8,
    v6: Option<Ipv6Net>,
    /// Where to point when the IPv4 / IPv6 pool runs out.
    v4_at: Location,
    v6_at: Location,
    prefix_at: Location,
}

impl Pools {
    pub(super) fn parse(raw: Option<&Spanned<RawAddressing>>) -> Result<Self, Located> {
        let start = Location::UNKNOWN;
        let section_at = raw.map_or(start, |r| r.referenced);
        let mut pools = Pools {
            v4: DEFAULT_V4_POOL.parse().expect("valid default pool"),
            v4_prefix: DEFAULT_V4_PREFIX,
            v6: None,
            v4_at: section_at,
            v6_at: section_at,
            prefix_at: section_at,
        };
        let Some(raw) = raw.map(|r| &r.value) else {
            return Ok(pools);
        };
        if let Some(v4) = &raw.ipv4 {
            let net = parse_pool(v4)?;
            let IpNet::V4(net) = net else {
                return fail(
                    v4.referenced,
                    format!("addressing: ipv4 `{}` is not an IPv4 prefix", v4.value),
                );
            };
            if net.prefix_len() > P2P_V4_PREFIX {
                return fail(
                    v4.referenced,
                    format!(
                        "addressing: ipv4 pool {net} is too small; use /{P2P_V4_PREFIX} or larger"
                    ),
                );
            }
            pools.v4 = net;
            pools.v4_at = v4.referenced;
        }
        if let Some(p) = &raw.ipv4_prefix {
            let lo = pools.v4.prefix_len();
            if p.value < lo || p.value > P2P_V4_PREFIX {
                return fail(
                    p.referenced,
                    format!(
                        "addressing: ipv4_prefix {} must be between the pool's /{lo} and \
                         /{P2P_V4_PREFIX}",
                        p.value
                    ),
                );
            }
            pools.v4_prefix = p.value;
            pools.prefix_at = p.referenced;
        }
        if let Some(v6) = &raw.ipv6 {
            let net = parse_pool(v6)?;
            let IpNet::V6(net) = net else {
                return fail(
                    v6.referenced,
                    format!("addressing: ipv6 `{}` is not an IPv6 prefix", v6.value),
                );
            };
            if net.prefix_len() > V6_PREFIX {
                return fail(
                    v6.referenced,
                    format!("addressing: ipv6 pool {net} is too small; segments get /{V6_PREFIX}s"),
                );
            }
            pools.v6 = Some(net);
            pools.v6_at = v6.referenced;
        }
        Ok(pools)
    }
}

fn parse_pool(s: &Spanned<String>) -> Result<IpNet, Located> {
    let net = IpNet::from_str(&s.value).map_err(|_| {
        Located::at(
            s.referenced,
            format!(
                "addressing: `{}` is not a prefix (like 10.100.0.0/16 or fd00:100::/48)",
                s.value
            ),
        )
    })?;
    if net.trunc() != net {
        return fail(
            s.referenced,
            format!(
                "addressing: {net} has host bits set; did you mean {}?",
                net.trunc()
            ),
        );
    }
    Ok(net)
}

/// What makes a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SegmentKind {
    /// Bridges and/or switch VLANs; named after its least domain: the node
    /// `device` (a bridge or a switch) and, for a switch, the VLAN (`None`
    /// for the switch's untagged domain).
    Lan { device: usize, vlan: Option<u16> },
    /// A veth between two nodes that are neither bridges nor switches.
    P2p { link: usize },
    /// A tap/tun device with explicit addresses on a host or router.
    Stub { link: usize },
}

#[derive(Debug)]
pub(super) struct Segment {
    pub kind: SegmentKind,
    /// Host and router interfaces on the segment: routers first, then hosts,
    /// each in node order.
    pub members: Vec<IfaceRef>,
    pub v4: Option<Ipv4Net>,
    pub v6: Option<Ipv6Net>,
}

/// The addresses interfaces had in the applied lab, by (node, interface)
/// name: what automatic addressing keeps when it can (see the module docs).
#[derive(Debug, Default)]
pub struct Hints(HashMap<(String, String), Vec<IpNet>>);

impl Hints {
    pub fn from_lab(lab: &crate::lab::Lab) -> Hints {
        let mut map = HashMap::new();
        for n in &lab.nodes {
            for i in &n.interfaces {
                if !i.addresses.is_empty() {
                    map.insert((n.name.clone(), i.name.clone()), i.addresses.clone());
                }
            }
        }
        Hints(map)
    }

    fn of(&self, node: &str, iface: &str, fam: Family) -> impl Iterator<Item = IpNet> + '_ {
        self.0
            .get(&(node.to_string(), iface.to_string()))
            .into_iter()
            .flatten()
            .copied()
            .filter(move |n| Family::of(n) == fam)
    }
}

#[derive(Debug)]
pub(super) struct Segments {
    pub list: Vec<Segment>,
    /// `seg_of[node][iface]`: the segment an interface is on.
    pub seg_of: Vec<Vec<Option<usize>>>,
}

/// Build the segments, pick their subnets and address every interface.
pub(super) fn assign(draft: &mut Draft, pools: &Pools, hints: &Hints) -> Result<Segments, Located> {
    let mut segs = build_segments(draft);
    for fam in [Family::V4, Family::V6] {
        allocate(draft, pools, &mut segs, fam, hints)?;
    }
    write_explicit(draft);
    Ok(segs)
}

/// The untagged domain of a switch or bridge (VLAN 0 in the domain key).
const UNTAGGED: u16 = 0;

/// Layer-2 domains, `(node, vlan)`, joined by union-find.
#[derive(Default)]
struct Domains {
    key: Vec<(usize, u16)>,
    parent: Vec<usize>,
    ids: HashMap<(usize, u16), usize>,
}

impl Domains {
    fn id(&mut self, key: (usize, u16)) -> usize {
        *self.ids.entry(key).or_insert_with(|| {
            self.key.push(key);
            self.parent.push(self.parent.len());
            self.parent.len() - 1
        })
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn join(&mut self, a: (usize, u16), b: (usize, u16)) {
        let (a, b) = (self.id(a), self.id(b));
        let (ra, rb) = (self.find(a), self.find(b));
        self.parent[ra.max(rb)] = ra.min(rb);
    }
}

/// The VLAN that untagged frames arriving at a port belong to: a bridge's
/// domain, or a switch port's access or native VLAN (the untagged domain for
/// a VLAN-unaware port). `None`: the port drops untagged frames (a trunk
/// without `native`).
fn untagged_vlan(kind: NodeKind, vlan: Option<&PortVlan>) -> Option<u16> {
    match (kind, vlan) {
        (NodeKind::Switch, Some(PortVlan::Access(v))) => Some(*v),
        (NodeKind::Switch, Some(PortVlan::Trunk { native, .. })) => *native,
        _ => Some(UNTAGGED),
    }
}

fn build_segments(draft: &Draft) -> Segments {
    let nodes = &draft.lab.nodes;
    let kind = |r: &IfaceRef| nodes[r.node].kind;
    let is_l2 = |r: &IfaceRef| matches!(kind(r), NodeKind::Bridge | NodeKind::Switch);
    let port_vlan = |r: &IfaceRef| nodes[r.node].interfaces[r.iface].vlan.as_ref();
    let untagged = |r: &IfaceRef| untagged_vlan(kind(r), port_vlan(r)).map(|v| (r.node, v));
    let mut domains = Domains::default();
    let mut attached: Vec<((usize, u16), IfaceRef)> = Vec::new();
    let mut p2p = Vec::new();
    let mut stubs = Vec::new();
    for (link, ends) in draft.ends.iter().enumerate() {
        match *ends {
            LinkEnds::Veth([a, b]) => match (is_l2(&a), is_l2(&b)) {
                (true, true) => {
                    if let (Some(da), Some(db)) = (untagged(&a), untagged(&b)) {
                        domains.join(da, db);
                    }
                    if let (
                        Some(PortVlan::Trunk { allowed: va, .. }),
                        Some(PortVlan::Trunk { allowed: vb, .. }),
                    ) = (port_vlan(&a), port_vlan(&b))
                    {
                        for v in va.iter().filter(|v| vb.contains(v)) {
                            domains.join((a.node, *v), (b.node, *v));
                        }
                    }
                }
                (true, false) => attached.extend(untagged(&a).map(|d| (d, b))),
                (false, true) => attached.extend(untagged(&b).map(|d| (d, a))),
                (false, false) => p2p.push(Segment {
                    kind: SegmentKind::P2p { link },
                    members: vec![a, b],
                    v4: None,
                    v6: None,
                }),
            },
            LinkEnds::Device(dev) => {
                if matches!(kind(&dev), NodeKind::Host | NodeKind::Router)
                    && !draft.meta[dev.node][dev.iface].explicit.is_empty()
                {
                    stubs.push(Segment {
                        kind: SegmentKind::Stub { link },
                        members: vec![dev],
                        v4: None,
                        v6: None,
                    });
                }
            }
        }
    }
    // LANs: the attached interfaces grouped by joined domains, ordered by
    // each group's least domain.
    let mut by_root: HashMap<usize, Vec<IfaceRef>> = HashMap::new();
    for (domain, iface) in attached {
        let id = domains.id(domain);
        let root = domains.find(id);
        by_root.entry(root).or_default().push(iface);
    }
    let mut least: HashMap<usize, (usize, u16)> = HashMap::new();
    for id in 0..domains.key.len() {
        let root = domains.find(id);
        let key = domains.key[id];
        least
            .entry(root)
            .and_modify(|k| *k = (*k).min(key))
            .or_insert(key);
    }
    let mut lans: Vec<((usize, u16), Vec<IfaceRef>)> = by_root
        .into_iter()
        .map(|(root, members)| (least[&root], members))
        .collect();
    lans.sort_by_key(|(key, _)| *key);
    let mut list: Vec<Segment> = lans
        .into_iter()
        .map(|((device, vlan), members)| Segment {
            kind: SegmentKind::Lan {
                device,
                vlan: (vlan != UNTAGGED).then_some(vlan),
            },
            members,
            v4: None,
            v6: None,
        })
        .collect();
    list.extend(p2p);
    list.extend(stubs);
    let mut seg_of: Vec<Vec<Option<usize>>> = nodes
        .iter()
        .map(|n| vec![None; n.interfaces.len()])
        .collect();
    for (s, seg) in list.iter_mut().enumerate() {
        seg.members
            .sort_by_key(|r| (nodes[r.node].kind != NodeKind::Router, r.node, r.iface));
        for r in &seg.members {
            seg_of[r.node][r.iface] = Some(s);
        }
    }
    Segments { list, seg_of }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn of(net: &IpNet) -> Family {
        match net {
            IpNet::V4(_) => Family::V4,
            IpNet::V6(_) => Family::V6,
        }
    }

    fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }

    fn addr(self, v: u128) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::from(v as u32)),
            Family::V6 => IpAddr::V6(Ipv6Addr::from(v)),
        }
    }

    fn net(self, start: u128, prefix: u8) -> IpNet {
        IpNet::new(self.addr(start), prefix).expect("prefix within family")
    }
}

fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// First and last address of a network.
fn range(net: &IpNet) -> (u128, u128) {
    (to_u128(net.network()), to_u128(net.broadcast()))
}

/// An explicit address, as a claim on part of the address space.
struct Claim {
    net: IpNet,
    start: u128,
    end: u128,
    seg: usize,
    iface: IfaceRef,
    at: Location,
}

fn allocate(
    draft: &mut Draft,
    pools: &Pools,
    segs: &mut Segments,
    fam: Family,
    hints: &Hints,
) -> Result<(), Located> {
    let lab = &draft.lab;
    let iface_name = |r: &IfaceRef| {
        let n = &lab.nodes[r.node];
        format!("{}:{}", n.name, n.interfaces[r.iface].name)
    };

    // Explicit addresses, in segment and member order.
    let mut claims: Vec<Claim> = Vec::new();
    for (s, seg) in segs.list.iter().enumerate() {
        for r in &seg.members {
            for (net, at) in &draft.meta[r.node][r.iface].explicit {
                if Family::of(net) == fam {
                    let (start, end) = range(net);
                    claims.push(Claim {
                        net: *net,
                        start,
                        end,
                        seg: s,
                        iface: *r,
                        at: *at,
                    });
                }
            }
        }
    }
    // No overlap across segments, no address twice.
    for (i, a) in claims.iter().enumerate() {
        for b in &claims[i + 1..] {
            let same_addr = a.net.addr() == b.net.addr();
            let overlap = a.start <= b.end && b.start <= a.end;
            if !(same_addr || (overlap && a.seg != b.seg)) {
                continue;
            }
            let (first, second) = if (a.at.line(), a.at.column()) <= (b.at.line(), b.at.column()) {
                (a, b)
            } else {
                (b, a)
            };
            let detail = if same_addr {
                format!("address {} is already given to", second.net.addr())
            } else {
                format!(
                    "address {} overlaps {} on another segment, given to",
                    second.net, first.net
                )
            };
            return fail(
                second.at,
                format!(
                    "{}: {detail} {} (line {}, column {})",
                    iface_name(&second.iface),
                    iface_name(&first.iface),
                    first.at.line(),
                    first.at.column()
                ),
            );
        }
    }

    // Subnets: adopted from an explicit address, or from the pool.
    let pool = match fam {
        Family::V4 => Some((IpNet::V4(pools.v4), pools.v4_at)),
        Family::V6 => pools.v6.map(|p| (IpNet::V6(p), pools.v6_at)),
    };
    let mut subnets: Vec<Option<IpNet>> = vec![None; segs.list.len()];
    let mut wanted = Vec::new();
    for (s, seg) in segs.list.iter().enumerate() {
        if let Some(c) = claims.iter().find(|c| c.seg == s) {
            subnets[s] = Some(c.net.trunc());
        } else if pool.is_some() && !matches!(seg.kind, SegmentKind::Stub { .. }) {
            let prefix = match (fam, seg.kind) {
                (Family::V6, _) => V6_PREFIX,
                (Family::V4, SegmentKind::Lan { .. }) => pools.v4_prefix,
                (Family::V4, _) => P2P_V4_PREFIX,
            };
            wanted.push((s, prefix));
        }
    }
    // Hints of a segment's interfaces (without an explicit address of the
    // family), in member order.
    let hinted = |s: usize| -> Vec<IpNet> {
        let lab = &draft.lab;
        segs.list[s]
            .members
            .iter()
            .filter(|r| {
                !draft.meta[r.node][r.iface]
                    .explicit
                    .iter()
                    .any(|(n, _)| Family::of(n) == fam)
            })
            .flat_map(|r| {
                let n = &lab.nodes[r.node];
                hints.of(&n.name, &n.interfaces[r.iface].name, fam)
            })
            .collect()
    };
    // Blocks taken from the pool so far: (start, end).
    let mut taken: Vec<(u128, u128)> = Vec::new();
    if let Some((pool, _)) = pool {
        let (pool_start, pool_end) = range(&pool);
        wanted.retain(|&(s, prefix)| {
            let keep = hinted(s).into_iter().find_map(|h| {
                let block = IpNet::new(h.addr(), prefix).ok()?.trunc();
                let (start, end) = range(&block);
                let free = start >= pool_start
                    && end <= pool_end
                    && h.prefix_len() == prefix
                    && !claims.iter().any(|c| c.start <= end && start <= c.end)
                    && !taken.iter().any(|&(a, b)| a <= end && start <= b);
                free.then_some((block, start, end))
            });
            match keep {
                Some((block, start, end)) => {
                    taken.push((start, end));
                    subnets[s] = Some(block);
                    false
                }
                None => true,
            }
        });
    }
    if let Some((pool, pool_at)) = pool {
        let (pool_start, pool_end) = range(&pool);
        let mut cursor = pool_start;
        for (done, &(s, prefix)) in wanted.iter().enumerate() {
            let size_bits = u32::from(fam.bits() - prefix);
            let mask = (1u128 << size_bits) - 1;
            let block = loop {
                let start = cursor.checked_add(mask).map(|c| c & !mask);
                let Some(start) =
                    start.filter(|s| s.checked_add(mask).is_some_and(|e| e <= pool_end))
                else {
                    return fail(pool_at, exhausted(fam, &pool, &wanted, done));
                };
                let end = start + mask;
                match claims
                    .iter()
                    .map(|c| (c.start, c.end))
                    .chain(taken.iter().copied())
                    .filter(|&(a, b)| a <= end && start <= b)
                    .map(|(_, b)| b)
                    .max()
                {
                    Some(claim_end) => cursor = claim_end.saturating_add(1),
                    None => break start,
                }
                if cursor == u128::MAX || cursor > pool_end {
                    return fail(pool_at, exhausted(fam, &pool, &wanted, done));
                }
            };
            cursor = block + mask + 1;
            subnets[s] = Some(fam.net(block, prefix));
        }
    }

    // Host addresses.
    for (s, seg) in segs.list.iter_mut().enumerate() {
        let Some(subnet) = subnets[s] else { continue };
        match subnet {
            IpNet::V4(n) => seg.v4 = Some(n),
            IpNet::V6(n) => seg.v6 = Some(n),
        }
        let mut used: HashSet<u128> = claims
            .iter()
            .filter(|c| c.seg == s)
            .map(|c| to_u128(c.net.addr()))
            .collect();
        let (first, last) = usable(&subnet);
        // Interfaces keep their previous address when they can.
        let mut kept: HashMap<IfaceRef, u128> = HashMap::new();
        for r in &seg.members {
            let meta = &draft.meta[r.node][r.iface];
            if meta.explicit.iter().any(|(n, _)| Family::of(n) == fam) {
                continue;
            }
            let n = &draft.lab.nodes[r.node];
            let previous = hints
                .of(&n.name, &n.interfaces[r.iface].name, fam)
                .map(|h| to_u128(h.addr()))
                .find(|a| {
                    subnet.contains(&fam.addr(*a))
                        && (first..=last).contains(a)
                        && !used.contains(a)
                });
            if let Some(a) = previous {
                used.insert(a);
                kept.insert(*r, a);
            }
        }
        let mut next = first;
        for r in &seg.members {
            let meta = &draft.meta[r.node][r.iface];
            if meta.explicit.iter().any(|(n, _)| Family::of(n) == fam) {
                continue;
            }
            if let Some(a) = kept.get(r) {
                let addr = IpNet::new(fam.addr(*a), subnet.prefix_len()).expect("valid prefix");
                draft.lab.nodes[r.node].interfaces[r.iface]
                    .addresses
                    .push(addr);
                continue;
            }
            while used.contains(&next) && next <= last {
                next += 1;
            }
            if next > last || next < first {
                let (at, what) = match seg.kind {
                    SegmentKind::Lan { device, vlan } => {
                        (draft.node_at[device], lan_name(draft, device, vlan))
                    }
                    SegmentKind::P2p { link } | SegmentKind::Stub { link } => {
                        (draft.link_at[link], format!("link {link}"))
                    }
                };
                let hint = if claims.iter().any(|c| c.seg == s) {
                    "its subnet comes from an explicit address; give that address a shorter prefix"
                } else if fam == Family::V4 {
                    "use a shorter `ipv4_prefix`"
                } else {
                    "use fewer interfaces"
                };
                let at = if matches!(seg.kind, SegmentKind::Lan { .. })
                    && pools.prefix_at != Location::UNKNOWN
                    && fam == Family::V4
                    && !claims.iter().any(|c| c.seg == s)
                {
                    pools.prefix_at
                } else {
                    at
                };
                return fail(
                    at,
                    format!(
                        "{what} has {} interfaces to address, more than {subnet} holds; {hint}",
                        seg.members.len()
                    ),
                );
            }
            let addr = IpNet::new(fam.addr(next), subnet.prefix_len()).expect("valid prefix");
            draft.lab.nodes[r.node].interfaces[r.iface]
                .addresses
                .push(addr);
            next += 1;
        }
    }
    Ok(())
}

/// How errors name a LAN: after its least domain.
fn lan_name(draft: &Draft, device: usize, vlan: Option<u16>) -> String {
    let node = &draft.lab.nodes[device];
    match (node.kind, vlan) {
        (NodeKind::Switch, Some(v)) => format!("VLAN {v} of switch `{}`", node.name),
        (NodeKind::Switch, None) => format!("the untagged segment of switch `{}`", node.name),
        _ => format!("the segment of bridge `{}`", node.name),
    }
}

/// The host addresses of a subnet (no network or broadcast address for IPv4
/// below /31, no subnet-router anycast address for IPv6 below /127).
fn usable(net: &IpNet) -> (u128, u128) {
    let (start, end) = range(net);
    match net {
        IpNet::V4(_) if net.prefix_len() >= 31 => (start, end),
        IpNet::V4(_) => (start + 1, end - 1),
        IpNet::V6(_) if net.prefix_len() >= 127 => (start, end),
        IpNet::V6(_) => (start + 1, end),
    }
}

fn exhausted(fam: Family, pool: &IpNet, wanted: &[(usize, u8)], done: usize) -> String {
    let mut by_prefix: Vec<(u8, usize)> = Vec::new();
    for &(_, p) in wanted {
        match by_prefix.iter_mut().find(|(q, _)| *q == p) {
            Some((_, n)) => *n += 1,
            None => by_prefix.push((p, 1)),
        }
    }
    let parts: Vec<String> = by_prefix
        .iter()
        .map(|(p, n)| format!("{n} × /{p}"))
        .collect();
    format!(
        "addressing: {} pool {pool} is exhausted: the lab needs {} subnets ({}) and only {done} fit",
        fam.name(),
        wanted.len(),
        parts.join(", ")
    )
}

/// Put the explicit addresses in front of the automatic ones.
fn write_explicit(draft: &mut Draft) {
    for (n, node) in draft.lab.nodes.iter_mut().enumerate() {
        for (i, iface) in node.interfaces.iter_mut().enumerate() {
            let explicit = draft.meta[n][i].explicit.iter().map(|(net, _)| *net);
            let auto = std::mem::take(&mut iface.addresses);
            iface.addresses = explicit.chain(auto).collect();
        }
    }
}
