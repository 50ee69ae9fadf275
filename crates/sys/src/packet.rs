//! AF_PACKET sockets: the switch's ports on veth and other netdevs.
//!
//! A [`PacketSocket`] is bound to one interface (by ifindex, in the network
//! namespace of the thread that opens it) and moves whole frames in
//! batches with `recvmmsg`/`sendmmsg`.
//!
//! - Offload state travels with frames: with `vnet_hdr` on
//!   (PACKET_VNET_HDR) every frame is preceded by a 10-byte
//!   `virtio_net_hdr` saying whether the transport checksum still has to be
//!   filled in and whether the frame is a large (GSO) segment, so a switch
//!   forwards TCP correctly with veth offloads on, and large segments cross
//!   it unsplit. Receive buffers must then hold up to 64 KiB + header.
//! - The kernel strips received VLAN tags into metadata on devices with
//!   VLAN offload; `recv_batch` reports them (`vlan`) from PACKET_AUXDATA so
//!   the caller can put them back.
//! - Our own transmissions are not looped back (PACKET_IGNORE_OUTGOING).
//! - Frames arrive through a TPACKET_V2 receive ring by default (`rx_ring`):
//!   no skb queued per frame and no copy out of it by recvmmsg.
#![allow(unsafe_code)]

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Size of the virtio_net_hdr that precedes frames when `vnet_hdr` is on.
pub const VNET_HDR_LEN: usize = 10;
/// Largest frame a receive buffer must hold (GSO) plus the header.
pub const MAX_FRAME: usize = 65536 + VNET_HDR_LEN;

#[derive(Debug, Clone, Copy)]
pub struct PacketOptions {
    /// Exchange a virtio_net_hdr with every frame.
    pub vnet_hdr: bool,
    /// Receive buffer size in bytes (0 = the kernel's default).
    pub rcvbuf: usize,
    /// Bypass the qdisc layer on transmit.
    pub qdisc_bypass: bool,
    /// Do not receive the frames this host sends on the interface (a
    /// switch port wants this; a capture does not).
    pub ignore_outgoing: bool,
    /// Receive through a TPACKET_V2 memory-mapped ring (see `RxRing`):
    /// the kernel copies each frame into the ring instead of queueing it
    /// for recvmmsg, about a quarter less CPU per small frame for the
    /// reader at the same latency; 2 MiB of memory, allocated at open.
    /// Falls back to recvmmsg when the kernel refuses the ring.
    pub rx_ring: bool,
}

impl Default for PacketOptions {
    fn default() -> Self {
        PacketOptions {
            vnet_hdr: true,
            rcvbuf: 4 << 20,
            qdisc_bypass: true,
            ignore_outgoing: true,
            rx_ring: true,
        }
    }
}

/// What `recv_batch` learned about one received frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecvMeta {
    /// Bytes written into the buffer (vnet header included).
    pub len: usize,
    /// A VLAN tag the kernel stripped: (TPID, TCI).
    pub vlan: Option<(u16, u16)>,
}

#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    ifindex: u32,
    vnet_hdr: bool,
    ring: Option<RxRing>,
    /// What it was opened with (a reopened socket gets the same).
    opts: PacketOptions,
}

/// Slots of the receive ring: room for an MTU-sized frame (VLAN tags and
/// virtio_net_hdr included) behind the kernel's headers; larger frames
/// (GSO) come whole through the socket's queue (TP_STATUS_COPY).
const RING_SLOT: u32 = 2048;
const RING_BLOCK: u32 = 1 << 20;
/// 2 MiB, 1024 slots: 3 ms of 64-byte frames at 0.3 Mpps. Larger rings
/// measured no faster (bench/README.md).
const RING_BLOCKS: u32 = 2;

/// A TPACKET_V2 receive ring: the kernel copies each frame into the next
/// free slot (instead of queueing an skb that recvmmsg copies out again
/// later) and wakes the reader per frame, as for a plain socket. Each slot
/// has its own status word, so a frame is readable as soon as it is
/// written — unlike TPACKET_V3, whose blocks are handed over only when
/// full or when their timer fires (1 ms at best, a jiffy in practice:
/// +0.2..1.5 ms per hop at low rates).
#[derive(Debug)]
struct RxRing {
    base: *mut u8,
    len: usize,
    frame_size: usize,
    count: usize,
    /// The next slot to read.
    head: usize,
    /// Frames cut to their slot without a whole copy queued (the socket's
    /// queue was full): dropped, and counted with the kernel's drops.
    truncated: std::cell::Cell<u64>,
}

// SAFETY: the mapping is owned by this value alone and only touched through
// `&mut self`; moving it to another thread is as safe as moving a Vec.
unsafe impl Send for RxRing {}

