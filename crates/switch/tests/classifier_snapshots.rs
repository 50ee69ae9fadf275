//! Copy-on-write snapshots of large tables: thousands of flows over a few
//! masks (so subtables split their hash index into many shards), adds,
//! replacing adds, strict and non-strict deletes and modifies, with a
//! snapshot taken between changes. Every snapshot must still hold exactly
//! the flows it had when taken, answer lookups as a linear scan of those
//! flows does, and keep its invariants, while the live table moves on.

use std::sync::Arc;

use vnet_switch::classifier::FlowTable;
use vnet_switch::flow::{
    Action, Flow, FlowMod, FlowModCommand, FlowSelector, Instruction, Match, PortNo,
};
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

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn masks() -> Vec<FlowKey> {
    vec![
        FlowKey {
            dl_type: !0,
            ipv4_dst: !0,
            ..FlowKey::default()
        },
        FlowKey {
            dl_type: !0,
            ipv4_dst: 0xffff_ff00,
            ..FlowKey::default()
        },
        FlowKey {
            in_port: !0,
            dl_type: !0,
            ipv4_src: !0,
            nw_proto: !0,
            tp_dst: !0,
            ..FlowKey::default()
        },
    ]
}

fn key(rng: &mut Rng) -> FlowKey {
    FlowKey {
        in_port: rng.below(4) as u32,
        dl_type: 0x0800,
        ipv4_src: 0x0a00_0000 | rng.below(2000) as u32,
        ipv4_dst: 0x0a00_0000 | rng.below(6000) as u32,
        nw_proto: 6,
        tp_dst: rng.below(3) as u16,
        ..FlowKey::default()
    }
}

fn output(port: u32) -> Vec<Instruction> {
    vec![Instruction::ApplyActions(vec![Action::Output(PortNo(
        port,
    ))])]
}

fn flow(rng: &mut Rng, masks: &[FlowKey]) -> Flow {
    let mask = masks[rng.below(masks.len() as u64) as usize];
    Flow {
        priority: [100, 200, 300, 50_000][rng.below(4) as usize],
        r#match: Match::new(key(rng), mask),
        instructions: output(rng.below(1000) as u32),
        ..Flow::default()
    }
}

/// The flows as a plain list (match, priority, instructions).
type Model = Vec<(Match, u16, Vec<Instruction>)>;

