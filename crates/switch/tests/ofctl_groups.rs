//! ovs-ofctl's group and meter syntax: parsed into the switch model,
//! printed back canonically (as `ovs-ofctl -O OpenFlow13 dump-groups`
//! prints a group; a meter on one `add-meter` line), and read back from
//! files as the daemon saves them.

use vnet_switch::flow::{Action, Field, PortNo, ANY_GROUP};
use vnet_switch::group::{Bucket, GroupModCommand, GroupType, ALL_GROUPS};
use vnet_switch::meter::{BandType, MeterFlags, MeterModCommand, ALL_METERS};
use vnet_switch::ofctl::{self, no_port_labels, no_port_names};

fn names(n: &str) -> Option<u32> {
    match n {
        "h1" => Some(1),
        "h2" => Some(2),
        _ => None,
    }
}

fn labels(n: u32) -> Option<String> {
    match n {
        1 => Some("h1".into()),
        2 => Some("h2".into()),
        _ => None,
    }
}

#[test]
fn groups_parse_and_print_as_ovs_ofctl_does() {
    let gm = ofctl::parse_group(
        "group_id=1,type=select,bucket=weight:60,actions=output:1,bucket=weight:40,actions=output:2",
        GroupModCommand::Add,
        &no_port_names,
    )
    .unwrap();
    assert_eq!(gm.group.id, 1);
    assert_eq!(gm.group.group_type, GroupType::Select);
    assert_eq!(
        gm.group.buckets,
        vec![
            Bucket {
                weight: 60,
                ..Bucket::new(vec![Action::Output(PortNo(1))])
            },
            Bucket {
                weight: 40,
                ..Bucket::new(vec![Action::Output(PortNo(2))])
            },
        ]
    );
    // (as written, as printed)
    let cases = [
        (
            "group_id=1,type=select,bucket=weight:60,actions=output:1,bucket=weight:40,actions=output:2",
            "group_id=1,type=select,bucket=weight:60,actions=output:1,bucket=weight:40,actions=output:2",
        ),
        // A select bucket weighs 1 unless told; printed only when not 1.
        (
            "group_id=2, type=select, bucket=output:1, bucket=output:2",
            "group_id=2,type=select,bucket=actions=output:1,bucket=actions=output:2",
        ),
        (
            "group_id=3,type=all,bucket=actions=set_field:10.0.0.9->ip_dst,output:2,bucket=drop",
            "group_id=3,type=all,bucket=actions=set_field:10.0.0.9->ip_dst,output:2,bucket=actions=drop",
        ),
        (
            "group_id=4,type=fast_failover,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,watch_group:3,actions=group:3",
            "group_id=4,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,watch_group:3,actions=group:3",
        ),
        (
            "group_id=5,type=indirect,bucket=actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:in_port",
            "group_id=5,type=indirect,bucket=actions=push_vlan:0x8100,set_field:4196->vlan_vid,IN_PORT",
        ),
        ("group_id=6,type=all", "group_id=6,type=all"),
    ];
    for (text, printed) in cases {
        let g = ofctl::parse_group(text, GroupModCommand::Add, &no_port_names)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .group;
        assert_eq!(ofctl::format_group(&g, &no_port_labels), printed, "{text}");
        // And the printed form parses back to the same group.
        let again = ofctl::parse_group(printed, GroupModCommand::Add, &no_port_names)
            .unwrap()
            .group;
        assert_eq!(again, g, "{printed}");
    }
    // Prerequisites are not checked in buckets (a group sees any packet).
    let g = ofctl::parse_group(cases[2].0, GroupModCommand::Add, &no_port_names).unwrap();
    assert_eq!(
        g.group.buckets[0].actions[0],
        Action::SetField(Field::Ipv4Dst(0x0a00_0009))
    );
    // Port names in watch_port and outputs, both ways.
    let text = "group_id=9,type=ff,bucket=watch_port:h1,actions=output:h1,bucket=watch_port:h2,actions=output:h2";
    let g = ofctl::parse_group(text, GroupModCommand::Add, &names)
        .unwrap()
        .group;
    assert_eq!(g.buckets[1].watch_port, PortNo(2));
    assert_eq!(g.buckets[1].watch_group, ANY_GROUP);
    assert_eq!(ofctl::format_group(&g, &labels), text);
}

