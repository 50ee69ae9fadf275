//! All-pairs reachability of a running lab: every host and router pings
//! every other one, IPv4 and IPv6, all at once.
//!
//! Participants are the host and router nodes that have a namespace and at
//! least one address. For each ordered pair and each family both ends have,
//! the source pings the target's first address of that family (interfaces
//! in order; IPv6 link-local addresses are skipped, they need a scope).
//!
//! One raw ICMP socket ([`vnet_sys::icmp::Pinger`]) is opened per source and
//! family inside the source's namespace; then a few threads (one per core,
//! at most 4) drive all the sockets with poll(2): every request goes out in
//! round-robin batches, a pair is resent every `timeout / tries` after its
//! previous request until it answers or `tries` requests went unanswered
//! for `timeout / tries` each, replies are matched by identifier (one per
//! socket), sequence number (the target's index) and source address, and
//! the round-trip time comes from a timestamp carried in the payload, so a
//! late reply to an earlier try is still timed right.
//!
//! Timeouts count from each pair's first request, not from the start: on a
//! loaded machine sending 80,000 requests may itself take longer than a
//! second, and a pair that was never given its time is not "lost". A lab
//! where everything answers takes as long as sending everything (200 hosts
//! around one router, 80,400 pairs: about 0.5 s on 2 cores); losses add
//! `timeout`. Pairs still unsent long after (see `GIVE_UP_AFTER`) are
//! reported lost with the error `not sent`.
//!
//! The kernel's neighbour tables (ARP, NDP) are shared by all namespaces
//! and hold 1024 entries each by default (`gc_thresh3`); a flat segment of
//! n hosts needs n*(n-1) of them, so above ~30 hosts on one bridge pings
//! are dropped by the kernel. The report then carries a note saying so
//! (from the `table_fulls` counters of /proc/net/stat).
//!
//! Raw sockets need root (`CAP_NET_RAW`), as does entering the namespaces.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use serde::Serialize;
use vnet_sys::icmp::Pinger;
use vnet_sys::netns::{Netns, NetnsError};

use crate::lab::{Lab, NodeKind};

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingOptions {
    /// How long a pair may take to answer, counted from its first request
    /// (default 1 s). All pairs are in flight together.
    pub timeout: Duration,
    /// Requests per pair at most: unanswered ones are resent every
    /// `timeout / tries` (default 3).
    pub tries: u32,
}

impl Default for PingOptions {
    fn default() -> Self {
        PingOptions {
            timeout: Duration::from_secs(1),
            tries: 3,
        }
    }
}

/// The outcome of one ordered pair, for one address family.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PingResult {
    pub source: String,
    pub target: String,
    /// The target address pinged.
    pub address: IpAddr,
    pub ok: bool,
    /// Round-trip time of the first reply, in milliseconds.
    pub rtt_ms: Option<f64>,
    /// Why the request could not even be sent (e.g. `Network is
    /// unreachable`: no route), when that is the reason for a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything `pingall` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PingReport {
    pub lab: String,
    /// Source-major, then target, then IPv4 before IPv6 (lab node order).
    pub results: Vec<PingResult>,
    /// Pairs pinged (= `results.len()`).
    pub sent_pairs: usize,
    /// Pairs that never answered.
    pub lost_pairs: usize,
    /// Explanations of losses that have a known cause outside the lab
    /// (e.g. the kernel's neighbour tables overflowing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PingError {
    #[error("pingall: node {node}: {source}")]
    Netns { node: String, source: NetnsError },
    #[error("pingall: node {node} (netns {netns}): open ICMP socket: {source}")]
    Socket {
        node: String,
        netns: String,
        source: io::Error,
    },
    #[error("pingall: node {node} (netns {netns}): receive: {source}")]
    Recv {
        node: String,
        netns: String,
        source: io::Error,
    },
    #[error("pingall: poll: {0}")]
    Poll(io::Error),
    #[error("pingall: {0} participating nodes, at most 65535 are supported")]
    TooMany(usize),
    #[error("pingall: a worker thread panicked")]
    Panicked,
}

