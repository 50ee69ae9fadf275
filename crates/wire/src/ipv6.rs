//! IPv6 fixed header (RFC 8200). Extension headers are in
//! [`crate::ipv6ext`].
//!
//! Like IPv4, [`Ipv6Packet::check_len`] covers the 40-byte header only; the
//! payload is bounded by the payload length when it is consistent, and by
//! the buffer otherwise (payload length 0 is a jumbogram or a BIG TCP
//! segmentation-offload frame).

use std::net::Ipv6Addr;

use crate::field::{array, be16, be32, set_be16, set_be32};
use crate::{Error, Result};

pub const HEADER_LEN: usize = 40;

/// Largest flow label.
pub const FLOW_LABEL_MASK: u32 = 0x000f_ffff;

mod field {
    pub const VER_TC_FL: usize = 0;
    pub const LENGTH: usize = 4;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: usize = 8;
    pub const DST: usize = 24;
}

/// Byte offsets inside the header, for in-place rewrites.
pub mod offset {
    pub const HOP_LIMIT: usize = super::field::HOP_LIMIT;
    pub const SRC: usize = super::field::SRC;
    pub const DST: usize = super::field::DST;
}

/// A read/write view of an IPv6 packet.
#[derive(Debug, Clone)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok when the buffer holds the 40-byte header. The version and the
    /// payload length are not checked.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn word0(&self) -> u32 {
        be32(self.buffer.as_ref(), field::VER_TC_FL)
    }

    pub fn version(&self) -> u8 {
        (self.word0() >> 28) as u8
    }

    /// Traffic class: DSCP << 2 | ECN.
    pub fn traffic_class(&self) -> u8 {
        (self.word0() >> 20) as u8
    }

    pub fn dscp(&self) -> u8 {
        self.traffic_class() >> 2
    }

    pub fn ecn(&self) -> u8 {
        self.traffic_class() & 3
    }

    pub fn flow_label(&self) -> u32 {
        self.word0() & FLOW_LABEL_MASK
    }

    pub fn payload_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NXT_HDR]
    }

    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array::<16>(self.buffer.as_ref(), field::SRC))
    }

    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array::<16>(self.buffer.as_ref(), field::DST))
    }

    /// Offset of the end of the packet: 40 + payload length when that is
    /// non-zero and within the buffer, else the buffer's end.
    pub fn end(&self) -> usize {
        let len = self.buffer.as_ref().len();
        let total = HEADER_LEN + self.payload_len() as usize;
        if self.payload_len() != 0 && total <= len {
            total
        } else {
            len
        }
    }

    /// Everything after the fixed header (extension headers included), up
    /// to [`end`](Self::end).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.end()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    fn set_word0(&mut self, w: u32) {
        set_be32(self.buffer.as_mut(), field::VER_TC_FL, w)
    }

    pub fn set_version(&mut self, v: u8) {
        let w = self.word0() & 0x0fff_ffff | ((v as u32 & 0xf) << 28);
        self.set_word0(w)
    }

    pub fn set_traffic_class(&mut self, tc: u8) {
        let w = self.word0() & 0xf00f_ffff | ((tc as u32) << 20);
        self.set_word0(w)
    }

    /// Sets the 20-bit flow label; higher bits are ignored.
    pub fn set_flow_label(&mut self, fl: u32) {
        let w = self.word0() & !FLOW_LABEL_MASK | (fl & FLOW_LABEL_MASK);
        self.set_word0(w)
    }

    pub fn set_payload_len(&mut self, len: u16) {
        set_be16(self.buffer.as_mut(), field::LENGTH, len)
    }

    pub fn set_next_header(&mut self, nh: u8) {
        self.buffer.as_mut()[field::NXT_HDR] = nh
    }

    pub fn set_hop_limit(&mut self, h: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = h
    }

    pub fn set_src_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC..field::SRC + 16].copy_from_slice(&a.octets())
    }

    pub fn set_dst_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::DST..field::DST + 16].copy_from_slice(&a.octets())
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = self.end();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// The fields of an IPv6 fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Repr {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub next_header: u8,
    pub payload_len: usize,
    pub hop_limit: u8,
    pub traffic_class: u8,
    pub flow_label: u32,
}

impl Ipv6Repr {
    /// Parses the fixed header; a version other than 6 is
    /// [`Error::Malformed`].
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv6Packet<T>) -> Result<Self> {
        p.check_len()?;
        if p.version() != 6 {
            return Err(Error::Malformed);
        }
        Ok(Ipv6Repr {
            src: p.src_addr(),
            dst: p.dst_addr(),
            next_header: p.next_header(),
            payload_len: p.payload().len(),
            hop_limit: p.hop_limit(),
            traffic_class: p.traffic_class(),
            flow_label: p.flow_label(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the fixed header. Panics if the buffer is shorter than
    /// [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Ipv6Packet<T>) {
        p.set_word0(0x6000_0000);
        p.set_traffic_class(self.traffic_class);
        p.set_flow_label(self.flow_label);
        p.set_payload_len(self.payload_len as u16);
        p.set_next_header(self.next_header);
        p.set_hop_limit(self.hop_limit);
        p.set_src_addr(self.src);
        p.set_dst_addr(self.dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const HEADER: [u8; 44] = [
        0x6b, 0x81, 0x23, 0x45, // version 6, TC 0xb8 (DSCP 46, ECN 0), flow label 0x12345
        0x00, 0x04,             // payload length 4
        0x11,                   // next header UDP
        0x40,                   // hop limit 64
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // src 2001:db8::1
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // dst 2001:db8::2
        1, 2, 3, 4,             // payload
    ];

    #[test]
    fn parse_and_emit_round_trip() {
        let p = Ipv6Packet::new_checked(&HEADER[..]).unwrap();
        let r = Ipv6Repr::parse(&p).unwrap();
        assert_eq!(
            r,
            Ipv6Repr {
                src: "2001:db8::1".parse().unwrap(),
                dst: "2001:db8::2".parse().unwrap(),
                next_header: 17,
                payload_len: 4,
                hop_limit: 64,
                traffic_class: 0xb8,
                flow_label: 0x12345,
            }
        );
        assert_eq!((p.dscp(), p.ecn()), (46, 0));
        let mut out = [0u8; 44];
        out[40..].copy_from_slice(&[1, 2, 3, 4]);
        r.emit(&mut Ipv6Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, HEADER);
    }

    #[test]
    fn setters_touch_only_their_bits() {
        let mut b = HEADER;
        let mut p = Ipv6Packet::new_unchecked(&mut b[..]);
        p.set_flow_label(0xfffff);
        p.set_traffic_class(0x03);
        assert_eq!(
            (p.version(), p.traffic_class(), p.flow_label()),
            (6, 0x03, 0xfffff)
        );
        assert_eq!(
            Ipv6Packet::new_checked(&HEADER[..39]).unwrap_err(),
            Error::Truncated
        );
    }
}
