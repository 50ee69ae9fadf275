//! Groups in the datapath, driven through in-memory ports: crafted frames
//! in, exact bytes out. ALL replicates to every bucket (each on its own
//! copy), INDIRECT runs its bucket, SELECT spreads flows by bucket weight
//! (also flows that differ only in MAC addresses or only in ARP fields),
//! FAST_FAILOVER follows its watched port down and back up, groups chain,
//! a GROUP_MOD takes effect on the very next frame (no stale cache), a
//! deleted group takes its flows with it; and the GROUP_MOD checks with
//! the spec's errors.

mod support;

use std::net::Ipv4Addr;

use support::{Sw, A, B, IP_A, IP_B};
use vnet_switch::flow::{FlowMod, RemovedReason};
use vnet_switch::group::{GroupError, GroupModCommand, MAX_CHAIN};
use vnet_switch::ofctl::{self, no_port_names};
use vnet_switch::pipeline::PipelineError;
use vnet_wire::{build, Mac};

fn udp(src: Mac, dst: Mac, sport: u16) -> Vec<u8> {
    build::udp4(src, dst, None, IP_A, IP_B, sport, 2000, b"group test")
}

use GroupModCommand::{Add, Delete, Modify};

#[test]
fn all_replicates_to_every_bucket_each_on_its_own_copy() {
    let mut sw = Sw::new(6);
    sw.group(
        Add,
        "group_id=1,type=all,bucket=output:2,bucket=output:3,\
         bucket=actions=set_field:02:00:00:00:00:99->eth_dst,output:4,bucket=output:5",
    );
    // What follows the group sees the frame as it was before it.
    sw.flow("in_port=1,actions=group:1,output:6");
    let f = udp(A, B, 1000);
    sw.send(1, &f);
    let out = sw.sent();
    let rewritten = udp(A, [0x02, 0, 0, 0, 0, 0x99], 1000);
    assert!(out[0].is_empty());
    assert_eq!(out[1], vec![f.clone()]);
    assert_eq!(out[2], vec![f.clone()]);
    assert_eq!(out[3], vec![rewritten]);
    assert_eq!(out[4], vec![f.clone()], "the rewrite stayed in its bucket");
    assert_eq!(out[5], vec![f.clone()], "after the group, the original");
    // Counters: the group and each bucket saw one packet.
    let g = sw.pipeline.group(1).unwrap();
    assert_eq!(g.counter.packets(), 1);
    assert_eq!(g.counter.bytes(), f.len() as u64);
    assert!(g.bucket_counters.iter().all(|c| c.packets() == 1));
    assert_eq!(sw.pipeline.group_ref_counts().get(&1), Some(&1));
    // A bucket whose watched port is down is skipped by ALL too.
    sw.group(
        Modify,
        "group_id=1,type=all,bucket=watch_port:2,actions=output:2,bucket=output:3",
    );
    sw.dp.set_port_live(2, false);
    sw.send(1, &f);
    let out = sw.sent();
    assert!(out[1].is_empty());
    assert_eq!(out[2], vec![f.clone()]);
}

#[test]
fn indirect_runs_its_bucket_as_an_action_set() {
    let mut sw = Sw::new(3);
    // Written out of order: the action set runs push_vlan before
    // set_field and the output last.
    sw.group(
        Add,
        "group_id=7,type=indirect,bucket=output:3,set_field:4106->vlan_vid,push_vlan:0x8100",
    );
    sw.flow("actions=group:7");
    let f = udp(A, B, 1);
    sw.send(1, &f);
    let out = sw.sent();
    let tagged = build::udp4(A, B, Some(10), IP_A, IP_B, 1, 2000, b"group test");
    assert_eq!(out[2], vec![tagged]);
    assert!(out[1].is_empty());
}

/// Share of frames each of ports 2 and 3 got from `frames`.
fn shares(sw: &mut Sw, frames: &[Vec<u8>]) -> [f64; 2] {
    let mut n = [0usize; 2];
    for f in frames {
        sw.send(1, f);
        let out = sw.one_out();
        n[out as usize - 2] += 1;
        // The same flow again: the same bucket.
        sw.send(1, f);
        assert_eq!(sw.one_out(), out, "a flow sticks to its bucket");
    }
    let total = frames.len() as f64;
    [n[0] as f64 / total, n[1] as f64 / total]
}