/// A node that pings and is pinged.
struct Participant<'a> {
    name: &'a str,
    netns: &'a str,
    /// First IPv4 and IPv6 address.
    addr: [Option<IpAddr>; 2],
}

fn participants(lab: &Lab) -> Vec<Participant<'_>> {
    lab.nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Host | NodeKind::Router))
        .filter_map(|n| {
            let netns = n.netns.as_deref()?;
            let addrs = || n.interfaces.iter().flat_map(|i| &i.addresses);
            let v4 = addrs().map(|a| a.addr()).find(IpAddr::is_ipv4);
            let v6 = addrs().map(|a| a.addr()).find(|a| match a {
                IpAddr::V6(v6) => !v6.is_unicast_link_local(),
                IpAddr::V4(_) => false,
            });
            (v4.is_some() || v6.is_some()).then_some(Participant {
                name: &n.name,
                netns,
                addr: [v4, v6],
            })
        })
        .collect()
}

/// One pair's progress, seen from its source socket.
struct Pair {
    target: usize,
    addr: IpAddr,
    rtt: Option<Duration>,
    /// A send error that will not go away by resending (no route...).
    error: Option<String>,
    /// Waited `timeout` after the first request without a reply.
    expired: bool,
    /// In its socket's send queue.
    queued: bool,
    /// Requests sent so far.
    sent: u32,
}

impl Pair {
    fn done(&self) -> bool {
        self.rtt.is_some() || self.error.is_some() || self.expired
    }
}

/// One source socket and its pairs.
struct Sock {
    pinger: Pinger,
    source: usize,
    ident: u16,
    pairs: Vec<Pair>,
    /// Target participant index -> index in `pairs`.
    slot: Vec<u32>,
    queue: VecDeque<u32>,
    /// The last send hit a full socket buffer: wait for POLLOUT.
    blocked: bool,
}

const NO_SLOT: u32 = u32::MAX;
/// Requests sent on one socket before moving to the next (round robin), so
/// every target sees load from every source early and receive queues drain
/// between batches.
const SEND_BATCH: usize = 32;
/// Sending may take longer than `timeout` on a loaded machine; past
/// `timeout` plus this (or 9 timeouts if longer), whatever is still unsent
/// is reported lost rather than waited for.
const GIVE_UP_AFTER: Duration = Duration::from_secs(10);
/// Payload: send time (ns since the run started) and the run's cookie.
const PAYLOAD_LEN: usize = 12;

/// Pings every ordered pair of participants of `lab` (see the module
/// documentation) and reports each one.
pub fn pingall(lab: &Lab, opts: &PingOptions) -> Result<PingReport, PingError> {
    let parts = participants(lab);
    if parts.len() > usize::from(u16::MAX) {
        return Err(PingError::TooMany(parts.len()));
    }
    let fulls_before = [false, true].map(neigh_table_fulls);
    let mut socks = open_sockets(&parts)?;

    let cookie = run_cookie();
    let idents = cookie as u16;
    for (i, s) in socks.iter_mut().enumerate() {
        s.ident = idents.wrapping_add(i as u16);
    }
    let tries = opts.tries.max(1);
    let start = Instant::now();
    let run = Run {
        start,
        interval: opts.timeout / tries,
        tries,
        give_up: start + opts.timeout + GIVE_UP_AFTER.max(opts.timeout * 9),
        cookie,
    };

    // A few threads, each driving its own share of the sockets: sends run
    // the receiving side's softirq work inline, so cores help.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4)
        .min(socks.len().div_ceil(8))
        .max(1);
    let chunk = socks.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let workers: Vec<_> = socks
            .chunks_mut(chunk)
            .map(|share| s.spawn(|| drive(share, &run, &parts)))
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().map_err(|_| PingError::Panicked)?)
    })?;

    let mut report = report(lab, &parts, &socks);
    for (fam, before) in fulls_before.into_iter().enumerate() {
        let v6 = fam == 1;
        let lost = report
            .results
            .iter()
            .any(|r| !r.ok && r.address.is_ipv6() == v6);
        if let (true, Some(before), Some(after)) = (lost, before, neigh_table_fulls(v6)) {
            if after > before {
                report.notes.push(neigh_overflow_note(v6, after - before));
            }
        }
    }
    Ok(report)
}

