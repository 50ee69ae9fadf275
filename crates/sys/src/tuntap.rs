//! TUN and TAP devices, created with ioctls on `/dev/net/tun`.
//!
//! TUN/TAP devices cannot be created over rtnetlink (the kernel answers
//! EOPNOTSUPP), so this module talks to the tun driver directly:
//! `TUNSETIFF` creates or attaches, `TUNSETPERSIST`, `TUNSETOWNER` and
//! `TUNSETGROUP` make a device outlive its file descriptors, `IFF_MULTI_QUEUE`
//! gives one fd per queue, and `IFF_VNET_HDR` + `TUNSETVNETHDRSZ` +
//! `TUNSETOFFLOAD` carry checksum/segmentation offload state with each packet.
//! Once created, a device is an ordinary link: move, rename, address, enslave
//! or delete it over netlink like any other.
//!
//! # Network namespaces
//!
//! A device is created in the network namespace of the **calling thread** at
//! the moment [`TunTapBuilder::create`] opens `/dev/net/tun`: the tun driver
//! binds each fd to the namespace it was opened in (`__tun_chr_ioctl` uses the
//! fd's socket namespace, fixed at `open()`). The same holds for
//! [`delete_persistent`], which looks the name up in the calling thread's
//! namespace. To create a device in another namespace, call `create` on a
//! thread that has entered it (`setns`/`unshare`). The returned queue fds stay
//! bound to that namespace and may then be used from any thread.
//!
//! # Lifetime
//!
//! A non-persistent device disappears when its last queue fd is closed. A
//! persistent device stays until [`delete_persistent`] (or a netlink delete,
//! or the destruction of its namespace) removes it. Attaching to an existing
//! persistent device with `persistent(false)` leaves it persistent.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_short, c_ulong};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;

use nix::errno::Errno;

/// Path of the tun driver's clone device.
pub const TUN_DEVICE: &str = "/dev/net/tun";

/// Longest interface name the kernel accepts (IFNAMSIZ - 1 bytes).
pub const MAX_NAME_LEN: usize = libc::IFNAMSIZ - 1;

/// Default vnet header size the kernel uses (`struct virtio_net_hdr`).
pub const VNET_HDR_LEN: usize = 10;

/// vnet header size with the `num_buffers` field
/// (`struct virtio_net_hdr_mrg_rxbuf`), the layout virtio 1.0 and
/// `PACKET_VNET_HDR` peers commonly expect.
pub const VNET_HDR_MRG_RXBUF_LEN: usize = 12;

/// Layer-3 TUN (IP packets) or layer-2 TAP (Ethernet frames).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// IP packets, no link-layer header (`IFF_TUN`).
    Tun,
    /// Ethernet frames (`IFF_TAP`).
    Tap,
}

