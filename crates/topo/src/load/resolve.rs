//! Names, nodes and links: checks every node and link of the file, picks the
//! interface names that were left out, settles the VLAN mode of every switch
//! port, and lays out the lab's links and interfaces. Addresses and routes
//! come later (`addressing`, `routes`); this stage only parses the explicit
//! addresses so they can be checked in place.
//!
//! Interface names are settled in two passes: the first reserves every name
//! written in the file (and every tap/tun device name), so an automatic name
//! never takes a name that a later link asks for.

use std::collections::HashMap;
use std::str::FromStr;

use ipnet::IpNet;
use serde_saphyr::{Location, Spanned};

use super::model::{RawEndpoint, RawLab, RawLink, RawNode, RawRoute, RawVlan};
use super::names::{check_ifname, check_name, kind_word, parse_kind, parse_mac, parse_vid};
use super::{fail, Located};
use crate::lab::{
    self, Endpoint, Interface, Lab, Link, LinkKind, Node, NodeKind, PortVlan, IFNAME_MAX,
};

/// MTU range the kernel accepts for veth and tap devices.
const MTU_MIN: u32 = 68;
const MTU_MAX: u32 = 65535;

/// An interface of the lab: `lab.nodes[node].interfaces[iface]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct IfaceRef {
    pub node: usize,
    pub iface: usize,
}

/// What the file says about an interface beyond its name.
#[derive(Debug)]
pub(super) struct IfaceMeta {
    /// Explicit addresses, each with where it is written.
    pub explicit: Vec<(IpNet, Location)>,
}

/// The interfaces a link created.
#[derive(Debug, Clone, Copy)]
pub(super) enum LinkEnds {
    /// A veth pair: `a` and `b` in link order.
    Veth([IfaceRef; 2]),
    /// A tap/tun device (on its peer node, or on the tap/tun node itself).
    Device(IfaceRef),
}

/// A lab with names and links settled, plus what later stages need to place
/// their errors.
pub(super) struct Draft {
    pub lab: Lab,
    /// Where each node's name is written.
    pub node_at: Vec<Location>,
    /// Parallel to `lab.nodes[n].interfaces`.
    pub meta: Vec<Vec<IfaceMeta>>,
    /// Parallel to `lab.links`.
    pub ends: Vec<LinkEnds>,
    /// Where each link is written (the synthetic link of an unlinked tap/tun
    /// node points at the node).
    pub link_at: Vec<Location>,
    /// Each node's `routes:` as written.
    pub routes: Vec<Vec<Spanned<RawRoute>>>,
}

/// A link end after the first pass.
struct End {
    node: usize,
    /// Explicit name, or the derived name of a tap/tun device.
    iface: Option<String>,
    addresses: Vec<(IpNet, Location)>,
    mac: Option<[u8; 6]>,
    /// The VLAN mode of a switch port (from the link or the endpoint).
    vlan: Option<PortVlan>,
    at: Location,
}

/// A link after the first pass.
struct PendingLink {
    kind: LinkKind,
    ends: Vec<End>,
    /// For tap/tun links: the tap/tun node.
    device_of: Option<usize>,
    mtu: Option<u32>,
    at: Location,
}

/// Who holds an interface name in a node's namespace.
#[derive(Clone, Copy)]
enum Holder {
    Bridge,
    Link(usize, Location),
}

pub(super) fn resolve(raw: RawLab) -> Result<Draft, Located> {
    check_name(&raw.name, "lab")?;
    let (mut draft, index) = nodes(raw.name.value, raw.nodes.value.0)?;

    // Pass 1: check every link, reserve explicit and device names.
    let lab = &draft.lab;
    let mut names: Vec<HashMap<String, Holder>> = lab
        .nodes
        .iter()
        .map(|n| {
            let mut m = HashMap::new();
            if n.kind == NodeKind::Bridge {
                m.insert(n.name.clone(), Holder::Bridge);
            }
            m
        })
        .collect();
    let mut device_link: Vec<Option<(usize, Location)>> = vec![None; lab.nodes.len()];
    let mut pending = Vec::new();
    for (i, link) in raw.links.unwrap_or_default().into_iter().enumerate() {
        let p = check_link(i, link, lab, &index, &mut device_link)?;
        for end in &p.ends {
            if let Some(iface) = &end.iface {
                reserve(lab, &mut names[end.node], end.node, iface, i, end.at)?;
            }
        }
        pending.push(p);
    }

    // Pass 2: name the rest, lay out links and interfaces in file order.
    lay_out(&mut draft, pending, names)?;
    place_devices(&mut draft, &device_link)?;
    Ok(draft)
}

