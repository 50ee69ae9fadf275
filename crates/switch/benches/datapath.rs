//! The datapath fast path, frames per second and ns per frame, flow-key
//! extraction included: every frame goes through `Datapath::poll_port`
//! (receive copy, key extraction, caches or pipeline, counters, output
//! queueing and flush), in batches of `datapath::BATCH`.
//!
//! Scenarios (OpenFlow rules: a `Pipeline` of flows parsed by
//! `ofctl::parse_flow`, consulted through `rules::PipelineRules`):
//!
//! - `emc_hit`: 4 distinct frames repeated; every lookup an exact-match
//!   cache hit.
//! - `megaflow_hit`: 65,536 distinct keys (source address and port vary)
//!   under one wildcard flow `ip,nw_dst=10.0.0.0/8`; the exact-match
//!   cache (8,192 entries) cannot hold them, so every lookup is an EMC
//!   miss answered by the megaflow cache (and re-inserted into the EMC).
//! - `upcall_distinct`: 100,000 flows `udp,nw_src=A` and 100,000 frames,
//!   one per flow, cycled; each key needs its own megaflow (nw_src exact)
//!   and the megaflow cache (65,536 entries) is smaller than the cycle, so
//!   every frame is an upcall: a full pipeline lookup at 100k flows.
//! - `upcall_version`: the `emc_hit` frames, but the rules report a new
//!   version on every lookup, so no cached decision is ever valid: every
//!   frame runs the pipeline (2 flows) and rebuilds its decision.
//!
//! Ports: the measured ones (`replay`) implement `PortIo` in the bench:
//! receive copies the next pre-built frame into the datapath's buffer (as
//! an AF_PACKET ring copy would) and send only counts, so no allocation or
//! lock is measured that the real ports do not have. `vnet_switch::port::
//! MemPort` is measured once too (`memport_emc_hit`): it takes a mutex and
//! allocates a `Vec` per frame in and out, which is what dominates it.
//! `extract_only` is flow-key extraction alone over the same frames, the
//! floor every scenario pays; `emc_lookup_only` the exact-match cache's
//! probe alone (a std `HashMap` keyed by the whole `FlowKey`).
//!
//! Run: `cargo bench -p vnet-switch --bench datapath`. Besides criterion's
//! report it prints one line per scenario (Mframes/s, ns/frame, the cache
//! counters that prove the scenario hit what it claims, and the ratio to
//! `emc_hit` measured in the same run).

use std::hint::black_box;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vnet_switch::datapath::{Datapath, DatapathStats, Decision, Rules, SwitchPort, VlanMode};
use vnet_switch::flow::FlowMod;
use vnet_switch::frame::{Frame, HEADROOM};
use vnet_switch::learning::{MacTable, DEFAULT_AGEING, DEFAULT_CAPACITY};
use vnet_switch::ofctl;
use vnet_switch::pipeline::Pipeline;
use vnet_switch::port::{MemPort, PortIo};
use vnet_switch::rules::PipelineRules;
use vnet_wire::{build, FlowKey, Mac};

const A: Mac = [0x02, 0, 0, 0, 0, 0x0a];
const B: Mac = [0x02, 0, 0, 0, 0, 0x0b];
/// 18 bytes: 14 + 20 + 8 + 18 = 60-byte frames (64 on the wire).
const PAYLOAD: &[u8] = b"vnet datapath benc";

/// Receives pre-built frames in a cycle; counts what is sent.
struct ReplayPort {
    frames: Arc<Vec<Vec<u8>>>,
    next: usize,
    sent: u64,
}

impl PortIo for ReplayPort {
    fn recv(&mut self, out: &mut [Frame]) -> io::Result<usize> {
        for f in out.iter_mut() {
            let b = &self.frames[self.next];
            self.next += 1;
            if self.next == self.frames.len() {
                self.next = 0;
            }
            f.recv_area()[..b.len()].copy_from_slice(b);
            f.start = HEADROOM;
            f.len = b.len();
            f.vnet = false;
        }
        Ok(out.len())
    }

    fn send(&mut self, frames: &[&Frame]) -> io::Result<usize> {
        self.sent += frames.len() as u64;
        Ok(frames.len())
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    fn vnet_hdr(&self) -> bool {
        false
    }
}

/// Rules whose version changes on every lookup: no cache entry is ever
/// valid, every frame is an upcall.
struct EverNewVersion {
    inner: PipelineRules,
    version: AtomicU64,
}

impl Rules for EverNewVersion {
    fn version(&self) -> u64 {
        self.version.fetch_add(1, Ordering::Relaxed)
    }
    fn decide(&self, key: &FlowKey) -> Decision {
        self.inner.decide(key)
    }
}

fn udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16) -> Vec<u8> {
    let f = build::udp4(A, B, None, src, dst, sport, 2000, PAYLOAD);
    assert_eq!(f.len(), 60);
    f
}

fn pipeline(flows: impl IntoIterator<Item = String>) -> Pipeline {
    let mut p = Pipeline::new(16);
    for f in flows {
        let flow =
            ofctl::parse_flow(&f, &ofctl::no_port_names).unwrap_or_else(|e| panic!("{f}: {e}"));
        p.apply(&FlowMod::add(flow), 0).expect("add flow");
    }
    p
}

