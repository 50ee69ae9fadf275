//! Round trip: for generated valid flows, parsing what `format_flow` and
//! `format_flow_spec` print gives the flow back, with and without port
//! names. Also: whatever the parser accepts prints canonically (printing
//! the parsed flow and parsing that again is a fixed point).

use proptest::prelude::*;
use vnet_switch::flow::*;
use vnet_switch::ofctl::{format_flow, format_flow_spec, parse_flow};
use vnet_wire::FlowKey;

fn names(n: &str) -> Option<u32> {
    match n {
        "p1" => Some(1),
        "eth 2" => Some(2),
        "uplink.0" => Some(0x1234),
        _ => None,
    }
}

fn labels(p: u32) -> Option<String> {
    match p {
        1 => Some("p1".into()),
        2 => Some("eth 2".into()),
        0x1234 => Some("uplink.0".into()),
        _ => None,
    }
}

fn port() -> impl Strategy<Value = PortNo> {
    prop_oneof![
        4 => (0u32..0xff00).prop_map(PortNo),
        1 => (0x1_0000u32..0xffff_ff00).prop_map(PortNo),
        1 => prop::sample::select(vec![PortNo(1), PortNo(2), PortNo(0x1234), PortNo::LOCAL]),
    ]
}

/// `(value, mask)` with `value` masked, the mask one of: none, all, random.
fn masked<T>(all: T, random: impl Strategy<Value = (T, T)> + Clone) -> impl Strategy<Value = (T, T)>
where
    T: Copy + Default + std::fmt::Debug + std::ops::BitAnd<Output = T> + 'static,
{
    let any = random.prop_map(|(v, m)| (v & m, m));
    prop_oneof![
        1 => Just((T::default(), T::default())),
        1 => any.clone().prop_map(move |(v, _)| (v & all, all)),
        1 => any,
    ]
}

fn mac() -> impl Strategy<Value = [u8; 6]> {
    any::<[u8; 6]>()
}

fn mac_masked() -> impl Strategy<Value = ([u8; 6], [u8; 6])> {
    prop_oneof![
        Just(([0; 6], [0; 6])),
        mac().prop_map(|v| (v, [0xff; 6])),
        (mac(), mac()).prop_map(|(v, m)| (std::array::from_fn(|i| v[i] & m[i]), m)),
    ]
}