/// Check every node and start the draft with them, in file order; also
/// return the node index by name.
fn nodes(
    lab_name: String,
    raw: Vec<(Spanned<String>, Spanned<Option<RawNode>>)>,
) -> Result<(Draft, HashMap<String, usize>), Located> {
    let mut index = HashMap::new();
    let mut draft = Draft {
        lab: Lab {
            name: lab_name,
            nodes: Vec::new(),
            links: Vec::new(),
        },
        node_at: Vec::new(),
        meta: Vec::new(),
        ends: Vec::new(),
        link_at: Vec::new(),
        routes: Vec::new(),
    };
    for (name, body) in raw {
        check_name(&name, "node")?;
        let n = &name.value;
        // The YAML parser already rejects duplicate keys; this is for
        // documents it lets through (e.g. keys that differ only in quoting).
        if let Some(&first) = index.get(n) {
            let f: Location = draft.node_at[first];
            return fail(
                name.referenced,
                format!(
                    "duplicate node `{n}` (first defined at line {}, column {})",
                    f.line(),
                    f.column()
                ),
            );
        }
        let Some(body) = body.value else {
            return fail(name.referenced, format!("node `{n}` needs a `kind`"));
        };
        let kind = parse_kind(n, &body.kind)?;
        let l2_device = matches!(kind, NodeKind::Tap | NodeKind::Tun);
        for (key, field) in [("owner", &body.owner), ("group", &body.group)] {
            if let (Some(v), false) = (field, l2_device) {
                return fail(
                    v.referenced,
                    format!("node `{n}`: `{key}` applies only to tap and tun nodes"),
                );
            }
        }
        if let (Some(exec), true) = (&body.exec, l2_device) {
            return fail(
                exec.referenced,
                format!("node `{n}`: `exec` applies only to host, router, bridge and switch nodes"),
            );
        }
        let mut switch_lists = Vec::new();
        for (key, list) in [
            ("flows", body.flows),
            ("groups", body.groups),
            ("meters", body.meters),
        ] {
            switch_lists.push(match list {
                Some(f) if kind != NodeKind::Switch => {
                    return fail(
                        f.referenced,
                        format!("node `{n}`: `{key}` apply only to switch nodes"),
                    );
                }
                Some(f) => check_entries(n, key, f.value)?,
                None => Vec::new(),
            });
        }
        let [flows, groups, meters]: [Vec<String>; 3] =
            switch_lists.try_into().expect("three lists");
        let openflow = match body.openflow {
            Some(o) if kind != NodeKind::Switch => {
                return fail(
                    o.referenced,
                    format!("node `{n}`: `openflow` applies only to switch nodes"),
                );
            }
            Some(o) => Some(super::openflow::check(n, o.value)?),
            None => None,
        };
        let routed = matches!(kind, NodeKind::Host | NodeKind::Router);
        if let (Some(r), false) = (&body.routes, routed) {
            return fail(
                r.referenced,
                format!("node `{n}`: `routes` apply only to host and router nodes"),
            );
        }
        if kind == NodeKind::Bridge && n.len() > IFNAME_MAX {
            return fail(
                name.referenced,
                format!(
                    "bridge node `{n}`: the bridge device is named after the node, and `{n}` is \
                     {} bytes, longer than the {IFNAME_MAX} bytes Linux allows in an interface name",
                    n.len()
                ),
            );
        }
        let netns = Some(lab::netns_name(&draft.lab.name, n));
        index.insert(n.clone(), draft.lab.nodes.len());
        draft.node_at.push(name.referenced);
        draft.meta.push(Vec::new());
        draft
            .routes
            .push(body.routes.map(|r| r.value).unwrap_or_default());
        draft.lab.nodes.push(Node {
            name: n.clone(),
            kind,
            netns,
            bridge_dev: (kind == NodeKind::Bridge).then(|| n.clone()),
            interfaces: Vec::new(),
            routes: Vec::new(),
            exec: body.exec.map(|e| e.value).unwrap_or_default(),
            owner: body.owner.map(|o| o.value),
            group: body.group.map(|g| g.value),
            flows,
            groups,
            meters,
            openflow,
        });
    }
    Ok((draft, index))
}

