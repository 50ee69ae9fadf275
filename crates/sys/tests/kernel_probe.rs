//! Kernel feature probes, each cross-checked against an independent oracle
//! (iproute2 in a throwaway namespace, or a deeper functional check written
//! here), so nothing about this machine's kernel is hard-coded.
#![allow(unsafe_code)]

#[path = "common/tuntap_helpers.rs"]
mod helpers;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use helpers::{in_fresh_netns, ip_json, must, root_or_skip, succeeds};
use vnet_sys::probe::{self, Feature, Probe};

/// Probe `feature` and compare with the oracle's verdict.
fn check(feature: Feature, oracle: impl FnOnce() -> (bool, String) + Send + 'static) {
    let p = probe::probe(feature);
    eprintln!("{p}");
    let (ok, detail) = in_fresh_netns(oracle);
    assert_eq!(
        p.available,
        ok,
        "probe and oracle disagree for {feature}.\n  probe:  {p}\n  oracle: {} ({detail})",
        if ok { "works" } else { "fails" }
    );
    // The cached answer agrees with the fresh one.
    assert_eq!(probe::available(feature), p.available);
}

#[test]
fn probe_all_reports_every_feature_in_order() {
    if !root_or_skip() {
        return;
    }
    let all = probe::probe_all();
    let features: Vec<Feature> = all.iter().map(|p| p.feature).collect();
    assert_eq!(features, Feature::ALL.to_vec());
    for p in &all {
        eprintln!("{p}");
        let prefix = format!("{}: ", p.feature);
        assert!(p.reason.starts_with(&prefix), "{p}");
        let verdict = if p.available {
            "available ("
        } else {
            "not available ("
        };
        assert!(p.reason[prefix.len()..].starts_with(verdict), "{p}");
        assert!(p.reason.ends_with(')'), "{p}");
    }
}

#[test]
fn require_and_available_agree_with_the_cache() {
    if !root_or_skip() {
        return;
    }
    for f in Feature::ALL {
        let cached: &Probe = probe::cached(f);
        assert_eq!(probe::available(f), cached.available);
        match probe::require(f) {
            Ok(()) => assert!(cached.available),
            Err(why) => {
                assert!(!cached.available);
                assert_eq!(why, cached.reason);
            }
        }
        // Same object every time: probed once.
        assert!(std::ptr::eq(cached, probe::cached(f)));
    }
}

#[test]
fn probes_leave_nothing_in_the_callers_namespace() {
    if !root_or_skip() {
        return;
    }
    in_fresh_netns(|| {
        let before = ip_json(&["link", "show"]);
        let _ = probe::probe_all();
        assert_eq!(ip_json(&["link", "show"]), before);
        let qdisc = must("tc", &["qdisc", "show", "dev", "lo"]);
        assert!(!qdisc.contains("netem"), "{qdisc}");
    });
}

#[test]
fn veth_matches_iproute2() {
    if !root_or_skip() {
        return;
    }
    check(Feature::Veth, || {
        succeeds(
            "ip",
            &[
                "link", "add", "vorc0", "type", "veth", "peer", "name", "vorc1",
            ],
        )
    });
}

#[test]
fn bridge_matches_iproute2() {
    if !root_or_skip() {
        return;
    }
    check(Feature::Bridge, || {
        succeeds("ip", &["link", "add", "vorcbr0", "type", "bridge"])
    });
}

#[test]
fn bridge_vlan_filtering_matches_iproute2() {
    if !root_or_skip() {
        return;
    }
    // Note: a short name like "b" would be parsed by ip as the "broadcast"
    // keyword.
    check(Feature::BridgeVlanFiltering, || {
        succeeds(
            "ip",
            &[
                "link",
                "add",
                "vorcbr1",
                "type",
                "bridge",
                "vlan_filtering",
                "1",
            ],
        )
    });
}