/// A valid match: protocol class first, then fields it allows.
fn a_match() -> impl Strategy<Value = Match> {
    let class = 0u8..17;
    let common = (
        prop::option::of(port()),
        masked(!0u64, any::<(u64, u64)>()),
        mac_masked(),
        mac_masked(),
        0u8..6,
        any::<(u16, u16)>(),
        masked(!0u64, any::<(u64, u64)>()),
    );
    let l3 = (
        masked(!0u32, any::<(u32, u32)>()),
        masked(!0u32, any::<(u32, u32)>()),
        masked(!0u128, any::<(u128, u128)>()),
        masked(!0u128, any::<(u128, u128)>()),
        masked(
            0xfffffu32,
            any::<(u32, u32)>().prop_map(|(v, m)| (v & 0xfffff, m & 0xfffff)),
        ),
        (
            prop::sample::select(vec![0u8, 0xfc, 0x03, 0xff]),
            any::<u8>(),
        ),
        prop::option::of(any::<u8>()),
        prop::sample::select(vec![(0u8, 0u8), (1, 0), (1, 1), (3, 1), (3, 3), (2, 0)]),
    );
    let l4 = (
        masked(!0u16, any::<(u16, u16)>()),
        masked(!0u16, any::<(u16, u16)>()),
        masked(
            0x0fffu16,
            any::<(u16, u16)>().prop_map(|(v, m)| (v & 0xfff, m & 0xfff)),
        ),
        prop::option::of(any::<u8>()),
        prop::option::of(any::<u8>()),
        any::<u16>(),
        any::<u32>(),
        prop::option::of(0u8..3),
    );
    (class, common, l3, l4).prop_map(|(class, common, l3, l4)| {
        let (in_port, meta, src, dst, vlan, (vid, pcp), tun) = common;
        let (v4s, v4d, v6s, v6d, label, (tos_m, tos), ttl, frag) = l3;
        let (tps, tpd, flags, icmp_t, icmp_c, dl_type, mpls, nd) = l4;
        let (mut k, mut m) = (FlowKey::default(), FlowKey::default());
        if let Some(p) = in_port {
            (k.in_port, m.in_port) = (p.0, !0);
        }
        (k.metadata, m.metadata) = meta;
        (k.tunnel_id, m.tunnel_id) = tun;
        (k.dl_src, m.dl_src) = src;
        (k.dl_dst, m.dl_dst) = dst;
        let vid = vid & 0xfff;
        (k.vlan_tci, m.vlan_tci) = match vlan {
            0 => (0, 0),
            1 => (0x1000 | vid, 0x1fff),
            2 => (0x1000 | vid | (pcp & 0xe000), 0xffff),
            3 => (0x1000 | (pcp & 0xe000), 0xf000),
            4 => (0, 0x1fff),
            _ => ((vid | 0x1000) & pcp & 0x1fff, pcp & 0x1fff),
        };
        let (dl, proto): (u16, Option<u8>) = match class {
            0 => (0, None),
            1 => (ETH_TYPE_IP, None),
            2 => (ETH_TYPE_IPV6, None),
            3 => (ETH_TYPE_ARP, None),
            4 => (ETH_TYPE_IP, Some(IPPROTO_TCP)),
            5 => (ETH_TYPE_IP, Some(IPPROTO_UDP)),
            6 => (ETH_TYPE_IP, Some(IPPROTO_SCTP)),
            7 => (ETH_TYPE_IP, Some(IPPROTO_ICMP)),
            8 => (ETH_TYPE_IPV6, Some(IPPROTO_TCP)),
            9 => (ETH_TYPE_IPV6, Some(IPPROTO_UDP)),
            10 => (ETH_TYPE_IPV6, Some(IPPROTO_SCTP)),
            11 => (ETH_TYPE_IPV6, Some(IPPROTO_ICMPV6)),
            12 => (dl_type | 1, None),
            13 => (ETH_TYPE_MPLS, None),
            14 => (ETH_TYPE_RARP, icmp_t),
            15 => (ETH_TYPE_IP, Some(47)),
            _ => (ETH_TYPE_PBB, None),
        };
        if class != 0 {
            (k.dl_type, m.dl_type) = (dl, !0);
        }
        if let Some(p) = proto {
            (k.nw_proto, m.nw_proto) = (p, !0);
        }
        let ip = matches!(dl, ETH_TYPE_IP | ETH_TYPE_IPV6);
        if dl == ETH_TYPE_IP || matches!(dl, ETH_TYPE_ARP | ETH_TYPE_RARP) {
            ((k.ipv4_src, m.ipv4_src), (k.ipv4_dst, m.ipv4_dst)) = (v4s, v4d);
        }
        if dl == ETH_TYPE_IPV6 {
            ((k.ipv6_src, m.ipv6_src), (k.ipv6_dst, m.ipv6_dst)) = (v6s, v6d);
            (k.ipv6_label, m.ipv6_label) = label;
            (k.ipv6_exthdr, m.ipv6_exthdr) = (mpls as u16 & 0x1ff, (mpls >> 16) as u16 & 0x1ff);
            k.ipv6_exthdr &= m.ipv6_exthdr;
        }
        if ip {
            (k.nw_tos, m.nw_tos) = (tos & tos_m, tos_m);
            if let Some(t) = ttl {
                (k.nw_ttl, m.nw_ttl) = (t, !0);
            }
            (m.nw_frag, k.nw_frag) = frag;
        }
        match proto {
            Some(IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP) if ip => {
                ((k.tp_src, m.tp_src), (k.tp_dst, m.tp_dst)) = (tps, tpd);
                if proto == Some(IPPROTO_TCP) {
                    (k.tcp_flags, m.tcp_flags) = flags;
                }
            }
            Some(IPPROTO_ICMP | IPPROTO_ICMPV6) if ip => {
                if let Some(t) = icmp_t {
                    (k.tp_src, m.tp_src) = (t.into(), !0);
                }
                if let Some(c) = icmp_c {
                    (k.tp_dst, m.tp_dst) = (c.into(), !0);
                }
                if let (Some(IPPROTO_ICMPV6), Some(nd)) = (proto, nd) {
                    let ty = if nd == 0 { 135 } else { 136 };
                    ((k.tp_src, m.tp_src), (k.tp_dst, m.tp_dst)) = ((ty, !0), (0, !0));
                    (k.nd_target, m.nd_target) = v6s;
                    if ty == 135 {
                        (k.nd_sll, m.nd_sll) = src;
                    } else {
                        (k.nd_tll, m.nd_tll) = dst;
                    }
                }
            }
            _ => {}
        }
        if matches!(dl, ETH_TYPE_ARP | ETH_TYPE_RARP) {
            (k.arp_sha, m.arp_sha) = dst;
            (k.arp_tha, m.arp_tha) = src;
        }
        if dl == ETH_TYPE_MPLS {
            let sub = [MPLS_LABEL_MASK, MPLS_TC_MASK, MPLS_BOS_MASK, MPLS_TTL_MASK];
            let picked: u32 = sub
                .iter()
                .enumerate()
                .filter(|(i, _)| mpls >> i & 1 == 1)
                .map(|(_, s)| s)
                .sum();
            (k.mpls_lse, m.mpls_lse) = (mpls & picked, picked);
        }
        if dl == ETH_TYPE_PBB {
            (k.pbb_isid, m.pbb_isid) = (mpls & 0xff_ffff & (mpls >> 8), (mpls >> 8) & 0xff_ffff);
        }
        Match::new(k, m)
    })
}

