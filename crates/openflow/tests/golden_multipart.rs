//! MULTIPART golden bytes, both directions. Requests were captured from
//! ovs-ofctl 3.1 (dump-desc, dump-flows, dump-aggregate, dump-tables,
//! dump-ports, queue-stats, dump-group-stats, dump-groups,
//! dump-group-features, meter-stats, dump-meters, meter-features,
//! dump-table-features, dump-ports-desc); replies were written from the
//! spec and checked with `ovs-ofctl ofp-print` (golden_multipart_replies.rs).

mod common;

use common::{golden, ip_match};
use vnet_openflow::msg::OFPP_ANY;
use vnet_openflow::multipart::*;
use vnet_openflow::oxm::{OxmField, OxmMatch, OxmTlv};
use vnet_openflow::port::PortStats;
use vnet_openflow::Message;

const MP_REQ_DESC: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x12, // type: MULTIPART_REQUEST
    0x00, 0x10, // length: 16
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, // multipart type: DESC
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x00, // pad
];

const MP_REQ_FLOW: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x12, // type: MULTIPART_REQUEST
    0x00, 0x48, // length: 72
    0x00, 0x00, 0x00, 0x06, // xid: 6
    0x00, 0x01, // multipart type: FLOW
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x00, // pad
    0x03, // table_id: 3
    0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x02, // out_port: 2
    0xff, 0xff, 0xff, 0xff, // out_group: ANY
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, // cookie: 5
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // cookie_mask: all ones
    0x00, 0x01, // match type: OXM
    0x00, 0x12, // match length: 18
    0x80, 0x00, 0x0a, 0x02, // OXM ETH_TYPE header
    0x08, 0x00, //   value: 0x0800
    0x80, 0x00, 0x16, 0x04, // OXM IPV4_SRC header
    0x01, 0x02, 0x03, 0x04, //   value: 1.2.3.4
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // match padding
];

const MP_REQ_AGGREGATE: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x12, // type: MULTIPART_REQUEST
    0x00, 0x40, // length: 64
    0x00, 0x00, 0x00, 0x06, // xid: 6
    0x00, 0x02, // multipart type: AGGREGATE
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x00, // pad
    0xff, // table_id: ALL
    0x00, 0x00, 0x00, // pad
    0xff, 0xff, 0xff, 0xff, // out_port: ANY
    0xff, 0xff, 0xff, 0xff, // out_group: ANY
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie_mask: 0
    0x00, 0x01, // match type: OXM
    0x00, 0x0a, // match length: 10
    0x80, 0x00, 0x0a, 0x02, // OXM ETH_TYPE header
    0x08, 0x00, //   value: 0x0800
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // match padding
];

const MP_REQ_TABLE: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x12, // type: MULTIPART_REQUEST
    0x00, 0x10, // length: 16
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x03, // multipart type: TABLE
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x00, // pad
];

const MP_REQ_PORT_STATS: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x12, // type: MULTIPART_REQUEST
    0x00, 0x18, // length: 24
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x04, // multipart type: PORT_STATS
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x00, // pad
    0xff, 0xff, 0xff, 0xff, // port_no: ANY
    0x00, 0x00, 0x00, 0x00, // pad
];

const MP_REQ_QUEUE: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x12, // type: MULTIPART_REQUEST
    0x00, 0x18, // length: 24
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x05, // multipart type: QUEUE
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x00, // pad
    0xff, 0xff, 0xff, 0xff, // port_no: ANY
    0xff, 0xff, 0xff, 0xff, // queue_id: ALL
];

const MP_REQ_GROUP: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x12, // type: MULTIPART_REQUEST
    0x00, 0x18, // length: 24
    0x00, 0x00, 0x00, 0x06, // xid: 6
    0x00, 0x06, // multipart type: GROUP
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x00, // pad
    0xff, 0xff, 0xff, 0xfc, // group_id: ALL
    0x00, 0x00, 0x00, 0x00, // pad
];

const MP_REQ_GROUP_DESC: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x12, // type: MULTIPART_REQUEST
    0x00, 0x10, // length: 16
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x07, // multipart type: GROUP_DESC
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x00, // pad
];

const MP_REQ_GROUP_FEATURES: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x12, // type: MULTIPART_REQUEST
    0x00, 0x10, // length: 16
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x08, // multipart type: GROUP_FEATURES
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x00, // pad
];

const MP_REQ_METER: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x12, // type: MULTIPART_REQUEST
    0x00, 0x18, // length: 24
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x09, // multipart type: METER
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x02, // meter_id: 2
    0x00, 0x00, 0x00, 0x00, // pad
];

