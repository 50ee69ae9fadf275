//! IPv4 and IPv6 addresses: add, delete, list.

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::{Netlink, Op};
use crate::error::NetlinkError;

/// Address scope as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrScope {
    Global,
    Link,
    Host,
    Other(u8),
}

/// An address on a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrInfo {
    pub index: u32,
    pub address: IpAddr,
    pub prefix_len: u8,
    pub scope: AddrScope,
}

fn family(a: &IpAddr) -> AddressFamily {
    match a {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn message(index: u32, address: IpAddr, prefix_len: u8) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.family = family(&address);
    msg.header.prefix_len = prefix_len;
    msg.header.index = index;
    msg.attributes.push(AddressAttribute::Local(address));
    if let IpAddr::V4(v4) = address {
        msg.attributes.push(AddressAttribute::Address(address));
        if prefix_len < 31 {
            let host_bits = 32 - u32::from(prefix_len);
            let bcast = u32::from(v4) | ((1u64 << host_bits) - 1) as u32;
            msg.attributes
                .push(AddressAttribute::Broadcast(bcast.into()));
        }
    } else {
        // Lab addresses are usable at once: no duplicate address detection.
        msg.header.flags = AddressHeaderFlags::Nodad;
        msg.attributes
            .push(AddressAttribute::Flags(AddressFlags::Nodad));
    }
    msg
}

impl Netlink {
    /// The RTM_NEWADDR request for `address/prefix_len` on link `index` (for batches).
    pub fn addr_add_message(
        index: u32,
        address: IpAddr,
        prefix_len: u8,
    ) -> (RouteNetlinkMessage, u16, Op) {
        (
            RouteNetlinkMessage::NewAddress(message(index, address, prefix_len)),
            NLM_F_CREATE | NLM_F_EXCL,
            Op::new(
                "add address",
                format!("{address}/{prefix_len} on link #{index}"),
            ),
        )
    }

    /// Adds an address. IPv6 addresses are added without DAD (usable at once).
    pub fn addr_add(
        &mut self,
        index: u32,
        address: IpAddr,
        prefix_len: u8,
    ) -> Result<(), NetlinkError> {
        check_prefix(address, prefix_len)?;
        let (m, f, op) = Self::addr_add_message(index, address, prefix_len);
        self.request(m, f, &op)
    }

    pub fn addr_del(
        &mut self,
        index: u32,
        address: IpAddr,
        prefix_len: u8,
    ) -> Result<(), NetlinkError> {
        check_prefix(address, prefix_len)?;
        let op = Op::new(
            "delete address",
            format!("{address}/{prefix_len} on link #{index}"),
        );
        self.request(
            RouteNetlinkMessage::DelAddress(message(index, address, prefix_len)),
            0,
            &op,
        )
    }

    /// All addresses of the namespace, or of one link.
    pub fn addrs(&mut self, index: Option<u32>) -> Result<Vec<AddrInfo>, NetlinkError> {
        let msgs = self.dump(
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            &Op::new("list", "addresses"),
        )?;
        let mut out = Vec::new();
        for m in msgs {
            let RouteNetlinkMessage::NewAddress(a) = m else {
                continue;
            };
            if index.is_some_and(|i| i != a.header.index) {
                continue;
            }
            let addr = a.attributes.iter().find_map(|x| match x {
                AddressAttribute::Local(ip) => Some(*ip),
                _ => None,
            });
            let addr = addr.or_else(|| {
                a.attributes.iter().find_map(|x| match x {
                    AddressAttribute::Address(ip) => Some(*ip),
                    _ => None,
                })
            });
            let Some(address) = addr else { continue };
            let scope = match a.header.scope {
                AddressScope::Universe => AddrScope::Global,
                AddressScope::Link => AddrScope::Link,
                AddressScope::Host => AddrScope::Host,
                other => AddrScope::Other(u8::from(other)),
            };
            out.push(AddrInfo {
                index: a.header.index,
                address,
                prefix_len: a.header.prefix_len,
                scope,
            });
        }
        Ok(out)
    }
}

fn check_prefix(address: IpAddr, prefix_len: u8) -> Result<(), NetlinkError> {
    let max = if address.is_ipv4() { 32 } else { 128 };
    if prefix_len > max {
        return Err(NetlinkError::Invalid {
            op: "add address",
            object: format!("{address}/{prefix_len}"),
            reason: format!("prefix length must be at most {max}"),
        });
    }
    Ok(())
}
