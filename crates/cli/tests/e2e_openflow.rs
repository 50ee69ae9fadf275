//! End-to-end tests of the switch's OpenFlow 1.3 side against real
//! third-party peers: `ovs-ofctl` on the switch's passive listener,
//! `ovs-testcontroller` and an os-ken application as controllers the switch
//! connects to, and a raw TCP client sending what no real peer would. The
//! forwarding they program is checked with real traffic between lab hosts.
//!
//! Every listener is `ptcp:0` (the port is read back from `show --json`),
//! every controller listens on a port just found free on 127.0.0.1, so the
//! tests run in parallel. Each test holds a [`TestLab`] guard and a guard
//! on every process it starts. Tests whose peer is not installed print
//! SKIP and pass.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use vnet_openflow::msg::basic::{ControllerRole, Hello, RoleMsg, OFPPR_ADD};
use vnet_openflow::msg::flow::{FlowRemoved, OFPRR_DELETE, OFPRR_HARD_TIMEOUT};
use vnet_openflow::{split_frames, Framer, Header, Message};

// ---------------------------------------------------------------- helpers

/// Hosts h1..hn at 10.78.0.I/24.
const HOSTS: Hosts = Hosts(78);

/// One switch `sw1` with `openflow` (YAML flow mapping) and flows, and
/// `n` hosts (see [`HOSTS`]).
fn lab_text(name: &str, openflow: &str, flows: &[&str], n: usize) -> String {
    HOSTS.lab_yaml(name, openflow, &[("flows", flows)], n)
}

/// Kills (and reaps) a started process on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP port free on 127.0.0.1 just now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("find a free port")
        .port()
}

/// Whether sw1 has an OpenFlow connection up.
fn connected(lab: &TestLab) -> bool {
    show(lab)["openflow"]["connections"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["state"] == "up"))
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A minimal OpenFlow 1.3 client built on the codec.
struct Client {
    s: TcpStream,
    framer: Framer,
    queued: Vec<(Header, Message)>,
}

impl Client {
    /// Connects to `tcp:ADDR` and does the HELLO exchange.
    fn connect(target: &str) -> Client {
        let addr = target.trim_start_matches("tcp:");
        let s = TcpStream::connect(addr).expect("connect to the switch");
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut c = Client {
            s,
            framer: Framer::default(),
            queued: Vec::new(),
        };
        c.send(1, &Message::Hello(Hello::with_versions(&[4])));
        let hello = c.recv_until(Duration::from_secs(5), |m| matches!(m, Message::Hello(_)));
        assert!(hello.is_some(), "no HELLO from the switch");
        c
    }

    /// FEATURES_REQUEST, answered within 5 s.
    fn features(&mut self) {
        self.send(2, &Message::FeaturesRequest);
        let reply = self.recv_until(Duration::from_secs(5), |m| {
            matches!(m, Message::FeaturesReply(_))
        });
        assert!(reply.is_some(), "no FEATURES_REPLY");
    }

    fn send(&mut self, xid: u32, m: &Message) {
        self.s.write_all(&m.encode(xid).unwrap()).unwrap();
    }

    /// The next message, if one comes within `timeout`.
    fn recv(&mut self, timeout: Duration) -> Option<(Header, Message)> {
        let end = Instant::now() + timeout;
        loop {
            if !self.queued.is_empty() {
                return Some(self.queued.remove(0));
            }
            if Instant::now() >= end {
                return None;
            }
            let mut buf = [0u8; 65536];
            match self.s.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => {
                    for f in self.framer.push(&buf[..n]).expect("framing") {
                        self.queued.push(Message::decode(&f).expect("decode"));
                    }
                }
                Err(_) => {}
            }
        }
    }

    fn recv_until(
        &mut self,
        timeout: Duration,
        mut want: impl FnMut(&Message) -> bool,
    ) -> Option<Message> {
        let end = Instant::now() + timeout;
        while let Some((_, m)) = self.recv(end.saturating_duration_since(Instant::now())) {
            if want(&m) {
                return Some(m);
            }
        }
        None
    }
}

// ------------------------------------------------------------------ tests

