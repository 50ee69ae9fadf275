//! Ports: how frames enter and leave a switch.
//!
//! The datapath sees every port through [`PortIo`]. Kernel-backed ports wrap
//! `vnet-sys` sockets and devices: [`PacketPort`] (AF_PACKET on a veth or
//! other netdev) and [`TapPort`] (a TAP device's queue, for VMs).
//! [`MemPort`] is an in-memory port for tests and simulations.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};

use vnet_sys::packet::{PacketSocket, RecvMeta};

use crate::frame::{Frame, HEADROOM};

/// Frame I/O of one port. Implementations never block.
pub trait PortIo: Send {
    /// Receives up to `frames.len()` frames (each into its `recv_area`),
    /// setting `start`/`len`/`vnet`; returns how many.
    fn recv(&mut self, frames: &mut [Frame]) -> io::Result<usize>;
    /// Sends frames; returns how many were taken.
    fn send(&mut self, frames: &[&Frame]) -> io::Result<usize>;
    /// A descriptor to poll for readability (`None`: always poll `recv`).
    fn poll_fd(&self) -> Option<BorrowedFd<'_>>;
    /// Whether frames of this port carry a virtio_net_hdr.
    fn vnet_hdr(&self) -> bool;
    /// Frames the kernel dropped before the switch could read them, since
    /// the previous call (a full socket buffer under load).
    fn kernel_drops(&mut self) -> u64 {
        0
    }
    /// For a port that follows a kernel device by name (the port's name):
    /// the namespace the device lives in, where the runtime watches link
    /// events. `None` for other ports.
    fn netns(&self) -> Option<BorrowedFd<'_>> {
        None
    }
    /// The ifindex of the device the port is attached to; `None` when it is
    /// detached (its device went away) or not a device port.
    fn ifindex(&self) -> Option<u32> {
        None
    }
    /// Attaches the port to device `ifindex` of its namespace (the device
    /// of its name was recreated), replacing its socket; everything the
    /// switch keeps about the port (number, VLAN mode, counters) stays.
    fn attach(&mut self, _ifindex: u32) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
    /// The port's device went away: it receives nothing and drops what it
    /// is given (counted as transmit drops) until it is attached again.
    fn detach(&mut self) {}
}

/// An AF_PACKET socket bound to a netdev (veth end, etc.). It follows its
/// device by name: when the device is deleted and another is created with
/// the same name, the runtime re-attaches it ([`PortIo::attach`]) with a new
/// socket in the same namespace, with the same options.
#[derive(Debug)]
pub struct PacketPort {
    sock: PacketSocket,
    meta: Vec<RecvMeta>,
    /// The socket's namespace (None where the kernel cannot tell: the port
    /// then never re-attaches).
    netns: Option<OwnedFd>,
    /// False once the device went away.
    attached: bool,
}

impl PacketPort {
    pub fn new(sock: PacketSocket) -> PacketPort {
        let netns = sock.netns().ok();
        PacketPort {
            sock,
            meta: vec![RecvMeta::default(); 64],
            netns,
            attached: true,
        }
    }
}

impl PortIo for PacketPort {
    fn recv(&mut self, frames: &mut [Frame]) -> io::Result<usize> {
        let vnet = self.sock.vnet_hdr();
        let n = frames.len().min(self.meta.len());
        let mut areas: Vec<&mut [u8]> = frames[..n].iter_mut().map(|f| f.recv_area()).collect();
        let got = self.sock.recv_batch(&mut areas, &mut self.meta)?;
        drop(areas);
        for (f, m) in frames.iter_mut().zip(&self.meta).take(got) {
            f.start = HEADROOM;
            f.len = m.len;
            f.vnet = vnet;
            if let Some((tpid, tci)) = m.vlan {
                // The kernel stripped the tag into metadata: put it back.
                f.push_vlan(tpid, tci);
            }
        }
        Ok(got)
    }

