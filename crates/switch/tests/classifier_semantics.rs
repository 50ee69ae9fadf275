//! One table's OpenFlow 1.3 flow-mod semantics: add replaces an identical
//! match+priority (counters carried over unless RESET_COUNTS), CHECK_OVERLAP,
//! strict and non-strict modify and delete with cookie and out_port
//! filters, timeouts, the size bound.

use std::sync::Arc;

use vnet_switch::classifier::{FlowTable, TableError};
use vnet_switch::flow::*;
use vnet_wire::FlowKey;

fn tcp_to(port: u16) -> Match {
    Match::new(
        FlowKey {
            dl_type: ETH_TYPE_IP,
            nw_proto: IPPROTO_TCP,
            tp_dst: port,
            ..FlowKey::default()
        },
        FlowKey {
            dl_type: !0,
            nw_proto: !0,
            tp_dst: !0,
            ..FlowKey::default()
        },
    )
}

fn ip() -> Match {
    Match::new(
        FlowKey {
            dl_type: ETH_TYPE_IP,
            ..FlowKey::default()
        },
        FlowKey {
            dl_type: !0,
            ..FlowKey::default()
        },
    )
}

fn out(port: u32) -> Vec<Instruction> {
    vec![Instruction::ApplyActions(vec![Action::Output(PortNo(
        port,
    ))])]
}

fn flow(priority: u16, r#match: Match, port: u32) -> Flow {
    Flow {
        priority,
        r#match,
        instructions: out(port),
        ..Flow::default()
    }
}

fn key(port: u16) -> FlowKey {
    FlowKey {
        dl_type: ETH_TYPE_IP,
        nw_proto: IPPROTO_TCP,
        tp_dst: port,
        ..FlowKey::default()
    }
}

fn fm(command: FlowModCommand, f: Flow) -> FlowMod {
    FlowMod {
        command,
        ..FlowMod::add(f)
    }
}

#[test]
fn add_replaces_same_match_and_priority() {
    let mut t = FlowTable::new();
    assert_eq!(t.insert(flow(10, tcp_to(80), 1), 0), Ok(None));
    t.lookup(&key(80)).unwrap().stats.record(5, 500, 10);
    let old = t
        .insert(flow(10, tcp_to(80), 2), 1_000)
        .unwrap()
        .expect("replaced");
    assert_eq!(old.flow.instructions, out(1));
    let now = t.lookup(&key(80)).unwrap();
    assert_eq!(now.flow.instructions, out(2));
    assert_eq!(
        (now.stats.packets(), now.stats.bytes(), now.stats.created()),
        (5, 500, 1_000)
    );
    assert_eq!(t.len(), 1);
    let reset = Flow {
        flags: FlowFlags::RESET_COUNTS,
        ..flow(10, tcp_to(80), 3)
    };
    t.insert(reset, 2_000).unwrap();
    assert_eq!(t.lookup(&key(80)).unwrap().stats.packets(), 0);
    // Another priority is another flow.
    assert_eq!(t.insert(flow(11, tcp_to(80), 4), 0), Ok(None));
    assert_eq!(t.len(), 2);
    assert_eq!(t.lookup(&key(80)).unwrap().flow.priority, 11);
    t.check_invariants();
}

#[test]
fn check_overlap() {
    let mut t = FlowTable::new();
    t.insert(flow(10, ip(), 1), 0).unwrap();
    let overlapping = Flow {
        flags: FlowFlags::CHECK_OVERLAP,
        ..flow(10, tcp_to(80), 2)
    };
    assert_eq!(
        t.insert(overlapping.clone(), 0),
        Err(TableError::Overlap { priority: 10 })
    );
    assert_eq!(TableError::Overlap { priority: 10 }.ofp_error(), (5, 3));
    assert_eq!(
        t.insert(
            Flow {
                priority: 11,
                ..overlapping.clone()
            },
            0
        ),
        Ok(None)
    );
    let v6 = Match::new(
        FlowKey {
            dl_type: ETH_TYPE_IPV6,
            ..FlowKey::default()
        },
        FlowKey {
            dl_type: !0,
            ..FlowKey::default()
        },
    );
    assert_eq!(
        t.insert(
            Flow {
                r#match: v6,
                ..overlapping
            },
            0
        ),
        Ok(None)
    );
    assert_eq!(t.len(), 3);
}