/// How often the kernel's ARP (NDP when `v6`) table refused a new entry
/// because it was full, summed over CPUs: the `table_fulls` column of
/// /proc/net/stat/{arp,ndisc}_cache. Those tables are shared by all
/// namespaces (the file exists only in the initial one, where vnet runs).
fn neigh_table_fulls(v6: bool) -> Option<u64> {
    let path = if v6 {
        "/proc/net/stat/ndisc_cache"
    } else {
        "/proc/net/stat/arp_cache"
    };
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let col = lines
        .next()?
        .split_whitespace()
        .position(|h| h == "table_fulls")?;
    lines
        .map(|l| {
            l.split_whitespace()
                .nth(col)
                .and_then(|v| u64::from_str_radix(v, 16).ok())
        })
        .sum()
}

fn neigh_overflow_note(v6: bool, times: u64) -> String {
    let (fam, key) = if v6 {
        ("IPv6", "net.ipv6.neigh.default")
    } else {
        ("IPv4", "net.ipv4.neigh.default")
    };
    let limit = std::fs::read_to_string(format!("/proc/sys/{}/gc_thresh3", key.replace('.', "/")))
        .map(|s| format!(" = {}", s.trim()))
        .unwrap_or_default();
    format!(
        "the kernel's {fam} neighbour table was full {times} times during the run \
         (it holds {key}.gc_thresh3{limit} entries for all namespaces together, and a \
         flat segment of n hosts needs n*(n-1)): raise {key}.gc_thresh3 and gc_thresh2 \
         for labs this size"
    )
}

