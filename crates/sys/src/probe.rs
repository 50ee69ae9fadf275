//! Runtime kernel feature probes.
//!
//! Each probe tries the real thing and reports what the kernel said, in plain
//! words: `dummy: not available (kernel returned EOPNOTSUPP "Unknown device
//! type" when creating a dummy device)`. Probes that create devices or
//! qdiscs do so inside a throwaway network namespace: a fresh thread calls
//! `unshare(CLONE_NEWNET)`, probes, and exits, and the namespace dies with it.
//! Nothing is created in the caller's namespace.
//!
//! Probing needs CAP_SYS_ADMIN (for the namespace) and CAP_NET_ADMIN/RAW;
//! without them every probe reports "not available" with the reason.
//!
//! Tests skip cleanly with:
//!
//! ```no_run
//! use vnet_sys::probe::{self, Feature};
//! if let Err(why) = probe::require(Feature::Dummy) {
//!     eprintln!("SKIP: {why}");
//!     return;
//! }
//! ```
#![allow(unsafe_code)]

use std::ffi::c_int;
use std::fmt;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::OnceLock;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
    self, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};

use crate::tuntap::{Mode, TunTapBuilder};

/// A kernel feature vnet may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    /// veth pairs.
    Veth,
    /// The Linux bridge.
    Bridge,
    /// Linux bridge VLAN filtering (`vlan_filtering 1`).
    BridgeVlanFiltering,
    /// 802.1Q VLAN devices (`type vlan`).
    Vlan8021q,
    /// dummy devices.
    Dummy,
    /// VXLAN devices.
    Vxlan,
    /// macvlan devices.
    Macvlan,
    /// TUN/TAP devices (`/dev/net/tun`).
    TunTap,
    /// The netem qdisc.
    Netem,
    /// AF_PACKET sockets with TPACKET_V3 mmap rings.
    PacketV3,
    /// AF_XDP sockets.
    AfXdp,
    /// IPv6.
    Ipv6,
}

impl Feature {
    /// Every feature, in a stable order.
    pub const ALL: [Feature; 12] = [
        Feature::Veth,
        Feature::Bridge,
        Feature::BridgeVlanFiltering,
        Feature::Vlan8021q,
        Feature::Dummy,
        Feature::Vxlan,
        Feature::Macvlan,
        Feature::TunTap,
        Feature::Netem,
        Feature::PacketV3,
        Feature::AfXdp,
        Feature::Ipv6,
    ];

    /// Human name, as printed in probe reasons.
    pub fn name(self) -> &'static str {
        match self {
            Feature::Veth => "veth",
            Feature::Bridge => "Linux bridge",
            Feature::BridgeVlanFiltering => "bridge VLAN filtering",
            Feature::Vlan8021q => "802.1Q VLAN devices",
            Feature::Dummy => "dummy",
            Feature::Vxlan => "VXLAN",
            Feature::Macvlan => "macvlan",
            Feature::TunTap => "TUN/TAP",
            Feature::Netem => "netem qdisc",
            Feature::PacketV3 => "AF_PACKET TPACKET_V3",
            Feature::AfXdp => "AF_XDP sockets",
            Feature::Ipv6 => "IPv6",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The result of probing one feature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// What was probed.
    pub feature: Feature,
    /// Whether the kernel supports it (as far as this process can tell).
    pub available: bool,
    /// Plain-words explanation, starting with the feature name, e.g.
    /// `bridge VLAN filtering: not available (kernel returned EOPNOTSUPP when
    /// creating a bridge with vlan_filtering=1)`.
    pub reason: String,
}

impl Probe {
    fn yes(feature: Feature, how: impl fmt::Display) -> Probe {
        Probe {
            feature,
            available: true,
            reason: format!("{feature}: available ({how})"),
        }
    }

