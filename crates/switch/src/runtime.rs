//! The switch runtime inside the daemon: a set of switches, one datapath
//! thread each, reconfigured from the control plane.
//!
//! Threads: each switch's datapath thread polls its ports (sleeping in
//! poll(2) when idle — no spinning) and holds the switch's lock only while
//! it moves a batch. The control plane takes the same lock briefly to
//! change ports or rules and wakes the thread through a socket pair so it
//! picks up new ports at once.
//!
//! Ports follow their devices by name: the thread listens to the link
//! events (rtnetlink RTNLGRP_LINK) of each namespace its device ports live
//! in, and when a port's device is deleted and a new one appears under the
//! same name (`ip link del` and add, a lab link rebuilt) it re-attaches the
//! port to the new device — same port number, VLAN mode and counters. A
//! port whose device is gone stays configured, receives nothing and counts
//! what it is given as transmit drops. A link going down and up needs
//! nothing: the kernel keeps the socket bound to the device.
//!
//! Configuration is declarative ([`SwitchConfig`]): `apply` adds, removes
//! and re-plumbs ports to match, and installs the flows. The daemon builds
//! configs from the lab file and the flows users added, so a restarted
//! daemon comes back with the same ports and flows.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use serde::{Deserialize, Serialize};
use vnet_sys::netlink::{LinkEvent, LinkMonitor};
use vnet_sys::packet::{PacketOptions, PacketSocket};
use vnet_sys::Netns;

use crate::datapath::{Datapath, SwitchPort, VlanMode};
use crate::learning::{MacTable, DEFAULT_AGEING, DEFAULT_CAPACITY};
use crate::port::{PacketPort, PortIo};

/// One port of a switch: a netdev in the switch's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortConfig {
    pub name: String,
    /// OpenFlow port number (1-based, stable across restarts).
    pub ofport: u32,
    #[serde(default)]
    pub vlan: VlanMode,
}

/// A switch as the daemon should run it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchConfig {
    pub name: String,
    /// The namespace holding the port netdevs.
    pub netns: String,
    pub ports: Vec<PortConfig>,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("switch {switch}: port {port}: {reason}")]
    Port {
        switch: String,
        port: String,
        reason: String,
    },
    #[error("switch {switch}: {reason}")]
    Switch { switch: String, reason: String },
    #[error("no switch named {0}")]
    NoSuchSwitch(String),
}

/// A frame from the controller (PACKET_OUT) waiting for the datapath thread.
pub struct Injected {
    pub in_port: u32,
    pub data: Vec<u8>,
    pub ops: Vec<crate::datapath::Op>,
    pub rewrites: Vec<crate::datapath::RewriteFn>,
}

/// Bound on frames waiting to be injected; more are dropped.
const INJECT_QUEUE: usize = 4096;

/// Hands frames to a switch's datapath thread without taking the datapath
/// lock (which that thread holds while it forwards, and re-takes at once:
/// a contending thread could starve on it under load).
#[derive(Clone)]
pub struct Injector {
    queue: Arc<Mutex<std::collections::VecDeque<Injected>>>,
    waker: Arc<UnixStream>,
    /// A wake byte is on its way (at most one pending: a burst of
    /// PACKET_OUTs costs one syscall, not one each). The datapath thread
    /// drains the socket, then clears this, then drains the queue.
    pending: Arc<AtomicBool>,
}

impl Injector {
    /// Queues a frame; false when the queue is full (the frame is dropped).
    pub fn inject(&self, item: Injected) -> bool {
        let Ok(mut q) = self.queue.lock() else {
            return false;
        };
        if q.len() >= INJECT_QUEUE {
            return false;
        }
        q.push_back(item);
        drop(q);
        if !self.pending.swap(true, Ordering::SeqCst) {
            let _ = (&*self.waker).write(&[1]);
        }
        true
    }
}