#[test]
fn group_deletes_and_mistakes() {
    let d = ofctl::parse_group("", GroupModCommand::Delete, &no_port_names).unwrap();
    assert_eq!(d.group.id, ALL_GROUPS);
    let d = ofctl::parse_group("group_id=all", GroupModCommand::Delete, &no_port_names).unwrap();
    assert_eq!(d.group.id, ALL_GROUPS);
    let d = ofctl::parse_group("group_id=5", GroupModCommand::Delete, &no_port_names).unwrap();
    assert_eq!(d.group.id, 5);
    for bad in [
        "group_id=1,bucket=output:1",                              // no type
        "type=all,bucket=output:1",                                // no id
        "group_id=1,type=fancy",                                   // unknown type
        "group_id=1,type=all,priority=3",                          // unknown keyword
        "group_id=1,type=all,bucket=bucket_id:1,actions=output:1", // OpenFlow 1.5
        "group_id=1,type=all,bucket=actions=goto_table:1",         // not an action
        "group_id=1,type=all,bucket=actions=output:nowhere",
    ] {
        assert!(
            ofctl::parse_group(bad, GroupModCommand::Add, &no_port_names).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn meters_parse_and_print_exactly_as_given() {
    let m = ofctl::parse_meter(
        "meter=1,pktps,burst,stats,bands=type=drop,rate=100,burst_size=10",
        MeterModCommand::Add,
    )
    .unwrap()
    .meter;
    assert_eq!(m.id, 1);
    assert_eq!(
        m.flags,
        MeterFlags::PKTPS | MeterFlags::BURST | MeterFlags::STATS
    );
    assert_eq!(m.bands[0].band_type, BandType::Drop);
    assert_eq!((m.bands[0].rate, m.bands[0].burst_size), (100, 10));
    let cases = [
        "meter=1,pktps,burst,stats,bands=type=drop,rate=100,burst_size=10",
        "meter=2,kbps,bands=type=drop,rate=1000",
        "meter=3,kbps,burst,bands=type=dscp_remark,rate=500,burst_size=50,prec_level=1,type=drop,rate=2000,burst_size=100",
        "meter=4,bands=",
    ];
    for text in cases {
        let m = ofctl::parse_meter(text, MeterModCommand::Add)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .meter;
        assert_eq!(ofctl::format_meter(&m), text);
    }
    // dump-meters' own layout (spaces and a line break) reads too.
    let dumped = "meter=1 pktps burst stats bands=\ntype=drop rate=100 burst_size=10";
    let m2 = ofctl::parse_meter(dumped, MeterModCommand::Add)
        .unwrap()
        .meter;
    assert_eq!(m2, m);
    let d = ofctl::parse_meter("", MeterModCommand::Delete).unwrap();
    assert_eq!(d.meter.id, ALL_METERS);
    let d = ofctl::parse_meter("meter=7", MeterModCommand::Delete).unwrap();
    assert_eq!(d.meter.id, 7);
    for bad in [
        "pktps,bands=type=drop,rate=1",                // no meter
        "meter=1,pktps",                               // no bands
        "meter=1,pktps,bands=rate=1",                  // band without type
        "meter=1,pktps,bands=type=police,rate=1",      // unknown band type
        "meter=1,fast,bands=type=drop,rate=1",         // unknown keyword
        "meter=1,bands=type=drop,rate=1,prec_level=1", // prec_level on drop
    ] {
        assert!(
            ofctl::parse_meter(bad, MeterModCommand::Add).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn files_hold_one_per_line_with_comments() {
    let groups = "# saved groups\n\
                  group_id=2,type=all,bucket=output:1\n\
                  \n\
                  group_id=1,type=indirect,bucket=group:2  # chains\n";
    let g = ofctl::parse_groups_file(groups, &no_port_names).unwrap();
    assert_eq!(g.len(), 2);
    assert!(g.iter().all(|m| m.command == GroupModCommand::Add));
    assert_eq!(g[1].group.buckets[0].actions, vec![Action::Group(2)]);
    let e =
        ofctl::parse_groups_file("group_id=1,type=all\ngroup_id=2\n", &no_port_names).unwrap_err();
    assert_eq!(e.line, 2);
    let m = ofctl::parse_meters_file("meter=1,kbps,bands=type=drop,rate=5\n# x\n").unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].command, MeterModCommand::Add);
}