/// A veth (or, without veth, a bridge) to stack vlan/macvlan devices on.
fn oracle_parent() -> Result<&'static str, String> {
    let (ok, err) = succeeds(
        "ip",
        &[
            "link", "add", "vorcp0", "type", "veth", "peer", "name", "vorcp1",
        ],
    );
    if ok {
        return Ok("vorcp0");
    }
    let (ok, err2) = succeeds("ip", &["link", "add", "vorcpbr0", "type", "bridge"]);
    if ok {
        return Ok("vorcpbr0");
    }
    Err(format!(
        "no parent device could be created: veth: {err}; bridge: {err2}"
    ))
}

#[test]
fn vlan_8021q_matches_iproute2() {
    if !root_or_skip() {
        return;
    }
    check(Feature::Vlan8021q, || match oracle_parent() {
        Ok(parent) => succeeds(
            "ip",
            &[
                "link", "add", "link", parent, "name", "vorcv5", "type", "vlan", "id", "5",
            ],
        ),
        Err(e) => (false, e),
    });
}

#[test]
fn macvlan_matches_iproute2() {
    if !root_or_skip() {
        return;
    }
    check(Feature::Macvlan, || match oracle_parent() {
        Ok(parent) => succeeds(
            "ip",
            &[
                "link", "add", "link", parent, "name", "vorcm0", "type", "macvlan", "mode",
                "bridge",
            ],
        ),
        Err(e) => (false, e),
    });
}

#[test]
fn dummy_matches_iproute2() {
    if !root_or_skip() {
        return;
    }
    check(Feature::Dummy, || {
        succeeds("ip", &["link", "add", "vorcd0", "type", "dummy"])
    });
}

#[test]
fn vxlan_matches_iproute2() {
    if !root_or_skip() {
        return;
    }
    check(Feature::Vxlan, || {
        succeeds(
            "ip",
            &[
                "link", "add", "vorcx0", "type", "vxlan", "id", "42", "dstport", "4789",
            ],
        )
    });
}

#[test]
fn tuntap_matches_iproute2() {
    if !root_or_skip() {
        return;
    }
    check(Feature::TunTap, || {
        succeeds("ip", &["tuntap", "add", "dev", "vorct0", "mode", "tap"])
    });
}

#[test]
fn netem_matches_tc() {
    if !root_or_skip() {
        return;
    }
    check(Feature::Netem, || {
        succeeds(
            "tc",
            &["qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
        )
    });
}

#[test]
fn ipv6_matches_iproute2() {
    if !root_or_skip() {
        return;
    }
    // in_fresh_netns brought lo up; with IPv6, ::1 is on it.
    check(Feature::Ipv6, || {
        let out = helpers::cmd("ip", &["-j", "-6", "addr", "show", "dev", "lo"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            out.status.success() && text.contains("\"::1\""),
            format!("ip -j -6 addr show dev lo: {}", text.trim()),
        )
    });
}

fn last_err(what: &str) -> (bool, String) {
    (
        false,
        format!("{what}: {}", std::io::Error::last_os_error()),
    )
}

fn setsockopt<T>(fd: &OwnedFd, level: i32, name: i32, value: &T) -> bool {
    // SAFETY: `value` points to a live, initialised T of the given size; the
    // kernel only reads it during the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    rc == 0
}

fn socket(domain: i32, ty: i32, proto: i32) -> Option<OwnedFd> {
    // SAFETY: socket(2) takes no pointers; a non-negative result is a fresh fd.
    let raw = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) };
    // SAFETY: `raw` was just returned by socket(2) and is owned only here.
    (raw >= 0).then(|| unsafe { OwnedFd::from_raw_fd(raw) })
}

/// A shared anonymous-or-fd mapping, unmapped on drop.
struct Mapping {
    ptr: *mut libc::c_void,
    len: usize,
}