/// A running switch: its datapath behind a lock, its thread, its waker.
pub struct SwitchHandle {
    pub config: SwitchConfig,
    pub dp: Arc<Mutex<Datapath>>,
    waker: UnixStream,
    stop: Arc<AtomicBool>,
    /// Bumped when ports change so the thread rebuilds its poll set.
    generation: Arc<AtomicU64>,
    injector: Injector,
    thread: Option<JoinHandle<()>>,
    /// Set by the datapath thread when a port was detached from its device
    /// or re-attached to a new one (see [`SwitchHandle::take_ports_changed`]).
    ports_changed: Arc<AtomicBool>,
    /// Ports of `config` that could not be opened (device missing, ...) at
    /// the last start or reconfigure: the switch runs without them, and
    /// `reconfigure` tries them again. One bad port never stops a switch.
    pub failed_ports: Vec<RuntimeError>,
}

impl std::fmt::Debug for SwitchHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchHandle")
            .field("config", &self.config)
            .finish()
    }
}

/// Switches with more ports than this read them with recvmmsg instead of
/// a receive ring: each ring holds 2 MiB of kernel memory, which a
/// 1000-host star on one switch would turn into 2 GiB.
pub const RING_MAX_PORTS: usize = 64;

/// Whether a switch of `ports` ports uses receive rings (see
/// [`RING_MAX_PORTS`]; `VNET_RX_RING=0` turns them off, `=1` on).
pub fn use_rx_ring(ports: usize) -> bool {
    match std::env::var_os("VNET_RX_RING") {
        Some(v) if v == "0" => false,
        Some(v) if v == "1" => true,
        _ => ports <= RING_MAX_PORTS,
    }
}

fn open_port(
    netns: &Netns,
    switch: &str,
    p: &PortConfig,
    rx_ring: bool,
) -> Result<Box<dyn PortIo>, RuntimeError> {
    let fail = |reason: String| RuntimeError::Port {
        switch: switch.to_string(),
        port: p.name.clone(),
        reason,
    };
    let name = p.name.clone();
    let sock = netns
        .run(move || -> std::io::Result<PacketSocket> {
            let mut nl = vnet_sys::Netlink::open().map_err(std::io::Error::other)?;
            let idx = nl.index_of(&name).map_err(std::io::Error::other)?;
            PacketSocket::open(
                idx,
                PacketOptions {
                    rx_ring,
                    ..PacketOptions::default()
                },
            )
        })
        .map_err(|e| fail(e.to_string()))?
        .map_err(|e| fail(e.to_string()))?;
    Ok(Box::new(PacketPort::new(sock)))
}

/// Creates the internal port's TAP device `name` in the calling thread's
/// namespace (vnet headers, non-blocking, no IPv6 link-local address, up)
/// and returns its one queue: the device goes when the file is closed.
pub fn create_internal_tap(name: String) -> Result<std::fs::File, String> {
    let t = vnet_sys::tuntap::TunTapBuilder::tap(name)
        .vnet_hdr(true)
        .nonblocking(true)
        .create()
        .map_err(|e| e.to_string())?;
    let mut nl = vnet_sys::Netlink::open().map_err(|e| e.to_string())?;
    let _ = nl.set_addrgenmode_none(t.ifindex());
    nl.set_up(t.ifindex(), true).map_err(|e| e.to_string())?;
    t.into_queues()
        .into_iter()
        .next()
        .ok_or_else(|| "no queue".to_string())
}

/// OpenFlow's LOCAL port: the switch's internal port.
pub const LOCAL_PORT: u32 = 0xffff_fffe;

/// The internal port: a TAP device named after the switch in the switch's
/// namespace (a netdev for the switch itself, as OVS's internal port), tied
/// to the daemon process so it never outlives it. Skipped when the switch
/// name is not a valid interface name.
fn open_internal(netns: &Netns, switch: &str) -> Result<Option<Box<dyn PortIo>>, RuntimeError> {
    if vnet_sys::tuntap::validate_name(switch).is_err() {
        return Ok(None);
    }
    let name = switch.to_string();
    let made = netns
        .run(move || create_internal_tap(name))
        .map_err(|e| RuntimeError::Switch {
            switch: switch.to_string(),
            reason: e.to_string(),
        })?
        .map_err(|reason| RuntimeError::Port {
            switch: switch.to_string(),
            port: switch.to_string(),
            reason,
        })?;
    Ok(Some(Box::new(crate::port::TapPort::new(made, true))))
}