    fn no(feature: Feature, why: impl fmt::Display) -> Probe {
        Probe {
            feature,
            available: false,
            reason: format!("{feature}: not available ({why})"),
        }
    }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Probe one feature now (uncached).
pub fn probe(feature: Feature) -> Probe {
    in_throwaway_netns(feature, move || run_probe(feature))
}

/// Probe every feature now (uncached; also fills the cache used by
/// [`available`] where it is still empty), in [`Feature::ALL`] order.
pub fn probe_all() -> Vec<Probe> {
    let probes: Vec<Probe> = std::thread::scope(|s| {
        let handles: Vec<_> = Feature::ALL
            .iter()
            .map(|&f| s.spawn(move || probe(f)))
            .collect();
        handles
            .into_iter()
            .zip(Feature::ALL)
            .map(|(h, f)| {
                h.join()
                    .unwrap_or_else(|_| Probe::no(f, "the probe panicked"))
            })
            .collect()
    });
    for p in &probes {
        let _ = CACHE[p.feature.index()].set(p.clone());
    }
    probes
}

static CACHE: [OnceLock<Probe>; Feature::ALL.len()] = [const { OnceLock::new() }; 12];

/// The probe result for `feature`, computed once per process.
pub fn cached(feature: Feature) -> &'static Probe {
    CACHE[feature.index()].get_or_init(|| probe(feature))
}

/// Whether `feature` is available (probed once per process, then cached).
pub fn available(feature: Feature) -> bool {
    cached(feature).available
}

/// `Ok(())` if `feature` is available, otherwise the reason it is not
/// (cached). Meant for tests: `if let Err(why) = require(f) { eprintln!("SKIP:
/// {why}"); return; }`.
pub fn require(feature: Feature) -> Result<(), String> {
    let p = cached(feature);
    if p.available {
        Ok(())
    } else {
        Err(p.reason.clone())
    }
}

/// Run `f` on a new thread that first moves into a new, empty network
/// namespace, which is destroyed when the thread exits.
fn in_throwaway_netns(feature: Feature, f: impl FnOnce() -> Probe + Send + 'static) -> Probe {
    let spawned = std::thread::Builder::new()
        .name(format!("vnet-probe-{}", feature.index()))
        .spawn(move || {
            if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET) {
                return Probe::no(
                    feature,
                    format!(
                        "could not probe: creating a throwaway network namespace failed with \
                         {e:?} ({}); probing needs root (CAP_SYS_ADMIN)",
                        e.desc()
                    ),
                );
            }
            f()
        });
    match spawned {
        Ok(handle) => handle
            .join()
            .unwrap_or_else(|_| Probe::no(feature, "could not probe: the probe thread panicked")),
        Err(e) => Probe::no(
            feature,
            format!("could not probe: spawning a thread failed: {e}"),
        ),
    }
}

fn run_probe(feature: Feature) -> Probe {
    match feature {
        Feature::Veth => link_probe(feature, "a veth pair", |nl| {
            nl.new_veth("vprobe0", "vprobe1")
        }),
        Feature::Bridge => link_probe(feature, "a bridge", |nl| {
            nl.new_link("vprobebr0", "bridge", None, None)
        }),
        Feature::BridgeVlanFiltering => probe_vlan_filtering(),
        Feature::Vlan8021q => probe_on_parent(feature, "an 802.1Q VLAN device (id 5)", |nl, p| {
            let mut data = Attrs::default();
            data.u16(IFLA_VLAN_ID, 5);
            nl.new_link("vprobev5", "vlan", Some(p), Some(data))
        }),
        Feature::Dummy => link_probe(feature, "a dummy device", |nl| {
            nl.new_link("vprobed0", "dummy", None, None)
        }),
        Feature::Vxlan => link_probe(feature, "a VXLAN device (VNI 42)", |nl| {
            let mut data = Attrs::default();
            data.u32(IFLA_VXLAN_ID, 42);
            data.bytes(IFLA_VXLAN_PORT, &4789u16.to_be_bytes());
            nl.new_link("vprobex0", "vxlan", None, Some(data))
        }),
        Feature::Macvlan => probe_on_parent(feature, "a macvlan device (bridge mode)", |nl, p| {
            let mut data = Attrs::default();
            data.u32(IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE);
            nl.new_link("vprobem0", "macvlan", Some(p), Some(data))
        }),
        Feature::TunTap => probe_tuntap(),
        Feature::Netem => probe_netem(),
        Feature::PacketV3 => probe_packet_v3(),
        Feature::AfXdp => probe_af_xdp(),
        Feature::Ipv6 => probe_ipv6(),
    }
}

const WHERE: &str = "in a throwaway network namespace";

/// Words for an errno: `EOPNOTSUPP "extack text"`.
fn kernel_said(e: &NlError) -> String {
    match &e.extack {
        Some(msg) => format!("{:?} \"{msg}\"", e.errno),
        None => format!("{:?}", e.errno),
    }
}

