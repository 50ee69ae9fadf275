//! Fuzzing support — not part of the API (hidden from the docs).
//!
//! [`extract_target`] is the whole `extract` fuzz target: the cargo-fuzz
//! binary in `crates/wire/fuzz` calls it with libFuzzer's inputs, and
//! `tests/fuzz_corpus.rs` replays the checked-in corpus through it (plus a
//! deterministic mutation loop, [`replay_and_mutate`]), so whatever one
//! finds the other reproduces, on stable Rust.
//!
//! An input is a frame as it is, and also [`CONTROL_LEN`] control bytes
//! (flags, then rewrite operations) followed by a second frame that the
//! operations are applied to. Checked throughout:
//!
//! - [`extract()`](crate::extract()) is deterministic, overwrites the
//!   whole key, and every key field and layout offset agrees with the
//!   views of the headers it claims to have found (and finds every header
//!   the table in [`crate::extract`] says it must);
//! - each view accepted by its `new_checked` reads every field without
//!   panicking, and each repr survives `parse(emit(parse(x)))`;
//! - checksum helpers: split sums, CRC32c continuation, and incremental
//!   updates equal a recomputation from scratch;
//! - rewrites: an error leaves frame and layout untouched; a success keeps
//!   the layout within the frame, equal to a fresh extraction when the
//!   operation promises it, with the key changed exactly as asked, and
//!   keeps correct checksums correct (also for `csum_partial` frames,
//!   checked by completing them);
//! - every rewrite, given a layout that does not belong to the frame,
//!   fails cleanly instead of panicking.
//!
//! [`recompute`] (checksums from scratch) is also the oracle of the
//! integration tests.

mod checks;
mod mutator;
mod ops;

pub use mutator::{replay_and_mutate, Mutator};

use crate::extract::{extract, L3Kind, L4Kind};
use crate::flow::FlowKey;
use crate::{
    checksum, Icmpv4Packet, Icmpv6Packet, Ipv4Packet, Ipv6Packet, SctpPacket, TcpPacket, UdpPacket,
};

/// Control bytes before the frame that rewrites are applied to: one flags
/// byte, then [`ops::MAX_OPS`] operations of 3 bytes (operation, value).
pub const CONTROL_LEN: usize = 1 + 3 * ops::MAX_OPS;

/// The `extract` fuzz target (see the module docs). Panics when an
/// invariant breaks.
pub fn extract_target(data: &[u8]) {
    checks::everything(data, 0);
    checks::checksums(data);
    let (ctl, frame) = data.split_at(CONTROL_LEN.min(data.len()));
    let mut control = [0u8; CONTROL_LEN];
    control[..ctl.len()].copy_from_slice(ctl);
    ops::forged_layouts(&control, frame);
    ops::run(&control, frame);
}

/// `frame` with every checksum recomputed from scratch where
/// [`extract()`](crate::extract()) finds the header: IPv4 header,
/// TCP/UDP/ICMPv4/ICMPv6 (over the transport bytes up to the layout's
/// end, pseudo-header from the IP addresses and that length) and SCTP.
/// A UDP checksum of 0 ("none") stays 0.
pub fn recompute(frame: &[u8]) -> Vec<u8> {
    let mut f = frame.to_vec();
    let mut key = FlowKey::default();
    let lay = extract(&f, 0, &mut key);
    let Some(l3) = lay.l3 else { return f };
    if lay.l3_kind == L3Kind::Ipv4 {
        Ipv4Packet::new_unchecked(&mut f[l3..]).fill_checksum();
    }
    let Some(l4) = lay.l4 else { return f };
    let seg_len = lay.end - l4;
    let pseudo = match lay.l3_kind {
        L3Kind::Ipv4 => {
            let ip = Ipv4Packet::new_unchecked(&f[l3..]);
            let (s, d) = (ip.src_addr().octets(), ip.dst_addr().octets());
            checksum::pseudo_v4(s, d, key.nw_proto, seg_len as u16)
        }
        L3Kind::Ipv6 => {
            let ip = Ipv6Packet::new_unchecked(&f[l3..]);
            let (s, d) = (ip.src_addr().octets(), ip.dst_addr().octets());
            checksum::pseudo_v6(&s, &d, key.nw_proto, seg_len as u32)
        }
        L3Kind::Arp | L3Kind::None => 0,
    };
    let seg = &mut f[l4..lay.end];
    match lay.l4_kind {
        L4Kind::Tcp => TcpPacket::new_unchecked(seg).fill_checksum(pseudo),
        L4Kind::Udp => {
            let mut udp = UdpPacket::new_unchecked(seg);
            if udp.checksum() != 0 {
                udp.fill_checksum(pseudo);
            }
        }
        L4Kind::Sctp => SctpPacket::new_unchecked(seg).fill_checksum(),
        L4Kind::Icmpv4 => Icmpv4Packet::new_unchecked(seg).fill_checksum(),
        L4Kind::Icmpv6 => Icmpv6Packet::new_unchecked(seg).fill_checksum(pseudo),
        L4Kind::None => {}
    }
    f
}
