//! The channel state machine without sockets: bytes and `now` in, bytes
//! and events out. Covers the HELLO negotiation, echo and the inactivity
//! probe, errors for malformed input (the connection stays up) and for
//! lost framing (it closes), roles, async filtering, ordering and bounded
//! memory under a flood.

use vnet_openflow::conn::*;
use vnet_openflow::error::*;
use vnet_openflow::msg::basic::*;
use vnet_openflow::msg::flow::{PacketIn, OFPR_ACTION, OFPR_INVALID_TTL, OFPR_NO_MATCH};
use vnet_openflow::oxm::OxmMatch;
use vnet_openflow::{split_frames, Header, Message};

fn enc(xid: u32, m: &Message) -> Vec<u8> {
    m.encode(xid).unwrap()
}

/// Every message in `bytes` (which must be whole messages).
fn decode_all(bytes: &[u8]) -> Vec<(Header, Message)> {
    let (frames, used) = split_frames(bytes, 65535).unwrap();
    assert_eq!(used, bytes.len(), "partial message in output");
    frames
        .into_iter()
        .map(|f| Message::decode(f).unwrap_or_else(|e| panic!("decode our output: {e}")))
        .collect()
}

fn hello13() -> Vec<u8> {
    enc(1, &Message::Hello(Hello::with_versions(&[1, 4])))
}

/// A connection past the handshake, output drained.
fn up() -> Connection {
    let mut c = Connection::new(ConnConfig::default(), 0);
    let ev = c.on_bytes(0, &hello13());
    assert_eq!(ev, vec![ConnEvent::Connected { version: 4 }]);
    c.poll(0);
    c
}

fn errors(out: &[u8]) -> Vec<(u32, ErrorKind)> {
    decode_all(out)
        .into_iter()
        .filter_map(|(h, m)| match m {
            Message::Error(e) => Some((h.xid, e.kind())),
            _ => None,
        })
        .collect()
}

#[test]
fn sends_hello_with_only_1_3_in_the_bitmap() {
    let mut c = Connection::new(ConnConfig::default(), 0);
    let out = decode_all(&c.poll(0));
    assert_eq!(out.len(), 1);
    match &out[0].1 {
        Message::Hello(h) => assert_eq!(h.versions(), Some(vec![4])),
        m => panic!("{m:?}"),
    }
    assert_eq!(*c.state(), ConnState::Hello);
}

#[test]
fn negotiation_by_bitmap_and_by_header() {
    // Bitmap listing 1.0 and 1.3, header version 6: 1.3 is common.
    let mut c = Connection::new(ConnConfig::default(), 0);
    let mut h = enc(9, &Message::Hello(Hello::with_versions(&[1, 4, 6])));
    h[0] = 6;
    assert_eq!(c.on_bytes(0, &h), vec![ConnEvent::Connected { version: 4 }]);
    // No bitmap, header version 5: min(ours, theirs) = 4.
    let mut c = Connection::new(ConnConfig::default(), 0);
    assert_eq!(
        c.on_bytes(0, &[5, 0, 0, 8, 0, 0, 0, 1]),
        vec![ConnEvent::Connected { version: 4 }]
    );
    assert!(c.is_up());
}

#[test]
fn peer_without_1_3_gets_hello_failed_and_is_closed() {
    for hello in [
        // An OpenFlow 1.0 peer: header version 1, no bitmap.
        vec![1, 0, 0, 8, 0, 0, 0, 7],
        // A bitmap of 1.0 and 1.5 only.
        enc(7, &Message::Hello(Hello::with_versions(&[1, 6]))),
    ] {
        let mut c = Connection::new(ConnConfig::default(), 0);
        c.poll(0);
        let ev = c.on_bytes(0, &hello);
        assert!(
            matches!(&ev[..], [ConnEvent::Closed(CloseReason::HelloFailed(_))]),
            "{ev:?}"
        );
        let out = c.poll(0);
        // Sent in a version the peer reads, with a text explanation.
        assert_eq!(out[0], hello[0].min(4));
        let mut fixed = out.clone();
        fixed[0] = 4;
        match &decode_all(&fixed)[0] {
            (h, Message::Error(e)) => {
                assert_eq!(e.kind(), OFPHFC_INCOMPATIBLE);
                assert_eq!(h.xid, 7);
                assert!(String::from_utf8_lossy(&e.data).contains("1.3"));
            }
            m => panic!("{m:?}"),
        }
        assert!(c.is_closed());
        // Nothing more happens on a closed connection.
        assert!(c.on_bytes(1, &hello13()).is_empty());
        assert!(c.poll(1).is_empty());
    }
}