impl SwitchHandle {
    /// Starts a switch with its ports (and its internal port). Ports that
    /// cannot be opened are left out and listed in `failed_ports`.
    pub fn start(config: SwitchConfig) -> Result<SwitchHandle, RuntimeError> {
        let mut dp = Datapath::new(
            config.name.clone(),
            MacTable::new(DEFAULT_CAPACITY, DEFAULT_AGEING),
        );
        let netns = Netns::open(&config.netns).map_err(|e| RuntimeError::Switch {
            switch: config.name.clone(),
            reason: e.to_string(),
        })?;
        let mut failed = Vec::new();
        for p in &config.ports {
            match open_port(&netns, &config.name, p, use_rx_ring(config.ports.len())) {
                Ok(io) => dp.add_port(SwitchPort {
                    name: p.name.clone(),
                    ofport: p.ofport,
                    vlan: p.vlan.clone(),
                    io,
                    stats: Default::default(),
                }),
                Err(e) => failed.push(e),
            }
        }
        if let Some(io) = open_internal(&netns, &config.name)? {
            dp.add_port(SwitchPort {
                name: config.name.clone(),
                ofport: LOCAL_PORT,
                vlan: VlanMode::Unaware,
                io,
                stats: Default::default(),
            });
        }
        let mut handle = Self::spawn(config, dp);
        handle.failed_ports = failed;
        Ok(handle)
    }

    /// Runs an already-assembled datapath (tests use in-memory ports).
    pub fn spawn(config: SwitchConfig, dp: Datapath) -> SwitchHandle {
        let (waker, wake_rx) = UnixStream::pair().expect("socketpair");
        let _ = wake_rx.set_nonblocking(true);
        let dp = Arc::new(Mutex::new(dp));
        let stop = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(AtomicU64::new(0));
        let injector = Injector {
            queue: Arc::new(Mutex::new(std::collections::VecDeque::new())),
            waker: Arc::new(waker.try_clone().expect("clone waker")),
            pending: Arc::new(AtomicBool::new(false)),
        };
        let ports_changed = Arc::new(AtomicBool::new(false));
        let thread = {
            let (dp, stop, generation) = (dp.clone(), stop.clone(), generation.clone());
            let injected = injector.clone();
            let watch = LinkWatch::new(&config.name, ports_changed.clone());
            std::thread::Builder::new()
                .name(format!("dp-{}", config.name))
                .spawn(move || run_datapath(dp, wake_rx, stop, generation, injected, watch))
                .expect("spawn datapath thread")
        };
        SwitchHandle {
            config,
            dp,
            waker,
            stop,
            generation,
            injector,
            thread: Some(thread),
            ports_changed,
            failed_ports: Vec::new(),
        }
    }

    /// Whether a port was detached from its device or re-attached to a
    /// new one since the previous call (for OpenFlow's PORT_STATUS and port
    /// descriptions: the new device has another MAC address).
    pub fn take_ports_changed(&self) -> bool {
        self.ports_changed.swap(false, Ordering::SeqCst)
    }

    /// Where PACKET_OUTs go (see [`Injector`]).
    pub fn injector(&self) -> Injector {
        self.injector.clone()
    }

    /// Wakes the datapath thread (after a change).
    pub fn wake(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let _ = (&self.waker).write(&[1]);
    }