/// A datapath with port 1 (`io`, the one polled) and port 2 (a sink).
fn datapath(io: Box<dyn PortIo>, rules: Arc<dyn Rules>) -> Datapath {
    let mut dp = Datapath::new("bench", MacTable::new(DEFAULT_CAPACITY, DEFAULT_AGEING));
    dp.add_port(SwitchPort {
        name: "p1".into(),
        ofport: 1,
        vlan: VlanMode::Unaware,
        io,
        stats: Default::default(),
    });
    dp.add_port(SwitchPort {
        name: "p2".into(),
        ofport: 2,
        vlan: VlanMode::Unaware,
        io: Box::new(ReplayPort {
            frames: Arc::new(vec![udp(
                Ipv4Addr::new(10, 0, 0, 2),
                Ipv4Addr::new(10, 0, 0, 1),
                1,
            )]),
            next: 0,
            sent: 0,
        }),
        stats: Default::default(),
    });
    dp.set_rules(rules);
    dp
}

fn replay(frames: &Arc<Vec<Vec<u8>>>) -> Box<dyn PortIo> {
    Box::new(ReplayPort {
        frames: frames.clone(),
        next: 0,
        sent: 0,
    })
}

/// Two flows: IPv4 to 10/8 out of port 2, everything else dropped.
fn wildcard_rules(epoch: Instant) -> PipelineRules {
    let p = pipeline([
        "priority=100,ip,nw_dst=10.0.0.0/8,actions=output:2".to_string(),
        "priority=0,actions=drop".to_string(),
    ]);
    PipelineRules::new(p.snapshot(), epoch)
}

/// `n` frames with distinct keys (source address and port), all to 10.0.0.1.
fn distinct_frames(n: u32) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            udp(
                Ipv4Addr::from(0x0b00_0000 | i),
                Ipv4Addr::new(10, 0, 0, 1),
                1024 + (i % 60000) as u16,
            )
        })
        .collect()
}

struct Scenario {
    name: &'static str,
    dp: Datapath,
}

fn scenarios() -> Vec<Scenario> {
    let epoch = Instant::now();
    let few = Arc::new(
        (0..4)
            .map(|i| {
                udp(
                    Ipv4Addr::new(10, 0, 0, 2),
                    Ipv4Addr::new(10, 0, 0, 1),
                    1000 + i,
                )
            })
            .collect::<Vec<_>>(),
    );
    let many = Arc::new(distinct_frames(65_536));
    let n_flows = 100_000u32;
    let big = pipeline(
        (0..n_flows)
            .map(|i| {
                format!(
                    "priority=100,udp,nw_src={},actions=output:2",
                    Ipv4Addr::from(0x0b00_0000 | i)
                )
            })
            .chain(["priority=0,actions=drop".to_string()]),
    );
    let big_frames = Arc::new(distinct_frames(n_flows));
    vec![
        Scenario {
            name: "emc_hit",
            dp: datapath(replay(&few), Arc::new(wildcard_rules(epoch))),
        },
        Scenario {
            name: "megaflow_hit",
            dp: datapath(replay(&many), Arc::new(wildcard_rules(epoch))),
        },
        Scenario {
            name: "upcall_distinct",
            dp: datapath(
                replay(&big_frames),
                Arc::new(PipelineRules::new(big.snapshot(), epoch)),
            ),
        },
        Scenario {
            name: "upcall_version",
            dp: datapath(
                replay(&few),
                Arc::new(EverNewVersion {
                    inner: wildcard_rules(epoch),
                    version: AtomicU64::new(1),
                }),
            ),
        },
    ]
}

/// Polls port 0 for about `dur`; frames/s and the cache counters' deltas.
fn rate(dp: &mut Datapath, dur: Duration) -> (f64, DatapathStats) {
    let s0 = dp.stats;
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < dur {
        for _ in 0..64 {
            n += dp.poll_port(0, 0).expect("poll") as u64;
        }
    }
    let el = start.elapsed().as_secs_f64();
    let s1 = dp.stats;
    let d = DatapathStats {
        emc_hits: s1.emc_hits - s0.emc_hits,
        megaflow_hits: s1.megaflow_hits - s0.megaflow_hits,
        upcalls: s1.upcalls - s0.upcalls,
        dropped: s1.dropped - s0.dropped,
        packet_ins: 0,
        packet_in_dropped: 0,
    };
    (n as f64 / el, d)
}

