//! Cross-check with Open vSwitch: messages this codec encodes (mostly from
//! the switch model) are decoded by `ovs-ofctl ofp-print`, an independent
//! OpenFlow implementation, and must print as expected. Skipped (with a
//! printed SKIP) when ovs-ofctl is not installed; CI installs
//! openvswitch-common.

use std::process::Command;
use std::sync::Arc;

use vnet_openflow::msg::basic::*;
use vnet_openflow::msg::{FlowMod, FlowRemoved, PacketIn};
use vnet_openflow::multipart::*;
use vnet_openflow::oxm::OxmMatch;
use vnet_openflow::port::PortDesc;
use vnet_openflow::Message;
use vnet_switch::flow::{
    self, Action, Field, Flow, FlowEntry, FlowFlags, FlowStats, Instruction, Match, PortNo,
    RemovedFlow, RemovedReason,
};
use vnet_wire::FlowKey;

/// What `ovs-ofctl ofp-print` says about `bytes`, or None when it is not
/// installed.
fn ofp_print(bytes: &[u8]) -> Option<String> {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let out = Command::new("ovs-ofctl")
        .args(["ofp-print", &hex])
        .output()
        .ok()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "ovs-ofctl failed: {text}");
    assert!(!text.contains("decode error"), "{text}");
    assert!(!text.contains("WARN"), "{text}");
    Some(text)
}

fn check(msg: &Message, expect: &[&str]) -> bool {
    let bytes = msg.encode(0x1234).unwrap();
    let Some(text) = ofp_print(&bytes) else {
        println!("SKIP: ovs-ofctl not installed (apt-get install openvswitch-common)");
        return false;
    };
    for e in expect {
        assert!(text.contains(e), "expected {e:?} in:\n{text}");
    }
    true
}

fn sample_flow() -> Flow {
    let key = FlowKey {
        in_port: 3,
        dl_type: 0x0800,
        vlan_tci: 0x100a,
        ipv4_dst: 0x0a00_0000,
        nw_proto: 6,
        tp_dst: 443,
        ..FlowKey::default()
    };
    let mask = FlowKey {
        in_port: !0,
        dl_type: !0,
        vlan_tci: 0x1fff,
        ipv4_dst: 0xff00_0000,
        nw_proto: !0,
        tp_dst: !0,
        ..FlowKey::default()
    };
    Flow {
        table_id: 2,
        priority: 300,
        r#match: Match::new(key, mask),
        instructions: vec![
            Instruction::ApplyActions(vec![
                Action::PopVlan,
                Action::SetField(Field::Ipv4Dst(0x0a00_0001)),
                Action::DecTtl,
                Action::Output(PortNo(7)),
                Action::Controller { max_len: 128 },
            ]),
            Instruction::WriteMetadata { value: 1, mask: 1 },
            Instruction::GotoTable(4),
        ],
        cookie: 0xabc,
        idle_timeout: 60,
        hard_timeout: 0,
        flags: FlowFlags::SEND_FLOW_REM,
    }
}

#[test]
fn flow_mod_from_the_switch_model() {
    let fm = FlowMod::from_switch(&flow::FlowMod::add(sample_flow())).unwrap();
    check(
        &Message::FlowMod(fm),
        &[
            "ADD table:2 priority=300,tcp,in_port=3,dl_vlan=10,nw_dst=10.0.0.0/8,tp_dst=443",
            "cookie:0xabc idle:60",
            "send_flow_rem",
            "actions=pop_vlan,set_field:10.0.0.1->ip_dst,dec_ttl,output:7,CONTROLLER:128,write_metadata:0x1/0x1,goto_table:4",
        ],
    );
}

fn entry(now_created: u64) -> Arc<FlowEntry> {
    let stats = FlowStats::new(now_created);
    stats.record(5, 500, now_created + 10);
    Arc::new(FlowEntry {
        flow: sample_flow(),
        stats: Arc::new(stats),
    })
}

