//! Link events: an rtnetlink socket subscribed to `RTNLGRP_LINK`, so a
//! caller learns at once when a device of a namespace appears, changes,
//! is renamed or goes away (a switch port whose veth is deleted and
//! recreated under the same name, say).
//!
//! The kernel multicasts these messages; when a listener falls behind, its
//! socket overflows and the next read fails with ENOBUFS. That is reported
//! as [`LinkEvent::Overrun`]: the caller must then re-read the state it
//! cares about ([`LinkMonitor::links`]), as events were lost.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};

use super::link::link_info;
use super::{LinkInfo, Netlink, Op};
use crate::error::NetlinkError;

/// What happened to a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// A link appeared or changed (state, name, flags, ...).
    New(LinkInfo),
    /// A link went away (deleted, or moved to another namespace).
    Del(LinkInfo),
    /// Events were lost (the socket overflowed): re-read the links.
    Overrun,
}

/// A non-blocking listener for the link events of one namespace (the one
/// it was opened in), plus a request socket there to re-read the links.
pub struct LinkMonitor {
    socket: Socket,
    requests: Netlink,
    buf: Vec<u8>,
}

impl std::fmt::Debug for LinkMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkMonitor").finish_non_exhaustive()
    }
}

/// Runs `f` on a scoped thread that joined the network namespace `ns` (a
/// namespace descriptor: `/run/netns/NAME`, `/proc/PID/ns/net`, or what
/// SIOCGSKNS returned). The calling thread never changes namespace;
/// sockets `f` opens stay in `ns`.
pub fn run_in_netns<T: Send>(ns: BorrowedFd<'_>, f: impl FnOnce() -> T + Send) -> io::Result<T> {
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
            Ok(f())
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("namespace thread panicked")))
    })
}

impl LinkMonitor {
    /// Subscribes to the link events of the calling thread's namespace.
    pub fn open() -> Result<LinkMonitor, NetlinkError> {
        let op = Op::new("open", "link monitor");
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(|e| op.io(e))?;
        socket.bind_auto().map_err(|e| op.io(e))?;
        socket
            .add_membership(libc::RTNLGRP_LINK)
            .map_err(|e| op.io(e))?;
        socket.set_non_blocking(true).map_err(|e| op.io(e))?;
        // A burst (a lab rebuilt: hundreds of links) fits without overrun.
        let _ = socket.set_rx_buf_sz(1 << 20);
        let requests = Netlink::open()?;
        Ok(LinkMonitor {
            socket,
            requests,
            buf: vec![0; 64 * 1024],
        })
    }

    /// Subscribes to the link events of namespace `ns` (a descriptor, see
    /// [`run_in_netns`]); the calling thread stays where it is.
    pub fn open_in(ns: BorrowedFd<'_>) -> Result<LinkMonitor, NetlinkError> {
        run_in_netns(ns, LinkMonitor::open)
            .map_err(|e| Op::new("enter namespace of", "link monitor").io(e))?
    }

    /// The events waiting now, oldest first (empty when none); never
    /// blocks.
    pub fn events(&mut self) -> Vec<LinkEvent> {
        let mut out = Vec::new();
        loop {
            let n = match self.socket.recv(&mut &mut self.buf[..], libc::MSG_DONTWAIT) {
                Ok(n) => n.min(self.buf.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    out.push(LinkEvent::Overrun);
                    continue;
                }
                // Anything else: report it as lost events, so the caller
                // re-reads the state (and never spins on us).
                Err(_) => {
                    out.push(LinkEvent::Overrun);
                    break;
                }
            };
            if n == 0 {
                break;
            }
            for raw in super::RawMessages::new(&self.buf[..n]) {
                let Ok(msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(raw.whole) else {
                    continue;
                };
                match msg.payload {
                    NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)) => {
                        out.push(LinkEvent::New(link_info(l)));
                    }
                    NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(l)) => {
                        out.push(LinkEvent::Del(link_info(l)));
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// Every link of the namespace now (after an overrun, or to start from
    /// a known state).
    pub fn links(&mut self) -> Result<Vec<LinkInfo>, NetlinkError> {
        self.requests.links()
    }
}

impl AsFd for LinkMonitor {
    /// Readable when events wait.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}