impl Mapping {
    fn new(len: usize, fd: Option<&OwnedFd>) -> Option<Mapping> {
        let (flags, raw) = match fd {
            Some(fd) => (libc::MAP_SHARED, fd.as_raw_fd()),
            None => (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1),
        };
        // SAFETY: a fresh mapping at an address the kernel chooses; it
        // aliases no Rust object.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                flags,
                raw,
                0,
            )
        };
        (ptr != libc::MAP_FAILED).then_some(Mapping { ptr, len })
    }

    fn read_u32(&self, offset: usize) -> u32 {
        assert!(offset + 4 <= self.len);
        // SAFETY: in bounds (checked above), 4-byte aligned offsets of a
        // page-aligned mapping; volatile because the kernel writes it.
        unsafe { std::ptr::read_volatile(self.ptr.cast::<u8>().add(offset).cast::<u32>()) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the region mmap returned; no references
        // into it outlive `self`.
        unsafe { libc::munmap(self.ptr, self.len) };
    }
}

/// Oracle for TPACKET_V3: a working RX ring on lo that actually receives a
/// UDP datagram sent to 127.0.0.1.
fn packet_v3_ring_receives() -> (bool, String) {
    let proto = i32::from((libc::ETH_P_ALL as u16).to_be());
    let Some(fd) = socket(libc::AF_PACKET, libc::SOCK_RAW, proto) else {
        return last_err("socket(AF_PACKET)");
    };
    let version = libc::tpacket_versions::TPACKET_V3 as i32;
    if !setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_VERSION, &version) {
        return last_err("PACKET_VERSION V3");
    }
    let block = 1usize << 16;
    let req = libc::tpacket_req3 {
        tp_block_size: block as u32,
        tp_block_nr: 2,
        tp_frame_size: 2048,
        tp_frame_nr: (2 * block / 2048) as u32,
        tp_retire_blk_tov: 20,
        tp_sizeof_priv: 0,
        tp_feature_req_word: 0,
    };
    if !setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req) {
        return last_err("PACKET_RX_RING");
    }
    let Some(ring) = Mapping::new(2 * block, Some(&fd)) else {
        return last_err("mmap ring");
    };
    // SAFETY: sockaddr_ll is plain data; zero is valid.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = proto as u16;
    sll.sll_ifindex = nix::net::if_::if_nametoindex("lo").unwrap() as i32;
    // SAFETY: valid sockaddr_ll of the stated size, read only during the call.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return last_err("bind to lo");
    }
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(b"ring probe", udp.local_addr().unwrap())
        .unwrap();
    // Block 0's header: version u32, offset_to_priv u32, then block_status
    // and num_pkts (struct tpacket_hdr_v1).
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let status = ring.read_u32(8);
        let pkts = ring.read_u32(12);
        if status & libc::TP_STATUS_USER != 0 && pkts > 0 {
            return (true, format!("block 0 retired with {pkts} packets"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (false, "no packet reached the TPACKET_V3 ring in 5 s".into())
}

#[test]
fn packet_v3_matches_a_working_ring() {
    if !root_or_skip() {
        return;
    }
    check(Feature::PacketV3, packet_v3_ring_receives);
}

/// Oracle for AF_XDP: register a UMEM and size its fill ring, which needs a
/// working XDP socket implementation, not just the address family.
fn af_xdp_umem_registers() -> (bool, String) {
    let Some(fd) = socket(libc::AF_XDP, libc::SOCK_RAW, 0) else {
        return last_err("socket(AF_XDP)");
    };
    let len = 16 * 4096;
    let Some(umem) = Mapping::new(len, None) else {
        return last_err("mmap umem");
    };
    let reg = libc::xdp_umem_reg {
        addr: umem.ptr as u64,
        len: len as u64,
        chunk_size: 4096,
        headroom: 0,
        flags: 0,
        tx_metadata_len: 0,
    };
    if !setsockopt(&fd, libc::SOL_XDP, libc::XDP_UMEM_REG, &reg) {
        return last_err("XDP_UMEM_REG");
    }
    let ring_size: u32 = 64;
    if !setsockopt(&fd, libc::SOL_XDP, libc::XDP_UMEM_FILL_RING, &ring_size) {
        return last_err("XDP_UMEM_FILL_RING");
    }
    (true, "registered a UMEM and its fill ring".into())
}

#[test]
fn af_xdp_matches_umem_registration() {
    if !root_or_skip() {
        return;
    }
    check(Feature::AfXdp, af_xdp_umem_registers);
}
