//! Golden bytes for every OpenFlow 1.3 action but OUTPUT and GROUP (in
//! golden_flow_mod.rs and golden_groups_meters.rs) and for the MPLS and
//! PBB set-fields; the other set-fields are in golden_set_field.rs.
//!
//! Arrays marked "as ovs-ofctl 3.1 sent it" were captured from
//! `ovs-ofctl -O OpenFlow13 add-flow` talking to a fake switch, so they do
//! not come from this codec; ovs-ofctl also prints them (ofp-print) as our
//! printer does. The others — COPY_TTL_OUT/IN, PUSH_PBB, POP_PBB and the
//! PBB_ISID and MPLS_BOS set-fields, which Open vSwitch does not have —
//! are written from the spec's structure layouts (`ofp_action_header`,
//! `ofp_action_push`, `ofp_action_set_field`).
//!
//! Each is checked in every direction (see `golden_support::check`);
//! the refusals at the end carry the spec's error codes.

mod common;
mod golden_support;

use common::{refusal, translate};
use golden_support::{apply, apply_bytes, check, dl, eth_type, flow_mod, refused};
use vnet_openflow::error::*;
use vnet_switch::flow::{Action, Field, Flow, Instruction, Match, PortNo};
use vnet_switch::group::{Bucket, Group, GroupType};
use vnet_switch::pipeline::{Pipeline, PipelineError};

const IP: u16 = 0x0800;
const MPLS: u16 = 0x8847;

/// `ip,actions=push_mpls:0x8847,set_field:1000->mpls_label,set_field:5->mpls_tc,set_mpls_ttl(9),dec_mpls_ttl,output:1`, as ovs-ofctl 3.1 sent it.
const FM_PUSH_MPLS: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0e, // type: FLOW_MOD
    0x00, 0x90, // length: 144
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie_mask: 0
    0x00, // table_id: 0
    0x00, // command: ADD
    0x00, 0x00, // idle_timeout: 0
    0x00, 0x00, // hard_timeout: 0
    0x80, 0x00, // priority: 0x8000
    0xff, 0xff, 0xff, 0xff, // buffer_id: NO_BUFFER
    0xff, 0xff, 0xff, 0xff, // out_port: ANY
    0xff, 0xff, 0xff, 0xff, // out_group: ANY
    0x00, 0x00, // flags: none
    0x00, 0x00, // pad
    0x00, 0x01, // match type: OXM
    0x00, 0x0a, // match length: 10
    0x80, 0x00, 0x0a, 0x02, // OXM ETH_TYPE header
    0x08, 0x00, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // match padding
    0x00, 0x04, // instruction type: APPLY_ACTIONS
    0x00, 0x50, // instruction length: 80
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x13, // action type: PUSH_MPLS
    0x00, 0x08, // action length: 8
    0x88, 0x47, // ethertype: 0x8847
    0x00, 0x00, // pad
    0x00, 0x19, // action type: SET_FIELD
    0x00, 0x10, // action length: 16
    0x80, 0x00, 0x44, 0x04, // OXM MPLS_LABEL header
    0x00, 0x00, 0x03, 0xe8, //   value
    0x00, 0x00, 0x00, 0x00, // set_field padding
    0x00, 0x19, // action type: SET_FIELD
    0x00, 0x10, // action length: 16
    0x80, 0x00, 0x46, 0x01, // OXM MPLS_TC header
    0x05, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // set_field padding
    0x00, 0x0f, // action type: SET_MPLS_TTL
    0x00, 0x08, // action length: 8
    0x09, // mpls_ttl: 9
    0x00, 0x00, 0x00, // pad
    0x00, 0x10, // action type: DEC_MPLS_TTL
    0x00, 0x08, // action length: 8
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, // action type: OUTPUT
    0x00, 0x10, // action length: 16
    0x00, 0x00, 0x00, 0x01, // port: 1
    0x00, 0x00, // max_len: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
];