#[track_caller]
fn assert_near(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= want * 0.10,
        "{what}: share {got:.3}, expected {want:.3} ±10%"
    );
}

#[test]
fn select_spreads_flows_by_weight_even_when_only_macs_or_arp_fields_differ() {
    let mut sw = Sw::new(3);
    sw.group(
        Add,
        "group_id=1,type=select,bucket=weight:1,actions=output:2,bucket=weight:3,actions=output:3",
    );
    sw.flow("in_port=1,actions=group:1");
    let n = 4000u32;
    let by_port: Vec<Vec<u8>> = (0..n).map(|i| udp(A, B, i as u16)).collect();
    let by_mac: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let b = i.to_be_bytes();
            udp([0x02, 0x10, b[0], b[1], b[2], b[3]], B, 7)
        })
        .collect();
    let by_arp: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let b = i.to_be_bytes();
            build::arp_request(A, None, IP_A, Ipv4Addr::new(10, b[1], b[2], b[3]))
        })
        .collect();
    for (what, frames) in [
        ("L4 ports", &by_port),
        ("MAC addresses", &by_mac),
        ("ARP target", &by_arp),
    ] {
        let s = shares(&mut sw, frames);
        assert_near(s[0], 0.25, what);
        assert_near(s[1], 0.75, what);
    }
    // Weights 1:1 now: half and half, and the group's counters add up.
    sw.group(
        Modify,
        "group_id=1,type=select,bucket=watch_port:2,actions=output:2,\
         bucket=watch_port:3,actions=output:3",
    );
    let s = shares(&mut sw, &by_mac);
    assert_near(s[0], 0.5, "1:1");
    let g = sw.pipeline.group(1).unwrap();
    assert_eq!(g.counter.packets(), 4 * 2 * u64::from(n));
    assert_eq!(
        g.bucket_counters.iter().map(|c| c.packets()).sum::<u64>(),
        2 * u64::from(n)
    );
    // A bucket whose watched port goes down gets nothing (liveness); only
    // its flows move.
    sw.dp.set_port_live(3, false);
    let s = shares(&mut sw, &by_mac[..500]);
    assert_eq!(s, [1.0, 0.0]);
    // A weight of 0 never gets traffic.
    sw.dp.set_port_live(3, true);
    sw.group(
        Modify,
        "group_id=1,type=select,bucket=weight:0,actions=output:2,bucket=actions=output:3",
    );
    assert_eq!(shares(&mut sw, &by_port[..300]), [0.0, 1.0]);
}

#[test]
fn fast_failover_follows_the_watched_port_down_and_back() {
    let mut sw = Sw::new(4);
    sw.group(
        Add,
        "group_id=5,type=ff,bucket=watch_port:2,actions=output:2,\
         bucket=watch_port:3,actions=output:3",
    );
    sw.flow("in_port=1,actions=group:5");
    let f = udp(A, B, 9);
    sw.send(1, &f);
    assert_eq!(sw.one_out(), 2);
    sw.dp.set_port_live(2, false);
    for _ in 0..3 {
        sw.send(1, &f);
        assert_eq!(sw.one_out(), 3, "failed over while port 2 is down");
    }
    sw.dp.set_port_live(2, true);
    sw.send(1, &f);
    assert_eq!(sw.one_out(), 2, "back once port 2 is up");
    // A port that is gone is not live either.
    let gone = sw.dp.remove_port("p2");
    assert!(gone.is_some());
    sw.send(1, &f);
    assert_eq!(sw.one_out(), 3);
    // Nothing live: dropped.
    sw.dp.set_port_live(3, false);
    sw.send(1, &f);
    assert!(sw.sent().iter().all(|o| o.is_empty()));
    // A watched group: live while it has a live bucket.
    sw.dp.set_port_live(3, true);
    sw.group(
        Add,
        "group_id=6,type=ff,bucket=watch_port:3,actions=output:3",
    );
    sw.group(
        Modify,
        "group_id=5,type=ff,bucket=watch_group:6,actions=output:4,bucket=watch_port:3,actions=output:3",
    );
    sw.send(1, &f);
    assert_eq!(sw.one_out(), 4);
    sw.dp.set_port_live(3, false);
    sw.send(1, &f);
    assert!(sw.sent().iter().all(|o| o.is_empty()));
}

