//! ICMP echo (ping) over raw sockets.
//!
//! A [`Pinger`] is one raw socket — `SOCK_RAW` with `IPPROTO_ICMP` for IPv4
//! or `IPPROTO_ICMPV6` for IPv6 — opened in the calling thread's network
//! namespace (open it inside [`crate::Netns::run`] to ping from a lab node)
//! and usable from any thread afterwards. It is non-blocking: poll its
//! descriptor ([`Pinger::as_fd`]) for readability, then drain
//! [`Pinger::recv_reply`] until it returns `None`.
//!
//! Raw sockets need `CAP_NET_RAW` (vnet runs as root). They are used rather
//! than unprivileged "ping" sockets because those depend on the
//! `net.ipv4.ping_group_range` sysctl, which is closed in every new
//! namespace.
//!
//! A raw socket sees every ICMP packet of its namespace, so a kernel filter
//! (`ICMP_FILTER`, `ICMP6_FILTER`) lets only echo replies through, and
//! replies are matched on their identifier: several pingers can share a
//! namespace as long as they use different identifiers.
//!
//! IPv4: we build the whole ICMP message, checksum included; received
//! packets start with the IPv4 header (skipped using its IHL). IPv6: the
//! kernel computes and checks the ICMPv6 checksum (it covers a pseudo-header
//! the socket knows), and received packets start at the ICMPv6 header.
#![allow(unsafe_code)]

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{
    recvfrom, sendto, setsockopt, socket, sockopt, AddressFamily, MsgFlags, SockFlag, SockProtocol,
    SockType, SockaddrStorage,
};

/// ICMPv4 message types.
pub const ICMP_ECHO_REPLY: u8 = 0;
pub const ICMP_ECHO_REQUEST: u8 = 8;
/// ICMPv6 message types.
pub const ICMPV6_ECHO_REQUEST: u8 = 128;
pub const ICMPV6_ECHO_REPLY: u8 = 129;

/// Length of an echo message header (type, code, checksum, ident, seq).
pub const ECHO_HEADER_LEN: usize = 8;

/// Receive buffer asked for each socket: a pinger may get hundreds of replies
/// in one burst (one per target of an all-pairs ping).
const RCVBUF: usize = 4 << 20;

/// `ICMP_FILTER` (linux/icmp.h) at level `SOL_RAW`: a 32-bit mask of ICMPv4
/// types to *drop*. Not in the libc crate.
const ICMP_FILTER: libc::c_int = 1;
/// `ICMP6_FILTER` (linux/icmpv6.h) at level `SOL_ICMPV6`: a 256-bit mask of
/// ICMPv6 types to drop. Not in the libc crate.
const ICMP6_FILTER: libc::c_int = 1;

/// The Internet checksum (RFC 1071): the one's complement of the one's
/// complement sum of the data as big-endian 16-bit words, an odd trailing
/// byte padded with zero.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Builds an echo request: for IPv4 with its checksum, for IPv6 with a zero
/// checksum that the kernel fills in.
pub fn echo_request(v6: bool, ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(ECHO_HEADER_LEN + payload.len());
    p.push(if v6 {
        ICMPV6_ECHO_REQUEST
    } else {
        ICMP_ECHO_REQUEST
    });
    p.push(0); // code
    p.extend_from_slice(&[0, 0]); // checksum, below
    p.extend_from_slice(&ident.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(payload);
    if !v6 {
        let c = checksum(&p);
        p[2..4].copy_from_slice(&c.to_be_bytes());
    }
    p
}

/// An echo message's identifier, sequence number and data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Echo<'a> {
    pub ident: u16,
    pub seq: u16,
    pub payload: &'a [u8],
}