/// ovs-ofctl on the passive listener: show, add-flow, dump-flows (as they
/// went in), dump-ports, dump-tables, dump-aggregate, del-flows with and
/// without --strict, and the forwarding of a flow-only (secure) switch.
#[test]
fn ovs_ofctl_drives_a_flow_only_switch() {
    if !ready(&["ovs-ofctl"]) {
        return;
    }
    let lab = HOSTS.secure_lab("ofctl", 2);
    let t = listener(&lab);

    let r = ofctl(&["show", &t]).ok();
    let dpid = show(&lab)["openflow"]["datapath_id"]
        .as_str()
        .unwrap()
        .to_string();
    for want in [
        format!("dpid:{dpid}"),
        "n_tables:16".into(),
        " 1(h1): addr:".into(),
        " 2(h2): addr:".into(),
        " LOCAL(sw1): addr:".into(),
        "FLOW_STATS TABLE_STATS PORT_STATS".into(),
    ] {
        assert!(
            r.stdout.contains(&want),
            "show lacks {want:?}:\n{}",
            r.stdout
        );
    }
    // The MACs are the kernel's.
    let mac = mac_of(&lab, "sw1", "h1");
    assert!(
        r.stdout.contains(&format!("1(h1): addr:{mac}")),
        "{}",
        r.stdout
    );

    // Secure and no flow: nothing passes.
    assert!(dumped(&t).is_empty());
    HOSTS.assert_unreachable(&lab, 1, 2);

    // Two flows make a wire.
    let flows = [
        "priority=10,in_port=1 actions=output:2",
        "priority=10,in_port=2 actions=output:1",
    ];
    for f in flows {
        ofctl(&["add-flow", &t, &f.replace(' ', ",")]).ok();
    }
    assert_eq!(dumped(&t), flows);
    HOSTS.assert_reaches(&lab, 1, 2);
    HOSTS.assert_reaches(&lab, 2, 1);
    // The counters moved, as ovs-ofctl reads them.
    let ports = ofctl(&["dump-ports", &t]).ok();
    assert!(
        ports.stdout.contains("port  1: rx pkts="),
        "{}",
        ports.stdout
    );
    assert!(
        port_stats(&lab, 1)["rx_packets"].as_u64().unwrap() > 0,
        "no rx counted"
    );
    let one = ofctl(&["dump-ports", &t, "1"]).ok();
    assert!(one.stdout.contains("1 ports"), "{}", one.stdout);
    let tables = ofctl(&["dump-tables", &t]).ok();
    assert!(
        tables.stdout.contains("table 0:\n    active=2"),
        "{}",
        tables.stdout
    );
    let agg = ofctl(&["dump-aggregate", &t]).ok();
    assert!(agg.stdout.contains("flow_count=2"), "{}", agg.stdout);
    let flows_out = ofctl(&["dump-flows", &t, "out_port=2"]).ok();
    assert_eq!(flows_out.stdout.matches("priority=10").count(), 1);

    // --strict deletes exactly one flow; the match alone would take both.
    ofctl(&["--strict", "del-flows", &t, "priority=10,in_port=1"]).ok();
    assert_eq!(dumped(&t), [flows[1]]);
    HOSTS.assert_unreachable(&lab, 1, 2);
    ofctl(&["--strict", "del-flows", &t, "priority=11,in_port=2"]).ok();
    assert_eq!(dumped(&t), [flows[1]], "strict with another priority");
    ofctl(&[
        "add-flow",
        &t,
        "priority=20,ip,nw_dst=10.78.0.2,actions=output:2",
    ])
    .ok();
    ofctl(&["del-flows", &t, "in_port=2"]).ok();
    assert_eq!(
        dumped(&t),
        ["priority=20,ip,nw_dst=10.78.0.2 actions=output:2"]
    );
    ofctl(&["del-flows", &t]).ok();
    assert!(dumped(&t).is_empty());

    // A refused flow-mod is reported by ovs-ofctl with the spec's error.
    let bad = ofctl(&["add-flow", &t, "table=20,actions=drop"]);
    assert!(!bad.success());
    assert!(bad.stderr.contains("OFPFMFC_BAD_TABLE_ID"), "{bad:#?}");
    // And the connection-level checks held: the daemon did not restart.
    assert!(worker_pid(&lab.name).is_some());
}