#[test]
fn a_first_message_other_than_hello_fails_the_handshake() {
    let mut c = Connection::new(ConnConfig::default(), 0);
    c.poll(0);
    let ev = c.on_bytes(0, &enc(3, &Message::FeaturesRequest));
    assert!(matches!(
        &ev[..],
        [ConnEvent::Closed(CloseReason::HelloFailed(_))]
    ));
    assert_eq!(errors(&c.poll(0)), vec![(3, OFPHFC_INCOMPATIBLE)]);
}

#[test]
fn hello_deadline() {
    let mut c = Connection::new(ConnConfig::default(), 1000);
    assert_eq!(c.next_timeout(), Some(1000 + DEFAULT_PROBE_INTERVAL));
    assert_eq!(c.on_timeout(1000 + DEFAULT_PROBE_INTERVAL - 1), None);
    assert!(matches!(
        c.on_timeout(1000 + DEFAULT_PROBE_INTERVAL),
        Some(ConnEvent::Closed(CloseReason::Timeout(_)))
    ));
    assert_eq!(c.next_timeout(), None);
}

#[test]
fn echo_request_is_answered_with_its_data_and_xid() {
    let mut c = up();
    let ev = c.on_bytes(5, &enc(0xabcd, &Message::EchoRequest(b"ping".to_vec())));
    assert!(ev.is_empty());
    assert_eq!(
        decode_all(&c.poll(5))
            .into_iter()
            .map(|(h, m)| (h.xid, m))
            .collect::<Vec<_>>(),
        vec![(0xabcd, Message::EchoReply(b"ping".to_vec()))]
    );
}

#[test]
fn inactivity_probe_then_close_after_two_intervals() {
    let p = 1000;
    let cfg = ConnConfig {
        probe_interval: p,
        ..ConnConfig::default()
    };
    let mut c = Connection::new(cfg.clone(), 0);
    c.on_bytes(10, &hello13());
    c.poll(10);
    assert_eq!(c.next_timeout(), Some(10 + p));
    // Silence for one interval: an echo request.
    assert!(c.poll(10 + p - 1).is_empty());
    let out = decode_all(&c.poll(10 + p));
    assert!(
        matches!(&out[..], [(_, Message::EchoRequest(_))]),
        "{out:?}"
    );
    assert_eq!(c.stats().echo_probes, 1);
    assert_eq!(c.next_timeout(), Some(10 + 2 * p));
    // Not twice.
    assert!(c.poll(10 + p + 5).is_empty());
    // Silence for a second interval: closed.
    assert!(matches!(
        c.on_timeout(10 + 2 * p),
        Some(ConnEvent::Closed(CloseReason::Timeout(_)))
    ));

    // An answer (any bytes) resets the probe.
    let mut c = Connection::new(cfg, 0);
    c.on_bytes(0, &hello13());
    c.poll(p);
    let xid = 2; // our HELLO took xid 1
    c.on_bytes(p + 10, &enc(xid, &Message::EchoReply(vec![])));
    assert_eq!(c.next_timeout(), Some(2 * p + 10));
    assert!(c.poll(2 * p).is_empty());
    assert!(c.is_up());
}

