//! IPV6_EXTHDR end to end: IPv6 frames crafted with chains of extension
//! headers (hop-by-hop, destination options, routing, fragment, AH, ESP,
//! no next header) carry the spec's `OFPIEH_*` bits — present headers,
//! OFPIEH_UNREP for an unexpected repeat (any header but destination
//! options twice; destination options more than twice), OFPIEH_UNSEQ for
//! an order other than RFC 8200's (hop-by-hop first; destination options,
//! routing, fragment, AH, ESP, destination options) — and a flow matching
//! the pseudo-field (OXM bytes through the codec) steers exactly the
//! frames with those bits.

mod common;
mod dp;

use std::net::Ipv6Addr;

use dp::*;
use vnet_wire::build;
use vnet_wire::flow::{
    IEH_AUTH, IEH_DEST, IEH_ESP, IEH_FRAG, IEH_HOP, IEH_NONEXT, IEH_ROUTER, IEH_UNREP, IEH_UNSEQ,
};
use vnet_wire::{extract, FlowKey};

fn v6(last: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last)
}

/// An extension header (or what ends the chain).
#[derive(Clone, Copy, Debug)]
enum H {
    Hop,
    Dest,
    Route,
    /// Fragment header: offset (8-byte units), more-fragments flag.
    Frag(u16, bool),
    Auth,
    /// ESP: the rest is encrypted; ends the chain.
    Esp,
    /// Next header 59: nothing follows.
    NoNext,
}

impl H {
    fn number(self) -> u8 {
        match self {
            H::Hop => 0,
            H::Dest => 60,
            H::Route => 43,
            H::Frag(..) => 44,
            H::Auth => 51,
            H::Esp => 50,
            H::NoNext => 59,
        }
    }

    /// The header's bytes, `next` being the number of what follows.
    fn bytes(self, next: u8) -> Vec<u8> {
        match self {
            // next, length 0 (8 bytes), PadN of 4
            H::Hop | H::Dest => vec![next, 0, 1, 4, 0, 0, 0, 0],
            // next, length 0, routing type 253 (experimental), segments
            // left 0, reserved
            H::Route => vec![next, 0, 253, 0, 0, 0, 0, 0],
            H::Frag(offset, more) => {
                let off = (offset << 3 | u16::from(more)).to_be_bytes();
                vec![next, 0, off[0], off[1], 0, 0, 0, 42]
            }
            // next, payload length 2 ((2 + 2) * 4 = 16 bytes), reserved,
            // SPI, sequence, ICV
            H::Auth => vec![next, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 9, 9, 9, 9],
            // SPI, sequence, ciphertext
            H::Esp => vec![0, 0, 1, 0, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef],
            H::NoNext => Vec::new(),
        }
    }
}

/// An IPv6 frame whose payload is the chain `hs`, then (unless the chain
/// ends it) a UDP datagram with its checksum right.
fn frame(hs: &[H]) -> Vec<u8> {
    let udp_frame = build::udp6(A, B, None, v6(1), v6(2), 1000, 53, b"query");
    let mut payload = match hs.last() {
        Some(H::Esp | H::NoNext) => Vec::new(),
        _ => udp_frame[54..].to_vec(),
    };
    let mut next = 17;
    for h in hs.iter().rev() {
        let mut b = h.bytes(next);
        b.extend_from_slice(&payload);
        payload = b;
        next = h.number();
    }
    build::ipv6(A, B, None, v6(1), v6(2), next, &payload)
}

