//! The OpenFlow fuzz targets' logic, one function per target. The
//! cargo-fuzz binaries (`fuzz_targets/*.rs`) call these, and
//! `crates/openflow/tests/fuzz_corpus.rs` includes this very file to
//! replay the checked-in corpus on stable Rust. Each function panics when
//! an invariant breaks.
//!
//! - [`decode`]: framing and decoding of any bytes; what decodes
//!   re-encodes to an equal message; translations to the switch model do
//!   not panic.
//! - [`roundtrip`]: a decoded message re-encodes to the same length (only
//!   padding is normalised), the encoding is a fixpoint, and what the
//!   switch model accepts translates back to the same model.
//! - [`conn`]: the connection state machine fed a byte stream in chunks:
//!   the chunking changes nothing, every byte it sends is a whole message
//!   that decodes, and with timers, role answers, async messages and
//!   partial sends mixed in it never panics, stays bounded and is quiet
//!   once closed.

use vnet_openflow::action::{actions_from_switch, actions_to_switch};
use vnet_openflow::conn::{ConnConfig, ConnEvent, ConnStats, Connection, RoleArbiter};
use vnet_openflow::msg::basic::OFPC_FRAG_MASK;
use vnet_openflow::msg::{
    FlowMod, Hello, OFPT_ECHO_REPLY, OFPT_ERROR, OFPT_GET_ASYNC_REPLY, OFPT_GET_CONFIG_REPLY,
    OFPT_HELLO,
};
use vnet_openflow::oxm::OxmMatch;
use vnet_openflow::{split_frames, Message, MAX_MESSAGE_LEN, OFP_VERSION};
use vnet_wire::fuzzing::Mutator;

/// Fuzz target `decode`.
pub fn decode(data: &[u8]) {
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
}