/// The second pass: give the remaining interfaces automatic names and add
/// the links and their interfaces to the draft in file order.
fn lay_out(
    draft: &mut Draft,
    pending: Vec<PendingLink>,
    mut names: Vec<HashMap<String, Holder>>,
) -> Result<(), Located> {
    let lab = &mut draft.lab;
    let mut next_auto = vec![0usize; lab.nodes.len()];
    for (i, p) in pending.into_iter().enumerate() {
        let mut refs = Vec::new();
        let peer_names: Vec<String> = p
            .ends
            .iter()
            .rev()
            .map(|e| lab.nodes[e.node].name.clone())
            .collect();
        for (end, peer) in p.ends.into_iter().zip(peer_names) {
            let name = match end.iface {
                Some(name) => name,
                None => {
                    let node = &lab.nodes[end.node];
                    let taken = &names[end.node];
                    let name = auto_name(node, &peer, taken, &mut next_auto[end.node]);
                    if let Err(why) = check_ifname(&name) {
                        return fail(end.at, format!("link {i}: derived interface name {why}"));
                    }
                    names[end.node].insert(name.clone(), Holder::Link(i, end.at));
                    name
                }
            };
            let node = &mut lab.nodes[end.node];
            refs.push(IfaceRef {
                node: end.node,
                iface: node.interfaces.len(),
            });
            node.interfaces.push(Interface {
                name,
                link: i,
                addresses: Vec::new(),
                mtu: p.mtu,
                mac: end.mac,
                vlan: end.vlan,
            });
            draft.meta[end.node].push(IfaceMeta {
                explicit: end.addresses,
            });
        }
        let endpoint = |r: &IfaceRef| Endpoint {
            node: lab.nodes[r.node].name.clone(),
            iface: lab.nodes[r.node].interfaces[r.iface].name.clone(),
        };
        let (a, b, link_ends) = match p.device_of {
            None => (
                endpoint(&refs[0]),
                Some(endpoint(&refs[1])),
                LinkEnds::Veth([refs[0], refs[1]]),
            ),
            Some(_) => (endpoint(&refs[0]), None, LinkEnds::Device(refs[0])),
        };
        lab.links.push(Link {
            kind: p.kind,
            a,
            b,
            device_of: p.device_of.map(|d| lab.nodes[d].name.clone()),
            mtu: p.mtu,
        });
        draft.ends.push(link_ends);
        draft.link_at.push(p.at);
    }
    Ok(())
}

/// Tap/tun nodes: a linked device lives with its peer, so the node has no
/// namespace; an unlinked one lives in the node's own namespace and gets a
/// link of its own (after the file's links, in node order).
fn place_devices(
    draft: &mut Draft,
    device_link: &[Option<(usize, Location)>],
) -> Result<(), Located> {
    for (n, linked) in device_link.iter().enumerate() {
        let node = &mut draft.lab.nodes[n];
        let link_kind = match node.kind {
            NodeKind::Tap => LinkKind::Tap,
            NodeKind::Tun => LinkKind::Tun,
            _ => continue,
        };
        if linked.is_some() {
            node.netns = None;
            continue;
        }
        if let Err(why) = check_ifname(&node.name) {
            return fail(
                draft.node_at[n],
                format!(
                    "{} node `{}`: its device is named after the node, and interface name {why}",
                    kind_word(node.kind),
                    node.name
                ),
            );
        }
        let link = draft.lab.links.len();
        node.interfaces.push(Interface {
            name: node.name.clone(),
            link,
            addresses: Vec::new(),
            mtu: None,
            mac: None,
            vlan: None,
        });
        let ep = Endpoint {
            node: node.name.clone(),
            iface: node.name.clone(),
        };
        let device_of = Some(node.name.clone());
        draft.lab.links.push(Link {
            kind: link_kind,
            a: ep,
            b: None,
            device_of,
            mtu: None,
        });
        draft.meta[n].push(IfaceMeta {
            explicit: Vec::new(),
        });
        draft
            .ends
            .push(LinkEnds::Device(IfaceRef { node: n, iface: 0 }));
        draft.link_at.push(draft.node_at[n]);
    }
    Ok(())
}