fn field() -> impl Strategy<Value = Field> {
    use Field::*;
    prop_oneof![
        mac().prop_map(EthDst),
        mac().prop_map(EthSrc),
        (0u16..4096).prop_map(VlanVid),
        (0u8..8).prop_map(VlanPcp),
        (0u8..64).prop_map(IpDscp),
        (0u8..4).prop_map(IpEcn),
        any::<u32>().prop_map(Ipv4Src),
        any::<u32>().prop_map(Ipv4Dst),
        any::<u16>().prop_map(TcpSrc),
        any::<u16>().prop_map(UdpDst),
        any::<u16>().prop_map(SctpSrc),
        any::<u8>().prop_map(Icmpv4Type),
        (0u16..256).prop_map(ArpOp),
        any::<u32>().prop_map(ArpTpa),
        mac().prop_map(ArpSha),
        any::<u128>().prop_map(Ipv6Dst),
        (0u32..0x10_0000).prop_map(Ipv6Label),
        any::<u8>().prop_map(Icmpv6Code),
        any::<u128>().prop_map(NdTarget),
        mac().prop_map(NdTll),
        any::<u64>().prop_map(TunnelId),
        (0u32..0x10_0000).prop_map(MplsLabel),
        (0u8..8).prop_map(MplsTc),
        (0u8..2).prop_map(MplsBos),
        any::<u8>().prop_map(MplsTtl),
        any::<u8>().prop_map(NwTtl),
        (0u32..0x100_0000).prop_map(PbbIsid),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => port().prop_map(Action::Output),
        1 => prop::sample::select(vec![PortNo::IN_PORT, PortNo::NORMAL, PortNo::FLOOD, PortNo::ALL])
            .prop_map(Action::Output),
        1 => any::<u16>().prop_map(|max_len| Action::Controller { max_len }),
        1 => prop::sample::select(vec![ETH_TYPE_VLAN, ETH_TYPE_VLAN_8021AD]).prop_map(Action::PushVlan),
        1 => Just(Action::PopVlan),
        4 => field().prop_map(Action::SetField),
        1 => Just(Action::DecTtl),
        1 => any::<u8>().prop_map(Action::SetNwTtl),
        1 => any::<u32>().prop_map(Action::Group),
        1 => any::<u32>().prop_map(Action::SetQueue),
        1 => prop::sample::select(vec![
            Action::CopyTtlOut,
            Action::CopyTtlIn,
            Action::DecMplsTtl,
            Action::PopPbb,
            Action::PushPbb(ETH_TYPE_PBB),
            Action::PushMpls(ETH_TYPE_MPLS),
            Action::PushMpls(ETH_TYPE_MPLS_MCAST),
        ]),
        1 => any::<u8>().prop_map(Action::SetMplsTtl),
        1 => any::<u16>().prop_map(Action::PopMpls),
    ]
}

