//! The service thread: one poll(2) loop over the listeners, the
//! connects in progress, the connections and the wake-up socket; timers
//! (echo probes, reconnects, publishing) come from the loop's timeout.
//! Requests are carried out by [`requests`].
//!
//! What it must never do: block (every socket is non-blocking; the switch
//! set is locked with `try_lock`), or read from a peer whose output is
//! backed up.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use vnet_openflow::conn::{ConnConfig, ConnEvent, ConnState, Connection, RoleArbiter};
use vnet_openflow::msg::basic::{
    ControllerRole, PortStatus, OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY,
};
use vnet_openflow::msg::flow::{PacketIn, OFP_NO_BUFFER};
use vnet_openflow::msg::Message;
use vnet_openflow::oxm::OxmMatch;
use vnet_openflow::port::{PortDesc, OFPPF_10GB_FD, OFPPF_COPPER, OFPPS_LINK_DOWN, OFPPS_LIVE};
use vnet_openflow::MAX_MESSAGE_LEN;
use vnet_switch::datapath::ControllerPacket;
use vnet_topo::lab::FailMode;

use super::{
    datapath_id, ControllerStatus, ListenerStatus, Notice, PeerStatus, Settings, Status, Target,
    PACKET_IN_QUEUE,
};
use crate::switchset::SwitchSet;

mod requests;

/// Connections per switch (more are refused at accept).
const MAX_PEERS: usize = 64;
/// Unsent output beyond which a peer is not read from (backpressure).
const HIGH_WATER: usize = 1 << 20;
/// Bytes read from one peer per loop turn (fairness).
const READ_BUDGET: usize = 256 * 1024;
/// Controller reconnect backoff (ms): first, and most.
const BACKOFF_MIN: u64 = 1_000;
const BACKOFF_MAX: u64 = 8_000;
/// How long a connect may take, and how long a closed connection may
/// still flush its last messages (ms).
const CONNECT_TIMEOUT: u64 = 5_000;
const LINGER: u64 = 1_000;
/// How soon flow-mods reach the datapath when nothing forces them, and
/// the flows file (ms).
const PUBLISH_DELAY: u64 = 50;
const SAVE_DELAY: u64 = 500;
/// The flow-table size TABLE_FEATURES reports.
const MAX_ENTRIES: u32 = 1_000_000;

/// What a service thread is made of.
pub(super) struct Spawn {
    pub lab: String,
    pub switch: String,
    pub settings: Settings,
    pub set: Weak<Mutex<SwitchSet>>,
    pub stop: Arc<AtomicBool>,
    pub wake_rx: UnixStream,
    pub wake_pending: Arc<AtomicBool>,
    pub notices: Receiver<Notice>,
    pub packet_ins: Receiver<ControllerPacket>,
    pub status: Arc<Mutex<Status>>,
}

/// Parses the targets, binds the listeners (one that cannot bind is
/// retried by the thread, its error shown by `show`) and starts the thread.
pub(super) fn spawn(s: Spawn) -> Result<JoinHandle<()>, String> {
    let mut listeners = Vec::new();
    let mut actives = Vec::new();
    for t in &s.settings.targets {
        match Target::parse(t)? {
            Target::Listen(addr) => listeners.push(Listener {
                target: t.clone(),
                addr,
                socket: None,
                bound: None,
                error: None,
                retry_at: 0,
            }),
            Target::Connect { host, port } => actives.push(Active {
                target: t.clone(),
                host,
                port,
                state: ActiveState::Waiting(0),
                backoff: BACKOFF_MIN,
                last_error: None,
                connected_at: 0,
            }),
        }
    }
    for l in &mut listeners {
        l.bind(0);
    }
    let worker = Worker {
        fail_mode: s.settings.fail_mode,
        lab: s.lab,
        switch: s.switch.clone(),
        set: s.set,
        stop: s.stop,
        wake_rx: s.wake_rx,
        wake_pending: s.wake_pending,
        notices: s.notices,
        packet_ins: s.packet_ins,
        status: s.status,
        listeners,
        actives,
        peers: Vec::new(),
        arbiter: RoleArbiter::default(),
        epoch: Instant::now(),
        any_up: false,
        ports: Vec::new(),
        ports_changed: false,
        served: false,
        macs: HashMap::new(),
        publish_at: None,
        save_at: None,
        save_not_before: 0,
    };
    worker.update_status(0);
    std::thread::Builder::new()
        .name(format!("of-{}", s.switch))
        .spawn(move || worker.run())
        .map_err(|e| format!("spawn the OpenFlow thread: {e}"))
}