/// The first pass over one link: endpoints exist, kinds fit together,
/// options are valid and on the right end.
fn check_link(
    i: usize,
    link: Spanned<RawLink>,
    lab: &Lab,
    index: &HashMap<String, usize>,
    device_link: &mut [Option<(usize, Location)>],
) -> Result<PendingLink, Located> {
    let at = link.referenced;
    let mut link = link.value;
    let link_vlan = link.take_vlan();
    let mtu = match link.mtu {
        Some(m) if !(MTU_MIN..=MTU_MAX).contains(&m.value) => {
            return fail(
                m.referenced,
                format!(
                    "link {i}: mtu {} is out of range ({MTU_MIN}..={MTU_MAX})",
                    m.value
                ),
            );
        }
        m => m.map(|m| m.value),
    };
    if link.endpoints.value.len() != 2 {
        return fail(
            link.endpoints.referenced,
            format!(
                "link {i}: needs exactly 2 endpoints, found {}",
                link.endpoints.value.len()
            ),
        );
    }
    let mut ends = Vec::new();
    let mut ifaces: Vec<Option<Spanned<String>>> = Vec::new();
    let mut end_vlans = Vec::new();
    for ep in link.endpoints.value {
        let (end, iface, vlan) = parse_end(i, ep, index)?;
        ends.push(end);
        ifaces.push(iface);
        end_vlans.push(vlan);
    }
    let (na, nb) = (&lab.nodes[ends[0].node], &lab.nodes[ends[1].node]);
    if ends[0].node == ends[1].node {
        return fail(
            ends[1].at,
            format!("link {i}: connects node `{}` to itself", nb.name),
        );
    }
    settle_vlans(i, lab, &mut ends, link_vlan, end_vlans)?;
    let is_dev = |k: NodeKind| matches!(k, NodeKind::Tap | NodeKind::Tun);
    let (dev_side, peer_side) = match (is_dev(na.kind), is_dev(nb.kind)) {
        (false, false) => {
            for (end, iface) in ends.iter_mut().zip(ifaces) {
                no_port_addresses(i, lab, end)?;
                end.iface = iface.map(|s| s.value);
            }
            return Ok(PendingLink {
                kind: LinkKind::Veth,
                ends,
                device_of: None,
                mtu,
                at,
            });
        }
        (true, true) => {
            return fail(
                ends[1].at,
                format!(
                    "link {i}: connects {} node `{}` to {} node `{}`; a tap or tun device links \
                     to a host, router, bridge or switch",
                    kind_word(na.kind),
                    na.name,
                    kind_word(nb.kind),
                    nb.name
                ),
            );
        }
        (true, false) => (0, 1),
        (false, true) => (1, 0),
    };
    let dev = &lab.nodes[ends[dev_side].node];
    let peer = &lab.nodes[ends[peer_side].node];
    let word = kind_word(dev.kind);
    let dev_at = ends[dev_side].at;
    if dev.kind == NodeKind::Tun && matches!(peer.kind, NodeKind::Bridge | NodeKind::Switch) {
        return fail(
            dev_at,
            format!(
                "link {i}: tun node `{}` cannot join {} `{}`: a TUN device carries IP \
                 packets, not Ethernet frames (use kind: tap)",
                dev.name,
                kind_word(peer.kind),
                peer.name
            ),
        );
    }
    if let Some((first, loc)) = device_link[ends[dev_side].node] {
        return fail(
            dev_at,
            format!(
                "link {i}: {word} node `{}` is already linked by link {first} (line {}, column {}); \
                 a {word} node has one device and so at most one link",
                dev.name,
                loc.line(),
                loc.column()
            ),
        );
    }
    device_link[ends[dev_side].node] = Some((i, dev_at));
    if ifaces[dev_side].is_some()
        || !ends[dev_side].addresses.is_empty()
        || ends[dev_side].mac.is_some()
    {
        return fail(
            dev_at,
            format!(
                "link {i}: `{}` is a {word} node; its device lives in `{}`, so name and configure \
                 it on that end (e.g. `{}:NAME`)",
                dev.name, peer.name, peer.name
            ),
        );
    }
    no_port_addresses(i, lab, &ends[peer_side])?;
    let device_name = match ifaces[peer_side].take() {
        Some(name) => name.value,
        None if dev.name.len() > IFNAME_MAX => {
            return fail(
                dev_at,
                format!(
                    "link {i}: the device of {word} node `{}` would be named after the node, which \
                     is {} bytes, longer than the {IFNAME_MAX} bytes Linux allows; name it on the \
                     other end (e.g. `{}:{word}0`)",
                    dev.name,
                    dev.name.len(),
                    peer.name
                ),
            );
        }
        None => match check_ifname(&dev.name) {
            Ok(()) => dev.name.clone(),
            Err(why) => {
                return fail(
                    dev_at,
                    format!(
                        "link {i}: the device of {word} node `{}`: interface name {why}",
                        dev.name
                    ),
                );
            }
        },
    };
    let device_of = ends[dev_side].node;
    let mut peer_end = ends.swap_remove(peer_side);
    peer_end.iface = Some(device_name);
    Ok(PendingLink {
        kind: if dev.kind == NodeKind::Tap {
            LinkKind::Tap
        } else {
            LinkKind::Tun
        },
        ends: vec![peer_end],
        device_of: Some(device_of),
        mtu,
        at,
    })
}