/// `mpls,actions=set_field:1->mpls_ttl,pop_mpls:0x0800,set_field:9->nw_ttl,output:2`, as ovs-ofctl 3.1 sent it.
const FM_POP_MPLS: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0e, // type: FLOW_MOD
    0x00, 0x80, // length: 128
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie_mask: 0
    0x00, // table_id: 0
    0x00, // command: ADD
    0x00, 0x00, // idle_timeout: 0
    0x00, 0x00, // hard_timeout: 0
    0x80, 0x00, // priority: 0x8000
    0xff, 0xff, 0xff, 0xff, // buffer_id: NO_BUFFER
    0xff, 0xff, 0xff, 0xff, // out_port: ANY
    0xff, 0xff, 0xff, 0xff, // out_group: ANY
    0x00, 0x00, // flags: none
    0x00, 0x00, // pad
    0x00, 0x01, // match type: OXM
    0x00, 0x0a, // match length: 10
    0x80, 0x00, 0x0a, 0x02, // OXM ETH_TYPE header
    0x88, 0x47, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // match padding
    0x00, 0x04, // instruction type: APPLY_ACTIONS
    0x00, 0x40, // instruction length: 64
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x19, // action type: SET_FIELD
    0x00, 0x10, // action length: 16
    0x00, 0x01, 0x3c, 0x01, // OXM NXM_NX_MPLS_TTL header
    0x01, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // set_field padding
    0x00, 0x14, // action type: POP_MPLS
    0x00, 0x08, // action length: 8
    0x08, 0x00, // ethertype: 0x0800
    0x00, 0x00, // pad
    0x00, 0x19, // action type: SET_FIELD
    0x00, 0x10, // action length: 16
    0x00, 0x01, 0x3a, 0x01, // OXM NXM_NX_IP_TTL header
    0x09, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // set_field padding
    0x00, 0x00, // action type: OUTPUT
    0x00, 0x10, // action length: 16
    0x00, 0x00, 0x00, 0x02, // port: 2
    0x00, 0x00, // max_len: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
];

/// `mpls,actions=push_mpls:0x8848,output:3`, as ovs-ofctl 3.1 sent it.
const FM_PUSH_MPLS_ON_MPLS: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0e, // type: FLOW_MOD
    0x00, 0x60, // length: 96
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie_mask: 0
    0x00, // table_id: 0
    0x00, // command: ADD
    0x00, 0x00, // idle_timeout: 0
    0x00, 0x00, // hard_timeout: 0
    0x80, 0x00, // priority: 0x8000
    0xff, 0xff, 0xff, 0xff, // buffer_id: NO_BUFFER
    0xff, 0xff, 0xff, 0xff, // out_port: ANY
    0xff, 0xff, 0xff, 0xff, // out_group: ANY
    0x00, 0x00, // flags: none
    0x00, 0x00, // pad
    0x00, 0x01, // match type: OXM
    0x00, 0x0a, // match length: 10
    0x80, 0x00, 0x0a, 0x02, // OXM ETH_TYPE header
    0x88, 0x47, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // match padding
    0x00, 0x04, // instruction type: APPLY_ACTIONS
    0x00, 0x20, // instruction length: 32
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x13, // action type: PUSH_MPLS
    0x00, 0x08, // action length: 8
    0x88, 0x48, // ethertype: 0x8848
    0x00, 0x00, // pad
    0x00, 0x00, // action type: OUTPUT
    0x00, 0x10, // action length: 16
    0x00, 0x00, 0x00, 0x03, // port: 3
    0x00, 0x00, // max_len: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
];

