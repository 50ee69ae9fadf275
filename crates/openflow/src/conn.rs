//! The OpenFlow channel, sans I/O: one [`Connection`] per TCP stream to a
//! controller (or an `ovs-ofctl` client), a state machine fed with the
//! bytes the socket received and the time (`now`, milliseconds from any
//! epoch the caller picks), answering with bytes to send and
//! [`ConnEvent`]s for the switch.
//!
//! What the connection does by itself: the HELLO exchange with version
//! negotiation (OpenFlow 1.3 only: a peer without it, or whose first
//! message is not a HELLO, gets OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE and
//! the connection closes),
//! echo replies, the inactivity probe (an ECHO_REQUEST after
//! `probe_interval` of silence, closed after a second interval without an
//! answer), the per-connection switch config (GET/SET_CONFIG: its
//! `miss_send_len`, and a fragment mode among those the switch carries
//! out) and async
//! config (GET/SET_ASYNC) with the filtering of async messages by role and
//! reason, refusing changes from a slave (OFPBRC_IS_SLAVE), and an
//! OFPT_ERROR echoing the offending bytes for every message it cannot
//! decode or that a switch never accepts (the connection stays up).
//! A length field below 8 or over the size limit loses the stream's
//! framing: the connection answers OFPBRC_BAD_LEN and closes, as Open
//! vSwitch does.
//!
//! What the switch does, from [`ConnEvent::Request`]s in arrival order:
//! everything that reads or changes the switch (FEATURES, FLOW_MOD,
//! PACKET_OUT, MULTIPART, BARRIER, ...). Because it handles them in order
//! and answers each with [`Connection::send`] before looking at the next,
//! a BARRIER_REPLY always follows the replies and effects of every
//! request before it. ROLE_REQUESTs come as [`ConnEvent::RoleRequest`]:
//! the generation id is shared by all connections of a switch, so the
//! switch checks it with its [`RoleArbiter`] and answers with
//! [`Connection::answer_role`] (and demotes the other masters).
//!
//! Memory is bounded: received bytes are held for at most one incomplete
//! message (≤ the size limit); the output buffer grows only by replies to
//! what was read (the caller stops reading while it cannot send) and by
//! async messages, which are dropped (and counted) once the unsent output
//! passes `max_queued`.
//!
//! What it must never do: panic on any input, read a clock, or answer a
//! request out of order.

use crate::error::*;
use crate::framing::frame_len;
use crate::msg::basic::{
    negotiate_version, AsyncConfig, ControllerRole, ErrorMsg, Hello, RoleMsg, SwitchConfig,
    ERROR_ECHO_LEN, OFPC_FRAG_MASK, OFPC_FRAG_NORMAL,
};
use crate::msg::{Message, HEADER_LEN, OFPT_HELLO};
use crate::multipart::MultipartRequestBody;
use crate::{MAX_MESSAGE_LEN, OFP_VERSION};

/// Default inactivity probe interval (ms), as Open vSwitch's.
pub const DEFAULT_PROBE_INTERVAL: u64 = 5_000;
/// Default bound on unsent output before async messages are dropped.
pub const DEFAULT_MAX_QUEUED: usize = 1 << 20;
/// OpenFlow's default `miss_send_len`.
pub const DEFAULT_MISS_SEND_LEN: u16 = 128;

/// `ofp_packet_in_reason`, `ofp_port_reason` and `ofp_flow_removed_reason`
/// bits enabled by default for a master or equal controller (spec 7.3.10);
/// a slave gets port status only.
const DEFAULT_ASYNC: AsyncConfig = AsyncConfig {
    packet_in_mask: [0b011, 0],
    port_status_mask: [0b111, 0b111],
    flow_removed_mask: [0b1111, 0],
};

