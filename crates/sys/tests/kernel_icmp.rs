//! Raw-socket ping against the real kernel. Every test runs on its own
//! thread that first moves into a fresh, anonymous network namespace
//! (`unshare(CLONE_NEWNET)`): nothing touches the root namespace, and the
//! namespace disappears with the thread.

mod common;

use std::net::IpAddr;
use std::os::fd::AsFd;
use std::process::Command;
use std::time::{Duration, Instant};

use common::root_or_skip;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::{unshare, CloneFlags};
use vnet_sys::icmp::Pinger;

/// Runs `f` on a new thread inside a new network namespace whose `lo` is up.
fn in_fresh_netns<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
            // A child forked from this thread inherits its namespace.
            let st = Command::new("ip")
                .args(["link", "set", "lo", "up"])
                .status()
                .expect("run ip (is iproute2 installed?)");
            assert!(st.success(), "ip link set lo up failed");
            f()
        })
        .join()
        .expect("test thread panicked")
    })
}

/// Waits up to `within` for the reply with `ident`; `None` on timeout.
fn wait_reply(p: &Pinger, ident: u16, within: Duration) -> Option<(IpAddr, u16)> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(r) = p.recv_reply(ident).expect("recv") {
            return Some(r);
        }
        let left = deadline.checked_duration_since(Instant::now())?;
        let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(p.as_fd(), PollFlags::POLLIN)];
        poll(&mut fds, PollTimeout::from(ms)).expect("poll");
    }
}

fn ping_loopback(v6: bool) {
    if !root_or_skip() {
        return;
    }
    let dst: IpAddr = if v6 { "::1" } else { "127.0.0.1" }.parse().unwrap();
    in_fresh_netns(|| {
        let p = Pinger::open(v6).expect("open raw ICMP socket");
        assert_eq!(p.is_v6(), v6);
        let ident = 0x5a5a;
        for seq in [1u16, 2, 0xfffe] {
            p.send_echo(dst, ident, seq, b"vnet-ping").expect("send");
            let got = wait_reply(&p, ident, Duration::from_secs(2));
            assert_eq!(got, Some((dst, seq)), "reply to seq {seq}");
        }
        // The kernel filter keeps the request we sent to ourselves out of
        // the queue: nothing is left.
        assert_eq!(p.recv_reply(ident).unwrap(), None);

        // Payload comes back intact.
        p.send_echo(dst, ident, 9, &[7; 16]).unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut buf = [0u8; 64];
        let reply = loop {
            if let Some(r) = p.recv_reply_payload(ident, &mut buf).unwrap() {
                break r;
            }
            assert!(Instant::now() < deadline, "no reply with payload");
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!((reply.from, reply.seq, reply.payload_len), (dst, 9, 16));
        assert_eq!(&buf[..16], &[7; 16]);
    });
}

#[test]
fn ping_ipv4_loopback() {
    ping_loopback(false);
}

#[test]
fn ping_ipv6_loopback() {
    ping_loopback(true);
}

#[test]
fn replies_are_told_apart_by_ident() {
    if !root_or_skip() {
        return;
    }
    in_fresh_netns(|| {
        let dst: IpAddr = "127.0.0.1".parse().unwrap();
        let (a, b) = (Pinger::open(false).unwrap(), Pinger::open(false).unwrap());
        a.send_echo(dst, 100, 1, b"").unwrap();
        b.send_echo(dst, 200, 2, b"").unwrap();
        // Both sockets see both replies; each keeps only its own.
        assert_eq!(wait_reply(&a, 100, Duration::from_secs(2)), Some((dst, 1)));
        assert_eq!(wait_reply(&b, 200, Duration::from_secs(2)), Some((dst, 2)));
        assert_eq!(a.recv_reply(100).unwrap(), None);
        assert_eq!(b.recv_reply(200).unwrap(), None);
    });
}

#[test]
fn unreachable_destinations_fail_without_panicking() {
    if !root_or_skip() {
        return;
    }
    in_fresh_netns(|| {
        for (v6, dst) in [(false, "10.255.255.1"), (true, "2001:db8::1")] {
            let dst: IpAddr = dst.parse().unwrap();
            let p = Pinger::open(v6).unwrap();
            // No route: the kernel refuses at once (ENETUNREACH), or if it
            // ever accepted the packet no reply can come back.
            match p.send_echo(dst, 1, 1, b"x") {
                Err(e) => eprintln!("send to {dst}: {e} (expected)"),
                Ok(()) => {
                    assert_eq!(wait_reply(&p, 1, Duration::from_millis(300)), None);
                }
            }
        }
        // Family mismatch is an input error, not a panic.
        let p = Pinger::open(false).unwrap();
        let err = p.send_echo("::1".parse().unwrap(), 1, 1, b"").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    });
}
