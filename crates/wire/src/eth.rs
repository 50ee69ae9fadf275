//! Ethernet II frames: destination, source, ethertype.
//!
//! [`EthernetFrame`] is the zero-copy view, [`EthernetRepr`] the parsed
//! form. 802.1Q/802.1ad tags are in [`crate::vlan`]; frames with an 802.3
//! length instead of an ethertype are classified by [`crate::extract()`].

use crate::field::{array, be16, set_be16};
use crate::{Error, Result};

/// A MAC address, as the flow key stores it.
pub type Mac = [u8; 6];

/// Length of the Ethernet II header.
pub const HEADER_LEN: usize = 14;

/// `dl_type` of an 802.3 frame without a SNAP header (OpenFlow's
/// `OFP_DL_TYPE_NOT_ETH_TYPE`).
pub const NOT_ETH_TYPE: u16 = 0x05ff;

/// Values of the ethertype field that vnet understands.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const RARP: u16 = 0x8035;
    /// 802.1Q customer VLAN tag (C-TAG).
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service VLAN tag (S-TAG, "QinQ").
    pub const QINQ: u16 = 0x88a8;
    pub const IPV6: u16 = 0x86dd;
    pub const MPLS: u16 = 0x8847;
    pub const MPLS_MCAST: u16 = 0x8848;
    /// 802.1ah provider backbone bridging I-TAG.
    pub const PBB: u16 = 0x88e7;
    /// Values below this are 802.3 lengths, not ethertypes.
    pub const MIN: u16 = 0x0600;
}

mod field {
    pub const DST: usize = 0;
    pub const SRC: usize = 6;
    pub const ETHERTYPE: usize = 12;
}

/// A read/write view of an Ethernet II frame.
#[derive(Debug, Clone)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Self {
        EthernetFrame { buffer }
    }

    /// Wraps a buffer and checks it holds the whole header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let f = Self::new_unchecked(buffer);
        f.check_len()?;
        Ok(f)
    }

    /// Ok when the buffer holds the 14-byte header.
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

    pub fn dst(&self) -> Mac {
        array(self.buffer.as_ref(), field::DST)
    }

    pub fn src(&self) -> Mac {
        array(self.buffer.as_ref(), field::SRC)
    }

    /// The ethertype, or the TPID of the first VLAN tag.
    pub fn ethertype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ETHERTYPE)
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    pub fn set_dst(&mut self, mac: Mac) {
        self.buffer.as_mut()[field::DST..field::DST + 6].copy_from_slice(&mac);
    }

    pub fn set_src(&mut self, mac: Mac) {
        self.buffer.as_mut()[field::SRC..field::SRC + 6].copy_from_slice(&mac);
    }

    pub fn set_ethertype(&mut self, t: u16) {
        set_be16(self.buffer.as_mut(), field::ETHERTYPE, t)
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// The fields of an Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetRepr {
    pub src: Mac,
    pub dst: Mac,
    pub ethertype: u16,
}

impl EthernetRepr {
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<Self> {
        frame.check_len()?;
        Ok(EthernetRepr {
            src: frame.src(),
            dst: frame.dst(),
            ethertype: frame.ethertype(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header. Panics if the buffer is shorter than
    /// [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut EthernetFrame<T>) {
        frame.set_dst(self.dst);
        frame.set_src(self.src);
        frame.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const FRAME: [u8; 16] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // dst
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src
        0x08, 0x00,                         // ethertype IPv4
        0xaa, 0xbb,                         // payload
    ];

    #[test]
    fn parse_and_emit_round_trip() {
        let f = EthernetFrame::new_checked(&FRAME[..]).unwrap();
        let r = EthernetRepr::parse(&f).unwrap();
        assert_eq!(
            r,
            EthernetRepr {
                src: [2, 0, 0, 0, 0, 1],
                dst: [2, 0, 0, 0, 0, 2],
                ethertype: ethertype::IPV4
            }
        );
        assert_eq!(f.payload(), &[0xaa, 0xbb]);
        let mut buf = [0u8; 16];
        buf[14..].copy_from_slice(&[0xaa, 0xbb]);
        r.emit(&mut EthernetFrame::new_unchecked(&mut buf[..]));
        assert_eq!(buf, FRAME);
    }

    #[test]
    fn short_buffer_is_truncated() {
        assert_eq!(
            EthernetFrame::new_checked(&FRAME[..13]).unwrap_err(),
            Error::Truncated
        );
    }
}
