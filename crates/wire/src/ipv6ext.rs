//! IPv6 extension headers: views of the generic TLV-style headers
//! (hop-by-hop, routing, destination options), the authentication header,
//! the fragment header, and [`walk`], which follows the chain to the
//! upper-layer protocol and classifies it for the flow key (fragment state
//! and the OpenFlow `IPV6_EXTHDR` pseudo-field).

use crate::field::{be16, be32, set_be16, set_be32};
use crate::flow::{
    FRAG_ANY, FRAG_LATER, IEH_AUTH, IEH_DEST, IEH_ESP, IEH_FRAG, IEH_HOP, IEH_NONEXT, IEH_ROUTER,
    IEH_UNREP, IEH_UNSEQ,
};
use crate::ipv4::proto;
use crate::{Error, Result};

/// Length of the fragment header.
pub const FRAG_HEADER_LEN: usize = 8;

/// Length in bytes of the extension header `next_header` that starts
/// `data`, if `next_header` is an extension header vnet walks over
/// (hop-by-hop, routing, destination options, AH, fragment) and its length
/// byte is present.
#[inline]
pub fn header_len(next_header: u8, data: &[u8]) -> Option<usize> {
    match next_header {
        proto::HOPOPT | proto::IPV6_ROUTE | proto::IPV6_OPTS => {
            data.get(1).map(|&l| (l as usize + 1) * 8)
        }
        proto::AH => data.get(1).map(|&l| (l as usize + 2) * 4),
        proto::IPV6_FRAG => Some(FRAG_HEADER_LEN),
        _ => None,
    }
}

/// A view of a hop-by-hop, routing or destination options header: next
/// header, length in 8-byte units not counting the first 8, then data.
#[derive(Debug, Clone)]
pub struct Ipv6ExtHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6ExtHeader<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6ExtHeader { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Ok when the buffer holds the whole header its length byte declares.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < 2 || len < self.header_len() {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// Whole header length in bytes: (length byte + 1) × 8.
    pub fn header_len(&self) -> usize {
        self.buffer
            .as_ref()
            .get(1)
            .map_or(0, |&l| (l as usize + 1) * 8)
    }

    /// Options (or routing data) after the two fixed bytes.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[2..self.header_len()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6ExtHeader<T> {
    pub fn set_next_header(&mut self, nh: u8) {
        self.buffer.as_mut()[0] = nh
    }

    /// Sets the length byte from a header length in bytes (a multiple of
    /// 8, at least 8).
    pub fn set_header_len(&mut self, bytes: usize) {
        self.buffer.as_mut()[1] = (bytes / 8).saturating_sub(1) as u8
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[2..end]
    }
}

/// A view of the fragment header.
#[derive(Debug, Clone)]
pub struct Ipv6FragHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6FragHeader<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6FragHeader { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < FRAG_HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// Fragment offset in units of 8 bytes.
    pub fn frag_offset(&self) -> u16 {
        be16(self.buffer.as_ref(), 2) >> 3
    }

    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), 2) & 1 != 0
    }

    pub fn ident(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6FragHeader<T> {
    /// Writes the whole header (reserved fields zero).
    pub fn set(&mut self, next_header: u8, frag_offset: u16, more_frags: bool, ident: u32) {
        let b = self.buffer.as_mut();
        b[0] = next_header;
        b[1] = 0;
        set_be16(b, 2, (frag_offset << 3) | more_frags as u16);
        set_be32(b, 4, ident);
    }
}

/// The fields of a fragment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6FragRepr {
    pub next_header: u8,
    pub frag_offset: u16,
    pub more_frags: bool,
    pub ident: u32,
}