    /// Brings ports in line with `config` (adds, removes, changes VLAN mode).
    /// Ports that cannot be opened are left out and listed in
    /// `failed_ports`.
    pub fn reconfigure(&mut self, config: SwitchConfig) -> Result<(), RuntimeError> {
        let netns = Netns::open(&config.netns).map_err(|e| RuntimeError::Switch {
            switch: config.name.clone(),
            reason: e.to_string(),
        })?;
        let mut failed = Vec::new();
        {
            let mut dp = self.dp.lock().expect("datapath lock");
            let gone: Vec<String> = dp
                .ports
                .iter()
                .filter(|p| p.ofport != LOCAL_PORT)
                .filter(|p| {
                    !config
                        .ports
                        .iter()
                        .any(|c| c.name == p.name && c.ofport == p.ofport)
                })
                .map(|p| p.name.clone())
                .collect();
            for g in gone {
                dp.remove_port(&g);
            }
            for c in &config.ports {
                match dp.ports.iter_mut().find(|p| p.name == c.name) {
                    Some(p) => p.vlan = c.vlan.clone(),
                    None => {
                        match open_port(&netns, &config.name, c, use_rx_ring(config.ports.len())) {
                            Ok(io) => dp.add_port(SwitchPort {
                                name: c.name.clone(),
                                ofport: c.ofport,
                                vlan: c.vlan.clone(),
                                io,
                                stats: Default::default(),
                            }),
                            Err(e) => failed.push(e),
                        }
                    }
                }
            }
        }
        self.failed_ports = failed;
        self.config = config;
        self.wake();
        Ok(())
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SwitchHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Link monitors of the namespaces the switch's device ports live in, and
/// what the datapath thread does with their events.
struct LinkWatch {
    switch: String,
    /// One monitor per namespace, with the namespace's identity (device
    /// and inode of its nsfs file).
    monitors: Vec<((u64, u64), LinkMonitor)>,
    /// The watched ports by name, each with its namespace's monitor (by
    /// name, not position: the control plane may change the port list
    /// before the thread sees the new generation).
    port_ns: Vec<(String, usize)>,
    changed: Arc<AtomicBool>,
}

impl LinkWatch {
    fn new(switch: &str, changed: Arc<AtomicBool>) -> LinkWatch {
        LinkWatch {
            switch: switch.to_string(),
            monitors: Vec::new(),
            port_ns: Vec::new(),
            changed,
        }
    }

    /// After the port set changed: a monitor for each namespace holding a
    /// device port (kept when it already runs), then every port checked
    /// against its namespace's links — so a device recreated before its
    /// monitor subscribed (or while the daemon reloaded) is not missed.
    /// Returns whether a port was attached or detached.
    fn rescan(&mut self, d: &mut Datapath) -> bool {
        let mut old = std::mem::take(&mut self.monitors);
        self.port_ns.clear();
        for p in &d.ports {
            let Some(fd) = p.io.netns() else {
                continue;
            };
            let Ok(st) = nix::sys::stat::fstat(fd) else {
                continue;
            };
            let id = (st.st_dev, st.st_ino);
            if let Some(k) = self.monitors.iter().position(|(i, _)| *i == id) {
                self.port_ns.push((p.name.clone(), k));
                continue;
            }
            let monitor = match old.iter().position(|(i, _)| *i == id) {
                Some(j) => Some(old.swap_remove(j).1),
                None => match LinkMonitor::open_in(fd) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        eprintln!(
                            "switch {}: port {}: cannot watch its device: {e}",
                            self.switch, p.name
                        );
                        None
                    }
                },
            };
            if let Some(m) = monitor {
                self.monitors.push((id, m));
                self.port_ns.push((p.name.clone(), self.monitors.len() - 1));
            }
        }
        let mut changed = false;
        for k in 0..self.monitors.len() {
            changed |= self.resync(k, d);
        }
        changed
    }

    /// Checks the ports of monitor `k`'s namespace against its links now.
    fn resync(&mut self, k: usize, d: &mut Datapath) -> bool {
        let links = match self.monitors[k].1.links() {
            Ok(l) => l,
            Err(e) => {
                eprintln!("switch {}: list links: {e}", self.switch);
                return false;
            }
        };
        let mut changed = false;
        for i in self.ports_of(k, d) {
            let link = links.iter().find(|l| l.name == d.ports[i].name);
            // Fast-failover liveness as the kernel has it now (events keep
            // it current from here on).
            let ofport = d.ports[i].ofport;
            d.set_port_live(ofport, link.is_some_and(|l| l.up && l.lower_up));
            changed |= self.settle(d, i, link.map(|l| l.index));
        }
        changed
    }

