//! Classifier lookups per second: 1k, 10k and 100k flows over 10 and 100
//! distinct masks, looked up with random keys of which half hit a flow and
//! half (mostly) miss. Priorities are uniform at random, so a lookup rarely
//! stops early: close to the worst case for tuple-space search.
//!
//! Also: applying one flow-mod and publishing a snapshot after each (what
//! `ovs-ofctl add-flows` makes the daemon do, a barrier after every
//! flow-mod) in a pipeline of 100k flows, one mask (`ip,nw_dst=10.X.Y.Z`)
//! and 10 random masks: the cost must not grow with the table.
//!
//! Run: `cargo bench -p vnet-switch --bench classifier`. Besides
//! criterion's report, prints one `lookups/s` line per configuration,
//! measured on one core, and one `per flow-mod` line per snapshot case.
//! Target: >= 5 M lookups/s at 100k flows, 10 masks.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vnet_switch::classifier::FlowTable;
use vnet_switch::flow::{Action, Flow, FlowMod, Instruction, Match, PortNo};
use vnet_switch::pipeline::Pipeline;
use vnet_wire::FlowKey;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn key(&mut self) -> FlowKey {
        let mut mac = || {
            let b = self.next().to_be_bytes();
            [b[0], b[1], b[2], b[3], b[4], b[5]]
        };
        let (dl_src, dl_dst) = (mac(), mac());
        let r = self.next();
        FlowKey {
            in_port: (r % 48) as u32,
            dl_type: if r & 0x100 == 0 { 0x0800 } else { 0x86dd },
            vlan_tci: 0x1000 | (self.next() % 4096) as u16,
            dl_src,
            dl_dst,
            ipv4_src: self.next() as u32,
            ipv4_dst: self.next() as u32,
            nw_proto: [6, 17, 1][(r >> 20) as usize % 3],
            tp_src: self.next() as u16,
            tp_dst: self.next() as u16,
            metadata: self.next() & 0xff,
            ..FlowKey::default()
        }
    }

    /// A mask over a random few of the fields a controller typically
    /// matches, IPv4 addresses with random prefix lengths.
    fn mask(&mut self) -> FlowKey {
        let prefix = |n: u64| if n == 0 { 0 } else { !0u32 << (32 - n) };
        let r = self.next();
        let bit = |i: u32| r >> i & 1 == 1;
        FlowKey {
            in_port: if bit(0) { !0 } else { 0 },
            dl_type: if bit(1) { !0 } else { 0 },
            vlan_tci: if bit(2) { 0x1fff } else { 0 },
            dl_src: if bit(3) { [0xff; 6] } else { [0; 6] },
            dl_dst: if bit(4) { [0xff; 6] } else { [0; 6] },
            ipv4_src: prefix(if bit(5) { 8 + self.next() % 25 } else { 0 }),
            ipv4_dst: prefix(if bit(6) { 8 + self.next() % 25 } else { 0 }),
            nw_proto: if bit(7) { !0 } else { 0 },
            tp_src: if bit(8) { !0 } else { 0 },
            tp_dst: if bit(9) { !0 } else { 0 },
            metadata: if bit(10) { 0xff } else { 0 },
            ..FlowKey::default()
        }
    }
}

struct Setup {
    table: FlowTable,
    keys: Vec<FlowKey>,
}

fn setup(n_flows: usize, n_masks: usize) -> Setup {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (n_flows as u64) << 8 ^ n_masks as u64);
    let mut masks: Vec<FlowKey> = Vec::new();
    while masks.len() < n_masks {
        let m = rng.mask();
        if m != FlowKey::default() && !masks.contains(&m) {
            masks.push(m);
        }
    }
    let mut table = FlowTable::new();
    let mut matches = Vec::with_capacity(n_flows);
    while table.len() < n_flows {
        let m = Match::new(rng.key(), masks[table.len() % n_masks]);
        let flow = Flow {
            priority: rng.next() as u16,
            r#match: m,
            ..Flow::default()
        };
        if table.insert(flow, 0).unwrap().is_none() {
            matches.push(m);
        }
    }
    let keys = (0..8192)
        .map(|i| {
            let random = rng.key();
            if i % 2 == 0 {
                // A hit: some flow's key, random where its mask is not set.
                let m = &matches[rng.next() as usize % matches.len()];
                let words = vnet_switch::classifier::to_words;
                let (k, w, r) = (words(&m.key), words(&m.mask), words(&random));
                let blended: Vec<u64> = (0..k.len()).map(|j| k[j] | (r[j] & !w[j])).collect();
                vnet_switch::classifier::from_words(&blended.try_into().unwrap())
            } else {
                random
            }
        })
        .collect();
    Setup { table, keys }
}

fn lookups_per_sec(s: &Setup) -> (f64, f64) {
    let mut n = 0u64;
    let mut hits = 0u64;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(700) {
        for k in &s.keys {
            hits += u64::from(black_box(s.table.lookup(black_box(k))).is_some());
        }
        n += s.keys.len() as u64;
    }
    (
        n as f64 / start.elapsed().as_secs_f64(),
        hits as f64 / n as f64,
    )
}