fn link_probe(
    feature: Feature,
    what: &str,
    create: impl FnOnce(&Rtnl) -> Result<(), NlError>,
) -> Probe {
    let nl = match Rtnl::open() {
        Ok(nl) => nl,
        Err(e) => return Probe::no(feature, format!("could not probe: {e}")),
    };
    match create(&nl) {
        Ok(()) => Probe::yes(feature, format!("created {what} {WHERE}")),
        Err(e) => Probe::no(
            feature,
            format!("kernel returned {} when creating {what}", kernel_said(&e)),
        ),
    }
}

fn probe_vlan_filtering() -> Probe {
    let feature = Feature::BridgeVlanFiltering;
    let nl = match Rtnl::open() {
        Ok(nl) => nl,
        Err(e) => return Probe::no(feature, format!("could not probe: {e}")),
    };
    if let Err(e) = nl.new_link("vprobebr0", "bridge", None, None) {
        return Probe::no(
            feature,
            format!(
                "the Linux bridge itself is missing: kernel returned {} when creating a bridge",
                kernel_said(&e)
            ),
        );
    }
    let mut data = Attrs::default();
    data.bytes(IFLA_BR_VLAN_FILTERING, &[1]);
    match nl.new_link("vprobebr1", "bridge", None, Some(data)) {
        Ok(()) => Probe::yes(
            feature,
            format!("created a bridge with vlan_filtering=1 {WHERE}"),
        ),
        Err(e) => Probe::no(
            feature,
            format!(
                "kernel returned {} when creating a bridge with vlan_filtering=1",
                kernel_said(&e)
            ),
        ),
    }
}

/// Probes for devices stacked on an Ethernet parent: make a veth (or, if
/// veth is missing, a bridge) to stack on first.
fn probe_on_parent(
    feature: Feature,
    what: &str,
    create: impl FnOnce(&Rtnl, u32) -> Result<(), NlError>,
) -> Probe {
    let nl = match Rtnl::open() {
        Ok(nl) => nl,
        Err(e) => return Probe::no(feature, format!("could not probe: {e}")),
    };
    let parent = nl
        .new_veth("vprobep0", "vprobep1")
        .map(|()| ("vprobep0", "veth"))
        .or_else(|_| {
            nl.new_link("vprobepbr0", "bridge", None, None)
                .map(|()| ("vprobepbr0", "bridge"))
        });
    let (parent, parent_kind) = match parent {
        Ok(p) => p,
        Err(e) => {
            return Probe::no(
                feature,
                format!(
                    "could not probe: no veth or bridge to use as the parent device ({})",
                    kernel_said(&e)
                ),
            )
        }
    };
    let index = match nix::net::if_::if_nametoindex(parent) {
        Ok(i) => i,
        Err(e) => {
            return Probe::no(
                feature,
                format!("could not probe: ifindex of the parent {parent}: {e}"),
            )
        }
    };
    match create(&nl, index) {
        Ok(()) => Probe::yes(
            feature,
            format!("created {what} on a {parent_kind} {WHERE}"),
        ),
        Err(e) => Probe::no(
            feature,
            format!("kernel returned {} when creating {what}", kernel_said(&e)),
        ),
    }
}

fn probe_tuntap() -> Probe {
    let feature = Feature::TunTap;
    match TunTapBuilder::new("vprobetap0", Mode::Tap).create() {
        Ok(_tap) => Probe::yes(
            feature,
            format!("created a TAP device through /dev/net/tun {WHERE}"),
        ),
        Err(e) => Probe::no(feature, e),
    }
}

fn probe_netem() -> Probe {
    let feature = Feature::Netem;
    let nl = match Rtnl::open() {
        Ok(nl) => nl,
        Err(e) => return Probe::no(feature, format!("could not probe: {e}")),
    };
    let lo = match nix::net::if_::if_nametoindex("lo") {
        Ok(i) => i,
        Err(e) => return Probe::no(feature, format!("could not probe: ifindex of lo: {e}")),
    };
    match nl.new_root_qdisc(lo, "netem", &netem_qopt()) {
        Ok(()) => Probe::yes(feature, format!("added a netem root qdisc on lo {WHERE}")),
        Err(e) => Probe::no(
            feature,
            format!(
                "kernel returned {} when adding a netem root qdisc on lo",
                kernel_said(&e)
            ),
        ),
    }
}