/// (chain, the `OFPIEH_*` bits the spec gives it).
fn cases() -> Vec<(Vec<H>, u16)> {
    use H::*;
    let frag = Frag(0, true);
    vec![
        (vec![], 0),
        (vec![NoNext], IEH_NONEXT),
        (vec![Esp], IEH_ESP),
        (vec![Auth], IEH_AUTH),
        (vec![Dest], IEH_DEST),
        (vec![frag], IEH_FRAG),
        (vec![Frag(0, false)], IEH_FRAG), // atomic fragment: still the header
        (vec![Frag(8, false)], IEH_FRAG), // later fragment: the walk stops
        (vec![Route], IEH_ROUTER),
        (vec![Hop], IEH_HOP),
        (vec![Dest, NoNext], IEH_DEST | IEH_NONEXT),
        // Every header in the recommended order, destination options twice.
        (
            vec![Hop, Dest, Route, frag, Auth, Dest],
            IEH_HOP | IEH_DEST | IEH_ROUTER | IEH_FRAG | IEH_AUTH,
        ),
        (
            vec![Hop, Dest, Route, frag, Auth, Esp],
            IEH_HOP | IEH_DEST | IEH_ROUTER | IEH_FRAG | IEH_AUTH | IEH_ESP,
        ),
        // Unexpected repeats.
        (vec![Route, Route], IEH_ROUTER | IEH_UNREP),
        (vec![frag, Frag(0, true)], IEH_FRAG | IEH_UNREP),
        (
            vec![Dest, Route, Dest, Dest],
            IEH_DEST | IEH_ROUTER | IEH_UNREP,
        ),
        // Unexpected order (hop-by-hop not first is both).
        (vec![Route, Hop], IEH_ROUTER | IEH_HOP | IEH_UNSEQ),
        (vec![frag, Route], IEH_FRAG | IEH_ROUTER | IEH_UNSEQ),
        (vec![Auth, frag], IEH_AUTH | IEH_FRAG | IEH_UNSEQ),
        (vec![Hop, Hop], IEH_HOP | IEH_UNREP | IEH_UNSEQ),
    ]
}

#[test]
fn extraction_gives_the_spec_bits() {
    for (hs, bits) in cases() {
        let mut key = FlowKey::default();
        extract(&frame(&hs), 1, &mut key);
        assert_eq!(key.ipv6_exthdr, bits, "{hs:?}: {:#05x}", key.ipv6_exthdr);
        assert_eq!(key.dl_type, 0x86dd);
    }
    // The upper layer is still found behind the headers.
    let mut key = FlowKey::default();
    extract(&frame(&[H::Hop, H::Dest, H::Route, H::Auth]), 1, &mut key);
    assert_eq!((key.nw_proto, key.tp_src, key.tp_dst), (17, 1000, 53));
}

fn exact(bits: u16) -> String {
    format!("80004e02 {bits:04x}")
}

fn masked(bits: u16, mask: u16) -> String {
    format!("80004f04 {bits:04x} {mask:04x}")
}

/// A flow on IPV6_EXTHDR `tlv` takes exactly the frames whose bits
/// `pick` says it should.
#[track_caller]
fn steer(tlv: &str, pick: impl Fn(u16) -> bool) {
    let all = cases();
    let hits: Vec<Vec<u8>> = all
        .iter()
        .filter(|c| pick(c.1))
        .map(|c| frame(&c.0))
        .collect();
    let misses: Vec<Vec<u8>> = all
        .iter()
        .filter(|c| !pick(c.1))
        .map(|c| frame(&c.0))
        .collect();
    assert!(
        !hits.is_empty() && !misses.is_empty(),
        "{tlv}: a useless case"
    );
    Sw::check(&[ETH_IP6, tlv], &hits, &misses);
}

#[test]
fn exact_values_steer_exactly_their_frames() {
    for (_, bits) in cases() {
        steer(&exact(bits), |b| b == bits);
    }
}

#[test]
fn masked_single_bits() {
    for bit in [
        IEH_NONEXT, IEH_ESP, IEH_AUTH, IEH_DEST, IEH_FRAG, IEH_ROUTER, IEH_HOP, IEH_UNREP,
        IEH_UNSEQ,
    ] {
        steer(&masked(bit, bit), |b| b & bit != 0);
        steer(&masked(0, bit), |b| b & bit == 0);
    }
}

#[test]
fn masked_combinations() {
    // A clean chain: no unexpected repeat or order.
    let bad = IEH_UNREP | IEH_UNSEQ;
    steer(&masked(0, bad), |b| b & bad == 0);
    // Hop-by-hop present, no fragment header.
    steer(&masked(IEH_HOP, IEH_HOP | IEH_FRAG), |b| {
        b & (IEH_HOP | IEH_FRAG) == IEH_HOP
    });
    // Nothing after the IPv6 header at all.
    steer(&exact(0), |b| b == 0);
}

#[test]
fn not_an_ipv6_frame() {
    // The prerequisite ETH_TYPE 0x86dd: IPv4 never gets here, even with
    // "no bits" asked for.
    let v4 = build::udp4(
        A,
        B,
        None,
        [10, 0, 0, 1].into(),
        [10, 0, 0, 2].into(),
        1,
        2,
        b"x",
    );
    Sw::check(&[ETH_IP6, &exact(0)], &[frame(&[])], &[v4]);
}
