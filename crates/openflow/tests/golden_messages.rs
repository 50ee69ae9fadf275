//! Golden bytes for every message type but FLOW_MOD (see
//! golden_flow_mod.rs) and MULTIPART (golden_multipart.rs), both
//! directions. Arrays marked "captured" were sent by ovs-ofctl 3.1; the
//! others were written from the spec and checked with `ovs-ofctl
//! ofp-print` (which decodes each of them to the values commented here).

mod common;

use common::{golden, mac};
use vnet_openflow::action::Action;
use vnet_openflow::msg::basic::*;
use vnet_openflow::msg::*;
use vnet_openflow::oxm::{OxmField, OxmMatch, OxmTlv};
use vnet_openflow::port::{PortDesc, PortMod};
use vnet_openflow::Message;
use vnet_switch::flow::FlowFlags;

const HELLO: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x00, // type: HELLO
    0x00, 0x10, // length: 16
    0x00, 0x00, 0x00, 0x01, // xid: 1
    0x00, 0x01, // element type: VERSIONBITMAP
    0x00, 0x08, // element length: 8
    0x00, 0x00, 0x00, 0x10, // bitmap: version 4 (1 << 4)
];

const ERROR: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x01, // type: ERROR
    0x00, 0x1c, // length: 28
    0x00, 0x00, 0x00, 0x06, // xid: 6
    0x00, 0x04, // type: BAD_MATCH
    0x00, 0x09, // code: BAD_PREREQ
    0x04, 0x0e, 0x00, 0x60, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, // data: the offending message's first bytes
];

const ECHO_REQUEST: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x02, // type: ECHO_REQUEST
    0x00, 0x0c, // length: 12
    0x00, 0x00, 0x00, 0x07, // xid: 7
    0x61, 0x62, 0x63, 0x64, // data: "abcd"
];

const ECHO_REPLY: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x03, // type: ECHO_REPLY
    0x00, 0x0c, // length: 12
    0x00, 0x00, 0x00, 0x07, // xid: 7
    0x61, 0x62, 0x63, 0x64, // data: "abcd"
];

const EXPERIMENTER: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x04, // type: EXPERIMENTER
    0x00, 0x14, // length: 20
    0x00, 0x00, 0x00, 0x08, // xid: 8
    0x00, 0x00, 0x23, 0x20, // experimenter: Nicira (0x2320)
    0x00, 0x00, 0x00, 0x10, // exp_type: 16
    0x01, 0x02, 0x03, 0x04, // data
];

const FEATURES_REQUEST: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x05, // type: FEATURES_REQUEST
    0x00, 0x08, // length: 8
    0x00, 0x00, 0x00, 0x02, // xid: 2
];

const FEATURES_REPLY: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x06, // type: FEATURES_REPLY
    0x00, 0x20, // length: 32
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // datapath_id: 1
    0x00, 0x00, 0x00, 0x00, // n_buffers: 0
    0xfe, // n_tables: 254
    0x00, // auxiliary_id: 0
    0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x4f, // capabilities: FLOW|TABLE|PORT|GROUP|QUEUE stats (0x4f)
    0x00, 0x00, 0x00, 0x00, // reserved
];

const GET_CONFIG_REQUEST: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x07, // type: GET_CONFIG_REQUEST
    0x00, 0x08, // length: 8
    0x00, 0x00, 0x00, 0x02, // xid: 2
];

const GET_CONFIG_REPLY: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x08, // type: GET_CONFIG_REPLY
    0x00, 0x0c, // length: 12
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, // flags: FRAG_NORMAL
    0x00, 0x80, // miss_send_len: 128
];

const SET_CONFIG: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x09, // type: SET_CONFIG
    0x00, 0x0c, // length: 12
    0x00, 0x00, 0x00, 0x03, // xid: 3
    0x00, 0x01, // flags: FRAG_DROP
    0x00, 0x80, // miss_send_len: 128
];