/// Parses what a raw ICMP socket received as an echo *reply*: for IPv4 the
/// packet starts with the IP header (which must carry ICMP) and the ICMP
/// checksum is verified; for IPv6 it starts at the ICMPv6 header (the kernel
/// verified the checksum). Anything else — requests, errors, other types,
/// truncated or corrupt packets — gives `None`.
pub fn parse_echo_reply(v6: bool, packet: &[u8]) -> Option<Echo<'_>> {
    let icmp = if v6 {
        packet
    } else {
        let first = *packet.first()?;
        let ihl = usize::from(first & 0x0f) * 4;
        if first >> 4 != 4 || ihl < 20 || packet.len() < ihl || packet[9] != 1 {
            return None;
        }
        // Trust the IP total length over the datagram length when shorter
        // (never longer: the rest would be missing).
        let total = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
        let end = if (ihl..packet.len()).contains(&total) {
            total
        } else {
            packet.len()
        };
        &packet[ihl..end]
    };
    if icmp.len() < ECHO_HEADER_LEN {
        return None;
    }
    let want = if v6 {
        ICMPV6_ECHO_REPLY
    } else {
        ICMP_ECHO_REPLY
    };
    if icmp[0] != want || icmp[1] != 0 {
        return None;
    }
    if !v6 && checksum(icmp) != 0 {
        return None;
    }
    Some(Echo {
        ident: u16::from_be_bytes([icmp[4], icmp[5]]),
        seq: u16::from_be_bytes([icmp[6], icmp[7]]),
        payload: &icmp[ECHO_HEADER_LEN..],
    })
}

/// An echo reply received by [`Pinger::recv_reply_payload`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// Who answered.
    pub from: IpAddr,
    pub seq: u16,
    /// Payload bytes copied into the caller's buffer (at most its length).
    pub payload_len: usize,
}

/// One raw ICMP (or ICMPv6) socket, non-blocking, bound to the network
/// namespace of the thread that opened it. Needs `CAP_NET_RAW`.
#[derive(Debug)]
pub struct Pinger {
    fd: OwnedFd,
    v6: bool,
}

impl AsFd for Pinger {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Pinger {
    /// Opens a raw ICMP socket (ICMPv6 when `v6`) in the calling thread's
    /// namespace that only receives echo replies.
    pub fn open(v6: bool) -> io::Result<Pinger> {
        let (family, proto) = if v6 {
            (AddressFamily::Inet6, SockProtocol::IcmpV6)
        } else {
            (AddressFamily::Inet, SockProtocol::Icmp)
        };
        let fd = socket(
            family,
            SockType::Raw,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            proto,
        )?;
        // A larger buffer when allowed (root: SO_RCVBUFFORCE); the default
        // otherwise — replies may then be dropped in big bursts and resent.
        if setsockopt(&fd, sockopt::RcvBufForce, &RCVBUF).is_err() {
            let _ = setsockopt(&fd, sockopt::RcvBuf, &RCVBUF);
        }
        let pinger = Pinger { fd, v6 };
        pinger.filter_echo_replies()?;
        Ok(pinger)
    }

    /// Whether this is an ICMPv6 socket.
    pub fn is_v6(&self) -> bool {
        self.v6
    }