/// Tunables of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnConfig {
    /// Silence (ms) after which an ECHO_REQUEST is sent; the connection
    /// closes after as long again without any answer, and when no HELLO
    /// came within it. 0 disables probing and the HELLO deadline.
    pub probe_interval: u64,
    /// Largest message accepted (at most 65535).
    pub max_message_len: usize,
    /// Unsent output (bytes) beyond which async messages are dropped.
    pub max_queued: usize,
    /// The `OFPC_FRAG_*` modes SET_CONFIG may choose (others get
    /// OFPSCFC_BAD_FLAGS): what the switch's datapath carries out.
    pub frag_modes: Vec<u16>,
}

impl Default for ConnConfig {
    fn default() -> ConnConfig {
        ConnConfig {
            probe_interval: DEFAULT_PROBE_INTERVAL,
            max_message_len: MAX_MESSAGE_LEN,
            max_queued: DEFAULT_MAX_QUEUED,
            frag_modes: vec![OFPC_FRAG_NORMAL],
        }
    }
}

/// Why a connection closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// Version negotiation failed, or the peer did not start with HELLO.
    HelloFailed(String),
    /// A length field the stream cannot be re-framed after.
    BadFraming(String),
    /// No HELLO in time, or no answer to an echo probe.
    Timeout(String),
    /// Closed by the switch ([`Connection::close`]).
    Local(String),
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseReason::HelloFailed(m) => write!(f, "hello failed: {m}"),
            CloseReason::BadFraming(m) => write!(f, "bad framing: {m}"),
            CloseReason::Timeout(m) => write!(f, "timeout: {m}"),
            CloseReason::Local(m) => write!(f, "closed: {m}"),
        }
    }
}

/// A request for the switch: the message and what to echo in an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub xid: u32,
    pub msg: Message,
    /// The first bytes of the message as received ([`ERROR_ECHO_LEN`]).
    pub head: Vec<u8>,
}

/// What the switch must know or do after bytes arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnEvent {
    /// The HELLO exchange succeeded.
    Connected { version: u8 },
    /// A request for the switch (see the module docs), in arrival order.
    Request(Request),
    /// A role change to arbitrate; answer with [`Connection::answer_role`].
    RoleRequest {
        xid: u32,
        role: ControllerRole,
        generation_id: u64,
        head: Vec<u8>,
    },
    /// The peer sent an OFPT_ERROR.
    PeerError { xid: u32, error: ErrorMsg },
    /// The connection is closed; send what [`Connection::output`] holds
    /// and close the socket.
    Closed(CloseReason),
}

/// Where the connection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// Our HELLO is out; waiting for the peer's.
    Hello,
    /// Negotiated OpenFlow 1.3.
    Up,
    Closed(CloseReason),
}

/// What became of an async message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Not up, or the role and async config do not want this reason.
    Filtered,
    /// Too much output queued already.
    Dropped,
}

/// Counters of one connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnStats {
    pub rx_msgs: u64,
    pub tx_msgs: u64,
    /// OFPT_ERRORs sent (decode errors, refusals).
    pub errors_sent: u64,
    pub echo_probes: u64,
    pub async_sent: u64,
    pub async_dropped: u64,
}

/// The master election state shared by a switch's connections: the last
/// generation id of a MASTER or SLAVE request (spec 6.3.7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoleArbiter {
    generation: Option<u64>,
}

impl RoleArbiter {
    /// Checks a role request. MASTER and SLAVE requests carry a generation
    /// id that must not be older (in wrap-around order) than the last
    /// one seen: OFPRRFC_STALE otherwise. EQUAL and NOCHANGE ignore it.
    /// On success the caller sets the role, and for MASTER demotes every
    /// other master connection to slave.
    pub fn check(&mut self, role: ControllerRole, generation_id: u64) -> Result<(), ErrorKind> {
        if matches!(role, ControllerRole::Master | ControllerRole::Slave) {
            if let Some(g) = self.generation {
                if (generation_id.wrapping_sub(g) as i64) < 0 {
                    return Err(OFPRRFC_STALE);
                }
            }
            self.generation = Some(generation_id);
        }
        Ok(())
    }