/// `mpls,actions=set_field:100->mpls_label,set_field:5->mpls_tc,set_field:9->mpls_ttl`, as ovs-ofctl 3.1 sent it.
const FM_SF_MPLS: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0e, // type: FLOW_MOD
    0x00, 0x78, // length: 120
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie_mask: 0
    0x00, // table_id: 0
    0x00, // command: ADD
    0x00, 0x00, // idle_timeout: 0
    0x00, 0x00, // hard_timeout: 0
    0x80, 0x00, // priority: 0x8000
    0xff, 0xff, 0xff, 0xff, // buffer_id: NO_BUFFER
    0xff, 0xff, 0xff, 0xff, // out_port: ANY
    0xff, 0xff, 0xff, 0xff, // out_group: ANY
    0x00, 0x00, // flags: none
    0x00, 0x00, // pad
    0x00, 0x01, // match type: OXM
    0x00, 0x0a, // match length: 10
    0x80, 0x00, 0x0a, 0x02, // OXM ETH_TYPE header
    0x88, 0x47, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // match padding
    0x00, 0x04, // instruction type: APPLY_ACTIONS
    0x00, 0x38, // instruction length: 56
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x19, // action type: SET_FIELD
    0x00, 0x10, // action length: 16
    0x80, 0x00, 0x44, 0x04, // OXM MPLS_LABEL header
    0x00, 0x00, 0x00, 0x64, //   value
    0x00, 0x00, 0x00, 0x00, // set_field padding
    0x00, 0x19, // action type: SET_FIELD
    0x00, 0x10, // action length: 16
    0x80, 0x00, 0x46, 0x01, // OXM MPLS_TC header
    0x05, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // set_field padding
    0x00, 0x19, // action type: SET_FIELD
    0x00, 0x10, // action length: 16
    0x00, 0x01, 0x3c, 0x01, // OXM NXM_NX_MPLS_TTL header
    0x09, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // set_field padding
];

/// `ip,actions=mod_nw_ttl:7,dec_ttl,output:1`, as ovs-ofctl 3.1 sent it.
const FM_NW_TTL: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0e, // type: FLOW_MOD
    0x00, 0x68, // length: 104
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie_mask: 0
    0x00, // table_id: 0
    0x00, // command: ADD
    0x00, 0x00, // idle_timeout: 0
    0x00, 0x00, // hard_timeout: 0
    0x80, 0x00, // priority: 0x8000
    0xff, 0xff, 0xff, 0xff, // buffer_id: NO_BUFFER
    0xff, 0xff, 0xff, 0xff, // out_port: ANY
    0xff, 0xff, 0xff, 0xff, // out_group: ANY
    0x00, 0x00, // flags: none
    0x00, 0x00, // pad
    0x00, 0x01, // match type: OXM
    0x00, 0x0a, // match length: 10
    0x80, 0x00, 0x0a, 0x02, // OXM ETH_TYPE header
    0x08, 0x00, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // match padding
    0x00, 0x04, // instruction type: APPLY_ACTIONS
    0x00, 0x28, // instruction length: 40
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x17, // action type: SET_NW_TTL
    0x00, 0x08, // action length: 8
    0x07, // nw_ttl: 7
    0x00, 0x00, 0x00, // pad
    0x00, 0x18, // action type: DEC_NW_TTL
    0x00, 0x08, // action length: 8
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, // action type: OUTPUT
    0x00, 0x10, // action length: 16
    0x00, 0x00, 0x00, 0x01, // port: 1
    0x00, 0x00, // max_len: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
];

