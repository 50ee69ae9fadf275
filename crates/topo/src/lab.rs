//! The resolved lab: what a lab file means once it has been loaded, validated,
//! named and addressed. Everything the planner needs is explicit here — no
//! defaults are left to be filled in later, and every kernel-visible name has
//! already been checked against the kernel's limits.
//!
//! This module is plain data; `load` produces it, `plan` consumes it.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Longest interface name the kernel accepts (IFNAMSIZ - 1).
pub const IFNAME_MAX: usize = 15;

/// A validated, fully resolved lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lab {
    /// Lab name: `[A-Za-z0-9_-]{1,32}`.
    pub name: String,
    /// Nodes in file order.
    pub nodes: Vec<Node>,
    /// Links in file order.
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// A network namespace.
    Host,
    /// A network namespace with IPv4 and IPv6 forwarding on.
    Router,
    /// A Linux bridge in its own lab-owned namespace.
    Bridge,
    /// A TAP device (layer 2), for VMs.
    Tap,
    /// A TUN device (layer 3), for userspace programs.
    Tun,
    /// A vnet userspace switch in its own lab-owned namespace; its ports
    /// are veth ends there, served by the lab's switch daemon.
    Switch,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Node name: `[A-Za-z0-9_-]{1,32}`.
    pub name: String,
    pub kind: NodeKind,
    /// The named network namespace that holds this node's interfaces
    /// (`netns_name(lab, node)`). `None` only for a tap/tun node that is
    /// linked to another node: its device lives in that node's namespace.
    pub netns: Option<String>,
    /// For bridge nodes: the bridge device's name inside `netns` (the node name).
    pub bridge_dev: Option<String>,
    /// Interfaces that live in this node's namespace, in creation order:
    /// veth ends, and tap/tun devices hosted here. Bridge ports are listed
    /// on the bridge node (they live in the bridge namespace).
    pub interfaces: Vec<Interface>,
    /// Static routes (explicit ones and those computed by `routes: auto`,
    /// including a host's default route).
    pub routes: Vec<Route>,
    /// Commands run with `sh -c` inside the node once the whole lab is up.
    pub exec: Vec<String>,
    /// Owner uid/gid for tap/tun devices.
    pub owner: Option<u32>,
    pub group: Option<u32>,
    /// For switch nodes: flows in ovs-ofctl syntax, installed at start.
    #[serde(default)]
    pub flows: Vec<String>,
    /// For switch nodes: OpenFlow groups in ovs-ofctl `add-group` syntax,
    /// installed before the flows (which may name them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// For switch nodes: meters in ovs-ofctl `add-meter` syntax, installed
    /// before the groups and flows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub meters: Vec<String>,
    /// For switch nodes: OpenFlow channels and fail mode (`openflow:`).
    #[serde(default)]
    pub openflow: Option<OpenFlow>,
}

/// A switch's OpenFlow settings, as the lab file states them (targets are
/// checked for syntax; the switch daemon resolves them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenFlow {
    /// Passive listeners, `ptcp:PORT[:ADDR]` (ADDR defaults to 127.0.0.1).
    #[serde(default)]
    pub listen: Vec<String>,
    /// Controllers the switch connects to, `tcp:HOST:PORT`.
    #[serde(default)]
    pub controllers: Vec<String>,
    #[serde(default)]
    pub fail_mode: FailMode,
}

/// What a switch with OpenFlow targets does while no controller is
/// connected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailMode {
    /// Forward as a learning switch (table 0 misses go to NORMAL).
    #[default]
    Standalone,
    /// Keep the installed flows and nothing else: misses drop (or go to
    /// the controller when a flow says so).
    Secure,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface {
    /// Kernel interface name, at most `IFNAME_MAX` bytes.
    pub name: String,
    /// Index into `Lab::links` of the link that created this interface.
    pub link: usize,
    /// Addresses with prefix length (explicit or automatic). Empty for bridge ports.
    pub addresses: Vec<IpNet>,
    pub mtu: Option<u32>,
    pub mac: Option<[u8; 6]>,
    /// For switch ports: the port's VLAN mode (`None` = VLAN-unaware).
    #[serde(default)]
    pub vlan: Option<PortVlan>,
}

/// VLAN mode of a switch port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortVlan {
    /// Untagged traffic belongs to this VLAN; tagged frames are dropped.
    Access(u16),
    /// Tagged traffic of these VLANs; untagged traffic belongs to `native`
    /// when given (and leaves untagged), and is dropped otherwise.
    Trunk {
        allowed: Vec<u16>,
        native: Option<u16>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// A veth pair: `a` and `b` are its two ends.
    Veth,
    /// A TAP device owned by the tap node `device_of`, living at `a`.
    Tap,
    /// A TUN device owned by the tun node `device_of`, living at `a`.
    Tun,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub kind: LinkKind,
    /// Where the first end lives. For tap/tun: where the device lives (the
    /// node it is linked to, or the tap/tun node itself when unlinked).
    pub a: Endpoint,
    /// The second end of a veth pair; `None` for tap/tun.
    pub b: Option<Endpoint>,
    /// For tap/tun links: the name of the tap/tun node the device belongs to.
    pub device_of: Option<String>,
    pub mtu: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    pub node: String,
    pub iface: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Destination; `0.0.0.0/0` or `::/0` for a default route.
    pub dst: IpNet,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub metric: Option<u32>,
}

/// The named network namespace of a node: `vnet.LAB.NODE`, visible to `ip netns`.
pub fn netns_name(lab: &str, node: &str) -> String {
    format!("vnet.{lab}.{node}")
}

impl Lab {
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The namespace an endpoint's interface lives in.
    pub fn netns_of(&self, ep: &Endpoint) -> Option<&str> {
        self.node(&ep.node).and_then(|n| n.netns.as_deref())
    }
}