#[test]
fn groups_chain_and_never_loop() {
    let mut sw = Sw::new(4);
    sw.group(Add, "group_id=2,type=all,bucket=output:3,bucket=output:4");
    sw.group(
        Add,
        "group_id=1,type=indirect,bucket=set_field:02:00:00:00:00:77->eth_dst,group:2",
    );
    sw.flow("actions=group:1");
    let f = udp(A, B, 3);
    sw.send(1, &f);
    let out = sw.sent();
    let want = udp(A, [0x02, 0, 0, 0, 0, 0x77], 3);
    assert_eq!(out[2], vec![want.clone()]);
    assert_eq!(out[3], vec![want]);
    assert_eq!(
        sw.pipeline.group_ref_counts().get(&2),
        Some(&1),
        "group 1 refers"
    );
    // 2 -> 1 would close a loop; 2 -> 2 too.
    let e = sw
        .try_group(Modify, "group_id=2,type=all,bucket=group:1")
        .unwrap_err();
    assert_eq!(e, GroupError::Loop(2));
    assert_eq!(e.ofp_error(), (6, 7));
    let e = sw
        .try_group(Modify, "group_id=2,type=all,bucket=group:2")
        .unwrap_err();
    assert_eq!(e.ofp_error(), (6, 7));
    // Group 2 is still used by group 1.
    let e = sw.try_group(Delete, "group_id=2").unwrap_err();
    assert_eq!(e, GroupError::Chained { id: 2, by: 1 });
    assert_eq!(e.ofp_error(), (6, 9));
    // A chain of MAX_CHAIN groups is fine, one more is not.
    let mut sw = Sw::new(2);
    sw.group(Add, "group_id=100,type=indirect,bucket=output:2");
    for i in 1..MAX_CHAIN as u32 {
        sw.group(
            Add,
            &format!("group_id={},type=indirect,bucket=group:{}", 100 + i, 99 + i),
        );
    }
    sw.flow(&format!("actions=group:{}", 99 + MAX_CHAIN as u32));
    sw.send(1, &udp(A, B, 4));
    assert_eq!(sw.one_out(), 2, "through {MAX_CHAIN} groups");
    let e = sw
        .try_group(
            Add,
            &format!(
                "group_id=1000,type=indirect,bucket=group:{}",
                99 + MAX_CHAIN as u32
            ),
        )
        .unwrap_err();
    assert_eq!(e.ofp_error(), (6, 5));
}

#[test]
fn group_mod_takes_effect_on_the_next_frame() {
    let mut sw = Sw::new(4);
    sw.group(Add, "group_id=1,type=indirect,bucket=output:2");
    sw.flow("actions=group:1");
    let f = udp(A, B, 5);
    for _ in 0..20 {
        sw.send(1, &f);
        assert_eq!(sw.one_out(), 2);
    }
    assert!(sw.dp.stats.emc_hits >= 19, "the decision is cached");
    let version = sw.pipeline.version();
    sw.group(Modify, "group_id=1,type=indirect,bucket=output:3");
    assert!(
        sw.pipeline.version() > version,
        "a GROUP_MOD bumps the version"
    );
    sw.send(1, &f);
    assert_eq!(sw.one_out(), 3, "no stale decision after the modify");
    sw.group(
        Modify,
        "group_id=1,type=all,bucket=output:2,bucket=output:4",
    );
    sw.send(1, &f);
    let out = sw.sent();
    assert_eq!((out[1].len(), out[2].len(), out[3].len()), (1, 0, 1));
}