#[test]
fn requests_come_out_in_order_with_their_heads() {
    let mut c = up();
    let mut bytes = enc(1, &Message::FeaturesRequest);
    bytes.extend(enc(2, &Message::BarrierRequest));
    bytes.extend(enc(3, &Message::GetConfigRequest));
    bytes.extend(enc(4, &Message::BarrierRequest));
    let ev = c.on_bytes(0, &bytes);
    let xids: Vec<u32> = ev
        .iter()
        .map(|e| match e {
            ConnEvent::Request(r) => r.xid,
            e => panic!("{e:?}"),
        })
        .collect();
    assert_eq!(xids, vec![1, 2, 4]);
    match &ev[0] {
        ConnEvent::Request(r) => assert_eq!(r.head, enc(1, &Message::FeaturesRequest)),
        _ => unreachable!(),
    }
    // GET_CONFIG is answered by the connection itself.
    let out = decode_all(&c.poll(0));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.xid, 3);
}

#[test]
fn truncated_message_waits_for_the_rest() {
    let mut c = up();
    let m = enc(77, &Message::EchoRequest(vec![1; 100]));
    for chunk in m[..m.len() - 1].chunks(7) {
        assert!(c.on_bytes(0, chunk).is_empty());
    }
    assert_eq!(c.pending_input(), m.len() - 1);
    assert!(c.poll(0).is_empty());
    c.on_bytes(0, &m[m.len() - 1..]);
    assert_eq!(c.pending_input(), 0);
    assert_eq!(decode_all(&c.poll(0))[0].0.xid, 77);
}

#[test]
fn malformed_messages_get_the_spec_error_and_the_connection_stays_up() {
    let mut c = up();
    // FEATURES_REQUEST with a trailing byte: OFPBRC_BAD_LEN.
    let bad_len = vec![4, 5, 0, 9, 0, 0, 0, 1, 0xee];
    // Version 1 after negotiating 1.3: OFPBRC_BAD_VERSION.
    let bad_version = vec![1, 5, 0, 8, 0, 0, 0, 2];
    // Type 99: OFPBRC_BAD_TYPE.
    let bad_type = vec![4, 99, 0, 8, 0, 0, 0, 3];
    // A reply sent to the switch: OFPBRC_BAD_TYPE.
    let reply = enc(4, &Message::BarrierReply);
    // An experimenter message: OFPBRC_BAD_EXPERIMENTER.
    let exp = enc(
        5,
        &Message::Experimenter(Experimenter {
            experimenter: 0x2320,
            exp_type: 1,
            data: vec![],
        }),
    );
    // FLOW_MOD with command 9: OFPFMFC_BAD_COMMAND.
    let mut fm = vec![4, 14, 0, 56, 0, 0, 0, 6];
    fm.extend([0u8; 48]);
    fm[8 + 17] = 9;
    // A ROLE_REQUEST with role 7: OFPRRFC_BAD_ROLE.
    let mut role = enc(
        7,
        &Message::RoleRequest(RoleMsg {
            role: ControllerRole::Equal,
            generation_id: 0,
        }),
    );
    role[11] = 7;
    // SET_CONFIG with unknown flags: OFPSCFC_BAD_FLAGS.
    let cfg = enc(
        8,
        &Message::SetConfig(SwitchConfig {
            flags: 0x80,
            miss_send_len: 1,
        }),
    );
    let mut all = Vec::new();
    for m in [
        &bad_len,
        &bad_version,
        &bad_type,
        &reply,
        &exp,
        &fm,
        &role,
        &cfg,
    ] {
        all.extend_from_slice(m);
    }
    all.extend(enc(9, &Message::EchoRequest(vec![])));
    assert!(c.on_bytes(0, &all).is_empty());
    let out = c.poll(0);
    assert_eq!(
        errors(&out),
        vec![
            (1, OFPBRC_BAD_LEN),
            (2, OFPBRC_BAD_VERSION),
            (3, OFPBRC_BAD_TYPE),
            (4, OFPBRC_BAD_TYPE),
            (5, OFPBRC_BAD_EXPERIMENTER),
            (6, OFPFMFC_BAD_COMMAND),
            (7, OFPRRFC_BAD_ROLE),
            (8, OFPSCFC_BAD_FLAGS),
        ]
    );
    // The offending bytes are echoed.
    match &decode_all(&out)[0].1 {
        Message::Error(e) => assert_eq!(e.data, bad_len),
        _ => unreachable!(),
    }
    // And the echo after them is answered: still up.
    assert!(matches!(
        decode_all(&out).last(),
        Some((h, Message::EchoReply(_))) if h.xid == 9
    ));
    assert!(c.is_up());
    assert_eq!(c.stats().errors_sent, 8);
}