const PACKET_IN: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0a, // type: PACKET_IN
    0x00, 0x38, // length: 56
    0x00, 0x00, 0x00, 0x09, // xid: 9
    0xff, 0xff, 0xff, 0xff, // buffer_id: NO_BUFFER
    0x00, 0x0e, // total_len: 14
    0x00, // reason: NO_MATCH
    0x00, // table_id: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie: 0
    0x00, 0x01, // match type: OXM
    0x00, 0x0c, // match length: 12
    0x80, 0x00, 0x00, 0x04, // OXM IN_PORT header
    0x00, 0x00, 0x00, 0x01, //   value: 1
    0x00, 0x00, 0x00, 0x00, // match padding
    0x00, 0x00, // pad
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08,
    0x06, // data: an Ethernet header (broadcast, ARP)
];

const FLOW_REMOVED: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0b, // type: FLOW_REMOVED
    0x00, 0x40, // length: 64
    0x00, 0x00, 0x00, 0x0a, // xid: 10
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, // cookie: 0x1234
    0x00, 0x64, // priority: 100
    0x00, // reason: IDLE_TIMEOUT
    0x00, // table_id: 0
    0x00, 0x00, 0x00, 0x05, // duration_sec: 5
    0x1d, 0xcd, 0x65, 0x00, // duration_nsec: 500000000
    0x00, 0x0a, // idle_timeout: 10
    0x00, 0x00, // hard_timeout: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, // packet_count: 3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb4, // byte_count: 180
    0x00, 0x01, // match type: OXM
    0x00, 0x0a, // match length: 10
    0x80, 0x00, 0x0a, 0x02, // OXM ETH_TYPE header
    0x08, 0x00, //   value: 0x0800
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // match padding
];

const PORT_STATUS: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0c, // type: PORT_STATUS
    0x00, 0x50, // length: 80
    0x00, 0x00, 0x00, 0x0b, // xid: 11
    0x00, // reason: ADD
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x01, // port_no: 1
    0x00, 0x00, 0x00, 0x00, // pad
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // hw_addr: 02:00:00:00:00:01
    0x00, 0x00, // pad
    0x65, 0x74, 0x68, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, // name: "eth0"
    0x00, 0x00, 0x00, 0x00, // config: 0
    0x00, 0x00, 0x00, 0x04, // state: LIVE
    0x00, 0x00, 0x08, 0x40, // curr: 10GB_FD|COPPER
    0x00, 0x00, 0x00, 0x00, // advertised: 0
    0x00, 0x00, 0x00, 0x00, // supported: 0
    0x00, 0x00, 0x00, 0x00, // peer: 0
    0x00, 0x98, 0x96, 0x80, // curr_speed: 10000000 kbps
    0x00, 0x00, 0x00, 0x00, // max_speed: 0
];

const PACKET_OUT: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0d, // type: PACKET_OUT
    0x00, 0x52, // length: 82
    0x00, 0x00, 0x00, 0x06, // xid: 6
    0xff, 0xff, 0xff, 0xff, // buffer_id: NO_BUFFER
    0x00, 0x00, 0x00, 0x01, // in_port: 1
    0x00, 0x10, // actions_len: 16
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, // action type: OUTPUT
    0x00, 0x10, // action length: 16
    0x00, 0x00, 0x00, 0x02, // port: 2
    0x00, 0x00, // max_len: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00,
    0x01, // data: an ARP request
    0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,
];

const GROUP_MOD_SELECT: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0f, // type: GROUP_MOD
    0x00, 0x60, // length: 96
    0x00, 0x00, 0x00, 0x06, // xid: 6
    0x00, 0x00, // command: ADD
    0x01, // type: SELECT
    0x00, // pad
    0x00, 0x00, 0x00, 0x01, // group_id: 1
    0x00, 0x20, // bucket length: 32
    0x00, 0x0a, // weight: 10
    0x00, 0x00, 0x00, 0x02, // watch_port: 2
    0xff, 0xff, 0xff, 0xff, // watch_group: ANY
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, // action type: OUTPUT
    0x00, 0x10, // action length: 16
    0x00, 0x00, 0x00, 0x02, // port: 2
    0x00, 0x00, // max_len: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x30, // bucket length: 48
    0x00, 0x14, // weight: 20
    0xff, 0xff, 0xff, 0xff, // watch_port: ANY
    0xff, 0xff, 0xff, 0xff, // watch_group: ANY
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x19, // action type: SET_FIELD
    0x00, 0x10, // action length: 16
    0x80, 0x00, 0x06, 0x06, // OXM ETH_DST header
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, //   value
    0x00, 0x00, // set_field padding
    0x00, 0x00, // action type: OUTPUT
    0x00, 0x10, // action length: 16
    0x00, 0x00, 0x00, 0x03, // port: 3
    0x00, 0x00, // max_len: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
];

