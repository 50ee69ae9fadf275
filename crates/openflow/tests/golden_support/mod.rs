//! The checks golden_actions.rs and golden_set_field.rs run on each
//! captured (or spec-written) FLOW_MOD: bytes ↔ message ↔ switch model ↔
//! ovs-ofctl text, every direction, and ovs-ofctl's own reading of the
//! bytes when it is installed and knows the actions. Built on `common`
//! (the test crate declares both).
#![allow(dead_code)]

use std::process::Command;

use crate::common::{flow_mod_bytes, refusal};
use vnet_openflow::error::ErrorKind;
use vnet_openflow::msg::FlowMod;
use vnet_openflow::Message;
use vnet_switch::flow::{self, Action, Flow, Instruction, Match};
use vnet_switch::ofctl::{format_flow_spec, no_port_labels, no_port_names, parse_flow};
use vnet_wire::FlowKey;

/// A match on `dl_type` and, when given, `nw_proto`.
pub fn dl(dl_type: u16, nw_proto: Option<u8>) -> Match {
    let mut k = FlowKey {
        dl_type,
        ..FlowKey::default()
    };
    let mut m = FlowKey {
        dl_type: !0,
        ..FlowKey::default()
    };
    if let Some(p) = nw_proto {
        (k.nw_proto, m.nw_proto) = (p, !0);
    }
    Match::new(k, m)
}

/// A flow of default priority with `m` and one apply-actions.
pub fn apply(m: Match, actions: Vec<Action>) -> Flow {
    Flow {
        r#match: m,
        instructions: vec![Instruction::ApplyActions(actions)],
        ..Flow::default()
    }
}

/// What `ovs-ofctl ofp-print` says of `bytes`; None without ovs-ofctl.
pub fn ofp_print(bytes: &[u8]) -> Option<String> {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let out = Command::new("ovs-ofctl")
        .args(["-O", "OpenFlow13", "ofp-print", &hex])
        .output()
        .ok()?;
    Some(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// Checks a FLOW_MOD ADD (xid 2) in every direction: the bytes decode and
/// re-encode exactly; they translate to `expected`; `expected` encodes to
/// the bytes; our ovs-ofctl printer prints `text` (what ovs-ofctl prints
/// after `ADD `) and our parser reads `text` back as `expected`; and, when
/// `ovs_knows` and ovs-ofctl is installed, ovs-ofctl prints `text` for the
/// bytes too.
#[track_caller]
pub fn check(bytes: &[u8], text: &str, expected: &Flow, ovs_knows: bool) {
    let (h, msg) = Message::decode(bytes).unwrap_or_else(|e| panic!("decode: {e}"));
    assert_eq!(msg.encode(h.xid).unwrap(), bytes, "re-encoded bytes");
    let Message::FlowMod(fm) = msg else {
        panic!("not a FLOW_MOD")
    };
    let want = flow::FlowMod::add(expected.clone());
    assert_eq!(fm.to_switch().unwrap(), want, "bytes → switch model");
    let back = Message::FlowMod(FlowMod::from_switch(&want).unwrap());
    assert_eq!(back.encode(2).unwrap(), bytes, "switch model → bytes");
    assert_eq!(format_flow_spec(expected, &no_port_labels), text, "printed");
    assert_eq!(
        parse_flow(text, &no_port_names).as_ref(),
        Ok(expected),
        "parsed"
    );
    if ovs_knows {
        match ofp_print(bytes) {
            Some(out) => assert!(
                out.contains(&format!("ADD {text}\n")),
                "ovs-ofctl prints:\n{out}"
            ),
            None => println!("SKIP: ovs-ofctl not installed"),
        }
    }
}

/// A FLOW_MOD ADD with these OXM TLVs and instruction bytes (xid 2, as
/// [`check`] encodes).
pub fn flow_mod(tlvs: &[u8], instructions: &[u8]) -> Vec<u8> {
    flow_mod_bytes(2, tlvs, instructions)
}

/// An APPLY_ACTIONS instruction holding `actions` (bytes).
pub fn apply_bytes(actions: &[u8]) -> Vec<u8> {
    let mut i = vec![0x00, 0x04, 0, (8 + actions.len()) as u8, 0, 0, 0, 0];
    i.extend_from_slice(actions);
    i
}

/// The error kind of a FLOW_MOD matching `tlvs` with one APPLY_ACTIONS
/// of these action bytes.
#[track_caller]
pub fn refused(tlvs: &[u8], actions: &[u8]) -> ErrorKind {
    refusal(&flow_mod(tlvs, &apply_bytes(actions))).kind
}

/// OXM ETH_TYPE = `t`.
pub fn eth_type(t: u16) -> Vec<u8> {
    let [a, b] = t.to_be_bytes();
    vec![0x80, 0x00, 0x0a, 0x02, a, b]
}
