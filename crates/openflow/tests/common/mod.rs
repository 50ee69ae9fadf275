//! Helpers shared by the golden-byte tests and the other tests that build
//! OpenFlow messages from bytes.
#![allow(dead_code)]

use vnet_openflow::msg::FlowMod;
use vnet_openflow::multipart::{MultipartReply, MultipartReplyBody};
use vnet_openflow::oxm::{OxmField, OxmMatch, OxmTlv};
use vnet_openflow::{DecodeError, Header, Message};
use vnet_switch::flow::{self, Flow};

/// Decodes `bytes`, checks the result equals `expected`, and that
/// encoding it again gives `bytes` exactly. Returns the header.
pub fn golden(bytes: &[u8], expected: &Message) -> Header {
    let (h, m) = Message::decode(bytes).unwrap_or_else(|e| panic!("decode: {e}"));
    assert_eq!(&m, expected, "decoded message");
    assert_eq!(usize::from(h.length), bytes.len());
    assert_eq!(expected.encode(h.xid).unwrap(), bytes, "encoded bytes");
    h
}

/// Decodes `bytes` and re-encodes them exactly; returns the message.
pub fn roundtrip(bytes: &[u8]) -> Message {
    let (h, m) = Message::decode(bytes).unwrap_or_else(|e| panic!("decode: {e}"));
    assert_eq!(m.encode(h.xid).unwrap(), bytes, "re-encoded bytes");
    m
}

pub fn mac(s: &str) -> [u8; 6] {
    let mut m = [0u8; 6];
    for (i, p) in s.split(':').enumerate() {
        m[i] = u8::from_str_radix(p, 16).unwrap();
    }
    m
}

/// Decodes a captured FLOW_MOD, checks its translation, and that the
/// switch model encodes back to the captured bytes (xid 6).
#[track_caller]
pub fn check_flow_mod(bytes: &[u8], expected: &flow::FlowMod) {
    let Message::FlowMod(fm) = roundtrip(bytes) else {
        panic!("not a FLOW_MOD")
    };
    assert_eq!(&fm.to_switch().unwrap(), expected);
    let back = Message::FlowMod(FlowMod::from_switch(expected).unwrap());
    assert_eq!(back.encode(6).unwrap(), bytes, "switch model → bytes");
}

/// A flow on IPv4 (`dl_type=0x0800`) of this priority.
pub fn ip_flow(priority: u16) -> Flow {
    let mut f = Flow {
        priority,
        ..Flow::default()
    };
    (f.r#match.key.dl_type, f.r#match.mask.dl_type) = (0x0800, 0xffff);
    f
}

/// The OXM match `eth_type=0x0800`.
pub fn ip_match() -> OxmMatch {
    OxmMatch::new(vec![OxmTlv::exact(OxmField::EthType, 0x0800)])
}

/// A MULTIPART_REPLY without flags.
pub fn rep(body: MultipartReplyBody) -> Message {
    Message::MultipartReply(MultipartReply { flags: 0, body })
}

/// Bytes from hex (whitespace allowed).
pub fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    assert!(s.len() % 2 == 0, "odd hex {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A FLOW_MOD ADD (table 0, priority 0x8000, no buffer, any port and
/// group) of header xid `xid`, with these OXM TLV bytes as its match and
/// these instruction bytes.
pub fn flow_mod_bytes(xid: u32, tlvs: &[u8], instructions: &[u8]) -> Vec<u8> {
    let mut m = vec![0x04, 0x0e, 0, 0];
    m.extend_from_slice(&xid.to_be_bytes());
    m.extend_from_slice(&[0; 16]); // cookie, cookie_mask
    m.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x80, 0]); // table, ADD, timeouts, priority
    m.extend_from_slice(&[0xff; 12]); // buffer_id, out_port, out_group
    m.extend_from_slice(&[0, 0, 0, 0]); // flags, pad
    let len = 4 + tlvs.len();
    m.extend_from_slice(&[0, 1]); // OFPMT_OXM
    m.extend_from_slice(&(len as u16).to_be_bytes());
    m.extend_from_slice(tlvs);
    m.resize(m.len() + (len.div_ceil(8) * 8 - len), 0);
    m.extend_from_slice(instructions);
    let total = m.len() as u16;
    m[2..4].copy_from_slice(&total.to_be_bytes());
    m
}

/// Decodes FLOW_MOD bytes and translates them to the switch model.
pub fn translate(bytes: &[u8]) -> Result<flow::FlowMod, DecodeError> {
    match Message::decode(bytes)? {
        (_, Message::FlowMod(fm)) => fm.to_switch(),
        (_, other) => panic!("decoded as {other:?}"),
    }
}

/// The switch-model match of a FLOW_MOD (xid 1, no instructions) whose
/// match holds `tlvs`, or the error.
pub fn match_of(tlvs: &[u8]) -> Result<flow::Match, DecodeError> {
    translate(&flow_mod_bytes(1, tlvs, &[])).map(|fm| fm.flow.r#match)
}

/// The error decoding or translating these FLOW_MOD bytes gives.
#[track_caller]
pub fn refusal(bytes: &[u8]) -> DecodeError {
    translate(bytes).expect_err("accepted")
}
