//! IPv4 (RFC 791), options included.
//!
//! [`Ipv4Packet`]'s `check_len` covers the header *with its options* (IHL),
//! but not the total length: frames cut short by a capture length, and
//! segmentation-offload frames whose total length is 0, still parse. The
//! payload is therefore bounded by both the buffer and the total length
//! ([`Ipv4Packet::payload`]). [`Ipv4Repr`] holds the fields a builder sets;
//! it emits headers without options.

use std::net::Ipv4Addr;

use crate::checksum;
use crate::field::{array, be16, set_be16};
use crate::{Error, Result};

/// Length of the header without options.
pub const MIN_HEADER_LEN: usize = 20;

/// IP protocol numbers that vnet looks at (also IPv6 next-header values).
pub mod proto {
    pub const HOPOPT: u8 = 0;
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const IPV6_ROUTE: u8 = 43;
    pub const IPV6_FRAG: u8 = 44;
    pub const ESP: u8 = 50;
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const IPV6_NONXT: u8 = 59;
    pub const IPV6_OPTS: u8 = 60;
    pub const SCTP: u8 = 132;
}

mod field {
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLG_OFF: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
}

/// Byte offsets inside the header, for in-place rewrites.
pub mod offset {
    pub const TOS: usize = super::field::TOS;
    pub const TTL: usize = super::field::TTL;
    pub const CHECKSUM: usize = super::field::CHECKSUM;
    pub const SRC: usize = super::field::SRC;
    pub const DST: usize = super::field::DST;
}

const DF: u16 = 0x4000;
const MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// A read/write view of an IPv4 packet.
#[derive(Debug, Clone)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok when the buffer holds the fixed header and the options the IHL
    /// declares; an IHL below 5 is [`Error::Malformed`]. The version and the
    /// total length are not checked.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < MIN_HEADER_LEN {
            Err(Error::Truncated)
        } else if self.header_len() < MIN_HEADER_LEN {
            Err(Error::Malformed)
        } else if self.header_len() > len {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL × 4), options included.
    pub fn header_len(&self) -> usize {
        (self.buffer.as_ref()[field::VER_IHL] & 0x0f) as usize * 4
    }

    /// The whole TOS byte: DSCP << 2 | ECN.
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }

    pub fn dscp(&self) -> u8 {
        self.tos() >> 2
    }

    pub fn ecn(&self) -> u8 {
        self.tos() & 3
    }

    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::IDENT)
    }

    pub fn dont_frag(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & DF != 0
    }

    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & MF != 0
    }

    /// Fragment offset in units of 8 bytes.
    pub fn frag_offset(&self) -> u16 {
        be16(self.buffer.as_ref(), field::FLG_OFF) & OFFSET_MASK
    }

    /// Any fragment: more-fragments set or a non-zero offset.
    pub fn is_fragment(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & (MF | OFFSET_MASK) != 0
    }

    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(self.buffer.as_ref(), field::SRC))
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(self.buffer.as_ref(), field::DST))
    }

    /// The options bytes (empty when IHL is 5).
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[MIN_HEADER_LEN..self.header_len()]
    }

    /// Offset of the end of the packet: the total length when it is
    /// consistent (≥ the header, ≤ the buffer), else the buffer's end.
    pub fn end(&self) -> usize {
        let len = self.buffer.as_ref().len();
        let total = self.total_len() as usize;
        if total >= self.header_len() && total <= len {
            total
        } else {
            len
        }
    }

    /// The payload: after the options, up to [`end`](Self::end) (Ethernet
    /// padding excluded).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..self.end()]
    }

    /// Whether the header checksum is correct.
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(&self.buffer.as_ref()[..self.header_len()]) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Sets version 4 and the header length (a multiple of 4, 20..=60).
    pub fn set_version_and_header_len(&mut self, header_len: usize) {
        self.buffer.as_mut()[field::VER_IHL] = 0x40 | ((header_len / 4) as u8 & 0x0f);
    }

    pub fn set_tos(&mut self, tos: u8) {
        self.buffer.as_mut()[field::TOS] = tos
    }

    pub fn set_total_len(&mut self, len: u16) {
        set_be16(self.buffer.as_mut(), field::LENGTH, len)
    }

    pub fn set_ident(&mut self, id: u16) {
        set_be16(self.buffer.as_mut(), field::IDENT, id)
    }

    /// Sets DF, MF and the fragment offset (units of 8 bytes) at once.
    pub fn set_frag(&mut self, dont_frag: bool, more_frags: bool, offset: u16) {
        let v = if dont_frag { DF } else { 0 }
            | if more_frags { MF } else { 0 }
            | (offset & OFFSET_MASK);
        set_be16(self.buffer.as_mut(), field::FLG_OFF, v)
    }

    pub fn set_ttl(&mut self, ttl: u8) {
        self.buffer.as_mut()[field::TTL] = ttl
    }

    pub fn set_protocol(&mut self, p: u8) {
        self.buffer.as_mut()[field::PROTOCOL] = p
    }

    pub fn set_checksum(&mut self, c: u16) {
        set_be16(self.buffer.as_mut(), field::CHECKSUM, c)
    }

    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC..field::SRC + 4].copy_from_slice(&a.octets())
    }

    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::DST..field::DST + 4].copy_from_slice(&a.octets())
    }

    /// Recomputes the header checksum from scratch.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let hl = self.header_len();
        let c = checksum::checksum(&self.buffer.as_ref()[..hl]);
        self.set_checksum(c)
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (hl, end) = (self.header_len(), self.end());
        &mut self.buffer.as_mut()[hl..end]
    }
}