#[test]
fn modify_keeps_counters_and_is_all_or_nothing() {
    let mut t = FlowTable::new();
    t.insert(flow(10, tcp_to(80), 1), 0).unwrap();
    t.insert(flow(20, tcp_to(443), 1), 0).unwrap();
    t.insert(flow(5, ip(), 9), 0).unwrap();
    let before = Arc::clone(&t.lookup(&key(80)).unwrap().stats);
    before.record(1, 64, 5);
    let sel = fm(
        FlowModCommand::Modify,
        Flow {
            r#match: without_tp_dst(tcp_to(0)),
            ..Flow::default()
        },
    )
    .selector();
    let changed = t.modify(&sel, &out(7), false, 100).unwrap();
    assert_eq!(changed.len(), 2, "both tcp flows, not the ip one");
    let e = t.lookup(&key(80)).unwrap();
    assert_eq!(e.flow.instructions, out(7));
    assert!(Arc::ptr_eq(&e.stats, &before));
    assert_eq!(
        t.lookup(&FlowKey {
            dl_type: ETH_TYPE_IP,
            ..FlowKey::default()
        })
        .unwrap()
        .flow
        .instructions,
        out(9)
    );

    let strict = fm(FlowModCommand::ModifyStrict, flow(20, tcp_to(443), 0)).selector();
    t.modify(&strict, &out(8), true, 200).unwrap();
    let e = t.lookup(&key(443)).unwrap();
    assert_eq!(
        (
            e.flow.instructions.clone(),
            e.stats.packets(),
            e.stats.last_used()
        ),
        (out(8), 0, 200)
    );
    assert_eq!(t.lookup(&key(80)).unwrap().flow.instructions, out(7));

    // set_field:..->tcp_dst is fine for the tcp flows, not for the ip one.
    let all = FlowSelector::all();
    let rewrite = vec![Instruction::ApplyActions(vec![Action::SetField(
        Field::TcpDst(1),
    )])];
    assert!(matches!(
        t.modify(&all, &rewrite, false, 0),
        Err(TableError::Flow(_))
    ));
    assert_eq!(
        t.lookup(&key(80)).unwrap().flow.instructions,
        out(7),
        "unchanged"
    );
    t.check_invariants();
}

/// The same match without `tp_dst`.
fn without_tp_dst(mut m: Match) -> Match {
    (m.key.tp_dst, m.mask.tp_dst) = (0, 0);
    m
}

#[test]
fn delete_filters() {
    let mut t = FlowTable::new();
    for (i, port) in [80u16, 443, 22].into_iter().enumerate() {
        let f = Flow {
            cookie: 0x100 + i as u64,
            ..flow(10, tcp_to(port), u32::from(port))
        };
        t.insert(f, 0).unwrap();
    }
    t.insert(flow(1, ip(), 9), 0).unwrap();
    let by_port = FlowMod {
        out_port: PortNo(443),
        ..fm(FlowModCommand::Delete, Flow::default())
    };
    let gone = t.delete(&by_port.selector());
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].flow.r#match, tcp_to(443));
    let by_cookie = FlowMod {
        cookie_mask: 0xfff,
        ..fm(
            FlowModCommand::Delete,
            Flow {
                cookie: 0x102,
                ..Flow::default()
            },
        )
    };
    assert_eq!(t.delete(&by_cookie.selector()).len(), 1);
    let strict_wrong_prio = fm(FlowModCommand::DeleteStrict, flow(11, tcp_to(80), 0));
    assert!(t.delete(&strict_wrong_prio.selector()).is_empty());
    let non_strict = fm(
        FlowModCommand::Delete,
        Flow {
            r#match: without_tp_dst(tcp_to(0)),
            ..Flow::default()
        },
    );
    assert_eq!(t.delete(&non_strict.selector()).len(), 1);
    assert_eq!(t.len(), 1);
    assert!(t.lookup(&key(80)).is_some_and(|f| f.flow.priority == 1));
    t.delete(&FlowSelector::all());
    assert!(t.is_empty() && t.n_subtables() == 0);
    t.check_invariants();
}