const MP_REQ_METER_CONFIG: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x12, // type: MULTIPART_REQUEST
    0x00, 0x18, // length: 24
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x0a, // multipart type: METER_CONFIG
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x00, // pad
    0xff, 0xff, 0xff, 0xff, // meter_id: ALL
    0x00, 0x00, 0x00, 0x00, // pad
];

const MP_REQ_METER_FEATURES: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x12, // type: MULTIPART_REQUEST
    0x00, 0x10, // length: 16
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x0b, // multipart type: METER_FEATURES
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x00, // pad
];

const MP_REQ_TABLE_FEATURES: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x12, // type: MULTIPART_REQUEST
    0x00, 0x10, // length: 16
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x0c, // multipart type: TABLE_FEATURES
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x00, // pad
];

const MP_REQ_PORT_DESC: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x12, // type: MULTIPART_REQUEST
    0x00, 0x10, // length: 16
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x0d, // multipart type: PORT_DESC
    0x00, 0x00, // flags: 0
    0x00, 0x00, 0x00, 0x00, // pad
];

fn req(body: MultipartRequestBody) -> Message {
    Message::MultipartRequest(MultipartRequest { flags: 0, body })
}

#[test]
fn requests() {
    use MultipartRequestBody as B;
    golden(MP_REQ_DESC, &req(B::Desc));
    let flow = FlowStatsRequest {
        table_id: 3,
        out_port: 2,
        out_group: 0xffff_ffff,
        cookie: 5,
        cookie_mask: u64::MAX,
        r#match: OxmMatch::new(vec![
            OxmTlv::exact(OxmField::EthType, 0x0800),
            OxmTlv::exact(OxmField::Ipv4Src, 0x0102_0304),
        ]),
    };
    golden(MP_REQ_FLOW, &req(B::Flow(flow.clone())));
    let (table, sel) = flow.to_selector().unwrap();
    assert_eq!(table, 3);
    assert_eq!(sel.r#match.key.ipv4_src, 0x0102_0304);
    assert_eq!(sel.out_port.0, 2);
    let aggr = FlowStatsRequest {
        table_id: 0xff,
        out_port: OFPP_ANY,
        out_group: 0xffff_ffff,
        cookie: 0,
        cookie_mask: 0,
        r#match: ip_match(),
    };
    golden(MP_REQ_AGGREGATE, &req(B::Aggregate(aggr)));
    golden(MP_REQ_TABLE, &req(B::Table));
    golden(MP_REQ_PORT_STATS, &req(B::PortStats { port_no: OFPP_ANY }));
    golden(
        MP_REQ_QUEUE,
        &req(B::Queue {
            port_no: OFPP_ANY,
            queue_id: OFPQ_ALL,
        }),
    );
    golden(
        MP_REQ_GROUP,
        &req(B::Group {
            group_id: vnet_openflow::msg::group::OFPG_ALL,
        }),
    );
    golden(MP_REQ_GROUP_DESC, &req(B::GroupDesc));
    golden(MP_REQ_GROUP_FEATURES, &req(B::GroupFeatures));
    golden(MP_REQ_METER, &req(B::Meter { meter_id: 2 }));
    golden(
        MP_REQ_METER_CONFIG,
        &req(B::MeterConfig {
            meter_id: vnet_openflow::msg::meter::OFPM_ALL,
        }),
    );
    golden(MP_REQ_METER_FEATURES, &req(B::MeterFeatures));
    golden(MP_REQ_TABLE_FEATURES, &req(B::TableFeatures(vec![])));
    golden(MP_REQ_PORT_DESC, &req(B::PortDesc));
}

#[test]
fn long_replies_are_split_with_reply_more() {
    let ports: Vec<PortStats> = (1..=1000)
        .map(|n| PortStats {
            port_no: n,
            ..PortStats::default()
        })
        .collect();
    let reply = MultipartReply {
        flags: 0,
        body: MultipartReplyBody::PortStats(ports.clone()),
    };
    let parts = reply.encode_split(9, vnet_openflow::MAX_MESSAGE_LEN);
    assert_eq!(parts.len(), 2, "112000 bytes of stats need two messages");
    let mut back = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        assert!(p.len() <= 65535);
        let (h, m) = Message::decode(p).unwrap();
        assert_eq!(h.xid, 9);
        let Message::MultipartReply(r) = m else {
            panic!()
        };
        assert_eq!(r.flags & OFPMPF_MORE != 0, i == 0);
        let MultipartReplyBody::PortStats(l) = r.body else {
            panic!()
        };
        back.extend(l);
    }
    assert_eq!(back, ports);
    // a single-body reply is one message, the same as encode()
    let one = MultipartReply {
        flags: 0,
        body: MultipartReplyBody::Aggregate(AggregateStats::default()),
    };
    let parts = one.encode_split(3, 100);
    assert_eq!(parts, vec![Message::MultipartReply(one).encode(3).unwrap()]);
}
