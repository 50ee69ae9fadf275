//! The switch daemon's OpenFlow side: per switch with OpenFlow targets, one
//! thread ([`OfService`]) serving its passive listeners (`ptcp:PORT[:ADDR]`,
//! bound to 127.0.0.1 unless an address is given) and its connections to
//! controllers (`tcp:HOST[:PORT]`, reconnected with exponential backoff),
//! over non-blocking sockets in one poll(2) loop.
//!
//! The protocol is [`vnet_openflow::conn::Connection`]'s (sans I/O); this
//! module moves bytes and carries out the requests against the switch:
//! FLOW_MODs go through the [`SwitchSet`] like the CLI's (so they are
//! persisted in `flows-SWITCH.txt` and survive a daemon restart), applied
//! one by one (each refused one gets its OFPT_ERROR); a BARRIER, PACKET_OUT
//! or MULTIPART request first publishes to the datapath what came before
//! it, and a burst is published shortly after it ends (the flows file a
//! little later: thousands of flow-mods are saved a few times, not
//! thousands). Packet-ins arrive from the datapath
//! through a bounded queue ([`PACKET_IN_QUEUE`]; full = dropped and
//! counted by the datapath), FLOW_REMOVED and PORT_STATUS from the switch
//! set through [`Notice`]s.
//!
//! Fail mode: while no connection of a switch is up, a `standalone` switch
//! sends table 0 misses to NORMAL; `secure` keeps them dropping (or going
//! to the controller when a flow says so).
//!
//! Locks: the thread takes the switch set's lock only with `try_lock`
//! (giving up when asked to stop), so the set may stop a service while
//! holding its own lock. Order: switch set, then a datapath.
//!
//! Here: the settings, targets and status, and [`OfService`], the handle
//! the switch set keeps; `worker`: the thread and its sockets;
//! `worker::requests`: what the requests do to the switch.
//!
//! What it must never do: block on a socket, let a peer's output or input
//! grow without bound, or let a peer's bytes crash the daemon.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender, SyncSender};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use vnet_openflow::msg::flow::FlowRemoved;
use vnet_switch::datapath::{ControllerPacket, ControllerSink};
use vnet_topo::lab::{FailMode, OpenFlow};

use crate::switchset::SwitchSet;

mod worker;

/// Packet-ins waiting between the datapath and the connections.
pub const PACKET_IN_QUEUE: usize = 1024;
/// A switch's OpenFlow settings as the daemon runs them (from the lab
/// file, or `vnet switch ... set-controller`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// `ptcp:...` listeners and `tcp:...` controllers, in order.
    pub targets: Vec<String>,
    #[serde(default)]
    pub fail_mode: FailMode,
}

impl Settings {
    pub fn from_lab(of: Option<&OpenFlow>) -> Settings {
        match of {
            Some(of) => Settings {
                targets: of.listen.iter().chain(&of.controllers).cloned().collect(),
                fail_mode: of.fail_mode,
            },
            None => Settings::default(),
        }
    }

    /// Whether the switch speaks OpenFlow at all.
    pub fn active(&self) -> bool {
        !self.targets.is_empty()
    }
}

/// A parsed target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Listen(SocketAddr),
    Connect { host: String, port: u16 },
}

impl Target {
    /// `ptcp:PORT[:ADDR]` or `tcp:HOST[:PORT]` (port 6653 by default).
    pub fn parse(s: &str) -> Result<Target, String> {
        let port = |p: &str| {
            p.parse::<u16>()
                .map_err(|_| format!("{s}: `{p}` is not a port number"))
        };
        let unbracket = |a: &str| {
            a.strip_prefix('[')
                .and_then(|a| a.strip_suffix(']'))
                .unwrap_or(a)
                .to_string()
        };
        if let Some(rest) = s.strip_prefix("ptcp:") {
            let (p, addr) = match rest.split_once(':') {
                Some((p, a)) => (p, Some(a)),
                None => (rest, None),
            };
            let ip: IpAddr = match addr {
                Some(a) => unbracket(a)
                    .parse()
                    .map_err(|_| format!("{s}: `{a}` is not an IP address"))?,
                None => IpAddr::V4(Ipv4Addr::LOCALHOST),
            };
            Ok(Target::Listen(SocketAddr::new(ip, port(p)?)))
        } else if let Some(rest) = s.strip_prefix("tcp:") {
            let (host, p) = match rest.rsplit_once(':') {
                Some((h, p)) if !h.is_empty() && (!h.contains(':') || h.ends_with(']')) => {
                    (unbracket(h), port(p)?)
                }
                _ => (unbracket(rest), 6653),
            };
            if host.is_empty() || p == 0 {
                return Err(format!("{s}: expected tcp:HOST[:PORT]"));
            }
            Ok(Target::Connect { host, port: p })
        } else {
            Err(format!(
                "{s}: not an OpenFlow target (ptcp:PORT[:ADDR] or tcp:HOST[:PORT])"
            ))
        }
    }
}

