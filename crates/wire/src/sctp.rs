//! SCTP (RFC 9260) common header: ports, verification tag, CRC32c.
//!
//! The checksum is CRC32c over the whole packet with the checksum field
//! zeroed, stored least-significant byte first (RFC 9260 appendix A, Linux
//! `sctp_compute_cksum`). There is no pseudo-header, so address rewrites
//! leave it alone; port rewrites recompute it over the whole packet.

use crate::checksum;
use crate::field::{be16, be32, set_be16, set_be32};
use crate::{Error, Result};

pub const HEADER_LEN: usize = 12;
/// Offset of the checksum field.
pub const CHECKSUM_OFFSET: usize = 8;

/// A read/write view of an SCTP packet (common header and chunks).
#[derive(Debug, Clone)]
pub struct SctpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

/// CRC32c of an SCTP packet as if its checksum field were zero.
pub fn compute_crc(packet: &[u8]) -> u32 {
    if packet.len() < HEADER_LEN {
        return checksum::crc32c(packet);
    }
    let c = checksum::crc32c(&packet[..CHECKSUM_OFFSET]);
    let c = checksum::crc32c_append(c, &[0; 4]);
    checksum::crc32c_append(c, &packet[HEADER_LEN..])
}

impl<T: AsRef<[u8]>> SctpPacket<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        SctpPacket { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok when the buffer holds the 12-byte common header.
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

    pub fn verification_tag(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }

    /// The CRC32c as a number (the field is stored little-endian).
    pub fn checksum(&self) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_le_bytes([b[8], b[9], b[10], b[11]])
    }

    /// The chunks.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    pub fn verify_checksum(&self) -> bool {
        compute_crc(self.buffer.as_ref()) == self.checksum()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> SctpPacket<T> {
    pub fn set_src_port(&mut self, p: u16) {
        set_be16(self.buffer.as_mut(), 0, p)
    }

    pub fn set_dst_port(&mut self, p: u16) {
        set_be16(self.buffer.as_mut(), 2, p)
    }

    pub fn set_verification_tag(&mut self, v: u32) {
        set_be32(self.buffer.as_mut(), 4, v)
    }

    pub fn set_checksum(&mut self, crc: u32) {
        self.buffer.as_mut()[8..12].copy_from_slice(&crc.to_le_bytes())
    }

    /// Computes the CRC32c over the whole buffer.
    pub fn fill_checksum(&mut self) {
        let c = compute_crc(self.buffer.as_ref());
        self.set_checksum(c)
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// The fields of an SCTP common header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SctpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub verification_tag: u32,
}

impl SctpRepr {
    pub fn parse<T: AsRef<[u8]>>(p: &SctpPacket<T>) -> Result<Self> {
        p.check_len()?;
        Ok(SctpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            verification_tag: p.verification_tag(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header with a zero checksum; call
    /// [`SctpPacket::fill_checksum`] once the chunks are in place. Panics if
    /// the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut SctpPacket<T>) {
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_verification_tag(self.verification_tag);
        p.set_checksum(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_is_stored_little_endian() {
        #[rustfmt::skip]
        let mut b = [
            0x0b, 0x59,             // src port 2905
            0x0b, 0x59,             // dst port 2905
            0x00, 0x00, 0x00, 0x00, // verification tag 0 (INIT)
            0x00, 0x00, 0x00, 0x00, // checksum
            0x01, 0x00, 0x00, 0x04, // chunk: INIT header, length 4 (truncated body)
        ];
        let mut p = SctpPacket::new_checked(&mut b[..]).unwrap();
        p.fill_checksum();
        assert!(p.verify_checksum());
        let mut zeroed = b;
        zeroed[8..12].fill(0);
        assert_eq!(b[8..12], checksum::crc32c(&zeroed).to_le_bytes());
        let r = SctpRepr::parse(&SctpPacket::new_unchecked(&b[..])).unwrap();
        assert_eq!(
            r,
            SctpRepr {
                src_port: 2905,
                dst_port: 2905,
                verification_tag: 0
            }
        );
    }
}
