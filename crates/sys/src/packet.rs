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
    /// Receive through a TPACKET_V3 memory-mapped ring (no system call per
    /// batch; the kernel hands over whole blocks of frames). Falls back to
    /// recvmmsg when the kernel refuses the ring. Off by default: the
    /// kernel hands a block over only when it is full or its 1 ms timer
    /// fires, which adds up to a millisecond of latency per hop at low
    /// rates (a ping through a switch goes from ~0.3 to ~1.6 ms).
    pub rx_ring: bool,
}

impl Default for PacketOptions {
    fn default() -> Self {
        PacketOptions {
            vnet_hdr: true,
            rcvbuf: 4 << 20,
            qdisc_bypass: true,
            ignore_outgoing: true,
            rx_ring: false,
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
}

/// Ring geometry: blocks big enough for a 64 KiB GSO frame several times
/// over; a block is handed to us when full or after `RING_TOV_MS`.
const RING_BLOCK_SIZE: u32 = 1 << 20;
const RING_BLOCKS: u32 = 16;
const RING_FRAME_SIZE: u32 = 2048;
const RING_TOV_MS: u32 = 1;

/// A TPACKET_V3 receive ring mapped into our memory.
#[derive(Debug)]
struct RxRing {
    base: *mut u8,
    len: usize,
    block: usize,
    /// Next packet to read in the current block: (offset, remaining).
    cursor: Option<(usize, u32)>,
}

// SAFETY: the mapping is owned by this value alone and only touched through
// `&mut self`; moving it to another thread is as safe as moving a Vec.
unsafe impl Send for RxRing {}

impl Drop for RxRing {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` are exactly what mmap returned; nothing
        // refers to the mapping after this.
        unsafe {
            libc::munmap(self.base.cast(), self.len);
        }
    }
}

impl RxRing {
    fn setup(fd: &OwnedFd) -> io::Result<RxRing> {
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        setsockopt(fd, libc::SOL_PACKET, libc::PACKET_VERSION, &version)?;
        let req = libc::tpacket_req3 {
            tp_block_size: RING_BLOCK_SIZE,
            tp_block_nr: RING_BLOCKS,
            tp_frame_size: RING_FRAME_SIZE,
            tp_frame_nr: RING_BLOCK_SIZE / RING_FRAME_SIZE * RING_BLOCKS,
            tp_retire_blk_tov: RING_TOV_MS,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        setsockopt(fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
        let len = (RING_BLOCK_SIZE * RING_BLOCKS) as usize;
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
            block: 0,
            cursor: None,
        })
    }

    fn block_ptr(&self, i: usize) -> *mut u8 {
        // SAFETY (of the arithmetic): i < RING_BLOCKS, inside the mapping.
        self.base.wrapping_add(i * RING_BLOCK_SIZE as usize)
    }

    fn status(&self, i: usize) -> &std::sync::atomic::AtomicU32 {
        let desc = self.block_ptr(i).cast::<libc::tpacket_block_desc>();
        // SAFETY: the block descriptor lives at the start of each block; its
        // status word is 4-aligned and shared with the kernel, so it is read
        // and written only atomically.
        unsafe {
            &*(std::ptr::addr_of_mut!((*desc).hdr.bh1.block_status)
                .cast::<std::sync::atomic::AtomicU32>())
        }
    }

    /// Copies up to `bufs.len()` frames out of the ring. `hdr` bytes before
    /// each frame (the virtio_net_hdr) are copied too.
    fn recv(&mut self, bufs: &mut [&mut [u8]], meta: &mut [RecvMeta], hdr: usize) -> usize {
        use std::sync::atomic::Ordering;
        let n = bufs.len().min(meta.len());
        let mut got = 0;
        while got < n {
            let (off, left) = match self.cursor {
                Some(c) => c,
                None => {
                    if self.status(self.block).load(Ordering::Acquire) & libc::TP_STATUS_USER == 0 {
                        break;
                    }
                    let desc = self
                        .block_ptr(self.block)
                        .cast::<libc::tpacket_block_desc>();
                    // SAFETY: the block is ours (TP_STATUS_USER) until we hand
                    // it back; its header is plain data written by the kernel.
                    let h = unsafe { std::ptr::read(std::ptr::addr_of!((*desc).hdr.bh1)) };
                    (h.offset_to_first_pkt as usize, h.num_pkts)
                }
            };
            if left == 0 {
                self.status(self.block)
                    .store(libc::TP_STATUS_KERNEL, Ordering::Release);
                self.block = (self.block + 1) % RING_BLOCKS as usize;
                self.cursor = None;
                continue;
            }
            let block = self.block_ptr(self.block);
            // SAFETY: `off` comes from the kernel's block header or the
            // previous packet's tp_next_offset and stays within the block.
            let ph =
                unsafe { std::ptr::read_unaligned(block.add(off).cast::<libc::tpacket3_hdr>()) };
            let mac = ph.tp_mac as usize;
            let snap = ph.tp_snaplen as usize;
            let start = mac.saturating_sub(hdr);
            let total = (snap + (mac - start)).min(bufs[got].len());
            if off + mac + snap <= RING_BLOCK_SIZE as usize {
                // SAFETY: [off+start, off+start+total) lies in this block
                // (checked above) and the destination holds `total` bytes.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        block.add(off + start),
                        bufs[got].as_mut_ptr(),
                        total,
                    );
                }
                let vlan = (ph.tp_status & libc::TP_STATUS_VLAN_VALID != 0).then(|| {
                    let tpid = if ph.hv1.tp_vlan_tpid == 0 {
                        0x8100
                    } else {
                        ph.hv1.tp_vlan_tpid
                    };
                    (tpid, ph.hv1.tp_vlan_tci as u16)
                });
                meta[got] = RecvMeta { len: total, vlan };
                got += 1;
            }
            let next = if ph.tp_next_offset == 0 {
                usize::MAX
            } else {
                off + ph.tp_next_offset as usize
            };
            self.cursor = Some((next, left - 1));
            if left - 1 == 0 || next == usize::MAX {
                self.cursor = Some((0, 0));
            }
        }
        got
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
        })
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
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
        if let Some(ring) = &mut self.ring {
            return Ok(ring.recv(bufs, meta, hdr));
        }
        self.recv_batch_mmsg(bufs, meta)
    }

    /// Frames the kernel dropped on this socket (receive buffer or ring
    /// full) since the previous call (PACKET_STATISTICS resets on read).
    pub fn take_drops(&self) -> io::Result<u64> {
        // tpacket_stats (8 bytes) or, with a V3 ring, tpacket_stats_v3 (12).
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
        Ok(u64::from(st[1]))
    }

    /// Whether frames arrive through a TPACKET_V3 ring.
    pub fn has_rx_ring(&self) -> bool {
        self.ring.is_some()
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