/// `actions=push_vlan:0x88a8,set_field:4196->vlan_vid,push_vlan:0x8100,output:1`, as ovs-ofctl 3.1 sent it.
const FM_PUSH_VLAN: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0e, // type: FLOW_MOD
    0x00, 0x70, // length: 112
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie_mask: 0
    0x00, // table_id: 0
    0x00, // command: ADD
    0x00, 0x00, // idle_timeout: 0
    0x00, 0x00, // hard_timeout: 0
    0x80, 0x00, // priority: 0x8000
    0xff, 0xff, 0xff, 0xff, // buffer_id: NO_BUFFER
    0xff, 0xff, 0xff, 0xff, // out_port: ANY
    0xff, 0xff, 0xff, 0xff, // out_group: ANY
    0x00, 0x00, // flags: none
    0x00, 0x00, // pad
    0x00, 0x01, // match type: OXM
    0x00, 0x04, // match length: 4
    0x00, 0x00, 0x00, 0x00, // match padding
    0x00, 0x04, // instruction type: APPLY_ACTIONS
    0x00, 0x38, // instruction length: 56
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x11, // action type: PUSH_VLAN
    0x00, 0x08, // action length: 8
    0x88, 0xa8, // ethertype: 0x88a8
    0x00, 0x00, // pad
    0x00, 0x19, // action type: SET_FIELD
    0x00, 0x10, // action length: 16
    0x80, 0x00, 0x0c, 0x02, // OXM VLAN_VID header
    0x10, 0x64, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // set_field padding
    0x00, 0x11, // action type: PUSH_VLAN
    0x00, 0x08, // action length: 8
    0x81, 0x00, // ethertype: 0x8100
    0x00, 0x00, // pad
    0x00, 0x00, // action type: OUTPUT
    0x00, 0x10, // action length: 16
    0x00, 0x00, 0x00, 0x01, // port: 1
    0x00, 0x00, // max_len: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
];

/// `mpls,actions=copy_ttl_out,copy_ttl_in,output:1`: written from the spec's layouts (ovs-ofctl has no such
/// action or field to send or print).
const FM_COPY_TTL: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0e, // type: FLOW_MOD
    0x00, 0x68, // length: 104
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie_mask: 0
    0x00, // table_id: 0
    0x00, // command: ADD
    0x00, 0x00, // idle_timeout: 0
    0x00, 0x00, // hard_timeout: 0
    0x80, 0x00, // priority: 0x8000
    0xff, 0xff, 0xff, 0xff, // buffer_id: NO_BUFFER
    0xff, 0xff, 0xff, 0xff, // out_port: ANY
    0xff, 0xff, 0xff, 0xff, // out_group: ANY
    0x00, 0x00, // flags: none
    0x00, 0x00, // pad
    0x00, 0x01, // match type: OXM
    0x00, 0x0a, // match length: 10
    0x80, 0x00, 0x0a, 0x02, // OXM ETH_TYPE header
    0x88, 0x47, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // match padding
    0x00, 0x04, // instruction type: APPLY_ACTIONS
    0x00, 0x28, // instruction length: 40
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x0b, // action type: COPY_TTL_OUT
    0x00, 0x08, // action length: 8
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x0c, // action type: COPY_TTL_IN
    0x00, 0x08, // action length: 8
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, // action type: OUTPUT
    0x00, 0x10, // action length: 16
    0x00, 0x00, 0x00, 0x01, // port: 1
    0x00, 0x00, // max_len: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
];

/// `actions=push_pbb:0x88e7,set_field:0x123456->pbb_isid,output:1`: written from the spec's layouts (ovs-ofctl has no such
/// action or field to send or print).
const FM_PUSH_PBB: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0e, // type: FLOW_MOD
    0x00, 0x68, // length: 104
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie_mask: 0
    0x00, // table_id: 0
    0x00, // command: ADD
    0x00, 0x00, // idle_timeout: 0
    0x00, 0x00, // hard_timeout: 0
    0x80, 0x00, // priority: 0x8000
    0xff, 0xff, 0xff, 0xff, // buffer_id: NO_BUFFER
    0xff, 0xff, 0xff, 0xff, // out_port: ANY
    0xff, 0xff, 0xff, 0xff, // out_group: ANY
    0x00, 0x00, // flags: none
    0x00, 0x00, // pad
    0x00, 0x01, // match type: OXM
    0x00, 0x04, // match length: 4
    0x00, 0x00, 0x00, 0x00, // match padding
    0x00, 0x04, // instruction type: APPLY_ACTIONS
    0x00, 0x30, // instruction length: 48
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x1a, // action type: PUSH_PBB
    0x00, 0x08, // action length: 8
    0x88, 0xe7, // ethertype: 0x88e7
    0x00, 0x00, // pad
    0x00, 0x19, // action type: SET_FIELD
    0x00, 0x10, // action length: 16
    0x80, 0x00, 0x4a, 0x03, // OXM PBB_ISID header
    0x12, 0x34, 0x56, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, // set_field padding
    0x00, 0x00, // action type: OUTPUT
    0x00, 0x10, // action length: 16
    0x00, 0x00, 0x00, 0x01, // port: 1
    0x00, 0x00, // max_len: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
];

