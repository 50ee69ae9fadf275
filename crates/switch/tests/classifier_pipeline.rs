//! The table pipeline: goto_table and metadata, apply-actions changing what
//! later tables see, the action set and its order, table-miss behaviours,
//! flow-mods across tables, versions and snapshots; and the soundness of the
//! megaflow wildcards a verdict carries (property test).

use std::sync::Arc;

use proptest::prelude::*;
use vnet_switch::classifier::{from_words, to_words, KEY_WORDS};
use vnet_switch::flow::*;
use vnet_switch::ofctl::{no_port_names, parse_flow, parse_flow_mod};
use vnet_switch::pipeline::*;
use vnet_wire::FlowKey;

fn add(p: &mut Pipeline, s: &str) {
    let f = parse_flow(s, &no_port_names).unwrap_or_else(|e| panic!("{s}: {e}"));
    p.add_flow(f, 0).unwrap_or_else(|e| panic!("{s}: {e}"));
}

fn udp(dst: u32, port: u16) -> FlowKey {
    FlowKey {
        in_port: 1,
        dl_type: ETH_TYPE_IP,
        nw_proto: IPPROTO_UDP,
        ipv4_dst: dst,
        nw_ttl: 64,
        tp_dst: port,
        ..FlowKey::default()
    }
}

#[test]
fn goto_metadata_and_rewrites_reach_later_tables() {
    let mut p = Pipeline::new(8);
    add(
        &mut p,
        "table=0,priority=10,udp,actions=mod_nw_dst:10.0.0.9,write_metadata:0x5/0xff,goto_table:2",
    );
    add(
        &mut p,
        "table=2,priority=10,metadata=0x5/0xff,ip,nw_dst=10.0.0.9,actions=output:3",
    );
    add(&mut p, "table=2,priority=5,actions=output:4");
    let v = p.execute(&udp(0x0a00_0001, 53));
    assert_eq!(
        v.actions,
        vec![
            Action::SetField(Field::Ipv4Dst(0x0a00_0009)),
            Action::Output(PortNo(3))
        ]
    );
    assert_eq!(v.matched.len(), 2);
    assert_eq!(v.table_miss, None);
    assert_eq!(v.matched[1].flow.priority, 10);
}

#[test]
fn action_set_is_written_merged_cleared_and_ordered() {
    let mut p = Pipeline::new(4);
    // A flow may only name a group that exists.
    let g = vnet_switch::ofctl::parse_group(
        "group_id=7,type=all,bucket=output:5",
        vnet_switch::group::GroupModCommand::Add,
        &no_port_names,
    )
    .unwrap();
    p.apply_group_mod(&g, 0).unwrap();
    add(&mut p, "table=0,ip,actions=output:9,write_actions(output:1,dec_ttl,mod_nw_src:1.1.1.1),goto_table:1");
    add(
        &mut p,
        "table=1,ip,actions=write_actions(output:2,set_field:2.2.2.2->ip_src,group:7),goto_table:2",
    );
    add(
        &mut p,
        "table=2,ip,priority=10,nw_dst=1.0.0.0/8,actions=clear_actions",
    );
    add(
        &mut p,
        "table=2,ip,priority=1,actions=write_actions(push_vlan:0x8100)",
    );
    let v = p.execute(&udp(0x0a00_0001, 1));
    // Spec order: push, dec_ttl, set_field, then the group, which wins
    // over the output. (set_queue is refused: no queues, see
    // datapath_actions.rs.)
    assert_eq!(
        v.actions,
        vec![
            Action::Output(PortNo(9)),
            Action::PushVlan(0x8100),
            Action::DecTtl,
            Action::SetField(Field::Ipv4Src(0x0202_0202)),
            Action::Group(7),
        ]
    );
    let cleared = p.execute(&udp(0x0100_0001, 1));
    assert_eq!(cleared.actions, vec![Action::Output(PortNo(9))]);
}