#[test]
fn lost_framing_is_answered_then_closed() {
    // A length below the header.
    let mut c = up();
    let mut bytes = enc(1, &Message::EchoRequest(vec![]));
    bytes.extend([4, 2, 0, 3, 0, 0, 0, 2, 9, 9, 9]);
    let ev = c.on_bytes(0, &bytes);
    assert!(matches!(
        &ev[..],
        [ConnEvent::Closed(CloseReason::BadFraming(_))]
    ));
    let out = decode_all(&c.poll(0));
    // The echo before it was still answered.
    assert!(matches!(&out[0], (h, Message::EchoReply(_)) if h.xid == 1));
    assert!(matches!(&out[1], (h, Message::Error(e)) if h.xid == 2 && e.kind() == OFPBRC_BAD_LEN));
    assert_eq!(c.pending_input(), 0);

    // A length over the limit: refused at the header, nothing buffered.
    let mut c = Connection::new(
        ConnConfig {
            max_message_len: 1024,
            ..ConnConfig::default()
        },
        0,
    );
    c.on_bytes(0, &hello13());
    c.poll(0);
    let ev = c.on_bytes(0, &[4, 2, 0x10, 0, 0, 0, 0, 5]);
    assert!(matches!(
        &ev[..],
        [ConnEvent::Closed(CloseReason::BadFraming(m))] if m.contains("1024")
    ));
    assert_eq!(errors(&c.poll(0)), vec![(5, OFPBRC_BAD_LEN)]);
}

#[test]
fn garbage_before_the_hello_closes_without_panicking() {
    for garbage in [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        vec![0xff; 64],
        vec![0; 3],
        (0..=255u8).collect(),
    ] {
        let mut c = Connection::new(ConnConfig::default(), 0);
        c.poll(0);
        let ev = c.on_bytes(0, &garbage);
        for e in &ev {
            assert!(matches!(e, ConnEvent::Closed(_)), "{e:?}");
        }
        assert!(c.pending_input() <= 65535);
        let _ = c.poll(0);
    }
}

#[test]
fn random_bytes_after_the_hello_never_panic() {
    // A deterministic pseudo-random stream cut at odd places.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..200 {
        let mut c = up();
        for _ in 0..20 {
            let n = (next() % 200) as usize;
            let mut chunk: Vec<u8> = (0..n).map(|_| next() as u8).collect();
            // Often a plausible header, so bodies get decoded too.
            if chunk.len() >= 8 && next() % 2 == 0 {
                chunk[0] = 4;
                chunk[1] = (next() % 30) as u8;
                let len = 8 + (next() % 120) as u16;
                chunk[2..4].copy_from_slice(&len.to_be_bytes());
            }
            c.on_bytes(0, &chunk);
            let _ = c.poll(0);
            if c.is_closed() {
                break;
            }
        }
    }
}

#[test]
fn a_flood_of_echo_requests_is_answered_with_bounded_buffers() {
    let mut c = up();
    let one = enc(1, &Message::EchoRequest(vec![0xaa; 8]));
    let mut stream = Vec::new();
    for _ in 0..10_000 {
        stream.extend_from_slice(&one);
    }
    let mut replies = 0;
    // Cut into socket-sized reads that split messages.
    for chunk in stream.chunks(4093) {
        assert!(c.on_bytes(0, chunk).is_empty());
        assert!(c.pending_input() < one.len());
        let out = c.output().len();
        replies += out / one.len();
        c.consume_output(out);
        assert!(c.output().is_empty());
    }
    assert_eq!(replies, 10_000);
    assert_eq!(c.stats().rx_msgs, 10_000 + 1);
    assert!(c.is_up());
}