/// `dl_type=0x88e7,actions=pop_pbb,output:1`: written from the spec's layouts (ovs-ofctl has no such
/// action or field to send or print).
const FM_POP_PBB: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0e, // type: FLOW_MOD
    0x00, 0x60, // length: 96
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie_mask: 0
    0x00, // table_id: 0
    0x00, // command: ADD
    0x00, 0x00, // idle_timeout: 0
    0x00, 0x00, // hard_timeout: 0
    0x80, 0x00, // priority: 0x8000
    0xff, 0xff, 0xff, 0xff, // buffer_id: NO_BUFFER
    0xff, 0xff, 0xff, 0xff, // out_port: ANY
    0xff, 0xff, 0xff, 0xff, // out_group: ANY
    0x00, 0x00, // flags: none
    0x00, 0x00, // pad
    0x00, 0x01, // match type: OXM
    0x00, 0x0a, // match length: 10
    0x80, 0x00, 0x0a, 0x02, // OXM ETH_TYPE header
    0x88, 0xe7, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // match padding
    0x00, 0x04, // instruction type: APPLY_ACTIONS
    0x00, 0x20, // instruction length: 32
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x1b, // action type: POP_PBB
    0x00, 0x08, // action length: 8
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x00, // action type: OUTPUT
    0x00, 0x10, // action length: 16
    0x00, 0x00, 0x00, 0x01, // port: 1
    0x00, 0x00, // max_len: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
];

/// `mpls,actions=set_field:0->mpls_bos,output:1`: written from the spec's layouts (ovs-ofctl has no such
/// action or field to send or print).
const FM_SF_MPLS_BOS: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0e, // type: FLOW_MOD
    0x00, 0x68, // length: 104
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie_mask: 0
    0x00, // table_id: 0
    0x00, // command: ADD
    0x00, 0x00, // idle_timeout: 0
    0x00, 0x00, // hard_timeout: 0
    0x80, 0x00, // priority: 0x8000
    0xff, 0xff, 0xff, 0xff, // buffer_id: NO_BUFFER
    0xff, 0xff, 0xff, 0xff, // out_port: ANY
    0xff, 0xff, 0xff, 0xff, // out_group: ANY
    0x00, 0x00, // flags: none
    0x00, 0x00, // pad
    0x00, 0x01, // match type: OXM
    0x00, 0x0a, // match length: 10
    0x80, 0x00, 0x0a, 0x02, // OXM ETH_TYPE header
    0x88, 0x47, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // match padding
    0x00, 0x04, // instruction type: APPLY_ACTIONS
    0x00, 0x28, // instruction length: 40
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x19, // action type: SET_FIELD
    0x00, 0x10, // action length: 16
    0x80, 0x00, 0x48, 0x01, // OXM MPLS_BOS header
    0x00, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // set_field padding
    0x00, 0x00, // action type: OUTPUT
    0x00, 0x10, // action length: 16
    0x00, 0x00, 0x00, 0x01, // port: 1
    0x00, 0x00, // max_len: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
];

