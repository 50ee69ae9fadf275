//! Routes (add, delete, list) and neighbour entries (read).

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::{Netlink, Op};
use crate::error::NetlinkError;

/// A route to add or delete. `dst_len == 0` is a default route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub dst: IpAddr,
    pub dst_len: u8,
    pub via: Option<IpAddr>,
    pub dev: Option<u32>,
    pub metric: Option<u32>,
}

impl RouteSpec {
    fn describe(&self) -> String {
        let mut s = if self.dst_len == 0 {
            "default".to_string()
        } else {
            format!("{}/{}", self.dst, self.dst_len)
        };
        if let Some(v) = self.via {
            s.push_str(&format!(" via {v}"));
        }
        if let Some(d) = self.dev {
            s.push_str(&format!(" dev #{d}"));
        }
        if let Some(m) = self.metric {
            s.push_str(&format!(" metric {m}"));
        }
        s
    }

    fn message(&self) -> Result<RouteMessage, NetlinkError> {
        let op_err = |reason: &str| NetlinkError::Invalid {
            op: "route",
            object: self.describe(),
            reason: reason.to_string(),
        };
        let max = if self.dst.is_ipv4() { 32 } else { 128 };
        if self.dst_len > max {
            return Err(op_err("prefix length too long"));
        }
        if self.via.is_some_and(|v| v.is_ipv4() != self.dst.is_ipv4()) {
            return Err(op_err(
                "gateway and destination are of different address families",
            ));
        }
        if self.via.is_none() && self.dev.is_none() {
            return Err(op_err("a route needs a gateway, a device, or both"));
        }
        let mut msg = RouteMessage::default();
        msg.header.address_family = if self.dst.is_ipv4() {
            AddressFamily::Inet
        } else {
            AddressFamily::Inet6
        };
        msg.header.destination_prefix_length = self.dst_len;
        msg.header.table = RouteHeader::RT_TABLE_MAIN;
        msg.header.protocol = RouteProtocol::Static;
        msg.header.scope = if self.via.is_some() {
            RouteScope::Universe
        } else {
            RouteScope::Link
        };
        msg.header.kind = RouteType::Unicast;
        if self.dst_len > 0 {
            msg.attributes
                .push(RouteAttribute::Destination(RouteAddress::from(self.dst)));
        }
        if let Some(v) = self.via {
            msg.attributes
                .push(RouteAttribute::Gateway(RouteAddress::from(v)));
        }
        if let Some(d) = self.dev {
            msg.attributes.push(RouteAttribute::Oif(d));
        }
        if let Some(m) = self.metric {
            msg.attributes.push(RouteAttribute::Priority(m));
        }
        Ok(msg)
    }

    /// The RTM_NEWROUTE request (for batches).
    pub fn add_message(&self) -> Result<(RouteNetlinkMessage, u16, Op), NetlinkError> {
        Ok((
            RouteNetlinkMessage::NewRoute(self.message()?),
            NLM_F_CREATE | NLM_F_EXCL,
            Op::new("add route", self.describe()),
        ))
    }
}

/// A route as read from the main table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub dst: IpAddr,
    pub dst_len: u8,
    pub via: Option<IpAddr>,
    pub dev: Option<u32>,
    pub metric: Option<u32>,
    /// `kernel`, `static`, `boot`, ...
    pub protocol: String,
}

/// A neighbour (ARP / NDP) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighInfo {
    pub index: u32,
    pub address: IpAddr,
    pub mac: Option<[u8; 6]>,
    pub state: String,
}

fn route_ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v) => Some(IpAddr::V4(*v)),
        RouteAddress::Inet6(v) => Some(IpAddr::V6(*v)),
        _ => None,
    }
}

impl Netlink {
    pub fn route_add(&mut self, route: &RouteSpec) -> Result<(), NetlinkError> {
        let (m, f, op) = route.add_message()?;
        self.request(m, f, &op)
    }

    pub fn route_del(&mut self, route: &RouteSpec) -> Result<(), NetlinkError> {
        let msg = route.message()?;
        self.request(
            RouteNetlinkMessage::DelRoute(msg),
            0,
            &Op::new("delete route", route.describe()),
        )
    }

    /// Routes of the main table, IPv4 and IPv6.
    pub fn routes(&mut self) -> Result<Vec<RouteInfo>, NetlinkError> {
        let mut out = Vec::new();
        for fam in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut req = RouteMessage::default();
            req.header.address_family = fam;
            let msgs = self.dump(
                RouteNetlinkMessage::GetRoute(req),
                &Op::new("list", "routes"),
            )?;
            for m in msgs {
                let RouteNetlinkMessage::NewRoute(r) = m else {
                    continue;
                };
                if r.header.table != RouteHeader::RT_TABLE_MAIN
                    || r.header.kind != RouteType::Unicast
                {
                    continue;
                }
                let mut info = RouteInfo {
                    dst: if fam == AddressFamily::Inet {
                        IpAddr::from([0u8; 4])
                    } else {
                        IpAddr::from([0u8; 16])
                    },
                    dst_len: r.header.destination_prefix_length,
                    via: None,
                    dev: None,
                    metric: None,
                    protocol: format!("{:?}", r.header.protocol).to_lowercase(),
                };
                for a in &r.attributes {
                    match a {
                        RouteAttribute::Destination(d) => {
                            if let Some(ip) = route_ip(d) {
                                info.dst = ip
                            }
                        }
                        RouteAttribute::Gateway(g) => info.via = route_ip(g),
                        RouteAttribute::Oif(i) => info.dev = Some(*i),
                        RouteAttribute::Priority(p) => info.metric = Some(*p),
                        _ => {}
                    }
                }
                out.push(info);
            }
        }
        Ok(out)
    }

    /// Neighbour entries (ARP and NDP caches) of the namespace.
    pub fn neighbours(&mut self) -> Result<Vec<NeighInfo>, NetlinkError> {
        let mut out = Vec::new();
        for fam in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut req = NeighbourMessage::default();
            req.header.family = fam;
            let msgs = self.dump(
                RouteNetlinkMessage::GetNeighbour(req),
                &Op::new("list", "neighbours"),
            )?;
            for m in msgs {
                let RouteNetlinkMessage::NewNeighbour(n) = m else {
                    continue;
                };
                let mut address = None;
                let mut mac = None;
                for a in &n.attributes {
                    match a {
                        NeighbourAttribute::Destination(NeighbourAddress::Inet(v)) => {
                            address = Some(IpAddr::V4(*v))
                        }
                        NeighbourAttribute::Destination(NeighbourAddress::Inet6(v)) => {
                            address = Some(IpAddr::V6(*v))
                        }
                        NeighbourAttribute::LinkLayerAddress(b) if b.len() == 6 => {
                            mac = b.as_slice().try_into().ok()
                        }
                        _ => {}
                    }
                }
                if let Some(address) = address {
                    out.push(NeighInfo {
                        index: n.header.ifindex,
                        address,
                        mac,
                        state: n.header.state.to_string(),
                    });
                }
            }
        }
        Ok(out)
    }
}
