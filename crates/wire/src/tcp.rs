//! TCP (RFC 9293) headers.
//!
//! [`TcpPacket`] views a whole segment (header, options, payload): its
//! `check_len` covers the header with its options, and checksums are
//! computed over the whole buffer, so the view must end where the segment
//! does (use [`crate::ipv4::Ipv4Packet::payload`] or the IPv6 equivalent).
//! The flow-key extractor only needs the 20-byte fixed header.

use crate::checksum;
use crate::field::{be16, be32, set_be16, set_be32};
use crate::{Error, Result};

/// Length of the header without options.
pub const MIN_HEADER_LEN: usize = 20;
/// Offset of the checksum field.
pub const CHECKSUM_OFFSET: usize = 16;

/// Flag bits as in the flow key's `tcp_flags` (the low 12 bits of the
/// data-offset/flags word).
pub mod flags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const NS: u16 = 0x100;
    /// Every bit the flow key keeps.
    pub const MASK: u16 = 0x0fff;
}

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ: usize = 4;
    pub const ACK: usize = 8;
    pub const OFF_FLAGS: usize = 12;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
}

/// A read/write view of a TCP segment.
#[derive(Debug, Clone)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        TcpPacket { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok when the buffer holds the header and the options its data offset
    /// declares; a data offset below 5 is [`Error::Malformed`].
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

    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT)
    }

    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT)
    }

    pub fn seq_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::SEQ)
    }

    pub fn ack_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::ACK)
    }

    /// Header length in bytes (data offset × 4), options included.
    pub fn header_len(&self) -> usize {
        (self.buffer.as_ref()[field::OFF_FLAGS] >> 4) as usize * 4
    }

    /// The 12 flag bits ([`flags`]).
    pub fn flags(&self) -> u16 {
        be16(self.buffer.as_ref(), field::OFF_FLAGS) & flags::MASK
    }

    pub fn window_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::WINDOW)
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    pub fn urgent_at(&self) -> u16 {
        be16(self.buffer.as_ref(), field::URGENT)
    }

    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[MIN_HEADER_LEN..self.header_len()]
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }

    /// Whether the checksum is right, given the pseudo-header sum
    /// ([`checksum::pseudo_v4`] / [`checksum::pseudo_v6`]).
    pub fn verify_checksum(&self, pseudo: u16) -> bool {
        checksum::add(pseudo, checksum::sum(self.buffer.as_ref())) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    pub fn set_src_port(&mut self, p: u16) {
        set_be16(self.buffer.as_mut(), field::SRC_PORT, p)
    }

    pub fn set_dst_port(&mut self, p: u16) {
        set_be16(self.buffer.as_mut(), field::DST_PORT, p)
    }

    pub fn set_seq_number(&mut self, v: u32) {
        set_be32(self.buffer.as_mut(), field::SEQ, v)
    }

    pub fn set_ack_number(&mut self, v: u32) {
        set_be32(self.buffer.as_mut(), field::ACK, v)
    }

    /// Sets data offset and flags together.
    pub fn set_header_len_and_flags(&mut self, header_len: usize, flags: u16) {
        let v = (((header_len / 4) as u16 & 0xf) << 12) | (flags & flags::MASK);
        set_be16(self.buffer.as_mut(), field::OFF_FLAGS, v)
    }

    pub fn set_window_len(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::WINDOW, v)
    }

    pub fn set_checksum(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::CHECKSUM, v)
    }

    pub fn set_urgent_at(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::URGENT, v)
    }

    /// Computes the checksum over the whole buffer and the pseudo-header.
    pub fn fill_checksum(&mut self, pseudo: u16) {
        self.set_checksum(0);
        let c = checksum::finish(pseudo, self.buffer.as_ref());
        self.set_checksum(c)
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.buffer.as_mut()[hl..]
    }
}

/// The fields of a TCP header without options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u16,
    pub window: u16,
}

impl TcpRepr {
    /// Parses the fixed header (options are skipped, the checksum is not
    /// checked).
    pub fn parse<T: AsRef<[u8]>>(p: &TcpPacket<T>) -> Result<Self> {
        p.check_len()?;
        Ok(TcpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            seq: p.seq_number(),
            ack: p.ack_number(),
            flags: p.flags(),
            window: p.window_len(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        MIN_HEADER_LEN
    }

    /// Writes a 20-byte header with a zero checksum; call
    /// [`TcpPacket::fill_checksum`] once the payload is in place. Panics if
    /// the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut TcpPacket<T>) {
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_seq_number(self.seq);
        p.set_ack_number(self.ack);
        p.set_header_len_and_flags(MIN_HEADER_LEN, self.flags);
        p.set_window_len(self.window);
        p.set_checksum(0);
        p.set_urgent_at(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const SYN: [u8; 24] = [
        0xc0, 0x00,             // src port 49152
        0x00, 0x50,             // dst port 80
        0x00, 0x00, 0x00, 0x01, // seq 1
        0x00, 0x00, 0x00, 0x00, // ack 0
        0x60, 0x02,             // data offset 6 (24 bytes), SYN
        0xff, 0xff,             // window
        0x00, 0x00,             // checksum
        0x00, 0x00,             // urgent
        0x02, 0x04, 0x05, 0xb4, // option: MSS 1460
    ];

    #[test]
    fn view_and_repr() {
        let mut b = SYN;
        let mut p = TcpPacket::new_checked(&mut b[..]).unwrap();
        assert_eq!(
            (p.src_port(), p.dst_port(), p.header_len(), p.flags()),
            (49152, 80, 24, flags::SYN)
        );
        assert_eq!(p.options(), &[2, 4, 5, 0xb4]);
        let ph = checksum::pseudo_v4([10, 0, 0, 1], [10, 0, 0, 2], 6, 24);
        p.fill_checksum(ph);
        assert!(p.verify_checksum(ph));
        assert!(!p.verify_checksum(ph.wrapping_add(1)));
        let r = TcpRepr::parse(&p).unwrap();
        assert_eq!(
            r,
            TcpRepr {
                src_port: 49152,
                dst_port: 80,
                seq: 1,
                ack: 0,
                flags: flags::SYN,
                window: 0xffff
            }
        );
        let mut out = [0u8; 20];
        r.emit(&mut TcpPacket::new_unchecked(&mut out[..]));
        assert_eq!(out[..12], SYN[..12]);
        assert_eq!(out[12], 0x50);
    }

    #[test]
    fn bad_lengths() {
        assert_eq!(
            TcpPacket::new_checked(&SYN[..23]).unwrap_err(),
            Error::Truncated
        );
        let mut b = SYN;
        b[12] = 0x40;
        assert_eq!(
            TcpPacket::new_checked(&b[..]).unwrap_err(),
            Error::Malformed
        );
    }
}