#[test]
fn timeouts() {
    let mut t = FlowTable::new();
    t.insert(
        Flow {
            hard_timeout: 10,
            ..flow(1, tcp_to(1), 1)
        },
        0,
    )
    .unwrap();
    t.insert(
        Flow {
            idle_timeout: 5,
            ..flow(1, tcp_to(2), 1)
        },
        0,
    )
    .unwrap();
    t.insert(flow(1, tcp_to(3), 1), 0).unwrap();
    t.lookup(&key(2)).unwrap().stats.record(1, 1, 4_000);
    assert!(!t.has_expired(8_999));
    assert!(t.expire(8_999).is_empty());
    let gone = t.expire(9_000);
    assert_eq!(gone.len(), 1);
    assert_eq!(
        (gone[0].reason, gone[0].entry.flow.r#match),
        (RemovedReason::IdleTimeout, tcp_to(2))
    );
    let gone = t.expire(10_000);
    assert_eq!(
        (gone.len(), gone[0].reason),
        (1, RemovedReason::HardTimeout)
    );
    assert_eq!(t.len(), 1);
    assert!(t.expire(u64::MAX).is_empty());
    t.check_invariants();
}

#[test]
fn bounded_size() {
    let mut t = FlowTable::new();
    t.set_max_flows(2);
    t.insert(flow(1, tcp_to(1), 1), 0).unwrap();
    t.insert(flow(1, tcp_to(2), 1), 0).unwrap();
    assert_eq!(
        t.insert(flow(1, tcp_to(3), 1), 0),
        Err(TableError::Full { max: 2 })
    );
    assert_eq!(
        t.insert(flow(1, tcp_to(2), 5), 0).map(|r| r.is_some()),
        Ok(true),
        "replacing is fine"
    );
    t.check_invariants();
}

#[test]
fn wildcards_cover_every_consulted_mask() {
    let mut t = FlowTable::new();
    t.insert(flow(10, tcp_to(80), 1), 0).unwrap();
    t.insert(flow(5, ip(), 2), 0).unwrap();
    let (hit, wc) = t.lookup_with_wildcards(&key(80));
    assert_eq!(hit.unwrap().flow.priority, 10);
    // The priority-10 subtable answered; the priority-5 one could not beat it.
    assert_eq!((wc.dl_type, wc.nw_proto, wc.tp_dst), (!0, !0, !0));
    let (hit, wc) = t.lookup_with_wildcards(&key(81));
    assert_eq!(hit.unwrap().flow.priority, 5);
    assert_eq!((wc.tp_dst, wc.ipv4_src), (!0, 0));
    let empty = FlowTable::new();
    let (miss, wc) = empty.lookup_with_wildcards(&key(1));
    assert!(miss.is_none() && wc == FlowKey::default());
}

#[test]
fn equality_and_iteration() {
    let mut a = FlowTable::new();
    a.insert(flow(1, tcp_to(1), 1), 0).unwrap();
    a.insert(flow(2, ip(), 1), 0).unwrap();
    let b = a.clone();
    assert_eq!(a, b);
    assert_eq!(a.iter().count(), 2);
    assert_eq!(a.select(&FlowSelector::all()).len(), 2);
    a.insert(flow(3, ip(), 1), 0).unwrap();
    assert_ne!(a, b);
    assert!(format!("{a:?}").contains("flows: 3"));
}

#[test]
fn key_words_round_trip() {
    use vnet_switch::classifier::{from_words, to_words};
    let k = FlowKey {
        in_port: 0xdead_beef,
        metadata: 0x0123_4567_89ab_cdef,
        dl_dst: [1, 2, 3, 4, 5, 6],
        dl_src: [7, 8, 9, 10, 11, 12],
        dl_type: 0x86dd,
        vlan_tci: 0x1234,
        ipv4_src: 0x0a00_0001,
        ipv4_dst: 0x0a00_0002,
        ipv6_src: u128::MAX - 5,
        ipv6_dst: 0x2001_0db8 << 96 | 1,
        ipv6_label: 0xfffff,
        nw_proto: 6,
        nw_tos: 0xb8,
        nw_ttl: 64,
        nw_frag: 3,
        tp_src: 1234,
        tp_dst: 80,
        tcp_flags: 0x012,
        arp_sha: [0xaa; 6],
        arp_tha: [0xbb; 6],
        nd_target: 42,
        nd_sll: [0xcc; 6],
        nd_tll: [0xdd; 6],
        mpls_lse: 0x1234_5678,
        pbb_isid: 0xab_cdef,
        ipv6_exthdr: 0x1ff,
        tunnel_id: u64::MAX - 1,
    };
    assert_eq!(from_words(&to_words(&k)), k);
    assert_eq!(
        from_words(&to_words(&FlowKey::exact_mask())),
        FlowKey::exact_mask()
    );
    assert_eq!(
        from_words(&to_words(&FlowKey::default())),
        FlowKey::default()
    );
}