    fn send(&mut self, frames: &[&Frame]) -> io::Result<usize> {
        if !self.attached {
            // No device: the frames are dropped (and counted) without a
            // system call that could only fail.
            return Ok(0);
        }
        let wires: Vec<&[u8]> = frames.iter().map(|f| f.wire()).collect();
        self.sock.send_batch(&wires)
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.sock.as_fd())
    }

    fn vnet_hdr(&self) -> bool {
        self.sock.vnet_hdr()
    }

    fn kernel_drops(&mut self) -> u64 {
        self.sock.take_drops().unwrap_or(0)
    }

    fn netns(&self) -> Option<BorrowedFd<'_>> {
        self.netns.as_ref().map(|f| f.as_fd())
    }

    fn ifindex(&self) -> Option<u32> {
        self.attached.then(|| self.sock.ifindex())
    }

    fn attach(&mut self, ifindex: u32) -> io::Result<()> {
        let ns = self
            .netns
            .as_ref()
            .ok_or_else(|| io::Error::from(io::ErrorKind::Unsupported))?;
        self.sock = PacketSocket::open_in(ns.as_fd(), ifindex, self.sock.options())?;
        self.attached = true;
        Ok(())
    }

    fn detach(&mut self) {
        self.attached = false;
    }
}

/// A TAP device queue (opened non-blocking, with IFF_VNET_HDR when `vnet`).
#[derive(Debug)]
pub struct TapPort {
    file: File,
    vnet: bool,
}

impl TapPort {
    pub fn new(file: File, vnet: bool) -> TapPort {
        TapPort { file, vnet }
    }
}

impl PortIo for TapPort {
    fn recv(&mut self, frames: &mut [Frame]) -> io::Result<usize> {
        let mut got = 0;
        for f in frames.iter_mut() {
            match self.file.read(f.recv_area()) {
                Ok(n) => {
                    f.start = HEADROOM;
                    f.len = n;
                    f.vnet = self.vnet;
                    got += 1;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if got == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(got)
    }

    fn send(&mut self, frames: &[&Frame]) -> io::Result<usize> {
        let mut sent = 0;
        for f in frames {
            match self.file.write(f.wire()) {
                Ok(_) => sent += 1,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // A TAP whose device is down (no reader) refuses frames: drop.
                Err(_) => sent += 1,
            }
        }
        Ok(sent)
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.file.as_fd())
    }

    fn vnet_hdr(&self) -> bool {
        self.vnet
    }
}

/// Both directions of an in-memory port, shared with the test that drives it.
#[derive(Debug, Default)]
pub struct MemQueues {
    /// Frames waiting to enter the switch (Ethernet bytes).
    pub inbound: VecDeque<Vec<u8>>,
    /// Frames the switch sent out of this port (Ethernet bytes).
    pub outbound: Vec<Vec<u8>>,
}

/// An in-memory port without vnet headers.
#[derive(Debug, Clone, Default)]
pub struct MemPort {
    pub queues: Arc<Mutex<MemQueues>>,
}

impl MemPort {
    pub fn new() -> MemPort {
        MemPort::default()
    }

    pub fn inject(&self, frame: &[u8]) {
        self.queues
            .lock()
            .expect("mem port")
            .inbound
            .push_back(frame.to_vec());
    }

    pub fn take_sent(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.queues.lock().expect("mem port").outbound)
    }
}

impl PortIo for MemPort {
    fn recv(&mut self, frames: &mut [Frame]) -> io::Result<usize> {
        let mut q = self.queues.lock().expect("mem port");
        let mut got = 0;
        for f in frames.iter_mut() {
            let Some(bytes) = q.inbound.pop_front() else {
                break;
            };
            let area = f.recv_area();
            let n = bytes.len().min(area.len());
            area[..n].copy_from_slice(&bytes[..n]);
            f.start = HEADROOM;
            f.len = n;
            f.vnet = false;
            got += 1;
        }
        Ok(got)
    }

    fn send(&mut self, frames: &[&Frame]) -> io::Result<usize> {
        let mut q = self.queues.lock().expect("mem port");
        for f in frames {
            q.outbound.push(f.eth().to_vec());
        }
        Ok(frames.len())
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    fn vnet_hdr(&self) -> bool {
        false
    }
}