/// add-flows of a file of 10,000 flows: all installed, printed back as
/// they went in, saved like CLI flows (they survive a daemon restart),
/// and the two among them that forward work.
#[test]
fn ovs_ofctl_add_flows_ten_thousand() {
    if !ready(&["ovs-ofctl"]) {
        return;
    }
    let lab = HOSTS.secure_lab("ofbulk", 2);
    let t = listener(&lab);
    let mut text = String::from("# generated\n");
    let mut want = Vec::new();
    for i in 0..9_998u32 {
        let f = format!(
            "priority={},ip,nw_dst=10.{}.{}.{} actions=output:{}",
            100 + i % 7,
            100 + (i >> 16),
            (i >> 8) & 255,
            i & 255,
            1 + i % 2
        );
        text.push_str(&f.replace(' ', ","));
        text.push('\n');
        want.push(f);
    }
    for f in [
        "priority=5,in_port=1 actions=output:2",
        "priority=5,in_port=2 actions=output:1",
    ] {
        text.push_str(&f.replace(' ', ","));
        text.push('\n');
        want.push(f.to_string());
    }
    want.sort();
    let file = lab.write("flows.txt", &text);
    let started = Instant::now();
    ofctl(&["add-flows", &t, &file]).ok();
    eprintln!("add-flows of 10,000: {:?}", started.elapsed());
    let got = dumped(&t);
    assert_eq!(got.len(), want.len());
    if let Some((g, w)) = got.iter().zip(&want).find(|(g, w)| g != w) {
        panic!("dump-flows printed {g:?} where {w:?} went in");
    }
    let agg = ofctl(&["dump-aggregate", &t]).ok();
    assert!(agg.stdout.contains("flow_count=10000"), "{}", agg.stdout);
    HOSTS.assert_reaches(&lab, 1, 2);

    // Saved like CLI-added flows: the daemon's own dump has them all, and
    // a restarted daemon comes back with them.
    let j = sw(&lab, "sw1", &["dump-flows", "--json"]).ok().json();
    assert_eq!(j.as_array().unwrap().len(), 10_000);
    // Flow-mods reach the flows file within half a second of a burst, and
    // the restarted worker reads them back.
    let t = restart_when_saved(&lab, 10_000);
    let after = dumped(&t);
    assert_eq!(after.len(), want.len(), "flows after the restart");
    assert!(after == want, "flows changed across the restart");
    HOSTS.assert_reaches(&lab, 2, 1);
}

/// PACKET_OUT from ovs-ofctl: to a port, and through the flow table.
#[test]
fn ovs_ofctl_packet_out() {
    if !ready(&["ovs-ofctl"]) {
        return;
    }
    let lab = HOSTS.secure_lab("ofpout", 3);
    let t = listener(&lab);
    let tx = |p| port_stats(&lab, p)["tx_packets"].as_u64().unwrap();
    let hex = frame_hex("ff:ff:ff:ff:ff:ff");
    let (b2, b3) = (tx(2), tx(3));
    ofctl(&[
        "packet-out",
        &t,
        &format!("in_port=controller packet={hex} actions=output:2"),
    ])
    .ok();
    assert!(wait_for(Duration::from_secs(5), || tx(2) == b2 + 1));
    assert_eq!(tx(3), b3);
    // output:TABLE: the flows decide (in_port 1 → port 3).
    ofctl(&["add-flow", &t, "priority=5,in_port=1,actions=output:3"]).ok();
    ofctl(&[
        "packet-out",
        &t,
        &format!("in_port=1 packet={hex} actions=TABLE"),
    ])
    .ok();
    assert!(wait_for(Duration::from_secs(5), || tx(3) == b3 + 1));
    assert_eq!(tx(2), b2 + 1);
    let f = dumped(&t);
    assert_eq!(f, ["priority=5,in_port=1 actions=output:3"]);
    let r = ofctl(&["dump-flows", &t]).ok();
    assert!(r.stdout.contains("n_packets=1,"), "{}", r.stdout);
}