    /// Positions (in `d.ports`) of the ports monitor `k` watches.
    fn ports_of(&self, k: usize, d: &Datapath) -> Vec<usize> {
        (0..d.ports.len())
            .filter(|i| {
                self.port_ns
                    .iter()
                    .any(|(n, m)| *m == k && *n == d.ports[*i].name)
            })
            .collect()
    }

    /// Handles the events waiting on monitor `k`.
    fn events(&mut self, k: usize, d: &mut Datapath) -> bool {
        let mut changed = false;
        for ev in self.monitors[k].1.events() {
            match ev {
                LinkEvent::Overrun => changed |= self.resync(k, d),
                LinkEvent::New(l) => {
                    for i in self.ports_of(k, d) {
                        if d.ports[i].name == l.name {
                            // Fast-failover liveness follows the link at once.
                            let ofport = d.ports[i].ofport;
                            d.set_port_live(ofport, l.up && l.lower_up);
                            changed |= self.settle(d, i, Some(l.index));
                        } else if d.ports[i].io.ifindex() == Some(l.index) {
                            // Renamed away: no longer the port's device.
                            changed |= self.settle(d, i, None);
                        }
                    }
                }
                LinkEvent::Del(l) => {
                    for i in self.ports_of(k, d) {
                        if d.ports[i].io.ifindex() == Some(l.index) {
                            changed |= self.settle(d, i, None);
                        }
                    }
                }
            }
        }
        changed
    }

    /// Brings port `i` in line with the device its name has now (`now`:
    /// its ifindex, or `None` when there is none). Returns whether the
    /// port was attached or detached.
    fn settle(&self, d: &mut Datapath, i: usize, now: Option<u32>) -> bool {
        let p = &mut d.ports[i];
        let was = p.io.ifindex();
        let ofport = p.ofport;
        match (was, now) {
            (Some(a), Some(b)) if a == b => return false,
            (None, None) => return false,
            (_, Some(b)) => match p.io.attach(b) {
                Ok(()) => eprintln!(
                    "switch {}: port {} ({}): attached to its device (ifindex {b})",
                    self.switch, ofport, p.name
                ),
                Err(e) => {
                    // Gone again already, or refused: detached until the
                    // next event about a device of this name.
                    eprintln!(
                        "switch {}: port {} ({}): cannot attach to ifindex {b}: {e}",
                        self.switch, ofport, p.name
                    );
                    p.io.detach();
                    if was.is_none() {
                        return false;
                    }
                }
            },
            (Some(a), None) => {
                p.io.detach();
                eprintln!(
                    "switch {}: port {} ({}): device gone (ifindex {a}); \
                     waiting for one of that name",
                    self.switch, ofport, p.name
                );
            }
        }
        // Whatever was learned behind the old device may have moved; a
        // detached port is not live (fast failover) until its device is back.
        d.macs.flush_port(ofport);
        if now.is_none() {
            d.set_port_live(ofport, false);
        }
        self.changed.store(true, Ordering::SeqCst);
        true
    }
}

