//! Link events and packet-socket rebinding against the real kernel, in a
//! throwaway namespace: a monitor opened from outside the namespace sees a
//! veth appear, flap and go; a packet socket reports its namespace and
//! loses its binding when its device is deleted, and a socket opened anew
//! in that namespace (from outside it) works on the recreated device.

mod common;

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use common::{root_or_skip, TestNs};
use vnet_sys::netlink::{LinkEvent, LinkMonitor};
use vnet_sys::packet::{PacketOptions, PacketSocket};

/// Collects events until `done` says so or 5 s pass.
fn events_until(m: &mut LinkMonitor, mut done: impl FnMut(&[LinkEvent]) -> bool) -> Vec<LinkEvent> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut all = Vec::new();
    while Instant::now() < deadline {
        all.extend(m.events());
        if done(&all) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    all
}

fn opts() -> PacketOptions {
    PacketOptions {
        vnet_hdr: false,
        rcvbuf: 0,
        qdisc_bypass: false,
        ignore_outgoing: true,
        rx_ring: false,
    }
}

#[test]
fn monitor_sees_links_come_flap_and_go_and_sockets_rebind() {
    if !root_or_skip() {
        return;
    }
    let ns = TestNs::new("lmon");
    let mut m = LinkMonitor::open_in(ns.ns.as_fd()).expect("monitor");
    assert!(m.events().is_empty(), "no events yet");

    ns.ip(&["link", "add", "a0", "type", "veth", "peer", "name", "b0"]);
    let got = events_until(&mut m, |e| {
        e.iter()
            .any(|e| matches!(e, LinkEvent::New(l) if l.name == "a0"))
    });
    let a0 = got
        .iter()
        .find_map(|e| match e {
            LinkEvent::New(l) if l.name == "a0" => Some(l.index),
            _ => None,
        })
        .expect("NEWLINK a0");
    let links = m.links().expect("links");
    assert_eq!(
        links.iter().find(|l| l.name == "a0").map(|l| l.index),
        Some(a0)
    );

    // A socket on a0, opened from this thread (outside the namespace).
    ns.ip(&["link", "set", "a0", "up"]);
    ns.ip(&["link", "set", "b0", "up"]);
    let sock = PacketSocket::open_in(ns.ns.as_fd(), a0, opts()).expect("open_in");
    assert_eq!(sock.bound_ifindex().unwrap(), Some(a0));
    let sns = sock.netns().expect("SIOCGSKNS");
    let (x, y) = (
        nix::sys::stat::fstat(sns.as_fd()).unwrap(),
        nix::sys::stat::fstat(ns.ns.as_fd()).unwrap(),
    );
    assert_eq!((x.st_dev, x.st_ino), (y.st_dev, y.st_ino), "socket's netns");

    // A flap: events with the same index and name; the socket stays bound.
    ns.ip(&["link", "set", "a0", "down"]);
    ns.ip(&["link", "set", "a0", "up"]);
    let got = events_until(&mut m, |e| {
        e.iter()
            .any(|e| matches!(e, LinkEvent::New(l) if l.name == "a0" && l.up))
    });
    assert!(got
        .iter()
        .all(|e| !matches!(e, LinkEvent::Del(l) if l.index == a0)));
    assert_eq!(sock.bound_ifindex().unwrap(), Some(a0));
    // The down left an error (ENETDOWN) for us to read, once.
    let _ = sock.take_error().unwrap();
    assert!(sock.take_error().unwrap().is_none());

    // Deleted: DELLINK, and the socket is unbound for good.
    ns.ip(&["link", "del", "a0"]);
    let got = events_until(&mut m, |e| {
        e.iter()
            .any(|e| matches!(e, LinkEvent::Del(l) if l.index == a0))
    });
    assert!(
        got.iter()
            .any(|e| matches!(e, LinkEvent::Del(l) if l.name == "a0")),
        "{got:?}"
    );
    assert_eq!(sock.bound_ifindex().unwrap(), None);

    // Recreated under the same name: a new index; a socket reopened with
    // the same options in the same namespace carries frames again.
    ns.ip(&["link", "add", "a0", "type", "veth", "peer", "name", "b0"]);
    ns.ip(&["link", "set", "a0", "up"]);
    ns.ip(&["link", "set", "b0", "up"]);
    let got = events_until(&mut m, |e| {
        e.iter()
            .any(|e| matches!(e, LinkEvent::New(l) if l.name == "a0"))
    });
    let a0_new = got
        .iter()
        .find_map(|e| match e {
            LinkEvent::New(l) if l.name == "a0" => Some(l.index),
            _ => None,
        })
        .expect("NEWLINK a0 again");
    assert_ne!(a0_new, a0);
    let tx = PacketSocket::open_in(sns.as_fd(), a0_new, sock.options()).expect("reopen");
    let b0 = m
        .links()
        .unwrap()
        .into_iter()
        .find(|l| l.name == "b0")
        .expect("b0")
        .index;
    let mut rx = PacketSocket::open_in(ns.ns.as_fd(), b0, opts()).expect("rx");
    let mut frame = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5];
    frame.resize(60, 0xab);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = false;
    while !seen && Instant::now() < deadline {
        tx.send_batch(&[frame.as_slice()]).expect("send");
        let mut buf = vec![0u8; 2048];
        let mut meta = [vnet_sys::packet::RecvMeta::default(); 1];
        std::thread::sleep(Duration::from_millis(5));
        let n = rx
            .recv_batch(&mut [buf.as_mut_slice()], &mut meta)
            .unwrap_or(0);
        seen = n == 1 && buf[..meta[0].len] == frame[..];
    }
    assert!(seen, "no frame through the reopened socket");
}
