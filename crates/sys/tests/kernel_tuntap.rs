//! TUN/TAP against the real kernel. Every test body runs in its own fresh
//! network namespace (a thread that unshares and exits), never in the root
//! namespace; iproute2's JSON output is the oracle.
#![allow(unsafe_code)]

#[path = "common/tuntap_helpers.rs"]
mod helpers;

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use helpers::{in_fresh_netns, link_details, link_names, must, root_or_skip};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use vnet_sys::tuntap::{self, Mode, Offload, TunTapBuilder, TunTapError};

const TIMEOUT: Duration = Duration::from_secs(5);
const ETHERTYPE_TEST: u16 = 0x88b5; // IEEE 802 local experimental

/// An Ethernet frame of our test ethertype carrying `marker`, padded to 60.
fn test_frame(dst: [u8; 6], src: [u8; 6], marker: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ETHERTYPE_TEST.to_be_bytes());
    f.extend_from_slice(marker);
    f.resize(60.max(f.len()), 0);
    f
}

fn is_test_frame(frame: &[u8], marker: &[u8]) -> bool {
    frame.len() >= 14 + marker.len()
        && frame[12..14] == ETHERTYPE_TEST.to_be_bytes()
        && &frame[14..14 + marker.len()] == marker
}

/// Wait until `fd` is readable, at most until `deadline`.
fn wait_readable(fd: &impl AsFd, deadline: Instant) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::from(ms)), Ok(n) if n > 0)
}