const GROUP_MOD_FF: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0f, // type: GROUP_MOD
    0x00, 0x30, // length: 48
    0x00, 0x00, 0x00, 0x06, // xid: 6
    0x00, 0x00, // command: ADD
    0x03, // type: FF (fast failover)
    0x00, // pad
    0x00, 0x00, 0x00, 0x02, // group_id: 2
    0x00, 0x20, // bucket length: 32
    0x00, 0x00, // weight: 0
    0x00, 0x00, 0x00, 0x01, // watch_port: 1
    0x00, 0x00, 0x00, 0x05, // watch_group: 5
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, // action type: OUTPUT
    0x00, 0x10, // action length: 16
    0x00, 0x00, 0x00, 0x01, // port: 1
    0x00, 0x00, // max_len: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
];

const GROUP_MOD_DELETE: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0f, // type: GROUP_MOD
    0x00, 0x10, // length: 16
    0x00, 0x00, 0x00, 0x06, // xid: 6
    0x00, 0x02, // command: DELETE
    0x00, // type: ALL
    0x00, // pad
    0x00, 0x00, 0x00, 0x03, // group_id: 3
];

const PORT_MOD: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x10, // type: PORT_MOD
    0x00, 0x28, // length: 40
    0x00, 0x00, 0x00, 0x0c, // xid: 12
    0x00, 0x00, 0x00, 0x01, // port_no: 1
    0x00, 0x00, 0x00, 0x00, // pad
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // hw_addr: 02:00:00:00:00:01
    0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x01, // config: PORT_DOWN
    0x00, 0x00, 0x00, 0x01, // mask: PORT_DOWN
    0x00, 0x00, 0x00, 0x00, // advertise: 0 (unchanged)
    0x00, 0x00, 0x00, 0x00, // pad
];

const TABLE_MOD: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x11, // type: TABLE_MOD
    0x00, 0x10, // length: 16
    0x00, 0x00, 0x00, 0x0d, // xid: 13
    0x01, // table_id: 1
    0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x03, // config: 3 (deprecated bits)
];

const BARRIER_REQUEST: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x14, // type: BARRIER_REQUEST
    0x00, 0x08, // length: 8
    0x00, 0x00, 0x00, 0x07, // xid: 7
];

const BARRIER_REPLY: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x15, // type: BARRIER_REPLY
    0x00, 0x08, // length: 8
    0x00, 0x00, 0x00, 0x07, // xid: 7
];

const ROLE_REQUEST: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x18, // type: ROLE_REQUEST
    0x00, 0x18, // length: 24
    0x00, 0x00, 0x00, 0x0e, // xid: 14
    0x00, 0x00, 0x00, 0x02, // role: MASTER
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, // generation_id: 5
];

const ROLE_REPLY: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x19, // type: ROLE_REPLY
    0x00, 0x18, // length: 24
    0x00, 0x00, 0x00, 0x0e, // xid: 14
    0x00, 0x00, 0x00, 0x02, // role: MASTER
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, // generation_id: 5
];

const GET_ASYNC_REQUEST: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x1a, // type: GET_ASYNC_REQUEST
    0x00, 0x08, // length: 8
    0x00, 0x00, 0x00, 0x01, // xid: 1
];