/// The actions of `list` that are valid in sequence from `state`.
fn keep_valid(list: Vec<Action>, state: &mut Match) -> Vec<Action> {
    list.into_iter()
        .filter(|a| a.check(state).is_ok())
        .collect()
}

/// The actions of `list` that keep it a valid action set from `state`
/// (checked in the order the set runs).
fn keep_valid_set(list: Vec<Action>, state: &Match) -> Vec<Action> {
    let mut kept: Vec<Action> = Vec::new();
    for a in list {
        kept.push(a);
        if check_write_actions(&kept, state).is_err() {
            kept.pop();
        }
    }
    kept
}

fn a_flow() -> impl Strategy<Value = Flow> {
    let insts = (
        prop::option::of(any::<u32>()),
        prop::collection::vec(action(), 0..5),
        any::<bool>(),
        prop::option::of(prop::collection::vec(action(), 0..3)),
        prop::option::of(any::<(u64, u64)>()),
        prop::option::of(any::<u8>()),
    );
    let header = (
        0u8..=254,
        any::<u16>(),
        any::<u64>(),
        any::<u16>(),
        any::<u16>(),
        0u16..32,
    );
    (a_match(), insts, header).prop_map(|(m, insts, header)| {
        let (meter, apply, clear, write, meta, goto) = insts;
        let (table_id, priority, cookie, idle_timeout, hard_timeout, flags) = header;
        let mut state = m;
        let mut instructions = Vec::new();
        instructions.extend(meter.map(Instruction::Meter));
        let apply = keep_valid(apply, &mut state);
        if !apply.is_empty() {
            instructions.push(Instruction::ApplyActions(apply));
        }
        if clear {
            instructions.push(Instruction::ClearActions);
        }
        if let Some(w) = write {
            instructions.push(Instruction::WriteActions(keep_valid_set(w, &state)));
        }
        if let Some((value, mask)) = meta {
            instructions.push(Instruction::WriteMetadata { value, mask });
        }
        if let Some(to) = goto.filter(|&t| t > table_id && t < 255) {
            instructions.push(Instruction::GotoTable(to));
        }
        Flow {
            table_id,
            priority,
            r#match: m,
            instructions,
            cookie,
            idle_timeout,
            hard_timeout,
            flags: FlowFlags(flags),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn printed_flows_parse_back(flow in a_flow(), packets in any::<u32>(), age in 0u64..10_000_000) {
        prop_assert_eq!(flow.validate(), Ok(()));
        let none = |_: u32| None;
        let stats = FlowStats::new(1_000);
        stats.record(u64::from(packets), u64::from(packets) * 60, 2_000);
        for (printed, ports) in [
            (format_flow(&flow, &stats, 1_000 + age, &labels), &names as &dyn Fn(&str) -> Option<u32>),
            (format_flow(&flow, &stats, 1_000 + age, &none), &names),
            (format_flow_spec(&flow, &labels), &names),
            (format_flow_spec(&flow, &none), &names),
        ] {
            let parsed = parse_flow(&printed, ports);
            prop_assert_eq!(parsed.as_ref(), Ok(&flow), "printed as {}", printed);
        }
    }

    #[test]
    fn parsing_then_printing_is_a_fixed_point(flow in a_flow()) {
        let once = format_flow_spec(&flow, &labels);
        let twice = format_flow_spec(&parse_flow(&once, &names).unwrap(), &labels);
        prop_assert_eq!(once, twice);
    }
}
