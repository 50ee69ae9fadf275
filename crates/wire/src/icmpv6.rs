//! ICMPv6 (RFC 4443) and the neighbour discovery messages the flow key
//! looks into (RFC 4861): neighbour solicitation (NS, type 135) and
//! advertisement (NA, type 136), their target address and their
//! source/target link-layer address options.
//!
//! The checksum covers an IPv6 pseudo-header, so it changes when the IPv6
//! addresses do.

use std::net::Ipv6Addr;

use crate::checksum;
use crate::eth::Mac;
use crate::field::{array, be16, be32, set_be16, set_be32};
use crate::{Error, Result};

pub const HEADER_LEN: usize = 8;
/// Length of an NS/NA message without options (header + target).
pub const ND_LEN: usize = 24;
/// Offset of the checksum field.
pub const CHECKSUM_OFFSET: usize = 2;
/// Offset of the NS/NA target address.
pub const ND_TARGET_OFFSET: usize = 8;

/// Message types vnet names.
pub mod msg_type {
    pub const DEST_UNREACHABLE: u8 = 1;
    pub const PACKET_TOO_BIG: u8 = 2;
    pub const TIME_EXCEEDED: u8 = 3;
    pub const ECHO_REQUEST: u8 = 128;
    pub const ECHO_REPLY: u8 = 129;
    pub const ROUTER_SOLICIT: u8 = 133;
    pub const ROUTER_ADVERT: u8 = 134;
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    pub const NEIGHBOR_ADVERT: u8 = 136;
    pub const REDIRECT: u8 = 137;
}

/// Neighbour discovery option types.
pub mod nd_opt {
    pub const SOURCE_LLADDR: u8 = 1;
    pub const TARGET_LLADDR: u8 = 2;
    pub const PREFIX_INFO: u8 = 3;
    pub const REDIRECTED_HEADER: u8 = 4;
    pub const MTU: u8 = 5;
}

/// Neighbour advertisement flags (byte 4 of the message).
pub mod na_flags {
    pub const ROUTER: u8 = 0x80;
    pub const SOLICITED: u8 = 0x40;
    pub const OVERRIDE: u8 = 0x20;
}

/// Whether `t` is NS or NA.
#[inline]
pub fn is_ns_or_na(t: u8) -> bool {
    t == msg_type::NEIGHBOR_SOLICIT || t == msg_type::NEIGHBOR_ADVERT
}

/// A read/write view of an ICMPv6 message.
#[derive(Debug, Clone)]
pub struct Icmpv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Icmpv6Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok when the buffer holds the 8-byte header, and for NS/NA also the
    /// target address.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || (is_ns_or_na(self.msg_type()) && len < ND_LEN) {
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

    /// The 4 bytes after the checksum (echo identifier/sequence, NA flags).
    pub fn rest_of_header(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }

    /// The NS/NA target; `None` for other messages or when cut short.
    pub fn nd_target(&self) -> Option<Ipv6Addr> {
        let b = self.buffer.as_ref();
        (is_ns_or_na(self.msg_type()) && b.len() >= ND_LEN)
            .then(|| Ipv6Addr::from(array::<16>(b, ND_TARGET_OFFSET)))
    }

    /// The options of an NS/NA message (empty for other messages).
    pub fn nd_options(&self) -> NdOptions<'_> {
        let b = self.buffer.as_ref();
        if is_ns_or_na(self.msg_type()) && b.len() >= ND_LEN {
            NdOptions::new(&b[ND_LEN..])
        } else {
            NdOptions::new(&[])
        }
    }

    /// Everything after the 8-byte header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    pub fn verify_checksum(&self, pseudo: u16) -> bool {
        checksum::add(pseudo, checksum::sum(self.buffer.as_ref())) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
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

    /// Writes the NS/NA target. Panics if the buffer is shorter than 24.
    pub fn set_nd_target(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[ND_TARGET_OFFSET..ND_LEN].copy_from_slice(&a.octets())
    }

    /// Computes the checksum over the whole buffer and the pseudo-header.
    pub fn fill_checksum(&mut self, pseudo: u16) {
        self.set_checksum(0);
        let c = checksum::finish(pseudo, self.buffer.as_ref());
        self.set_checksum(c)
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// One neighbour discovery option: type and the bytes after the type and
/// length (so a link-layer address option's `data` starts with the MAC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NdOption<'a> {
    pub kind: u8,
    pub data: &'a [u8],
}

impl NdOption<'_> {
    /// The address of a source/target link-layer address option on
    /// Ethernet (the first 6 data bytes).
    pub fn lladdr(&self) -> Option<Mac> {
        (self.data.len() >= 6).then(|| array(self.data, 0))
    }
}

/// Iterator over neighbour discovery options. A zero length or an option
/// running past the end yields one `Err(Error::Malformed)` and ends the
/// iteration (RFC 4861 §4.6: such a packet is to be discarded).
#[derive(Debug, Clone)]
pub struct NdOptions<'a> {
    rest: &'a [u8],
}

impl<'a> NdOptions<'a> {
    pub fn new(options: &'a [u8]) -> Self {
        NdOptions { rest: options }
    }
}

impl<'a> Iterator for NdOptions<'a> {
    type Item = Result<NdOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest;
        if rest.is_empty() {
            return None;
        }
        let len = rest.get(1).map_or(0, |&l| l as usize * 8);
        if len == 0 || len > rest.len() {
            self.rest = &[];
            return Some(Err(Error::Malformed));
        }
        self.rest = &rest[len..];
        Some(Ok(NdOption {
            kind: rest[0],
            data: &rest[2..len],
        }))
    }
}

