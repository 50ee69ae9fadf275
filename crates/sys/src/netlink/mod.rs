//! A small synchronous rtnetlink client.
//!
//! One [`Netlink`] is one `NETLINK_ROUTE` socket. A socket keeps the network
//! namespace it was opened in, so a `Netlink` opened inside a namespace (see
//! [`crate::netns::Netns::netlink`]) acts on that namespace from any thread.
//!
//! Requests are sent with `NLM_F_ACK`; errors carry the kernel's errno and
//! its extended-ack text. Several requests can be sent in one `sendmsg` with
//! [`Netlink::batch`], which is how bulk set-up stays near the kernel's own cost.
//!
//! Message types of `netlink-packet-route` appear only in this module tree;
//! the rest of the project sees the typed operations in `link`, `addr`, `route`.

mod addr;
mod link;
mod monitor;
mod route;

pub use addr::{AddrInfo, AddrScope};
pub use link::{
    check_name, format_mac, BridgeOptions, FdbEntry, LinkDetails, LinkInfo, MacvlanMode, NewLink,
    NewLinkKind, VxlanOptions,
};
pub use monitor::{run_in_netns, LinkEvent, LinkMonitor};
pub use route::{NeighInfo, RouteInfo, RouteSpec};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::error::{Errno, NetlinkError};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const RECV_BUF: usize = 64 * 1024;

pub use netlink_packet_route::RouteNetlinkMessage;

/// One request of a batch: the message, its extra `NLM_F_*` flags, and what
/// it is about (for errors).
pub type Request = (RouteNetlinkMessage, u16, Op);

/// A synchronous rtnetlink socket.
pub struct Netlink {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Netlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Netlink").field("seq", &self.seq).finish()
    }
}

/// What an operation was about, for error messages: `create veth h1:eth0`.
#[derive(Debug, Clone)]
pub struct Op {
    pub verb: &'static str,
    pub object: String,
}

impl Op {
    pub fn new(verb: &'static str, object: impl Into<String>) -> Op {
        Op {
            verb,
            object: object.into(),
        }
    }

    fn fail(&self, errno: i32, ext_ack: Option<String>) -> NetlinkError {
        NetlinkError::Kernel {
            op: self.verb,
            object: self.object.clone(),
            errno: Errno(errno),
            ext_ack,
        }
    }

    fn io(&self, e: std::io::Error) -> NetlinkError {
        NetlinkError::Io {
            op: self.verb,
            object: self.object.clone(),
            source: e,
        }
    }
}

impl Netlink {
    /// Opens a socket in the calling thread's network namespace.
    pub fn open() -> Result<Netlink, NetlinkError> {
        let op = Op::new("open", "netlink socket");
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(|e| op.io(e))?;
        socket.bind_auto().map_err(|e| op.io(e))?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(|e| op.io(e))?;
        socket.set_ext_ack(true).map_err(|e| op.io(e))?;
        // Large bulk batches produce many acks at once.
        let _ = socket.set_rx_buf_sz(4 * 1024 * 1024);
        let _ = socket.set_netlink_get_strict_chk(true);
        Ok(Netlink {
            socket,
            seq: 0,
            buf: vec![0; RECV_BUF],
        })
    }