/// MemPort: inject a batch (a Vec per frame), poll it; frames/s.
fn memport_rate(dp: &mut Datapath, port: &MemPort, frames: &[Vec<u8>], dur: Duration) -> f64 {
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < dur {
        for f in frames.iter().cycle().take(vnet_switch::datapath::BATCH) {
            port.inject(f);
        }
        n += dp.poll_port(0, 0).expect("poll") as u64;
        port.queues.lock().expect("mem port").outbound.clear();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn extract_rate(frames: &[Vec<u8>], dur: Duration) -> f64 {
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < dur {
        for _ in 0..1024 {
            for f in frames {
                let mut key = FlowKey::default();
                black_box(vnet_wire::extract::extract(black_box(f), 1, &mut key));
                black_box(&key);
            }
            n += frames.len() as u64;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn bench(c: &mut Criterion) {
    let measure = Duration::from_millis(1500);
    let mut lines = Vec::new();
    let mut base = None;

    let few: Vec<Vec<u8>> = (0..4)
        .map(|i| {
            udp(
                Ipv4Addr::new(10, 0, 0, 2),
                Ipv4Addr::new(10, 0, 0, 1),
                1000 + i,
            )
        })
        .collect();

    for mut s in scenarios() {
        // Warm up: fill the caches (for the hit scenarios) and the CPU.
        rate(&mut s.dp, Duration::from_millis(300));
        let mut group = c.benchmark_group("datapath");
        group.throughput(Throughput::Elements(vnet_switch::datapath::BATCH as u64));
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_millis(300));
        group.bench_function(s.name, |b| {
            b.iter(|| black_box(s.dp.poll_port(0, 0).expect("poll")))
        });
        group.finish();
        let (fps, d) = rate(&mut s.dp, measure);
        let total = (d.emc_hits + d.megaflow_hits + d.upcalls).max(1) as f64;
        let base_fps = *base.get_or_insert(fps);
        lines.push(format!(
            "datapath: {:<16} {:>6.2} M frames/s {:>7.1} ns/frame  emc {:>5.1}% megaflow {:>5.1}% upcall {:>5.1}%  x{:.2} of emc_hit",
            s.name,
            fps / 1e6,
            1e9 / fps,
            d.emc_hits as f64 * 100.0 / total,
            d.megaflow_hits as f64 * 100.0 / total,
            d.upcalls as f64 * 100.0 / total,
            fps / base_fps,
        ));
        let tx = s.dp.ports[1].stats.tx_packets;
        assert!(tx > 0, "{}: nothing forwarded", s.name);
    }

    // MemPort, the crate's in-memory test port, on the emc_hit traffic.
    let port = MemPort::new();
    let mut dp = datapath(
        Box::new(port.clone()),
        Arc::new(wildcard_rules(Instant::now())),
    );
    memport_rate(&mut dp, &port, &few, Duration::from_millis(300));
    c.bench_function("datapath/memport_emc_hit", |b| {
        b.iter(|| {
            for f in few.iter().cycle().take(vnet_switch::datapath::BATCH) {
                port.inject(f);
            }
            black_box(dp.poll_port(0, 0).expect("poll"));
            port.queues.lock().expect("mem port").outbound.clear();
        })
    });
    let fps = memport_rate(&mut dp, &port, &few, measure);
    let base_fps = base.unwrap_or(fps);
    lines.push(format!(
        "datapath: {:<16} {:>6.2} M frames/s {:>7.1} ns/frame  (MemPort: mutex + Vec per frame in and out, inject included)  x{:.2} of emc_hit",
        "memport_emc_hit",
        fps / 1e6,
        1e9 / fps,
        fps / base_fps
    ));

    c.bench_function("datapath/extract_only", |b| {
        b.iter(|| {
            for f in &few {
                let mut key = FlowKey::default();
                black_box(vnet_wire::extract::extract(black_box(f), 1, &mut key));
                black_box(&key);
            }
        })
    });
    let fps = extract_rate(&few, measure);
    lines.push(format!(
        "datapath: {:<16} {:>6.2} M frames/s {:>7.1} ns/frame  (flow-key extraction alone, included in every line above)",
        "extract_only",
        fps / 1e6,
        1e9 / fps
    ));

    // The EMC's own lookup: a std HashMap keyed by the whole FlowKey
    // (SipHash-1-3 over every field), as `Datapath` holds it.
    let keys: Vec<FlowKey> = few
        .iter()
        .map(|f| {
            let mut k = FlowKey::default();
            vnet_wire::extract::extract(f, 1, &mut k);
            k
        })
        .collect();
    let emc: std::collections::HashMap<FlowKey, u64> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, i as u64))
        .collect();
    c.bench_function("datapath/emc_lookup_only", |b| {
        b.iter(|| {
            for k in &keys {
                black_box(emc.get(black_box(k)));
            }
        })
    });
    let (mut n, start) = (0u64, Instant::now());
    while start.elapsed() < measure {
        for _ in 0..1024 {
            for k in &keys {
                black_box(emc.get(black_box(k)));
            }
        }
        n += 1024 * keys.len() as u64;
    }
    let fps = n as f64 / start.elapsed().as_secs_f64();
    lines.push(format!(
        "datapath: {:<16} {:>6.2} M lookups/s {:>6.1} ns/lookup (std HashMap<FlowKey, _> get, SipHash over the {}-byte key: the EMC probe alone)",
        "emc_lookup_only",
        fps / 1e6,
        1e9 / fps,
        std::mem::size_of::<FlowKey>()
    ));

    println!();
    for l in lines {
        println!("{l}");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