#[test]
fn output_is_consumed_in_pieces() {
    let mut c = up();
    for i in 0..100 {
        c.on_bytes(0, &enc(i, &Message::EchoRequest(vec![0; 1000])));
    }
    let all = c.output().to_vec();
    let mut got = Vec::new();
    while !c.output().is_empty() {
        let n = c.output().len().min(777);
        got.extend_from_slice(&c.output()[..n]);
        c.consume_output(n);
    }
    assert_eq!(got, all);
    assert_eq!(decode_all(&got).len(), 100);
}

#[test]
fn set_and_get_config() {
    let mut c = up();
    assert_eq!(c.switch_config().miss_send_len, DEFAULT_MISS_SEND_LEN);
    let cfg = SwitchConfig {
        flags: OFPC_FRAG_NORMAL,
        miss_send_len: 0xffff,
    };
    c.on_bytes(0, &enc(1, &Message::SetConfig(cfg)));
    c.on_bytes(0, &enc(2, &Message::GetConfigRequest));
    assert_eq!(c.switch_config(), cfg);
    let out = decode_all(&c.poll(0));
    assert_eq!(out[0].1, Message::GetConfigReply(cfg));
    assert_eq!(out[0].0.xid, 2);
    // A fragment mode the switch does not carry out is refused.
    let drop = SwitchConfig {
        flags: OFPC_FRAG_DROP,
        miss_send_len: 1,
    };
    c.on_bytes(0, &enc(3, &Message::SetConfig(drop)));
    assert_eq!(errors(&c.poll(0)), vec![(3, OFPSCFC_BAD_FLAGS)]);
    assert_eq!(c.switch_config(), cfg);
    // Unless it says it does.
    let mut c = Connection::new(
        ConnConfig {
            frag_modes: vec![OFPC_FRAG_NORMAL, OFPC_FRAG_DROP],
            ..ConnConfig::default()
        },
        0,
    );
    c.on_bytes(0, &hello13());
    c.on_bytes(0, &enc(4, &Message::SetConfig(drop)));
    assert_eq!(c.switch_config(), drop);
}

fn packet_in(reason: u8) -> Message {
    Message::PacketIn(PacketIn {
        buffer_id: 0xffff_ffff,
        total_len: 60,
        reason,
        table_id: 0,
        cookie: 0,
        r#match: OxmMatch::packet_in(1, 0, 0),
        data: vec![0; 60],
    })
}

