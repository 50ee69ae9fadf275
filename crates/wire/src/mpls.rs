//! MPLS label stack entries (RFC 3032) and the 802.1ah PBB I-TAG — the
//! carrier encapsulations whose outermost fields the flow key holds.
//!
//! An MPLS label stack entry is 32 bits: label (20) | traffic class (3) |
//! bottom of stack (1) | TTL (8). A PBB I-TAG (after ethertype 0x88e7) is
//! PCP (3) | DEI (1) | UCA (1) | reserved (3) | I-SID (24), followed by the
//! customer destination and source MAC addresses.

use crate::field::{be32, set_be32};
use crate::{Error, Result};

/// Length of one label stack entry.
pub const LSE_LEN: usize = 4;
/// Length of the PBB I-TAG TCI (without the customer addresses).
pub const ITAG_LEN: usize = 4;
/// Mask of the PBB I-SID.
pub const ISID_MASK: u32 = 0x00ff_ffff;

/// One MPLS label stack entry, as the 32-bit word on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct MplsLse(pub u32);

impl MplsLse {
    /// Builds an entry; out-of-range bits of each field are dropped.
    pub const fn new(label: u32, tc: u8, bos: bool, ttl: u8) -> Self {
        MplsLse(
            (label & 0xf_ffff) << 12 | ((tc as u32 & 7) << 9) | ((bos as u32) << 8) | ttl as u32,
        )
    }

    /// Reads the entry at the start of `data`.
    pub fn parse(data: &[u8]) -> Result<Self> {
        if data.len() < LSE_LEN {
            return Err(Error::Truncated);
        }
        Ok(MplsLse(be32(data, 0)))
    }

    /// Writes the entry at the start of `data`. Panics if shorter than 4.
    pub fn emit(&self, data: &mut [u8]) {
        set_be32(data, 0, self.0)
    }

    pub const fn label(&self) -> u32 {
        self.0 >> 12
    }

    pub const fn tc(&self) -> u8 {
        ((self.0 >> 9) & 7) as u8
    }

    pub const fn bos(&self) -> bool {
        self.0 & 0x100 != 0
    }

    pub const fn ttl(&self) -> u8 {
        self.0 as u8
    }

    pub const fn with_label(self, label: u32) -> Self {
        MplsLse(self.0 & 0xfff | (label & 0xf_ffff) << 12)
    }

    pub const fn with_tc(self, tc: u8) -> Self {
        MplsLse(self.0 & !(7 << 9) | ((tc as u32 & 7) << 9))
    }

    pub const fn with_ttl(self, ttl: u8) -> Self {
        MplsLse(self.0 & !0xff | ttl as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        // label 16, TC 5, bottom of stack, TTL 64
        let b = [0x00, 0x01, 0x0b, 0x40];
        let e = MplsLse::parse(&b).unwrap();
        assert_eq!((e.label(), e.tc(), e.bos(), e.ttl()), (16, 5, true, 64));
        assert_eq!(e, MplsLse::new(16, 5, true, 64));
        let e2 = e.with_label(0xfffff).with_tc(0).with_ttl(1);
        assert_eq!(
            (e2.label(), e2.tc(), e2.bos(), e2.ttl()),
            (0xfffff, 0, true, 1)
        );
        let mut out = [0u8; 4];
        e.emit(&mut out);
        assert_eq!(out, b);
        assert_eq!(MplsLse::parse(&b[..3]), Err(Error::Truncated));
    }
}