/// `ip,actions=write_actions(copy_ttl_out,dec_mpls_ttl,push_mpls:0x8847,output:1)`:
/// written from the spec's layouts (ovs-ofctl has no copy_ttl_out).
const FM_WRITE_ENCAP: &[u8] = &[
    0x04, // version: OpenFlow 1.3
    0x0e, // type: FLOW_MOD
    0x00, 0x70, // length: 112
    0x00, 0x00, 0x00, 0x02, // xid: 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // cookie_mask: 0
    0x00, // table_id: 0
    0x00, // command: ADD
    0x00, 0x00, // idle_timeout: 0
    0x00, 0x00, // hard_timeout: 0
    0x80, 0x00, // priority: 0x8000
    0xff, 0xff, 0xff, 0xff, // buffer_id: NO_BUFFER
    0xff, 0xff, 0xff, 0xff, // out_port: ANY
    0xff, 0xff, 0xff, 0xff, // out_group: ANY
    0x00, 0x00, // flags: none
    0x00, 0x00, // pad
    0x00, 0x01, // match type: OXM
    0x00, 0x0a, // match length: 10
    0x80, 0x00, 0x0a, 0x02, // OXM ETH_TYPE header
    0x08, 0x00, //   value
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // match padding
    0x00, 0x03, // instruction type: WRITE_ACTIONS
    0x00, 0x30, // instruction length: 48
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x0b, // action type: COPY_TTL_OUT
    0x00, 0x08, // action length: 8
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x10, // action type: DEC_MPLS_TTL
    0x00, 0x08, // action length: 8
    0x00, 0x00, 0x00, 0x00, // pad
    0x00, 0x13, // action type: PUSH_MPLS
    0x00, 0x08, // action length: 8
    0x88, 0x47, // ethertype: 0x8847
    0x00, 0x00, // pad
    0x00, 0x00, // action type: OUTPUT
    0x00, 0x10, // action length: 16
    0x00, 0x00, 0x00, 0x01, // port: 1
    0x00, 0x00, // max_len: 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pad
];

fn out(p: u32) -> Action {
    Action::Output(PortNo(p))
}

#[test]
fn push_mpls_then_mpls_fields_set_mpls_ttl_and_dec_mpls_ttl() {
    check(
        FM_PUSH_MPLS,
        "ip actions=push_mpls:0x8847,set_field:1000->mpls_label,set_field:5->mpls_tc,set_mpls_ttl(9),dec_mpls_ttl,output:1",
        &apply(
            dl(IP, None),
            vec![
                Action::PushMpls(0x8847),
                Action::SetField(Field::MplsLabel(1000)),
                Action::SetField(Field::MplsTc(5)),
                Action::SetMplsTtl(9),
                Action::DecMplsTtl,
                out(1),
            ],
        ),
        true,
    );
}

#[test]
fn pop_mpls_with_nxm_ttl_set_fields() {
    check(
        FM_POP_MPLS,
        "mpls actions=set_field:1->mpls_ttl,pop_mpls:0x0800,set_field:9->nw_ttl,output:2",
        &apply(
            dl(MPLS, None),
            vec![
                Action::SetField(Field::MplsTtl(1)),
                Action::PopMpls(IP),
                Action::SetField(Field::NwTtl(9)),
                out(2),
            ],
        ),
        true,
    );
}

#[test]
fn push_mpls_multicast_onto_mpls() {
    check(
        FM_PUSH_MPLS_ON_MPLS,
        "mpls actions=push_mpls:0x8848,output:3",
        &apply(dl(MPLS, None), vec![Action::PushMpls(0x8848), out(3)]),
        true,
    );
}

#[test]
fn set_field_mpls_label_tc_and_nxm_mpls_ttl() {
    check(
        FM_SF_MPLS,
        "mpls actions=set_field:100->mpls_label,set_field:5->mpls_tc,set_field:9->mpls_ttl",
        &apply(
            dl(MPLS, None),
            vec![
                Action::SetField(Field::MplsLabel(100)),
                Action::SetField(Field::MplsTc(5)),
                Action::SetField(Field::MplsTtl(9)),
            ],
        ),
        true,
    );
}

