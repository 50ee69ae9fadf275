//! Groups and meters between the wire and the switch model, golden bytes
//! both ways (written from the spec, checked with `ovs-ofctl ofp-print`):
//! GROUP_MOD and METER_MOD translate to the switch's group-mod and
//! meter-mod and back to the same bytes; the multipart replies the switch
//! answers with (GROUP_DESC, GROUP, GROUP_FEATURES, METER_CONFIG, METER,
//! METER_FEATURES) are built from its tables exactly; what the switch
//! lacks is refused with the spec's error.

mod common;

use std::sync::Arc;

use common::{golden, rep};
use vnet_openflow::error::*;
use vnet_openflow::msg::{GroupMod, MeterMod};
use vnet_openflow::multipart::*;
use vnet_openflow::Message;
use vnet_switch::flow::{Action, PortNo};
use vnet_switch::group::{self as g, GroupEntry};
use vnet_switch::meter::{self as m, MeterEntry};

const GROUP_MOD_SELECT: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0f, // type: GROUP_MOD
    0x00, 0x50, // length: 80
    0x00, 0x00, 0x00, 0x05, // xid: 5
    0x00, 0x00, // command: ADD
    0x01, // type: SELECT
    0x00, // pad
    0x00, 0x00, 0x00, 0x01, // group_id: 1
    0x00, 0x20, // bucket length: 32
    0x00, 0x3c, // weight: 60
    0xff, 0xff, 0xff, 0xff, // watch_port: ANY
    0xff, 0xff, 0xff, 0xff, // watch_group: ANY
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x10, // action OUTPUT, length 16
    0x00, 0x00, 0x00, 0x01, // port: 1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // max_len 0, pad
    0x00, 0x20, // bucket length: 32
    0x00, 0x28, // weight: 40
    0xff, 0xff, 0xff, 0xff, // watch_port: ANY
    0xff, 0xff, 0xff, 0xff, // watch_group: ANY
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x10, // action OUTPUT, length 16
    0x00, 0x00, 0x00, 0x02, // port: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // max_len 0, pad
];

const METER_MOD_ADD: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x1d, // type: METER_MOD
    0x00, 0x20, // length: 32
    0x00, 0x00, 0x00, 0x06, // xid: 6
    0x00, 0x00, // command: ADD
    0x00, 0x0e, // flags: PKTPS|BURST|STATS
    0x00, 0x00, 0x00, 0x01, // meter_id: 1
    0x00, 0x01, // band type: DROP
    0x00, 0x10, // band length: 16
    0x00, 0x00, 0x00, 0x64, // rate: 100
    0x00, 0x00, 0x00, 0x0a, // burst_size: 10
    0x00, 0x00, 0x00, 0x00, // pad
];

const MP_REP_GROUP_DESC: &[u8] = &[
    0x04, 0x13, 0x00, 0x58, // OpenFlow 1.3 MULTIPART_REPLY, length 88
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x07, 0x00, 0x00, // GROUP_DESC, flags 0
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x48, // entry length: 72
    0x01, 0x00, // type: SELECT, pad
    0x00, 0x00, 0x00, 0x01, // group_id: 1
    0x00, 0x20, 0x00, 0x3c, // bucket length 32, weight 60
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // watch_port, watch_group: ANY
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x01, // OUTPUT:1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
    0x00, 0x20, 0x00, 0x28, // bucket length 32, weight 40
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // watch_port, watch_group: ANY
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x02, // OUTPUT:2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
];

const MP_REP_GROUP: &[u8] = &[
    0x04, 0x13, 0x00, 0x58, // OpenFlow 1.3 MULTIPART_REPLY, length 88
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x06, 0x00, 0x00, // GROUP, flags 0
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x48, 0x00, 0x00, // entry length 72, pad
    0x00, 0x00, 0x00, 0x01, // group_id: 1
    0x00, 0x00, 0x00, 0x02, // ref_count: 2
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, // packet_count: 3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2c, // byte_count: 300
    0x00, 0x00, 0x00, 0x02, // duration_sec: 2
    0x1d, 0xcd, 0x65, 0x00, // duration_nsec: 500000000
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // bucket 0 packets: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc8, // bucket 0 bytes: 200
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // bucket 1 packets: 1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, // bucket 1 bytes: 100
];