fn run_datapath(
    dp: Arc<Mutex<Datapath>>,
    mut wake: UnixStream,
    stop: Arc<AtomicBool>,
    generation: Arc<AtomicU64>,
    injected: Injector,
    mut watch: LinkWatch,
) {
    let mut seen_gen = u64::MAX;
    let mut fds: Vec<(usize, OwnedFd)> = Vec::new();
    let mut watch_fds: Vec<OwnedFd> = Vec::new();
    let mut always: Vec<usize> = Vec::new();
    let mut last_tick = 0u64;
    // The ports' sockets changed (a port re-attached): rebuild the poll set.
    let mut stale = false;
    while !stop.load(Ordering::SeqCst) {
        let g = generation.load(Ordering::SeqCst);
        if g != seen_gen || stale {
            let mut d = dp.lock().expect("datapath lock");
            if g != seen_gen {
                seen_gen = g;
                watch.rescan(&mut d);
            }
            stale = false;
            fds.clear();
            always.clear();
            for (i, p) in d.ports.iter().enumerate() {
                match p.io.poll_fd().and_then(|fd| fd.try_clone_to_owned().ok()) {
                    Some(fd) => fds.push((i, fd)),
                    None => always.push(i),
                }
            }
            watch_fds = watch
                .monitors
                .iter()
                .filter_map(|(_, m)| m.as_fd().try_clone_to_owned().ok())
                .collect();
        }
        let timeout = if always.is_empty() { 1000u16 } else { 1 };
        let mut pfds: Vec<PollFd> = fds
            .iter()
            .map(|(_, fd)| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
            .collect();
        pfds.extend(
            watch_fds
                .iter()
                .map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLIN)),
        );
        pfds.push(PollFd::new(wake.as_fd(), PollFlags::POLLIN));
        let ready = poll(&mut pfds, PollTimeout::from(timeout)).unwrap_or(0);
        let readable: Vec<bool> = pfds
            .iter()
            .map(|p| {
                p.revents().is_some_and(|r| {
                    r.intersects(PollFlags::POLLIN | PollFlags::POLLERR | PollFlags::POLLHUP)
                })
            })
            .collect();
        drop(pfds);
        if readable.last().copied().unwrap_or(false) {
            let mut b = [0u8; 64];
            while matches!(wake.read(&mut b), Ok(n) if n > 0) {}
        }
        let mut d = dp.lock().expect("datapath lock");
        let now_ms = d.clock_ms();
        // After draining the wake socket, before draining the queue: an
        // injection racing with this either finds the flag clear and
        // writes a byte (the next poll returns at once) or is drained now.
        injected.pending.store(false, Ordering::SeqCst);
        let pending: Vec<Injected> = injected
            .queue
            .lock()
            .map(|mut q| q.drain(..).collect())
            .unwrap_or_default();
        for i in pending {
            d.packet_out(i.in_port, &i.data, &i.ops, &i.rewrites, now_ms);
        }
        if ready > 0 || !always.is_empty() {
            let mut ports: Vec<usize> = fds
                .iter()
                .zip(&readable)
                .filter(|(_, r)| **r)
                .map(|((i, _), _)| *i)
                .collect();
            ports.extend(always.iter().copied());
            for pi in ports {
                if pi >= d.ports.len() {
                    continue;
                }
                // Drain a bounded number of batches per wake-up for fairness.
                for _ in 0..8 {
                    match d.poll_port(pi, now_ms) {
                        Ok(n) if n == crate::datapath::BATCH => continue,
                        Ok(_) => break,
                        Err(_) => {
                            // The device is down (the error is read, so
                            // poll does not report it again) or gone (the
                            // link monitor re-attaches the port when a
                            // device of its name appears).
                            break;
                        }
                    }
                }
            }
            // Link events, unless the port set changed under them (then
            // the rescan at the top of the loop reads the links anyway).
            if generation.load(Ordering::SeqCst) == seen_gen {
                let base = fds.len();
                for k in 0..watch_fds.len() {
                    if readable.get(base + k).copied().unwrap_or(false) && k < watch.monitors.len()
                    {
                        stale |= watch.events(k, &mut d);
                    }
                }
            }
        }
        if now_ms >= last_tick + 1000 {
            last_tick = now_ms;
            d.macs.expire(now_ms);
            // Drops inside the kernel (socket buffer full) count as the
            // port's receive drops, as ovs-ofctl dump-ports shows them.
            for p in d.ports.iter_mut() {
                p.stats.rx_dropped += p.io.kernel_drops();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rings_only_for_switches_of_few_ports() {
        // (VNET_RX_RING is not set in the test environment.)
        if std::env::var_os("VNET_RX_RING").is_some() {
            return;
        }
        assert!(super::use_rx_ring(2));
        assert!(super::use_rx_ring(super::RING_MAX_PORTS));
        assert!(!super::use_rx_ring(super::RING_MAX_PORTS + 1));
    }
}