#[test]
fn roles_slave_refusal_and_async_filtering() {
    let mut arb = RoleArbiter::default();
    let mut a = up();
    let mut b = up();
    // a: master, generation 10.
    let ev = a.on_bytes(
        0,
        &enc(
            1,
            &Message::RoleRequest(RoleMsg {
                role: ControllerRole::Master,
                generation_id: 10,
            }),
        ),
    );
    let ConnEvent::RoleRequest {
        xid,
        role,
        generation_id,
        head,
    } = &ev[0]
    else {
        panic!("{ev:?}")
    };
    let verdict = arb.check(*role, *generation_id).map(|()| 10);
    a.answer_role(*xid, *role, verdict, head);
    assert_eq!(a.role(), ControllerRole::Master);
    assert_eq!(
        decode_all(&a.poll(0))[0].1,
        Message::RoleReply(RoleMsg {
            role: ControllerRole::Master,
            generation_id: 10
        })
    );
    // b: master with an older generation: stale.
    assert_eq!(
        arb.check(ControllerRole::Master, 9),
        Err(OFPRRFC_STALE),
        "older generation"
    );
    b.answer_role(5, ControllerRole::Master, Err(OFPRRFC_STALE), b"x");
    assert_eq!(errors(&b.poll(0)), vec![(5, OFPRRFC_STALE)]);
    // Wrap-around: u64::MAX is older than 10? No: 10 - MAX = 11 > 0.
    assert_eq!(arb.check(ControllerRole::Slave, 11), Ok(()));
    let mut arb2 = RoleArbiter::default();
    arb2.check(ControllerRole::Master, u64::MAX).unwrap();
    assert_eq!(arb2.check(ControllerRole::Master, 3), Ok(()));
    // Equal ignores the generation.
    assert_eq!(arb.check(ControllerRole::Equal, 0), Ok(()));

    // b becomes master: a is demoted; a slave's flow-mods are refused.
    b.answer_role(6, ControllerRole::Master, Ok(12), b"");
    a.demote();
    b.poll(0);
    assert_eq!(a.role(), ControllerRole::Slave);
    let po = vec![
        4, 13, 0, 24, 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    assert!(a.on_bytes(0, &po).is_empty());
    assert_eq!(errors(&a.poll(0)), vec![(8, OFPBRC_IS_SLAVE)]);
    // Reads are still fine for a slave.
    assert_eq!(a.on_bytes(0, &enc(9, &Message::FeaturesRequest)).len(), 1);

    // Async: the slave gets no packet-in, the master NO_MATCH and ACTION
    // but not INVALID_TTL, until SET_ASYNC asks for it.
    assert_eq!(a.send_async(&packet_in(OFPR_NO_MATCH)), Delivery::Filtered);
    assert_eq!(b.send_async(&packet_in(OFPR_NO_MATCH)), Delivery::Sent);
    assert_eq!(b.send_async(&packet_in(OFPR_ACTION)), Delivery::Sent);
    assert_eq!(
        b.send_async(&packet_in(OFPR_INVALID_TTL)),
        Delivery::Filtered
    );
    let cfg = AsyncConfig {
        packet_in_mask: [0b111, 0b001],
        port_status_mask: [0, 0],
        flow_removed_mask: [0, 0],
    };
    b.on_bytes(0, &enc(3, &Message::SetAsync(cfg)));
    a.on_bytes(0, &enc(3, &Message::SetAsync(cfg)));
    assert_eq!(b.send_async(&packet_in(OFPR_INVALID_TTL)), Delivery::Sent);
    assert_eq!(a.send_async(&packet_in(OFPR_NO_MATCH)), Delivery::Sent);
    b.on_bytes(0, &enc(4, &Message::GetAsyncRequest));
    let out = decode_all(&b.poll(0));
    assert_eq!(out.last().unwrap().1, Message::GetAsyncReply(cfg));
    assert_eq!(out.iter().filter(|(h, _)| h.xid == 0).count(), 3);
}

#[test]
fn async_messages_are_dropped_when_output_backs_up() {
    let mut c = Connection::new(
        ConnConfig {
            max_queued: 4096,
            ..ConnConfig::default()
        },
        0,
    );
    // Not up yet: filtered.
    assert_eq!(c.send_async(&packet_in(OFPR_NO_MATCH)), Delivery::Filtered);
    c.on_bytes(0, &hello13());
    let mut sent = 0;
    for _ in 0..1000 {
        if c.send_async(&packet_in(OFPR_NO_MATCH)) == Delivery::Sent {
            sent += 1;
        }
    }
    assert!(sent < 100, "{sent}");
    assert_eq!(c.stats().async_dropped, 1000 - sent);
    assert!(c.output().len() < 4096 + 200);
    let n = c.output().len();
    c.consume_output(n);
    assert_eq!(c.send_async(&packet_in(OFPR_NO_MATCH)), Delivery::Sent);
}

#[test]
fn local_close_keeps_queued_output() {
    let mut c = up();
    c.on_bytes(0, &enc(1, &Message::EchoRequest(vec![])));
    assert!(matches!(
        c.close("bye"),
        ConnEvent::Closed(CloseReason::Local(_))
    ));
    assert_eq!(decode_all(c.output()).len(), 1);
    // Sending after close is a no-op.
    c.send(2, &Message::BarrierReply);
    assert_eq!(decode_all(c.output()).len(), 1);
}
