//! Helpers shared by the integration tests: an independent from-scratch
//! checksum recomputation, and sample frames.
#![allow(dead_code)]

use std::net::{Ipv4Addr, Ipv6Addr};

use vnet_wire::{build, extract, FlowKey, Layout};

pub const H1: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
pub const H2: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
pub const A1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const A2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const B1: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
pub const B2: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

pub fn layout(frame: &[u8]) -> (FlowKey, Layout) {
    let mut k = FlowKey::default();
    let l = extract(frame, 1, &mut k);
    (k, l)
}

/// The frame with every checksum (IPv4 header, TCP/UDP/ICMP/ICMPv6,
/// SCTP) recomputed from scratch; a UDP checksum of 0 stays 0. The same
/// oracle the fuzz target uses.
pub fn recompute(frame: &[u8]) -> Vec<u8> {
    vnet_wire::fuzzing::recompute(frame)
}

/// One frame of every kind the builders make, untagged and tagged.
pub fn samples() -> Vec<(&'static str, Vec<u8>)> {
    let mut v = Vec::new();
    for vlan in [None, Some(0x2064)] {
        v.push((
            "udp4",
            build::udp4(H1, H2, vlan, A1, A2, 1234, 53, b"hello udp"),
        ));
        v.push((
            "tcp4",
            build::tcp4(H1, H2, vlan, A1, A2, 40000, 80, 0x18, b"GET / HTTP/1.1\r\n"),
        ));
        v.push((
            "sctp4",
            build::sctp4(H1, H2, vlan, A1, A2, 2905, 2906, &[0, 3, 0, 8, 1, 2, 3, 4]),
        ));
        v.push((
            "icmp4",
            build::icmp4_echo(H1, H2, vlan, A1, A2, true, 7, 1, b"ping!"),
        ));
        v.push(("arp_req", build::arp_request(H1, vlan, A1, A2)));
        v.push(("arp_rep", build::arp_reply(H2, H1, vlan, A2, A1)));
        v.push((
            "udp6",
            build::udp6(H1, H2, vlan, B1, B2, 546, 547, b"dhcpv6"),
        ));
        v.push((
            "tcp6",
            build::tcp6(H1, H2, vlan, B1, B2, 22, 50000, 0x12, b""),
        ));
        v.push((
            "icmp6",
            build::icmp6_echo(H1, H2, vlan, B1, B2, false, 9, 3, b"pong"),
        ));
        v.push(("ns", build::icmp6_ns(H1, H2, vlan, B1, B2, B2, Some(H1))));
        v.push((
            "na",
            build::icmp6_na(H2, H1, vlan, B2, B1, B2, 0x60, Some(H2)),
        ));
    }
    v
}