    /// Sends one request and waits for its acknowledgement.
    pub fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        op: &Op,
    ) -> Result<(), NetlinkError> {
        self.batch(vec![(msg, flags, op.clone())])
            .into_iter()
            .next()
            .unwrap_or(Ok(()))
    }

    /// Sends several requests in one write and returns one result per
    /// request, in order. A failed request does not stop the others (the
    /// kernel handles each message independently).
    pub fn batch(
        &mut self,
        reqs: Vec<(RouteNetlinkMessage, u16, Op)>,
    ) -> Vec<Result<(), NetlinkError>> {
        let first_seq = self.seq.wrapping_add(1);
        let mut out = Vec::new();
        let mut ops = Vec::with_capacity(reqs.len());
        for (msg, flags, op) in reqs {
            self.seq = self.seq.wrapping_add(1);
            let mut nl = NetlinkMessage::new(
                header(flags | NLM_F_REQUEST | NLM_F_ACK, self.seq),
                NetlinkPayload::InnerMessage(msg),
            );
            nl.finalize();
            let start = out.len();
            out.resize(start + nl.buffer_len(), 0);
            nl.serialize(&mut out[start..]);
            ops.push(op);
        }
        let mut results: Vec<Option<Result<(), NetlinkError>>> =
            (0..ops.len()).map(|_| None).collect();
        if ops.is_empty() {
            return Vec::new();
        }
        if let Err(e) = self.socket.send(&out, 0) {
            let kind = e.kind();
            return ops
                .iter()
                .map(|op| Err(op.io(std::io::Error::new(kind, e.to_string()))))
                .collect();
        }
        let mut pending = ops.len();
        while pending > 0 {
            let n = match self.recv() {
                Ok(n) => n,
                Err(e) => {
                    let kind = e.kind();
                    for (i, r) in results.iter_mut().enumerate() {
                        if r.is_none() {
                            *r = Some(Err(ops[i].io(std::io::Error::new(kind, e.to_string()))));
                        }
                    }
                    break;
                }
            };
            for raw in RawMessages::new(&self.buf[..n]) {
                if raw.msg_type != NLMSG_ERROR {
                    continue;
                }
                let idx = raw.seq.wrapping_sub(first_seq) as usize;
                if idx >= ops.len() || results[idx].is_some() {
                    continue;
                }
                let (errno, ack) = parse_error(raw.flags, raw.payload);
                results[idx] = Some(if errno == 0 {
                    Ok(())
                } else {
                    Err(ops[idx].fail(errno, ack))
                });
                pending -= 1;
            }
        }
        results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect()
    }

    /// Sends a dump request and returns every message of the reply.
    pub fn dump(
        &mut self,
        msg: RouteNetlinkMessage,
        op: &Op,
    ) -> Result<Vec<RouteNetlinkMessage>, NetlinkError> {
        self.get(msg, NLM_F_DUMP, op)
    }

    /// Sends a request that is answered with messages (a dump or a get).
    pub fn get(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        op: &Op,
    ) -> Result<Vec<RouteNetlinkMessage>, NetlinkError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut nl = NetlinkMessage::new(
            header(flags | NLM_F_REQUEST, seq),
            NetlinkPayload::InnerMessage(msg),
        );
        nl.finalize();
        let mut out = vec![0; nl.buffer_len()];
        nl.serialize(&mut out);
        self.socket.send(&out, 0).map_err(|e| op.io(e))?;
        let multipart = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut msgs = Vec::new();
        loop {
            let n = self.recv().map_err(|e| op.io(e))?;
            let mut done = false;
            for raw in RawMessages::new(&self.buf[..n]) {
                if raw.seq != seq {
                    continue;
                }
                match raw.msg_type {
                    NLMSG_DONE => done = true,
                    NLMSG_ERROR => {
                        let (errno, ack) = parse_error(raw.flags, raw.payload);
                        if errno != 0 {
                            return Err(op.fail(errno, ack));
                        }
                        done = true;
                    }
                    _ => {
                        let parsed = NetlinkMessage::<RouteNetlinkMessage>::deserialize(raw.whole)
                            .map_err(|e| NetlinkError::Decode {
                                op: op.verb,
                                object: op.object.clone(),
                                reason: e.to_string(),
                            })?;
                        if let NetlinkPayload::InnerMessage(m) = parsed.payload {
                            msgs.push(m);
                        }
                        if !multipart {
                            done = true;
                        }
                    }
                }
            }
            if done {
                return Ok(msgs);
            }
        }
    }

    fn recv(&mut self) -> std::io::Result<usize> {
        loop {
            match self.socket.recv(&mut &mut self.buf[..], 0) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => return r,
            }
        }
    }
}

fn header(flags: u16, seq: u32) -> NetlinkHeader {
    let mut h = NetlinkHeader::default();
    h.flags = flags;
    h.sequence_number = seq;
    h
}

/// One netlink message as raw bytes, before typed parsing.
struct RawMessage<'a> {
    msg_type: u16,
    flags: u16,
    seq: u32,
    whole: &'a [u8],
    payload: &'a [u8],
}

struct RawMessages<'a> {
    buf: &'a [u8],
}

impl<'a> RawMessages<'a> {
    fn new(buf: &'a [u8]) -> Self {
        RawMessages { buf }
    }
}