const GET_ASYNC_REPLY: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x1b, // type: GET_ASYNC_REPLY
    0x00, 0x20, // length: 32
    0x00, 0x00, 0x00, 0x01, // xid: 1
    0x00, 0x00, 0x00, 0x03, // packet_in_mask[master]: NO_MATCH|ACTION
    0x00, 0x00, 0x00, 0x00, // packet_in_mask[slave]: 0
    0x00, 0x00, 0x00, 0x07, // port_status_mask[master]: ADD|DELETE|MODIFY
    0x00, 0x00, 0x00, 0x07, // port_status_mask[slave]: ADD|DELETE|MODIFY
    0x00, 0x00, 0x00, 0x0f, // flow_removed_mask[master]: all four
    0x00, 0x00, 0x00, 0x00, // flow_removed_mask[slave]: 0
];

const SET_ASYNC: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x1c, // type: SET_ASYNC
    0x00, 0x20, // length: 32
    0x00, 0x00, 0x00, 0x0f, // xid: 15
    0x00, 0x00, 0x00, 0x03, // packet_in_mask[master]: NO_MATCH|ACTION
    0x00, 0x00, 0x00, 0x00, // packet_in_mask[slave]: 0
    0x00, 0x00, 0x00, 0x07, // port_status_mask[master]: ADD|DELETE|MODIFY
    0x00, 0x00, 0x00, 0x07, // port_status_mask[slave]: ADD|DELETE|MODIFY
    0x00, 0x00, 0x00, 0x0f, // flow_removed_mask[master]: all four
    0x00, 0x00, 0x00, 0x00, // flow_removed_mask[slave]: 0
];

const METER_MOD_DROP: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x1d, // type: METER_MOD
    0x00, 0x20, // length: 32
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, // command: ADD
    0x00, 0x0d, // flags: KBPS|BURST|STATS
    0x00, 0x00, 0x00, 0x01, // meter_id: 1
    0x00, 0x01, // band type: DROP
    0x00, 0x10, // band length: 16
    0x00, 0x00, 0x03, 0xe8, // rate: 1000
    0x00, 0x00, 0x00, 0x64, // burst_size: 100
    0x00, 0x00, 0x00, 0x00, // pad
];

const METER_MOD_DSCP: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x1d, // type: METER_MOD
    0x00, 0x20, // length: 32
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, // command: ADD
    0x00, 0x02, // flags: PKTPS
    0x00, 0x00, 0x00, 0x02, // meter_id: 2
    0x00, 0x02, // band type: DSCP_REMARK
    0x00, 0x10, // band length: 16
    0x00, 0x00, 0x00, 0x0a, // rate: 10
    0x00, 0x00, 0x00, 0x00, // burst_size: 0
    0x01, // prec_level: 1
    0x00, 0x00, 0x00, // pad
];

const METER_MOD_DELETE: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x1d, // type: METER_MOD
    0x00, 0x10, // length: 16
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x02, // command: DELETE
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x02, // meter_id: 2
];

#[test]
fn hello() {
    // captured: the version bitmap ovs-ofctl -O OpenFlow13 sends
    let h = golden(HELLO, &Message::Hello(Hello::with_versions(&[4])));
    assert_eq!(h.xid, 1);
    let Ok((_, Message::Hello(hello))) = Message::decode(HELLO) else {
        panic!()
    };
    assert_eq!(hello.versions(), Some(vec![4]));
    assert_eq!(negotiate_version(&[4], 4, &hello), Some(4));
    assert_eq!(
        negotiate_version(&[4], 6, &Hello::with_versions(&[1, 6])),
        None
    );
    // no bitmap: the lower header version, if ours
    assert_eq!(negotiate_version(&[4], 5, &Hello::default()), Some(4));
    assert_eq!(negotiate_version(&[4], 1, &Hello::default()), None);
}

#[test]
fn error() {
    let e = ErrorMsg {
        r#type: 4,
        code: 9,
        data: ERROR[12..].to_vec(),
    };
    golden(ERROR, &Message::Error(e.clone()));
    assert_eq!(e.kind(), vnet_openflow::error::OFPBMC_BAD_PREREQ);
}

#[test]
fn echo() {
    golden(ECHO_REQUEST, &Message::EchoRequest(b"abcd".to_vec()));
    golden(ECHO_REPLY, &Message::EchoReply(b"abcd".to_vec()));
}