#[test]
fn table_miss_behaviours() {
    let mut p = Pipeline::new(3);
    add(
        &mut p,
        "table=0,priority=1,ip,actions=output:5,write_actions(output:6),goto_table:1",
    );
    let k = udp(1, 1);
    let v = p.execute(&k);
    assert_eq!(
        (v.actions.clone(), v.table_miss),
        (vec![Action::Output(PortNo(5))], Some(1)),
        "drop discards the action set"
    );
    p.set_table_miss(1, TableMiss::Controller { max_len: 128 })
        .unwrap();
    assert_eq!(
        p.execute(&k).actions,
        vec![
            Action::Output(PortNo(5)),
            Action::Controller { max_len: 128 }
        ]
    );
    p.set_table_miss(1, TableMiss::Normal).unwrap();
    let v = p.execute(&k);
    assert_eq!(
        v.actions,
        vec![Action::Output(PortNo(5)), Action::Output(PortNo::NORMAL)]
    );
    assert_eq!(
        (v.wildcards.dl_src, v.wildcards.in_port),
        ([0xff; 6], !0),
        "NORMAL reads MACs and port"
    );
    p.set_table_miss(1, TableMiss::Continue).unwrap();
    add(&mut p, "table=2,actions=output:7");
    let v = p.execute(&k);
    assert_eq!(
        v.actions,
        vec![
            Action::Output(PortNo(5)),
            Action::Output(PortNo(7)),
            Action::Output(PortNo(6))
        ]
    );
    assert_eq!(v.table_miss, None);
    assert_eq!(p.table_miss(1), Some(TableMiss::Continue));
    assert!(p.set_table_miss(3, TableMiss::Drop).is_err());
    // Table 0 miss with the default (drop).
    let arp = FlowKey {
        dl_type: ETH_TYPE_ARP,
        ..FlowKey::default()
    };
    let v = Pipeline::new(2).execute(&arp);
    assert_eq!((v.actions.len(), v.table_miss), (0, Some(0)));
}

#[test]
fn flow_mods_across_tables_versions_and_snapshots() {
    let mut p = Pipeline::new(4);
    let v0 = p.version();
    add(&mut p, "table=0,priority=5,ip,actions=goto_table:1");
    add(&mut p, "table=1,priority=5,ip,actions=output:1");
    add(&mut p, "table=1,priority=6,tcp,actions=output:2");
    assert!(p.version() > v0);
    let snap = p.snapshot();
    assert_eq!(snap.version(), p.version());

    let fm = parse_flow_mod("ip,out_port=1", FlowModCommand::Delete, &no_port_names).unwrap();
    let out = p.apply(&fm, 10).unwrap();
    assert_eq!(out.removed.len(), 1);
    assert_eq!(out.removed[0].reason, RemovedReason::Delete);
    assert!(p.version() > snap.version());
    assert_eq!(snap.n_flows(), 3, "the published snapshot is unchanged");
    assert_eq!(p.n_flows(), 2);

    let m = parse_flow_mod(
        "tcp,actions=output:3",
        FlowModCommand::Modify,
        &no_port_names,
    )
    .unwrap();
    let before = Arc::clone(&p.table(1).unwrap().iter().next().unwrap().stats);
    assert_eq!(p.apply(&m, 20).unwrap().modified.len(), 1);
    let after = p.table(1).unwrap().iter().next().unwrap();
    assert!(
        Arc::ptr_eq(&before, &after.stats),
        "counters survive a modify"
    );

    let version = p.version();
    let none = parse_flow_mod("arp", FlowModCommand::Delete, &no_port_names).unwrap();
    assert!(p.apply(&none, 0).unwrap().removed.is_empty());
    assert_eq!(p.version(), version, "no change, no new version");

    let bad_table = parse_flow("table=9,actions=drop", &no_port_names).unwrap();
    assert!(matches!(
        p.add_flow(bad_table, 0),
        Err(PipelineError::BadTable {
            table: 9,
            n_tables: 4
        })
    ));
    let far_goto = parse_flow("actions=goto_table:7", &no_port_names).unwrap();
    let e = p.add_flow(far_goto, 0).unwrap_err();
    assert_eq!(e.ofp_error(), (3, 2));
    assert_eq!(p.version(), version, "refused changes change nothing");

    add(&mut p, "table=2,hard_timeout=1,actions=drop");
    assert_eq!(p.expire(999).len(), 0);
    let gone = p.expire(1_000);
    assert_eq!(
        (gone.len(), gone[0].reason),
        (1, RemovedReason::HardTimeout)
    );
    assert_eq!(p.tables().count(), 4);
}

#[test]
fn dec_ttl_and_vlan_changes_are_seen_and_unwildcarded() {
    let mut p = Pipeline::new(2);
    add(
        &mut p,
        "table=0,ip,actions=dec_ttl,push_vlan:0x8100,set_field:4100->vlan_vid,goto_table:1",
    );
    add(
        &mut p,
        "table=1,priority=9,ip,dl_vlan=4,nw_ttl=63,actions=output:1",
    );
    add(&mut p, "table=1,priority=1,actions=output:2");
    let v = p.execute(&udp(1, 1));
    assert_eq!(v.actions.last(), Some(&Action::Output(PortNo(1))));
    assert_eq!((v.wildcards.nw_ttl, v.wildcards.vlan_tci), (!0, !0));
    let v = p.execute(&FlowKey {
        nw_ttl: 10,
        ..udp(1, 1)
    });
    assert_eq!(v.actions.last(), Some(&Action::Output(PortNo(2))));
}