#[test]
fn set_field_mpls_bos() {
    check(
        FM_SF_MPLS_BOS,
        "mpls actions=set_field:0->mpls_bos,output:1",
        &apply(
            dl(MPLS, None),
            vec![Action::SetField(Field::MplsBos(0)), out(1)],
        ),
        false,
    );
}

#[test]
fn set_nw_ttl_and_dec_nw_ttl() {
    check(
        FM_NW_TTL,
        "ip actions=mod_nw_ttl:7,dec_ttl,output:1",
        &apply(
            dl(IP, None),
            vec![Action::SetNwTtl(7), Action::DecTtl, out(1)],
        ),
        true,
    );
}

#[test]
fn push_vlan_8021ad_and_8021q_stacked() {
    check(
        FM_PUSH_VLAN,
        "actions=push_vlan:0x88a8,set_field:4196->vlan_vid,push_vlan:0x8100,output:1",
        &apply(
            Match::catch_all(),
            vec![
                Action::PushVlan(0x88a8),
                Action::SetField(Field::VlanVid(100)),
                Action::PushVlan(0x8100),
                out(1),
            ],
        ),
        true,
    );
}

#[test]
fn copy_ttl_out_and_copy_ttl_in() {
    check(
        FM_COPY_TTL,
        "mpls actions=copy_ttl_out,copy_ttl_in,output:1",
        &apply(
            dl(MPLS, None),
            vec![Action::CopyTtlOut, Action::CopyTtlIn, out(1)],
        ),
        false,
    );
}

#[test]
fn push_pbb_and_set_field_pbb_isid() {
    check(
        FM_PUSH_PBB,
        "actions=push_pbb:0x88e7,set_field:0x123456->pbb_isid,output:1",
        &apply(
            Match::catch_all(),
            vec![
                Action::PushPbb(0x88e7),
                Action::SetField(Field::PbbIsid(0x12_3456)),
                out(1),
            ],
        ),
        false,
    );
}

#[test]
fn pop_pbb() {
    check(
        FM_POP_PBB,
        "dl_type=0x88e7 actions=pop_pbb,output:1",
        &apply(dl(0x88e7, None), vec![Action::PopPbb, out(1)]),
        false,
    );
}

#[test]
fn write_actions_are_checked_in_the_order_the_action_set_runs() {
    // copy_ttl_out and dec_mpls_ttl need MPLS, which the match (ip) does
    // not have, but the action set runs push_mpls first.
    let f = Flow {
        r#match: dl(IP, None),
        instructions: vec![Instruction::WriteActions(vec![
            Action::CopyTtlOut,
            Action::DecMplsTtl,
            Action::PushMpls(MPLS),
            out(1),
        ])],
        ..Flow::default()
    };
    check(
        FM_WRITE_ENCAP,
        "ip actions=write_actions(copy_ttl_out,dec_mpls_ttl,push_mpls:0x8847,output:1)",
        &f,
        false,
    );
    // Whereas a set-field of the IP header after push_mpls is
    // inconsistent, whatever the order it was written in.
    let mut g = f.clone();
    g.instructions = vec![Instruction::WriteActions(vec![
        Action::SetField(Field::Ipv4Src(1)),
        Action::PushMpls(MPLS),
    ])];
    let e = g.validate().unwrap_err();
    assert_eq!(e.ofp_error(), (2, 10), "{e}"); // MATCH_INCONSISTENT
}