impl Drop for RxRing {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` are exactly what mmap returned.
        unsafe {
            libc::munmap(self.base.cast(), self.len);
        }
    }
}

impl RxRing {
    fn setup(fd: &OwnedFd) -> io::Result<RxRing> {
        let version = libc::tpacket_versions::TPACKET_V2 as libc::c_int;
        setsockopt(fd, libc::SOL_PACKET, libc::PACKET_VERSION, &version)?;
        // Frames longer than a slot are also queued whole (TP_STATUS_COPY).
        let one: libc::c_int = 1;
        setsockopt(fd, libc::SOL_PACKET, libc::PACKET_COPY_THRESH, &one)?;
        let req = libc::tpacket_req {
            tp_block_size: RING_BLOCK,
            tp_block_nr: RING_BLOCKS,
            tp_frame_size: RING_SLOT,
            tp_frame_nr: RING_BLOCK / RING_SLOT * RING_BLOCKS,
        };
        setsockopt(fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
        let len = (RING_BLOCK * RING_BLOCKS) as usize;
        // SAFETY: a fresh shared mapping of the socket's ring, of the size
        // the kernel just allocated; checked for MAP_FAILED.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(RxRing {
            base: base.cast(),
            len,
            frame_size: RING_SLOT as usize,
            count: (RING_BLOCK / RING_SLOT * RING_BLOCKS) as usize,
            head: 0,
            truncated: std::cell::Cell::new(0),
        })
    }

    /// Slot `i` (blocks are whole multiples of the slot size, so slots are
    /// contiguous).
    fn slot(&self, i: usize) -> *mut u8 {
        self.base.wrapping_add(i * self.frame_size)
    }

    fn status(&self, i: usize) -> &std::sync::atomic::AtomicU32 {
        // SAFETY: tp_status is the first field of each slot's header,
        // 4-aligned (slots are 2048-aligned in a page-aligned mapping), and
        // shared with the kernel, so it is only accessed atomically.
        unsafe { &*(self.slot(i).cast::<std::sync::atomic::AtomicU32>()) }
    }
}

fn setsockopt<T>(fd: &OwnedFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live T of the size passed; the kernel only
    // reads it during the call.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl PacketSocket {
    /// Opens a non-blocking packet socket bound to `ifindex`, in the calling
    /// thread's network namespace.
    pub fn open(ifindex: u32, opts: PacketOptions) -> io::Result<PacketSocket> {
        let proto = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: plain socket(2); the result is checked and owned at once.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                proto as i32,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let one: libc::c_int = 1;
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_AUXDATA, &one)?;
        if opts.ignore_outgoing {
            setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, &one)?;
        }
        if opts.vnet_hdr {
            setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_VNET_HDR, &one)?;
        }
        if opts.qdisc_bypass {
            setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_QDISC_BYPASS, &one)?;
        }
        if opts.rcvbuf > 0 {
            let size = opts.rcvbuf as libc::c_int;
            // FORCE works as root and ignores rmem_max; fall back otherwise.
            if setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &size).is_err() {
                setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &size)?;
            }
            let _ = setsockopt(&fd, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, &size);
        }
        let ring = if opts.rx_ring {
            RxRing::setup(&fd).ok()
        } else {
            None
        };
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto;
        sll.sll_ifindex = ifindex as i32;
        // SAFETY: `sll` is a valid sockaddr_ll and the length matches it.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(PacketSocket {
            fd,
            ifindex,
            vnet_hdr: opts.vnet_hdr,
            ring,
            opts,
        })
    }

    /// Opens a socket as [`PacketSocket::open`] does, but in the network
    /// namespace `netns` (a namespace descriptor, e.g. from
    /// [`PacketSocket::netns`]); the calling thread stays where it is.
    pub fn open_in(
        netns: BorrowedFd<'_>,
        ifindex: u32,
        opts: PacketOptions,
    ) -> io::Result<PacketSocket> {
        crate::netlink::run_in_netns(netns, move || PacketSocket::open(ifindex, opts))?
    }

    /// The ifindex given at open.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The options given at open.
    pub fn options(&self) -> PacketOptions {
        self.opts
    }

    /// The network namespace the socket lives in, as a descriptor (the
    /// SIOCGSKNS ioctl; Linux 4.9 or later).
    pub fn netns(&self) -> io::Result<OwnedFd> {
        // SAFETY: SIOCGSKNS takes no argument and returns a new descriptor
        // (or -1), which is checked and owned at once.
        let r = unsafe { libc::ioctl(self.fd.as_raw_fd(), libc::SIOCGSKNS as _) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `r` is a fresh descriptor nobody else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(r) })
    }

    /// The ifindex the socket is bound to now: `None` once its device was
    /// unregistered (the kernel unbinds the socket then, and a new device
    /// with the same name gets a new ifindex, so the socket stays dead).
    pub fn bound_ifindex(&self) -> io::Result<Option<u32>> {
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        let mut len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: `sll` is writable for `len` bytes; the kernel writes at
        // most that many and updates `len`.
        let r = unsafe {
            libc::getsockname(
                self.fd.as_raw_fd(),
                (&mut sll as *mut libc::sockaddr_ll).cast(),
                &mut len,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((sll.sll_ifindex > 0).then_some(sll.sll_ifindex as u32))
    }

    /// Takes the socket's pending error (SO_ERROR, cleared by reading): the
    /// kernel sets ENETDOWN when the device goes down or away, and poll(2)
    /// reports POLLERR until it is read. recvmmsg reads it; with a ring,
    /// nothing else does.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        let mut err: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `err` is writable for `len` bytes.
        let r = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&mut err as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((err != 0).then(|| io::Error::from_raw_os_error(err)))
    }

    /// Whether frames carry a leading virtio_net_hdr.
    pub fn vnet_hdr(&self) -> bool {
        self.vnet_hdr
    }

    /// Receives up to `bufs.len()` frames without blocking, one into each
    /// buffer; fills `meta` and returns how many (0 when nothing is waiting).
    pub fn recv_batch(
        &mut self,
        bufs: &mut [&mut [u8]],
        meta: &mut [RecvMeta],
    ) -> io::Result<usize> {
        let hdr = if self.vnet_hdr { VNET_HDR_LEN } else { 0 };
        if self.ring.is_some() {
            return self.recv_ring(bufs, meta, hdr);
        }
        self.recv_batch_mmsg(bufs, meta)
    }

    /// Frames the kernel dropped on this socket (receive buffer or ring
    /// full) since the previous call (PACKET_STATISTICS resets on read).
    pub fn take_drops(&self) -> io::Result<u64> {
        // tpacket_stats (8 bytes; 12 with a TPACKET_V3 ring, not used here).
        let mut st = [0u32; 3];
        let mut len = std::mem::size_of_val(&st) as libc::socklen_t;
        // SAFETY: `st` is a writable buffer of `len` bytes; the kernel writes
        // at most `len` bytes and updates `len`.
        let r = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                st.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        let cut = self.ring.as_ref().map_or(0, |r| r.truncated.take());
        Ok(u64::from(st[1]) + cut)
    }

    /// Whether frames arrive through a receive ring.
    pub fn has_rx_ring(&self) -> bool {
        self.ring.is_some()
    }

    /// Receives from the ring, in order; a frame too large for its slot
    /// (TP_STATUS_COPY) is read whole from the socket's queue, where the
    /// kernel put it when it filled the slot.
    fn recv_ring(
        &mut self,
        bufs: &mut [&mut [u8]],
        meta: &mut [RecvMeta],
        hdr: usize,
    ) -> io::Result<usize> {
        use std::sync::atomic::Ordering;
        let n = bufs.len().min(meta.len());
        let mut got = 0;
        while got < n {
            let Some(ring) = &mut self.ring else {
                break;
            };
            let slot = ring.slot(ring.head);
            let status = ring.status(ring.head).load(Ordering::Acquire);
            if status & libc::TP_STATUS_USER == 0 {
                break;
            }
            // SAFETY: the slot is ours (TP_STATUS_USER, read with acquire
            // ordering after the kernel's release) until handed back; its
            // header is plain data.
            let h = unsafe { std::ptr::read_unaligned(slot.cast::<libc::tpacket2_hdr>()) };
            let head = ring.head;
            ring.head = (ring.head + 1) % ring.count;
            if status & libc::TP_STATUS_COPY != 0 {
                ring.status(head)
                    .store(libc::TP_STATUS_KERNEL, Ordering::Release);
                // The whole frame waits in the socket's queue, in order. A
                // pending socket error (device down) is reported before
                // the queue is read and leaves the frame there: read it
                // then, or the next such slot would get this frame.
                let (b, m) = (&mut bufs[got..got + 1], &mut meta[got..got + 1]);
                let k = match self.recv_batch_mmsg(b, m) {
                    Ok(k) => k,
                    Err(_) => self.recv_batch_mmsg(b, m)?,
                };
                got += k;
                continue;
            }
            let mac = h.tp_mac as usize;
            let snap = h.tp_snaplen as usize;
            let start = mac.saturating_sub(hdr);
            let total = (snap + (mac - start)).min(bufs[got].len());
            if mac + snap <= ring.frame_size && h.tp_len as usize == snap {
                // SAFETY: [start, start+total) lies within this slot
                // (checked above) and the destination holds `total` bytes.
                unsafe {
                    std::ptr::copy_nonoverlapping(slot.add(start), bufs[got].as_mut_ptr(), total);
                }
                let vlan = (h.tp_status & libc::TP_STATUS_VLAN_VALID != 0).then(|| {
                    let tpid = if h.tp_vlan_tpid == 0 {
                        0x8100
                    } else {
                        h.tp_vlan_tpid
                    };
                    (tpid, h.tp_vlan_tci)
                });
                meta[got] = RecvMeta { len: total, vlan };
                got += 1;
            } else {
                ring.truncated.set(ring.truncated.get() + 1);
            }
            ring.status(head)
                .store(libc::TP_STATUS_KERNEL, Ordering::Release);
        }
        if got == 0 {
            // Woken with nothing in the ring: a pending error (device
            // down or gone) would keep poll(2) returning POLLERR.
            if let Some(e) = self.take_error()? {
                return Err(e);
            }
        }
        Ok(got)
    }

    fn recv_batch_mmsg(&self, bufs: &mut [&mut [u8]], meta: &mut [RecvMeta]) -> io::Result<usize> {
        const MAX: usize = 64;
        let n = bufs.len().min(meta.len()).min(MAX);
        // SAFETY: these are plain C structs; zero is a valid initial value.
        let mut iov: [libc::iovec; MAX] = unsafe { zeroed() };
        // SAFETY: as above.
        let mut msgs: [libc::mmsghdr; MAX] = unsafe { zeroed() };
        const CMSG_SPACE: usize = 64;
        let mut cmsg = [[0u64; CMSG_SPACE / 8]; MAX];
        for i in 0..n {
            iov[i].iov_base = bufs[i].as_mut_ptr().cast();
            iov[i].iov_len = bufs[i].len();
            msgs[i].msg_hdr.msg_iov = &mut iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = cmsg[i].as_mut_ptr().cast();
            msgs[i].msg_hdr.msg_controllen = CMSG_SPACE;
        }
        // SAFETY: every mmsghdr points at an iovec over a live buffer of the
        // stated length and at a control buffer of CMSG_SPACE bytes; all
        // outlive the call.
        let r = unsafe {
            libc::recvmmsg(
                self.fd.as_raw_fd(),
                msgs.as_mut_ptr(),
                n as u32,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock {
                Ok(0)
            } else {
                Err(e)
            };
        }
        let got = r as usize;
        for i in 0..got {
            meta[i] = RecvMeta {
                len: (msgs[i].msg_len as usize).min(bufs[i].len()),
                vlan: None,
            };
            // SAFETY: the kernel filled msg_control/msg_controllen for this
            // message; CMSG_FIRSTHDR/NXTHDR walk only within that buffer.
            unsafe {
                let hdr = &msgs[i].msg_hdr;
                let mut c = libc::CMSG_FIRSTHDR(hdr);
                while !c.is_null() {
                    if (*c).cmsg_level == libc::SOL_PACKET && (*c).cmsg_type == libc::PACKET_AUXDATA
                    {
                        let aux = std::ptr::read_unaligned(
                            libc::CMSG_DATA(c).cast::<libc::tpacket_auxdata>(),
                        );
                        if aux.tp_status & libc::TP_STATUS_VLAN_VALID != 0 {
                            let tpid = if aux.tp_vlan_tpid == 0 {
                                0x8100
                            } else {
                                aux.tp_vlan_tpid
                            };
                            meta[i].vlan = Some((tpid, aux.tp_vlan_tci));
                        }
                    }
                    c = libc::CMSG_NXTHDR(hdr, c);
                }
            }
        }
        Ok(got)
    }

    /// Sends frames (each including its virtio_net_hdr when `vnet_hdr` is
    /// on) without blocking; returns how many the kernel took.
    pub fn send_batch(&self, frames: &[&[u8]]) -> io::Result<usize> {
        const MAX: usize = 64;
        let mut sent = 0;
        while sent < frames.len() {
            let chunk = &frames[sent..frames.len().min(sent + MAX)];
            // SAFETY: plain C structs; zero is a valid initial value.
            let mut iov: [libc::iovec; MAX] = unsafe { zeroed() };
            // SAFETY: as above.
            let mut msgs: [libc::mmsghdr; MAX] = unsafe { zeroed() };
            for (i, f) in chunk.iter().enumerate() {
                iov[i].iov_base = f.as_ptr() as *mut libc::c_void;
                iov[i].iov_len = f.len();
                msgs[i].msg_hdr.msg_iov = &mut iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
            }
            // SAFETY: each message points at a live, immutable frame of the
            // stated length; the kernel only reads them during the call.
            let r = unsafe {
                libc::sendmmsg(
                    self.fd.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    chunk.len() as u32,
                    libc::MSG_DONTWAIT,
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                return if e.kind() == io::ErrorKind::WouldBlock || sent > 0 {
                    Ok(sent)
                } else {
                    Err(e)
                };
            }
            sent += r as usize;
            if (r as usize) < chunk.len() {
                break;
            }
        }
        Ok(sent)
    }
}

impl AsFd for PacketSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
