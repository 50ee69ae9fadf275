//! ovs-ofctl syntax: every keyword and action, canonical printing checked
//! against what ovs-ofctl 3.1 itself prints (`ovs-ofctl -O OpenFlow13
//! parse-flow`, recorded below), errors with their positions, flows files.

use vnet_switch::flow::*;
use vnet_switch::ofctl::*;
use vnet_wire::FlowKey;

fn ports(n: &str) -> Option<u32> {
    match n {
        "p1" => Some(1),
        "eth0" => Some(5),
        "my port" => Some(9),
        _ => None,
    }
}

fn labels(p: u32) -> Option<String> {
    match p {
        1 => Some("p1".into()),
        9 => Some("my port".into()),
        _ => None,
    }
}

fn parse(s: &str) -> Flow {
    parse_flow(s, &ports).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn err(s: &str) -> ParseError {
    parse_flow(s, &ports).expect_err(s)
}

/// The match and actions, as `ovs-ofctl parse-flow` prints them.
fn body(f: &Flow) -> String {
    let m = format_match_with_priority(&f.r#match, f.priority, &no_port_labels);
    let a = format_instructions(&f.instructions, &no_port_labels);
    if m.is_empty() {
        format!("actions={a}")
    } else {
        format!("{m} actions={a}")
    }
}

/// (input, what ovs-ofctl 3.1 prints for it), recorded with
/// `ovs-ofctl -O OpenFlow13 parse-flow INPUT` (cookie, table, timeouts and
/// flags, which it prints elsewhere, left out).
const OVS_GOLDEN: &[(&str, &str)] = &[
    ("priority=100,ip,nw_dst=10.0.0.0/24,actions=output:2", "priority=100,ip,nw_dst=10.0.0.0/24 actions=output:2"),
    ("actions=mod_vlan_vid:100,output:1", "actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:1"),
    ("dl_vlan=5,actions=mod_vlan_vid:100,mod_vlan_pcp:3,output:1", "dl_vlan=5 actions=set_field:4196->vlan_vid,set_field:3->vlan_pcp,output:1"),
    ("actions=mod_vlan_pcp:3", "actions=push_vlan:0x8100,set_field:3->vlan_pcp"),
    ("ip,actions=mod_nw_tos:16,mod_nw_src:1.2.3.4,mod_dl_src:00:11:22:33:44:55,dec_ttl,mod_nw_ttl:5", "ip actions=set_field:4->ip_dscp,set_field:1.2.3.4->ip_src,set_field:00:11:22:33:44:55->eth_src,dec_ttl,mod_nw_ttl:5"),
    ("tcp,actions=mod_tp_src:80,mod_tp_dst:90", "tcp actions=set_field:80->tcp_src,set_field:90->tcp_dst"),
    ("priority=0,actions=drop", "priority=0 actions=drop"),
    ("priority=32768,actions=drop", "actions=drop"),
    ("metadata=0/0xff,actions=write_metadata:0x1/0xff,goto_table:3", "metadata=0/0xff actions=write_metadata:0x1/0xff,goto_table:3"),
    ("dl_vlan=3,actions=strip_vlan", "dl_vlan=3 actions=pop_vlan"),
    ("in_port=LOCAL,dl_src=00:11:22:33:44:55/ff:ff:ff:00:00:00,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,eth_type=0x88cc,actions=output:1", "in_port=LOCAL,dl_src=00:11:22:00:00:00/ff:ff:ff:00:00:00,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,dl_type=0x88cc actions=output:1"),
    ("dl_vlan=0xffff,actions=drop", "vlan_tci=0x0000/0x1fff actions=drop"),
    ("dl_vlan_pcp=3,actions=drop", "dl_vlan_pcp=3 actions=drop"),
    ("vlan_tci=0x1000/0x1000,actions=drop", "vlan_tci=0x1000/0x1000 actions=drop"),
    ("vlan_tci=0x1005,actions=drop", "dl_vlan=5,dl_vlan_pcp=0 actions=drop"),
    ("vlan_vid=0x1005,actions=drop", "dl_vlan=5 actions=drop"),
    ("vlan_vid=5,actions=drop", "vlan_tci=0x0005/0x1fff actions=drop"),
    ("arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/255.0.255.0,arp_sha=00:11:22:33:44:55,arp_tha=ff:ff:ff:ff:ff:ff,actions=drop", "arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/255.0.255.0,arp_op=1,arp_sha=00:11:22:33:44:55,arp_tha=ff:ff:ff:ff:ff:ff actions=drop"),
    ("ipv6,ipv6_src=2001:db8::/32,ipv6_dst=::1,ipv6_label=0x12345,actions=drop", "ipv6,ipv6_src=2001:db8::/32,ipv6_dst=::1,ipv6_label=0x12345 actions=drop"),
    ("icmp6,icmpv6_type=135,icmpv6_code=0,nd_target=fe80::1,actions=drop", "icmp6,icmp_type=135,icmp_code=0,nd_target=fe80::1 actions=drop"),
    ("icmp,icmp_type=8,icmp_code=0,nw_tos=16,ip_ecn=1,nw_ttl=64,actions=drop", "icmp,nw_tos=16,nw_ecn=1,nw_ttl=64,icmp_type=8,icmp_code=0 actions=drop"),
    ("ip,ip_dscp=4,actions=drop", "ip,nw_tos=16 actions=drop"),
    ("tcp6,tp_src=0x400/0xfc00,tcp_dst=22,tcp_flags=+syn-ack,actions=drop", "tcp6,tp_src=0x400/0xfc00,tp_dst=22,tcp_flags=+syn-ack actions=drop"),
    ("udp,udp_src=53,actions=drop", "udp,tp_src=53 actions=drop"),
    ("sctp,sctp_dst=5,actions=drop", "sctp,tp_dst=5 actions=drop"),
    ("ip,nw_proto=47,nw_frag=later,actions=drop", "ip,nw_proto=47,nw_frag=later actions=drop"),
    ("ip,nw_src=10.0.0.1/255.0.255.0,actions=drop", "ip,nw_src=10.0.0.0/255.0.255.0 actions=drop"),
    ("actions=push_vlan:0x88a8,set_field:4097->vlan_vid", "actions=push_vlan:0x88a8,set_field:4097->vlan_vid"),
    ("actions=normal,flood,all,in_port,local,controller,controller:100,output:3,3,output:LOCAL,output:in_port,set_queue:3,group:5", "actions=NORMAL,FLOOD,ALL,IN_PORT,LOCAL,CONTROLLER:65535,CONTROLLER:100,output:3,output:3,LOCAL,IN_PORT,set_queue:3,group:5"),
    ("ipv6,actions=set_field:2001:db8::1->ipv6_src,set_field:0x12->ipv6_label", "ipv6 actions=set_field:2001:db8::1->ipv6_src,set_field:0x12->ipv6_label"),
    ("actions=set_field:00:11:22:33:44:55->dl_dst,set_field:00:11:22:33:44:56->eth_src", "actions=set_field:00:11:22:33:44:55->eth_dst,set_field:00:11:22:33:44:56->eth_src"),
    ("actions=write_actions(output:1,output:2)", "actions=write_actions(output:1,output:2)"),
    ("actions=output:1,clear_actions", "actions=output:1,clear_actions"),
    ("reset_counts,no_packet_counts,no_byte_counts,send_flow_rem,actions=drop", "actions=drop"),
    ("table=1,actions=meter:2,output:1,clear_actions,write_actions(set_queue:1,group:2),write_metadata:0/0xff,goto_table:4", "actions=meter:2,output:1,clear_actions,write_actions(set_queue:1,group:2),write_metadata:0/0xff,goto_table:4"),
    ("actions=", "actions=drop"),
    ("actions=controller(max_len=20)", "actions=CONTROLLER:20"),
    ("in_port=LoCaL,actions=NORMAL,Output:1", "in_port=LOCAL actions=NORMAL,output:1"),
    ("ip,nw_src=10.0.0.0/8,nw_src=11.0.0.0/8,actions=drop", "ip,nw_src=11.0.0.0/8 actions=drop"),
    ("vlan_tci=0x1005/0x0fff,actions=drop", "vlan_tci=0x0005/0x0fff actions=drop"),
    ("vlan_tci=0x3000/0xf000,actions=drop", "dl_vlan_pcp=1 actions=drop"),
    ("vlan_tci=0x0000,actions=drop", "vlan_tci=0x0000/0x1fff actions=drop"),
    ("dl_vlan=5,dl_vlan_pcp=2,actions=drop", "dl_vlan=5,dl_vlan_pcp=2 actions=drop"),
    ("vlan_tci=0x1005/0x1fff,actions=drop", "dl_vlan=5 actions=drop"),
    ("tcp,tcp_flags=syn|ack,actions=drop", "tcp,tcp_flags=syn|ack actions=drop"),
    ("tcp,tcp_flags=0x12/0x12,actions=drop", "tcp,tcp_flags=+syn+ack actions=drop"),
    ("tcp,tcp_flags=0x12,actions=drop", "tcp,tcp_flags=syn|ack actions=drop"),
    ("tcp,tcp_flags=+syn,actions=drop", "tcp,tcp_flags=+syn actions=drop"),
    ("metadata=0,actions=write_metadata:0", "metadata=0 actions=write_metadata:0"),
    ("ipv6,ipv6_src=2001:db8::/ffff:ffff::ff,actions=drop", "ipv6,ipv6_src=2001:db8::/ffff:ffff::ff actions=drop"),
    ("ipv6,ipv6_label=0x1/0xf,actions=drop", "ipv6,ipv6_label=0x00001/0x0000f actions=drop"),
    ("icmp6,icmp_type=135,actions=set_field:::1->nd_target,set_field:00:00:00:00:00:01->nd_sll", "icmp6,icmp_type=135 actions=set_field:::1->nd_target,set_field:00:00:00:00:00:01->nd_sll"),
    ("arp,actions=set_field:2->arp_op,set_field:1.1.1.1->arp_spa,set_field:00:00:00:00:00:01->arp_tha", "arp actions=set_field:2->arp_op,set_field:1.1.1.1->arp_spa,set_field:00:00:00:00:00:01->arp_tha"),
    ("in_port=1,actions=in_port", "in_port=1 actions=IN_PORT"),
    ("actions=output:0", "actions=output:0"),
    ("actions=output:4294967294", "actions=LOCAL"),
    ("actions=controller:0", "actions=CONTROLLER:0"),
    ("actions=set_queue:4294967295", "actions=set_queue:4294967295"),
    ("priority=010,actions=drop", "priority=8 actions=drop"),
    ("  priority=1   actions=output:1, output:2 ", "priority=1 actions=output:1,output:2"),
    ("priority=1,action=output:1", "priority=1 actions=output:1"),
    ("ip,nw_dst=10.0.0.1/0,actions=drop", "ip actions=drop"),
    ("ip,nw_dst=10.0.0.1/32,actions=drop", "ip,nw_dst=10.0.0.1 actions=drop"),
    ("dl_dst=00:00:00:00:00:00/00:00:00:00:00:00,actions=drop", "actions=drop"),
    ("nw_src=1.2.3.4,arp,actions=drop", "arp,arp_spa=1.2.3.4 actions=drop"),
    ("tcp,ip,actions=drop", "tcp actions=drop"),
    ("ip,dl_type=0x86dd,actions=drop", "ipv6 actions=drop"),
    ("cookie=0x10,idle_timeout=10,hard_timeout=20,send_flow_rem,check_overlap,table=3,actions=drop", "actions=drop"),
    ("ip,nw_frag=no,actions=drop", "ip,nw_frag=no actions=drop"),
    ("ip,nw_frag=yes,actions=drop", "ip,nw_frag=yes actions=drop"),
    ("ip,nw_frag=first,actions=drop", "ip,nw_frag=first actions=drop"),
    ("ip,nw_frag=not_later,actions=drop", "ip,nw_frag=not_later actions=drop"),
    ("mpls,mpls_label=5,mpls_tc=3,mpls_bos=1,mpls_ttl=64,actions=drop", "mpls,mpls_label=5,mpls_tc=3,mpls_ttl=64,mpls_bos=1 actions=drop"),
    ("tun_id=0x5/0xff,actions=drop", "tun_id=0x5/0xff actions=drop"),
    ("tun_id=0,actions=drop", "tun_id=0 actions=drop"),
    ("dl_type=0x88cc,dl_src=00:00:00:00:00:01,actions=drop", "dl_src=00:00:00:00:00:01,dl_type=0x88cc actions=drop"),
    ("rarp,arp_spa=1.2.3.4,actions=drop", "rarp,arp_spa=1.2.3.4 actions=drop"),
    ("ip,nw_proto=2,actions=drop", "ip,nw_proto=2 actions=drop"),
    ("tcp,tcp_flags=0,actions=drop", "tcp,tcp_flags=0 actions=drop"),
    ("tcp,tcp_flags=fin|syn|rst|psh|ack|urg|ece|cwr|ns,actions=drop", "tcp,tcp_flags=fin|syn|rst|psh|ack|urg|ece|cwr|ns actions=drop"),
    ("tcp,tcp_flags=+ns-cwr,actions=drop", "tcp,tcp_flags=-cwr+ns actions=drop"),
    ("icmp6,icmp_type=136,icmp_code=0,nd_tll=00:00:00:00:00:02,actions=drop", "icmp6,icmp_type=136,icmp_code=0,nd_tll=00:00:00:00:00:02 actions=drop"),
    ("ipv6,nw_tos=4,nw_ttl=1,actions=dec_ttl", "ipv6,nw_tos=4,nw_ttl=1 actions=dec_ttl"),
    ("actions=push_vlan:0x8100,mod_vlan_vid:5,output:1", "actions=push_vlan:0x8100,set_field:4101->vlan_vid,output:1"),
];

#[test]
fn prints_what_ovs_ofctl_prints() {
    for (input, expected) in OVS_GOLDEN {
        let f = parse(input);
        assert_eq!(&body(&f), expected, "input: {input}");
        assert_eq!(
            parse_flow(&format_flow_spec(&f, &no_port_labels), &ports),
            Ok(f)
        );
    }
}

#[test]
fn set_field_nw_tos_is_ip_dscp_in_openflow_13() {
    // ovs-ofctl keeps `set_field:16->nw_tos` as an NXM extension; in
    // OpenFlow 1.3 proper it is the DSCP field.
    let f = parse("ip,actions=set_field:16->nw_tos");
    assert_eq!(body(&f), "ip actions=set_field:4->ip_dscp");
}

#[test]
fn dump_flows_line_matches_ovs_ofctl() {
    // As `ovs-ofctl ofp-print` prints the equivalent OFPST_FLOW reply.
    let mut f = parse("priority=100,ip,nw_dst=10.0.0.0/24,idle_timeout=10,send_flow_rem,check_overlap,actions=output:2,controller");
    f.cookie = 0;
    let stats = FlowStats::new(5_000);
    stats.record(3, 180, 6_000);
    assert_eq!(
        format_flow(&f, &stats, 6_234, &no_port_labels),
        " cookie=0x0, duration=1.234s, table=0, n_packets=3, n_bytes=180, idle_timeout=10, send_flow_rem check_overlap priority=100,ip,nw_dst=10.0.0.0/24 actions=output:2,CONTROLLER:65535"
    );
    let g = Flow {
        table_id: 3,
        cookie: 0x1234,
        ..Flow::default()
    };
    assert_eq!(
        format_flow(&g, &FlowStats::new(0), 5_000, &no_port_labels),
        " cookie=0x1234, duration=5s, table=3, n_packets=0, n_bytes=0, actions=drop"
    );
    let h = Flow {
        priority: 0,
        ..Flow::default()
    };
    assert_eq!(
        format_flow_spec(&h, &no_port_labels),
        "priority=0 actions=drop"
    );
    assert_eq!(
        format_flow_spec(&g, &no_port_labels),
        "cookie=0x1234, table=3, actions=drop"
    );
}

#[test]
fn dump_flows_output_parses_back() {
    let line = " cookie=0x5, duration=12.5s, table=2, n_packets=7, n_bytes=420, idle_age=3, hard_timeout=30, priority=7,tcp,tp_dst=80 actions=output:1";
    let f = parse(line);
    assert_eq!(
        (f.cookie, f.table_id, f.hard_timeout, f.priority),
        (5, 2, 30, 7)
    );
    assert_eq!(f.r#match.key.tp_dst, 80);
}

#[test]
fn port_names_both_ways() {
    let f = parse(r#"in_port=p1,actions=output:eth0,output:"my port",p1,LOCAL,output:3"#);
    assert_eq!(f.r#match.key.in_port, 1);
    assert_eq!(
        f.instructions,
        vec![Instruction::ApplyActions(vec![
            Action::Output(PortNo(5)),
            Action::Output(PortNo(9)),
            Action::Output(PortNo(1)),
            Action::Output(PortNo::LOCAL),
            Action::Output(PortNo(3)),
        ])]
    );
    let printed = format_flow_spec(&f, &labels);
    assert_eq!(
        printed,
        r#"in_port=p1 actions=output:5,output:"my port",output:p1,LOCAL,output:3"#
    );
    assert_eq!(parse(&printed), f);
    assert!(matches!(
        err("actions=output:nosuch").kind,
        ParseErrorKind::UnknownPort(_)
    ));
    assert!(err("in_port=nosuch,actions=drop")
        .to_string()
        .contains("unknown port"));
}

#[test]
fn match_fields_set_key_and_mask() {
    let m = parse("in_port=3,dl_src=00:11:22:33:44:55/ff:ff:ff:00:00:00,eth_dst=01:00:00:00:00:00,dl_type=0x0800,nw_src=10.1.2.3/16,ip_dst=192.168.0.1,nw_proto=6,ip_dscp=46,ip_ecn=2,nw_ttl=64,tp_src=0x400/0xfc00,tcp_dst=443,metadata=0x10/0xf0,actions=drop").r#match;
    let (k, mk) = (m.key, m.mask);
    assert_eq!((k.in_port, mk.in_port), (3, !0));
    assert_eq!(
        (k.dl_src, mk.dl_src),
        ([0, 0x11, 0x22, 0, 0, 0], [0xff, 0xff, 0xff, 0, 0, 0])
    );
    assert_eq!(k.dl_dst, [1, 0, 0, 0, 0, 0]);
    assert_eq!((k.ipv4_src, mk.ipv4_src), (0x0a01_0000, 0xffff_0000));
    assert_eq!((k.ipv4_dst, mk.ipv4_dst), (0xc0a8_0001, !0));
    assert_eq!(
        (k.nw_proto, k.nw_tos, mk.nw_tos, k.nw_ttl),
        (6, 46 << 2 | 2, 0xff, 64)
    );
    assert_eq!((k.tp_src, mk.tp_src, k.tp_dst), (0x400, 0xfc00, 443));
    assert_eq!((k.metadata, mk.metadata), (0x10, 0xf0));

    let v = parse("dl_vlan=10,dl_vlan_pcp=5,actions=drop").r#match;
    assert_eq!(
        (v.key.vlan_tci, v.mask.vlan_tci),
        (0x1000 | 5 << 13 | 10, 0xffff)
    );
    let none = parse("dl_vlan=0xffff,actions=drop").r#match;
    assert_eq!((none.key.vlan_tci, none.mask.vlan_tci), (0, 0x1fff));
    let tagged = parse("vlan_vid=0x1000/0x1000,actions=drop").r#match;
    assert_eq!(
        (tagged.key.vlan_tci, tagged.mask.vlan_tci),
        (0x1000, 0x1000)
    );

    let a = parse("arp,arp_op=2,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/8,arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:02/ff:ff:ff:ff:ff:00,actions=drop").r#match;
    assert_eq!(
        (
            a.key.dl_type,
            a.key.nw_proto,
            a.key.ipv4_src,
            a.mask.ipv4_dst
        ),
        (0x0806, 2, 0x0a00_0001, 0xff00_0000)
    );
    assert_eq!((a.key.arp_sha[5], a.mask.arp_tha[5]), (1, 0));

    let six =
        parse("ipv6,ipv6_src=2001:db8::/32,ipv6_dst=::1,ipv6_label=0x12345,actions=drop").r#match;
    assert_eq!(
        (six.key.ipv6_src >> 96, six.mask.ipv6_src, six.key.ipv6_dst),
        (0x2001_0db8, !0u128 << 96, 1)
    );
    assert_eq!(
        (six.key.ipv6_label, six.mask.ipv6_label),
        (0x12345, 0xfffff)
    );

    let nd = parse("icmp6,icmpv6_type=135,icmpv6_code=0,nd_target=fe80::1,nd_sll=00:00:00:00:00:09,actions=drop").r#match;
    assert_eq!(
        (
            nd.key.tp_src,
            nd.key.tp_dst,
            nd.key.nd_target & 0xff,
            nd.key.nd_sll[5]
        ),
        (135, 0, 1, 9)
    );

    let icmp = parse("icmp,icmp_type=8,icmp_code=0,actions=drop").r#match;
    assert_eq!(
        (icmp.key.nw_proto, icmp.key.tp_src, icmp.mask.tp_dst),
        (1, 8, 0xffff)
    );

    let flags = parse("tcp,tcp_flags=+syn-ack,actions=drop").r#match;
    assert_eq!((flags.key.tcp_flags, flags.mask.tcp_flags), (0x002, 0x012));
    let frag = parse("ip,nw_frag=first,actions=drop").r#match;
    assert_eq!((frag.key.nw_frag, frag.mask.nw_frag), (1, 3));
    let mpls = parse("mpls,mpls_label=5,mpls_bos=1,actions=drop").r#match;
    assert_eq!(
        (mpls.key.mpls_lse, mpls.mask.mpls_lse),
        (5 << 12 | 1 << 8, 0xffff_f100)
    );
    let tun = parse("tun_id=0x5/0xff,actions=drop").r#match;
    assert_eq!((tun.key.tunnel_id, tun.mask.tunnel_id), (5, 0xff));

    for (shorthand, dl_type, proto) in [
        ("ip", 0x0800, None),
        ("ipv6", 0x86dd, None),
        ("arp", 0x0806, None),
        ("rarp", 0x8035, None),
        ("icmp", 0x0800, Some(1)),
        ("icmp6", 0x86dd, Some(58)),
        ("tcp", 0x0800, Some(6)),
        ("tcp6", 0x86dd, Some(6)),
        ("udp", 0x0800, Some(17)),
        ("udp6", 0x86dd, Some(17)),
        ("sctp", 0x0800, Some(132)),
        ("sctp6", 0x86dd, Some(132)),
        ("mpls", 0x8847, None),
        ("mplsm", 0x8848, None),
    ] {
        let m = parse(&format!("{shorthand},actions=drop")).r#match;
        assert_eq!(m.exact_dl_type(), Some(dl_type), "{shorthand}");
        assert_eq!(m.exact_nw_proto(), proto, "{shorthand}");
        assert_eq!(format_match(&m, &no_port_labels), shorthand);
    }
}

#[test]
fn flow_keywords() {
    let f = parse("table=3,priority=7,cookie=0xabc,idle_timeout=10,hard_timeout=0x20,send_flow_rem,check_overlap,reset_counts,no_packet_counts,no_byte_counts,actions=drop");
    assert_eq!(
        (
            f.table_id,
            f.priority,
            f.cookie,
            f.idle_timeout,
            f.hard_timeout
        ),
        (3, 7, 0xabc, 10, 32)
    );
    assert_eq!(f.flags, FlowFlags(0x1f));
    assert_eq!(parse("actions=drop").priority, DEFAULT_PRIORITY);
    assert_eq!(
        parse("priority=010,actions=drop").priority,
        8,
        "leading 0 is octal, as in ovs-ofctl"
    );
}

#[test]
fn actions_and_instructions() {
    use Action::*;
    let apply = |s: &str| match parse(s).instructions.as_slice() {
        [Instruction::ApplyActions(a)] => a.clone(),
        other => panic!("{s}: {other:?}"),
    };
    assert_eq!(
        apply("actions=normal,flood,all,in_port,local,controller,controller:64,output:2,3"),
        vec![
            Output(PortNo::NORMAL),
            Output(PortNo::FLOOD),
            Output(PortNo::ALL),
            Output(PortNo::IN_PORT),
            Output(PortNo::LOCAL),
            Controller { max_len: 0xffff },
            Controller { max_len: 64 },
            Output(PortNo(2)),
            Output(PortNo(3)),
        ]
    );
    assert_eq!(
        apply("actions=output:controller"),
        vec![Controller { max_len: 0xffff }]
    );
    assert_eq!(apply("dl_vlan=1,actions=strip_vlan"), vec![PopVlan]);
    assert_eq!(apply("dl_vlan=1,actions=pop_vlan"), vec![PopVlan]);
    assert_eq!(apply("actions=push_vlan:0x88a8"), vec![PushVlan(0x88a8)]);
    assert_eq!(
        apply("actions=mod_vlan_vid:7"),
        vec![PushVlan(0x8100), SetField(Field::VlanVid(7))]
    );
    assert_eq!(
        apply("dl_vlan=1,actions=mod_vlan_vid:7"),
        vec![SetField(Field::VlanVid(7))]
    );
    assert_eq!(
        apply("dl_vlan=1,actions=mod_vlan_pcp:2"),
        vec![SetField(Field::VlanPcp(2))]
    );
    assert_eq!(
        apply("actions=mod_dl_src:00:00:00:00:00:01"),
        vec![SetField(Field::EthSrc([0, 0, 0, 0, 0, 1]))]
    );
    assert_eq!(
        apply("actions=mod_dl_dst:00:00:00:00:00:02"),
        vec![SetField(Field::EthDst([0, 0, 0, 0, 0, 2]))]
    );
    assert_eq!(
        apply("ip,actions=mod_nw_src:1.2.3.4"),
        vec![SetField(Field::Ipv4Src(0x0102_0304))]
    );
    assert_eq!(
        apply("ip,actions=mod_nw_dst:1.2.3.5"),
        vec![SetField(Field::Ipv4Dst(0x0102_0305))]
    );
    assert_eq!(
        apply("ip,actions=mod_nw_tos:184"),
        vec![SetField(Field::IpDscp(46))]
    );
    assert_eq!(
        apply("ip,actions=mod_nw_ecn:3"),
        vec![SetField(Field::IpEcn(3))]
    );
    assert_eq!(apply("ip,actions=mod_nw_ttl:9"), vec![SetNwTtl(9)]);
    assert_eq!(apply("ipv6,actions=dec_ttl"), vec![DecTtl]);
    assert_eq!(
        apply("udp,actions=mod_tp_src:1,mod_tp_dst:2"),
        vec![SetField(Field::UdpSrc(1)), SetField(Field::UdpDst(2))]
    );
    assert_eq!(
        apply("sctp6,actions=mod_tp_dst:2"),
        vec![SetField(Field::SctpDst(2))]
    );
    assert_eq!(
        apply("tcp,actions=set_field:80->tcp_dst"),
        vec![SetField(Field::TcpDst(80))]
    );
    assert_eq!(
        apply("actions=set_field:0x10->tun_id"),
        vec![SetField(Field::TunnelId(0x10))]
    );
    assert_eq!(
        apply("dl_vlan=2,actions=set_field:4097->vlan_vid"),
        vec![SetField(Field::VlanVid(1))]
    );
    assert_eq!(
        apply("actions=set_queue:4,group:9"),
        vec![SetQueue(4), Group(9)]
    );

    let f = parse("table=1,actions=meter:2,output:1,clear_actions,write_actions(set_queue:1,output:3),write_metadata:0x5/0xff,goto_table:4");
    assert_eq!(
        f.instructions,
        vec![
            Instruction::Meter(2),
            Instruction::ApplyActions(vec![Output(PortNo(1))]),
            Instruction::ClearActions,
            Instruction::WriteActions(vec![SetQueue(1), Output(PortNo(3))]),
            Instruction::WriteMetadata {
                value: 5,
                mask: 0xff
            },
            Instruction::GotoTable(4),
        ]
    );
    assert_eq!(
        parse("actions=write_metadata:7").instructions,
        vec![Instruction::WriteMetadata { value: 7, mask: !0 }]
    );
    assert!(parse("actions=drop").instructions.is_empty());
    assert!(parse("actions=").instructions.is_empty());
}

#[test]
fn errors_name_the_token_and_its_position() {
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "ip,nw_dst=10.0.0.1/33,actions=drop",
            3,
            "nw_dst=10.0.0.1/33",
            "between 0 and 32",
        ),
        (
            "priority=1,foo=1,actions=drop",
            11,
            "foo=1",
            "unknown keyword foo",
        ),
        (
            "actions=output:1,bogus",
            17,
            "bogus",
            "unknown action bogus",
        ),
        ("tcp_dst=80,actions=drop", 0, "tcp_dst=80", "requires tcp"),
        (
            "priority=5,nw_src=1.2.3.4,actions=drop",
            11,
            "nw_src=1.2.3.4",
            "requires ip or arp",
        ),
        (
            "actions=strip_vlan",
            8,
            "strip_vlan",
            "pop_vlan requires a VLAN tag",
        ),
        (
            "actions=push_vlan:0x8101",
            8,
            "push_vlan:0x8101",
            "not a valid VLAN ethertype",
        ),
        (
            "udp,actions=set_field:2->tp_dst",
            12,
            "set_field:2->tp_dst",
            "tcp_dst requires tcp",
        ),
        (
            "actions=drop,output:1",
            8,
            "drop",
            "must not be accompanied",
        ),
        (
            "table=1,actions=goto_table:1",
            16,
            "goto_table:1",
            "later table",
        ),
        (
            "actions=clear_actions,output:1",
            22,
            "output:1",
            "apply_actions must appear before clear_actions",
        ),
        (
            "actions=goto_table:1,goto_table:2",
            21,
            "goto_table:2",
            "only once",
        ),
        (
            "priority=65536,actions=drop",
            0,
            "priority=65536",
            "out of range",
        ),
        (
            "cookie=0x1/0x1,actions=drop",
            0,
            "cookie=0x1/0x1",
            "cookie mask",
        ),
        ("tcp,tp_dst=080,actions=drop", 4, "tp_dst=080", "bad syntax"),
        ("priority=5", 10, "", "must specify an action"),
        ("actions=output:ANY", 8, "output:ANY", "not allowed"),
        (
            "dl_type=0x0800/0xff00,actions=drop",
            0,
            "dl_type=0x0800/0xff00",
            "cannot be masked",
        ),
        ("ip,nw_tos=3,actions=drop", 3, "nw_tos=3", "multiple of 4"),
        (
            "vlan_tci=0x2000/0xe000,actions=drop",
            0,
            "vlan_tci=0x2000/0xe000",
            "PCP",
        ),
        ("table=255,actions=drop", 0, "table=255", "all tables"),
        (
            "actions=mod_tp_src:5",
            8,
            "mod_tp_src:5",
            "requires tcp, udp or sctp",
        ),
        ("dl_src,actions=drop", 0, "dl_src", "missing value"),
        (
            "actions=apply_actions(output:1)",
            8,
            "apply_actions(output:1)",
            "default instruction",
        ),
        (
            "ip,actions=mod_nw_src:1.2.3",
            11,
            "mod_nw_src:1.2.3",
            "IP address",
        ),
        (
            "dl_vlan=1,actions=set_field:8->vlan_pcp",
            18,
            "set_field:8->vlan_pcp",
            "out of range",
        ),
        (
            "actions=set_field:1->nosuch",
            8,
            "set_field:1->nosuch",
            "not a valid OXM field",
        ),
        (
            "icmp,tcp_src=5,actions=drop",
            5,
            "tcp_src=5",
            "requires tcp",
        ),
        (
            "arp,icmp_type=1,actions=drop",
            4,
            "icmp_type=1",
            "requires icmp",
        ),
        (
            "actions=write_actions(goto_table:3)",
            22,
            "goto_table:3",
            "not an action",
        ),
        (
            "out_port=1,actions=drop",
            0,
            "out_port=1",
            "not allowed in a add",
        ),
        (
            "ip,actions=mod_nw_tos:3",
            11,
            "mod_nw_tos:3",
            "not a valid TOS",
        ),
    ];
    for &(input, pos, token, text) in cases {
        let e = err(input);
        assert_eq!((e.pos, e.token.as_str()), (pos, token), "{input}: {e}");
        assert!(
            e.to_string().contains(text),
            "{input}: `{e}` lacks `{text}`"
        );
        assert!(e.to_string().contains(&format!("at byte {pos}")), "{e}");
    }
}

#[test]
fn modify_and_delete_requests() {
    let d = parse_flow_mod(
        "ip,nw_dst=10.0.0.0/8,out_port=p1,cookie=0x10/0xf0",
        FlowModCommand::Delete,
        &ports,
    )
    .unwrap();
    assert_eq!(d.command, FlowModCommand::Delete);
    assert_eq!(d.flow.table_id, ALL_TABLES);
    assert_eq!(
        (d.out_port, d.flow.cookie, d.cookie_mask),
        (PortNo(1), 0x10, 0xf0)
    );
    assert!(d.flow.instructions.is_empty());
    let all = parse_flow_mod("", FlowModCommand::Delete, &ports).unwrap();
    assert_eq!(all.flow.r#match, Match::catch_all());
    assert_eq!(all.selector().priority, None);
    let strict = parse_flow_mod(
        "priority=5,table=2,tcp",
        FlowModCommand::DeleteStrict,
        &ports,
    )
    .unwrap();
    assert_eq!(
        (
            strict.flow.priority,
            strict.flow.table_id,
            strict.selector().priority
        ),
        (5, 2, Some(5))
    );
    let e = parse_flow_mod("priority=5,tcp", FlowModCommand::Delete, &ports).unwrap_err();
    assert!(matches!(e.kind, ParseErrorKind::NotAllowed { .. }), "{e}");
    let e = parse_flow_mod("tcp,actions=drop", FlowModCommand::Delete, &ports).unwrap_err();
    assert!(matches!(e.kind, ParseErrorKind::NotAllowed { .. }), "{e}");
    let e = parse_flow_mod("cookie=0x1", FlowModCommand::Delete, &ports).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::CookieWithoutMask);
    let m = parse_flow_mod("tcp,actions=output:2", FlowModCommand::ModifyStrict, &ports).unwrap();
    assert_eq!(
        m.flow.instructions,
        vec![Instruction::ApplyActions(vec![Action::Output(PortNo(2))])]
    );
    assert!(parse_flow_mod("tcp", FlowModCommand::Modify, &ports).is_err());
}

#[test]
fn flows_files() {
    let text = "# a comment\n\
                \n\
                priority=10,ip actions=output:1   # trailing comment\n\
                add tcp,tp_dst=80,\\\n   actions=drop\n\
                delete_strict priority=10,ip\n\
                modify ip actions=output:2\n\
                in_port=\"a#b\",actions=drop\n";
    let names = |n: &str| (n == "a#b").then_some(4);
    let fms = parse_flows_file(text, &names).unwrap();
    let commands: Vec<_> = fms.iter().map(|f| f.command).collect();
    use FlowModCommand::*;
    assert_eq!(commands, vec![Add, Add, DeleteStrict, Modify, Add]);
    assert_eq!(fms[1].flow.r#match.key.tp_dst, 80);
    assert_eq!(fms[4].flow.r#match.key.in_port, 4);

    let e = parse_flows_file(
        "ip,actions=drop\n\n  ip,nw_dst=1.2.3.4/40,actions=drop\n",
        &ports,
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (3, 6));
    assert!(e.to_string().starts_with("line 3, column 6: "), "{e}");
    let e = parse_flows_file("tcp,\\\ntp_dst=x,actions=drop\n", &ports).unwrap_err();
    assert_eq!((e.line, e.column), (2, 1), "{e}");
    let e = parse_flows_file("add priority=1,actions=bogus\n", &ports).unwrap_err();
    assert_eq!((e.line, e.column), (1, 24), "{e}");
}

#[test]
fn canonical_printing_details() {
    let p = |s: &str| body(&parse(s));
    assert_eq!(
        p("ip,nw_dst=10.0.0.1/255.255.0.0,actions=drop"),
        "ip,nw_dst=10.0.0.0/16 actions=drop"
    );
    assert_eq!(
        p("ip,nw_dst=10.0.0.1/255.0.255.0,actions=drop"),
        "ip,nw_dst=10.0.0.0/255.0.255.0 actions=drop"
    );
    assert_eq!(
        p("ipv6,ipv6_src=2001:db8::1/64,actions=drop"),
        "ipv6,ipv6_src=2001:db8::/64 actions=drop"
    );
    assert_eq!(
        p("tcp,nw_proto=6,dl_type=0x800,actions=drop"),
        "tcp actions=drop"
    );
    assert_eq!(
        p("dl_type=0x0806,nw_proto=1,actions=drop"),
        "arp,arp_op=1 actions=drop"
    );
    assert_eq!(
        p("tcp,tcp_flags=0,actions=drop"),
        "tcp,tcp_flags=0 actions=drop"
    );
    assert_eq!(
        p("metadata=0x0/0xff,actions=drop"),
        "metadata=0/0xff actions=drop"
    );
    assert_eq!(
        p("pbb_isid=5,dl_type=0x88e7,actions=drop"),
        "dl_type=0x88e7,pbb_isid=0x5/0xffffff actions=drop"
    );
    assert_eq!(
        p("ipv6,ipv6_exthdr=0x1/0x1,actions=drop"),
        "ipv6,ipv6_exthdr=0x1/0x1 actions=drop"
    );
    assert_eq!(
        p("actions=set_queue:1,write_actions()"),
        "actions=set_queue:1,write_actions()"
    );
    let m = Match::new(
        FlowKey {
            dl_type: 0x0800,
            ipv4_src: 0x0a00_0001,
            ..FlowKey::default()
        },
        FlowKey {
            dl_type: !0,
            ipv4_src: !0,
            ..FlowKey::default()
        },
    );
    assert_eq!(format_match(&m, &no_port_labels), "ip,nw_src=10.0.0.1");
    assert_eq!(
        format_match_with_priority(&m, 0, &no_port_labels),
        "priority=0,ip,nw_src=10.0.0.1"
    );
    assert_eq!(
        format_action(&Action::Output(PortNo(1)), &labels),
        "output:p1"
    );
    assert_eq!(
        format_action(&Action::SetField(Field::Ipv6Label(0x12)), &labels),
        "set_field:0x12->ipv6_label"
    );
}
