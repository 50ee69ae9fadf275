//! 802.1Q (C-TAG, TPID 0x8100) and 802.1ad (S-TAG, TPID 0x88a8) VLAN tags.
//!
//! On the wire a tag is the TPID (where an ethertype would be) followed by
//! the TCI and the next ethertype. [`VlanTag`] views the four bytes *after*
//! the TPID — TCI and inner ethertype — so a frame's first tag is at offset
//! 14 and the TPID that announces it at offset 12.
//!
//! TCI layout: PCP (3 bits) | DEI (1 bit) | VID (12 bits). Note that the
//! flow key's `vlan_tci` reuses the DEI position as "tag present" (see
//! [`crate::flow`]); the helpers here deal with the wire TCI.

use crate::eth::ethertype;
use crate::field::{be16, set_be16};
use crate::{Error, Result};

/// Bytes after the TPID: TCI and inner ethertype.
pub const HEADER_LEN: usize = 4;
/// Bytes a tag adds to a frame (TPID + TCI).
pub const TAG_LEN: usize = 4;

pub const PCP_SHIFT: u16 = 13;
pub const DEI: u16 = 0x1000;
pub const VID_MASK: u16 = 0x0fff;

/// Whether `tpid` announces a VLAN tag that vnet parses (0x8100, 0x88a8).
#[inline]
pub fn is_tpid(tpid: u16) -> bool {
    tpid == ethertype::VLAN || tpid == ethertype::QINQ
}

/// A read/write view of a VLAN tag's TCI and inner ethertype.
#[derive(Debug, Clone)]
pub struct VlanTag<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> VlanTag<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        VlanTag { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self> {
        let t = Self::new_unchecked(buffer);
        t.check_len()?;
        Ok(t)
    }

    /// Ok when the buffer holds TCI and inner ethertype.
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

    pub fn tci(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }

    pub fn pcp(&self) -> u8 {
        (self.tci() >> PCP_SHIFT) as u8
    }

    pub fn dei(&self) -> bool {
        self.tci() & DEI != 0
    }

    pub fn vid(&self) -> u16 {
        self.tci() & VID_MASK
    }

    /// The ethertype (or next TPID) that follows the tag.
    pub fn ethertype(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> VlanTag<T> {
    pub fn set_tci(&mut self, tci: u16) {
        set_be16(self.buffer.as_mut(), 0, tci)
    }

    /// Sets the 3-bit priority; higher bits of `pcp` are ignored.
    pub fn set_pcp(&mut self, pcp: u8) {
        let tci = self.tci() & !(7 << PCP_SHIFT) | ((pcp as u16 & 7) << PCP_SHIFT);
        self.set_tci(tci)
    }

    /// Sets the 12-bit VLAN ID; higher bits of `vid` are ignored.
    pub fn set_vid(&mut self, vid: u16) {
        let tci = self.tci() & !VID_MASK | (vid & VID_MASK);
        self.set_tci(tci)
    }

    pub fn set_ethertype(&mut self, t: u16) {
        set_be16(self.buffer.as_mut(), 2, t)
    }
}

/// The fields of a VLAN tag (the TPID belongs to the enclosing header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VlanRepr {
    pub pcp: u8,
    pub dei: bool,
    pub vid: u16,
    pub ethertype: u16,
}

impl VlanRepr {
    pub fn parse<T: AsRef<[u8]>>(tag: &VlanTag<T>) -> Result<Self> {
        tag.check_len()?;
        Ok(VlanRepr {
            pcp: tag.pcp(),
            dei: tag.dei(),
            vid: tag.vid(),
            ethertype: tag.ethertype(),
        })
    }

    /// The wire TCI.
    pub fn tci(&self) -> u16 {
        ((self.pcp as u16 & 7) << PCP_SHIFT)
            | if self.dei { DEI } else { 0 }
            | (self.vid & VID_MASK)
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes TCI and ethertype. Panics if the buffer is shorter than
    /// [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, tag: &mut VlanTag<T>) {
        tag.set_tci(self.tci());
        tag.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_setters() {
        // PCP 5, DEI 1, VID 0x123; inner ethertype IPv6.
        let mut b = [0xb1, 0x23, 0x86, 0xdd];
        let mut t = VlanTag::new_checked(&mut b[..]).unwrap();
        assert_eq!(
            (t.pcp(), t.dei(), t.vid(), t.ethertype()),
            (5, true, 0x123, 0x86dd)
        );
        t.set_vid(0xfff);
        t.set_pcp(2);
        assert_eq!(t.tci(), 0x5fff);
        let r = VlanRepr::parse(&t).unwrap();
        assert_eq!(
            r,
            VlanRepr {
                pcp: 2,
                dei: true,
                vid: 0xfff,
                ethertype: 0x86dd
            }
        );
        let mut out = [0u8; 4];
        r.emit(&mut VlanTag::new_unchecked(&mut out[..]));
        assert_eq!(out, b);
        assert!(VlanTag::new_checked(&b[..3]).is_err());
        assert!(is_tpid(0x8100) && is_tpid(0x88a8) && !is_tpid(0x9100));
    }
}