    /// The last generation id seen, if any.
    pub fn generation(&self) -> Option<u64> {
        self.generation
    }
}

/// One OpenFlow channel (see the module docs).
#[derive(Clone, Debug)]
pub struct Connection {
    config: ConnConfig,
    state: ConnState,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    /// Bytes of `out` already handed to the socket.
    out_start: usize,
    next_xid: u32,
    /// When the connection was made (for the HELLO deadline).
    created: u64,
    last_rx: u64,
    /// When the outstanding echo probe was sent.
    probe_sent: Option<u64>,
    role: ControllerRole,
    switch_config: SwitchConfig,
    async_config: AsyncConfig,
    stats: ConnStats,
}

impl Connection {
    /// A new connection at `now`; our HELLO (OpenFlow 1.3 only) is queued.
    pub fn new(config: ConnConfig, now: u64) -> Connection {
        let mut c = Connection {
            config,
            state: ConnState::Hello,
            inbuf: Vec::new(),
            out: Vec::new(),
            out_start: 0,
            next_xid: 1,
            created: now,
            last_rx: now,
            probe_sent: None,
            role: ControllerRole::Equal,
            switch_config: SwitchConfig {
                flags: 0,
                miss_send_len: DEFAULT_MISS_SEND_LEN,
            },
            async_config: DEFAULT_ASYNC,
            stats: ConnStats::default(),
        };
        let xid = c.fresh_xid();
        c.send(xid, &Message::Hello(Hello::with_versions(&[OFP_VERSION])));
        c
    }

    pub fn state(&self) -> &ConnState {
        &self.state
    }

