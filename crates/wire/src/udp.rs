//! UDP (RFC 768) headers.
//!
//! [`UdpPacket`] views a datagram; its payload is bounded by the length
//! field when that is consistent. A zero checksum means "none" over IPv4
//! and is kept zero by every rewrite; a computed checksum of zero is sent
//! as 0xffff.

use crate::checksum;
use crate::field::{be16, set_be16};
use crate::{Error, Result};

pub const HEADER_LEN: usize = 8;
/// Offset of the checksum field.
pub const CHECKSUM_OFFSET: usize = 6;

/// A read/write view of a UDP datagram.
#[derive(Debug, Clone)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        UdpPacket { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok when the buffer holds the 8-byte header.
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

    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }

    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }

    /// The length field (header + payload).
    pub fn len(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }

    pub fn is_empty(&self) -> bool {
        self.len() as usize <= HEADER_LEN
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), CHECKSUM_OFFSET)
    }

    fn end(&self) -> usize {
        let len = self.buffer.as_ref().len();
        let l = self.len() as usize;
        if (HEADER_LEN..=len).contains(&l) {
            l
        } else {
            len
        }
    }

    /// The payload, up to the length field when it is consistent.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.end()]
    }

    /// Whether the checksum is right for the pseudo-header sum; a zero
    /// checksum ("none") is accepted.
    pub fn verify_checksum(&self, pseudo: u16) -> bool {
        self.checksum() == 0
            || checksum::add(pseudo, checksum::sum(&self.buffer.as_ref()[..self.end()])) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    pub fn set_src_port(&mut self, p: u16) {
        set_be16(self.buffer.as_mut(), 0, p)
    }

    pub fn set_dst_port(&mut self, p: u16) {
        set_be16(self.buffer.as_mut(), 2, p)
    }

    pub fn set_len(&mut self, l: u16) {
        set_be16(self.buffer.as_mut(), 4, l)
    }

    pub fn set_checksum(&mut self, c: u16) {
        set_be16(self.buffer.as_mut(), CHECKSUM_OFFSET, c)
    }

    /// Computes the checksum over the datagram (up to the length field)
    /// and the pseudo-header; 0 is written as 0xffff.
    pub fn fill_checksum(&mut self, pseudo: u16) {
        self.set_checksum(0);
        let end = self.end();
        let c = checksum::finish(pseudo, &self.buffer.as_ref()[..end]);
        self.set_checksum(if c == 0 { 0xffff } else { c })
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = self.end();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// The fields of a UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload_len: usize,
}

impl UdpRepr {
    pub fn parse<T: AsRef<[u8]>>(p: &UdpPacket<T>) -> Result<Self> {
        p.check_len()?;
        Ok(UdpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            payload_len: p.payload().len(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header with a zero checksum; call
    /// [`UdpPacket::fill_checksum`] once the payload is in place. Panics if
    /// the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut UdpPacket<T>) {
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_len((HEADER_LEN + self.payload_len) as u16);
        p.set_checksum(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_and_repr() {
        #[rustfmt::skip]
        let mut b = [
            0x04, 0xd2, // src port 1234
            0x00, 0x35, // dst port 53
            0x00, 0x0a, // length 10
            0x00, 0x00, // checksum
            0xab, 0xcd, // payload
            0x00, 0x00, // Ethernet padding, outside the datagram
        ];
        let mut p = UdpPacket::new_checked(&mut b[..]).unwrap();
        assert_eq!(p.payload(), &[0xab, 0xcd]);
        assert!(p.verify_checksum(0)); // zero: no checksum
        let ph = checksum::pseudo_v4([1, 1, 1, 1], [2, 2, 2, 2], 17, 10);
        p.fill_checksum(ph);
        assert!(p.verify_checksum(ph));
        let r = UdpRepr::parse(&p).unwrap();
        assert_eq!(
            r,
            UdpRepr {
                src_port: 1234,
                dst_port: 53,
                payload_len: 2
            }
        );
        assert_eq!(
            UdpPacket::new_checked(&b[..7]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn zero_checksum_is_sent_as_ffff() {
        // Find a payload word that makes the computed checksum 0.
        let ph = checksum::pseudo_v4([1, 1, 1, 1], [2, 2, 2, 2], 17, 10);
        let mut b = [0x04, 0xd2, 0x00, 0x35, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00];
        let c = checksum::finish(ph, &b);
        b[8..10].copy_from_slice(&c.to_be_bytes()); // now the sum is 0xffff
        let mut p = UdpPacket::new_unchecked(&mut b[..]);
        p.fill_checksum(ph);
        assert_eq!(p.checksum(), 0xffff);
        assert!(p.verify_checksum(ph));
    }
}