fn model_of(t: &FlowTable) -> Model {
    let mut m: Model = t
        .iter()
        .map(|f| (f.flow.r#match, f.flow.priority, f.flow.instructions.clone()))
        .collect();
    let words = vnet_switch::classifier::to_words;
    m.sort_by_key(|(m, p, _)| (words(&m.mask), words(&m.key), *p));
    m
}

fn best_priority(model: &Model, k: &FlowKey) -> Option<u16> {
    model
        .iter()
        .filter(|(m, _, _)| m.matches(k))
        .map(|(_, p, _)| *p)
        .max()
}

fn check(t: &FlowTable, model: &Model, probes: &[FlowKey]) {
    t.check_invariants();
    assert_eq!(&model_of(t), model);
    for k in probes {
        assert_eq!(
            t.lookup(k).map(|f| f.flow.priority),
            best_priority(model, k),
            "lookup {k:?}"
        );
    }
}

#[test]
fn snapshots_keep_their_flows_while_the_table_changes() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let masks = masks();
    let mut table = FlowTable::new();
    let mut snapshots: Vec<(FlowTable, Model)> = Vec::new();
    let probes: Vec<FlowKey> = (0..100).map(|_| key(&mut rng)).collect();
    // Grow to thousands of flows, a snapshot every few changes.
    for i in 0..6000u32 {
        let f = flow(&mut rng, &masks);
        table.insert(f, u64::from(i)).unwrap();
        if i % 2000 == 0 {
            snapshots.push((table.clone(), model_of(&table)));
        }
    }
    assert!(table.len() > 4000, "{} flows", table.len());
    // Then mixed changes, each followed by a snapshot (kept for a while).
    for i in 0..1500u32 {
        let now = 20_000 + u64::from(i);
        match rng.below(6) {
            0 | 1 => {
                table.insert(flow(&mut rng, &masks), now).unwrap();
            }
            2 => {
                // Strict delete of an existing flow.
                let victim = table
                    .iter()
                    .nth(rng.below(table.len() as u64) as usize)
                    .map(|f| f.flow.clone());
                if let Some(f) = victim {
                    let fm = FlowMod {
                        command: FlowModCommand::DeleteStrict,
                        ..FlowMod::add(f)
                    };
                    assert_eq!(table.delete(&fm.selector()).len(), 1);
                }
            }
            3 => {
                // Non-strict delete: one /24 of destinations in the /24 mask.
                let f = Flow {
                    r#match: Match::new(key(&mut rng), masks[1]),
                    ..Flow::default()
                };
                let fm = FlowMod {
                    command: FlowModCommand::Delete,
                    ..FlowMod::add(f)
                };
                table.delete(&fm.selector());
            }
            4 => {
                // Strict modify of an existing flow.
                let victim = table
                    .iter()
                    .nth(rng.below(table.len() as u64) as usize)
                    .map(|f| f.flow.clone());
                if let Some(f) = victim {
                    let fm = FlowMod {
                        command: FlowModCommand::ModifyStrict,
                        ..FlowMod::add(f)
                    };
                    let got = table
                        .modify(&fm.selector(), &output(4242), false, now)
                        .unwrap();
                    assert_eq!(got.len(), 1);
                }
            }
            _ => {
                // Non-strict modify of everything from one source.
                let f = Flow {
                    r#match: Match::new(key(&mut rng), masks[2]),
                    ..Flow::default()
                };
                let fm = FlowMod {
                    command: FlowModCommand::Modify,
                    ..FlowMod::add(f)
                };
                table
                    .modify(&fm.selector(), &output(7), false, now)
                    .unwrap();
            }
        }
        if i % 500 == 0 {
            snapshots.push((table.clone(), model_of(&table)));
            table.check_invariants();
        } else {
            // A short-lived snapshot, as the datapath holds one.
            let _published = table.clone();
        }
    }
    // Delete everything of one mask: its subtable goes away.
    let f = Flow {
        r#match: Match::new(FlowKey::default(), FlowKey::default()),
        ..Flow::default()
    };
    let before = table.n_subtables();
    let sel = FlowSelector {
        r#match: Match::new(
            FlowKey {
                dl_type: 0x0800,
                ..FlowKey::default()
            },
            FlowKey {
                dl_type: !0,
                ..FlowKey::default()
            },
        ),
        ..FlowMod::add(f).selector()
    };
    let only_third: Vec<Arc<_>> = table
        .iter()
        .filter(|e| e.flow.r#match.mask == masks[2])
        .cloned()
        .collect();
    for e in &only_third {
        let fm = FlowMod {
            command: FlowModCommand::DeleteStrict,
            ..FlowMod::add(e.flow.clone())
        };
        assert_eq!(table.delete(&fm.selector()).len(), 1);
    }
    assert_eq!(table.n_subtables(), before - 1);
    snapshots.push((table.clone(), model_of(&table)));
    let all = table.delete(&sel);
    assert!(!all.is_empty());
    assert!(table.is_empty());
    table.check_invariants();
    for (snap, model) in &snapshots {
        check(snap, model, &probes);
    }
}

#[test]
fn pipeline_snapshots_are_independent() {
    let mut p = Pipeline::new(4);
    let mut snaps = Vec::new();
    for i in 0..5000u32 {
        let f = Flow {
            priority: 100,
            r#match: Match::new(
                FlowKey {
                    dl_type: 0x0800,
                    ipv4_dst: 0x0a00_0000 | i,
                    ..FlowKey::default()
                },
                FlowKey {
                    dl_type: !0,
                    ipv4_dst: !0,
                    ..FlowKey::default()
                },
            ),
            instructions: output(1),
            ..Flow::default()
        };
        p.add_flow(f, 0).unwrap();
        let s = p.snapshot();
        if i % 1000 == 999 {
            snaps.push((i + 1, s));
        }
    }
    for (n, s) in &snaps {
        assert_eq!(s.n_flows(), *n as usize);
        let t = s.table(0).unwrap();
        t.check_invariants();
        for j in [0, n / 2, n - 1, *n] {
            let k = FlowKey {
                dl_type: 0x0800,
                ipv4_dst: 0x0a00_0000 | j,
                ..FlowKey::default()
            };
            assert_eq!(t.lookup(&k).is_some(), j < *n, "{j} of {n}");
        }
        assert!(s.version() < p.version() || *n == 5000);
    }
}