struct Listener {
    target: String,
    addr: SocketAddr,
    socket: Option<TcpListener>,
    /// The bound address, as `show` prints it (read once, at bind).
    bound: Option<String>,
    error: Option<String>,
    retry_at: u64,
}

impl Listener {
    fn bind(&mut self, now: u64) {
        match TcpListener::bind(self.addr).and_then(|l| l.set_nonblocking(true).map(|()| l)) {
            Ok(l) => {
                self.bound = l.local_addr().ok().map(|a| a.to_string());
                self.socket = Some(l);
                self.error = None;
            }
            Err(e) => {
                self.error = Some(format!("bind {}: {e}", self.addr));
                self.retry_at = now + BACKOFF_MAX;
            }
        }
    }
}

struct Active {
    target: String,
    host: String,
    port: u16,
    state: ActiveState,
    backoff: u64,
    last_error: Option<String>,
    connected_at: u64,
}

enum ActiveState {
    /// Connect at this time.
    Waiting(u64),
    Connecting {
        stream: TcpStream,
        addr: SocketAddr,
        deadline: u64,
    },
    Connected,
}

impl Active {
    fn failed(&mut self, now: u64, why: String) {
        self.last_error = Some(why);
        self.state = ActiveState::Waiting(now + self.backoff);
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
    }
}

/// Where a connection came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Listener(usize),
    Active(usize),
}

struct Peer {
    stream: TcpStream,
    conn: Connection,
    remote: SocketAddr,
    origin: Origin,
    since: u64,
    /// Closed by the protocol: flush until then, then drop.
    linger_until: Option<u64>,
    /// The socket failed or the peer closed: drop now.
    dead: bool,
}

/// A switch port as OpenFlow describes it.
#[derive(Clone, PartialEq, Eq)]
struct PortInfo {
    ofport: u32,
    name: String,
    /// OpenFlow config bits (PORT_MOD).
    config: u32,
}

impl PortInfo {
    /// The same port (a changed config is a MODIFY, not a new port).
    fn same_port(&self, other: &PortInfo) -> bool {
        (self.ofport, &self.name) == (other.ofport, &other.name)
    }
}

struct Worker {
    lab: String,
    switch: String,
    fail_mode: FailMode,
    set: Weak<Mutex<SwitchSet>>,
    stop: Arc<AtomicBool>,
    wake_rx: UnixStream,
    wake_pending: Arc<AtomicBool>,
    notices: Receiver<Notice>,
    packet_ins: Receiver<ControllerPacket>,
    status: Arc<Mutex<Status>>,
    listeners: Vec<Listener>,
    actives: Vec<Active>,
    peers: Vec<Peer>,
    arbiter: RoleArbiter,
    epoch: Instant,
    any_up: bool,
    /// The ports last described to the controllers.
    ports: Vec<PortInfo>,
    /// A PORT_MOD changed a port: re-read and announce at the end of the
    /// turn (the switch set is locked while requests run).
    ports_changed: bool,
    /// This turn read requests from a peer (see [`SPIN`]).
    served: bool,
    /// Port name → (MAC, link up), read from the kernel.
    macs: HashMap<String, ([u8; 6], bool)>,
    /// When applied flow-mods are due to be published, and saved.
    publish_at: Option<u64>,
    save_at: Option<u64>,
    /// The flows file is rewritten whole, so during a long burst of
    /// flow-mods saves are spaced by [`SAVE_SPACING`] times what the last
    /// one took: saving then costs at most ~1/SAVE_SPACING of the time.
    save_not_before: u64,
}