/// Fail modes: a standalone switch forwards as NORMAL while no controller
/// is connected and only by its flows while one is; a secure one only by
/// its flows, always.
#[test]
fn fail_modes_standalone_and_secure() {
    if !ready(&["ovs-ofctl"]) {
        return;
    }
    // Flows that forward ARP only: IP needs the table-miss behaviour.
    let arp = ["priority=5,arp,actions=flood"];
    let lab = TestLab::new("offail");
    up(
        &lab,
        &lab_text(&lab.name, "{ listen: \"ptcp:0\" }", &arp, 2),
    );
    let t = listener(&lab);
    HOSTS.assert_reaches(&lab, 1, 2);
    // A controller connects (ovs-ofctl monitor stays connected): table 0
    // misses drop now.
    let monitor = Proc(
        Command::new("ovs-ofctl")
            .args(["-O", "OpenFlow13", "monitor", &t])
            .arg(format!(
                "--unixctl={}",
                lab.dir.join("monitor.ctl").display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ovs-ofctl monitor"),
    );
    assert!(wait_for(Duration::from_secs(10), || connected(&lab)));
    HOSTS.assert_unreachable(&lab, 1, 2);
    drop(monitor);
    assert!(wait_for(Duration::from_secs(10), || !connected(&lab)));
    HOSTS.assert_reaches(&lab, 1, 2);
    // set-fail-mode secure: no NORMAL fallback.
    sw(&lab, "sw1", &["set-fail-mode", "secure"]).ok();
    HOSTS.assert_unreachable(&lab, 1, 2);
    let st = show(&lab);
    assert_eq!(st["openflow"]["fail_mode"], "secure", "{st}");
}

/// ovs-testcontroller as the controller of a secure switch: hosts reach
/// each other only through the flows it installs.
#[test]
fn ovs_testcontroller_programs_a_secure_switch() {
    if !ready(&["ovs-testcontroller", "ovs-ofctl"]) {
        return;
    }
    let port = free_port();
    let lab = TestLab::new("oftc");
    up(
        &lab,
        &lab_text(
            &lab.name,
            &format!("{{ controllers: [\"tcp:127.0.0.1:{port}\"], fail_mode: secure }}"),
            &[],
            3,
        ),
    );
    // No controller yet: nothing passes, and the switch keeps trying.
    HOSTS.assert_unreachable(&lab, 1, 2);
    let st = show(&lab);
    assert_ne!(
        st["openflow"]["controllers"][0]["state"], "connected",
        "{st}"
    );

    let log = lab.dir.join("testcontroller.log");
    let _ctl = Proc(
        Command::new("ovs-testcontroller")
            .args([
                "-O",
                "OpenFlow13",
                &format!("ptcp:{port}:127.0.0.1"),
                "--no-chdir",
                &format!("--unixctl={}", lab.dir.join("tc.ctl").display()),
                "-vconsole:dbg",
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start ovs-testcontroller"),
    );
    assert!(
        wait_for(Duration::from_secs(30), || connected(&lab)),
        "the switch did not connect: {}",
        show(&lab)
    );
    assert_pingall(&lab, 3);
    // The flows that carried the traffic are the controller's (its
    // learning flows have idle_timeout=60).
    let flows = sw(&lab, "sw1", &["dump-flows"]).ok().stdout;
    assert!(flows.contains("actions=CONTROLLER"), "{flows}");
    let learned = flows
        .lines()
        .filter(|l| l.contains("idle_timeout=60"))
        .count();
    assert!(learned >= 2, "no learned flows:\n{flows}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("OFPT_PACKET_IN"), "no packet-in in the log");
}

/// An os-ken learning switch (crates/cli/tests/osken): the switch
/// connects, gets the table-miss flow, sends packet-ins, hosts ping.
#[test]
fn osken_learning_switch() {
    if !ready(&["osken-manager"]) {
        return;
    }
    let port = free_port();
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/osken/learning_switch.py");
    let lab = TestLab::new("ofosk");
    let out = lab.dir.join("osken.out");
    let _ctl = Proc(
        Command::new("osken-manager")
            .args([
                "--ofp-listen-host",
                "127.0.0.1",
                "--ofp-tcp-listen-port",
                &port.to_string(),
            ])
            .arg(&app)
            .current_dir(&lab.dir)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("start osken-manager"),
    );
    let said = |what: &str| {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .contains(what)
    };
    // Wait for it to listen.
    assert!(wait_for(Duration::from_secs(30), || TcpStream::connect((
        "127.0.0.1",
        port
    ))
    .is_ok()));
    up(
        &lab,
        &lab_text(
            &lab.name,
            &format!("{{ controllers: [\"tcp:127.0.0.1:{port}\"], fail_mode: secure }}"),
            &[],
            3,
        ),
    );
    assert!(
        wait_for(Duration::from_secs(30), || said("table-miss installed")),
        "os-ken never saw the switch: {}",
        std::fs::read_to_string(&out).unwrap_or_default()
    );
    let dpid = show(&lab)["openflow"]["datapath_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(said(&format!("dpid={dpid}")));
    assert_pingall(&lab, 3);
    assert!(said("packet-in in_port="));
    assert!(said("reason=no_match"));
    let flows = sw(&lab, "sw1", &["dump-flows"]).ok().stdout;
    assert!(
        flows.contains("priority=0 actions=CONTROLLER:65535"),
        "{flows}"
    );
    assert!(flows.contains("cookie=0x5eed"), "{flows}");
}

/// What no real peer sends — garbage, a truncated message, a bad length,
/// a flood of echo requests, a peer that never reads, a disconnect in the
/// middle of a message — never crashes, stalls or bloats the daemon, and
/// the datapath forwards on.
#[test]
fn malformed_input_never_hurts_the_daemon() {
    if !ready(&[]) {
        return;
    }
    let lab = TestLab::new("ofbad");
    up(&lab, &lab_text(&lab.name, "{ listen: \"ptcp:0\" }", &[], 3));
    let t = listener(&lab);
    let addr = t.trim_start_matches("tcp:").to_string();
    let pid = worker_pid(&lab.name).expect("worker");
    let rss_before = rss_kib(pid);
    let hello = Message::Hello(Hello::with_versions(&[4]))
        .encode(1)
        .unwrap();
    let raw = || {
        let s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    };
    let read_all = |mut s: &TcpStream| {
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        out
    };

    // Garbage first: HELLO failed, then closed by the switch.
    let s = raw();
    (&s).write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let got = read_all(&s);
    let (frames, _) = split_frames(&got, 65535).unwrap();
    assert_eq!(frames[0][1], 0, "our HELLO first");
    assert_eq!(
        (frames[1][1], frames[1][8..12].to_vec()),
        (1, vec![0, 0, 0, 0])
    );

    // A length below the header after the HELLO: BAD_LEN, then closed.
    let s = raw();
    (&s).write_all(&hello).unwrap();
    (&s).write_all(&[4, 2, 0, 4, 0, 0, 0, 9]).unwrap();
    let got = read_all(&s);
    let (frames, _) = split_frames(&got, 65535).unwrap();
    let last = frames.last().unwrap();
    assert_eq!(
        (last[1], &last[8..12]),
        (1, &[0u8, 1, 0, 6][..]),
        "OFPBRC_BAD_LEN"
    );

    // A malformed body: an error, and the connection stays up.
    let mut c = Client::connect(&t);
    (&c.s)
        .write_all(&[4, 5, 0, 10, 0, 0, 0, 7, 0xde, 0xad])
        .unwrap();
    c.send(8, &Message::EchoRequest(b"still there".to_vec()));
    let err = c.recv_until(Duration::from_secs(5), |m| matches!(m, Message::Error(_)));
    assert!(matches!(err, Some(Message::Error(e)) if e.kind() == (1, 6)));
    let echo = c.recv_until(Duration::from_secs(5), |m| {
        matches!(m, Message::EchoReply(_))
    });
    assert_eq!(echo, Some(Message::EchoReply(b"still there".to_vec())));

    // A flood of 10,000 echo requests: 10,000 replies.
    let mut flood = Vec::new();
    for i in 0..10_000u32 {
        flood.extend(Message::EchoRequest(vec![7; 16]).encode(i).unwrap());
    }
    let writer = {
        let s = c.s.try_clone().unwrap();
        std::thread::spawn(move || (&s).write_all(&flood).unwrap())
    };
    let mut replies = 0;
    while replies < 10_000 {
        match c.recv(Duration::from_secs(10)) {
            Some((_, Message::EchoReply(_))) => replies += 1,
            Some(_) => {}
            None => break,
        }
    }
    writer.join().unwrap();
    assert_eq!(replies, 10_000);
    drop(c);

    // A peer that floods and never reads: the switch stops reading it
    // (backpressure) instead of buffering without end.
    let s = raw();
    (&s).write_all(&hello).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(3))).unwrap();
    let big = Message::EchoRequest(vec![1; 60_000]).encode(1).unwrap();
    let mut written = 0usize;
    while written < 512 << 20 {
        match (&s).write(&big) {
            Ok(n) => written += n,
            Err(_) => break,
        }
    }
    assert!(
        written < 512 << 20,
        "the switch read 512 MiB it could not answer"
    );
    drop(s);

    // Half a message, then gone; a huge announced length, then gone.
    for partial in [
        Message::EchoRequest(vec![0; 1000]).encode(3).unwrap()[..500].to_vec(),
        vec![4, 2, 0xff, 0xff, 0, 0, 0, 1, 9, 9, 9],
    ] {
        let s = raw();
        (&s).write_all(&hello).unwrap();
        (&s).write_all(&partial).unwrap();
        drop(s);
    }
    // Random bytes after a HELLO, many times.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..50 {
        let s = raw();
        (&s).write_all(&hello).unwrap();
        let bytes: Vec<u8> = (0..2000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let _ = (&s).write_all(&bytes);
    }

    // The daemon never restarted, its memory stayed bounded, OpenFlow
    // still answers and the datapath still forwards.
    assert_eq!(worker_pid(&lab.name), Some(pid), "the worker restarted");
    let grown = rss_kib(pid).saturating_sub(rss_before);
    assert!(grown < 128 * 1024, "the worker grew by {grown} KiB");
    ofctl(&["show", &t]).ok();
    assert_pingall(&lab, 3);
    assert!(wait_for(Duration::from_secs(10), || {
        show(&lab)["openflow"]["connections"]
            .as_array()
            .is_some_and(|c| c.is_empty())
    }));
}

/// FLOW_REMOVED (hard timeout, delete), PORT_STATUS when the lab grows a
/// port, and roles (a stale generation, a slave's flow-mod refused).
#[test]
fn flow_removed_port_status_and_roles() {
    if !ready(&[]) {
        return;
    }
    let lab = TestLab::new("ofasync");
    let text2 = lab_text(&lab.name, SECURE_LISTENER, &[], 2);
    up(&lab, &text2);
    let t = listener(&lab);
    let mut c = Client::connect(&t);
    c.features();

    // Flows with send_flow_rem through the CLI: one times out, one is
    // deleted; one without the flag says nothing.
    sw(
        &lab,
        "sw1",
        &[
            "add-flow",
            "priority=7,hard_timeout=1,send_flow_rem,ip,actions=drop",
        ],
    )
    .ok();
    sw(
        &lab,
        "sw1",
        &["add-flow", "priority=8,send_flow_rem,arp,actions=drop"],
    )
    .ok();
    sw(&lab, "sw1", &["add-flow", "priority=9,udp,actions=drop"]).ok();
    let removed = |c: &mut Client| -> FlowRemoved {
        match c.recv_until(Duration::from_secs(10), |m| {
            matches!(m, Message::FlowRemoved(_))
        }) {
            Some(Message::FlowRemoved(f)) => f,
            m => panic!("no FLOW_REMOVED: {m:?}"),
        }
    };
    let f = removed(&mut c);
    assert_eq!((f.priority, f.reason), (7, OFPRR_HARD_TIMEOUT));
    assert!(f.duration_sec >= 1);
    sw(&lab, "sw1", &["del-flows", "arp"]).ok();
    let f = removed(&mut c);
    assert_eq!((f.priority, f.reason), (8, OFPRR_DELETE));
    sw(&lab, "sw1", &["del-flows"]).ok();
    assert!(c
        .recv_until(Duration::from_millis(1500), |m| matches!(
            m,
            Message::FlowRemoved(_)
        ))
        .is_none());

    // A third host: PORT_STATUS ADD with its port.
    up(&lab, &lab_text(&lab.name, SECURE_LISTENER, &[], 3));
    match c.recv_until(Duration::from_secs(10), |m| {
        matches!(m, Message::PortStatus(_))
    }) {
        Some(Message::PortStatus(p)) => {
            assert_eq!(p.reason, OFPPR_ADD);
            assert_eq!(p.desc.name, "h3");
            assert_eq!(p.desc.port_no, 3);
        }
        m => panic!("no PORT_STATUS: {m:?}"),
    }

    // Roles: master with generation 5, then a stale master request.
    let role = |role, generation_id| {
        Message::RoleRequest(RoleMsg {
            role,
            generation_id,
        })
    };
    c.send(10, &role(ControllerRole::Master, 5));
    match c.recv_until(Duration::from_secs(5), |m| {
        matches!(m, Message::RoleReply(_))
    }) {
        Some(Message::RoleReply(r)) => assert_eq!(r.role, ControllerRole::Master),
        m => panic!("{m:?}"),
    }
    let mut d = Client::connect(&t);
    d.send(11, &role(ControllerRole::Master, 4));
    match d.recv_until(Duration::from_secs(5), |m| matches!(m, Message::Error(_))) {
        Some(Message::Error(e)) => assert_eq!(e.kind(), (11, 0), "OFPRRFC_STALE"),
        m => panic!("{m:?}"),
    }
    // d becomes master (generation 6): c is a slave now, and its
    // flow-mods are refused with OFPBRC_IS_SLAVE.
    d.send(12, &role(ControllerRole::Master, 6));
    assert!(d
        .recv_until(Duration::from_secs(5), |m| matches!(
            m,
            Message::RoleReply(_)
        ))
        .is_some());
    let fm = ofctl_flow_mod_bytes();
    (&c.s).write_all(&fm).unwrap();
    match c.recv_until(Duration::from_secs(5), |m| matches!(m, Message::Error(_))) {
        Some(Message::Error(e)) => assert_eq!(e.kind(), (1, 10), "OFPBRC_IS_SLAVE"),
        m => panic!("{m:?}"),
    }
    let j = sw(&lab, "sw1", &["dump-flows", "--json"]).ok().json();
    assert_eq!(
        j.as_array().unwrap().len(),
        0,
        "a slave's flow went in: {j}"
    );
    let st = show(&lab);
    let roles: Vec<&str> = st["openflow"]["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["role"].as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"master") && roles.contains(&"slave"),
        "{st}"
    );
}

/// A FLOW_MOD adding `priority=1,actions=drop` to table 0, as bytes.
fn ofctl_flow_mod_bytes() -> Vec<u8> {
    let flow = vnet_switch::ofctl::parse_flow(
        "priority=1,actions=drop",
        &vnet_switch::ofctl::no_port_names,
    )
    .unwrap();
    let fm =
        vnet_openflow::msg::FlowMod::from_switch(&vnet_switch::flow::FlowMod::add(flow)).unwrap();
    Message::FlowMod(fm).encode(20).unwrap()
}

/// set-controller / get-controller / del-controller on a switch with no
/// OpenFlow in its lab file; the setting survives a daemon restart.
#[test]
fn set_controller_verbs() {
    if !ready(&["ovs-ofctl"]) {
        return;
    }
    let lab = TestLab::new("ofset");
    up(&lab, &lab_text(&lab.name, "", &[], 2));
    assert!(show(&lab)["openflow"].is_null());
    assert_eq!(sw(&lab, "sw1", &["get-controller"]).ok().stdout, "");
    sw(&lab, "sw1", &["set-controller", "ptcp:0"]).ok();
    assert_eq!(sw(&lab, "sw1", &["get-controller"]).ok().stdout, "ptcp:0\n");
    let t = listener(&lab);
    ofctl(&["show", &t]).ok();
    // Bad targets are refused and change nothing.
    let bad = sw(&lab, "sw1", &["set-controller", "udp:1"]).fails();
    assert!(bad.stderr.contains("not an OpenFlow target"), "{bad:#?}");
    assert_eq!(sw(&lab, "sw1", &["get-controller"]).ok().stdout, "ptcp:0\n");
    // The default flow still forwards (standalone).
    HOSTS.assert_reaches(&lab, 1, 2);

    let pid = kill_worker(&lab.name);
    assert!(wait_for(Duration::from_secs(20), || {
        new_worker(&lab.name, pid) && sw(&lab, "sw1", &["get-controller"]).stdout == "ptcp:0\n"
    }));
    let t = listener(&lab);
    ofctl(&["show", &t]).ok();

    sw(&lab, "sw1", &["del-controller"]).ok();
    assert_eq!(sw(&lab, "sw1", &["get-controller"]).ok().stdout, "");
    assert!(show(&lab)["openflow"].is_null());
    assert!(!ofctl(&["show", &t]).success());
}

/// examples/openflow.yaml as documented: ovs-ofctl on its listener, no
/// forwarding until a flow is added, then every host reaches every other.
/// (Its fixed ports are swapped for free ones so tests run in parallel.)
#[test]
fn example_openflow() {
    if !ready(&["ovs-ofctl"]) {
        return;
    }
    let lab = TestLab::new("ofex");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/openflow.yaml");
    let text = std::fs::read_to_string(path).expect("read examples/openflow.yaml");
    for want in ["\nname: openflow\n", "\"ptcp:6653\"", "tcp:127.0.0.1:6633"] {
        assert!(text.contains(want), "example changed: no {want}");
    }
    let text = text
        .replace("\nname: openflow\n", &format!("\nname: {}\n", lab.name))
        .replace("\"ptcp:6653\"", "\"ptcp:0\"")
        .replace(
            "tcp:127.0.0.1:6633",
            &format!("tcp:127.0.0.1:{}", free_port()),
        );
    let path = lab.write("openflow.yaml", &text);
    vnet(&["up", &path]).ok();
    let t = listener(&lab);
    ofctl(&["show", &t]).ok();
    assert!(!vnet(&["pingall", &lab.name]).success());
    ofctl(&["add-flow", &t, "priority=0,actions=normal"]).ok();
    let st = show(&lab);
    assert_ne!(
        st["openflow"]["controllers"][0]["state"], "connected",
        "{st}"
    );
    // (Retried: the failed round above leaves ARP resolutions pending.)
    assert_pingall(&lab, 3);
}

/// A PACKET_IN's match carries the pipeline context (OpenFlow 1.3 §7.4.1):
/// IN_PORT always, METADATA when an earlier table wrote some.
#[test]
fn packet_in_match_carries_metadata() {
    if !ready(&[]) {
        return;
    }
    let lab = TestLab::new("ofpimd");
    up(
        &lab,
        &lab_text(
            &lab.name,
            SECURE_LISTENER,
            &[
                "table=0,actions=write_metadata:0x42/0xff,goto_table:1",
                "table=1,icmp,actions=controller",
            ],
            2,
        ),
    );
    let mut c = Client::connect(&listener(&lab));
    c.features();
    // h1 pings h2: its ARP goes nowhere, so give h1 h2's MAC.
    let mac = mac_of(&lab, "h2", "eth0");
    exec(
        &lab,
        "h1",
        &[
            "ip",
            "neigh",
            "replace",
            &HOSTS.ip(2),
            "lladdr",
            &mac,
            "dev",
            "eth0",
        ],
    )
    .ok();
    let _ = exec(&lab, "h1", &["ping", "-c1", "-W1", &HOSTS.ip(2)]);
    match c.recv_until(Duration::from_secs(10), |m| {
        matches!(m, Message::PacketIn(_))
    }) {
        Some(Message::PacketIn(p)) => {
            assert_eq!(p.table_id, 1);
            assert_eq!(
                p.r#match,
                vnet_openflow::oxm::OxmMatch::packet_in(1, 0x42, 0),
                "{p:?}"
            );
        }
        m => panic!("no PACKET_IN: {m:?}"),
    }
}

/// PORT_MOD from the real `ovs-ofctl mod-port`: no-forward, no-receive
/// and no-packet-in take effect on traffic at once and undo; `down` sets
/// the device down; PORT_DESC shows the config; a connected controller
/// gets PORT_STATUS MODIFY; unsupported bits and advertisements are
/// refused.
#[test]
fn ovs_ofctl_mod_port() {
    if !ready(&["ovs-ofctl"]) {
        return;
    }
    let lab = TestLab::new("ofmodp");
    up(
        &lab,
        &lab_text(
            &lab.name,
            SECURE_LISTENER,
            &["priority=0,actions=normal"],
            3,
        ),
    );
    let t = listener(&lab);
    let mut c = Client::connect(&t);
    c.features();
    HOSTS.assert_reaches(&lab, 1, 2);
    HOSTS.assert_reaches(&lab, 3, 2);

    ofctl(&["mod-port", &t, "h2", "no-forward"]).ok();
    match c.recv_until(Duration::from_secs(5), |m| {
        matches!(m, Message::PortStatus(_))
    }) {
        Some(Message::PortStatus(p)) => {
            assert_eq!(p.reason, vnet_openflow::msg::basic::OFPPR_MODIFY);
            assert_eq!((p.desc.name.as_str(), p.desc.config), ("h2", 1 << 5));
        }
        m => panic!("no PORT_STATUS: {m:?}"),
    }
    let desc = ofctl(&["dump-ports-desc", &t]).ok().stdout;
    let h2 = desc
        .split(" 2(h2)")
        .nth(1)
        .and_then(|s| {
            s.split("\n ")
                .find(|l| l.trim_start().starts_with("config:"))
        })
        .unwrap_or_default()
        .to_string();
    assert!(h2.contains("NO_FWD"), "{desc}");
    HOSTS.assert_unreachable(&lab, 1, 2);
    ofctl(&["mod-port", &t, "h2", "forward"]).ok();
    HOSTS.assert_reaches(&lab, 1, 2);

    // no-receive on h3: h3's frames go nowhere (h1 still reaches h2).
    ofctl(&["mod-port", &t, "h3", "no-receive"]).ok();
    HOSTS.assert_unreachable(&lab, 3, 2);
    HOSTS.assert_reaches(&lab, 1, 2);
    ofctl(&["mod-port", &t, "h3", "receive"]).ok();
    HOSTS.assert_reaches(&lab, 3, 2);

    // down: the switch-side device is set down, and back up.
    let state = |lab: &TestLab| {
        ip_json(Some(&lab.ns("sw1")), &["link", "show", "h2"])[0]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "UP")
    };
    ofctl(&["mod-port", &t, "h2", "down"]).ok();
    assert!(!state(&lab), "h2's switch port is still up");
    HOSTS.assert_unreachable(&lab, 1, 2);
    ofctl(&["mod-port", &t, "h2", "up"]).ok();
    assert!(state(&lab));
    HOSTS.assert_reaches(&lab, 1, 2);

    // Unsupported: no-stp (OFPPC 1.0 bits do not exist in 1.3) is refused
    // by ovs-ofctl itself for 1.3; a raw PORT_MOD with an unknown bit gets
    // BAD_CONFIG, one with an advertisement BAD_ADVERTISE.
    let mac = mac_of(&lab, "sw1", "h2");
    let hw: Vec<u8> = mac
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    for (config, mask, advertise, code) in [(1 << 3, 1 << 3, 0, 2u16), (0, 0, 1, 3)] {
        let pm = vnet_openflow::port::PortMod {
            port_no: 2,
            hw_addr: hw.clone().try_into().unwrap(),
            config,
            mask,
            advertise,
        };
        c.send(9, &Message::PortMod(pm));
        match c.recv_until(Duration::from_secs(5), |m| matches!(m, Message::Error(_))) {
            Some(Message::Error(e)) => {
                assert_eq!((e.r#type, e.code), (7, code), "{e:?}") // OFPET_PORT_MOD_FAILED
            }
            m => panic!("no error: {m:?}"),
        }
    }
    HOSTS.assert_reaches(&lab, 1, 2);
}
