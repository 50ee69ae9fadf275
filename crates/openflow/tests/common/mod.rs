//! Helpers shared by the golden-byte tests.
#![allow(dead_code)]

use vnet_openflow::{Header, Message};

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
