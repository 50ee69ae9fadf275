//! The switch runtime against the real kernel, as root: a switch with two
//! veth ports in throwaway namespaces (h1 — sw — h2), traffic with `ping`,
//! and a port whose device is deleted and recreated under the same name —
//! the switch must re-attach the port (same port number, counters kept)
//! without a restart, survive the device's absence without spinning, and
//! leave a port alone across a plain link flap.
//!
//! Every namespace is uniquely named and deleted by a drop guard, also when
//! a test fails. Conditions are polled with deadlines, never assumed after
//! a fixed sleep.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use vnet_switch::control::PortStats;
use vnet_switch::datapath::{Datapath, SwitchPort, VlanMode};
use vnet_switch::learning::{MacTable, DEFAULT_AGEING, DEFAULT_CAPACITY};
use vnet_switch::port::PacketPort;
use vnet_switch::runtime::{PortConfig, SwitchConfig, SwitchHandle};
use vnet_sys::packet::{PacketOptions, PacketSocket};
use vnet_sys::Netns;

fn root_or_skip() -> bool {
    if nix::unistd::geteuid().is_root() {
        true
    } else {
        eprintln!("SKIP: kernel tests need root (CI runs them as root)");
        false
    }
}

/// A uniquely named namespace, deleted when dropped.
struct TestNs {
    name: String,
}

impl TestNs {
    fn new(tag: &str) -> TestNs {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "vtr{}-{}-{tag}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        Netns::create(&name).unwrap_or_else(|e| panic!("create netns {name}: {e}"));
        TestNs { name }
    }

    /// `ip -n NS ARGS...`, asserting success.
    fn ip(&self, args: &[&str]) -> String {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        run("ip", &full)
    }

    fn ifindex(&self, dev: &str) -> u32 {
        let text = self.ip(&["-j", "link", "show", "dev", dev]);
        let v: serde_json::Value = serde_json::from_str(&text).expect("ip -j");
        v[0]["ifindex"].as_u64().expect("ifindex") as u32
    }