// --- megaflow soundness -----------------------------------------------------

fn small_key() -> impl Strategy<Value = FlowKey> {
    (
        0u32..3,
        0u32..4,
        0u16..3,
        prop::sample::select(vec![0u16, 0x1005, 0x1006]),
        0u8..3,
        0u64..3,
    )
        .prop_map(|(in_port, dst, tp_dst, vlan_tci, ttl, metadata)| FlowKey {
            in_port,
            dl_type: ETH_TYPE_IP,
            nw_proto: IPPROTO_UDP,
            ipv4_dst: dst,
            tp_dst,
            vlan_tci,
            nw_ttl: ttl,
            metadata,
            dl_src: [0, 0, 0, 0, 0, dst as u8],
            ..FlowKey::default()
        })
}

fn flow_text() -> impl Strategy<Value = String> {
    let matches = prop::sample::select(vec![
        "",
        "in_port=1,",
        "udp,nw_dst=1,",
        "udp,tp_dst=2,",
        "dl_vlan=5,",
        "vlan_tci=0/0x1000,",
        "udp,nw_ttl=1,",
        "metadata=1,",
        "metadata=2/2,",
        "udp,nw_dst=2,tp_dst=1,",
    ]);
    let actions = prop::sample::select(vec![
        "output:1",
        "output:2",
        "normal",
        "in_port",
        "ip,mod_nw_dst:0.0.0.2",
        "dec_ttl",
        "push_vlan:0x8100",
        "pop_vlan",
        "mod_vlan_vid:6",
        "write_metadata:1/1",
        "write_metadata:2",
        "write_actions(output:3)",
        "clear_actions",
        "udp,mod_tp_dst:1",
    ]);
    (
        0u8..3,
        0u16..4,
        matches,
        prop::collection::vec(actions, 0..4),
        prop::option::of(1u8..3),
    )
        .prop_map(|(table, prio, m, acts, goto)| {
            let mut a: Vec<&str> = Vec::new();
            let mut proto = String::new();
            for x in acts {
                match x.split_once(',') {
                    Some((p, act)) if p == "ip" || p == "udp" => {
                        proto = format!("{p},");
                        a.push(act);
                    }
                    _ => a.push(x),
                }
            }
            let goto = goto
                .filter(|&g| g > table)
                .map(|g| format!("goto_table:{g}"));
            a.extend(goto.as_deref());
            format!(
                "table={table},priority={prio},{proto}{m}actions={}",
                a.join(",")
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn verdict_holds_for_every_key_agreeing_on_its_wildcards(
        flows in prop::collection::vec(flow_text(), 1..25),
        misses in prop::collection::vec(prop::sample::select(vec![TableMiss::Drop, TableMiss::Continue, TableMiss::Normal]), 3),
        keys in prop::collection::vec((small_key(), small_key()), 1..40),
    ) {
        let mut p = Pipeline::new(3);
        for (t, miss) in misses.into_iter().enumerate() {
            p.set_table_miss(t as u8, miss).unwrap();
        }
        for text in &flows {
            // Texts the parser or the pipeline refuse (a pop_vlan without a
            // tag, an action set in the wrong place) are simply skipped.
            if let Ok(f) = parse_flow(text, &no_port_names) {
                let _ = p.add_flow(f, 0);
            }
        }
        for (k, other) in &keys {
            let v = p.execute(k);
            let (kw, ww, ow) = (to_words(k), to_words(&v.wildcards), to_words(other));
            let mut blended = [0u64; KEY_WORDS];
            for i in 0..KEY_WORDS {
                blended[i] = (kw[i] & ww[i]) | (ow[i] & !ww[i]);
            }
            let k2 = from_words(&blended);
            let v2 = p.execute(&k2);
            prop_assert_eq!(&v2.actions, &v.actions, "{:?} vs {:?} on {:?}", k, k2, v.wildcards);
            prop_assert_eq!(v2.table_miss, v.table_miss);
            prop_assert_eq!(v2.matched.len(), v.matched.len());
            for (a, b) in v.matched.iter().zip(&v2.matched) {
                prop_assert!(Arc::ptr_eq(a, b));
            }
        }
    }
}