/// Read packets from a (non-blocking) fd until `want` accepts one or 2 s pass.
fn read_until(file: &mut File, want: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let deadline = Instant::now() + TIMEOUT;
    let mut buf = vec![0u8; 65536];
    loop {
        assert!(
            wait_readable(file, deadline),
            "timed out waiting for the packet"
        );
        match file.read(&mut buf) {
            Ok(n) if want(&buf[..n]) => return buf[..n].to_vec(),
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// An AF_PACKET SOCK_RAW socket for all protocols, bound to `ifindex`.
fn packet_socket(ifindex: u32) -> OwnedFd {
    let proto = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: socket(2) takes no pointers; a non-negative result is a fresh
    // fd owned by nobody else, wrapped into OwnedFd right below.
    let raw = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            c_int_from(proto),
        )
    };
    assert!(
        raw >= 0,
        "AF_PACKET socket: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `raw` is a valid fd just returned by socket(2), owned only here.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = proto;
    sll.sll_ifindex = i32::try_from(ifindex).unwrap();
    // SAFETY: `sll` is a valid sockaddr_ll and the length passed is its size;
    // the kernel only reads it during the call.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "bind AF_PACKET: {}", std::io::Error::last_os_error());
    fd
}

fn c_int_from(proto_be: u16) -> libc::c_int {
    libc::c_int::from(proto_be)
}

fn packet_recv_until(fd: &OwnedFd, want: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let deadline = Instant::now() + TIMEOUT;
    let mut buf = vec![0u8; 65536];
    loop {
        assert!(
            wait_readable(fd, deadline),
            "timed out waiting on the packet socket"
        );
        match nix::sys::socket::recv(
            fd.as_raw_fd(),
            &mut buf,
            nix::sys::socket::MsgFlags::empty(),
        ) {
            Ok(n) if want(&buf[..n]) => return buf[..n].to_vec(),
            Ok(_) | Err(nix::errno::Errno::EAGAIN) => continue,
            Err(e) => panic!("recv on packet socket: {e}"),
        }
    }
}

fn disable_ipv6(dev: &str) {
    // /proc/sys/net follows the opening task's namespace: this thread's.
    std::fs::write(format!("/proc/sys/net/ipv6/conf/{dev}/disable_ipv6"), "1")
        .unwrap_or_else(|e| panic!("disable IPv6 on {dev}: {e}"));
}

#[test]
fn tap_frames_cross_in_both_directions() {
    if !root_or_skip() {
        return;
    }
    in_fresh_netns(|| {
        let tap = TunTapBuilder::tap("vtap0")
            .nonblocking(true)
            .create()
            .unwrap();
        assert_eq!(tap.name(), "vtap0");
        assert_eq!(tap.mode(), Mode::Tap);
        assert_eq!(tap.queues().len(), 1);
        let info = link_details("vtap0").expect("vtap0 visible to ip");
        assert_eq!(info["ifindex"].as_u64(), Some(u64::from(tap.ifindex())));
        assert_eq!(info["linkinfo"]["info_data"]["type"], "tap");
        assert_eq!(info["linkinfo"]["info_data"]["pi"], false);
        disable_ipv6("vtap0");
        must("ip", &["link", "set", "vtap0", "up"]);

        let psock = packet_socket(tap.ifindex());
        let mut q = tap.into_queues().pop().unwrap();

        // tap fd → kernel: the packet socket sees the identical frame.
        let marker = b"vnet tap -> kernel";
        let frame = test_frame([0xff; 6], [2, 0, 0, 0, 0, 1], marker);
        assert_eq!(q.write(&frame).unwrap(), frame.len());
        let got = packet_recv_until(&psock, |f| is_test_frame(f, marker));
        assert_eq!(got, frame);

        // kernel → tap fd: a frame sent on the packet socket is read from the fd.
        let marker = b"vnet kernel -> tap";
        let frame = test_frame([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], marker);
        let sent = nix::sys::socket::send(
            psock.as_raw_fd(),
            &frame,
            nix::sys::socket::MsgFlags::empty(),
        )
        .unwrap();
        assert_eq!(sent, frame.len());
        let got = read_until(&mut q, |f| is_test_frame(f, marker));
        assert_eq!(got, frame);
    });
}

fn checksum(data: &[u8], initial: u32) -> u16 {
    let mut sum = initial;
    for chunk in data.chunks(2) {
        let word = if chunk.len() == 2 {
            u16::from_be_bytes([chunk[0], chunk[1]])
        } else {
            u16::from_be_bytes([chunk[0], 0])
        };
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A complete IPv4/UDP packet with correct IP and UDP checksums.
fn ipv4_udp(src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let total = 20 + udp_len;
    let mut p = vec![0u8; total];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
    p[6..8].copy_from_slice(&0x4000u16.to_be_bytes()); // DF
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src.ip().octets());
    p[16..20].copy_from_slice(&dst.ip().octets());
    let ip_csum = checksum(&p[..20], 0);
    p[10..12].copy_from_slice(&ip_csum.to_be_bytes());
    p[20..22].copy_from_slice(&src.port().to_be_bytes());
    p[22..24].copy_from_slice(&dst.port().to_be_bytes());
    p[24..26].copy_from_slice(&(udp_len as u16).to_be_bytes());
    p[28..].copy_from_slice(payload);
    let mut pseudo = 0u32;
    for w in [&p[12..14], &p[14..16], &p[16..18], &p[18..20]] {
        pseudo += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    pseudo += 17 + udp_len as u32;
    let udp_csum = match checksum(&p[20..], pseudo) {
        0 => 0xffff,
        c => c,
    };
    p[26..28].copy_from_slice(&udp_csum.to_be_bytes());
    p
}

#[test]
fn tun_carries_ip_packets_both_ways() {
    if !root_or_skip() {
        return;
    }
    in_fresh_netns(|| {
        let tun = TunTapBuilder::tun("vtun0")
            .nonblocking(true)
            .create()
            .unwrap();
        let info = link_details("vtun0").expect("vtun0 visible to ip");
        assert_eq!(info["linkinfo"]["info_data"]["type"], "tun");
        assert_eq!(info["link_type"], "none");
        must("ip", &["addr", "add", "10.99.0.1/24", "dev", "vtun0"]);
        must("ip", &["link", "set", "vtun0", "up"]);
        let mut q = tun.into_queues().pop().unwrap();

        let local = SocketAddrV4::new(Ipv4Addr::new(10, 99, 0, 1), 40001);
        let remote = SocketAddrV4::new(Ipv4Addr::new(10, 99, 0, 2), 40002);

        // tun fd → kernel → UDP socket.
        let sock = UdpSocket::bind(local).unwrap();
        sock.set_read_timeout(Some(TIMEOUT)).unwrap();
        let pkt = ipv4_udp(remote, local, b"hello from the tun fd");
        assert_eq!(q.write(&pkt).unwrap(), pkt.len());
        let mut buf = [0u8; 1500];
        let (n, from) = sock
            .recv_from(&mut buf)
            .expect("UDP datagram written into the tun fd");
        assert_eq!(&buf[..n], b"hello from the tun fd");
        assert_eq!(from, std::net::SocketAddr::V4(remote));

        // UDP socket → kernel → tun fd.
        sock.send_to(b"hello to the tun fd", remote).unwrap();
        let got = read_until(&mut q, |p| {
            p.len() >= 28 && p[0] >> 4 == 4 && p[9] == 17 && p[22..24] == 40002u16.to_be_bytes()
        });
        let ihl = usize::from(got[0] & 0xf) * 4;
        assert_eq!(checksum(&got[..ihl], 0), 0, "IPv4 header checksum");
        assert_eq!(&got[12..16], &[10, 99, 0, 1]);
        assert_eq!(&got[16..20], &[10, 99, 0, 2]);
        assert_eq!(&got[ihl..ihl + 2], &40001u16.to_be_bytes());
        assert_eq!(&got[ihl + 2..ihl + 4], &40002u16.to_be_bytes());
        assert_eq!(&got[ihl + 8..], b"hello to the tun fd");
    });
}

#[test]
fn persistent_device_keeps_owner_and_group_until_deleted() {
    if !root_or_skip() {
        return;
    }
    in_fresh_netns(|| {
        let tap = TunTapBuilder::tap("vtap1")
            .persistent(true)
            .owner(1234)
            .group(2345)
            .create()
            .unwrap();
        drop(tap);
        let info = link_details("vtap1").expect("persistent vtap1 survives its fd");
        let data = &info["linkinfo"]["info_data"];
        assert_eq!(data["type"], "tap", "{info}");
        assert_eq!(data["persist"], true, "{info}");
        assert_eq!(data["user"], 1234, "{info}");
        assert_eq!(data["group"], 2345, "{info}");

        tuntap::delete_persistent("vtap1").unwrap();
        assert!(link_details("vtap1").is_none(), "vtap1 still exists");
        assert!(!link_names().contains(&"vtap1".to_owned()));

        // Deleting again names the device and says why.
        let err = tuntap::delete_persistent("vtap1").unwrap_err();
        assert_eq!(err.errno(), Some(nix::errno::Errno::ENODEV), "{err}");
        assert!(err.to_string().contains("vtap1"), "{err}");

        // A persistent multi-queue TUN is detected and deleted too.
        drop(
            TunTapBuilder::tun("vtun9")
                .multi_queue(2)
                .persistent(true)
                .create()
                .unwrap(),
        );
        assert_eq!(
            link_details("vtun9").unwrap()["linkinfo"]["info_data"]["multi_queue"],
            true
        );
        tuntap::delete_persistent("vtun9").unwrap();
        assert!(link_details("vtun9").is_none());

        // Not a tun/tap device: refused with a clear error, device untouched.
        let err = tuntap::delete_persistent("lo").unwrap_err();
        assert!(err.to_string().contains("not a tun/tap device"), "{err}");
        assert!(link_details("lo").is_some());
    });
}

#[test]
fn multi_queue_with_vnet_hdr() {
    if !root_or_skip() {
        return;
    }
    in_fresh_netns(|| {
        let hdr = tuntap::VNET_HDR_MRG_RXBUF_LEN;
        let tap = TunTapBuilder::tap("vtapmq0")
            .multi_queue(4)
            .vnet_hdr_size(hdr)
            .offload(Offload::CSUM | Offload::TSO4 | Offload::TSO6)
            .nonblocking(true)
            .create()
            .unwrap();
        assert_eq!(tap.queues().len(), 4);
        assert_eq!(tap.vnet_hdr_len(), hdr);
        let info = link_details("vtapmq0").expect("vtapmq0 visible to ip");
        let data = &info["linkinfo"]["info_data"];
        assert_eq!(data["multi_queue"], true, "{info}");
        assert_eq!(data["vnet_hdr"], true, "{info}");
        assert_eq!(data["numqueues"], 4, "{info}");
        assert_eq!(data["persist"], false, "{info}");
        disable_ipv6("vtapmq0");
        must("ip", &["link", "set", "vtapmq0", "up"]);
        let psock = packet_socket(tap.ifindex());

        // Written on queue 2 behind a zeroed 12-byte vnet header: the kernel
        // strips the header.
        let marker = b"vnet mq in";
        let frame = test_frame([0xff; 6], [2, 0, 0, 0, 0, 3], marker);
        let mut with_hdr = vec![0u8; hdr];
        with_hdr.extend_from_slice(&frame);
        let mut queues = tap.into_queues();
        assert_eq!(queues[2].write(&with_hdr).unwrap(), with_hdr.len());
        let got = packet_recv_until(&psock, |f| is_test_frame(f, marker));
        assert_eq!(got, frame);

        // Sent by the kernel: arrives on one of the queues with a vnet header.
        let marker = b"vnet mq out";
        let frame = test_frame([2, 0, 0, 0, 0, 3], [2, 0, 0, 0, 0, 4], marker);
        nix::sys::socket::send(
            psock.as_raw_fd(),
            &frame,
            nix::sys::socket::MsgFlags::empty(),
        )
        .unwrap();
        let deadline = Instant::now() + TIMEOUT;
        let mut buf = vec![0u8; 65536];
        let got = 'found: loop {
            let mut fds: Vec<PollFd> = queues
                .iter()
                .map(|q| PollFd::new(q.as_fd(), PollFlags::POLLIN))
                .collect();
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "timed out waiting on the queues");
            let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
            poll(&mut fds, PollTimeout::from(ms)).unwrap();
            let ready: Vec<usize> = fds
                .iter()
                .enumerate()
                .filter(|(_, f)| f.revents().is_some_and(|r| r.contains(PollFlags::POLLIN)))
                .map(|(i, _)| i)
                .collect();
            drop(fds);
            for i in ready {
                while let Ok(n) = queues[i].read(&mut buf) {
                    if n >= hdr && is_test_frame(&buf[hdr..n], marker) {
                        break 'found buf[..n].to_vec();
                    }
                }
            }
        };
        assert_eq!(&got[hdr..], &frame[..]);
        // No offload applies to a 60-byte frame: flags 0, gso_type NONE.
        assert_eq!(got[0], 0, "vnet hdr flags");
        assert_eq!(got[1], 0, "vnet hdr gso_type");

        // Closing one queue fd detaches it.
        drop(queues.pop());
        let info = link_details("vtapmq0").unwrap();
        assert_eq!(info["linkinfo"]["info_data"]["numqueues"], 3, "{info}");
    });
}

#[test]
fn name_too_long_and_conflicting_mode_are_clear_errors() {
    if !root_or_skip() {
        return;
    }
    in_fresh_netns(|| {
        let long = "vtap-name-too-long";
        let err = TunTapBuilder::tap(long).create().unwrap_err();
        assert!(matches!(err, TunTapError::InvalidName { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(long) && msg.contains("15 bytes"), "{msg}");

        let _keep = TunTapBuilder::tap("vdup0")
            .persistent(true)
            .create()
            .unwrap();
        // Same name as TUN: the kernel refuses with EINVAL; we say why.
        let err = TunTapBuilder::tun("vdup0").create().unwrap_err();
        assert_eq!(err.errno(), Some(nix::errno::Errno::EINVAL), "{err}");
        let msg = err.to_string();
        assert!(
            msg.starts_with("create tun vdup0: Invalid argument"),
            "{msg}"
        );
        assert!(msg.contains("already exists"), "{msg}");

        // Same mode, but the device is held open and is not multi-queue.
        let err = TunTapBuilder::tap("vdup0").create().unwrap_err();
        assert_eq!(
            err.to_string(),
            "create tap vdup0: Device or resource busy (the device exists and another \
             process has it open (not multi-queue), or its queues are all taken)"
        );

        // Exclusive creation refuses any existing name.
        let err = TunTapBuilder::tap("lo")
            .exclusive(true)
            .create()
            .unwrap_err();
        assert_eq!(err.errno(), Some(nix::errno::Errno::EBUSY), "{err}");
        assert!(err.to_string().contains("already exists"), "{err}");

        // Deleting while it is held open says so.
        let err = tuntap::delete_persistent("vdup0").unwrap_err();
        assert_eq!(err.errno(), Some(nix::errno::Errno::EBUSY), "{err}");
        assert!(err.to_string().contains("vdup0"), "{err}");
    });
}

#[test]
fn template_names_nonblocking_reads_and_removal_on_drop() {
    if !root_or_skip() {
        return;
    }
    in_fresh_netns(|| {
        let a = TunTapBuilder::tap("vtt%d")
            .nonblocking(true)
            .create()
            .unwrap();
        let b = TunTapBuilder::tap("vtt%d").create().unwrap();
        assert_eq!(a.name(), "vtt0");
        assert_eq!(b.name(), "vtt1");
        assert_ne!(a.ifindex(), b.ifindex());
        let names = link_names();
        assert!(names.contains(&"vtt0".to_owned()) && names.contains(&"vtt1".to_owned()));

        assert_eq!(a.vnet_hdr_len(), 0);
        let c = TunTapBuilder::tap("vhdr0").vnet_hdr(true).create().unwrap();
        assert_eq!(c.vnet_hdr_len(), tuntap::VNET_HDR_LEN);
        drop(c);

        // Non-blocking: nothing queued → WouldBlock, not a hang.
        let mut q = a.queue(0).unwrap();
        let err = q.read(&mut [0u8; 2048]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);

        // Not persistent: gone when the fds close.
        drop(a);
        drop(b);
        let names = link_names();
        assert!(
            !names.iter().any(|n| n.starts_with("vtt")),
            "non-persistent devices survived their fds: {names:?}"
        );
    });
}