/// The `i`th flow of the one-mask case: `priority=100,ip,nw_dst=10.X.Y.Z`.
fn nw_dst_flow(i: u32) -> Flow {
    let key = FlowKey {
        dl_type: 0x0800,
        ipv4_dst: 0x0a00_0000 | i,
        ..FlowKey::default()
    };
    let mask = FlowKey {
        dl_type: !0,
        ipv4_dst: !0,
        ..FlowKey::default()
    };
    Flow {
        priority: 100,
        r#match: Match::new(key, mask),
        instructions: vec![Instruction::ApplyActions(vec![Action::Output(PortNo(1))])],
        ..Flow::default()
    }
}

/// A table of 100k flows and one step: apply one more add, publish a
/// snapshot, keep it until the next step (as the datapath does).
struct SnapshotCase {
    name: &'static str,
    len: Box<dyn Fn() -> usize>,
    step: Box<dyn FnMut()>,
}

fn snapshot_cases() -> Vec<SnapshotCase> {
    // Through the pipeline, as the daemon applies a FLOW_MOD.
    let mut one = Pipeline::new(16);
    for i in 0..100_000 {
        one.add_flow(nw_dst_flow(i), 0).unwrap();
    }
    let one = std::rc::Rc::new(std::cell::RefCell::new(one));
    let mut published = one.borrow().snapshot();
    let mut i = 100_000;
    let one_step = {
        let one = one.clone();
        Box::new(move || {
            i += 1;
            let mut p = one.borrow_mut();
            black_box(p.apply(&FlowMod::add(nw_dst_flow(i)), 0).unwrap());
            // The datapath drops the old snapshot when it gets the new one.
            drop(std::mem::replace(&mut published, p.snapshot()));
        })
    };
    // A table as the pipeline holds one (`Arc`ed, made mutable for a
    // change), random flows the pipeline would not all accept.
    let s = setup(100_000, 10);
    let masks: Vec<FlowKey> = {
        let mut m: Vec<FlowKey> = s.table.iter().map(|f| f.flow.r#match.mask).collect();
        m.sort_by_key(vnet_switch::classifier::to_words);
        m.dedup();
        m
    };
    let ten = std::rc::Rc::new(std::cell::RefCell::new(Arc::new(s.table)));
    let mut rng = Rng(42);
    let mut published = ten.borrow().clone();
    let ten_step = {
        let ten = ten.clone();
        Box::new(move || {
            let flow = Flow {
                priority: rng.next() as u16,
                r#match: Match::new(rng.key(), masks[rng.next() as usize % masks.len()]),
                ..Flow::default()
            };
            let mut t = ten.borrow_mut();
            black_box(Arc::make_mut(&mut t).insert(flow, 0).unwrap());
            drop(std::mem::replace(&mut published, Arc::clone(&t)));
        })
    };
    vec![
        SnapshotCase {
            name: "100000_flows_1_mask_pipeline",
            len: Box::new(move || one.borrow().n_flows()),
            step: one_step,
        },
        SnapshotCase {
            name: "100000_flows_10_masks_table",
            len: Box::new(move || ten.borrow().len()),
            step: ten_step,
        },
    ]
}

/// Runs `n` steps; returns the time per step.
fn apply_and_snapshot(case: &mut SnapshotCase, n: u32) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        (case.step)();
    }
    start.elapsed() / n
}

fn bench_snapshots(c: &mut Criterion) {
    let mut report = Vec::new();
    for mut case in snapshot_cases() {
        // First at 100k flows; criterion's runs grow the table after.
        let t = apply_and_snapshot(&mut case, 1000);
        report.push(format!(
            "apply + snapshot per flow-mod, {} (1000 adds from 100000 flows): {:.2} us",
            case.name,
            t.as_secs_f64() * 1e6
        ));
        let mut group = c.benchmark_group("apply_and_snapshot_per_flow_mod");
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_millis(300));
        group.bench_function(case.name, |b| {
            b.iter_custom(|iters| apply_and_snapshot(&mut case, iters as u32) * iters as u32)
        });
        group.finish();
        report.push(format!("  (criterion's runs left {} flows)", (case.len)()));
    }
    println!();
    for line in report {
        println!("{line}");
    }
}

fn bench(c: &mut Criterion) {
    let mut report = Vec::new();
    for n_masks in [10, 100] {
        for n_flows in [1_000, 10_000, 100_000] {
            let s = setup(n_flows, n_masks);
            let mut group = c.benchmark_group("classifier_lookup");
            group.throughput(Throughput::Elements(s.keys.len() as u64));
            group
                .sample_size(20)
                .measurement_time(Duration::from_secs(2))
                .warm_up_time(Duration::from_millis(300));
            group.bench_function(format!("{n_flows}_flows_{n_masks}_masks"), |b| {
                b.iter(|| {
                    for k in &s.keys {
                        black_box(s.table.lookup(black_box(k)));
                    }
                })
            });
            group.finish();
            let (rate, hit_rate) = lookups_per_sec(&s);
            report.push(format!(
                "classifier: {n_flows:>6} flows, {n_masks:>3} masks ({} subtables): {:>6.2} M lookups/s ({:.0}% hits)",
                s.table.n_subtables(),
                rate / 1e6,
                hit_rate * 100.0
            ));
        }
    }
    let s = setup(10_000, 10);
    c.bench_function(
        "classifier_lookup_with_wildcards/10000_flows_10_masks",
        |b| {
            b.iter(|| {
                for k in &s.keys {
                    black_box(s.table.lookup_with_wildcards(black_box(k)));
                }
            })
        },
    );
    println!();
    for line in report {
        println!("{line}");
    }
}

criterion_group!(benches, bench, bench_snapshots);
criterion_main!(benches);
