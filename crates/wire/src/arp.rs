//! ARP (RFC 826) for Ethernet hardware and IPv4 protocol addresses — the
//! only combination on an Ethernet network; RARP (ethertype 0x8035) shares
//! the format.
//!
//! [`ArpPacket`] views the 28-byte Ethernet/IPv4 packet; its `check_len`
//! requires all 28 bytes so the address accessors cannot panic whatever the
//! length fields say. [`ArpRepr::parse`] also checks that the header
//! declares Ethernet/IPv4.

use crate::eth::{ethertype, Mac};
use crate::field::{array, be16, set_be16};
use crate::{Error, Result};

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = 28;
/// Hardware type Ethernet.
pub const HTYPE_ETHERNET: u16 = 1;

/// Operation codes.
pub mod op {
    pub const REQUEST: u16 = 1;
    pub const REPLY: u16 = 2;
    pub const RARP_REQUEST: u16 = 3;
    pub const RARP_REPLY: u16 = 4;
}

mod field {
    pub const HTYPE: usize = 0;
    pub const PTYPE: usize = 2;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: usize = 6;
    pub const SHA: usize = 8;
    pub const SPA: usize = 14;
    pub const THA: usize = 18;
    pub const TPA: usize = 24;
}

/// A read/write view of an Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        ArpPacket { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok when the buffer holds the 28 bytes of an Ethernet/IPv4 packet.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < PACKET_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn htype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::HTYPE)
    }

    pub fn ptype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PTYPE)
    }

    pub fn hlen(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    pub fn plen(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// Whether the header declares Ethernet (6-byte) hardware and IPv4
    /// (4-byte) protocol addresses — the layout the accessors assume.
    pub fn is_ethernet_ipv4(&self) -> bool {
        self.htype() == HTYPE_ETHERNET
            && self.ptype() == ethertype::IPV4
            && self.hlen() == 6
            && self.plen() == 4
    }

    pub fn op(&self) -> u16 {
        be16(self.buffer.as_ref(), field::OPER)
    }

    /// Sender hardware address.
    pub fn sha(&self) -> Mac {
        array(self.buffer.as_ref(), field::SHA)
    }

    /// Sender protocol address.
    pub fn spa(&self) -> [u8; 4] {
        array(self.buffer.as_ref(), field::SPA)
    }

    /// Target hardware address.
    pub fn tha(&self) -> Mac {
        array(self.buffer.as_ref(), field::THA)
    }

    /// Target protocol address.
    pub fn tpa(&self) -> [u8; 4] {
        array(self.buffer.as_ref(), field::TPA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    /// Writes htype/ptype/hlen/plen for Ethernet/IPv4.
    pub fn set_ethernet_ipv4(&mut self) {
        let b = self.buffer.as_mut();
        set_be16(b, field::HTYPE, HTYPE_ETHERNET);
        set_be16(b, field::PTYPE, ethertype::IPV4);
        b[field::HLEN] = 6;
        b[field::PLEN] = 4;
    }

    pub fn set_op(&mut self, op: u16) {
        set_be16(self.buffer.as_mut(), field::OPER, op)
    }

    pub fn set_sha(&mut self, a: Mac) {
        self.buffer.as_mut()[field::SHA..field::SHA + 6].copy_from_slice(&a)
    }

    pub fn set_spa(&mut self, a: [u8; 4]) {
        self.buffer.as_mut()[field::SPA..field::SPA + 4].copy_from_slice(&a)
    }

    pub fn set_tha(&mut self, a: Mac) {
        self.buffer.as_mut()[field::THA..field::THA + 6].copy_from_slice(&a)
    }

    pub fn set_tpa(&mut self, a: [u8; 4]) {
        self.buffer.as_mut()[field::TPA..field::TPA + 4].copy_from_slice(&a)
    }
}

/// An Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpRepr {
    pub op: u16,
    pub sha: Mac,
    pub spa: [u8; 4],
    pub tha: Mac,
    pub tpa: [u8; 4],
}

impl ArpRepr {
    /// Parses an Ethernet/IPv4 packet; other address formats are
    /// [`Error::Malformed`].
    pub fn parse<T: AsRef<[u8]>>(p: &ArpPacket<T>) -> Result<Self> {
        p.check_len()?;
        if !p.is_ethernet_ipv4() {
            return Err(Error::Malformed);
        }
        Ok(ArpRepr {
            op: p.op(),
            sha: p.sha(),
            spa: p.spa(),
            tha: p.tha(),
            tpa: p.tpa(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        PACKET_LEN
    }

    /// Writes the packet. Panics if the buffer is shorter than
    /// [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut ArpPacket<T>) {
        p.set_ethernet_ipv4();
        p.set_op(self.op);
        p.set_sha(self.sha);
        p.set_spa(self.spa);
        p.set_tha(self.tha);
        p.set_tpa(self.tpa);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const REQUEST: [u8; 28] = [
        0x00, 0x01,                         // htype Ethernet
        0x08, 0x00,                         // ptype IPv4
        0x06, 0x04,                         // hlen, plen
        0x00, 0x01,                         // op request
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // sha
        10, 0, 0, 1,                        // spa
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // tha
        10, 0, 0, 2,                        // tpa
    ];

    #[test]
    fn parse_and_emit_round_trip() {
        let p = ArpPacket::new_checked(&REQUEST[..]).unwrap();
        let r = ArpRepr::parse(&p).unwrap();
        assert_eq!(
            r,
            ArpRepr {
                op: op::REQUEST,
                sha: [2, 0, 0, 0, 0, 1],
                spa: [10, 0, 0, 1],
                tha: [0; 6],
                tpa: [10, 0, 0, 2]
            }
        );
        let mut out = [0u8; 28];
        r.emit(&mut ArpPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, REQUEST);
    }

    #[test]
    fn other_formats_are_rejected() {
        let mut b = REQUEST;
        b[4] = 8;
        assert_eq!(
            ArpRepr::parse(&ArpPacket::new_unchecked(&b[..])),
            Err(Error::Malformed)
        );
        assert_eq!(
            ArpPacket::new_checked(&REQUEST[..27]).unwrap_err(),
            Error::Truncated
        );
    }
}
