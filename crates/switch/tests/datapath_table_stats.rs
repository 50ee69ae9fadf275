//! TABLE_STATS counters as the datapath keeps them: every packet counts a
//! lookup in each table it reaches and a match in each table a flow (a
//! table-miss flow included) takes it in — also when the decision comes
//! from the exact-match or megaflow cache, and also for tables a miss
//! continues through.

use std::sync::Arc;
use std::time::Instant;

use vnet_switch::datapath::{Datapath, SwitchPort, VlanMode};
use vnet_switch::flow::FlowMod;
use vnet_switch::learning::{MacTable, DEFAULT_AGEING, DEFAULT_CAPACITY};
use vnet_switch::ofctl;
use vnet_switch::pipeline::{Pipeline, TableMiss};
use vnet_switch::port::MemPort;
use vnet_switch::rules::PipelineRules;

fn frame(dst_last: u8, ethertype: u16) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, dst_last, 0x02, 0, 0, 0, 0, 0x0a];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(&[0x42; 46]);
    f
}

/// (lookups, matched) of tables 0..3 after sending `frames` in on port 1.
fn run(p: Pipeline, frames: &[Vec<u8>]) -> Vec<(u64, u64)> {
    let mut dp = Datapath::new("t", MacTable::new(DEFAULT_CAPACITY, DEFAULT_AGEING));
    let port = MemPort::new();
    dp.add_port(SwitchPort {
        name: "p1".into(),
        ofport: 1,
        vlan: VlanMode::Unaware,
        io: Box::new(port.clone()),
        stats: Default::default(),
    });
    let snap = p.snapshot();
    dp.set_rules(Arc::new(PipelineRules::new(
        Arc::clone(&snap),
        Instant::now(),
    )));
    for (i, f) in frames.iter().enumerate() {
        port.inject(f);
        assert_eq!(dp.poll_port(0, i as u64).unwrap(), 1);
    }
    // The working pipeline shares the counters with its snapshots.
    (0..3)
        .map(|t| {
            let c = p.table_counters(t).unwrap();
            (c.lookups(), c.matched())
        })
        .collect()
}

fn pipeline(flows: &[&str]) -> Pipeline {
    let mut p = Pipeline::new(3);
    for f in flows {
        let flow = ofctl::parse_flow(f, &ofctl::no_port_names).unwrap();
        p.apply(&FlowMod::add(flow), 0).unwrap();
    }
    p
}

#[test]
fn lookups_and_matches_per_table() {
    let p = pipeline(&[
        "table=0,priority=10,dl_type=0x88b5,actions=goto_table:1",
        "table=1,priority=10,dl_dst=02:00:00:00:00:77,actions=drop",
    ]);
    let mut frames = Vec::new();
    // 3 to table 1's flow (the same frame: cache hits after the first),
    // 2 missing in table 1, 4 missing in table 0.
    frames.extend(std::iter::repeat_n(frame(0x77, 0x88b5), 3));
    frames.extend([frame(0x78, 0x88b5), frame(0x79, 0x88b5)]);
    frames.extend(std::iter::repeat_n(frame(0x77, 0x88b6), 4));
    assert_eq!(run(p, &frames), [(9, 5), (5, 3), (0, 0)]);
}

#[test]
fn a_table_miss_flow_matches_and_a_continuing_miss_looks_up_the_next_table() {
    let mut p = pipeline(&[
        "table=0,priority=0,actions=goto_table:2",
        "table=1,priority=10,dl_type=0x88b5,actions=drop",
    ]);
    // Table 0's catch-all takes everything to table 2, which has nothing.
    let frames = vec![frame(1, 0x88b5); 2];
    assert_eq!(run(p.clone(), &frames), [(2, 2), (0, 0), (2, 0)]);
    // Without the catch-all, and with table 0 continuing on a miss.
    p = pipeline(&["table=1,priority=10,dl_type=0x88b5,actions=drop"]);
    p.set_table_miss(0, TableMiss::Continue).unwrap();
    let frames = vec![frame(1, 0x88b5), frame(1, 0x88b6), frame(1, 0x88b5)];
    assert_eq!(run(p, &frames), [(3, 0), (3, 2), (0, 0)]);
}