/// Bridge and switch ports are layer 2: no addresses on them.
fn no_port_addresses(i: usize, lab: &Lab, end: &End) -> Result<(), Located> {
    let node = &lab.nodes[end.node];
    match (node.kind, end.addresses.first()) {
        (NodeKind::Bridge | NodeKind::Switch, Some((_, loc))) => fail(
            *loc,
            format!(
                "link {i}: `{}` is a {}; its ports carry no addresses",
                node.name,
                kind_word(node.kind)
            ),
        ),
        _ => Ok(()),
    }
}

/// A port VLAN mode as written, and where its `vlan` or `trunk` value is.
#[derive(Clone)]
struct PortMode {
    vlan: PortVlan,
    at: Location,
}

/// Give every switch end of a link its VLAN mode, from its endpoint or else
/// from the link, and check that the options are where they can apply: on a
/// switch end, not on both the link and the endpoint, and a trunk only
/// towards something that can tag frames (another switch's trunk, or a VM's
/// tap device).
fn settle_vlans(
    i: usize,
    lab: &Lab,
    ends: &mut [End],
    link_vlan: RawVlan,
    end_vlans: Vec<RawVlan>,
) -> Result<(), Located> {
    let node = |e: &End| &lab.nodes[e.node];
    let link_first = link_vlan.first();
    if let Some((key, loc)) = link_first {
        if !ends.iter().any(|e| node(e).kind == NodeKind::Switch) {
            return fail(
                loc,
                format!(
                    "link {i}: `{key}` configures switch ports, and neither `{}` nor `{}` is a \
                     switch",
                    node(&ends[0]).name,
                    node(&ends[1]).name
                ),
            );
        }
    }
    let link_mode = parse_vlan(i, link_vlan)?;
    let mut modes: Vec<Option<PortMode>> = Vec::new();
    for (k, raw) in end_vlans.into_iter().enumerate() {
        let (here, other) = (node(&ends[k]), node(&ends[1 - k]));
        if let Some((key, loc)) = raw.first() {
            if here.kind != NodeKind::Switch {
                let why = if here.kind == NodeKind::Tap && other.kind == NodeKind::Switch {
                    format!(
                        "`{}` is a {} node; its device is a port of `{}`, so give `{key}` on that \
                         end",
                        here.name,
                        kind_word(here.kind),
                        other.name
                    )
                } else {
                    format!(
                        "`{key}` applies only to switch ports, and `{}` is a {}",
                        here.name,
                        kind_word(here.kind)
                    )
                };
                return fail(loc, format!("link {i}: {why}"));
            }
            if let Some((lkey, lloc)) = link_first {
                return fail(
                    loc,
                    format!(
                        "link {i}: the VLAN of the port on `{}` is given twice: on the link \
                         (`{lkey}` at line {}, column {}) and on the endpoint",
                        here.name,
                        lloc.line(),
                        lloc.column()
                    ),
                );
            }
        }
        let mode = match parse_vlan(i, raw)? {
            Some(m) => Some(m),
            None if here.kind == NodeKind::Switch => link_mode.clone(),
            None => None,
        };
        modes.push(mode);
    }
    for k in 0..2 {
        let Some(PortMode {
            vlan: PortVlan::Trunk { .. },
            at,
        }) = modes[k]
        else {
            continue;
        };
        let (here, other) = (node(&ends[k]), node(&ends[1 - k]));
        let why = match other.kind {
            // A VM can tag its own frames; a tun is refused later anyway.
            NodeKind::Tap | NodeKind::Tun => continue,
            NodeKind::Switch => match modes[1 - k] {
                Some(PortMode {
                    vlan: PortVlan::Trunk { .. },
                    ..
                }) => continue,
                _ => {
                    return fail(
                        at,
                        format!(
                            "link {i}: the port on `{}` is a trunk but the port on `{}` is not: a \
                             trunk between two switches needs `trunk` on both ends (give it on \
                             the link to set both)",
                            here.name, other.name
                        ),
                    );
                }
            },
            NodeKind::Bridge => format!(
                "`{}` is a bridge, and Linux bridges here cannot carry VLANs (this kernel has no \
                 bridge VLAN filtering); use `vlan: N` for an access port",
                other.name
            ),
            NodeKind::Host | NodeKind::Router => format!(
                "`{}` is a {} and cannot tag frames (this kernel has no 802.1Q devices); use \
                 `vlan: N` for an access port",
                other.name,
                kind_word(other.kind)
            ),
        };
        return fail(
            at,
            format!("link {i}: a trunk port needs a switch on both ends: {why}"),
        );
    }
    for (end, mode) in ends.iter_mut().zip(modes) {
        end.vlan = mode.map(|m| m.vlan);
    }
    Ok(())
}