/// `struct tc_netem_qopt { latency, limit, loss, gap, duplicate, jitter }`,
/// all u32: no delay, the default 1000-packet limit.
fn netem_qopt() -> Vec<u8> {
    let fields: [u32; 6] = [0, 1000, 0, 0, 0, 0];
    fields.iter().flat_map(|v| v.to_ne_bytes()).collect()
}

fn errno_words(e: Errno) -> String {
    format!("{e:?} ({})", e.desc())
}

fn probe_packet_v3() -> Probe {
    let feature = Feature::PacketV3;
    // Protocol 0: the socket receives nothing until bound; this only checks
    // that the V3 ring can be set up.
    let fd = match socket::socket(
        AddressFamily::Packet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        None,
    ) {
        Ok(fd) => fd,
        Err(e) => {
            return Probe::no(
                feature,
                format!(
                    "kernel returned {} when opening an AF_PACKET socket",
                    errno_words(e)
                ),
            )
        }
    };
    let version = libc::tpacket_versions::TPACKET_V3 as c_int;
    if let Err(e) = setsockopt_raw(&fd, libc::SOL_PACKET, libc::PACKET_VERSION, &version) {
        return Probe::no(
            feature,
            format!(
                "kernel returned {} when selecting PACKET_VERSION TPACKET_V3",
                errno_words(e)
            ),
        );
    }
    let req = libc::tpacket_req3 {
        tp_block_size: 1 << 16,
        tp_block_nr: 1,
        tp_frame_size: 1 << 11,
        tp_frame_nr: 32,
        tp_retire_blk_tov: 10,
        tp_sizeof_priv: 0,
        tp_feature_req_word: 0,
    };
    match setsockopt_raw(&fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req) {
        Ok(()) => Probe::yes(
            feature,
            format!("set up a TPACKET_V3 RX ring on an AF_PACKET socket {WHERE}"),
        ),
        Err(e) => Probe::no(
            feature,
            format!(
                "kernel returned {} when setting up a TPACKET_V3 RX ring",
                errno_words(e)
            ),
        ),
    }
}

fn probe_af_xdp() -> Probe {
    let feature = Feature::AfXdp;
    // SAFETY: socket(2) takes no pointers; a non-negative result is a new fd
    // that nothing else owns.
    let rc = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    match Errno::result(rc) {
        Ok(raw) => {
            // SAFETY: `raw` was just returned by socket(2) and is owned by
            // nobody else; OwnedFd closes it on drop.
            drop(unsafe { OwnedFd::from_raw_fd(raw) });
            Probe::yes(feature, format!("opened an AF_XDP socket {WHERE}"))
        }
        Err(e) => Probe::no(
            feature,
            format!(
                "kernel returned {} when opening an AF_XDP socket",
                errno_words(e)
            ),
        ),
    }
}

fn probe_ipv6() -> Probe {
    let feature = Feature::Ipv6;
    if let Err(e) = socket::socket(
        AddressFamily::Inet6,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    ) {
        return Probe::no(
            feature,
            format!(
                "kernel returned {} when opening an AF_INET6 socket",
                errno_words(e)
            ),
        );
    }
    // Bring lo up; ::1 appears on it if IPv6 is enabled in new namespaces.
    let nl = match Rtnl::open() {
        Ok(nl) => nl,
        Err(e) => return Probe::no(feature, format!("could not probe: {e}")),
    };
    let lo = match nix::net::if_::if_nametoindex("lo") {
        Ok(i) => i,
        Err(e) => return Probe::no(feature, format!("could not probe: ifindex of lo: {e}")),
    };
    if let Err(e) = nl.set_up(lo) {
        return Probe::no(
            feature,
            format!("could not probe: setting lo up failed: {}", kernel_said(&e)),
        );
    }
    match std::net::UdpSocket::bind("[::1]:0") {
        Ok(_) => Probe::yes(feature, format!("bound a UDP socket to [::1] {WHERE}")),
        Err(e) => Probe::no(
            feature,
            format!("binding a UDP socket to [::1] with lo up failed: {e}"),
        ),
    }
}