#[test]
fn flow_stats_and_flow_removed() {
    let e = entry(1_000);
    let fs = FlowStatsEntry::from_switch(&e, 3_500).unwrap();
    let reply = Message::MultipartReply(MultipartReply {
        flags: 0,
        body: MultipartReplyBody::Flow(vec![fs]),
    });
    if !check(
        &reply,
        &[
            "cookie=0xabc, duration=2.500s, table=2, n_packets=5, n_bytes=500, idle_timeout=60, send_flow_rem priority=300,tcp,in_port=3,dl_vlan=10,nw_dst=10.0.0.0/8,tp_dst=443",
        ],
    ) {
        return;
    }
    let removed = RemovedFlow {
        entry: e,
        reason: RemovedReason::IdleTimeout,
    };
    let fr = FlowRemoved::from_switch(&removed, 61_000).unwrap();
    check(
        &Message::FlowRemoved(fr),
        &["reason=idle table_id=2 cookie:0xabc duration60s idle60 pkts5 bytes500"],
    );
    let aggr = AggregateStats::of([&entry(0), &entry(0)]);
    check(
        &Message::MultipartReply(MultipartReply {
            flags: 0,
            body: MultipartReplyBody::Aggregate(aggr),
        }),
        &["packet_count=10 byte_count=1000 flow_count=2"],
    );
}

#[test]
fn handshake_and_misc() {
    if !check(
        &Message::Hello(Hello::with_versions(&[4])),
        &["version bitmap: 0x04"],
    ) {
        return;
    }
    check(
        &Message::PacketIn(PacketIn {
            buffer_id: 0xffff_ffff,
            total_len: 14,
            reason: vnet_openflow::msg::flow::OFPR_ACTION,
            table_id: 3,
            cookie: 9,
            r#match: OxmMatch::packet_in(2, 0x77, 0),
            data: vec![0xff; 14],
        }),
        &["table_id=3 cookie=0x9 total_len=14 metadata=0x77,in_port=2 (via action)"],
    );
    let e = vnet_openflow::DecodeError::new(vnet_openflow::error::OFPBRC_BAD_TYPE, "x");
    check(
        &Message::Error(ErrorMsg::reply_to(&e, &[4, 2, 0, 8, 0, 0, 0, 1])),
        &["OFPBRC_BAD_TYPE"],
    );
    check(
        &Message::FeaturesReply(SwitchFeatures {
            datapath_id: 0x42,
            n_buffers: 0,
            n_tables: 254,
            auxiliary_id: 0,
            capabilities: OFPC_FLOW_STATS | OFPC_PORT_STATS,
        }),
        &[
            "dpid:0000000000000042",
            "n_tables:254",
            "FLOW_STATS PORT_STATS",
        ],
    );
    let port = PortDesc {
        port_no: 5,
        hw_addr: [2, 0, 0, 0, 0, 5],
        name: "a-very-long-port-name".into(),
        ..PortDesc::default()
    };
    check(
        &Message::PortStatus(PortStatus {
            reason: OFPPR_DELETE,
            desc: port,
        }),
        &["DEL: 5(a-very-long-por): addr:02:00:00:00:00:05"],
    );
}

#[test]
fn table_features_ovs_ofctl_accepts() {
    let reply = Message::MultipartReply(MultipartReply {
        flags: 0,
        body: MultipartReplyBody::TableFeatures(vec![
            TableFeatures::supported(0, 2, 1_000_000),
            TableFeatures::supported(1, 2, 1_000_000),
        ]),
    });
    check(
        &reply,
        &[
            "table 0 (\"table0\")",
            "max_entries=1000000",
            "next tables: 1",
            "instructions: meter apply_actions clear_actions write_actions write_metadata goto_table",
            // Actions, set-fields and every match field: see
            // table_features_live.rs, which derives them.
            "actions: output group set_field",
            "arbitrary mask: tun_id metadata eth_{src,dst} vlan_vid ip_{src,dst} ipv6_{src,dst,label} ip_frag arp_{spa,tpa,sha,tha} tcp_flags",
            "exact match or wildcard: in_port_oxm eth_type vlan_pcp mpls_{label,tc,bos,ttl}",
            "supported on Set-Field: tun_id eth_{src,dst} vlan_{vid,pcp}",
            "table 1 (\"table1\")",
        ],
    );
}