/// Check VLAN options (`vlan`, or `trunk` with an optional `native`).
fn parse_vlan(i: usize, raw: RawVlan) -> Result<Option<PortMode>, Located> {
    let vid = |v: &Spanned<i64>| {
        parse_vid(v.value).map_err(|why| Located::at(v.referenced, format!("link {i}: {why}")))
    };
    let RawVlan {
        vlan,
        trunk,
        native,
    } = raw;
    match (vlan, trunk, native) {
        (Some(v), Some(t), _) => {
            let later = [v.referenced, t.referenced]
                .into_iter()
                .max_by_key(|l| (l.line(), l.column()))
                .expect("two locations");
            fail(
                later,
                format!(
                    "link {i}: a port is either an access port (`vlan`) or a trunk (`trunk`), \
                     not both"
                ),
            )
        }
        (Some(_), None, Some(n)) | (None, None, Some(n)) => fail(
            n.referenced,
            format!(
                "link {i}: `native` is the untagged VLAN of a trunk; it needs `trunk` beside it"
            ),
        ),
        (Some(v), None, None) => Ok(Some(PortMode {
            vlan: PortVlan::Access(vid(&v)?),
            at: v.referenced,
        })),
        (None, Some(t), native) => {
            if t.value.is_empty() {
                return fail(
                    t.referenced,
                    format!("link {i}: `trunk` needs at least one VLAN"),
                );
            }
            let mut allowed: Vec<u16> = Vec::new();
            for v in &t.value {
                let id = vid(v)?;
                if allowed.contains(&id) {
                    return fail(
                        v.referenced,
                        format!("link {i}: VLAN {id} is listed twice in `trunk`"),
                    );
                }
                allowed.push(id);
            }
            let native = native.as_ref().map(vid).transpose()?;
            Ok(Some(PortMode {
                vlan: PortVlan::Trunk { allowed, native },
                at: t.referenced,
            }))
        }
        (None, None, None) => Ok(None),
    }
}

/// Check a switch's `flows`, `groups` or `meters` (`key`): kept verbatim
/// for the switch, which parses them when it installs them; here only
/// empty entries are refused.
fn check_entries(
    node: &str,
    key: &str,
    entries: Vec<Spanned<String>>,
) -> Result<Vec<String>, Located> {
    let what = key.trim_end_matches('s');
    entries
        .into_iter()
        .enumerate()
        .map(|(k, f)| {
            if f.value.trim().is_empty() {
                fail(f.referenced, format!("node `{node}`: {what} {k} is empty"))
            } else {
                Ok(f.value)
            }
        })
        .collect()
}