    /// Tells the kernel to queue only echo replies on this socket, so the
    /// requests other nodes send to this namespace (and ICMP errors) never
    /// fill its buffer.
    fn filter_echo_replies(&self) -> io::Result<()> {
        let fd = self.fd.as_raw_fd();
        let r = if self.v6 {
            // struct icmp6_filter { __u32 data[8]; }: bit (type & 31) of
            // data[type >> 5] set = drop that type.
            let mut data = [u32::MAX; 8];
            let t = usize::from(ICMPV6_ECHO_REPLY);
            data[t >> 5] &= !(1u32 << (t & 31));
            // SAFETY: `data` is a live, properly aligned [u32; 8] (the
            // layout of struct icmp6_filter) and the length passed is its
            // exact size; the kernel only reads it during the call.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_ICMPV6,
                    ICMP6_FILTER,
                    data.as_ptr().cast(),
                    std::mem::size_of_val(&data) as libc::socklen_t,
                )
            }
        } else {
            // struct icmp_filter { __u32 data; }: bit `type` set = drop.
            let data: u32 = !(1u32 << ICMP_ECHO_REPLY);
            // SAFETY: `data` is a live u32 (the layout of struct
            // icmp_filter) and the length passed is its exact size; the
            // kernel only reads it during the call.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_RAW,
                    ICMP_FILTER,
                    std::ptr::from_ref(&data).cast(),
                    std::mem::size_of_val(&data) as libc::socklen_t,
                )
            }
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(e.kind(), format!("set ICMP filter: {e}")));
        }
        Ok(())
    }

    /// Sends one echo request. `dst` must be of the socket's family. A
    /// full socket buffer gives `WouldBlock`; an unroutable destination
    /// `ENETUNREACH`/`EHOSTUNREACH`.
    pub fn send_echo(&self, dst: IpAddr, ident: u16, seq: u16, payload: &[u8]) -> io::Result<()> {
        if dst.is_ipv6() != self.v6 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "ping {dst}: not an {} address",
                    if self.v6 { "IPv6" } else { "IPv4" }
                ),
            ));
        }
        let packet = echo_request(self.v6, ident, seq, payload);
        // The port is meaningless for raw sockets (the IPv6 one must be 0).
        let addr = SockaddrStorage::from(SocketAddr::new(dst, 0));
        sendto(self.fd.as_raw_fd(), &packet, &addr, MsgFlags::empty())?;
        Ok(())
    }

    /// The next echo reply carrying `ident`, skipping anything else that is
    /// queued; `None` when nothing (more) is waiting. Returns who answered
    /// and the sequence number.
    pub fn recv_reply(&self, ident: u16) -> io::Result<Option<(IpAddr, u16)>> {
        Ok(self
            .recv_reply_payload(ident, &mut [])?
            .map(|r| (r.from, r.seq)))
    }

    /// Like [`Pinger::recv_reply`], also copying the reply's payload (as
    /// much as fits) into `payload`.
    pub fn recv_reply_payload(&self, ident: u16, payload: &mut [u8]) -> io::Result<Option<Reply>> {
        let mut buf = [0u8; 2048];
        loop {
            let (n, from) = match recvfrom::<SockaddrStorage>(self.fd.as_raw_fd(), &mut buf) {
                Ok(r) => r,
                Err(Errno::EAGAIN) => return Ok(None),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            };
            let Some(echo) = parse_echo_reply(self.v6, &buf[..n]) else {
                continue;
            };
            if echo.ident != ident {
                continue;
            }
            let from = from.and_then(|a| {
                if let Some(a) = a.as_sockaddr_in() {
                    Some(IpAddr::V4(a.ip()))
                } else {
                    a.as_sockaddr_in6().map(|a| IpAddr::V6(a.ip()))
                }
            });
            let from = match from {
                Some(f) => f,
                // Cannot happen on a raw IP socket; fall back to the header.
                None if !self.v6 && n >= 20 && buf[0] >> 4 == 4 => {
                    IpAddr::from([buf[12], buf[13], buf[14], buf[15]])
                }
                None => continue,
            };
            let len = echo.payload.len().min(payload.len());
            payload[..len].copy_from_slice(&echo.payload[..len]);
            return Ok(Some(Reply {
                from,
                seq: echo.seq,
                payload_len: len,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ICMPv4 echo request, ident 0x1234, seq 1, payload "abcd":
    ///
    /// ```text
    /// 08        type 8 (echo request)
    /// 00        code 0
    /// 21 04     checksum: words 0800 + 0000 + 1234 + 0001 + 6162 + 6364
    ///           = 0xdefb (no carry); one's complement = 0x2104
    /// 12 34     identifier 0x1234
    /// 00 01     sequence number 1
    /// 61 62 63 64  payload "abcd"
    /// ```
    const V4_REQUEST: [u8; 12] = [
        0x08, 0x00, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64,
    ];

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: these bytes sum to 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
        // Checksumming data with its checksum appended gives zero.
        let mut with = data.to_vec();
        with.extend_from_slice(&checksum(&data).to_be_bytes());
        assert_eq!(checksum(&with), 0);
    }

    #[test]
    fn checksum_odd_length_pads_with_zero() {
        assert_eq!(
            checksum(&[0x12, 0x34, 0x56]),
            checksum(&[0x12, 0x34, 0x56, 0x00])
        );
        assert_eq!(checksum(&[]), 0xffff);
        // Carries fold back in: 0xffff + 0x0001 = 0x1_0000 -> 0x0001.
        assert_eq!(checksum(&[0xff, 0xff, 0x00, 0x01]), !0x0001);
    }

    #[test]
    fn builds_v4_request_golden() {
        assert_eq!(echo_request(false, 0x1234, 1, b"abcd"), V4_REQUEST);
        assert_eq!(checksum(&V4_REQUEST), 0);
    }

    #[test]
    fn builds_v6_request_with_zero_checksum() {
        assert_eq!(
            echo_request(true, 0xbeef, 0x0203, b"xy"),
            [128, 0, 0, 0, 0xbe, 0xef, 0x02, 0x03, b'x', b'y']
        );
    }

    /// The reply to `V4_REQUEST` as a raw IPv4 socket receives it: a
    /// 20-byte IP header from 127.0.0.1 to 127.0.0.1, then the ICMP message.
    fn v4_reply() -> Vec<u8> {
        let mut p = vec![
            0x45, // version 4, IHL 5 (20 bytes)
            0x00, // DSCP/ECN
            0x00, 0x20, // total length 32 = 20 + 12
            0x12, 0x34, 0x00, 0x00, // id, flags, fragment offset
            0x40, // TTL 64
            0x01, // protocol 1 = ICMP
            0x00, 0x00, // header checksum (not checked by the parser)
            127, 0, 0, 1, // source
            127, 0, 0, 1, // destination
        ];
        // Type 0 (echo reply): the checksum changes by exactly the type
        // difference, 0x0800: 0x2104 + 0x0800 = 0x2904.
        p.extend_from_slice(&[
            0x00, 0x00, 0x29, 0x04, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64,
        ]);
        p
    }

    #[test]
    fn parses_v4_reply_golden() {
        let p = v4_reply();
        assert_eq!(checksum(&p[20..]), 0);
        assert_eq!(
            parse_echo_reply(false, &p),
            Some(Echo {
                ident: 0x1234,
                seq: 1,
                payload: b"abcd"
            })
        );
        // Trailing garbage beyond the IP total length is ignored.
        let mut padded = p.clone();
        padded.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(parse_echo_reply(false, &padded).unwrap().payload, b"abcd");
    }

    #[test]
    fn rejects_non_replies() {
        // An echo request (type 8) behind the same IP header.
        let mut req = v4_reply();
        req[20..].copy_from_slice(&V4_REQUEST);
        assert_eq!(parse_echo_reply(false, &req), None);
        // Corrupt checksum.
        let mut bad = v4_reply();
        bad[31] ^= 1;
        assert_eq!(parse_echo_reply(false, &bad), None);
        // Not ICMP, bad IHL, truncated.
        let mut udp = v4_reply();
        udp[9] = 17;
        assert_eq!(parse_echo_reply(false, &udp), None);
        let mut ihl = v4_reply();
        ihl[0] = 0x44;
        assert_eq!(parse_echo_reply(false, &ihl), None);
        assert_eq!(parse_echo_reply(false, &v4_reply()[..27]), None);
        assert_eq!(parse_echo_reply(false, &[]), None);
        // IPv6: a request and a destination unreachable are not replies.
        assert_eq!(parse_echo_reply(true, &echo_request(true, 1, 2, b"")), None);
        assert_eq!(parse_echo_reply(true, &[1, 0, 0, 0, 0, 0, 0, 0]), None);
    }

    #[test]
    fn parses_v6_reply() {
        let p = [129, 0, 0x12, 0x34, 0xbe, 0xef, 0x00, 0x07, 1, 2, 3];
        assert_eq!(
            parse_echo_reply(true, &p),
            Some(Echo {
                ident: 0xbeef,
                seq: 7,
                payload: &[1, 2, 3]
            })
        );
        assert_eq!(parse_echo_reply(true, &p[..7]), None);
    }
}