#[test]
fn deleting_a_group_deletes_the_flows_that_use_it() {
    let mut sw = Sw::new(3);
    sw.group(Add, "group_id=1,type=indirect,bucket=output:2");
    sw.group(Add, "group_id=2,type=indirect,bucket=output:3");
    sw.flow("priority=10,in_port=1,actions=group:1");
    sw.flow("table=1,priority=5,actions=write_actions(group:1)");
    sw.flow("priority=5,in_port=2,actions=group:2");
    sw.flow("priority=1,actions=output:3");
    assert_eq!(sw.pipeline.group_ref_counts().get(&1), Some(&2));
    let removed = sw.try_group(Delete, "group_id=1").unwrap();
    assert_eq!(removed.len(), 2);
    assert!(removed
        .iter()
        .all(|r| r.reason == RemovedReason::GroupDelete));
    assert!(sw.pipeline.group(1).is_none());
    assert_eq!(sw.pipeline.n_flows(), 2);
    // Frames the deleted flow took now fall to the priority-1 flow.
    sw.send(1, &udp(A, B, 6));
    assert_eq!(sw.one_out(), 3);
    // Deleting a group that does not exist is no error.
    assert_eq!(sw.try_group(Delete, "group_id=1").unwrap().len(), 0);
    // Delete all: every group, and every flow sending to one.
    let removed = sw.try_group(Delete, "").unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(sw.pipeline.n_groups(), 0);
    assert_eq!(sw.pipeline.n_flows(), 1);
}

#[test]
fn group_mods_are_checked_with_the_spec_errors() {
    let mut sw = Sw::new(2);
    let err = |sw: &mut Sw, c, t: &str| sw.try_group(c, t).unwrap_err().ofp_error();
    sw.group(Add, "group_id=1,type=all,bucket=output:1");
    assert_eq!(err(&mut sw, Add, "group_id=1,type=all"), (6, 0)); // GROUP_EXISTS
    assert_eq!(err(&mut sw, Modify, "group_id=9,type=all"), (6, 8)); // UNKNOWN_GROUP
    sw.group(Add, "group_id=4294967040,type=all"); // OFPG_MAX itself is a group
    assert_eq!(err(&mut sw, Add, "group_id=4294967041,type=all"), (6, 1)); // INVALID_GROUP
    assert_eq!(
        err(
            &mut sw,
            Add,
            "group_id=2,type=indirect,bucket=output:1,bucket=output:2"
        ),
        (6, 1)
    );
    assert_eq!(
        err(
            &mut sw,
            Add,
            "group_id=2,type=all,bucket=weight:2,actions=output:1"
        ),
        (6, 2) // WEIGHT_UNSUPPORTED
    );
    assert_eq!(
        err(&mut sw, Add, "group_id=2,type=ff,bucket=output:1"),
        (6, 13) // BAD_WATCH: a fast-failover bucket watches something
    );
    assert_eq!(
        err(
            &mut sw,
            Add,
            "group_id=2,type=ff,bucket=watch_group:50,actions=output:1"
        ),
        (6, 13) // BAD_WATCH: no such group
    );
    assert_eq!(
        err(&mut sw, Add, "group_id=2,type=all,bucket=output:1,output:2"),
        (6, 12) // BAD_BUCKET: two outputs in one action set
    );
    assert_eq!(
        err(&mut sw, Add, "group_id=2,type=all,bucket=group:1,output:2"),
        (6, 12) // BAD_BUCKET: the output would be ignored
    );
    assert_eq!(
        err(&mut sw, Add, "group_id=2,type=all,bucket=group:77"),
        (2, 9) // BAD_OUT_GROUP
    );
    // A flow naming a group that does not exist: BAD_OUT_GROUP.
    let f = ofctl::parse_flow("actions=group:42", &no_port_names).unwrap();
    let e = sw.pipeline.apply(&FlowMod::add(f), 0).unwrap_err();
    assert_eq!(e, PipelineError::UnknownGroup(42));
    assert_eq!(e.ofp_error(), (2, 9));
    let f = ofctl::parse_flow("actions=write_actions(group:42)", &no_port_names).unwrap();
    assert!(sw.pipeline.apply(&FlowMod::add(f), 0).is_err());
    // Nothing refused changed anything.
    assert_eq!(sw.pipeline.n_groups(), 2);
}