const MP_REP_GROUP_FEATURES: &[u8] = &[
    0x04, 0x13, 0x00, 0x38, // OpenFlow 1.3 MULTIPART_REPLY, length 56
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x08, 0x00, 0x00, // GROUP_FEATURES, flags 0
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x0f, // types: ALL|SELECT|INDIRECT|FF
    0x00, 0x00, 0x00, 0x07, // capabilities: SELECT_WEIGHT|SELECT_LIVENESS|CHAINING
    0x00, 0x01, 0x00, 0x00, // max_groups[ALL]: 65536
    0x00, 0x01, 0x00, 0x00, // max_groups[SELECT]
    0x00, 0x01, 0x00, 0x00, // max_groups[INDIRECT]
    0x00, 0x01, 0x00, 0x00, // max_groups[FF]
    // actions: every OFPAT_* but SET_QUEUE (no port has queues): OUTPUT,
    // COPY_TTL_OUT/IN, SET/DEC_MPLS_TTL, PUSH/POP_VLAN, PUSH/POP_MPLS,
    // GROUP, SET/DEC_NW_TTL, SET_FIELD, PUSH/POP_PBB
    0x0f, 0xdf, 0x98, 0x01, //
    0x0f, 0xdf, 0x98, 0x01, //
    0x0f, 0xdf, 0x98, 0x01, //
    0x0f, 0xdf, 0x98, 0x01, //
];

const MP_REP_METER_CONFIG: &[u8] = &[
    0x04, 0x13, 0x00, 0x28, // OpenFlow 1.3 MULTIPART_REPLY, length 40
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x0a, 0x00, 0x00, // METER_CONFIG, flags 0
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x18, // entry length: 24
    0x00, 0x0a, // flags: PKTPS|STATS
    0x00, 0x00, 0x00, 0x01, // meter_id: 1
    0x00, 0x01, 0x00, 0x10, // band DROP, length 16
    0x00, 0x00, 0x00, 0x64, // rate: 100
    0x00, 0x00, 0x00, 0x00, // burst_size: 0 (as given)
    0x00, 0x00, 0x00, 0x00, // pad
];

const MP_REP_METER: &[u8] = &[
    0x04, 0x13, 0x00, 0x48, // OpenFlow 1.3 MULTIPART_REPLY, length 72
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x09, 0x00, 0x00, // METER, flags 0
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x01, // meter_id: 1
    0x00, 0x38, // length: 56
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, 0x00, 0x01, // flow_count: 1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // packet_in_count: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x78, // byte_in_count: 120
    0x00, 0x00, 0x00, 0x01, // duration_sec: 1
    0x00, 0x00, 0x00, 0x00, // duration_nsec: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // band 0 packets: 1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3c, // band 0 bytes: 60
];

const MP_REP_METER_FEATURES: &[u8] = &[
    0x04, 0x13, 0x00, 0x20, // OpenFlow 1.3 MULTIPART_REPLY, length 32
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x0b, 0x00, 0x00, // METER_FEATURES, flags 0
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x01, 0x00, 0x00, // max_meter: 65536
    0x00, 0x00, 0x00, 0x06, // band_types: DROP|DSCP_REMARK
    0x00, 0x00, 0x00, 0x0f, // capabilities: KBPS|PKTPS|BURST|STATS
    0x08, 0x00, 0x00, 0x00, // max_bands 8, max_color 0, pad
];

fn select_group() -> g::Group {
    g::Group {
        id: 1,
        group_type: g::GroupType::Select,
        buckets: vec![
            g::Bucket {
                weight: 60,
                ..g::Bucket::new(vec![Action::Output(PortNo(1))])
            },
            g::Bucket {
                weight: 40,
                ..g::Bucket::new(vec![Action::Output(PortNo(2))])
            },
        ],
    }
}

#[test]
fn group_mod_translates_both_ways() {
    let Message::GroupMod(gm) = Message::decode(GROUP_MOD_SELECT).unwrap().1 else {
        panic!("not a GROUP_MOD");
    };
    let sw = gm.to_switch().unwrap();
    assert_eq!(sw.command, g::GroupModCommand::Add);
    assert_eq!(sw.group, select_group());
    golden(
        GROUP_MOD_SELECT,
        &Message::GroupMod(GroupMod::from_switch(&sw)),
    );
}

