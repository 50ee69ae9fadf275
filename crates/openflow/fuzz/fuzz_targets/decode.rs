//! Fuzz target: any bytes through the framing and the decoder; whatever
//! decodes must re-encode to a message that decodes the same, and its
//! translation to the switch model must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vnet_openflow::{split_frames, Message, MAX_MESSAGE_LEN};

fuzz_target!(|data: &[u8]| {
    let _ = split_frames(data, MAX_MESSAGE_LEN);
    if let Ok((h, msg)) = Message::decode(data) {
        // Only a HELLO missing its last padding can grow past 65535.
        if let Ok(again) = msg.encode(h.xid) {
            assert_eq!(Message::decode(&again).expect("re-decodes").1, msg);
        }
        if let Message::FlowMod(fm) = &msg {
            let _ = fm.to_switch();
        }
        if let Message::PacketOut(p) = &msg {
            let _ = p.actions_to_switch();
        }
    }
});
