//! ICMP for IPv4 (RFC 792): type, code, checksum, the 4-byte
//! rest-of-header (identifier and sequence for echo), data. The checksum
//! covers the whole message and has no pseudo-header.

use crate::checksum;
use crate::field::{be16, be32, set_be16, set_be32};
use crate::{Error, Result};

pub const HEADER_LEN: usize = 8;
/// Offset of the checksum field.
pub const CHECKSUM_OFFSET: usize = 2;

/// Message types vnet names.
pub mod msg_type {
    pub const ECHO_REPLY: u8 = 0;
    pub const DEST_UNREACHABLE: u8 = 3;
    pub const ECHO_REQUEST: u8 = 8;
    pub const TIME_EXCEEDED: u8 = 11;
}

/// A read/write view of an ICMPv4 message.
#[derive(Debug, Clone)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Icmpv4Packet { buffer }
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

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), CHECKSUM_OFFSET)
    }

    /// The 4 bytes after the checksum.
    pub fn rest_of_header(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }

    /// Echo identifier (meaningful for echo request/reply).
    pub fn echo_ident(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }

    /// Echo sequence number.
    pub fn echo_seq(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(self.buffer.as_ref()) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    pub fn set_msg_type(&mut self, t: u8) {
        self.buffer.as_mut()[0] = t
    }

    pub fn set_code(&mut self, c: u8) {
        self.buffer.as_mut()[1] = c
    }

    pub fn set_checksum(&mut self, c: u16) {
        set_be16(self.buffer.as_mut(), CHECKSUM_OFFSET, c)
    }

    pub fn set_rest_of_header(&mut self, v: u32) {
        set_be32(self.buffer.as_mut(), 4, v)
    }

    /// Computes the checksum over the whole buffer.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c)
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// The header of an ICMPv4 message (the data is the caller's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv4Repr {
    pub msg_type: u8,
    pub code: u8,
    /// The 4 bytes after the checksum (echo: identifier << 16 | sequence).
    pub rest: u32,
}

impl Icmpv4Repr {
    pub fn echo_request(ident: u16, seq: u16) -> Self {
        Icmpv4Repr {
            msg_type: msg_type::ECHO_REQUEST,
            code: 0,
            rest: (ident as u32) << 16 | seq as u32,
        }
    }

    pub fn echo_reply(ident: u16, seq: u16) -> Self {
        Icmpv4Repr {
            msg_type: msg_type::ECHO_REPLY,
            code: 0,
            rest: (ident as u32) << 16 | seq as u32,
        }
    }

    pub fn parse<T: AsRef<[u8]>>(p: &Icmpv4Packet<T>) -> Result<Self> {
        p.check_len()?;
        Ok(Icmpv4Repr {
            msg_type: p.msg_type(),
            code: p.code(),
            rest: p.rest_of_header(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header with a zero checksum; call
    /// [`Icmpv4Packet::fill_checksum`] once the data is in place. Panics if
    /// the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Icmpv4Packet<T>) {
        p.set_msg_type(self.msg_type);
        p.set_code(self.code);
        p.set_checksum(0);
        p.set_rest_of_header(self.rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_round_trip() {
        let mut b = [0u8; 12];
        b[8..].copy_from_slice(b"ping");
        let mut p = Icmpv4Packet::new_unchecked(&mut b[..]);
        Icmpv4Repr::echo_request(0x1234, 7).emit(&mut p);
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert_eq!(
            (p.msg_type(), p.code(), p.echo_ident(), p.echo_seq()),
            (8, 0, 0x1234, 7)
        );
        assert_eq!(
            Icmpv4Repr::parse(&p).unwrap(),
            Icmpv4Repr::echo_request(0x1234, 7)
        );
        assert_eq!(
            Icmpv4Packet::new_checked(&b[..7]).unwrap_err(),
            Error::Truncated
        );
    }
}