    /// One ping (1 s to answer) from this namespace.
    fn ping(&self, to: &str) -> bool {
        Command::new("ip")
            .args([
                "netns", "exec", &self.name, "ping", "-n", "-q", "-c1", "-W1", to,
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for TestNs {
    fn drop(&mut self) {
        let _ = Netns::delete(&self.name);
    }
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program} (is iproute2 installed?): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

const MAC1: &str = "02:7e:00:00:00:01";
const MAC2: &str = "02:7e:00:00:00:02";
const IP1: &str = "10.98.0.1";
const IP2: &str = "10.98.0.2";

/// h1 — sw — h2: host `hN` has `eth0` (fixed MAC, 10.98.0.N/24), whose
/// peer `pN` is in the switch's namespace.
struct Topo {
    sw: TestNs,
    h1: TestNs,
    h2: TestNs,
}

impl Topo {
    fn new() -> Topo {
        let t = Topo {
            sw: TestNs::new("sw"),
            h1: TestNs::new("h1"),
            h2: TestNs::new("h2"),
        };
        t.link(1);
        t.link(2);
        t
    }

    fn host(&self, n: u8) -> &TestNs {
        if n == 1 {
            &self.h1
        } else {
            &self.h2
        }
    }

    /// (Re)creates host `n`'s link into the switch, both ends up.
    fn link(&self, n: u8) {
        let (h, mac, ip) = match n {
            1 => (&self.h1, MAC1, IP1),
            _ => (&self.h2, MAC2, IP2),
        };
        let port = format!("p{n}");
        h.ip(&[
            "link",
            "add",
            "eth0",
            "address",
            mac,
            "type",
            "veth",
            "peer",
            "name",
            &port,
            "netns",
            &self.sw.name,
        ]);
        h.ip(&["addr", "add", &format!("{ip}/24"), "dev", "eth0"]);
        h.ip(&["link", "set", "eth0", "up"]);
        self.sw.ip(&["link", "set", &port, "up"]);
    }

    fn config(&self, switch: &str) -> SwitchConfig {
        SwitchConfig {
            name: switch.to_string(),
            netns: self.sw.name.clone(),
            ports: (1..=2u32)
                .map(|n| PortConfig {
                    name: format!("p{n}"),
                    ofport: n + 10,
                    vlan: VlanMode::Unaware,
                })
                .collect(),
        }
    }
}

/// Port `name`'s (ofport, stats, attached ifindex).
fn port(sw: &SwitchHandle, name: &str) -> (u32, PortStats, Option<u32>) {
    let d = sw.dp.lock().expect("datapath lock");
    let p = d
        .ports
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no port {name}"));
    (p.ofport, p.stats.clone(), p.io.ifindex())
}

/// CPU time (ticks) of this process's thread named `comm`.
fn thread_ticks(comm: &str) -> u64 {
    for e in std::fs::read_dir("/proc/self/task")
        .expect("tasks")
        .flatten()
    {
        let c = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        if c.trim() == comm {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            // Fields after the ")" of comm: state is field 3, utime 14, stime 15.
            let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
            let f: Vec<&str> = rest.split_whitespace().collect();
            let n = |i: usize| {
                f.get(i - 3)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            return n(14) + n(15);
        }
    }
    panic!("no thread {comm}");
}

/// The datapath thread's CPU use over `window`, in % of a core.
fn dp_cpu(switch: &str, window: Duration) -> f64 {
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    let comm = format!("dp-{switch}");
    let t0 = (thread_ticks(&comm), Instant::now());
    std::thread::sleep(window);
    let t1 = (thread_ticks(&comm), Instant::now());
    (t1.0 - t0.0) as f64 / hz / (t1.1 - t0.1).as_secs_f64() * 100.0
}

#[track_caller]
fn assert_monotonic(before: &PortStats, after: &PortStats, what: &str) {
    assert!(
        after.rx_packets >= before.rx_packets
            && after.tx_packets >= before.tx_packets
            && after.rx_bytes >= before.rx_bytes
            && after.tx_bytes >= before.tx_bytes
            && after.rx_dropped >= before.rx_dropped
            && after.tx_dropped >= before.tx_dropped,
        "{what}: counters went back: {before:?} -> {after:?}"
    );
}

#[test]
fn a_recreated_port_device_is_reattached_and_a_flap_needs_nothing() {
    if !root_or_skip() {
        return;
    }
    let t = Topo::new();
    let name = format!("vs{}", std::process::id() % 100_000);
    let sw = SwitchHandle::start(t.config(&name)).expect("start switch");
    assert!(sw.failed_ports.is_empty(), "{:?}", sw.failed_ports);

    // Traffic flows.
    assert!(
        wait_until(Duration::from_secs(10), || t.h1.ping(IP2)),
        "h1 -> h2 before any change"
    );
    assert!(t.h2.ping(IP1), "h2 -> h1 before any change");
    let (no2, before, idx) = port(&sw, "p2");
    assert_eq!(no2, 12);
    assert_eq!(idx, Some(t.sw.ifindex("p2")));
    assert!(before.rx_packets > 0 && before.tx_packets > 0, "{before:?}");
    let _ = sw.take_ports_changed();

    // A flap of the switch's port: the socket stays bound to the device
    // (no re-attach), and traffic flows again once it is up.
    let p2_index = t.sw.ifindex("p2");
    t.sw.ip(&["link", "set", "p2", "down"]);
    t.sw.ip(&["link", "set", "p2", "up"]);
    assert!(
        wait_until(Duration::from_secs(10), || t.h1.ping(IP2)),
        "h1 -> h2 after a flap"
    );
    assert_eq!(port(&sw, "p2").2, Some(p2_index), "a flap re-attached");
    assert!(!sw.take_ports_changed(), "a flap is no port change");

    // The device goes away (the veth pair): the port stays, detached, with
    // its number and counters; the thread does not spin.
    let (_, before_del, _) = port(&sw, "p2");
    t.sw.ip(&["link", "del", "p2"]);
    assert!(
        wait_until(Duration::from_secs(5), || port(&sw, "p2").2.is_none()),
        "p2 not detached after its device went"
    );
    assert!(sw.take_ports_changed());
    // Frames towards the missing device are dropped and counted, never sent.
    for _ in 0..3 {
        let _ = t.h1.ping(IP2);
    }
    let cpu = dp_cpu(&name, Duration::from_millis(1000));
    assert!(
        cpu < 20.0,
        "datapath thread busy without a device: {cpu:.0} %"
    );
    let (no, gone, _) = port(&sw, "p2");
    assert_eq!(no, 12);
    assert_monotonic(&before_del, &gone, "p2 while gone");

    // A new device of the same name: re-attached, traffic flows again
    // both ways, counters carry on from where they were.
    t.link(2);
    let new_index = t.sw.ifindex("p2");
    assert_ne!(new_index, p2_index, "the kernel reused the ifindex");
    assert!(
        wait_until(Duration::from_secs(5), || port(&sw, "p2").2
            == Some(new_index)),
        "p2 not re-attached to the new device (ifindex {new_index}): {:?}",
        port(&sw, "p2")
    );
    assert!(sw.take_ports_changed());
    assert!(
        wait_until(Duration::from_secs(10), || t.h1.ping(IP2)),
        "h1 -> h2 after the device was recreated"
    );
    assert!(
        wait_until(Duration::from_secs(5), || t.h2.ping(IP1)),
        "h2 -> h1 after the device was recreated"
    );
    let (no, after, _) = port(&sw, "p2");
    assert_eq!(no, 12, "the port number changed");
    assert_monotonic(&gone, &after, "p2 after re-attach");
    assert!(
        after.rx_packets > gone.rx_packets && after.tx_packets > gone.tx_packets,
        "p2 carries no traffic after re-attach: {gone:?} -> {after:?}"
    );
    // Sane: what was sent through p2 is what h2 received, give or take
    // the frames dropped while it was gone or before it came up.
    let h2_rx: u64 =
        t.h2.ip(&["-j", "-s", "link", "show", "dev", "eth0"])
            .parse::<serde_json::Value>()
            .ok()
            .and_then(|v| v[0]["stats64"]["rx"]["packets"].as_u64())
            .expect("h2 rx packets");
    let sent_since = after.tx_packets - gone.tx_packets;
    assert!(
        h2_rx >= sent_since.saturating_sub(2) && h2_rx <= sent_since + 2,
        "h2 got {h2_rx} frames, p2 sent {sent_since} since the new device"
    );
    let (_, p1, _) = port(&sw, "p1");
    assert_eq!(p1.tx_dropped, 0, "{p1:?}");
    assert_eq!(p1.rx_dropped, 0, "{p1:?}");
    // Nothing else moved: the number of ports is the same.
    assert_eq!(sw.dp.lock().unwrap().ports.len(), 3, "p1, p2, LOCAL");
}

/// A device gone for good, with the TPACKET_V3 ring (whose pending socket
/// error nothing else reads): no busy loop, the other port keeps working.
#[test]
fn a_port_without_device_does_not_spin_with_a_receive_ring() {
    if !root_or_skip() {
        return;
    }
    let t = Topo::new();
    let name = format!("vr{}", std::process::id() % 100_000);
    let ns = Netns::open(&t.sw.name).expect("open sw netns");
    let mut dp = Datapath::new(
        name.clone(),
        MacTable::new(DEFAULT_CAPACITY, DEFAULT_AGEING),
    );
    for n in 1..=2u32 {
        let idx = t.sw.ifindex(&format!("p{n}"));
        let sock = ns
            .run(move || {
                PacketSocket::open(
                    idx,
                    PacketOptions {
                        rx_ring: true,
                        ..PacketOptions::default()
                    },
                )
            })
            .expect("enter sw netns")
            .expect("open packet socket");
        dp.add_port(SwitchPort {
            name: format!("p{n}"),
            ofport: n,
            vlan: VlanMode::Unaware,
            io: Box::new(PacketPort::new(sock)),
            stats: Default::default(),
        });
    }
    let sw = SwitchHandle::spawn(t.config(&name), dp);
    assert!(
        wait_until(Duration::from_secs(10), || t.h1.ping(IP2)),
        "h1 -> h2 through the ring"
    );
    // A flap first: the port's error is read, the thread stays idle.
    t.sw.ip(&["link", "set", "p1", "down"]);
    t.sw.ip(&["link", "set", "p1", "up"]);
    assert!(
        wait_until(Duration::from_secs(10), || t.h1.ping(IP2)),
        "h1 -> h2 after a flap"
    );
    let cpu = dp_cpu(&name, Duration::from_millis(800));
    assert!(cpu < 20.0, "datapath thread busy after a flap: {cpu:.0} %");
    // Gone for good.
    t.host(2).ip(&["link", "del", "eth0"]);
    assert!(
        wait_until(Duration::from_secs(5), || port(&sw, "p2").2.is_none()),
        "p2 not detached"
    );
    let cpu = dp_cpu(&name, Duration::from_millis(800));
    assert!(
        cpu < 20.0,
        "datapath thread busy without a device: {cpu:.0} %"
    );
    // And back: re-attached with the ring again.
    t.link(2);
    assert!(
        wait_until(Duration::from_secs(10), || t.h1.ping(IP2)),
        "h1 -> h2 after the device was recreated (ring)"
    );
}