/// The fields of an IPv4 header without options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub payload_len: usize,
    pub ttl: u8,
    /// DSCP << 2 | ECN.
    pub tos: u8,
    pub ident: u16,
    pub dont_frag: bool,
}

impl Ipv4Repr {
    /// Parses a header (options are skipped, the checksum is not checked);
    /// a version other than 4 is [`Error::Malformed`].
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv4Packet<T>) -> Result<Self> {
        p.check_len()?;
        if p.version() != 4 {
            return Err(Error::Malformed);
        }
        Ok(Ipv4Repr {
            src: p.src_addr(),
            dst: p.dst_addr(),
            protocol: p.protocol(),
            payload_len: p.payload().len(),
            ttl: p.ttl(),
            tos: p.tos(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        MIN_HEADER_LEN
    }

    /// Writes a 20-byte header with its checksum. Panics if the buffer is
    /// shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Ipv4Packet<T>) {
        p.set_version_and_header_len(MIN_HEADER_LEN);
        p.set_tos(self.tos);
        p.set_total_len((MIN_HEADER_LEN + self.payload_len) as u16);
        p.set_ident(self.ident);
        p.set_frag(self.dont_frag, false, 0);
        p.set_ttl(self.ttl);
        p.set_protocol(self.protocol);
        p.set_src_addr(self.src);
        p.set_dst_addr(self.dst);
        p.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const WITH_OPTIONS: [u8; 30] = [
        0x46,                   // version 4, IHL 6 (24 bytes)
        0xb9,                   // DSCP 46 (EF), ECN 1
        0x00, 0x1e,             // total length 30
        0x12, 0x34,             // ident
        0x20, 0x00,             // MF, offset 0
        0x40,                   // TTL 64
        0x11,                   // UDP
        0x00, 0x00,             // checksum (filled by the test)
        192, 168, 1, 1,         // src
        192, 168, 1, 2,         // dst
        0x94, 0x04, 0x00, 0x00, // option: router alert
        1, 2, 3, 4, 5, 6,       // payload
    ];

    #[test]
    fn view_reads_options_and_bounds_payload() {
        let mut b = WITH_OPTIONS.to_vec();
        b.extend_from_slice(&[0xee; 4]); // Ethernet padding
        let mut p = Ipv4Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert_eq!(
            (p.version(), p.header_len(), p.dscp(), p.ecn()),
            (4, 24, 46, 1)
        );
        assert_eq!(
            (
                p.more_frags(),
                p.dont_frag(),
                p.frag_offset(),
                p.is_fragment()
            ),
            (true, false, 0, true)
        );
        assert_eq!(p.options(), &[0x94, 0x04, 0x00, 0x00]);
        assert_eq!(p.payload(), &[1, 2, 3, 4, 5, 6]);
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 168, 1, 1));
        let r = Ipv4Repr::parse(&p).unwrap();
        assert_eq!(r.payload_len, 6);
        assert_eq!(r.protocol, proto::UDP);
    }

    #[test]
    fn check_len_covers_options() {
        assert_eq!(
            Ipv4Packet::new_checked(&WITH_OPTIONS[..23]).unwrap_err(),
            Error::Truncated
        );
        let mut b = WITH_OPTIONS;
        b[0] = 0x44;
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::Malformed
        );
        b[0] = 0x65;
        assert_eq!(
            Ipv4Repr::parse(&Ipv4Packet::new_unchecked(&b[..])).unwrap_err(),
            Error::Malformed
        );
    }

    #[test]
    fn inconsistent_total_length_falls_back_to_buffer() {
        let mut b = WITH_OPTIONS;
        b[2..4].copy_from_slice(&0u16.to_be_bytes()); // TSO: total length 0
        assert_eq!(Ipv4Packet::new_unchecked(&b[..]).payload().len(), 6);
        b[2..4].copy_from_slice(&100u16.to_be_bytes()); // truncated capture
        assert_eq!(Ipv4Packet::new_unchecked(&b[..]).payload().len(), 6);
    }

    #[test]
    fn emit_round_trip() {
        let r = Ipv4Repr {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            protocol: proto::TCP,
            payload_len: 0,
            ttl: 3,
            tos: 0x10,
            ident: 7,
            dont_frag: true,
        };
        let mut b = [0u8; 20];
        let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
        r.emit(&mut p);
        assert!(p.verify_checksum());
        assert_eq!(Ipv4Repr::parse(&p).unwrap(), r);
    }
}