impl<'a> Iterator for RawMessages<'a> {
    type Item = RawMessage<'a>;
    fn next(&mut self) -> Option<RawMessage<'a>> {
        if self.buf.len() < 16 {
            return None;
        }
        let len = u32::from_ne_bytes(self.buf[0..4].try_into().ok()?) as usize;
        if len < 16 || len > self.buf.len() {
            return None;
        }
        let msg = RawMessage {
            msg_type: u16::from_ne_bytes([self.buf[4], self.buf[5]]),
            flags: u16::from_ne_bytes([self.buf[6], self.buf[7]]),
            seq: u32::from_ne_bytes(self.buf[8..12].try_into().ok()?),
            whole: &self.buf[..len],
            payload: &self.buf[16..len],
        };
        let aligned = (len + 3) & !3;
        self.buf = &self.buf[aligned.min(self.buf.len())..];
        Some(msg)
    }
}

/// Parses an `NLMSG_ERROR` payload: the (positive) errno and the
/// extended-ack message text, if the kernel attached one.
fn parse_error(flags: u16, payload: &[u8]) -> (i32, Option<String>) {
    if payload.len() < 4 {
        return (libc::EIO, None);
    }
    let errno = -i32::from_ne_bytes(payload[0..4].try_into().unwrap_or([0; 4]));
    if flags & NLM_F_ACK_TLVS == 0 || payload.len() < 20 {
        return (errno, None);
    }
    // The original request header follows the errno; without NLM_F_CAPPED
    // its payload is echoed too.
    let inner_len = if flags & NLM_F_CAPPED != 0 {
        16
    } else {
        u32::from_ne_bytes(payload[4..8].try_into().unwrap_or([0; 4])) as usize
    };
    let mut tlvs = payload.get(4 + ((inner_len + 3) & !3)..).unwrap_or(&[]);
    while tlvs.len() >= 4 {
        let len = u16::from_ne_bytes([tlvs[0], tlvs[1]]) as usize;
        let kind = u16::from_ne_bytes([tlvs[2], tlvs[3]]) & 0x3fff;
        if len < 4 || len > tlvs.len() {
            break;
        }
        if kind == NLMSGERR_ATTR_MSG {
            let text = &tlvs[4..len];
            let text = text.split(|b| *b == 0).next().unwrap_or(&[]);
            let s = String::from_utf8_lossy(text).trim().to_string();
            return (errno, (!s.is_empty()).then_some(s));
        }
        tlvs = &tlvs[((len + 3) & !3).min(tlvs.len())..];
    }
    (errno, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_extended_ack_text_after_capped_header() {
        // errno -17 (EEXIST), then a capped 16-byte copy of the request
        // header, then NLMSGERR_ATTR_MSG "File exists here\0".
        let mut p = Vec::new();
        p.extend_from_slice(&(-17i32).to_ne_bytes());
        p.extend_from_slice(&[0u8; 16]);
        let text = b"File exists here\0";
        p.extend_from_slice(&((4 + text.len()) as u16).to_ne_bytes());
        p.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        p.extend_from_slice(text);
        let (errno, ack) = parse_error(NLM_F_CAPPED | NLM_F_ACK_TLVS, &p);
        assert_eq!(errno, 17);
        assert_eq!(ack.as_deref(), Some("File exists here"));
    }

    #[test]
    fn plain_ack_has_no_text() {
        let p = [0u8; 20];
        assert_eq!(parse_error(0, &p), (0, None));
    }

    #[test]
    fn raw_iterator_splits_aligned_messages() {
        let mut b = Vec::new();
        for (t, seq) in [(2u16, 7u32), (3, 8)] {
            b.extend_from_slice(&18u32.to_ne_bytes());
            b.extend_from_slice(&t.to_ne_bytes());
            b.extend_from_slice(&0u16.to_ne_bytes());
            b.extend_from_slice(&seq.to_ne_bytes());
            b.extend_from_slice(&0u32.to_ne_bytes());
            b.extend_from_slice(&[1, 2, 0, 0]); // 2 payload bytes + padding
        }
        let v: Vec<_> = RawMessages::new(&b)
            .map(|m| (m.msg_type, m.seq, m.payload.len()))
            .collect();
        assert_eq!(v, vec![(2, 7, 2), (3, 8, 2)]);
    }
}