/// setsockopt(2) with a plain-data option value.
fn setsockopt_raw<T: Copy>(
    fd: &OwnedFd,
    level: c_int,
    name: c_int,
    value: &T,
) -> Result<(), Errno> {
    let len = libc::socklen_t::try_from(std::mem::size_of::<T>()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: `fd` is an open socket; `value` points to `len` readable bytes
    // of a plain-data value that lives for the duration of the call; the
    // kernel only reads through the pointer.
    let rc =
        unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, (value as *const T).cast(), len) };
    Errno::result(rc).map(drop)
}

// ---------------------------------------------------------------------------
// A minimal rtnetlink client, private to the probes: one request, one ack.

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLA_TYPE_MASK: u16 = 0x3fff;
const NLA_F_NESTED: u16 = 0x8000;
const SOL_NETLINK: c_int = 270;
const NETLINK_CAP_ACK: c_int = 10;
const NETLINK_EXT_ACK: c_int = 11;

const RTM_NEWLINK: u16 = 16;
const RTM_NEWQDISC: u16 = 36;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINK: u16 = 5;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFLA_BR_VLAN_FILTERING: u16 = 7;
const IFLA_VLAN_ID: u16 = 1;
const IFLA_VXLAN_ID: u16 = 1;
const IFLA_VXLAN_PORT: u16 = 15;
const IFLA_MACVLAN_MODE: u16 = 1;
const MACVLAN_MODE_BRIDGE: u32 = 4;
const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TC_H_ROOT: u32 = 0xffff_ffff;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// A run of netlink attributes.
#[derive(Default)]
struct Attrs(Vec<u8>);

impl Attrs {
    fn bytes(&mut self, ty: u16, payload: &[u8]) {
        let len = u16::try_from(4 + payload.len()).expect("netlink attribute too long");
        self.0.extend_from_slice(&len.to_ne_bytes());
        self.0.extend_from_slice(&ty.to_ne_bytes());
        self.0.extend_from_slice(payload);
        self.0.resize(align4(self.0.len()), 0);
    }
    fn u16(&mut self, ty: u16, v: u16) {
        self.bytes(ty, &v.to_ne_bytes());
    }
    fn u32(&mut self, ty: u16, v: u32) {
        self.bytes(ty, &v.to_ne_bytes());
    }
    fn str(&mut self, ty: u16, s: &str) {
        let mut b = s.as_bytes().to_vec();
        b.push(0);
        self.bytes(ty, &b);
    }
    fn nested(&mut self, ty: u16, inner: &Attrs) {
        self.bytes(ty | NLA_F_NESTED, &inner.0);
    }
}

/// `struct ifinfomsg` (16 bytes).
fn ifinfomsg(index: u32, flags: u32, change: u32) -> Vec<u8> {
    let mut b = vec![libc::AF_UNSPEC as u8, 0, 0, 0];
    b.extend_from_slice(&index.to_ne_bytes());
    b.extend_from_slice(&flags.to_ne_bytes());
    b.extend_from_slice(&change.to_ne_bytes());
    b
}

#[derive(Debug)]
struct NlError {
    errno: Errno,
    extack: Option<String>,
}

impl fmt::Display for NlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", kernel_said(self))
    }
}

struct Rtnl {
    fd: OwnedFd,
}

#[derive(Debug)]
struct OpenError(&'static str, Errno);

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.0, errno_words(self.1))
    }
}