/// How long the thread looks for a peer's next request before sleeping
/// (see [`Worker::turn`]).
const SPIN: Duration = Duration::from_micros(150);

/// See [`Worker::save_not_before`].
const SAVE_SPACING: u64 = 8;

/// What a poll slot is.
#[derive(Clone, Copy)]
enum Slot {
    Wake,
    Listener(usize),
    Connecting(usize),
    Peer(usize),
}

/// Locks the switch set without ever blocking for long: gives up when
/// the service is asked to stop (the set may be stopping it).
fn lock_set<'a>(set: &'a Mutex<SwitchSet>, stop: &AtomicBool) -> Option<MutexGuard<'a, SwitchSet>> {
    loop {
        match set.try_lock() {
            Ok(g) => return Some(g),
            Err(TryLockError::Poisoned(p)) => return Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => {
                if stop.load(Ordering::SeqCst) {
                    return None;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }
}

fn role_name(r: ControllerRole) -> &'static str {
    match r {
        ControllerRole::NoChange => "nochange",
        ControllerRole::Equal => "equal",
        ControllerRole::Master => "master",
        ControllerRole::Slave => "slave",
    }
}
impl Worker {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn log(&self, what: std::fmt::Arguments) {
        eprintln!("vnet switchd {}: switch {}: {what}", self.lab, self.switch);
    }

    fn run(mut self) {
        self.refresh_ports(false);
        while !self.stop.load(Ordering::SeqCst) {
            self.turn();
        }
        for p in &mut self.peers {
            let _ = p.stream.shutdown(std::net::Shutdown::Both);
        }
    }

    /// One poll and everything it made ready.
    fn turn(&mut self) {
        let now = self.now();
        self.start_connects(now);
        for l in &mut self.listeners {
            if l.socket.is_none() && now >= l.retry_at {
                l.bind(now);
            }
        }
        let mut slots = vec![Slot::Wake];
        let mut fds: Vec<PollFd> = vec![PollFd::new(self.wake_rx.as_fd(), PollFlags::POLLIN)];
        for (i, l) in self.listeners.iter().enumerate() {
            if let Some(s) = &l.socket {
                slots.push(Slot::Listener(i));
                fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
            }
        }
        for (i, a) in self.actives.iter().enumerate() {
            if let ActiveState::Connecting { stream, .. } = &a.state {
                slots.push(Slot::Connecting(i));
                fds.push(PollFd::new(stream.as_fd(), PollFlags::POLLOUT));
            }
        }
        for (i, p) in self.peers.iter().enumerate() {
            let mut flags = PollFlags::empty();
            if p.linger_until.is_none() && p.conn.output().len() < HIGH_WATER {
                flags |= PollFlags::POLLIN;
            }
            if !p.conn.output().is_empty() {
                flags |= PollFlags::POLLOUT;
            }
            slots.push(Slot::Peer(i));
            fds.push(PollFd::new(p.stream.as_fd(), flags));
        }
        let timeout = self.next_deadline(now).saturating_sub(now).min(1000);
        // Right after a request was served, a lock-step peer (ovs-ofctl
        // waits for each barrier reply) sends the next within tens of µs:
        // look for it for a moment before sleeping, as a sleep and wake-up
        // of this thread costs more than that on a VM. Bounded: never more
        // than SPIN per turn that served a request, none when idle.
        let mut n = 0;
        if std::mem::take(&mut self.served) {
            let until = Instant::now() + SPIN;
            while n == 0 && Instant::now() < until {
                n = poll(&mut fds, PollTimeout::ZERO).unwrap_or(0);
            }
        }
        if n == 0 {
            let _ = poll(&mut fds, PollTimeout::from(timeout as u16));
        }
        let ready: Vec<(Slot, PollFlags)> = slots
            .into_iter()
            .zip(
                fds.iter()
                    .map(|f| f.revents().unwrap_or(PollFlags::empty())),
            )
            .filter(|(_, r)| !r.is_empty())
            .collect();
        drop(fds);

        let now = self.now();
        for (slot, revents) in ready {
            match slot {
                Slot::Wake => {
                    // Drain first, then clear: clearing first lets a wake
                    // between the two lose its byte here while the flag
                    // stays set, and no later wake would write another
                    // (packet-ins then waited for the 1 s poll timeout).
                    let mut b = [0u8; 64];
                    while matches!((&self.wake_rx).read(&mut b), Ok(n) if n > 0) {}
                    self.wake_pending.store(false, Ordering::SeqCst);
                }
                Slot::Listener(i) => self.accept(i, now),
                Slot::Connecting(i) => self.connected(i, now),
                Slot::Peer(i) => {
                    if revents
                        .intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
                    {
                        self.read_peer(i, now);
                    }
                }
            }
        }
        self.deliver_packet_ins();
        self.deliver_notices();
        if std::mem::take(&mut self.ports_changed) {
            self.refresh_ports(true);
        }
        for i in 0..self.peers.len() {
            if let Some(ConnEvent::Closed(r)) = self.peers[i].conn.on_timeout(now) {
                self.closing(i, now, &r.to_string());
            }
            self.write_peer(i);
        }
        self.reap(now);
        let publish = self.publish_at.is_some_and(|t| now >= t);
        let save = self.save_due().is_some_and(|t| now >= t);
        if publish || save {
            if let Some(arc) = self.set.upgrade() {
                let locked = lock_set(&arc, &self.stop);
                if let Some(mut set) = locked {
                    let started = Instant::now();
                    set.publish_flow_mods(&self.switch, save);
                    self.publish_at = None;
                    if save {
                        self.save_at = None;
                        let took = started.elapsed().as_millis() as u64;
                        self.save_not_before = self.now() + SAVE_SPACING * took;
                    }
                }
            }
        }
        self.update_fail_mode();
        self.update_status(now);
    }

    /// When the flows file is due to be saved, if it is.
    fn save_due(&self) -> Option<u64> {
        self.save_at.map(|t| t.max(self.save_not_before))
    }

    /// The earliest time something is due.
    fn next_deadline(&self, now: u64) -> u64 {
        let mut t = now + 1000;
        for p in &self.peers {
            if let Some(d) = p.conn.next_timeout() {
                t = t.min(d);
            }
            if let Some(d) = p.linger_until {
                t = t.min(d);
            }
        }
        for a in &self.actives {
            match &a.state {
                ActiveState::Waiting(at) => t = t.min(*at),
                ActiveState::Connecting { deadline, .. } => t = t.min(*deadline),
                ActiveState::Connected => {}
            }
        }
        for l in &self.listeners {
            if l.socket.is_none() {
                t = t.min(l.retry_at);
            }
        }
        for p in [self.publish_at, self.save_due()].into_iter().flatten() {
            t = t.min(p);
        }
        t.max(now)
    }

    fn start_connects(&mut self, now: u64) {
        for a in &mut self.actives {
            let ActiveState::Waiting(at) = a.state else {
                continue;
            };
            if now < at {
                continue;
            }
            let addr = match (a.host.as_str(), a.port).to_socket_addrs() {
                Ok(mut addrs) => addrs.next(),
                Err(e) => {
                    a.failed(now, format!("resolve {}: {e}", a.host));
                    continue;
                }
            };
            let Some(addr) = addr else {
                a.failed(now, format!("{} has no address", a.host));
                continue;
            };
            match connect_nonblocking(addr) {
                Ok(stream) => {
                    a.state = ActiveState::Connecting {
                        stream,
                        addr,
                        deadline: now + CONNECT_TIMEOUT,
                    }
                }
                Err(e) => a.failed(now, format!("connect {addr}: {e}")),
            }
        }
        // Connects that take too long.
        for a in &mut self.actives {
            if let ActiveState::Connecting { deadline, addr, .. } = &a.state {
                if now >= *deadline {
                    let why = format!("connect {addr}: timed out");
                    a.failed(now, why);
                }
            }
        }
    }

    fn connected(&mut self, i: usize, now: u64) {
        let state = std::mem::replace(&mut self.actives[i].state, ActiveState::Connected);
        let ActiveState::Connecting { stream, addr, .. } = state else {
            self.actives[i].state = state;
            return;
        };
        let err = match stream.take_error() {
            Ok(Some(e)) => Some(e.to_string()),
            Ok(None) => stream.peer_addr().err().map(|e| e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(e) = err {
            self.actives[i].failed(now, format!("connect {addr}: {e}"));
            return;
        }
        let a = &mut self.actives[i];
        a.connected_at = now;
        a.last_error = None;
        let target = a.target.clone();
        self.log(format_args!("connected to controller {target}"));
        self.add_peer(stream, addr, Origin::Active(i), now);
    }

    fn accept(&mut self, i: usize, now: u64) {
        for _ in 0..16 {
            let Some(l) = &self.listeners[i].socket else {
                return;
            };
            match l.accept() {
                Ok((stream, addr)) => {
                    if self.peers.len() >= MAX_PEERS {
                        self.log(format_args!(
                            "refused {addr}: {MAX_PEERS} connections already"
                        ));
                        continue;
                    }
                    self.add_peer(stream, addr, Origin::Listener(i), now);
                }
                Err(_) => return,
            }
        }
    }

    fn add_peer(&mut self, stream: TcpStream, remote: SocketAddr, origin: Origin, now: u64) {
        let _ = stream.set_nonblocking(true);
        let _ = stream.set_nodelay(true);
        let conn = Connection::new(ConnConfig::default(), now);
        self.peers.push(Peer {
            stream,
            conn,
            remote,
            origin,
            since: now,
            linger_until: None,
            dead: false,
        });
        let i = self.peers.len() - 1;
        self.write_peer(i);
    }

    fn via(&self, origin: Origin) -> String {
        match origin {
            Origin::Listener(i) => self.listeners[i].target.clone(),
            Origin::Active(i) => self.actives[i].target.clone(),
        }
    }

    /// A connection the protocol closed: flush its last bytes, briefly.
    fn closing(&mut self, i: usize, now: u64, why: &str) {
        let p = &mut self.peers[i];
        if p.linger_until.is_none() {
            p.linger_until = Some(now + LINGER);
            let remote = p.remote;
            let via = self.via(self.peers[i].origin);
            self.log(format_args!("connection {remote} via {via}: {why}"));
        }
    }

    fn read_peer(&mut self, i: usize, now: u64) {
        let mut buf = vec![0u8; 65536];
        let mut budget = READ_BUDGET;
        while budget > 0 && !self.peers[i].dead && self.peers[i].linger_until.is_none() {
            let n = match (&self.peers[i].stream).read(&mut buf) {
                Ok(0) => {
                    self.peers[i].dead = true;
                    break;
                }
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.peers[i].dead = true;
                    break;
                }
            };
            budget = budget.saturating_sub(n);
            self.served = true;
            let events = self.peers[i].conn.on_bytes(now, &buf[..n]);
            self.handle_events(i, events, now);
            self.write_peer(i);
            // A short read drained the socket: the next poll reports more
            // (saves a syscall per request for lock-step peers such as
            // ovs-ofctl, which waits for a barrier reply after each flow).
            if n < buf.len() || self.peers[i].conn.output().len() >= HIGH_WATER {
                break;
            }
        }
    }

    fn write_peer(&mut self, i: usize) {
        let p = &mut self.peers[i];
        while !p.dead && !p.conn.output().is_empty() {
            match (&p.stream).write(p.conn.output()) {
                Ok(0) => p.dead = true,
                Ok(n) => p.conn.consume_output(n),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => p.dead = true,
            }
        }
    }

    /// Drops dead connections and closed ones that flushed (or lingered
    /// long enough); schedules reconnects.
    fn reap(&mut self, now: u64) {
        let mut i = 0;
        while i < self.peers.len() {
            let p = &self.peers[i];
            let done = p.dead
                || p.linger_until
                    .is_some_and(|t| now >= t || p.conn.output().is_empty());
            if !done {
                i += 1;
                continue;
            }
            let p = self.peers.remove(i);
            let via = self.via(p.origin);
            self.log(format_args!("connection {} via {via} closed", p.remote));
            if let Origin::Active(a) = p.origin {
                let a = &mut self.actives[a];
                if now.saturating_sub(a.connected_at) > 10 * BACKOFF_MAX {
                    a.backoff = BACKOFF_MIN;
                }
                let why = match p.conn.state() {
                    ConnState::Closed(r) => r.to_string(),
                    _ => "connection closed".to_string(),
                };
                a.failed(now, why);
            }
        }
    }

    fn update_fail_mode(&mut self) {
        let up = self.peers.iter().any(|p| p.conn.is_up() && !p.dead);
        if up == self.any_up {
            return;
        }
        let Some(arc) = self.set.upgrade() else {
            return;
        };
        let locked = lock_set(&arc, &self.stop);
        if let Some(mut set) = locked {
            set.openflow_connected(&self.switch, up);
            self.any_up = up;
        }
    }

    fn update_status(&self, now: u64) {
        let s = Status {
            datapath_id: format!("{:016x}", datapath_id(&self.lab, &self.switch)),
            fail_mode: self.fail_mode,
            listeners: self
                .listeners
                .iter()
                .map(|l| ListenerStatus {
                    target: l.target.clone(),
                    bound: l.socket.as_ref().and(l.bound.clone()),
                    error: l.error.clone(),
                })
                .collect(),
            controllers: self
                .actives
                .iter()
                .map(|a| ControllerStatus {
                    target: a.target.clone(),
                    state: match a.state {
                        ActiveState::Waiting(_) => "backoff",
                        ActiveState::Connecting { .. } => "connecting",
                        ActiveState::Connected => "connected",
                    }
                    .to_string(),
                    last_error: a.last_error.clone(),
                })
                .collect(),
            connections: self
                .peers
                .iter()
                .map(|p| {
                    let st = p.conn.stats();
                    PeerStatus {
                        peer: p.remote.to_string(),
                        via: self.via(p.origin),
                        state: match p.conn.state() {
                            ConnState::Hello => "hello".to_string(),
                            ConnState::Up => "up".to_string(),
                            ConnState::Closed(r) => r.to_string(),
                        },
                        role: role_name(p.conn.role()).to_string(),
                        seconds: now.saturating_sub(p.since) / 1000,
                        rx_msgs: st.rx_msgs,
                        tx_msgs: st.tx_msgs,
                        errors_sent: st.errors_sent,
                        async_sent: st.async_sent,
                        async_dropped: st.async_dropped,
                    }
                })
                .collect(),
        };
        if let Ok(mut g) = self.status.lock() {
            *g = s;
        }
    }

    /// Packet-ins from the datapath to every connection that wants them.
    fn deliver_packet_ins(&mut self) {
        for _ in 0..PACKET_IN_QUEUE {
            let Ok(p) = self.packet_ins.try_recv() else {
                break;
            };
            if self.peers.is_empty() {
                continue;
            }
            // What fits in one message after the header and match.
            let data = p.data[..p.data.len().min(MAX_MESSAGE_LEN - 128)].to_vec();
            let msg = Message::PacketIn(PacketIn {
                buffer_id: OFP_NO_BUFFER,
                total_len: u16::try_from(p.total_len).unwrap_or(u16::MAX),
                reason: p.reason as u8,
                table_id: p.table_id,
                cookie: p.cookie,
                r#match: OxmMatch::packet_in(p.in_port, p.metadata, p.tunnel_id),
                data,
            });
            self.broadcast(&msg);
        }
    }

    fn broadcast(&mut self, msg: &Message) {
        for p in &mut self.peers {
            if !p.dead && p.linger_until.is_none() {
                p.conn.send_async(msg);
            }
        }
    }

    fn deliver_notices(&mut self) {
        while let Ok(n) = self.notices.try_recv() {
            match n {
                Notice::FlowRemoved(list) => {
                    for f in list {
                        self.broadcast(&Message::FlowRemoved(f));
                    }
                }
                Notice::PortsChanged => self.refresh_ports(true),
            }
        }
    }

    /// Re-reads the switch's ports; with `announce`, sends PORT_STATUS
    /// for those added and removed since the last look, and MODIFY for
    /// those whose config (PORT_MOD) changed.
    fn refresh_ports(&mut self, announce: bool) {
        let Some(arc) = self.set.upgrade() else {
            return;
        };
        let (ports, netns) = {
            let Some(set) = lock_set(&arc, &self.stop) else {
                return;
            };
            (set_ports(&set, &self.switch), set.netns_of(&self.switch))
        };
        let known = |list: &[PortInfo], p: &PortInfo| list.iter().any(|q| q.same_port(p));
        let gone: Vec<PortInfo> = self
            .ports
            .iter()
            .filter(|p| !known(&ports, p))
            .cloned()
            .collect();
        let added: Vec<PortInfo> = ports
            .iter()
            .filter(|p| !known(&self.ports, p))
            .cloned()
            .collect();
        let old_macs = std::mem::take(&mut self.macs);
        if let Some(ns) = netns {
            self.macs = read_macs(&ns);
        }
        // Same port, new config, MAC or link state (a device recreated
        // under the port's name has a new MAC): MODIFY.
        let modified: Vec<PortInfo> = ports
            .iter()
            .filter(|p| {
                known(&self.ports, p)
                    && (!self.ports.contains(p) || old_macs.get(&p.name) != self.macs.get(&p.name))
            })
            .cloned()
            .collect();
        if announce {
            for (reason, list) in [
                (OFPPR_DELETE, &gone),
                (OFPPR_ADD, &added),
                (OFPPR_MODIFY, &modified),
            ] {
                for p in list {
                    let desc = self.port_desc(p);
                    self.broadcast(&Message::PortStatus(PortStatus { reason, desc }));
                }
            }
        }
        self.ports = ports;
    }

    fn port_desc(&self, p: &PortInfo) -> PortDesc {
        let (mac, up) = self.macs.get(&p.name).copied().unwrap_or(([0; 6], true));
        PortDesc {
            port_no: p.ofport,
            hw_addr: mac,
            name: p.name.clone(),
            config: p.config,
            state: if up { OFPPS_LIVE } else { OFPPS_LINK_DOWN },
            curr: OFPPF_10GB_FD | OFPPF_COPPER,
            advertised: 0,
            supported: 0,
            peer: 0,
            curr_speed: 10_000_000,
            max_speed: 10_000_000,
        }
    }
}

/// The switch's ports (its datapath's, LOCAL included), in port order.
fn set_ports(set: &SwitchSet, switch: &str) -> Vec<PortInfo> {
    let mut v: Vec<PortInfo> = set
        .datapath(switch)
        .and_then(|dp| {
            dp.lock().ok().map(|d| {
                d.ports
                    .iter()
                    .map(|p| PortInfo {
                        ofport: p.ofport,
                        name: p.name.clone(),
                        config: d.port_config(p.ofport),
                    })
                    .collect()
            })
        })
        .unwrap_or_default();
    v.sort_by_key(|p| p.ofport);
    v
}

/// MAC address and link state of every interface of a namespace.
fn read_macs(netns: &str) -> HashMap<String, ([u8; 6], bool)> {
    let Ok(ns) = vnet_sys::Netns::open(netns) else {
        return HashMap::new();
    };
    ns.run(|| {
        vnet_sys::Netlink::open()
            .and_then(|mut nl| nl.links())
            .map(|links| {
                links
                    .into_iter()
                    .map(|l| (l.name, (l.mac.unwrap_or([0; 6]), l.up && l.lower_up)))
                    .collect()
            })
            .unwrap_or_default()
    })
    .unwrap_or_default()
}
/// Starts a TCP connect without waiting for it (poll for POLLOUT).
fn connect_nonblocking(addr: SocketAddr) -> std::io::Result<TcpStream> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType, SockaddrStorage};
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd = socket(
        family,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let sa = SockaddrStorage::from(addr);
    match nix::sys::socket::connect(fd.as_raw_fd(), &sa) {
        Ok(()) | Err(nix::errno::Errno::EINPROGRESS) => Ok(TcpStream::from(fd)),
        Err(e) => Err(e.into()),
    }
}