/// Opens one socket per (source, family) that has at least one target.
fn open_sockets(parts: &[Participant<'_>]) -> Result<Vec<Sock>, PingError> {
    let mut socks = Vec::new();
    for (i, src) in parts.iter().enumerate() {
        let mut wanted = [false; 2];
        for (fam, want) in wanted.iter_mut().enumerate() {
            *want = src.addr[fam].is_some()
                && parts
                    .iter()
                    .enumerate()
                    .any(|(j, t)| j != i && t.addr[fam].is_some());
        }
        if wanted == [false, false] {
            continue;
        }
        let ns_err = |source| PingError::Netns {
            node: src.name.to_string(),
            source,
        };
        let ns = Netns::open(src.netns).map_err(ns_err)?;
        let opened = ns
            .run(|| {
                let open = |fam: usize| wanted[fam].then(|| Pinger::open(fam == 1)).transpose();
                Ok::<_, io::Error>([open(0)?, open(1)?])
            })
            .map_err(ns_err)?
            .map_err(|source| PingError::Socket {
                node: src.name.to_string(),
                netns: src.netns.to_string(),
                source,
            })?;
        for (fam, pinger) in opened.into_iter().enumerate() {
            let Some(pinger) = pinger else { continue };
            // Targets in rotated order (i+1, i+2, ..., i-1): in the first
            // round every target gets one request from every source at a
            // time, and pair (a, b) mostly goes before (b, a), so b learns
            // a's MAC from a's ARP/ND request and needs no broadcast of its own.
            let n = parts.len();
            let mut pairs = Vec::new();
            let mut slot = vec![NO_SLOT; n];
            for j in (1..n).map(|k| (i + k) % n) {
                if let Some(addr) = parts[j].addr[fam] {
                    slot[j] = pairs.len() as u32;
                    pairs.push(Pair {
                        target: j,
                        addr,
                        rtt: None,
                        error: None,
                        expired: false,
                        queued: false,
                        sent: 0,
                    });
                }
            }
            socks.push(Sock {
                pinger,
                source: i,
                ident: 0,
                pairs,
                slot,
                queue: VecDeque::new(),
                blocked: false,
            });
        }
    }
    Ok(socks)
}

/// A value distinguishing this run from any other (idents, payload cookie).
fn run_cookie() -> u32 {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let x = t ^ (u64::from(std::process::id()) << 32) ^ u64::from(std::process::id());
    // Mix the bits (splitmix64 finaliser).
    let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (x ^ (x >> 31)) as u32
}

struct Run {
    start: Instant,
    /// Wait between tries of a pair, and after its last one.
    interval: Duration,
    tries: u32,
    /// Pairs not sent by then are reported lost (`not sent`).
    give_up: Instant,
    cookie: u32,
}

impl Run {
    fn payload(&self, now: Instant) -> [u8; PAYLOAD_LEN] {
        let mut p = [0u8; PAYLOAD_LEN];
        let ns = now.duration_since(self.start).as_nanos() as u64;
        p[..8].copy_from_slice(&ns.to_be_bytes());
        p[8..].copy_from_slice(&self.cookie.to_be_bytes());
        p
    }

    /// The round-trip time of a reply carrying `payload`, if it is ours.
    fn rtt(&self, payload: &[u8], now: Instant) -> Option<Duration> {
        if payload.len() < PAYLOAD_LEN || payload[8..12] != self.cookie.to_be_bytes() {
            return None;
        }
        let sent = u64::from_be_bytes(payload[..8].try_into().ok()?);
        let elapsed = now.duration_since(self.start);
        elapsed.checked_sub(Duration::from_nanos(sent))
    }
}

/// Sends, resends and collects replies for `socks` until every pair has
/// answered, failed or timed out.
fn drive(socks: &mut [Sock], run: &Run, parts: &[Participant<'_>]) -> Result<(), PingError> {
    let mut open = 0usize;
    for s in socks.iter_mut() {
        for (k, p) in s.pairs.iter_mut().enumerate() {
            p.queued = true;
            s.queue.push_back(k as u32);
            open += 1;
        }
    }
    // (due, socket, pair): when to resend or give up. Every entry is "send
    // time + interval", so pushing at the back keeps it sorted.
    let mut timers: VecDeque<(Instant, u32, u32)> = VecDeque::new();
    let mut buf = [0u8; 64];
    while open > 0 {
        let now = Instant::now();
        if now >= run.give_up {
            for p in socks.iter_mut().flat_map(|s| s.pairs.iter_mut()) {
                if !p.done() {
                    p.expired = true;
                    if p.sent == 0 {
                        p.error = Some("not sent: pingall ran out of time".into());
                    }
                }
            }
            break;
        }
        while let Some(&(due, si, k)) = timers.front() {
            if due > now {
                break;
            }
            timers.pop_front();
            let s = &mut socks[si as usize];
            let p = &mut s.pairs[k as usize];
            if p.done() || p.queued {
                continue;
            }
            if p.sent < run.tries {
                p.queued = true;
                s.queue.push_back(k);
            } else {
                p.expired = true;
                open -= 1;
            }
        }

        // Send a batch on every socket that can take one.
        let mut more_to_send = false;
        for (si, s) in socks.iter_mut().enumerate() {
            let mut budget = SEND_BATCH;
            while budget > 0 && !s.blocked {
                let Some(k) = s.queue.pop_front() else { break };
                let pair = &mut s.pairs[k as usize];
                if pair.done() {
                    pair.queued = false;
                    continue;
                }
                budget -= 1;
                let sent_at = Instant::now();
                let payload = run.payload(sent_at);
                let sent = s
                    .pinger
                    .send_echo(pair.addr, s.ident, pair.target as u16, &payload);
                let errno = sent.as_ref().err().and_then(io::Error::raw_os_error);
                match (sent, errno.map(Errno::from_raw)) {
                    // A full socket buffer: wait for POLLOUT.
                    (Err(_), Some(Errno::EAGAIN)) => {
                        s.queue.push_front(k);
                        s.blocked = true;
                    }
                    (Err(_), Some(Errno::EINTR)) => s.queue.push_front(k),
                    // Sent, or dropped on the way out (ENOBUFS: a full
                    // device queue) and then resent like a lost one.
                    (Ok(()), _) | (Err(_), Some(Errno::ENOBUFS)) => {
                        pair.queued = false;
                        pair.sent += 1;
                        timers.push_back((sent_at + run.interval, si as u32, k));
                    }
                    // No route, forbidden...: resending will not help.
                    (Err(e), _) => {
                        pair.queued = false;
                        pair.error = Some(errno_text(&e));
                        open -= 1;
                    }
                }
            }
            more_to_send |= !s.queue.is_empty() && !s.blocked;
        }
        if open == 0 {
            break;
        }

        // Wait for replies (or just look, when there is more to send).
        let timeout = if more_to_send {
            PollTimeout::ZERO
        } else {
            let until = timers.front().map_or(run.give_up, |t| t.0.min(run.give_up));
            let left = until.saturating_duration_since(Instant::now());
            // Round up: waking a little late beats spinning until the instant.
            let ms = left.as_micros().div_ceil(1000);
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
        };
        let mut fds: Vec<PollFd<'_>> = socks
            .iter()
            .map(|s| {
                let mut ev = PollFlags::POLLIN;
                if s.blocked {
                    ev |= PollFlags::POLLOUT;
                }
                PollFd::new(s.pinger.as_fd(), ev)
            })
            .collect();
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(PingError::Poll(e.into())),
        }
        let ready: Vec<PollFlags> = fds
            .iter()
            .map(|f| f.revents().unwrap_or(PollFlags::empty()))
            .collect();
        drop(fds);

        for (s, ev) in socks.iter_mut().zip(ready) {
            if ev.contains(PollFlags::POLLOUT) {
                s.blocked = false;
            }
            if ev.is_empty() || ev == PollFlags::POLLOUT {
                continue;
            }
            loop {
                let reply = s
                    .pinger
                    .recv_reply_payload(s.ident, &mut buf)
                    .map_err(|source| PingError::Recv {
                        node: parts[s.source].name.to_string(),
                        netns: parts[s.source].netns.to_string(),
                        source,
                    })?;
                let Some(reply) = reply else { break };
                let Some(&k) = s.slot.get(usize::from(reply.seq)) else {
                    continue;
                };
                let Some(pair) = s.pairs.get_mut(k as usize) else {
                    continue;
                };
                if pair.addr != reply.from || pair.done() {
                    continue;
                }
                let Some(rtt) = run.rtt(&buf[..reply.payload_len], Instant::now()) else {
                    continue;
                };
                pair.rtt = Some(rtt);
                open -= 1;
            }
        }
    }
    Ok(())
}

/// `Network is unreachable` rather than `Network is unreachable (os error 101)`.
fn errno_text(e: &io::Error) -> String {
    let t = e.to_string();
    t.split(" (os error").next().unwrap_or(&t).to_string()
}

fn report(lab: &Lab, parts: &[Participant<'_>], socks: &[Sock]) -> PingReport {
    // Sockets are source-major, IPv4 before IPv6; pairs are rotated.
    let mut results: Vec<(usize, usize, usize, PingResult)> = Vec::new();
    for s in socks {
        let fam = usize::from(s.pinger.is_v6());
        for p in &s.pairs {
            results.push((
                s.source,
                p.target,
                fam,
                PingResult {
                    source: parts[s.source].name.to_string(),
                    target: parts[p.target].name.to_string(),
                    address: p.addr,
                    ok: p.rtt.is_some(),
                    rtt_ms: p.rtt.map(|d| d.as_secs_f64() * 1000.0),
                    error: if p.rtt.is_some() {
                        None
                    } else {
                        p.error.clone()
                    },
                },
            ));
        }
    }
    results.sort_by_key(|r| (r.0, r.1, r.2));
    let results: Vec<PingResult> = results.into_iter().map(|r| r.3).collect();
    let lost = results.iter().filter(|r| !r.ok).count();
    PingReport {
        lab: lab.name.clone(),
        sent_pairs: results.len(),
        lost_pairs: lost,
        results,
        notes: Vec::new(),
    }
}

/// `12/12` style loss as a percentage that never rounds a loss away or
/// into a total one.
fn loss_percent(lost: usize, sent: usize) -> String {
    if lost == 0 || sent == 0 {
        return "0%".to_string();
    }
    if lost == sent {
        return "100%".to_string();
    }
    let pct = lost as f64 * 100.0 / sent as f64;
    if pct < 1.0 {
        "<1%".to_string()
    } else {
        format!("{}%", (pct.round() as u64).min(99))
    }
}

/// A compact text report: one line, plus one per source that lost targets.
///
/// ```text
/// pingall demo: 10/12 pairs reachable (17% loss)
///   h1 -> h3 (10.0.1.3)
///   h2 -> h3 (10.0.1.3), h3 (fd00::3)
/// ```
pub fn summary(report: &PingReport) -> String {
    let mut out = String::new();
    if report.sent_pairs == 0 {
        let _ = write!(
            out,
            "pingall {}: nothing to ping (fewer than two hosts or routers with addresses)",
            report.lab
        );
        return out;
    }
    let _ = write!(
        out,
        "pingall {}: {}/{} pairs reachable ({} loss)",
        report.lab,
        report.sent_pairs - report.lost_pairs,
        report.sent_pairs,
        loss_percent(report.lost_pairs, report.sent_pairs)
    );
    let mut current: Option<&str> = None;
    for r in report.results.iter().filter(|r| !r.ok) {
        if current != Some(r.source.as_str()) {
            current = Some(&r.source);
            let _ = write!(out, "\n  {} -> ", r.source);
        } else {
            out.push_str(", ");
        }
        let _ = write!(out, "{} ({}", r.target, r.address);
        if let Some(e) = &r.error {
            let _ = write!(out, ": {e}");
        }
        out.push(')');
    }
    for n in &report.notes {
        let _ = write!(out, "\n  note: {n}");
    }
    out
}

/// A reachability matrix for small labs: rows are sources, columns targets;
/// `ok` when every family answered, `X` when none did, `~` when some did,
/// `.` when the pair was not pinged.
///
/// ```text
///     h1 h2 h3
/// h1  .  ok X
/// h2  ok .  X
/// h3  X  X  .
/// ```
pub fn matrix(report: &PingReport) -> String {
    let mut names: Vec<&str> = Vec::new();
    for r in &report.results {
        for n in [r.source.as_str(), r.target.as_str()] {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    let cell = |src: &str, dst: &str| {
        let (mut ok, mut all) = (0, 0);
        for r in report
            .results
            .iter()
            .filter(|r| r.source == src && r.target == dst)
        {
            all += 1;
            ok += usize::from(r.ok);
        }
        match (ok, all) {
            (_, 0) => ".",
            (o, a) if o == a => "ok",
            (0, _) => "X",
            _ => "~",
        }
    };
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0).max(2);
    let mut lines = Vec::with_capacity(names.len() + 1);
    let mut line = format!("{:width$}", "");
    for n in &names {
        let _ = write!(line, " {n:width$}");
    }
    lines.push(line.trim_end().to_string());
    for src in &names {
        let mut line = format!("{src:width$}");
        for dst in &names {
            let _ = write!(line, " {:width$}", cell(src, dst));
        }
        lines.push(line.trim_end().to_string());
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Node;

    fn node(name: &str, kind: NodeKind, netns: bool, addrs: &[&str]) -> Node {
        serde_json::from_value(serde_json::json!({
            "name": name, "kind": kind,
            "netns": netns.then(|| format!("vnet.t.{name}")),
            "interfaces": [{ "name": "eth0", "link": 0, "addresses": addrs }],
            "routes": [], "exec": [],
        }))
        .unwrap()
    }

    #[test]
    fn participants_are_addressed_hosts_and_routers() {
        let lab = Lab {
            name: "t".into(),
            nodes: vec![
                node(
                    "h1",
                    NodeKind::Host,
                    true,
                    &["fe80::1/64", "10.0.0.1/24", "10.0.0.9/24", "fd00::1/64"],
                ),
                node("r1", NodeKind::Router, true, &["fd00::2/64"]),
                node("s1", NodeKind::Bridge, true, &["10.0.0.3/24"]),
                node("t1", NodeKind::Tap, false, &["10.0.0.4/24"]),
                node("h2", NodeKind::Host, true, &[]),
                node("h3", NodeKind::Host, false, &["10.0.0.5/24"]),
            ],
            links: vec![],
        };
        let p = participants(&lab);
        let got: Vec<_> = p.iter().map(|p| (p.name, p.addr)).collect();
        assert_eq!(
            got,
            vec![
                (
                    "h1",
                    [
                        Some("10.0.0.1".parse().unwrap()),
                        Some("fd00::1".parse().unwrap())
                    ]
                ),
                ("r1", [None, Some("fd00::2".parse().unwrap())]),
            ]
        );
    }

    fn result(src: &str, dst: &str, addr: &str, ok: bool) -> PingResult {
        PingResult {
            source: src.into(),
            target: dst.into(),
            address: addr.parse().unwrap(),
            ok,
            rtt_ms: ok.then_some(0.1),
            error: None,
        }
    }

    #[test]
    fn summary_and_matrix() {
        let mut results = vec![
            result("h1", "h2", "10.0.0.2", true),
            result("h1", "h3", "10.0.1.3", false),
            result("h1", "h3", "fd00::3", false),
            result("h2", "h1", "10.0.0.1", true),
            result("h2", "h3", "10.0.1.3", false),
            result("h3", "h1", "10.0.0.1", false),
            result("h3", "h2", "10.0.0.2", true),
        ];
        results[4].error = Some("Network is unreachable".into());
        let report = PingReport {
            lab: "demo".into(),
            sent_pairs: 7,
            lost_pairs: 4,
            results,
            notes: vec!["the kernel's IPv4 neighbour table was full".into()],
        };
        assert_eq!(
            summary(&report),
            "pingall demo: 3/7 pairs reachable (57% loss)\n  \
             h1 -> h3 (10.0.1.3), h3 (fd00::3)\n  \
             h2 -> h3 (10.0.1.3: Network is unreachable)\n  \
             h3 -> h1 (10.0.0.1)\n  \
             note: the kernel's IPv4 neighbour table was full"
        );
        assert_eq!(
            matrix(&report),
            "   h1 h2 h3\nh1 .  ok X\nh2 ok .  X\nh3 X  ok ."
        );
        let empty = PingReport {
            lab: "demo".into(),
            results: vec![],
            sent_pairs: 0,
            lost_pairs: 0,
            notes: vec![],
        };
        assert!(summary(&empty).contains("nothing to ping"));
    }

    #[test]
    fn reads_neighbour_table_overflows() {
        // Present in the initial namespace of any Linux with IPv4 and IPv6.
        if std::path::Path::new("/proc/net/stat/arp_cache").exists() {
            assert!(neigh_table_fulls(false).is_some());
        }
        let note = neigh_overflow_note(true, 3);
        assert!(
            note.contains("IPv6 neighbour table was full 3 times"),
            "{note}"
        );
        assert!(note.contains("net.ipv6.neigh.default.gc_thresh3"), "{note}");
    }

    #[test]
    fn loss_never_rounds_away() {
        assert_eq!(loss_percent(0, 12), "0%");
        assert_eq!(loss_percent(1, 39_800), "<1%");
        assert_eq!(loss_percent(39_799, 39_800), "99%");
        assert_eq!(loss_percent(12, 12), "100%");
        assert_eq!(loss_percent(1, 3), "33%");
    }

    #[test]
    fn payload_times_replies_and_rejects_strangers() {
        let start = Instant::now();
        let run = Run {
            start,
            interval: Duration::from_millis(333),
            tries: 3,
            give_up: start + Duration::from_secs(11),
            cookie: 0xdead_beef,
        };
        let sent = start + Duration::from_millis(5);
        let p = run.payload(sent);
        assert_eq!(
            run.rtt(&p, sent + Duration::from_millis(2)),
            Some(Duration::from_millis(2))
        );
        let mut other = p;
        other[11] ^= 1;
        assert_eq!(run.rtt(&other, sent), None);
        assert_eq!(run.rtt(&p[..8], sent), None);
        // A stamp from the future (another run) is not ours either.
        assert_eq!(run.rtt(&p, start), None);
    }
}