    pub fn is_up(&self) -> bool {
        self.state == ConnState::Up
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, ConnState::Closed(_))
    }

    pub fn role(&self) -> ControllerRole {
        self.role
    }

    /// The SET_CONFIG values (`miss_send_len`, fragment flags).
    pub fn switch_config(&self) -> SwitchConfig {
        self.switch_config
    }

    pub fn async_config(&self) -> AsyncConfig {
        self.async_config
    }

    pub fn stats(&self) -> ConnStats {
        self.stats
    }

    /// Bytes of an incomplete message held.
    pub fn pending_input(&self) -> usize {
        self.inbuf.len()
    }

    /// Bytes waiting to be sent, in order.
    pub fn output(&self) -> &[u8] {
        &self.out[self.out_start..]
    }

    /// Marks the first `n` bytes of [`Connection::output`] as sent.
    pub fn consume_output(&mut self, n: usize) {
        self.out_start = (self.out_start + n).min(self.out.len());
        if self.out_start == self.out.len() {
            self.out.clear();
            self.out_start = 0;
        } else if self.out_start > 64 * 1024 && self.out_start * 2 > self.out.len() {
            self.out.drain(..self.out_start);
            self.out_start = 0;
        }
    }

    /// Runs the timers, then takes every byte waiting to be sent.
    pub fn poll(&mut self, now: u64) -> Vec<u8> {
        self.on_timeout(now);
        let out = self.output().to_vec();
        self.out.clear();
        self.out_start = 0;
        out
    }

    /// When [`Connection::on_timeout`] has something to do next.
    pub fn next_timeout(&self) -> Option<u64> {
        let p = self.config.probe_interval;
        if p == 0 {
            return None;
        }
        match self.state {
            ConnState::Hello => Some(self.created.saturating_add(p)),
            ConnState::Up => Some(match self.probe_sent {
                Some(sent) => sent.saturating_add(p),
                None => self.last_rx.saturating_add(p),
            }),
            ConnState::Closed(_) => None,
        }
    }

    /// The timers: the HELLO deadline, the echo probe and its deadline.
    /// Returns the close event when one fired.
    pub fn on_timeout(&mut self, now: u64) -> Option<ConnEvent> {
        let p = self.config.probe_interval;
        if p == 0 {
            return None;
        }
        match self.state {
            ConnState::Hello if now >= self.created.saturating_add(p) => Some(self.close_with(
                CloseReason::Timeout(format!("no HELLO from the peer within {p} ms")),
            )),
            ConnState::Up => match self.probe_sent {
                Some(sent) if now >= sent.saturating_add(p) => Some(self.close_with(
                    CloseReason::Timeout(format!("no answer to an echo probe for {p} ms")),
                )),
                None if now >= self.last_rx.saturating_add(p) => {
                    let xid = self.fresh_xid();
                    self.send(xid, &Message::EchoRequest(Vec::new()));
                    self.probe_sent = Some(now);
                    self.stats.echo_probes += 1;
                    None
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Closes the connection (what is queued may still be sent).
    pub fn close(&mut self, why: impl Into<String>) -> ConnEvent {
        self.close_with(CloseReason::Local(why.into()))
    }

    fn close_with(&mut self, reason: CloseReason) -> ConnEvent {
        if let ConnState::Closed(r) = &self.state {
            return ConnEvent::Closed(r.clone());
        }
        self.state = ConnState::Closed(reason.clone());
        self.inbuf = Vec::new();
        ConnEvent::Closed(reason)
    }

    fn fresh_xid(&mut self) -> u32 {
        let x = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1).max(1);
        x
    }

    /// Queues a message with this xid. A message too long for OpenFlow
    /// (never one this switch builds) is replaced by nothing.
    pub fn send(&mut self, xid: u32, msg: &Message) {
        if let Ok(bytes) = msg.encode(xid) {
            self.send_raw(&bytes);
        }
    }

    /// Queues already-encoded messages (e.g. a split multipart reply).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        if self.is_closed() {
            return;
        }
        self.out.extend_from_slice(bytes);
        self.stats.tx_msgs += 1;
    }

    /// Queues an OFPT_ERROR echoing `offending` (its first 64 bytes).
    pub fn send_error(&mut self, xid: u32, kind: ErrorKind, offending: &[u8]) {
        let data = &offending[..offending.len().min(ERROR_ECHO_LEN)];
        self.send(xid, &Message::Error(ErrorMsg::new(kind, data)));
        self.stats.errors_sent += 1;
    }

    /// Queues an async message (PACKET_IN, FLOW_REMOVED, PORT_STATUS,
    /// xid 0) if the connection is up, its role and async config want the
    /// message's reason, and the output is not backed up.
    pub fn send_async(&mut self, msg: &Message) -> Delivery {
        if !self.is_up() {
            return Delivery::Filtered;
        }
        let slave = usize::from(self.role == ControllerRole::Slave);
        let a = &self.async_config;
        let (mask, reason) = match msg {
            Message::PacketIn(p) => (a.packet_in_mask[slave], p.reason),
            Message::FlowRemoved(f) => (a.flow_removed_mask[slave], f.reason),
            Message::PortStatus(p) => (a.port_status_mask[slave], p.reason),
            _ => (u32::MAX, 0),
        };
        if reason >= 32 || mask & (1 << reason) == 0 {
            return Delivery::Filtered;
        }
        if self.output().len() > self.config.max_queued {
            self.stats.async_dropped += 1;
            return Delivery::Dropped;
        }
        self.send(0, msg);
        self.stats.async_sent += 1;
        Delivery::Sent
    }

    /// Answers a [`ConnEvent::RoleRequest`] with the arbiter's verdict:
    /// sets the role and replies with it, or sends the error.
    /// `generation_id` is what the reply carries (the arbiter's).
    pub fn answer_role(
        &mut self,
        xid: u32,
        role: ControllerRole,
        verdict: Result<u64, ErrorKind>,
        head: &[u8],
    ) {
        match verdict {
            Ok(generation_id) => {
                if role != ControllerRole::NoChange {
                    self.role = role;
                }
                let reply = RoleMsg {
                    role: self.role,
                    generation_id,
                };
                self.send(xid, &Message::RoleReply(reply));
            }
            Err(kind) => self.send_error(xid, kind, head),
        }
    }

    /// Makes a master a slave (another connection became master).
    pub fn demote(&mut self) {
        if self.role == ControllerRole::Master {
            self.role = ControllerRole::Slave;
        }
    }

    /// Feeds received bytes; returns what the switch must handle, in order.
    pub fn on_bytes(&mut self, now: u64, bytes: &[u8]) -> Vec<ConnEvent> {
        let mut events = Vec::new();
        if self.is_closed() || bytes.is_empty() {
            return events;
        }
        self.last_rx = now;
        self.probe_sent = None;
        let mut buf = std::mem::take(&mut self.inbuf);
        buf.extend_from_slice(bytes);
        // Whatever does not start with a HELLO fails as soon as its header
        // is in, not after waiting for the rest of a length that is likely
        // garbage (the header, not less: the reply's xid must not depend on
        // how TCP cut the stream).
        if self.state == ConnState::Hello && buf.len() >= HEADER_LEN && buf[1] != OFPT_HELLO {
            let text = format!("expected HELLO, received message type {} first", buf[1]);
            self.hello_failed(buf[0], xid_of(&buf), text, &mut events);
            return events;
        }
        let mut at = 0;
        while !self.is_closed() {
            let rest = &buf[at..];
            match frame_len(rest, self.config.max_message_len) {
                Ok(Some(len)) if rest.len() >= len => {
                    self.stats.rx_msgs += 1;
                    self.on_frame(&rest[..len], &mut events);
                    at += len;
                }
                Ok(_) => break,
                // Wait for the whole header, and echo just it: its length
                // is what is wrong, so nothing after it is known to belong
                // to it (and the reply does not depend on how TCP cut it).
                Err(_) if rest.len() < HEADER_LEN => break,
                Err(e) => {
                    let xid = xid_of(rest);
                    self.send_error(xid, e.kind, &rest[..HEADER_LEN]);
                    events.push(self.close_with(CloseReason::BadFraming(e.message)));
                }
            }
        }
        if !self.is_closed() {
            buf.drain(..at);
            self.inbuf = buf;
        }
        events
    }

    fn on_frame(&mut self, frame: &[u8], events: &mut Vec<ConnEvent>) {
        let xid = xid_of(frame);
        if self.state == ConnState::Hello {
            self.on_hello(frame, events);
            return;
        }
        let msg = match Message::decode(frame) {
            Ok((_, msg)) => msg,
            Err(e) => {
                self.send_error(xid, e.kind, frame);
                return;
            }
        };
        let head = || frame[..frame.len().min(ERROR_ECHO_LEN)].to_vec();
        use Message as M;
        match msg {
            // A HELLO after the handshake changes nothing.
            M::Hello(_) | M::EchoReply(_) => {}
            M::EchoRequest(data) => self.send(xid, &M::EchoReply(data)),
            M::Error(error) => events.push(ConnEvent::PeerError { xid, error }),
            M::Experimenter(_) => self.send_error(xid, OFPBRC_BAD_EXPERIMENTER, frame),
            M::GetConfigRequest => self.send(xid, &M::GetConfigReply(self.switch_config)),
            M::SetConfig(c) => {
                let frag = c.flags & OFPC_FRAG_MASK;
                if c.flags & !OFPC_FRAG_MASK != 0 || !self.config.frag_modes.contains(&frag) {
                    self.send_error(xid, OFPSCFC_BAD_FLAGS, frame);
                } else {
                    self.switch_config = c;
                }
            }
            M::GetAsyncRequest => self.send(xid, &M::GetAsyncReply(self.async_config)),
            M::SetAsync(a) => self.async_config = a,
            M::RoleRequest(r) => events.push(ConnEvent::RoleRequest {
                xid,
                role: r.role,
                generation_id: r.generation_id,
                head: head(),
            }),
            m if self.role == ControllerRole::Slave && changes_switch(&m) => {
                self.send_error(xid, OFPBRC_IS_SLAVE, frame)
            }
            m @ (M::FeaturesRequest
            | M::FlowMod(_)
            | M::PacketOut(_)
            | M::GroupMod(_)
            | M::PortMod(_)
            | M::TableMod(_)
            | M::MeterMod(_)
            | M::MultipartRequest(_)
            | M::BarrierRequest) => events.push(ConnEvent::Request(Request {
                xid,
                msg: m,
                head: head(),
            })),
            // Replies and async messages go from switch to controller only.
            M::FeaturesReply(_)
            | M::GetConfigReply(_)
            | M::PacketIn(_)
            | M::FlowRemoved(_)
            | M::PortStatus(_)
            | M::MultipartReply(_)
            | M::BarrierReply
            | M::RoleReply(_)
            | M::GetAsyncReply(_) => self.send_error(xid, OFPBRC_BAD_TYPE, frame),
        }
    }

    /// The first message from the peer: it must be a HELLO that leaves a
    /// version in common (1.3).
    fn on_hello(&mut self, frame: &[u8], events: &mut Vec<ConnEvent>) {
        let peer_version = frame[0];
        let verdict = if frame[1] != OFPT_HELLO {
            Err(format!(
                "expected HELLO, received message type {} first",
                frame[1]
            ))
        } else {
            match Message::decode(frame) {
                Ok((h, Message::Hello(hello))) => {
                    match negotiate_version(&[OFP_VERSION], h.version, &hello) {
                        Some(v) => Ok(v),
                        None => Err(format!(
                            "no common version: this switch speaks OpenFlow 1.3 (0x04) only, \
                             the peer offers {}",
                            match hello.versions() {
                                Some(v) => format!("{v:02x?}"),
                                None => format!("up to {peer_version:#04x}"),
                            }
                        )),
                    }
                }
                Ok(_) => Err("expected HELLO".to_string()),
                Err(e) => Err(format!("malformed HELLO: {}", e.message)),
            }
        };
        match verdict {
            Ok(version) => {
                self.state = ConnState::Up;
                events.push(ConnEvent::Connected { version });
            }
            Err(text) => self.hello_failed(peer_version, xid_of(frame), text, events),
        }
    }

    /// Answers OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE with `text` (in a
    /// version the peer can read) and closes.
    fn hello_failed(
        &mut self,
        peer_version: u8,
        xid: u32,
        text: String,
        events: &mut Vec<ConnEvent>,
    ) {
        let err = ErrorMsg::new(OFPHFC_INCOMPATIBLE, text.as_bytes());
        if let Ok(mut bytes) = Message::Error(err).encode(xid) {
            bytes[0] = peer_version.clamp(1, OFP_VERSION);
            self.send_raw(&bytes);
            self.stats.errors_sent += 1;
        }
        events.push(self.close_with(CloseReason::HelloFailed(text)));
    }
}

/// Whether a message changes the switch (refused from a slave, spec 6.3.7).
fn changes_switch(m: &Message) -> bool {
    match m {
        Message::FlowMod(_)
        | Message::PacketOut(_)
        | Message::GroupMod(_)
        | Message::PortMod(_)
        | Message::TableMod(_)
        | Message::MeterMod(_) => true,
        Message::MultipartRequest(r) => {
            matches!(&r.body, MultipartRequestBody::TableFeatures(t) if !t.is_empty())
        }
        _ => false,
    }
}

/// The xid of a message whose header may be incomplete (0 then).
fn xid_of(bytes: &[u8]) -> u32 {
    match bytes.get(4..8) {
        Some(x) => u32::from_be_bytes([x[0], x[1], x[2], x[3]]),
        None => 0,
    }
}