/// Parse one link end; the explicit interface name (if any) comes back
/// separately, already checked for shape.
fn parse_end(
    i: usize,
    ep: Spanned<RawEndpoint>,
    index: &HashMap<String, usize>,
) -> Result<(End, Option<Spanned<String>>, RawVlan), Located> {
    let at = ep.referenced;
    let (node, node_at, iface, addresses, mac, vlan) = match ep.value {
        RawEndpoint::Short(s) => {
            let (node, iface) = match s.split_once(':') {
                Some((n, f)) => (n.to_owned(), Some(Spanned::new(f.to_owned(), at, at))),
                None => (s, None),
            };
            (node, at, iface, Vec::new(), None, RawVlan::default())
        }
        RawEndpoint::Full(m) => {
            let mut m = *m;
            let vlan = m.take_vlan();
            if m.node.value.contains(':') {
                return fail(
                    m.node.referenced,
                    format!(
                        "link {i}: `node` is just the node name; give the interface with `iface`"
                    ),
                );
            }
            (
                m.node.value,
                m.node.referenced,
                m.iface,
                m.addresses.unwrap_or_default(),
                m.mac,
                vlan,
            )
        }
    };
    let Some(&n) = index.get(&node) else {
        return fail(node_at, format!("link {i}: no node named `{node}`"));
    };
    if let Some(f) = &iface {
        if let Err(why) = check_ifname(&f.value) {
            return fail(f.referenced, format!("link {i}: interface name {why}"));
        }
    }
    let mut parsed: Vec<(IpNet, Location)> = Vec::new();
    for a in addresses {
        let net = IpNet::from_str(&a.value).map_err(|_| {
            Located::at(
                a.referenced,
                format!(
                    "link {i}: `{}` is not an address with a prefix length (like 10.0.0.1/24 or \
                     fd00::1/64)",
                    a.value
                ),
            )
        })?;
        if parsed.iter().any(|(p, _)| p.addr() == net.addr()) {
            return fail(
                a.referenced,
                format!("link {i}: address {} is listed twice", net.addr()),
            );
        }
        parsed.push((net, a.referenced));
    }
    let mac = match mac {
        None => None,
        Some(m) => Some(parse_mac(&m.value).map_err(|why| {
            Located::at(m.referenced, format!("link {i}: mac `{}` {why}", m.value))
        })?),
    };
    Ok((
        End {
            node: n,
            iface: None,
            addresses: parsed,
            mac,
            vlan: None,
            at,
        },
        iface,
        vlan,
    ))
}

/// Claim `iface` in the namespace of node `n`, or say who has it.
fn reserve(
    lab: &Lab,
    names: &mut HashMap<String, Holder>,
    n: usize,
    iface: &str,
    link: usize,
    at: Location,
) -> Result<(), Located> {
    let node = &lab.nodes[n].name;
    match names.get(iface) {
        None => {
            names.insert(iface.to_owned(), Holder::Link(link, at));
            Ok(())
        }
        Some(Holder::Bridge) => fail(
            at,
            format!(
                "link {link}: interface `{node}:{iface}` clashes with the bridge device of node \
                 `{node}`"
            ),
        ),
        Some(Holder::Link(first, loc)) => fail(
            at,
            format!(
                "link {link}: interface `{node}:{iface}` is already used by link {first} \
                 (line {}, column {})",
                loc.line(),
                loc.column()
            ),
        ),
    }
}

/// An automatic interface name: `ethN` on hosts and routers; on a bridge or
/// a switch the peer's node name when it is free and short enough, else `pN`.
fn auto_name(node: &Node, peer: &str, taken: &HashMap<String, Holder>, next: &mut usize) -> String {
    let prefix = if matches!(node.kind, NodeKind::Bridge | NodeKind::Switch) {
        if peer.len() <= IFNAME_MAX && !taken.contains_key(peer) && check_ifname(peer).is_ok() {
            return peer.to_owned();
        }
        "p"
    } else {
        "eth"
    };
    loop {
        let name = format!("{prefix}{next}");
        *next += 1;
        if !taken.contains_key(&name) {
            return name;
        }
    }
}