#[test]
fn meter_mod_translates_both_ways() {
    let Message::MeterMod(mm) = Message::decode(METER_MOD_ADD).unwrap().1 else {
        panic!("not a METER_MOD");
    };
    let sw = mm.to_switch().unwrap();
    assert_eq!(sw.command, m::MeterModCommand::Add);
    assert_eq!(
        sw.meter,
        m::Meter {
            id: 1,
            flags: m::MeterFlags::PKTPS | m::MeterFlags::BURST | m::MeterFlags::STATS,
            bands: vec![m::Band {
                band_type: m::BandType::Drop,
                rate: 100,
                burst_size: 10,
            }],
        }
    );
    golden(
        METER_MOD_ADD,
        &Message::MeterMod(MeterMod::from_switch(&sw)),
    );
}

#[test]
fn what_the_switch_lacks_is_refused_with_the_spec_error() {
    use vnet_openflow::msg::group::Bucket;
    use vnet_openflow::msg::{GroupModCommand, GroupType, MeterBand, MeterModCommand};
    let gm = GroupMod {
        command: GroupModCommand::Add,
        group_type: GroupType::All,
        group_id: 1,
        buckets: vec![Bucket {
            weight: 0,
            watch_port: 0xffff_ffff,
            watch_group: 0xffff_ffff,
            // IP_PROTO is not settable here.
            actions: vec![vnet_openflow::action::Action::SetField(
                vnet_openflow::oxm::OxmTlv::exact(vnet_openflow::oxm::OxmField::IpProto, 6),
            )],
        }],
    };
    assert_eq!(gm.to_switch().unwrap_err().kind, OFPBAC_BAD_SET_TYPE);
    let mm = MeterMod {
        command: MeterModCommand::Add,
        flags: 1,
        meter_id: 1,
        bands: vec![MeterBand::Experimenter {
            rate: 1,
            burst_size: 0,
            experimenter: 0x2320,
            data: vec![],
        }],
    };
    assert_eq!(mm.to_switch().unwrap_err().kind, OFPMMFC_BAD_BAND);
    // The switch's own refusals carry the spec's codes too.
    let bad = g::Group {
        id: 2,
        group_type: g::GroupType::All,
        buckets: vec![g::Bucket {
            weight: 5,
            ..g::Bucket::new(vec![])
        }],
    };
    assert_eq!(
        bad.validate().unwrap_err().ofp_error(),
        OFPGMFC_WEIGHT_UNSUPPORTED
    );
}

#[test]
fn group_replies_from_the_switch_tables() {
    use MultipartReplyBody as B;
    let group = select_group();
    golden(
        MP_REP_GROUP_DESC,
        &rep(B::GroupDesc(vec![GroupDesc::from_switch(&group)])),
    );
    let e = GroupEntry::new(group, 0, None);
    for _ in 0..3 {
        e.counter.record(100);
    }
    e.bucket_counters[0].record(100);
    e.bucket_counters[0].record(100);
    e.bucket_counters[1].record(100);
    golden(
        MP_REP_GROUP,
        &rep(B::Group(vec![GroupStats::from_switch(&e, 2, 2500)])),
    );
    golden(
        MP_REP_GROUP_FEATURES,
        &rep(B::GroupFeatures(GroupFeatures::supported())),
    );
}

#[test]
fn meter_replies_from_the_switch_tables() {
    use MultipartReplyBody as B;
    let meter = m::Meter {
        id: 1,
        flags: m::MeterFlags::PKTPS | m::MeterFlags::STATS,
        bands: vec![m::Band {
            band_type: m::BandType::Drop,
            rate: 100,
            burst_size: 0,
        }],
    };
    golden(
        MP_REP_METER_CONFIG,
        &rep(B::MeterConfig(vec![MeterConfig::from_switch(&meter)])),
    );
    // Two 60-byte packets in the same millisecond: the second exceeds a
    // 1-packet burst at 1 packet/s.
    let tight = m::Meter {
        flags: m::MeterFlags::PKTPS | m::MeterFlags::BURST,
        bands: vec![m::Band {
            band_type: m::BandType::Drop,
            rate: 1,
            burst_size: 1,
        }],
        ..meter
    };
    let e = Arc::new(MeterEntry::new(tight, 1000, None));
    assert_eq!(e.run(1000, 60), m::MeterVerdict::Pass);
    assert_eq!(e.run(1000, 60), m::MeterVerdict::Drop);
    golden(
        MP_REP_METER,
        &rep(B::Meter(vec![MeterStats::from_switch(&e, 1, 2000)])),
    );
    golden(
        MP_REP_METER_FEATURES,
        &rep(B::MeterFeatures(MeterFeatures::supported())),
    );
}