impl Ipv6FragRepr {
    pub fn parse<T: AsRef<[u8]>>(h: &Ipv6FragHeader<T>) -> Result<Self> {
        h.check_len()?;
        Ok(Ipv6FragRepr {
            next_header: h.next_header(),
            frag_offset: h.frag_offset(),
            more_frags: h.more_frags(),
            ident: h.ident(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        FRAG_HEADER_LEN
    }

    /// Panics if the buffer is shorter than 8 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, h: &mut Ipv6FragHeader<T>) {
        h.set(
            self.next_header,
            self.frag_offset,
            self.more_frags,
            self.ident,
        )
    }
}

/// Where [`walk`] ended and what it saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtWalk {
    /// The flow key's `nw_proto`: the upper-layer protocol; 44 (fragment)
    /// for a non-first fragment, as Open vSwitch does; the extension
    /// header's own number when that header is cut short; 50 for ESP and
    /// 59 for no-next-header.
    pub proto: u8,
    /// Offset (in the walked data) of the upper-layer header, when the walk
    /// reached one that may be parsed (not for a later fragment, ESP, no
    /// next header, or a truncated extension header).
    pub upper: Option<usize>,
    /// [`FRAG_ANY`] | [`FRAG_LATER`] bits. Atomic fragments (offset 0, M
    /// clear, RFC 6946) are not fragments.
    pub frag: u8,
    /// `IEH_*` bits: OpenFlow's `IPV6_EXTHDR` pseudo-field.
    pub exthdr: u16,
    /// A routing header with segments left > 0 was seen: the transport
    /// pseudo-header then uses the routing header's final address, not the
    /// IPv6 destination.
    pub routed: bool,
}

/// Walks the extension headers of an IPv6 payload `data` (what follows the
/// fixed header) whose first header is `next_header`. Never panics; stops
/// at the first header that is not an extension header or does not fit.
///
/// `IEH_UNSEQ` is set when a header breaks RFC 8200 §4.1's order (hop-by-hop
/// first; destination options, routing, fragment, AH, ESP, destination
/// options); `IEH_UNREP` when a header other than destination options
/// repeats, or destination options appear more than twice.
pub fn walk(next_header: u8, data: &[u8]) -> ExtWalk {
    let mut w = ExtWalk {
        proto: next_header,
        upper: None,
        frag: 0,
        exthdr: 0,
        routed: false,
    };
    let mut nh = next_header;
    let mut off = 0usize;
    let mut last_rank = 0u8;
    let mut dest_seen = 0u8;
    loop {
        let (bit, rank) = match nh {
            proto::HOPOPT => (IEH_HOP, if off == 0 { 1 } else { 0 }),
            proto::IPV6_OPTS => (IEH_DEST, if last_rank < 3 { 2 } else { 7 }),
            proto::IPV6_ROUTE => (IEH_ROUTER, 3),
            proto::IPV6_FRAG => (IEH_FRAG, 4),
            proto::AH => (IEH_AUTH, 5),
            proto::ESP => (IEH_ESP, 6),
            proto::IPV6_NONXT => {
                w.exthdr |= IEH_NONEXT;
                w.proto = nh;
                return w;
            }
            _ => {
                w.proto = nh;
                w.upper = Some(off);
                return w;
            }
        };
        if nh == proto::IPV6_OPTS {
            dest_seen += 1;
            if dest_seen > 2 {
                w.exthdr |= IEH_UNREP;
            }
        } else if w.exthdr & bit != 0 {
            w.exthdr |= IEH_UNREP;
        }
        if rank < last_rank || rank == 0 {
            w.exthdr |= IEH_UNSEQ;
        }
        last_rank = last_rank.max(rank);
        w.exthdr |= bit;
        w.proto = nh;
        if nh == proto::ESP {
            return w; // encrypted from here on
        }
        let rest = &data[off.min(data.len())..];
        let Some(len) = header_len(nh, rest).filter(|&l| l <= rest.len()) else {
            return w; // truncated: nw_proto stays the extension header's number
        };
        if nh == proto::IPV6_FRAG {
            let offlg = be16(rest, 2);
            if offlg != 0 {
                w.frag |= FRAG_ANY;
                if offlg & 0xfff8 != 0 {
                    w.frag |= FRAG_LATER;
                    w.proto = proto::IPV6_FRAG;
                    return w;
                }
            }
        } else if nh == proto::IPV6_ROUTE && rest[3] != 0 {
            w.routed = true; // len >= 8, so rest[3] (segments left) exists
        }
        nh = rest[0];
        off += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_to_upper_layer() {
        #[rustfmt::skip]
        let d = [
            60, 0, 1, 4, 0, 0, 0, 0,            // hop-by-hop, next dest-opts, PadN
            44, 0, 1, 4, 0, 0, 0, 0,            // dest-opts, next fragment
            17, 0, 0x00, 0x01, 0, 0, 0, 42,     // fragment offset 0, M=1, next UDP
            0x12, 0x34, 0x00, 0x35, 0, 8, 0, 0, // UDP
        ];
        let w = walk(proto::HOPOPT, &d);
        assert_eq!(
            w,
            ExtWalk {
                proto: 17,
                upper: Some(24),
                frag: FRAG_ANY,
                exthdr: IEH_HOP | IEH_DEST | IEH_FRAG,
                routed: false
            }
        );
    }

    #[test]
    fn later_fragment_stops_with_proto_44() {
        let d = [6, 0, 0x00, 0x08, 0, 0, 0, 1, 0xde, 0xad];
        let w = walk(proto::IPV6_FRAG, &d);
        assert_eq!(
            (w.proto, w.upper, w.frag),
            (44, None, FRAG_ANY | FRAG_LATER)
        );
    }

    #[test]
    fn atomic_fragment_is_not_a_fragment() {
        let d = [58, 0, 0, 0, 0, 0, 0, 1, 128, 0, 0, 0];
        let w = walk(proto::IPV6_FRAG, &d);
        assert_eq!(
            (w.proto, w.upper, w.frag, w.exthdr),
            (58, Some(8), 0, IEH_FRAG)
        );
    }

    #[test]
    fn order_and_repeats_are_flagged() {
        // routing then hop-by-hop: hop-by-hop not first.
        let d = [0, 0, 0, 0, 0, 0, 0, 0, 59, 0, 1, 4, 0, 0, 0, 0];
        let w = walk(proto::IPV6_ROUTE, &d);
        assert_eq!(w.exthdr, IEH_ROUTER | IEH_HOP | IEH_UNSEQ | IEH_NONEXT);
        assert_eq!(w.proto, 59);
        // two routing headers: repeat; segments left 1: routed.
        let d = [43, 0, 0, 1, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0];
        let w = walk(proto::IPV6_ROUTE, &d);
        assert_eq!(w.exthdr, IEH_ROUTER | IEH_UNREP);
        assert!(w.routed);
        assert_eq!(w.upper, Some(16));
    }

    #[test]
    fn truncated_headers_stop_the_walk() {
        let w = walk(proto::HOPOPT, &[6, 1, 0, 0, 0, 0, 0, 0]); // declares 16 bytes
        assert_eq!((w.proto, w.upper, w.exthdr), (0, None, IEH_HOP));
        let w = walk(proto::IPV6_FRAG, &[6, 0, 0]);
        assert_eq!((w.proto, w.upper), (44, None));
        let w = walk(proto::ESP, &[1, 2, 3]);
        assert_eq!((w.proto, w.upper, w.exthdr), (50, None, IEH_ESP));
        let w = walk(proto::AH, &[6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2]); // (1+2)*4 = 12
        assert_eq!((w.proto, w.upper, w.exthdr), (6, Some(12), IEH_AUTH));
        let w = walk(proto::IPV6_OPTS, &[]);
        assert_eq!((w.proto, w.upper), (60, None));
    }

    #[test]
    fn views() {
        let mut b = [17, 0, 0, 0, 0, 0, 0, 0];
        Ipv6FragHeader::new_unchecked(&mut b[..]).set(6, 185, true, 0xdead_beef);
        let r = Ipv6FragRepr::parse(&Ipv6FragHeader::new_checked(&b[..]).unwrap()).unwrap();
        assert_eq!(
            r,
            Ipv6FragRepr {
                next_header: 6,
                frag_offset: 185,
                more_frags: true,
                ident: 0xdead_beef
            }
        );
        let e = Ipv6ExtHeader::new_checked(&[59u8, 0, 1, 4, 0, 0, 0, 0][..]).unwrap();
        assert_eq!(
            (e.next_header(), e.header_len(), e.data().len()),
            (59, 8, 6)
        );
        assert!(Ipv6ExtHeader::new_checked(&[59u8, 1, 0, 0, 0, 0, 0, 0][..]).is_err());
    }
}