/// Fuzz target `roundtrip`: decode → encode keeps the length and is a
/// fixpoint, and decodes back equal.
pub fn roundtrip(data: &[u8]) {
    let Ok((h, msg)) = Message::decode(data) else {
        return;
    };
    assert_eq!(usize::from(h.length), data.len());
    let hello = matches!(msg, Message::Hello(_));
    let bytes = match msg.encode(h.xid) {
        Ok(b) => b,
        Err(e) => {
            assert!(hello, "a decoded message does not encode: {e}");
            return;
        }
    };
    if !hello {
        assert_eq!(bytes.len(), data.len(), "re-encoded length of {msg:?}");
    }
    let (h2, again) = Message::decode(&bytes).expect("a re-encoded message decodes");
    assert_eq!((h2.r#type, h2.xid), (h.r#type, h.xid));
    assert_eq!(again, msg, "decode(encode(m)) != m");
    assert_eq!(
        again.encode(h.xid).ok(),
        Some(bytes),
        "encoding is no fixpoint"
    );
    model(&msg);
}

/// What the switch model accepts translates back to the same model.
fn model(msg: &Message) {
    match msg {
        Message::FlowMod(fm) => {
            let Ok(s) = fm.to_switch() else { return };
            let back = FlowMod::from_switch(&s).expect("an accepted flow-mod translates back");
            assert_eq!(back.to_switch().ok(), Some(s), "flow-mod model round trip");
            let wire = Message::FlowMod(back);
            let bytes = wire.encode(1).expect("a translated flow-mod encodes");
            assert_eq!(Message::decode(&bytes).ok().map(|d| d.1), Some(wire));
        }
        Message::PacketOut(p) => {
            if let Ok(a) = p.actions_to_switch() {
                let back = actions_to_switch(&actions_from_switch(&a)).ok();
                assert_eq!(back, Some(a), "action model round trip");
            }
        }
        Message::PacketIn(p) => match_model(&p.r#match),
        Message::FlowRemoved(f) => match_model(&f.r#match),
        _ => {}
    }
}

fn match_model(m: &OxmMatch) {
    if let Ok(s) = m.to_switch() {
        let back = OxmMatch::from_switch(&s).expect("an accepted match translates back");
        assert_eq!(back.to_switch().ok(), Some(s), "match model round trip");
    }
}

/// Bytes before the stream in a `conn` input: config, chunking seed,
/// timing seed, action seed.
pub const CONN_HEADER_LEN: usize = 4;

/// The connection configuration a `conn` input's first byte selects.
fn conn_config(cfg: u8, probe: bool) -> ConnConfig {
    let max = [MAX_MESSAGE_LEN, 4096, 256, 16][usize::from(cfg >> 1 & 3)];
    let mut c = ConnConfig {
        probe_interval: 0,
        max_message_len: max,
        ..ConnConfig::default()
    };
    if probe && cfg & 1 != 0 {
        c.probe_interval = 100;
    }
    if cfg & 8 != 0 {
        c.max_queued = 256;
    }
    if cfg & 0x20 != 0 {
        c.frag_modes = (0..=OFPC_FRAG_MASK).collect();
    }
    c
}

/// Chunk lengths: mostly short, sometimes all that is left.
fn chunks<'a>(stream: &'a [u8], rng: &mut Mutator) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let n = match rng.below(8) {
            0 => rest.len(),
            1 => 1,
            2..=4 => 1 + rng.below(16),
            _ => 1 + rng.below(256),
        };
        let (c, r) = rest.split_at(n.min(rest.len()));
        out.push(c);
        rest = r;
    }
    out
}

/// Checks that `out` is whole messages that decode: OFPT_ERRORs of a
/// failed HELLO carry the peer's (older) version. Returns the types.
fn replies(out: &[u8]) -> Vec<u8> {
    let (frames, used) = split_frames(out, MAX_MESSAGE_LEN).expect("output framing");
    assert_eq!(used, out.len(), "output ends in a partial message");
    let first = frames.first().expect("our HELLO");
    let hello = Message::decode(first).expect("our HELLO decodes").1;
    assert!(
        matches!(hello, Message::Hello(_)),
        "first message: {hello:?}"
    );
    frames.iter().for_each(|f| drop(reply(f)));
    frames.iter().map(|f| f[1]).collect()
}

/// A message the connection sent, decoded: an OFPHFC_INCOMPATIBLE error
/// may carry an older version (the peer's).
fn reply(f: &[u8]) -> Message {
    let mut f = f.to_vec();
    let older = f[0] != OFP_VERSION;
    if older {
        assert!(
            (1..OFP_VERSION).contains(&f[0]) && f[1] == OFPT_ERROR,
            "{f:02x?}"
        );
        f[0] = OFP_VERSION;
    }
    let m = match Message::decode(&f) {
        Ok((_, m)) => m,
        Err(e) => panic!("the connection sent {f:02x?}, which does not decode: {e}"),
    };
    if older {
        assert!(matches!(m, Message::Error(ref e) if e.r#type == 0), "{m:?}");
    }
    m
}

/// The bytes a connection sent are the same however the stream was cut.
pub fn same_replies(got: &[u8], want: &[u8]) {
    assert_eq!(got, want, "chunking changed the output");
}

/// `data` is [`CONN_HEADER_LEN`] bytes, then the stream from the peer
/// (after a valid HELLO when bit 4 of the first byte is set).
pub fn conn(data: &[u8]) {
    let Some((&[cfg, chunk_seed, time_seed, act_seed], rest)) = data.split_first_chunk() else {
        return;
    };
    let mut stream = Vec::new();
    if cfg & 0x10 != 0 {
        let hello = Message::Hello(Hello::with_versions(&[OFP_VERSION]));
        stream = hello.encode(0x1234_5678).expect("HELLO encodes");
    }
    stream.extend_from_slice(rest);

    // The whole stream at once, then in chunks: the same events and bytes.
    let mut whole = Connection::new(conn_config(cfg, false), 0);
    let want = whole.on_bytes(0, &stream);
    events_sane(&want, &whole);
    let mut chunked = Connection::new(conn_config(cfg, false), 0);
    let mut rng = Mutator::new(u64::from(chunk_seed) << 8 | u64::from(time_seed));
    let mut got = Vec::new();
    let mut now = 0;
    for c in chunks(&stream, &mut rng) {
        now += rng.below(10_000) as u64;
        assert_eq!(
            chunked.on_timeout(now),
            None,
            "timer fired with probing off"
        );
        got.extend(chunked.on_bytes(now, c));
    }
    assert_eq!(got, want, "chunking changed the events");
    same_replies(chunked.output(), whole.output());
    let stats = |s: ConnStats| (s.rx_msgs, s.tx_msgs, s.errors_sent);
    assert_eq!(stats(chunked.stats()), stats(whole.stats()));
    assert_eq!(chunked.pending_input(), whole.pending_input());
    assert_eq!(chunked.state(), whole.state());
    for t in replies(whole.output()) {
        let ok = [
            OFPT_HELLO,
            OFPT_ERROR,
            OFPT_ECHO_REPLY,
            OFPT_GET_CONFIG_REPLY,
        ];
        assert!(
            ok.contains(&t) || t == OFPT_GET_ASYNC_REPLY,
            "unasked reply type {t}"
        );
    }

    live(
        cfg,
        &stream,
        Mutator::new(u64::from(act_seed) << 16 | u64::from(time_seed)),
    );
}

/// Events in order: `Connected` first (once), nothing after `Closed`, and
/// every request re-encodes to itself.
fn events_sane(events: &[ConnEvent], c: &Connection) {
    let mut connected = c.is_up() || c.is_closed();
    for (i, e) in events.iter().enumerate() {
        match e {
            ConnEvent::Connected { version } => {
                assert_eq!((i, *version), (0, OFP_VERSION), "Connected not first");
                connected = true;
            }
            ConnEvent::Closed(_) => {
                assert_eq!(i + 1, events.len(), "events after Closed");
                assert!(c.is_closed());
            }
            ConnEvent::Request(r) => {
                assert!(connected, "request before the HELLO exchange");
                let bytes = r.msg.encode(r.xid).expect("a request re-encodes");
                assert_eq!(
                    Message::decode(&bytes).ok().map(|d| d.1).as_ref(),
                    Some(&r.msg)
                );
                // The head is what was received: type and xid as decoded
                // (the length is `roundtrip`'s business).
                assert!(r.head.len() >= 8 && r.head.len() <= 64, "head length");
                assert_eq!((r.head[1], &r.head[4..8]), (bytes[1], &bytes[4..8]), "head");
            }
            ConnEvent::RoleRequest { .. } | ConnEvent::PeerError { .. } => {
                assert!(connected, "event before the HELLO exchange");
            }
        }
    }
}

/// The stream fed in chunks with everything a switch does in between:
/// timers, role answers, demotions, async messages, partial sends.
fn live(cfg: u8, stream: &[u8], mut rng: Mutator) {
    let config = conn_config(cfg, true);
    let max_len = config.max_message_len;
    let mut c = Connection::new(config, 0);
    let mut arbiter = RoleArbiter::default();
    // Async messages to send: whatever in the stream decodes.
    let asyncs: Vec<Message> = split_frames(stream, MAX_MESSAGE_LEN)
        .map(|(frames, _)| frames)
        .unwrap_or_default()
        .iter()
        .filter_map(|f| Message::decode(f).ok().map(|d| d.1))
        .collect();
    let mut sent = Vec::new();
    let mut now = 0u64;
    let mut closed = false;
    for chunk in chunks(stream, &mut rng) {
        now += match rng.below(4) {
            0 => 0,
            1 | 2 => rng.below(60) as u64,
            _ => rng.below(400) as u64,
        };
        let mut events = c.on_timeout(now).into_iter().collect::<Vec<_>>();
        events.extend(c.on_bytes(now, chunk));
        assert!(
            !closed || events.is_empty(),
            "events after the close: {events:?}"
        );
        for e in &events {
            if let ConnEvent::RoleRequest {
                xid,
                role,
                generation_id,
                head,
            } = e
            {
                let verdict = arbiter.check(*role, *generation_id);
                let generation = arbiter.generation().unwrap_or(*generation_id);
                c.answer_role(*xid, *role, verdict.map(|()| generation), head);
            }
        }
        closed |= events.iter().any(|e| matches!(e, ConnEvent::Closed(_)));
        assert_eq!(closed, c.is_closed(), "Closed event vs state");
        match rng.below(8) {
            0 if !asyncs.is_empty() => {
                let _ = c.send_async(&asyncs[rng.below(asyncs.len())]);
            }
            1 => c.demote(),
            2 => {
                // Runs the timers too (a close it causes has no event).
                sent.extend(c.poll(now));
                closed = c.is_closed();
            }
            3 | 4 => {
                let n = rng.below(c.output().len() + 1);
                sent.extend_from_slice(&c.output()[..n]);
                c.consume_output(n);
            }
            5 if rng.below(16) == 0 => {
                let _ = c.close("fuzz");
                closed = true;
            }
            _ => {}
        }
        assert!(
            c.pending_input() <= max_len.max(8),
            "input held beyond one message"
        );
        if c.is_closed() {
            assert_eq!(c.pending_input(), 0, "input held after the close");
        }
        let s = c.stats();
        assert!(s.errors_sent <= s.tx_msgs, "{s:?}");
    }
    sent.extend_from_slice(c.output());
    replies(&sent);
}