impl Rtnl {
    fn open() -> Result<Rtnl, OpenError> {
        let fd = socket::socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkRoute,
        )
        .map_err(|e| OpenError("opening a netlink socket", e))?;
        socket::bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0))
            .map_err(|e| OpenError("binding a netlink socket", e))?;
        // Extended acks give the kernel's text; capped acks keep replies short.
        // Both are optional: old kernels just lack the text.
        let one: c_int = 1;
        let _ = setsockopt_raw(&fd, SOL_NETLINK, NETLINK_EXT_ACK, &one);
        let _ = setsockopt_raw(&fd, SOL_NETLINK, NETLINK_CAP_ACK, &one);
        let timeout = nix::sys::time::TimeVal::from(libc::timeval {
            tv_sec: 5,
            tv_usec: 0,
        });
        socket::setsockopt(&fd, socket::sockopt::ReceiveTimeout, &timeout)
            .map_err(|e| OpenError("setting a receive timeout", e))?;
        Ok(Rtnl { fd })
    }

    /// Send one request and wait for its ack.
    fn request(&self, ty: u16, flags: u16, body: &[u8]) -> Result<(), NlError> {
        let err = |errno| NlError {
            errno,
            extack: None,
        };
        const SEQ: u32 = 1;
        let len = u32::try_from(NLMSG_HDRLEN + body.len()).map_err(|_| err(Errno::EMSGSIZE))?;
        let mut msg = Vec::with_capacity(len as usize);
        msg.extend_from_slice(&len.to_ne_bytes());
        msg.extend_from_slice(&ty.to_ne_bytes());
        msg.extend_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        msg.extend_from_slice(&SEQ.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(body);
        socket::sendto(
            self.fd.as_raw_fd(),
            &msg,
            &NetlinkAddr::new(0, 0),
            MsgFlags::empty(),
        )
        .map_err(err)?;

        let mut buf = vec![0u8; 16 * 1024];
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            if std::time::Instant::now() > deadline {
                return Err(err(Errno::ETIMEDOUT));
            }
            let n = match socket::recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Err(err(Errno::ETIMEDOUT)),
                Err(e) => return Err(err(e)),
            };
            if let Some(result) = parse_ack(&buf[..n], SEQ) {
                return result;
            }
        }
    }

    fn new_link(
        &self,
        name: &str,
        kind: &str,
        link: Option<u32>,
        data: Option<Attrs>,
    ) -> Result<(), NlError> {
        let mut info = Attrs::default();
        info.str(IFLA_INFO_KIND, kind);
        if let Some(data) = &data {
            info.nested(IFLA_INFO_DATA, data);
        }
        let mut attrs = Attrs::default();
        attrs.str(IFLA_IFNAME, name);
        if let Some(link) = link {
            attrs.u32(IFLA_LINK, link);
        }
        attrs.nested(IFLA_LINKINFO, &info);
        let mut body = ifinfomsg(0, 0, 0);
        body.extend_from_slice(&attrs.0);
        self.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &body)
    }

    fn new_veth(&self, name: &str, peer: &str) -> Result<(), NlError> {
        let mut peer_attrs = Attrs::default();
        peer_attrs.str(IFLA_IFNAME, peer);
        let mut peer_body = ifinfomsg(0, 0, 0);
        peer_body.extend_from_slice(&peer_attrs.0);
        let mut data = Attrs::default();
        data.bytes(VETH_INFO_PEER | NLA_F_NESTED, &peer_body);
        self.new_link(name, "veth", None, Some(data))
    }

    fn set_up(&self, index: u32) -> Result<(), NlError> {
        let up = libc::IFF_UP as u32;
        self.request(RTM_NEWLINK, 0, &ifinfomsg(index, up, up))
    }

    fn new_root_qdisc(&self, ifindex: u32, kind: &str, options: &[u8]) -> Result<(), NlError> {
        // struct tcmsg { family u8, pad u8, pad u16, ifindex i32, handle u32,
        // parent u32, info u32 }
        let mut body = vec![libc::AF_UNSPEC as u8, 0, 0, 0];
        body.extend_from_slice(&ifindex.to_ne_bytes());
        body.extend_from_slice(&0u32.to_ne_bytes());
        body.extend_from_slice(&TC_H_ROOT.to_ne_bytes());
        body.extend_from_slice(&0u32.to_ne_bytes());
        let mut attrs = Attrs::default();
        attrs.str(TCA_KIND, kind);
        attrs.bytes(TCA_OPTIONS, options);
        body.extend_from_slice(&attrs.0);
        self.request(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, &body)
    }
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Find the NLMSG_ERROR answering `seq` in a datagram. `None` if the
/// datagram holds no answer to it.
fn parse_ack(mut buf: &[u8], seq: u32) -> Option<Result<(), NlError>> {
    while buf.len() >= NLMSG_HDRLEN {
        let len = read_u32(buf, 0)? as usize;
        let ty = read_u16(buf, 4)?;
        let flags = read_u16(buf, 6)?;
        let msg_seq = read_u32(buf, 8)?;
        if len < NLMSG_HDRLEN || len > buf.len() {
            return None;
        }
        let msg = &buf[..len];
        if ty == NLMSG_ERROR && msg_seq == seq {
            let code = read_u32(msg, NLMSG_HDRLEN)? as i32;
            if code == 0 {
                return Some(Ok(()));
            }
            let mut extack = None;
            if flags & NLM_F_ACK_TLVS != 0 {
                // struct nlmsgerr { int error; struct nlmsghdr msg; } then
                // the request's payload unless capped, then the TLVs.
                let orig_len = read_u32(msg, NLMSG_HDRLEN + 4)? as usize;
                let mut at = NLMSG_HDRLEN + 4;
                at += if flags & NLM_F_CAPPED != 0 {
                    NLMSG_HDRLEN
                } else {
                    align4(orig_len)
                };
                while at + 4 <= msg.len() {
                    let alen = read_u16(msg, at)? as usize;
                    let aty = read_u16(msg, at + 2)? & NLA_TYPE_MASK;
                    if alen < 4 || at + alen > msg.len() {
                        break;
                    }
                    if aty == NLMSGERR_ATTR_MSG {
                        let text = &msg[at + 4..at + alen];
                        let text = text.split(|&b| b == 0).next().unwrap_or(text);
                        extack = Some(String::from_utf8_lossy(text).trim().to_owned());
                    }
                    at += align4(alen);
                }
            }
            return Some(Err(NlError {
                errno: Errno::from_raw(-code),
                extack,
            }));
        }
        buf = &buf[align4(len).min(buf.len())..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_list_is_complete_and_ordered() {
        for (i, f) in Feature::ALL.iter().enumerate() {
            assert_eq!(f.index(), i);
            assert!(!f.to_string().is_empty());
        }
    }

    #[test]
    fn reasons_start_with_the_feature_name() {
        let p = Probe::no(
            Feature::BridgeVlanFiltering,
            "kernel returned EOPNOTSUPP when creating a bridge with vlan_filtering=1",
        );
        assert_eq!(
            p.to_string(),
            "bridge VLAN filtering: not available (kernel returned EOPNOTSUPP when creating a \
             bridge with vlan_filtering=1)"
        );
    }

    #[test]
    fn attributes_are_padded() {
        let mut a = Attrs::default();
        a.str(IFLA_IFNAME, "lo");
        assert_eq!(a.0, [7, 0, 3, 0, b'l', b'o', 0, 0]);
    }

    /// Positive control for the hand-built requests: with a qdisc and link
    /// kinds every kernel has, the same code paths must succeed.
    #[test]
    fn requests_are_well_formed() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("SKIP: needs root");
            return;
        }
        let p = in_throwaway_netns(Feature::Netem, || {
            let nl = Rtnl::open().unwrap();
            let lo = nix::net::if_::if_nametoindex("lo").unwrap();
            nl.new_root_qdisc(lo, "pfifo", &1000u32.to_ne_bytes())
                .unwrap();
            nl.set_up(lo).unwrap();
            // Creating the same link twice: EEXIST proves the first worked.
            let mut data = Attrs::default();
            data.u32(IFLA_VXLAN_ID, 7);
            let again = Attrs(data.0.clone());
            if nl.new_link("vx", "vxlan", None, Some(data)).is_ok() {
                let e = nl.new_link("vx", "vxlan", None, Some(again)).unwrap_err();
                assert_eq!(e.errno, Errno::EEXIST);
            }
            Probe::yes(Feature::Netem, "control")
        });
        assert!(p.available, "{p}");
    }

    #[test]
    fn ack_with_extack_is_parsed() {
        // NLMSG_ERROR, capped, with an NLMSGERR_ATTR_MSG TLV.
        let text = b"Unknown device type\0";
        let tlv_len = 4 + text.len();
        let total = NLMSG_HDRLEN + 4 + NLMSG_HDRLEN + align4(tlv_len);
        let mut m = Vec::new();
        m.extend_from_slice(&(total as u32).to_ne_bytes());
        m.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m.extend_from_slice(&(NLM_F_CAPPED | NLM_F_ACK_TLVS).to_ne_bytes());
        m.extend_from_slice(&7u32.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&(-libc::EOPNOTSUPP).to_ne_bytes());
        m.extend_from_slice(&[0; NLMSG_HDRLEN]);
        m.extend_from_slice(&(tlv_len as u16).to_ne_bytes());
        m.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        m.extend_from_slice(text);
        m.resize(total, 0);
        let err = parse_ack(&m, 7).unwrap().unwrap_err();
        assert_eq!(err.errno, Errno::EOPNOTSUPP);
        assert_eq!(err.extack.as_deref(), Some("Unknown device type"));
        assert!(parse_ack(&m, 8).is_none());
    }
}
