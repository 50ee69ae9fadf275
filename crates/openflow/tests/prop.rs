//! Property tests: switch-model flow-mods survive encode → decode
//! unchanged, and no byte string makes the decoder (or the translation to
//! the switch model) panic.

use proptest::prelude::*;
use vnet_openflow::msg::FlowMod;
use vnet_openflow::Message;
use vnet_switch::flow::{
    self, Action, Field, Flow, FlowFlags, FlowModCommand, Instruction, Match, PortNo,
};
use vnet_wire::FlowKey;

/// A random valid match: an L2/L3 kind, then each field the kind allows
/// with probability 1/2, exact or with a random prefix/bit mask where
/// OXM allows one.
fn build_match(kind: u8, include: u64, r: &[u64; 12]) -> Match {
    let mut k = FlowKey::default();
    let mut m = FlowKey::default();
    let on = |bit: u32| include & (1 << bit) != 0;
    let prefix32 = |x: u64| if x % 3 == 0 { !0u32 } else { !0u32 << (x % 32) };
    let mac = |x: u64| {
        let b = x.to_be_bytes();
        [b[2], b[3], b[4], b[5], b[6], b[7]]
    };
    if on(0) {
        (k.in_port, m.in_port) = (r[0] as u32 % 100 + 1, !0);
    }
    if on(1) {
        (k.metadata, m.metadata) = (r[1], r[2]);
    }
    if on(2) {
        (k.dl_src, m.dl_src) = (mac(r[3]), [0xff; 6]);
    }
    if on(3) {
        (k.dl_dst, m.dl_dst) = (mac(r[4]), mac(r[5]));
    }
    if on(4) {
        (k.tunnel_id, m.tunnel_id) = (r[6], if r[6] % 2 == 0 { !0 } else { r[7] });
    }
    match include >> 40 & 3 {
        // untagged
        1 => (k.vlan_tci, m.vlan_tci) = (0, 0x1fff),
        // VID (+ PCP)
        2 => {
            k.vlan_tci = 0x1000 | (r[0] >> 8) as u16 & 0xfff;
            m.vlan_tci = 0x1fff;
            if on(5) {
                k.vlan_tci |= ((r[0] >> 20) as u16 & 7) << 13;
                m.vlan_tci |= 0xe000;
            }
        }
        // any tag
        3 => (k.vlan_tci, m.vlan_tci) = (0x1000, 0x1000),
        _ => {}
    }
    let ip = |k: &mut FlowKey, m: &mut FlowKey, v6: bool| {
        if on(10) {
            k.nw_tos |= (r[8] as u8) & 0xfc;
            m.nw_tos |= 0xfc;
        }
        if on(11) {
            k.nw_tos |= (r[8] >> 8) as u8 & 3;
            m.nw_tos |= 3;
        }
        if on(12) {
            (k.nw_ttl, m.nw_ttl) = ((r[8] >> 16) as u8, !0);
        }
        if on(13) {
            let f = [(0, 3), (1, 3), (3, 3), (0, 1), (1, 1)][(r[8] >> 24) as usize % 5];
            (k.nw_frag, m.nw_frag) = f;
        }
        let proto = [6u8, 17, 132, if v6 { 58 } else { 1 }, 47][(r[9] % 5) as usize];
        if on(14) {
            (k.nw_proto, m.nw_proto) = (proto, !0);
            let l4 = (r[9] >> 8) as u16;
            match proto {
                // Ports are exact: OpenFlow 1.3 does not let a peer mask them.
                6 | 17 | 132 => {
                    if on(16) {
                        (k.tp_src, m.tp_src) = (l4, !0);
                    }
                    if on(17) {
                        (k.tp_dst, m.tp_dst) = (l4 ^ 0xf0f0, !0);
                    }
                    if proto == 6 && on(18) {
                        (k.tcp_flags, m.tcp_flags) = (l4 & 0x012, 0x012);
                    }
                }
                1 | 58 => {
                    let ty = if v6 && on(19) {
                        135 + (l4 & 1)
                    } else {
                        l4 & 0xff
                    };
                    if on(16) || (v6 && on(19)) {
                        (k.tp_src, m.tp_src) = (ty, !0);
                    }
                    if on(17) && !(v6 && on(19)) {
                        (k.tp_dst, m.tp_dst) = (l4 >> 8, !0);
                    }
                    if v6 && on(19) {
                        (k.nd_target, m.nd_target) = (u128::from(r[10]), !0);
                        if on(20) {
                            let ll = mac(r[11]);
                            if ty == 135 {
                                (k.nd_sll, m.nd_sll) = (ll, [0xff; 6]);
                            } else {
                                (k.nd_tll, m.nd_tll) = (ll, [0xff; 6]);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    };
    match kind % 6 {
        0 => {}
        1 => {
            (k.dl_type, m.dl_type) = (0x0800, !0);
            if on(6) {
                (k.ipv4_src, m.ipv4_src) = (r[1] as u32, prefix32(r[2]));
            }
            if on(7) {
                (k.ipv4_dst, m.ipv4_dst) = (r[3] as u32, prefix32(r[4]));
            }
            ip(&mut k, &mut m, false);
        }
        2 => {
            (k.dl_type, m.dl_type) = (0x86dd, !0);
            if on(6) {
                let p = (r[2] % 129) as u32;
                let mask = if p == 0 { 0 } else { !0u128 << (128 - p) };
                (k.ipv6_src, m.ipv6_src) = (u128::from(r[1]) << 64 | u128::from(r[3]), mask);
            }
            if on(7) {
                (k.ipv6_dst, m.ipv6_dst) = (u128::from(r[4]), !0);
            }
            if on(8) {
                (k.ipv6_label, m.ipv6_label) = (r[5] as u32 & 0xf_ffff, 0xf_ffff);
            }
            if on(9) {
                (k.ipv6_exthdr, m.ipv6_exthdr) = (r[6] as u16 & 0x1ff, (r[7] as u16) | 1);
            }
            ip(&mut k, &mut m, true);
        }
        3 => {
            (k.dl_type, m.dl_type) = (if on(21) { 0x0806 } else { 0x8035 }, !0);
            if on(6) {
                (k.nw_proto, m.nw_proto) = (r[1] as u8, !0);
            }
            if on(7) {
                (k.ipv4_src, m.ipv4_src) = (r[2] as u32, prefix32(r[3]));
            }
            if on(8) {
                (k.ipv4_dst, m.ipv4_dst) = (r[4] as u32, !0);
            }
            if on(9) {
                (k.arp_sha, m.arp_sha) = (mac(r[5]), mac(r[6]));
            }
            if on(10) {
                (k.arp_tha, m.arp_tha) = (mac(r[7]), [0xff; 6]);
            }
        }
        4 => {
            (k.dl_type, m.dl_type) = (if on(21) { 0x8847 } else { 0x8848 }, !0);
            for (bit, sub) in [(6, 0xffff_f000u32), (7, 0xe00), (8, 0x100), (9, 0xff)] {
                if on(bit) {
                    k.mpls_lse |= r[1] as u32 & sub;
                    m.mpls_lse |= sub;
                }
            }
        }
        _ => {
            (k.dl_type, m.dl_type) = (0x88e7, !0);
            if on(6) {
                (k.pbb_isid, m.pbb_isid) = (r[1] as u32 & 0xff_ffff, r[2] as u32 & 0xff_ffff);
            }
        }
    }
    Match::new(k, m)
}

fn arb_match() -> impl Strategy<Value = Match> {
    (any::<u8>(), any::<u64>(), any::<[u64; 12]>())
        .prop_map(|(kind, inc, r)| build_match(kind, inc, &r))
        .prop_filter("valid match", |m| m.validate().is_ok())
}

fn arb_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (1u32..0xff00).prop_map(|p| Action::Output(PortNo(p))),
        prop::sample::select(vec![
            PortNo::IN_PORT,
            PortNo::NORMAL,
            PortNo::FLOOD,
            PortNo::ALL,
            PortNo::LOCAL
        ])
        .prop_map(Action::Output),
        any::<u16>().prop_map(|max_len| Action::Controller { max_len }),
        any::<[u8; 6]>().prop_map(|m| Action::SetField(Field::EthDst(m))),
        any::<[u8; 6]>().prop_map(|m| Action::SetField(Field::EthSrc(m))),
        any::<u64>().prop_map(|t| Action::SetField(Field::TunnelId(t))),
        any::<u32>().prop_map(Action::Group),
        any::<u32>().prop_map(Action::SetQueue),
        prop::sample::select(vec![0x8100u16, 0x88a8]).prop_map(Action::PushVlan),
    ]
}

fn arb_flow_mod() -> impl Strategy<Value = flow::FlowMod> {
    (
        arb_match(),
        (0u8..5, 0u8..250, any::<u16>(), any::<u64>(), any::<u64>()),
        (
            any::<u16>(),
            any::<u16>(),
            0u16..0x20,
            any::<u32>(),
            any::<u32>(),
        ),
        (
            prop::collection::vec(arb_action(), 0..5),
            prop::collection::vec(arb_action(), 0..3),
            any::<Option<(u64, u64)>>(),
            any::<Option<u32>>(),
            any::<bool>(),
            any::<u8>(),
        ),
    )
        .prop_map(
            |(
                r#match,
                (cmd, table, priority, cookie, cookie_mask),
                (idle, hard, flags, out_port, out_group),
                (apply, write, meta, meter, clear, goto),
            )| {
                let mut instructions = Vec::new();
                if let Some(m) = meter {
                    instructions.push(Instruction::Meter(m));
                }
                if !apply.is_empty() {
                    instructions.push(Instruction::ApplyActions(apply));
                }
                if clear {
                    instructions.push(Instruction::ClearActions);
                }
                if !write.is_empty() {
                    instructions.push(Instruction::WriteActions(write));
                }
                if let Some((value, mask)) = meta {
                    instructions.push(Instruction::WriteMetadata { value, mask });
                }
                if goto > table {
                    instructions.push(Instruction::GotoTable(goto));
                }
                let command = [
                    FlowModCommand::Add,
                    FlowModCommand::Modify,
                    FlowModCommand::ModifyStrict,
                    FlowModCommand::Delete,
                    FlowModCommand::DeleteStrict,
                ][usize::from(cmd)];
                flow::FlowMod {
                    command,
                    flow: Flow {
                        table_id: table,
                        priority,
                        r#match,
                        instructions,
                        cookie,
                        idle_timeout: idle,
                        hard_timeout: hard,
                        flags: FlowFlags(flags),
                    },
                    cookie_mask,
                    out_port: PortNo(out_port),
                    out_group,
                }
            },
        )
        .prop_filter("valid flow", |fm| fm.flow.validate().is_ok())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn match_round_trips(m in arb_match()) {
        let oxm = vnet_openflow::oxm::OxmMatch::from_switch(&m).unwrap();
        prop_assert_eq!(oxm.to_switch().unwrap(), m);
    }

    #[test]
    fn flow_mod_round_trips(fm in arb_flow_mod(), xid in any::<u32>()) {
        let bytes = Message::FlowMod(FlowMod::from_switch(&fm).unwrap()).encode(xid).unwrap();
        let (h, msg) = Message::decode(&bytes).unwrap();
        prop_assert_eq!(h.xid, xid);
        let Message::FlowMod(wire) = msg else { panic!("not a flow_mod") };
        prop_assert_eq!(wire.to_switch().unwrap(), fm);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        exercise(&bytes);
    }

    /// Bytes behind a plausible header (version 4, a known type, the
    /// right length) reach the body decoders.
    #[test]
    fn arbitrary_bodies_never_panic(
        ty in 0u8..32,
        mp in 0u16..16,
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut m = vec![4, ty, 0, 0, 0, 0, 0, 1];
        if ty == 18 || ty == 19 {
            m.extend_from_slice(&mp.to_be_bytes());
        }
        m.extend_from_slice(&body);
        let len = m.len() as u16;
        m[2..4].copy_from_slice(&len.to_be_bytes());
        exercise(&m);
    }

    /// Captured FLOW_MODs with a few bytes changed.
    #[test]
    fn mutated_flow_mods_never_panic(
        fm in arb_flow_mod(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = Message::FlowMod(FlowMod::from_switch(&fm).unwrap()).encode(1).unwrap();
        for (at, v) in edits {
            let i = 8 + at % (bytes.len() - 8);
            bytes[i] = v;
        }
        exercise(&bytes);
    }
}

/// Decodes, and when that works re-encodes (which must decode to the same
/// message) and translates to the switch model.
fn exercise(bytes: &[u8]) {
    let _ = vnet_openflow::split_frames(bytes, vnet_openflow::MAX_MESSAGE_LEN);
    if let Ok((h, msg)) = Message::decode(bytes) {
        // Only a HELLO missing its last padding can grow past 65535.
        if let Ok(again) = msg.encode(h.xid) {
            assert_eq!(Message::decode(&again).unwrap().1, msg);
        }
        match &msg {
            Message::FlowMod(fm) => {
                let _ = fm.to_switch();
            }
            Message::PacketOut(p) => {
                let _ = p.actions_to_switch();
            }
            Message::MultipartRequest(r) => {
                if let vnet_openflow::multipart::MultipartRequestBody::Flow(f) = &r.body {
                    let _ = f.to_selector();
                }
            }
            _ => {}
        }
    }
}