impl Mode {
    /// "tun" or "tap".
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Tun => "tun",
            Mode::Tap => "tap",
        }
    }

    fn iff(self) -> c_int {
        match self {
            Mode::Tun => libc::IFF_TUN,
            Mode::Tap => libc::IFF_TAP,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Offload flags for `TUNSETOFFLOAD` (the `TUN_F_*` constants): which
/// partially checksummed or oversized (GSO) packets the reader of the device
/// accepts. Only meaningful together with a vnet header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Offload(u32);

impl Offload {
    /// No offloads: the kernel hands over complete, checksummed packets.
    pub const NONE: Offload = Offload(0);
    /// Partial checksums (`TUN_F_CSUM`); required by every other flag.
    pub const CSUM: Offload = Offload(libc::TUN_F_CSUM);
    /// TCP segmentation offload for IPv4 (`TUN_F_TSO4`).
    pub const TSO4: Offload = Offload(libc::TUN_F_TSO4);
    /// TCP segmentation offload for IPv6 (`TUN_F_TSO6`).
    pub const TSO6: Offload = Offload(libc::TUN_F_TSO6);
    /// TSO with ECN (`TUN_F_TSO_ECN`).
    pub const TSO_ECN: Offload = Offload(libc::TUN_F_TSO_ECN);
    /// UDP fragmentation offload (`TUN_F_UFO`, legacy).
    pub const UFO: Offload = Offload(libc::TUN_F_UFO);
    /// UDP segmentation offload for IPv4 (`TUN_F_USO4`).
    pub const USO4: Offload = Offload(libc::TUN_F_USO4);
    /// UDP segmentation offload for IPv6 (`TUN_F_USO6`).
    pub const USO6: Offload = Offload(libc::TUN_F_USO6);

    /// The raw `TUN_F_*` bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Build from raw `TUN_F_*` bits (unknown bits are passed to the kernel,
    /// which rejects them with EINVAL).
    pub const fn from_bits(bits: u32) -> Offload {
        Offload(bits)
    }

    /// Whether every flag of `other` is set in `self`.
    pub const fn contains(self, other: Offload) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Offload {
    type Output = Offload;
    fn bitor(self, rhs: Offload) -> Offload {
        Offload(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Offload {
    fn bitor_assign(&mut self, rhs: Offload) {
        self.0 |= rhs.0;
    }
}

/// Errors from TUN/TAP operations. Messages name the operation and the
/// device, e.g. `create tap vm1: Device or resource busy`.
#[derive(Debug, thiserror::Error)]
pub enum TunTapError {
    /// The name cannot be an interface name; nothing was done.
    #[error("invalid tun/tap name {name:?}: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The requested combination of options is inconsistent; nothing was done.
    #[error("invalid configuration for {mode} {name}: {reason}")]
    InvalidConfig {
        /// Device name as requested.
        name: String,
        /// Requested mode.
        mode: Mode,
        /// What is wrong.
        reason: String,
    },
    /// A system call failed.
    #[error("{op} {mode} {name}: {}{}", .errno.desc(), hint_suffix(.hint))]
    Sys {
        /// The operation, e.g. "create", "set owner of".
        op: &'static str,
        /// Device mode ("tun"/"tap"); "tun/tap" when unknown.
        mode: &'static str,
        /// Device name (as requested, or as assigned by the kernel).
        name: String,
        /// The kernel's error.
        errno: Errno,
        /// Extra explanation when the errno alone is ambiguous.
        hint: Option<&'static str>,
    },
}

fn hint_suffix(hint: &Option<&'static str>) -> String {
    match hint {
        Some(h) => format!(" ({h})"),
        None => String::new(),
    }
}

impl TunTapError {
    /// The kernel error, if this error came from a system call.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            TunTapError::Sys { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

type Result<T> = std::result::Result<T, TunTapError>;

/// Check a name (or name template such as `tap%d`) the way the kernel's
/// `dev_valid_name` does. The empty name is allowed: the kernel then picks
/// `tunN`/`tapN`.
pub fn validate_name(name: &str) -> Result<()> {
    let bad = |reason| {
        Err(TunTapError::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.len() > MAX_NAME_LEN {
        return bad("longer than 15 bytes (IFNAMSIZ - 1)");
    }
    if name == "." || name == ".." {
        return bad("\".\" and \"..\" are not interface names");
    }
    if name.bytes().any(|b| b == b'/' || b == b':' || b == 0) {
        return bad("contains '/', ':' or NUL");
    }
    if name.chars().any(char::is_whitespace) {
        return bad("contains whitespace");
    }
    Ok(())
}

/// Options for creating (or attaching to) a TUN/TAP device.
///
/// Defaults: one queue, not persistent, no packet-info header (`IFF_NO_PI`),
/// no vnet header, blocking fds, owner and group unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunTapBuilder {
    name: String,
    mode: Mode,
    persistent: bool,
    owner: Option<u32>,
    group: Option<u32>,
    multi_queue: bool,
    queues: usize,
    vnet_hdr: bool,
    vnet_hdr_size: Option<usize>,
    offload: Option<Offload>,
    packet_info: bool,
    nonblocking: bool,
    exclusive: bool,
}

impl TunTapBuilder {
    /// A device called `name` (≤ 15 bytes; may be a template like `tap%d`,
    /// or empty to let the kernel choose).
    pub fn new(name: impl Into<String>, mode: Mode) -> Self {
        TunTapBuilder {
            name: name.into(),
            mode,
            persistent: false,
            owner: None,
            group: None,
            multi_queue: false,
            queues: 1,
            vnet_hdr: false,
            vnet_hdr_size: None,
            offload: None,
            packet_info: false,
            nonblocking: false,
            exclusive: false,
        }
    }

    /// Shorthand for `new(name, Mode::Tun)`.
    pub fn tun(name: impl Into<String>) -> Self {
        Self::new(name, Mode::Tun)
    }

    /// Shorthand for `new(name, Mode::Tap)`.
    pub fn tap(name: impl Into<String>) -> Self {
        Self::new(name, Mode::Tap)
    }

    /// Keep the device after the fds are closed (`TUNSETPERSIST 1`).
    pub fn persistent(mut self, on: bool) -> Self {
        self.persistent = on;
        self
    }

    /// Let this user attach to the device without CAP_NET_ADMIN
    /// (`TUNSETOWNER`).
    pub fn owner(mut self, uid: u32) -> Self {
        self.owner = Some(uid);
        self
    }

    /// Let this group attach to the device without CAP_NET_ADMIN
    /// (`TUNSETGROUP`).
    pub fn group(mut self, gid: u32) -> Self {
        self.group = Some(gid);
        self
    }

    /// Multi-queue device (`IFF_MULTI_QUEUE`) with `queues` fds. The kernel
    /// allows up to 256 queues.
    pub fn multi_queue(mut self, queues: usize) -> Self {
        self.multi_queue = true;
        self.queues = queues;
        self
    }

    /// Prefix every packet with a `virtio_net_hdr` (`IFF_VNET_HDR`).
    pub fn vnet_hdr(mut self, on: bool) -> Self {
        self.vnet_hdr = on;
        self
    }

    /// vnet header size in bytes (`TUNSETVNETHDRSZ`, at least 10); implies
    /// [`vnet_hdr`](Self::vnet_hdr).
    pub fn vnet_hdr_size(mut self, size: usize) -> Self {
        self.vnet_hdr = true;
        self.vnet_hdr_size = Some(size);
        self
    }

    /// Offloads the reader accepts (`TUNSETOFFLOAD`); needs a vnet header.
    pub fn offload(mut self, offload: Offload) -> Self {
        self.offload = Some(offload);
        self
    }

    /// Keep the 4-byte packet-information header (clears `IFF_NO_PI`).
    /// Off by default.
    pub fn packet_info(mut self, on: bool) -> Self {
        self.packet_info = on;
        self
    }

    /// Open the queue fds with `O_NONBLOCK`.
    pub fn nonblocking(mut self, on: bool) -> Self {
        self.nonblocking = on;
        self
    }

    /// Fail with EBUSY if a device with this name already exists
    /// (`IFF_TUN_EXCL`) instead of attaching to it.
    pub fn exclusive(mut self, on: bool) -> Self {
        self.exclusive = on;
        self
    }

    /// Requested name (possibly a template).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Requested mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    fn invalid(&self, reason: impl Into<String>) -> TunTapError {
        TunTapError::InvalidConfig {
            name: self.name.clone(),
            mode: self.mode,
            reason: reason.into(),
        }
    }

    fn validate(&self) -> Result<()> {
        validate_name(&self.name)?;
        if self.queues == 0 {
            return Err(self.invalid("at least one queue is needed"));
        }
        if self.queues > 256 {
            return Err(self.invalid(format!(
                "{} queues requested, the kernel allows at most 256",
                self.queues
            )));
        }
        if let Some(size) = self.vnet_hdr_size {
            if size < VNET_HDR_LEN || size > i32::MAX as usize {
                return Err(self.invalid(format!(
                    "vnet header size {size} is smaller than {VNET_HDR_LEN} bytes"
                )));
            }
        }
        if self.offload.is_some_and(|o| o != Offload::NONE) && !self.vnet_hdr {
            return Err(self.invalid("offloads need a vnet header (vnet_hdr)"));
        }
        Ok(())
    }

    fn iff_flags(&self) -> c_int {
        let mut flags = self.mode.iff();
        if !self.packet_info {
            flags |= libc::IFF_NO_PI;
        }
        if self.vnet_hdr {
            flags |= libc::IFF_VNET_HDR;
        }
        if self.multi_queue {
            flags |= libc::IFF_MULTI_QUEUE;
        }
        flags
    }

    /// Create the device (or attach to an existing one with the same name and
    /// compatible flags) in the calling thread's network namespace, and open
    /// all its queues.
    ///
    /// If a later step fails, a device this call made persistent is made
    /// non-persistent again, so nothing is left behind.
    pub fn create(&self) -> Result<TunTap> {
        self.validate()?;
        let mode = self.mode.as_str();
        let sys = |op, name: &str, errno, hint| TunTapError::Sys {
            op,
            mode,
            name: name.to_owned(),
            errno,
            hint,
        };

        let mut flags = self.iff_flags();
        if self.exclusive {
            flags |= libc::IFF_TUN_EXCL;
        }
        let first = open_tun(self.nonblocking)
            .map_err(|e| sys("open /dev/net/tun for", &self.name, e, open_hint(e)))?;
        if let Err(e) = set_iff(first.as_fd(), &self.name, flags) {
            return Err(sys("create", &self.name, e, self.create_hint(e)));
        }
        let (name, got_flags) =
            get_iff(first.as_fd()).map_err(|e| sys("read back name of", &self.name, e, None))?;
        let was_persistent = got_flags & libc::IFF_PERSIST != 0;

        let mut made_persistent = false;
        let mut setup = || -> Result<Vec<File>> {
            if let Some(uid) = self.owner {
                ioctl_value(first.as_fd(), libc::TUNSETOWNER, c_ulong::from(uid))
                    .map_err(|e| sys("set owner of", &name, e, None))?;
            }
            if let Some(gid) = self.group {
                ioctl_value(first.as_fd(), libc::TUNSETGROUP, c_ulong::from(gid))
                    .map_err(|e| sys("set group of", &name, e, None))?;
            }
            if let Some(size) = self.vnet_hdr_size {
                let mut size = c_int::try_from(size).unwrap_or(c_int::MAX);
                ioctl_int(first.as_fd(), libc::TUNSETVNETHDRSZ, &mut size)
                    .map_err(|e| sys("set vnet header size of", &name, e, None))?;
            }
            if let Some(offload) = self.offload {
                ioctl_value(first.as_fd(), libc::TUNSETOFFLOAD, c_ulong::from(offload.0))
                    .map_err(|e| sys("set offloads of", &name, e, None))?;
            }
            if self.persistent && !was_persistent {
                ioctl_value(first.as_fd(), libc::TUNSETPERSIST, 1)
                    .map_err(|e| sys("make persistent", &name, e, None))?;
                made_persistent = true;
            }
            let mut more = Vec::with_capacity(self.queues - 1);
            for _ in 1..self.queues {
                let fd = open_tun(self.nonblocking)
                    .map_err(|e| sys("open /dev/net/tun for", &name, e, open_hint(e)))?;
                // Attach to the device we just created, by its resolved name.
                set_iff(fd.as_fd(), &name, self.iff_flags())
                    .map_err(|e| sys("attach a queue to", &name, e, None))?;
                more.push(fd);
            }
            Ok(more)
        };
        let more = match setup() {
            Ok(more) => more,
            Err(err) => {
                if made_persistent {
                    // Best effort: the original error is what matters.
                    let _ = ioctl_value(first.as_fd(), libc::TUNSETPERSIST, 0);
                }
                return Err(err);
            }
        };

        let ifindex = match nix::net::if_::if_nametoindex(name.as_str()) {
            Ok(i) => i,
            Err(e) => {
                if made_persistent {
                    let _ = ioctl_value(first.as_fd(), libc::TUNSETPERSIST, 0);
                }
                return Err(sys("look up ifindex of", &name, e, None));
            }
        };
        // The header size is per device: read back what is in effect (an
        // existing device we attached to may have had it set by someone else).
        let vnet_hdr_len = if self.vnet_hdr {
            let mut size: c_int = 0;
            match ioctl_int(first.as_fd(), libc::TUNGETVNETHDRSZ, &mut size) {
                Ok(()) => usize::try_from(size).unwrap_or(VNET_HDR_LEN),
                Err(_) => self.vnet_hdr_size.unwrap_or(VNET_HDR_LEN),
            }
        } else {
            0
        };
        let mut queues = Vec::with_capacity(self.queues);
        queues.push(first);
        queues.extend(more);
        Ok(TunTap {
            name,
            ifindex,
            mode: self.mode,
            vnet_hdr_len,
            queues,
        })
    }

    fn create_hint(&self, e: Errno) -> Option<&'static str> {
        let exists = nix::net::if_::if_nametoindex(self.name.as_str()).is_ok();
        match e {
            Errno::EINVAL if exists => Some(
                "a device with this name already exists and is not a tun/tap device of the \
                 same mode and multi-queue setting",
            ),
            Errno::EINVAL => Some("bad name template or flags"),
            Errno::EBUSY if self.exclusive && exists => {
                Some("a device with this name already exists")
            }
            Errno::EBUSY if exists => Some(
                "the device exists and another process has it open (not multi-queue), \
                 or its queues are all taken",
            ),
            Errno::EPERM => Some("needs CAP_NET_ADMIN, or be the device's owner/group"),
            _ => None,
        }
    }
}

fn open_hint(e: Errno) -> Option<&'static str> {
    match e {
        Errno::ENOENT => Some("the /dev/net/tun device node is missing"),
        Errno::ENODEV | Errno::ENXIO => Some("the kernel has no tun driver (CONFIG_TUN)"),
        Errno::EACCES | Errno::EPERM => Some("no permission to open /dev/net/tun"),
        _ => None,
    }
}

/// An open TUN/TAP device: its kernel-assigned name, ifindex and one fd per
/// queue. Dropping it closes the fds (and removes the device unless it is
/// persistent).
#[derive(Debug)]
pub struct TunTap {
    name: String,
    ifindex: u32,
    mode: Mode,
    vnet_hdr_len: usize,
    queues: Vec<File>,
}

impl TunTap {
    /// The name the kernel assigned (templates like `tap%d` are resolved).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Interface index in the namespace the device was created in.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// TUN or TAP.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Length of the vnet header prefixed to every packet; 0 without
    /// `IFF_VNET_HDR`.
    pub fn vnet_hdr_len(&self) -> usize {
        self.vnet_hdr_len
    }

    /// The queue fds (one unless multi-queue). Read a packet with one
    /// `read`, write one with one `write`.
    pub fn queues(&self) -> &[File] {
        &self.queues
    }

    /// Queue `i`, if it exists.
    pub fn queue(&self, i: usize) -> Option<&File> {
        self.queues.get(i)
    }

    /// Take the queue fds; the device lives as long as any of them (or
    /// forever if persistent).
    pub fn into_queues(self) -> Vec<File> {
        self.queues
    }

    /// Turn persistence on or off (`TUNSETPERSIST`) for this device.
    pub fn set_persistent(&self, on: bool) -> Result<()> {
        ioctl_value(
            self.queues[0].as_fd(),
            libc::TUNSETPERSIST,
            c_ulong::from(on),
        )
        .map_err(|e| TunTapError::Sys {
            op: if on {
                "make persistent"
            } else {
                "make non-persistent"
            },
            mode: self.mode.as_str(),
            name: self.name.clone(),
            errno: e,
            hint: None,
        })
    }
}

/// Delete a persistent TUN/TAP device in the calling thread's namespace
/// without netlink: attach to it, clear `TUNSETPERSIST`, close. The mode and
/// multi-queue flag are detected (the kernel refuses an attach whose flags do
/// not match). Fails with ENODEV if no such device exists, with EINVAL if
/// `name` is not a tun/tap device, and with EBUSY if a process has it open.
pub fn delete_persistent(name: &str) -> Result<()> {
    validate_name(name)?;
    let err = |op, mode, errno, hint| TunTapError::Sys {
        op,
        mode,
        name: name.to_owned(),
        errno,
        hint,
    };
    if name.is_empty() || name.contains('%') {
        return Err(TunTapError::InvalidName {
            name: name.to_owned(),
            reason: "delete needs an exact device name, not a template",
        });
    }
    if let Err(e) = nix::net::if_::if_nametoindex(name) {
        return Err(err("delete persistent", "tun/tap", e, None));
    }
    for mode in [Mode::Tap, Mode::Tun] {
        for mq in [0, libc::IFF_MULTI_QUEUE] {
            let fd = open_tun(false)
                .map_err(|e| err("open /dev/net/tun for", mode.as_str(), e, open_hint(e)))?;
            // IFF_TUN_EXCL is not used: we want to attach to the existing
            // device. If it vanished meanwhile this creates a non-persistent
            // one, which disappears again when `fd` is closed.
            match set_iff(fd.as_fd(), name, mode.iff() | libc::IFF_NO_PI | mq) {
                Ok(()) => {
                    return ioctl_value(fd.as_fd(), libc::TUNSETPERSIST, 0)
                        .map_err(|e| err("delete persistent", mode.as_str(), e, None));
                }
                Err(Errno::EINVAL) => continue,
                Err(e) => {
                    let hint = match e {
                        Errno::EBUSY => Some("a process still has the device open"),
                        Errno::EPERM => Some("needs CAP_NET_ADMIN, or be the device's owner/group"),
                        _ => None,
                    };
                    return Err(err("delete persistent", mode.as_str(), e, hint));
                }
            }
        }
    }
    Err(err(
        "delete persistent",
        "tun/tap",
        Errno::EINVAL,
        Some("the device exists but is not a tun/tap device"),
    ))
}

fn open_tun(nonblocking: bool) -> std::result::Result<File, Errno> {
    let mut opts = OpenOptions::new();
    opts.read(true).write(true);
    if nonblocking {
        opts.custom_flags(libc::O_NONBLOCK);
    }
    // std always adds O_CLOEXEC.
    opts.open(TUN_DEVICE)
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
}

fn new_ifreq(name: &str) -> libc::ifreq {
    // SAFETY: ifreq is plain old data (byte arrays and a union of integers,
    // sockaddrs and a raw pointer); all-zero bytes are a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    // Names were validated to be ≤ 15 bytes, so a NUL terminator remains.
    for (dst, src) in ifr.ifr_name.iter_mut().zip(name.bytes().take(MAX_NAME_LEN)) {
        *dst = src as libc::c_char;
    }
    ifr
}

fn set_iff(fd: BorrowedFd<'_>, name: &str, flags: c_int) -> std::result::Result<(), Errno> {
    let mut ifr = new_ifreq(name);
    // The tun flags are a 16-bit field; IFF_TUN_EXCL (0x8000) is its sign bit.
    ifr.ifr_ifru.ifru_flags = flags as u16 as c_short;
    ioctl_ifreq(fd, libc::TUNSETIFF, &mut ifr)
}

fn get_iff(fd: BorrowedFd<'_>) -> std::result::Result<(String, c_int), Errno> {
    let mut ifr = new_ifreq("");
    ioctl_ifreq(fd, libc::TUNGETIFF, &mut ifr)?;
    let bytes: Vec<u8> = ifr
        .ifr_name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    // SAFETY: every member of the ifr_ifru union is plain data; reading the
    // c_short member of a zero-initialised union the kernel filled is defined.
    let flags = unsafe { ifr.ifr_ifru.ifru_flags };
    Ok((
        String::from_utf8_lossy(&bytes).into_owned(),
        c_int::from(flags as u16),
    ))
}

/// TUNSETIFF / TUNGETIFF: the argument is a pointer to a `struct ifreq`.
fn ioctl_ifreq(
    fd: BorrowedFd<'_>,
    request: libc::Ioctl,
    ifr: &mut libc::ifreq,
) -> std::result::Result<(), Errno> {
    debug_assert!(request == libc::TUNSETIFF || request == libc::TUNGETIFF);
    // SAFETY: `fd` is a valid open fd for the duration of the call, and the
    // only requests passed here (TUNSETIFF, TUNGETIFF) read/write exactly one
    // `struct ifreq`, which `ifr` points to and which outlives the call.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request, ifr as *mut libc::ifreq) };
    Errno::result(rc).map(drop)
}

/// TUNSETVNETHDRSZ: the argument is a pointer to an `int`.
fn ioctl_int(
    fd: BorrowedFd<'_>,
    request: libc::Ioctl,
    value: &mut c_int,
) -> std::result::Result<(), Errno> {
    debug_assert!(request == libc::TUNSETVNETHDRSZ || request == libc::TUNGETVNETHDRSZ);
    // SAFETY: `fd` is valid for the call; TUNSETVNETHDRSZ/TUNGETVNETHDRSZ
    // access exactly one `int` through the pointer, which is valid and
    // exclusively borrowed for the call.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request, value as *mut c_int) };
    Errno::result(rc).map(drop)
}

/// TUNSETPERSIST / TUNSETOWNER / TUNSETGROUP / TUNSETOFFLOAD: the argument is
/// passed by value, not as a pointer.
fn ioctl_value(
    fd: BorrowedFd<'_>,
    request: libc::Ioctl,
    value: c_ulong,
) -> std::result::Result<(), Errno> {
    debug_assert!(
        request == libc::TUNSETPERSIST
            || request == libc::TUNSETOWNER
            || request == libc::TUNSETGROUP
            || request == libc::TUNSETOFFLOAD
    );
    // SAFETY: `fd` is valid for the call, and the requests used here take
    // their argument by value (the kernel never dereferences it), so no
    // memory is accessed through it.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request, value) };
    Errno::result(rc).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated_like_the_kernel() {
        assert!(validate_name("vtap0").is_ok());
        assert!(validate_name("tap%d").is_ok());
        assert!(validate_name("").is_ok());
        assert!(validate_name("exactly15bytes_").is_ok());
        let err = validate_name("sixteen-bytes-xx").unwrap_err();
        assert!(err.to_string().contains("sixteen-bytes-xx"), "{err}");
        assert!(validate_name("a/b").is_err());
        assert!(validate_name("a:b").is_err());
        assert!(validate_name("a b").is_err());
        assert!(validate_name("..").is_err());
    }

    #[test]
    fn config_is_validated_before_any_syscall() {
        let err = TunTapBuilder::tap("x").multi_queue(0).create().unwrap_err();
        assert!(err.to_string().contains("at least one queue"), "{err}");
        let err = TunTapBuilder::tap("x")
            .offload(Offload::CSUM)
            .create()
            .unwrap_err();
        assert!(err.to_string().contains("vnet header"), "{err}");
        let err = TunTapBuilder::tap("x")
            .vnet_hdr_size(4)
            .create()
            .unwrap_err();
        assert!(err.to_string().contains("vnet header size 4"), "{err}");
    }

    #[test]
    fn flags() {
        let b = TunTapBuilder::tap("x");
        assert_eq!(b.iff_flags(), libc::IFF_TAP | libc::IFF_NO_PI);
        let b = TunTapBuilder::tun("x")
            .packet_info(true)
            .multi_queue(2)
            .vnet_hdr(true);
        assert_eq!(
            b.iff_flags(),
            libc::IFF_TUN | libc::IFF_MULTI_QUEUE | libc::IFF_VNET_HDR
        );
    }

    #[test]
    fn error_messages_name_operation_and_device() {
        let e = TunTapError::Sys {
            op: "create",
            mode: "tap",
            name: "vm1".into(),
            errno: Errno::EBUSY,
            hint: None,
        };
        assert_eq!(e.to_string(), "create tap vm1: Device or resource busy");
        let e = TunTapError::Sys {
            op: "create",
            mode: "tun",
            name: "vm1".into(),
            errno: Errno::EINVAL,
            hint: Some("why"),
        };
        assert_eq!(e.to_string(), "create tun vm1: Invalid argument (why)");
        assert_eq!(
            (Offload::CSUM | Offload::TSO4).bits(),
            libc::TUN_F_CSUM | libc::TUN_F_TSO4
        );
    }
}
