//! The flow model's rules: match normalization, maskability and
//! prerequisites; instruction order; action consistency; selectors; stats.

use vnet_switch::flow::*;
use vnet_wire::FlowKey;

fn m(key: FlowKey, mask: FlowKey) -> Match {
    Match::new(key, mask)
}

fn ip() -> Match {
    m(
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

fn with_proto(base: Match, proto: u8) -> Match {
    let mut x = base;
    (x.key.nw_proto, x.mask.nw_proto) = (proto, !0);
    x
}

#[test]
fn matching_and_normalization() {
    let k = FlowKey {
        dl_type: 0x0800,
        ipv4_dst: 0x0a00_0105,
        ..FlowKey::default()
    };
    let net = m(
        FlowKey {
            dl_type: 0x0800,
            ipv4_dst: 0x0a00_01ff,
            ..FlowKey::default()
        },
        FlowKey {
            dl_type: !0,
            ipv4_dst: 0xffff_ff00,
            ..FlowKey::default()
        },
    );
    assert_eq!(net.key.ipv4_dst, 0x0a00_0100, "Match::new masks the key");
    assert!(net.matches(&k));
    assert!(!net.matches(&FlowKey {
        ipv4_dst: 0x0a00_0205,
        ..k
    }));
    assert!(Match::catch_all().matches(&k));
    assert!(Match::exact(k).matches(&k));
    let raw = Match {
        key: FlowKey {
            ipv4_dst: 1,
            ..FlowKey::default()
        },
        mask: FlowKey::default(),
    };
    assert_eq!(
        raw.validate(),
        Err(MatchError::ValueOutsideMask { field: "ipv4_dst" })
    );
}

#[test]
fn covers_and_overlaps() {
    let wide = ip();
    let narrow = m(
        FlowKey {
            dl_type: 0x0800,
            ipv4_src: 1,
            ..FlowKey::default()
        },
        FlowKey {
            dl_type: !0,
            ipv4_src: !0,
            ..FlowKey::default()
        },
    );
    let other = m(
        FlowKey {
            dl_type: 0x0800,
            ipv4_dst: 2,
            ..FlowKey::default()
        },
        FlowKey {
            dl_type: !0,
            ipv4_dst: !0,
            ..FlowKey::default()
        },
    );
    assert!(wide.covers(&narrow) && !narrow.covers(&wide));
    assert!(Match::catch_all().covers(&wide));
    assert!(narrow.overlaps(&other) && narrow.overlaps(&wide));
    let v6 = m(
        FlowKey {
            dl_type: 0x86dd,
            ..FlowKey::default()
        },
        FlowKey {
            dl_type: !0,
            ..FlowKey::default()
        },
    );
    assert!(!v6.overlaps(&narrow));
}

#[test]
fn prerequisites() {
    let mut x = Match::catch_all();
    x.mask.ipv4_src = !0;
    assert_eq!(
        x.validate(),
        Err(MatchError::Prerequisite {
            field: "nw_src",
            needs: Prereq::IpOrArp
        })
    );
    let mut arp = m(
        FlowKey {
            dl_type: ETH_TYPE_ARP,
            ..FlowKey::default()
        },
        FlowKey {
            dl_type: !0,
            ..FlowKey::default()
        },
    );
    arp.mask.ipv4_src = !0;
    assert_eq!(arp.validate(), Ok(()));
    let mut tp = ip();
    tp.mask.tp_dst = !0;
    assert_eq!(
        tp.validate(),
        Err(MatchError::Prerequisite {
            field: "tp_dst",
            needs: Prereq::L4
        })
    );
    let mut tcp = with_proto(ip(), IPPROTO_TCP);
    tcp.mask.tp_dst = !0;
    tcp.mask.tcp_flags = 0x12;
    assert_eq!(tcp.validate(), Ok(()));
    let mut udp = with_proto(ip(), IPPROTO_UDP);
    udp.mask.tcp_flags = 0x2;
    assert_eq!(
        udp.validate(),
        Err(MatchError::Prerequisite {
            field: "tcp_flags",
            needs: Prereq::Tcp
        })
    );
    let mut v6 = ip();
    v6.mask.ipv6_src = 1;
    assert!(matches!(
        v6.validate(),
        Err(MatchError::Prerequisite {
            field: "ipv6_src",
            ..
        })
    ));
    let mut nd = with_proto(
        m(
            FlowKey {
                dl_type: ETH_TYPE_IPV6,
                ..FlowKey::default()
            },
            FlowKey {
                dl_type: !0,
                ..FlowKey::default()
            },
        ),
        IPPROTO_ICMPV6,
    );
    nd.mask.nd_target = !0;
    assert_eq!(
        nd.validate(),
        Err(MatchError::Prerequisite {
            field: "nd_target",
            needs: Prereq::Nd
        })
    );
    (nd.key.tp_src, nd.mask.tp_src, nd.mask.tp_dst) = (135, !0, !0);
    assert_eq!(nd.validate(), Ok(()));
    let mut bad_pcp = Match::catch_all();
    bad_pcp.mask.vlan_tci = 0xe000;
    assert!(matches!(
        bad_pcp.validate(),
        Err(MatchError::BadMask {
            field: "vlan_tci",
            ..
        })
    ));
    let mut proto_mask = ip();
    proto_mask.mask.nw_proto = 0x0f;
    assert!(matches!(
        proto_mask.validate(),
        Err(MatchError::BadMask {
            field: "nw_proto",
            ..
        })
    ));
}

#[test]
fn instruction_order_goto_and_action_consistency() {
    let flow = |instructions: Vec<Instruction>| Flow {
        table_id: 2,
        r#match: ip(),
        instructions,
        ..Flow::default()
    };
    use Instruction::*;
    assert_eq!(
        flow(vec![
            Meter(1),
            ApplyActions(vec![]),
            ClearActions,
            WriteActions(vec![]),
            WriteMetadata { value: 1, mask: 1 },
            GotoTable(3)
        ])
        .validate(),
        Ok(())
    );
    assert_eq!(
        flow(vec![GotoTable(3), ApplyActions(vec![])]).validate(),
        Err(FlowError::InstructionOrder {
            first: "apply_actions",
            second: "goto_table"
        })
    );
    assert_eq!(
        flow(vec![ClearActions, ClearActions]).validate(),
        Err(FlowError::DuplicateInstruction("clear_actions"))
    );
    assert_eq!(
        flow(vec![GotoTable(2)]).validate(),
        Err(FlowError::GotoBackward { from: 2, to: 2 })
    );

    let pop = flow(vec![WriteActions(vec![
        Action::Output(PortNo(1)),
        Action::PopVlan,
    ])])
    .validate();
    assert!(matches!(
        pop,
        Err(FlowError::Action {
            instruction: 0,
            action: 1,
            problem: ActionError::Prerequisite {
                action: "pop_vlan",
                ..
            }
        })
    ));
    // push_vlan makes the tag known to the actions after it.
    let push = vec![
        Action::PushVlan(0x8100),
        Action::SetField(Field::VlanVid(5)),
        Action::PopVlan,
    ];
    assert_eq!(flow(vec![ApplyActions(push)]).validate(), Ok(()));
    let tcp_field = flow(vec![ApplyActions(vec![Action::SetField(Field::TcpDst(1))])]).validate();
    assert!(matches!(
        tcp_field,
        Err(FlowError::Action {
            problem: ActionError::Prerequisite {
                action: "tcp_dst",
                ..
            },
            ..
        })
    ));
    let bad_vid = flow(vec![ApplyActions(vec![
        Action::PushVlan(0x8100),
        Action::SetField(Field::VlanVid(5000)),
    ])])
    .validate();
    assert!(matches!(
        bad_vid,
        Err(FlowError::Action {
            problem: ActionError::BadValue {
                field: "vlan_vid",
                value: 5000
            },
            ..
        })
    ));
    for port in [
        PortNo::ANY,
        PortNo::TABLE,
        PortNo::CONTROLLER,
        PortNo(0xffff_ff00),
    ] {
        let e = flow(vec![ApplyActions(vec![Action::Output(port)])]).validate();
        assert!(
            matches!(
                e,
                Err(FlowError::Action {
                    problem: ActionError::BadOutPort(_),
                    ..
                })
            ),
            "{port}"
        );
    }
    let tpid = flow(vec![ApplyActions(vec![Action::PushVlan(0x0800)])]).validate();
    assert_eq!(tpid.as_ref().map_err(|e| e.ofp_error()), Err((2, 5)));
    let no_ip = Flow {
        instructions: vec![ApplyActions(vec![Action::DecTtl])],
        ..Flow::default()
    };
    assert!(no_ip.validate().is_err());
}

#[test]
fn ports_and_flags() {
    assert_eq!(PortNo::LOCAL.to_string(), "LOCAL");
    assert_eq!(PortNo(7).to_string(), "7");
    assert_eq!(PortNo::from_reserved_name("in_port"), Some(PortNo::IN_PORT));
    assert_eq!(PortNo::from_reserved_name("none"), Some(PortNo::ANY));
    assert!(PortNo::NORMAL.is_reserved() && !PortNo(3).is_reserved());
    let f = FlowFlags::SEND_FLOW_REM | FlowFlags::RESET_COUNTS;
    assert!(f.contains(FlowFlags::SEND_FLOW_REM) && !f.contains(FlowFlags::CHECK_OVERLAP));
}

#[test]
fn selectors() {
    let flow = Flow {
        priority: 10,
        r#match: with_proto(ip(), IPPROTO_TCP),
        cookie: 0xab,
        instructions: vec![
            Instruction::ApplyActions(vec![Action::Output(PortNo(2))]),
            Instruction::WriteActions(vec![Action::Group(7), Action::Controller { max_len: 1 }]),
        ],
        ..Flow::default()
    };
    let del = |command, priority, r#match, cookie_mask, out_port, out_group| FlowMod {
        command,
        flow: Flow {
            priority,
            r#match,
            cookie: 0xa0,
            ..Flow::default()
        },
        cookie_mask,
        out_port,
        out_group,
    };
    use FlowModCommand::*;
    assert!(del(Delete, 0, ip(), 0, PortNo::ANY, ANY_GROUP)
        .selector()
        .selects(&flow));
    assert!(del(Delete, 0, Match::catch_all(), 0xf0, PortNo(2), 7)
        .selector()
        .selects(&flow));
    assert!(del(Delete, 0, ip(), 0, PortNo::CONTROLLER, ANY_GROUP)
        .selector()
        .selects(&flow));
    assert!(
        !del(Delete, 0, ip(), 0xff, PortNo::ANY, ANY_GROUP)
            .selector()
            .selects(&flow),
        "cookie"
    );
    assert!(
        !del(Delete, 0, ip(), 0, PortNo(3), ANY_GROUP)
            .selector()
            .selects(&flow),
        "out_port"
    );
    assert!(
        !del(Delete, 0, ip(), 0, PortNo::ANY, 8)
            .selector()
            .selects(&flow),
        "out_group"
    );
    assert!(
        !del(DeleteStrict, 10, ip(), 0, PortNo::ANY, ANY_GROUP)
            .selector()
            .selects(&flow),
        "strict match"
    );
    assert!(
        del(DeleteStrict, 10, flow.r#match, 0, PortNo::ANY, ANY_GROUP)
            .selector()
            .selects(&flow)
    );
    assert!(
        !del(DeleteStrict, 11, flow.r#match, 0, PortNo::ANY, ANY_GROUP)
            .selector()
            .selects(&flow)
    );
    // Modify ignores out_port.
    assert!(del(Modify, 0, ip(), 0, PortNo(3), ANY_GROUP)
        .selector()
        .selects(&flow));
    assert!(FlowSelector::all().selects(&flow));
}

#[test]
fn stats_are_shared_counters() {
    let s = FlowStats::new(100);
    s.record(2, 120, 150);
    s.record(1, 60, 140);
    assert_eq!(
        (s.packets(), s.bytes(), s.created(), s.last_used()),
        (3, 180, 100, 150)
    );
    let c = s.clone();
    assert_eq!(c, s);
    s.record(1, 1, 200);
    assert_ne!(c, s);
    let moved = s.carried_over(300);
    assert_eq!((moved.packets(), moved.created()), (4, 300));
}

#[test]
fn fields_rewrite_keys() {
    let mut k = FlowKey {
        vlan_tci: 0x1000 | 3 << 13 | 5,
        nw_tos: 0xb9,
        ..FlowKey::default()
    };
    Field::VlanVid(7).apply(&mut k);
    assert_eq!(k.vlan_tci, 0x1000 | 3 << 13 | 7);
    Field::VlanPcp(1).apply(&mut k);
    assert_eq!(k.vlan_tci, 0x1000 | 1 << 13 | 7);
    Field::IpDscp(10).apply(&mut k);
    assert_eq!(k.nw_tos, 10 << 2 | 1);
    Field::IpEcn(2).apply(&mut k);
    assert_eq!(k.nw_tos, 10 << 2 | 2);
    Field::ArpOp(2).apply(&mut k);
    Field::NdSll([1; 6]).apply(&mut k);
    assert_eq!((k.nw_proto, k.nd_sll), (2, [1; 6]));
    assert_eq!(Field::Ipv4Src(0).name(), "ip_src");
    assert_eq!(Field::IpEcn(0).name(), "nw_ecn");
}