/// A stable datapath id for a switch of a lab: 48 bits of FNV-1a over
/// `LAB/SWITCH` (the width of the MAC-derived ids Open vSwitch uses).
pub fn datapath_id(lab: &str, switch: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in lab.bytes().chain([b'/']).chain(switch.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h & 0x0000_ffff_ffff_ffff
}

/// What the switch set tells a service.
#[derive(Debug)]
pub enum Notice {
    /// Flows with SEND_FLOW_REM left the tables.
    FlowRemoved(Vec<FlowRemoved>),
    /// The switch's ports changed (PORT_STATUS to send).
    PortsChanged,
}

/// What `show` reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    pub datapath_id: String,
    pub fail_mode: FailMode,
    pub listeners: Vec<ListenerStatus>,
    pub controllers: Vec<ControllerStatus>,
    pub connections: Vec<PeerStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListenerStatus {
    pub target: String,
    /// The bound address (its port, for `ptcp:0`), when bound.
    pub bound: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ControllerStatus {
    pub target: String,
    /// `connected`, `connecting` or `backoff`.
    pub state: String,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerStatus {
    pub peer: String,
    /// The listener or controller target it came through.
    pub via: String,
    /// `hello` or `up`.
    pub state: String,
    pub role: String,
    pub seconds: u64,
    pub rx_msgs: u64,
    pub tx_msgs: u64,
    pub errors_sent: u64,
    pub async_sent: u64,
    pub async_dropped: u64,
}

impl Status {
    /// Lines for `show`.
    pub fn text(&self) -> String {
        let mut t = format!(
            " openflow: datapath_id {}, fail_mode {}\n",
            self.datapath_id,
            match self.fail_mode {
                FailMode::Standalone => "standalone",
                FailMode::Secure => "secure",
            }
        );
        for l in &self.listeners {
            match (&l.bound, &l.error) {
                (Some(b), _) => t.push_str(&format!("  listen {}: listening on {b}\n", l.target)),
                (None, Some(e)) => t.push_str(&format!("  listen {}: {e}\n", l.target)),
                (None, None) => t.push_str(&format!("  listen {}\n", l.target)),
            }
        }
        for c in &self.controllers {
            t.push_str(&format!("  controller {}: {}", c.target, c.state));
            if let (false, Some(e)) = (c.state == "connected", &c.last_error) {
                t.push_str(&format!(" ({e})"));
            }
            t.push('\n');
        }
        for p in &self.connections {
            t.push_str(&format!(
                "  connection {} via {}: {}, role {}, {}s, rx {} tx {} msgs, {} errors sent\n",
                p.peer, p.via, p.state, p.role, p.seconds, p.rx_msgs, p.tx_msgs, p.errors_sent
            ));
        }
        t
    }
}
/// Wakes the service thread (a byte on a socket pair, at most one pending).
#[derive(Clone)]
struct Waker {
    tx: Arc<UnixStream>,
    pending: Arc<AtomicBool>,
}

impl Waker {
    fn wake(&self) {
        if !self.pending.swap(true, Ordering::SeqCst) {
            let _ = (&*self.tx).write(&[1]);
        }
    }
}
/// A switch's running OpenFlow service (see the module docs).
pub struct OfService {
    pub settings: Settings,
    stop: Arc<AtomicBool>,
    waker: Waker,
    notices: Sender<Notice>,
    packet_ins: SyncSender<ControllerPacket>,
    status: Arc<Mutex<Status>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for OfService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfService")
            .field("settings", &self.settings)
            .finish()
    }
}

impl OfService {
    /// Parses the targets, binds the listeners (a listener that cannot
    /// bind is retried by the thread, its error shown by `show`) and
    /// starts the thread.
    pub fn start(
        lab: &str,
        switch: &str,
        settings: Settings,
        set: Weak<Mutex<SwitchSet>>,
    ) -> Result<OfService, String> {
        let (wake_tx, wake_rx) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
        let _ = wake_tx.set_nonblocking(true);
        let _ = wake_rx.set_nonblocking(true);
        let waker = Waker {
            tx: Arc::new(wake_tx),
            pending: Arc::new(AtomicBool::new(false)),
        };
        let (notices, notice_rx) = mpsc::channel();
        let (packet_ins, pin_rx) = mpsc::sync_channel(PACKET_IN_QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let status = Arc::new(Mutex::new(Status {
            datapath_id: format!("{:016x}", datapath_id(lab, switch)),
            fail_mode: settings.fail_mode,
            ..Status::default()
        }));
        let thread = worker::spawn(worker::Spawn {
            lab: lab.to_string(),
            switch: switch.to_string(),
            settings: settings.clone(),
            set,
            stop: stop.clone(),
            wake_rx,
            wake_pending: waker.pending.clone(),
            notices: notice_rx,
            packet_ins: pin_rx,
            status: status.clone(),
        })?;
        Ok(OfService {
            settings,
            stop,
            waker,
            notices,
            packet_ins,
            status,
            thread: Some(thread),
        })
    }

    /// Where the datapath sends packet-ins.
    pub fn sink(&self) -> ControllerSink {
        let tx = self.packet_ins.clone();
        let waker = self.waker.clone();
        Arc::new(move |p: ControllerPacket| {
            let ok = tx.try_send(p).is_ok();
            if ok {
                waker.wake();
            }
            ok
        })
    }

    pub fn notify(&self, n: Notice) {
        if self.notices.send(n).is_ok() {
            self.waker.wake();
        }
    }

    pub fn status(&self) -> Status {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Stops the thread and closes every socket.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.waker.pending.store(false, Ordering::SeqCst);
        self.waker.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for OfService {
    fn drop(&mut self) {
        self.stop();
    }
}
/// The control-socket requests about OpenFlow (`vnet switch LAB SW
/// set-controller ...`), beside [`vnet_switch::control::Request`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "kebab-case")]
pub enum ControlRequest {
    /// Replace the switch's OpenFlow targets (`ptcp:...`, `tcp:...`).
    SetController {
        switch: String,
        targets: Vec<String>,
    },
    /// Remove every target.
    DelController {
        switch: String,
    },
    GetController {
        switch: String,
    },
    SetFailMode {
        switch: String,
        fail_mode: FailMode,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            Target::parse("ptcp:6653").unwrap(),
            Target::Listen("127.0.0.1:6653".parse().unwrap())
        );
        assert_eq!(
            Target::parse("ptcp:0:0.0.0.0").unwrap(),
            Target::Listen("0.0.0.0:0".parse().unwrap())
        );
        assert_eq!(
            Target::parse("ptcp:6653:[::1]").unwrap(),
            Target::Listen("[::1]:6653".parse().unwrap())
        );
        assert_eq!(
            Target::parse("tcp:127.0.0.1:6633").unwrap(),
            Target::Connect {
                host: "127.0.0.1".into(),
                port: 6633
            }
        );
        assert_eq!(
            Target::parse("tcp:ctl").unwrap(),
            Target::Connect {
                host: "ctl".into(),
                port: 6653
            }
        );
        assert_eq!(
            Target::parse("tcp:[::1]:7").unwrap(),
            Target::Connect {
                host: "::1".into(),
                port: 7
            }
        );
        assert!(Target::parse("udp:1").is_err());
        assert!(Target::parse("tcp:h:x").is_err());
        assert!(Target::parse("tcp:h:0").is_err());
    }

    #[test]
    fn datapath_ids_are_stable_and_distinct() {
        assert_eq!(datapath_id("lab", "sw1"), datapath_id("lab", "sw1"));
        assert_ne!(datapath_id("lab", "sw1"), datapath_id("lab", "sw2"));
        assert_ne!(datapath_id("la", "bsw1"), datapath_id("lab", "sw1"));
        assert!(datapath_id("lab", "sw1") < 1 << 48);
    }
}