#[test]
fn bad_arguments_and_inconsistent_matches_are_refused() {
    // push_mpls:0x0800, push_pbb:0x8100, push_vlan:0x0800
    assert_eq!(
        refused(&[], &[0, 19, 0, 8, 0x08, 0x00, 0, 0]),
        OFPBAC_BAD_ARGUMENT
    );
    assert_eq!(
        refused(&[], &[0, 26, 0, 8, 0x81, 0x00, 0, 0]),
        OFPBAC_BAD_ARGUMENT
    );
    assert_eq!(
        refused(&[], &[0, 17, 0, 8, 0x08, 0x00, 0, 0]),
        OFPBAC_BAD_ARGUMENT
    );
    // pop_mpls, copy_ttl_out, copy_ttl_in, set_mpls_ttl, dec_mpls_ttl
    // without an MPLS match; pop_pbb without a PBB match; pop_vlan
    // without a tag
    let ip = eth_type(IP);
    for a in [
        [0, 20, 0, 8, 0x08, 0x00, 0, 0],
        [0, 11, 0, 8, 0, 0, 0, 0],
        [0, 12, 0, 8, 0, 0, 0, 0],
        [0, 15, 0, 8, 9, 0, 0, 0],
        [0, 16, 0, 8, 0, 0, 0, 0],
        [0, 27, 0, 8, 0, 0, 0, 0],
        [0, 18, 0, 8, 0, 0, 0, 0],
    ] {
        assert_eq!(refused(&ip, &a), OFPBAC_MATCH_INCONSISTENT, "{a:?}");
    }
    // The same are fine on MPLS (copy_ttl_* and the MPLS TTLs) and PBB.
    let mpls = eth_type(MPLS);
    for a in [
        [0, 20, 0, 8, 0x08, 0x00, 0, 0],
        [0, 11, 0, 8, 0, 0, 0, 0],
        [0, 12, 0, 8, 0, 0, 0, 0],
        [0, 15, 0, 8, 9, 0, 0, 0],
        [0, 16, 0, 8, 0, 0, 0, 0],
    ] {
        let bytes = flow_mod(&mpls, &apply_bytes(&a));
        assert!(translate(&bytes).is_ok(), "{a:?}");
    }
    // After pop_mpls to IPv4, an IPv4 set-field is consistent again; an
    // MPLS one no longer is.
    let pop_then = |field: &[u8]| {
        let mut a = vec![0, 20, 0, 8, 0x08, 0x00, 0, 0];
        a.extend_from_slice(field);
        refusal(&flow_mod(&mpls, &apply_bytes(&a)))
    };
    let set_ip_src = [0, 25, 0, 16, 0x80, 0, 0x16, 4, 10, 0, 0, 1, 0, 0, 0, 0];
    let set_label = [0, 25, 0, 16, 0x80, 0, 0x44, 4, 0, 0, 0, 5, 0, 0, 0, 0];
    assert_eq!(pop_then(&set_label).kind, OFPBAC_MATCH_INCONSISTENT);
    let mut a = vec![0, 20, 0, 8, 0x08, 0x00, 0, 0];
    a.extend_from_slice(&set_ip_src);
    let bytes = flow_mod(&mpls, &apply_bytes(&a));
    assert!(translate(&bytes).is_ok());
}

#[test]
fn set_queue_is_refused_with_bad_queue_there_being_no_queues() {
    // SET_QUEUE translates (the codec has it), and the switch refuses it
    // when a flow or a group bucket names it: no port has queues, so
    // every queue id is unknown (OFPBAC_BAD_QUEUE = 8).
    let bytes = flow_mod(&[], &apply_bytes(&[0, 21, 0, 8, 0, 0, 0, 0]));
    let fm = translate(&bytes).unwrap();
    let mut p = Pipeline::new(2);
    let e = p.apply(&fm, 0).unwrap_err();
    assert_eq!(e, PipelineError::UnknownQueue(0));
    assert_eq!(e.ofp_error(), (2, 8));
    let g = Group {
        id: 1,
        group_type: GroupType::All,
        buckets: vec![Bucket::new(vec![Action::SetQueue(1), out(1)])],
    };
    let e = g.validate().unwrap_err();
    assert_eq!(e.ofp_error(), (2, 8), "{e}");
}
