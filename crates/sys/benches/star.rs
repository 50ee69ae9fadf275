//! Star-topology build/teardown benchmark for the kernel boundary alone.
//!
//! Builds N named host namespaces around a bridge in its own namespace —
//! one veth per host with the peer created inside the host, an address,
//! links up — then tears everything down and waits until the kernel has
//! really finished (its asynchronous netns cleanup is idle). The iproute2
//! `-batch` baseline (bench/iproute2_star.sh) runs in the same invocation
//! and the ratio is printed. Medians over REPS runs.
//!
//! Run: `bench/star.sh [REPS] [N...]` (or `cargo bench -p vnet-sys --bench star -- 3 100 1000`).

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use vnet_sys::netlink::{BridgeOptions, NewLink};
use vnet_sys::netns::{set_sysctl, Netns, NetnsError};
use vnet_sys::Netlink;

const CORE: &str = "vbench-core";

fn host(i: usize) -> String {
    format!("vbench-h{i}")
}

fn addr_of(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 77, (i / 250) as u8, (i % 250 + 1) as u8))
}

/// No IPv6 link-local addresses on new interfaces of this namespace: they
/// flood every bridge port with neighbour discovery (see the baselines'
/// known traps). Hosts get the same per link (`addrgenmode none` before up),
/// which is cheaper than a sysctl write in every new namespace.
fn quiet_ipv6() -> Result<(), NetnsError> {
    for key in [
        "net/ipv6/conf/default/addr_gen_mode",
        "net/ipv6/conf/all/addr_gen_mode",
    ] {
        set_sysctl(key, "1").map_err(|e| NetnsError::Io {
            op: "sysctl",
            name: key.into(),
            source: e,
        })?;
    }
    Ok(())
}

fn fail(name: &str, e: vnet_sys::NetlinkError) -> NetnsError {
    NetnsError::Netlink {
        name: name.to_string(),
        source: e,
    }
}

fn build(n: usize) -> Result<(), NetnsError> {
    let core = Netns::create_many(&[CORE], |_, nl| {
        quiet_ipv6()?;
        nl.create(&NewLink::bridge("br0", BridgeOptions::default()).up())
            .map_err(|e| fail(CORE, e))
    })
    .pop()
    .expect("one result")?;
    let (_core, mut core_nl) = core;
    let br = core_nl.index_of("br0").map_err(|e| fail(CORE, e))?;
    let core_nl = Mutex::new(core_nl);
    let names: Vec<String> = (1..=n).map(host).collect();
    let made = Netns::create_many(&names, |ns, nl| {
        let i: usize = ns.name()["vbench-h".len()..].parse().expect("host number");
        let veth = NewLink::veth(format!("p{i}"), "eth0")
            .peer_netns(ns.as_fd())
            .master(br)
            .up();
        core_nl
            .lock()
            .expect("core lock")
            .create(&veth)
            .map_err(|e| fail(ns.name(), e))?;
        let eth0 = nl.index_of("eth0").map_err(|e| fail(ns.name(), e))?;
        let reqs = vec![
            Netlink::up_message(1, true),
            Netlink::addrgenmode_none_message(eth0),
            Netlink::addr_add_message(eth0, addr_of(i), 16),
            Netlink::up_message(eth0, true),
        ];
        for r in nl.batch(reqs) {
            r.map_err(|e| fail(ns.name(), e))?;
        }
        Ok(())
    });
    for r in made {
        r?;
    }
    Ok(())
}

fn teardown(n: usize) -> Result<(), NetnsError> {
    for i in 1..=n {
        Netns::delete(&host(i))?;
    }
    Netns::delete(CORE)
}

/// Whether a kernel worker is running the namespace cleanup ("+netns" in its name).
fn netns_cleanup_busy() -> bool {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return false;
    };
    rd.flatten().any(|e| {
        let name = e.file_name();
        name.to_string_lossy().bytes().all(|b| b.is_ascii_digit())
            && std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.contains("+netns"))
    })
}

/// Waits until the kernel's namespace cleanup has been idle for 3 polls in a
/// row (20 ms apart), as the reference settle_wait.py does; returns when it
/// was first seen idle.
fn settle(since: Instant) -> Duration {
    let mut good = 0;
    let mut first = None;
    loop {
        if netns_cleanup_busy() {
            good = 0;
        } else {
            if good == 0 {
                first = Some(since.elapsed());
            }
            good += 1;
            if good >= 3 {
                return first.unwrap_or_default();
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn verify(n: usize) {
    // Bounded check: a few hosts reach the first one through the bridge.
    for i in [n, n / 2 + 1].iter().filter(|&&i| i > 1) {
        let ok = Command::new("ip")
            .args([
                "netns",
                "exec",
                &host(*i),
                "ping",
                "-c1",
                "-W1",
                "10.77.0.2",
            ])
            .status()
            .map(|s| s.success());
        if matches!(ok, Ok(false)) {
            panic!("host {i} cannot reach host 1: the star is broken");
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn sh(args: &[&str]) {
    let st = Command::new(args[0])
        .args(&args[1..])
        .status()
        .expect("run baseline script");
    assert!(st.success(), "{args:?} failed");
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let reps: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(3);
    let sizes: Vec<usize> = if args.len() > 1 {
        args[1..].iter().map(|a| a.parse().expect("N")).collect()
    } else {
        vec![100, 1000]
    };
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIP: the star benchmark needs root");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/iproute2_star.sh");
    println!("star of N hosts: build, and teardown until the kernel finished; medians of {reps}");
    println!(
        "{:>6} {:>22} {:>10} {:>14} | {:>22} {:>14} | {:>11} {:>11}",
        "N", "method", "build s", "ms/host", "", "teardown s", "build ratio", "tdown ratio"
    );
    for &n in &sizes {
        let (mut vb, mut vt, mut ib, mut it) = (vec![], vec![], vec![], vec![]);
        for _ in 0..reps {
            settle(Instant::now());
            let t = Instant::now();
            build(n).unwrap_or_else(|e| {
                let _ = teardown(n);
                panic!("build failed: {e}")
            });
            vb.push(t.elapsed().as_secs_f64());
            verify(n);
            let t = Instant::now();
            teardown(n).expect("teardown");
            vt.push(settle(t).as_secs_f64());

            settle(Instant::now());
            let t = Instant::now();
            sh(&[script, "build", &n.to_string()]);
            ib.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            sh(&[script, "teardown", &n.to_string()]);
            it.push(settle(t).as_secs_f64());
        }
        let (vb, vt, ib, it) = (median(vb), median(vt), median(ib), median(it));
        println!(
            "{n:>6} {:>22} {vb:>10.3} {:>14.2} | {:>22} {vt:>14.3} |",
            "vnet-sys",
            vb * 1000.0 / n as f64,
            ""
        );
        println!(
            "{n:>6} {:>22} {ib:>10.3} {:>14.2} | {:>22} {it:>14.3} | {:>10.1}x {:>10.1}x",
            "iproute2 -batch",
            ib * 1000.0 / n as f64,
            "",
            ib / vb,
            it / vt
        );
    }
}