/// The header of an ICMPv6 message (the rest is the caller's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv6Repr {
    pub msg_type: u8,
    pub code: u8,
    pub rest: u32,
}

impl Icmpv6Repr {
    pub fn parse<T: AsRef<[u8]>>(p: &Icmpv6Packet<T>) -> Result<Self> {
        p.check_len()?;
        Ok(Icmpv6Repr {
            msg_type: p.msg_type(),
            code: p.code(),
            rest: p.rest_of_header(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header with a zero checksum. Panics if the buffer is
    /// shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Icmpv6Packet<T>) {
        p.set_msg_type(self.msg_type);
        p.set_code(self.code);
        p.set_checksum(0);
        p.set_rest_of_header(self.rest);
    }
}

/// A neighbour solicitation or advertisement with at most one link-layer
/// address option (source for NS, target for NA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NdRepr {
    /// 135 (NS) or 136 (NA).
    pub msg_type: u8,
    /// NA flags ([`na_flags`]); 0 for NS.
    pub flags: u8,
    pub target: Ipv6Addr,
    pub lladdr: Option<Mac>,
}

impl NdRepr {
    /// Parses an NS/NA; the link-layer address is the first SLL (NS) or
    /// TLL (NA) option. Malformed options are [`Error::Malformed`].
    pub fn parse<T: AsRef<[u8]>>(p: &Icmpv6Packet<T>) -> Result<Self> {
        p.check_len()?;
        let target = p.nd_target().ok_or(Error::Malformed)?;
        let want = if p.msg_type() == msg_type::NEIGHBOR_SOLICIT {
            nd_opt::SOURCE_LLADDR
        } else {
            nd_opt::TARGET_LLADDR
        };
        let mut lladdr = None;
        for o in p.nd_options() {
            let o = o?;
            if o.kind == want && lladdr.is_none() {
                lladdr = o.lladdr();
            }
        }
        Ok(NdRepr {
            msg_type: p.msg_type(),
            flags: (p.rest_of_header() >> 24) as u8,
            target,
            lladdr,
        })
    }

    pub fn buffer_len(&self) -> usize {
        ND_LEN + if self.lladdr.is_some() { 8 } else { 0 }
    }

    /// Writes the message with a zero checksum; call
    /// [`Icmpv6Packet::fill_checksum`] afterwards. Panics if the buffer is
    /// shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Icmpv6Packet<T>) {
        Icmpv6Repr {
            msg_type: self.msg_type,
            code: 0,
            rest: (self.flags as u32) << 24,
        }
        .emit(p);
        p.set_nd_target(self.target);
        if let Some(mac) = self.lladdr {
            let kind = if self.msg_type == msg_type::NEIGHBOR_SOLICIT {
                nd_opt::SOURCE_LLADDR
            } else {
                nd_opt::TARGET_LLADDR
            };
            let o = &mut p.buffer.as_mut()[ND_LEN..ND_LEN + 8];
            o[0] = kind;
            o[1] = 1;
            o[2..].copy_from_slice(&mac);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const NS: [u8; 32] = [
        135, 0,                 // type NS, code 0
        0x00, 0x00,             // checksum
        0x00, 0x00, 0x00, 0x00, // reserved
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // target fe80::2
        1, 1,                   // option SLL, length 1 (8 bytes)
        0x02, 0, 0, 0, 0, 1,    // the MAC
    ];

    #[test]
    fn ns_parse_and_emit() {
        let p = Icmpv6Packet::new_checked(&NS[..]).unwrap();
        let r = NdRepr::parse(&p).unwrap();
        assert_eq!(
            r,
            NdRepr {
                msg_type: 135,
                flags: 0,
                target: "fe80::2".parse().unwrap(),
                lladdr: Some([2, 0, 0, 0, 0, 1])
            }
        );
        let mut out = [0u8; 32];
        r.emit(&mut Icmpv6Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, NS);
        assert_eq!(
            Icmpv6Packet::new_checked(&NS[..23]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn bad_options_are_reported_once() {
        let mut b = NS;
        b[25] = 0; // option length 0
        let p = Icmpv6Packet::new_unchecked(&b[..]);
        let all: Vec<_> = p.nd_options().collect();
        assert_eq!(all, vec![Err(Error::Malformed)]);
        assert_eq!(NdRepr::parse(&p), Err(Error::Malformed));
        b[25] = 2; // runs past the end
        assert_eq!(
            Icmpv6Packet::new_unchecked(&b[..]).nd_options().next(),
            Some(Err(Error::Malformed))
        );
    }

    #[test]
    fn checksum_round_trip() {
        let mut b = NS;
        let s: [u8; 16] = "fe80::1".parse::<Ipv6Addr>().unwrap().octets();
        let d: [u8; 16] = "ff02::1:ff00:2".parse::<Ipv6Addr>().unwrap().octets();
        let ph = checksum::pseudo_v6(&s, &d, 58, 32);
        let mut p = Icmpv6Packet::new_unchecked(&mut b[..]);
        p.fill_checksum(ph);
        assert!(p.verify_checksum(ph));
        let echo = Icmpv6Packet::new_unchecked(&[128u8, 0, 0, 0, 0, 1, 0, 1][..]);
        assert_eq!(echo.nd_target(), None);
        assert_eq!(echo.nd_options().count(), 0);
    }
}
