//! The classifier against a naive linear-scan reference (the oracle): random
//! flows with random masks and priorities, random inserts and deletes, random
//! keys. Same answer (up to ties between equal priorities), and the returned
//! wildcards are sound: every key agreeing with the looked-up key on them
//! gets the very same flow.

use std::sync::Arc;

use proptest::prelude::*;
use vnet_switch::classifier::FlowTable;
use vnet_switch::flow::{Flow, FlowMod, FlowModCommand, Match};
use vnet_wire::FlowKey;

/// Keys from a small domain, so that flows and keys collide often.
fn key() -> impl Strategy<Value = FlowKey> {
    (
        0u32..3,
        prop::sample::select(vec![0x0800u16, 0x86dd]),
        0u32..3,
        0u32..3,
        0u32..3,
        0u16..4,
        0u64..3,
        any::<u8>(),
    )
        .prop_map(
            |(in_port, dl_type, a, b, c, tp_dst, metadata, mac)| FlowKey {
                in_port,
                dl_type,
                ipv4_src: 0x0a00_0000 | a << 16 | b << 8 | c,
                ipv4_dst: 0xc0a8_0000 | c << 8 | a,
                tp_dst,
                metadata,
                dl_dst: [0, 0, 0, 0, 0, mac & 3],
                ipv6_src: u128::from(b) << 100 | u128::from(c),
                ..FlowKey::default()
            },
        )
}

/// Masks picked from a palette per field, so that subtables are shared.
fn mask() -> impl Strategy<Value = FlowKey> {
    let prefix = |n: u32| if n == 0 { 0 } else { !0u32 << (32 - n) };
    (
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(vec![0u32, 8, 16, 24, 32]),
        prop::sample::select(vec![0u32, 24, 32]),
        prop::sample::select(vec![0u16, 0xffff, 0x0002]),
        prop::sample::select(vec![0u64, !0, 1]),
        any::<bool>(),
        prop::sample::select(vec![0u128, !0, !0 << 64]),
    )
        .prop_map(
            move |(port, dl_type, src, dst, tp, meta, mac, v6)| FlowKey {
                in_port: if port { !0 } else { 0 },
                dl_type: if dl_type { !0 } else { 0 },
                ipv4_src: prefix(src),
                ipv4_dst: prefix(dst),
                tp_dst: tp,
                metadata: meta,
                dl_dst: if mac { [0xff; 6] } else { [0; 6] },
                ipv6_src: v6,
                ..FlowKey::default()
            },
        )
}

fn flow() -> impl Strategy<Value = Flow> {
    (key(), mask(), 0u16..6, any::<u64>()).prop_map(|(k, m, priority, cookie)| Flow {
        priority: priority * 1000,
        r#match: Match::new(k, m),
        cookie,
        ..Flow::default()
    })
}

#[derive(Clone, Debug)]
enum Op {
    Add(Flow),
    DeleteStrict(Flow),
    Delete(Match),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => flow().prop_map(Op::Add),
        1 => flow().prop_map(Op::DeleteStrict),
        1 => (key(), mask()).prop_map(|(k, m)| Op::Delete(Match::new(k, m))),
    ]
}

/// The oracle: OpenFlow add/delete semantics over a plain list.
#[derive(Default)]
struct Linear(Vec<Flow>);

impl Linear {
    fn apply(&mut self, op: &Op) {
        match op {
            Op::Add(f) => {
                self.0
                    .retain(|g| !(g.r#match == f.r#match && g.priority == f.priority));
                self.0.push(f.clone());
            }
            Op::DeleteStrict(f) => self
                .0
                .retain(|g| !(g.r#match == f.r#match && g.priority == f.priority)),
            Op::Delete(m) => self.0.retain(|g| !m.covers(&g.r#match)),
        }
    }

    fn best_priority(&self, k: &FlowKey) -> Option<u16> {
        self.0
            .iter()
            .filter(|f| f.r#match.matches(k))
            .map(|f| f.priority)
            .max()
    }
}

fn apply(table: &mut FlowTable, op: &Op) {
    match op {
        Op::Add(f) => {
            table.insert(f.clone(), 0).unwrap();
        }
        Op::DeleteStrict(f) => {
            let fm = FlowMod {
                command: FlowModCommand::DeleteStrict,
                ..FlowMod::add(f.clone())
            };
            table.delete(&fm.selector());
        }
        Op::Delete(m) => {
            let f = Flow {
                r#match: *m,
                ..Flow::default()
            };
            let fm = FlowMod {
                command: FlowModCommand::Delete,
                ..FlowMod::add(f)
            };
            table.delete(&fm.selector());
        }
    }
}

fn same(
    a: Option<&Arc<vnet_switch::flow::FlowEntry>>,
    b: Option<&Arc<vnet_switch::flow::FlowEntry>>,
) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// `k` on the bits of `w`, `other` elsewhere.
fn blend(k: &FlowKey, w: &FlowKey, other: &FlowKey) -> FlowKey {
    let words = vnet_switch::classifier::to_words;
    let (kw, ww, ow) = (words(k), words(w), words(other));
    let mut out = [0u64; vnet_switch::classifier::KEY_WORDS];
    for i in 0..out.len() {
        out[i] = (kw[i] & ww[i]) | (ow[i] & !ww[i]);
    }
    vnet_switch::classifier::from_words(&out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn lookup_agrees_with_linear_scan(
        ops in prop::collection::vec(op(), 1..150),
        keys in prop::collection::vec(key(), 1..60),
        others in prop::collection::vec(key(), 60),
    ) {
        let mut table = FlowTable::new();
        let mut oracle = Linear::default();
        for op in &ops {
            apply(&mut table, op);
            oracle.apply(op);
        }
        table.check_invariants();
        prop_assert_eq!(table.len(), oracle.0.len());
        for (i, k) in keys.iter().enumerate() {
            let got = table.lookup(k);
            prop_assert_eq!(got.map(|f| f.flow.priority), oracle.best_priority(k), "key {:?}", k);
            if let Some(f) = got {
                prop_assert!(f.flow.r#match.matches(k));
            }
            let (with_wc, wc) = table.lookup_with_wildcards(k);
            prop_assert!(same(got, with_wc));
            // Soundness of the wildcards: another key equal on them gets the
            // same flow.
            let k2 = blend(k, &wc, &others[i % others.len()]);
            let again = table.lookup(&k2);
            prop_assert!(same(got, again), "key {:?} and {:?} agree on {:?}", k, k2, wc);
        }
    }

    #[test]
    fn clones_are_independent(flows in prop::collection::vec(flow(), 1..40), extra in flow(), k in key()) {
        let mut table = FlowTable::new();
        for f in &flows {
            table.insert(f.clone(), 0).unwrap();
        }
        let snapshot = table.clone();
        let before = snapshot.lookup(&k).cloned();
        table.insert(extra, 0).unwrap();
        table.delete(&vnet_switch::flow::FlowSelector::all());
        prop_assert!(table.is_empty());
        prop_assert_eq!(snapshot.lookup(&k).cloned(), before);
        snapshot.check_invariants();
    }
}