#[test]
fn experimenter() {
    let e = Experimenter {
        experimenter: 0x2320,
        exp_type: 16,
        data: vec![1, 2, 3, 4],
    };
    golden(EXPERIMENTER, &Message::Experimenter(e));
}

#[test]
fn features() {
    golden(FEATURES_REQUEST, &Message::FeaturesRequest); // captured
    let f = SwitchFeatures {
        datapath_id: 1,
        n_buffers: 0,
        n_tables: 254,
        auxiliary_id: 0,
        capabilities: OFPC_FLOW_STATS
            | OFPC_TABLE_STATS
            | OFPC_PORT_STATS
            | OFPC_GROUP_STATS
            | OFPC_QUEUE_STATS,
    };
    golden(FEATURES_REPLY, &Message::FeaturesReply(f));
}

#[test]
fn switch_config() {
    golden(GET_CONFIG_REQUEST, &Message::GetConfigRequest); // captured
    let c = SwitchConfig {
        flags: OFPC_FRAG_NORMAL,
        miss_send_len: 128,
    };
    golden(GET_CONFIG_REPLY, &Message::GetConfigReply(c));
    // captured: set-frags drop
    let c = SwitchConfig {
        flags: OFPC_FRAG_DROP,
        miss_send_len: 128,
    };
    golden(SET_CONFIG, &Message::SetConfig(c));
}

#[test]
fn packet_in() {
    let p = PacketIn {
        buffer_id: flow::OFP_NO_BUFFER,
        total_len: 14,
        reason: flow::OFPR_NO_MATCH,
        table_id: 0,
        cookie: 0,
        r#match: OxmMatch::packet_in(1, 0, 0),
        data: PACKET_IN[42..].to_vec(),
    };
    golden(PACKET_IN, &Message::PacketIn(p));
}

#[test]
fn flow_removed() {
    let f = FlowRemoved {
        cookie: 0x1234,
        priority: 100,
        reason: flow::OFPRR_IDLE_TIMEOUT,
        table_id: 0,
        duration_sec: 5,
        duration_nsec: 500_000_000,
        idle_timeout: 10,
        hard_timeout: 0,
        packet_count: 3,
        byte_count: 180,
        r#match: OxmMatch::new(vec![OxmTlv::exact(OxmField::EthType, 0x0800)]),
    };
    golden(FLOW_REMOVED, &Message::FlowRemoved(f));
}

fn eth0() -> PortDesc {
    use vnet_openflow::port::*;
    PortDesc {
        port_no: 1,
        hw_addr: mac("02:00:00:00:00:01"),
        name: "eth0".into(),
        config: 0,
        state: OFPPS_LIVE,
        curr: OFPPF_10GB_FD | OFPPF_COPPER,
        curr_speed: 10_000_000,
        ..PortDesc::default()
    }
}

#[test]
fn port_status() {
    let p = PortStatus {
        reason: OFPPR_ADD,
        desc: eth0(),
    };
    golden(PORT_STATUS, &Message::PortStatus(p));
}

#[test]
fn packet_out() {
    // captured: packet-out in_port=1 packet=<ARP request> actions=output:2
    let p = PacketOut {
        buffer_id: flow::OFP_NO_BUFFER,
        in_port: 1,
        actions: vec![Action::Output {
            port: 2,
            max_len: 0,
        }],
        data: PACKET_OUT[40..].to_vec(),
    };
    golden(PACKET_OUT, &Message::PacketOut(p.clone()));
    assert_eq!(
        p.actions_to_switch().unwrap(),
        vec![vnet_switch::flow::Action::Output(
            vnet_switch::flow::PortNo(2)
        )]
    );
}

