//! Every way a peer's bytes can be wrong gets the spec's (type, code), and
//! the answer echoes the offending message's first 64 bytes.

mod common;

use common::{flow_mod_bytes, refusal};
use vnet_openflow::error::*;
use vnet_openflow::msg::basic::ErrorMsg;
use vnet_openflow::Message;

/// A FLOW_MOD (ADD, table 0, xid 42) with these OXM TLV bytes and
/// instructions.
fn flow_mod(tlvs: &[u8], instructions: &[u8]) -> Vec<u8> {
    flow_mod_bytes(42, tlvs, instructions)
}

const ETH_IP: &[u8] = &[0x80, 0x00, 0x0a, 0x02, 0x08, 0x00]; // ETH_TYPE 0x0800
const ETH_IP6: &[u8] = &[0x80, 0x00, 0x0a, 0x02, 0x86, 0xdd]; // ETH_TYPE 0x86dd
const PROTO_TCP: &[u8] = &[0x80, 0x00, 0x14, 0x01, 0x06]; // IP_PROTO 6
const TCP_DST_80: &[u8] = &[0x80, 0x00, 0x1c, 0x02, 0x00, 0x50];

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn match_prerequisites() {
    // IPV4_DST without ETH_TYPE
    let e = refusal(&flow_mod(&[0x80, 0x00, 0x18, 0x04, 10, 0, 0, 1], &[]));
    assert_eq!(e.kind, OFPBMC_BAD_PREREQ, "{e}");
    // TCP_DST with ETH_TYPE but no IP_PROTO
    let e = refusal(&flow_mod(&cat(&[ETH_IP, TCP_DST_80]), &[]));
    assert_eq!(e.kind, OFPBMC_BAD_PREREQ, "{e}");
    // ... and fine with it, in any order
    let ok = flow_mod(&cat(&[TCP_DST_80, PROTO_TCP, ETH_IP]), &[]);
    let (_, Message::FlowMod(fm)) = Message::decode(&ok).unwrap() else {
        panic!()
    };
    assert_eq!(fm.to_switch().unwrap().flow.r#match.key.tp_dst, 80);
    // IPV6_SRC on an IPv4 match
    let v6src = [&[0x80, 0x00, 0x34, 0x10][..], &[0; 16]].concat();
    let e = refusal(&flow_mod(&cat(&[ETH_IP, &v6src]), &[]));
    assert_eq!(e.kind, OFPBMC_BAD_PREREQ);
    // VLAN_PCP without VLAN_VID
    let e = refusal(&flow_mod(&[0x80, 0x00, 0x0e, 0x01, 3], &[]));
    assert_eq!(e.kind, OFPBMC_BAD_PREREQ);
    // VLAN_PCP with VLAN_VID = OFPVID_NONE
    let e = refusal(&flow_mod(
        &[
            0x80, 0x00, 0x0c, 0x02, 0x00, 0x00, 0x80, 0x00, 0x0e, 0x01, 3,
        ],
        &[],
    ));
    assert_eq!(e.kind, OFPBMC_BAD_PREREQ);
    // IPV6_ND_SLL with an NA (136) instead of an NS (135)
    let nd = cat(&[
        ETH_IP6,
        &[0x80, 0x00, 0x14, 0x01, 58],
        &[0x80, 0x00, 0x3a, 0x01, 136],
        &[0x80, 0x00, 0x40, 0x06, 0, 0, 0, 0, 0, 1],
    ]);
    let e = refusal(&flow_mod(&nd, &[]));
    assert_eq!(e.kind, OFPBMC_BAD_PREREQ);
    // IN_PHY_PORT without IN_PORT
    let e = refusal(&flow_mod(&[0x80, 0x00, 0x02, 0x04, 0, 0, 0, 1], &[]));
    assert_eq!(e.kind, OFPBMC_BAD_PREREQ);
}

#[test]
fn match_field_errors() {
    // the same field twice
    let e = refusal(&flow_mod(&cat(&[ETH_IP, ETH_IP]), &[]));
    assert_eq!(e.kind, OFPBMC_DUP_FIELD);
    // a mask on ETH_TYPE (not maskable)
    let e = refusal(&flow_mod(
        &[0x80, 0x00, 0x0b, 0x04, 0x08, 0, 0xff, 0xff],
        &[],
    ));
    assert_eq!(e.kind, OFPBMC_BAD_MASK);
    // VLAN_PCP 8 (3 bits)
    let e = refusal(&flow_mod(
        &[
            0x80, 0x00, 0x0c, 0x02, 0x10, 0x05, 0x80, 0x00, 0x0e, 0x01, 8,
        ],
        &[],
    ));
    assert_eq!(e.kind, OFPBMC_BAD_VALUE);
    // VLAN_VID 5 without OFPVID_PRESENT
    let e = refusal(&flow_mod(&[0x80, 0x00, 0x0c, 0x02, 0x00, 0x05], &[]));
    assert_eq!(e.kind, OFPBMC_BAD_VALUE);
    // value bits outside the mask
    let e = refusal(&flow_mod(
        &cat(&[
            ETH_IP,
            &[0x80, 0x00, 0x19, 0x08, 10, 0, 0, 1, 255, 255, 255, 0],
        ]),
        &[],
    ));
    assert_eq!(e.kind, OFPBMC_BAD_WILDCARDS);
    // IN_PORT with length 2
    let e = refusal(&flow_mod(&[0x80, 0x00, 0x00, 0x02, 0, 1], &[]));
    assert_eq!(e.kind, OFPBMC_BAD_LEN);
    // a TLV running past the match
    let e = refusal(&flow_mod(&[0x80, 0x00, 0x00, 0x04, 0, 1], &[]));
    assert_eq!(e.kind, OFPBMC_BAD_LEN);
    // unknown basic field 40, unknown class 0x1234
    let e = refusal(&flow_mod(&[0x80, 0x00, 0x50, 0x01, 0], &[]));
    assert_eq!(e.kind, OFPBMC_BAD_FIELD);
    let e = refusal(&flow_mod(&[0x12, 0x34, 0x00, 0x01, 0], &[]));
    assert_eq!(e.kind, OFPBMC_BAD_FIELD);
    // an OpenFlow 1.0-style standard match
    let mut m = flow_mod(&[], &[]);
    m[49] = 0; // match type 0
    assert_eq!(refusal(&m).kind, OFPBMC_BAD_TYPE);
    // ARP opcode above what the switch matches
    let arp = cat(&[
        &[0x80, 0x00, 0x0a, 0x02, 0x08, 0x06],
        &[0x80, 0x00, 0x2a, 0x02, 0x01, 0x00],
    ]);
    assert_eq!(refusal(&flow_mod(&arp, &[])).kind, OFPBMC_BAD_VALUE);
}

#[test]
fn instruction_and_action_errors() {
    let apply = |actions: &[u8]| {
        let mut i = vec![0x00, 0x04, 0, (8 + actions.len()) as u8, 0, 0, 0, 0];
        i.extend_from_slice(actions);
        i
    };
    // unknown action type 99
    let e = refusal(&flow_mod(&[], &apply(&[0, 99, 0, 8, 0, 0, 0, 0])));
    assert_eq!(e.kind, OFPBAC_BAD_TYPE);
    // OUTPUT with length 8
    let e = refusal(&flow_mod(&[], &apply(&[0, 0, 0, 8, 0, 0, 0, 1])));
    assert_eq!(e.kind, OFPBAC_BAD_LEN);
    // an experimenter action
    let e = refusal(&flow_mod(
        &[],
        &apply(&[0xff, 0xff, 0, 8, 0, 0, 0x23, 0x20]),
    ));
    assert_eq!(e.kind, OFPBAC_BAD_EXPERIMENTER);
    // PUSH_PBB with an ethertype other than 0x88e7
    let e = refusal(&flow_mod(&[], &apply(&[0, 26, 0, 8, 0x81, 0x00, 0, 0])));
    assert_eq!(e.kind, OFPBAC_BAD_ARGUMENT);
    // POP_PBB on a match that is not PBB
    let e = refusal(&flow_mod(&[], &apply(&[0, 27, 0, 8, 0, 0, 0, 0])));
    assert_eq!(e.kind, OFPBAC_MATCH_INCONSISTENT);
    // SET_FIELD of MPLS_LABEL on a match that is not MPLS
    let set_mpls = [0, 25, 0, 16, 0x80, 0x00, 0x44, 0x04, 0, 0, 0, 5, 0, 0, 0, 0];
    let e = refusal(&flow_mod(&[], &apply(&set_mpls)));
    assert_eq!(e.kind, OFPBAC_MATCH_INCONSISTENT);
    // SET_FIELD of IP_PROTO: decodes, the switch does not set it
    let set_proto = [0, 25, 0, 16, 0x80, 0x00, 0x14, 0x01, 6, 0, 0, 0, 0, 0, 0, 0];
    let e = refusal(&flow_mod(ETH_IP, &apply(&set_proto)));
    assert_eq!(e.kind, OFPBAC_BAD_SET_TYPE);
    // SET_FIELD with a mask
    let set_masked = [
        0, 25, 0, 16, 0x80, 0x00, 0x17, 0x08, 10, 0, 0, 0, 255, 0, 0, 0,
    ];
    let e = refusal(&flow_mod(&[], &apply(&set_masked)));
    assert_eq!(e.kind, OFPBAC_BAD_SET_ARGUMENT);
    // SET_FIELD on a field the match does not guarantee (switch check)
    let set_tcp = [
        0, 25, 0, 16, 0x80, 0x00, 0x1a, 0x02, 0, 80, 0, 0, 0, 0, 0, 0,
    ];
    let e = refusal(&flow_mod(&[], &apply(&set_tcp)));
    assert_eq!(e.kind, OFPBAC_MATCH_INCONSISTENT);
    // unknown instruction 9, experimenter instruction, bad length
    let e = refusal(&flow_mod(&[], &[0, 9, 0, 8, 0, 0, 0, 0]));
    assert_eq!(e.kind, OFPBIC_UNKNOWN_INST);
    let e = refusal(&flow_mod(&[], &[0xff, 0xff, 0, 8, 0, 0, 0, 1]));
    assert_eq!(e.kind, OFPBIC_BAD_EXPERIMENTER);
    let e = refusal(&flow_mod(
        &[],
        &[0, 1, 0, 16, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ));
    assert_eq!(e.kind, OFPBIC_BAD_LEN);
    // goto_table backwards (switch check), in table 0
    let e = refusal(&flow_mod(&[], &[0, 1, 0, 8, 0, 0, 0, 0]));
    assert_eq!(e.kind, OFPBIC_BAD_TABLE_ID);
    // two apply-actions
    let twice = [apply(&[]), apply(&[])].concat();
    assert_eq!(refusal(&flow_mod(&[], &twice)).kind, OFPBIC_UNSUP_INST);
}

#[test]
fn flow_mod_header_errors() {
    let mut m = flow_mod(&[], &[]);
    m[25] = 7; // command
    assert_eq!(refusal(&m).kind, OFPFMFC_BAD_COMMAND);
    let mut m = flow_mod(&[], &[]);
    m[45] = 0x20; // flags bit 5
    assert_eq!(refusal(&m).kind, OFPFMFC_BAD_FLAGS);
}

#[test]
fn message_level_errors() {
    let decode_err = |b: &[u8]| Message::decode(b).expect_err("accepted");
    // version 1.0 FEATURES_REQUEST
    assert_eq!(
        decode_err(&[1, 5, 0, 8, 0, 0, 0, 1]).kind,
        OFPBRC_BAD_VERSION
    );
    // a HELLO of any version decodes (negotiation needs it)
    assert!(Message::decode(&[6, 0, 0, 8, 0, 0, 0, 1]).is_ok());
    // QUEUE_GET_CONFIG_REQUEST and type 99
    assert_eq!(
        decode_err(&[4, 22, 0, 16, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]).kind,
        OFPBRC_BAD_TYPE
    );
    assert_eq!(decode_err(&[4, 99, 0, 8, 0, 0, 0, 1]).kind, OFPBRC_BAD_TYPE);
    // length field disagreeing with the bytes, short body, trailing bytes
    assert_eq!(decode_err(&[4, 5, 0, 9, 0, 0, 0, 1]).kind, OFPBRC_BAD_LEN);
    assert_eq!(
        decode_err(&[4, 24, 0, 12, 0, 0, 0, 1, 0, 0, 0, 2]).kind,
        OFPBRC_BAD_LEN
    );
    assert_eq!(
        decode_err(&[4, 20, 0, 9, 0, 0, 0, 1, 0]).kind,
        OFPBRC_BAD_LEN
    );
    // unknown multipart type, experimenter multipart
    let mp = |t: u16| {
        let mut m = vec![4, 18, 0, 16, 0, 0, 0, 1];
        m.extend_from_slice(&t.to_be_bytes());
        m.extend_from_slice(&[0; 6]);
        m
    };
    assert_eq!(decode_err(&mp(99)).kind, OFPBRC_BAD_MULTIPART);
    assert_eq!(decode_err(&mp(0xffff)).kind, OFPBRC_BAD_EXPERIMENTER);
    // role 7
    let role = [
        4, 24, 0, 24, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    ];
    assert_eq!(decode_err(&role).kind, OFPRRFC_BAD_ROLE);
    // group type 9, group command 5
    let gm = |cmd: u8, ty: u8| vec![4, 15, 0, 16, 0, 0, 0, 1, 0, cmd, ty, 0, 0, 0, 0, 1];
    assert_eq!(decode_err(&gm(0, 9)).kind, OFPGMFC_BAD_TYPE);
    assert_eq!(decode_err(&gm(5, 0)).kind, OFPGMFC_BAD_COMMAND);
    // meter band type 7
    let mm = [
        4, 29, 0, 32, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 7, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0,
        0, 0, 0,
    ];
    assert_eq!(decode_err(&mm).kind, OFPMMFC_BAD_BAND);
}

#[test]
fn error_reply_echoes_64_bytes() {
    let bad = flow_mod(&cat(&[ETH_IP, ETH_IP]), &[0; 64]);
    let e = refusal(&bad);
    let reply = Message::Error(ErrorMsg::reply_to(&e, &bad));
    let bytes = reply.encode(42).unwrap();
    assert_eq!(bytes.len(), 8 + 4 + 64);
    assert_eq!(&bytes[8..12], &[0, 4, 0, 10]); // BAD_MATCH, DUP_FIELD
    assert_eq!(&bytes[12..], &bad[..64]);
    assert!(
        e.to_string().starts_with("OFPBMC_DUP_FIELD: eth_type"),
        "{e}"
    );
}