#[test]
fn group_mod() {
    // captured: add-group group_id=1,type=select,
    //   bucket=weight:10,watch_port:2,actions=output:2,
    //   bucket=weight:20,actions=set_field:00:00:00:00:00:01->eth_dst,output:3
    let out = |port| Action::Output { port, max_len: 0 };
    let g = GroupMod {
        command: GroupModCommand::Add,
        group_type: GroupType::Select,
        group_id: 1,
        buckets: vec![
            Bucket {
                weight: 10,
                watch_port: 2,
                watch_group: group::OFPG_ANY,
                actions: vec![out(2)],
            },
            Bucket {
                weight: 20,
                watch_port: OFPP_ANY,
                watch_group: group::OFPG_ANY,
                actions: vec![Action::SetField(OxmTlv::exact(OxmField::EthDst, 1)), out(3)],
            },
        ],
    };
    golden(GROUP_MOD_SELECT, &Message::GroupMod(g));
    // captured: add-group group_id=2,type=ff,bucket=watch_port:1,watch_group:5,actions=output:1
    let g = GroupMod {
        command: GroupModCommand::Add,
        group_type: GroupType::FastFailover,
        group_id: 2,
        buckets: vec![Bucket {
            weight: 0,
            watch_port: 1,
            watch_group: 5,
            actions: vec![out(1)],
        }],
    };
    golden(GROUP_MOD_FF, &Message::GroupMod(g));
    // captured: del-groups group_id=3
    let g = GroupMod {
        command: GroupModCommand::Delete,
        group_type: GroupType::All,
        group_id: 3,
        buckets: vec![],
    };
    golden(GROUP_MOD_DELETE, &Message::GroupMod(g));
}

#[test]
fn port_mod_and_table_mod() {
    let p = PortMod {
        port_no: 1,
        hw_addr: mac("02:00:00:00:00:01"),
        config: vnet_openflow::port::OFPPC_PORT_DOWN,
        mask: vnet_openflow::port::OFPPC_PORT_DOWN,
        advertise: 0,
    };
    golden(PORT_MOD, &Message::PortMod(p));
    let t = TableMod {
        table_id: 1,
        config: 3,
    };
    golden(TABLE_MOD, &Message::TableMod(t));
}

#[test]
fn barrier() {
    golden(BARRIER_REQUEST, &Message::BarrierRequest); // captured
    golden(BARRIER_REPLY, &Message::BarrierReply);
}

#[test]
fn role() {
    let r = RoleMsg {
        role: ControllerRole::Master,
        generation_id: 5,
    };
    golden(ROLE_REQUEST, &Message::RoleRequest(r));
    golden(ROLE_REPLY, &Message::RoleReply(r));
}

#[test]
fn async_config() {
    golden(GET_ASYNC_REQUEST, &Message::GetAsyncRequest);
    let a = AsyncConfig {
        packet_in_mask: [0b11, 0],
        port_status_mask: [0b111, 0b111],
        flow_removed_mask: [0b1111, 0],
    };
    golden(GET_ASYNC_REPLY, &Message::GetAsyncReply(a));
    golden(SET_ASYNC, &Message::SetAsync(a));
}

#[test]
fn meter_mod() {
    use vnet_openflow::msg::meter::*;
    // captured: add-meter meter=1,kbps,burst,stats,bands=type=drop,rate=1000,burst_size=100
    let m = MeterMod {
        command: MeterModCommand::Add,
        flags: OFPMF_KBPS | OFPMF_BURST | OFPMF_STATS,
        meter_id: 1,
        bands: vec![MeterBand::Drop {
            rate: 1000,
            burst_size: 100,
        }],
    };
    golden(METER_MOD_DROP, &Message::MeterMod(m));
    // captured: add-meter meter=2,pktps,bands=type=dscp_remark,rate=10,prec_level=1
    let m = MeterMod {
        command: MeterModCommand::Add,
        flags: OFPMF_PKTPS,
        meter_id: 2,
        bands: vec![MeterBand::DscpRemark {
            rate: 10,
            burst_size: 0,
            prec_level: 1,
        }],
    };
    golden(METER_MOD_DSCP, &Message::MeterMod(m));
    // captured: del-meter meter=2
    let m = MeterMod {
        command: MeterModCommand::Delete,
        flags: 0,
        meter_id: 2,
        bands: vec![],
    };
    golden(METER_MOD_DELETE, &Message::MeterMod(m));
}

#[test]
fn flow_flags_type_is_the_switch_one() {
    // FLOW_MOD flags are the switch model's type (no translation needed).
    assert_eq!(FlowFlags::SEND_FLOW_REM.0, 1);
}
