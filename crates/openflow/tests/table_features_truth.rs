//! TABLE_FEATURES tells the truth: the MATCH and WILDCARDS properties in
//! golden bytes written from the spec's field table; every field listed
//! in MATCH is accepted by the codec in a FLOW_MOD (masked exactly when its
//! has-mask bit says so), every field left out is refused; every action
//! and set-field listed translates to the switch model and every one left
//! out does not; and `ovs-ofctl ofp-print` (Open vSwitch 3.1) reads the
//! reply as saying exactly that (skipped, printing SKIP, without it).

mod common;

use std::collections::BTreeSet;

use std::process::Command;

use common::{match_of, unhex};
use vnet_openflow::action::Action;
use vnet_openflow::multipart::table_features::{
    match_fields, settable_fields, supported_actions, wildcard_fields,
};
use vnet_openflow::multipart::{
    MultipartReply, MultipartReplyBody, OxmId, TableFeatureProp, TableFeatures,
};
use vnet_openflow::oxm::{OxmField, OxmTlv};
use vnet_openflow::Message;

fn reply(n_tables: u8) -> Message {
    Message::MultipartReply(MultipartReply {
        flags: 0,
        body: MultipartReplyBody::TableFeatures(
            (0..n_tables)
                .map(|t| TableFeatures::supported(t, n_tables, 1000))
                .collect(),
        ),
    })
}

/// OFPTFPT_MATCH (8): the forty basic fields, maskable ones with the
/// has-mask bit and twice the length, then NXM_NX_IP_FRAG (maskable),
/// NXM_NX_IP_TTL, NXM_NX_MPLS_TTL and ONFOXM_ET_TCP_FLAGS (maskable).
const MATCH_PROP: &str = "0008 00b8
    80000004 80000204 80000510 8000070c 8000090c 80000a02 80000d04 80000e01
    80001001 80001201 80001401 80001708 80001908 80001a02 80001c02 80001e02
    80002002 80002202 80002402 80002601 80002801 80002a02 80002d08 80002f08
    8000310c 8000330c 80003520 80003720 80003908 80003a01 80003c01 80003e10
    80004006 80004206 80004404 80004601 80004801 80004b06 80004d10 80004f04
    00013502 00013a01 00013c01 ffff5508 4f4e4600";

/// OFPTFPT_WILDCARDS (10): the same fields, any of which a flow may leave
/// out, as plain headers.
const WILDCARDS_PROP: &str = "000a 00b8
    80000004 80000204 80000408 80000606 80000806 80000a02 80000c02 80000e01
    80001001 80001201 80001401 80001604 80001804 80001a02 80001c02 80001e02
    80002002 80002202 80002402 80002601 80002801 80002a02 80002c04 80002e04
    80003006 80003206 80003410 80003610 80003804 80003a01 80003c01 80003e10
    80004006 80004206 80004404 80004601 80004801 80004a03 80004c08 80004e02
    00013401 00013a01 00013c01 ffff5406 4f4e4600";

#[test]
fn match_and_wildcards_golden_bytes() {
    let bytes = reply(2).encode(1).unwrap();
    for (name, prop) in [("MATCH", MATCH_PROP), ("WILDCARDS", WILDCARDS_PROP)] {
        let want = unhex(prop);
        let n = bytes.windows(want.len()).filter(|w| *w == want).count();
        assert_eq!(n, 2, "{name} property once per table");
    }
}

fn props(t: &TableFeatures) -> &[TableFeatureProp] {
    &t.properties
}

#[test]
fn instructions_and_next_tables() {
    let last = TableFeatures::supported(3, 4, 10);
    let first = TableFeatures::supported(0, 4, 10);
    for p in props(&first) {
        match p {
            TableFeatureProp::Instructions { ids, .. } => assert_eq!(ids, &[1, 2, 3, 4, 5, 6]),
            TableFeatureProp::NextTables { tables, .. } => assert_eq!(tables, &[1, 2, 3]),
            _ => {}
        }
    }
    for p in props(&last) {
        match p {
            TableFeatureProp::Instructions { ids, .. } => assert_eq!(ids, &[2, 3, 4, 5, 6]),
            TableFeatureProp::NextTables { tables, .. } => assert!(tables.is_empty()),
            _ => {}
        }
    }
    // Every property but MATCH and WILDCARDS has its miss twin, saying
    // the same.
    use TableFeatureProp as P;
    let twins = |p: &P| -> Option<(bool, P)> {
        Some(match p.clone() {
            P::Instructions { miss, ids } => (miss, P::Instructions { miss: false, ids }),
            P::NextTables { miss, tables } => (
                miss,
                P::NextTables {
                    miss: false,
                    tables,
                },
            ),
            P::WriteActions { miss, ids } => (miss, P::WriteActions { miss: false, ids }),
            P::ApplyActions { miss, ids } => (miss, P::ApplyActions { miss: false, ids }),
            P::WriteSetfield { miss, ids } => (miss, P::WriteSetfield { miss: false, ids }),
            P::ApplySetfield { miss, ids } => (miss, P::ApplySetfield { miss: false, ids }),
            _ => return None,
        })
    };
    for t in [&first, &last] {
        let all: Vec<(bool, P)> = props(t).iter().filter_map(twins).collect();
        let plain: Vec<&P> = all.iter().filter(|(m, _)| !m).map(|(_, p)| p).collect();
        let miss: Vec<&P> = all.iter().filter(|(m, _)| *m).map(|(_, p)| p).collect();
        assert_eq!(plain.len(), 6);
        assert_eq!(plain, miss);
        let others = props(t).iter().filter(|p| twins(p).is_none()).count();
        assert_eq!(others, 2, "MATCH and WILDCARDS");
    }
}

/// A FLOW_MOD ADD with these TLVs (ETH_TYPE etc. for prerequisites
/// first) and no instructions, decoded and translated.
fn accepts(tlvs: &[u8]) -> Result<(), vnet_openflow::DecodeError> {
    match_of(tlvs).map(|_| ())
}

/// TLVs that satisfy `f`'s prerequisites, then `f` (value `v`, `mask`).
fn with_prereqs(f: OxmField, v: u128, mask: Option<u128>) -> Vec<u8> {
    use OxmField as F;
    let eth = |t: u128| OxmTlv::exact(F::EthType, t);
    let proto = |p: u128| OxmTlv::exact(F::IpProto, p);
    let mut tlvs = match f {
        F::InPhyPort => vec![OxmTlv::exact(F::InPort, v)],
        F::VlanPcp => vec![OxmTlv::exact(F::VlanVid, 0x1001)],
        F::IpDscp | F::IpEcn | F::IpProto | F::NxIpFrag | F::NxIpTtl => vec![eth(0x0800)],
        F::Ipv4Src | F::Ipv4Dst => vec![eth(0x0800)],
        F::TcpSrc | F::TcpDst | F::NxTcpFlags | F::OnfTcpFlags => vec![eth(0x0800), proto(6)],
        F::UdpSrc | F::UdpDst => vec![eth(0x0800), proto(17)],
        F::SctpSrc | F::SctpDst => vec![eth(0x0800), proto(132)],
        F::Icmpv4Type | F::Icmpv4Code => vec![eth(0x0800), proto(1)],
        F::ArpOp | F::ArpSpa | F::ArpTpa | F::ArpSha | F::ArpTha => vec![eth(0x0806)],
        F::Ipv6Src | F::Ipv6Dst | F::Ipv6Flabel | F::Ipv6Exthdr => vec![eth(0x86dd)],
        F::Icmpv6Type | F::Icmpv6Code => vec![eth(0x86dd), proto(58)],
        F::Ipv6NdTarget | F::Ipv6NdSll => {
            vec![eth(0x86dd), proto(58), OxmTlv::exact(F::Icmpv6Type, 135)]
        }
        F::Ipv6NdTll => vec![eth(0x86dd), proto(58), OxmTlv::exact(F::Icmpv6Type, 136)],
        F::MplsLabel | F::MplsTc | F::MplsBos | F::NxMplsTtl => vec![eth(0x8847)],
        F::PbbIsid => vec![eth(0x88e7)],
        F::InPort | F::Metadata | F::EthDst | F::EthSrc | F::EthType | F::VlanVid | F::TunnelId => {
            vec![]
        }
    };
    let value = if f == F::VlanVid { 0x1001 } else { v };
    tlvs.push(OxmTlv {
        field: f,
        value: mask.map_or(value, |m| value & m),
        mask,
    });
    let mut out = Vec::new();
    tlvs.iter().for_each(|t| t.encode(&mut out));
    out
}

#[test]
fn listed_match_fields_are_the_accepted_ones() {
    let listed = match_fields();
    for f in OxmField::ALL.iter().copied() {
        let exact = OxmId::of(f);
        let masked = OxmId {
            header: f.header(true),
            experimenter: f.experimenter(),
        };
        let shown = if f == OxmField::NxTcpFlags {
            // Listed once, in its ONF encoding; both are accepted.
            OxmField::OnfTcpFlags
        } else {
            f
        };
        let mask_listed = listed.iter().any(|id| id.header == shown.header(true));
        let plain_listed = listed.iter().any(|id| id.header == shown.header(false));
        assert!(mask_listed != plain_listed, "{} listed once", f.name());
        assert!(
            wildcard_fields().contains(&OxmId::of(shown)),
            "{} not wildcardable",
            f.name()
        );
        let _ = (exact, masked);
        accepts(&with_prereqs(f, 1, None)).unwrap_or_else(|e| panic!("{}: {e}", f.name()));
        let m = accepts(&with_prereqs(f, 1, Some(1)));
        if mask_listed {
            m.unwrap_or_else(|e| panic!("{} masked: {e}", f.name()));
        } else {
            assert!(m.is_err(), "{} masked accepted but not listed", f.name());
        }
    }
    // Nothing else: any other basic field number is refused.
    for code in 40..128u32 {
        let h = (0x8000_0000u32 | code << 9 | 1).to_be_bytes();
        assert!(accepts(&[&h[..], &[0]].concat()).is_err());
    }
}

/// Whether a flow in table 0 of a 2-table pipeline (with group 7)
/// holding apply-actions `a` (after a match giving `a` what it needs) is
/// accepted: codec translation, flow checks and pipeline checks.
fn flow_with_action_accepted(a: &Action) -> bool {
    use vnet_switch::flow::{Flow, FlowMod, Instruction, Match};
    use vnet_switch::group::{Group, GroupMod, GroupModCommand, GroupType};
    use vnet_switch::pipeline::Pipeline;
    let Ok(action) = a.to_switch() else {
        return false;
    };
    let mut m = Match::catch_all();
    let (dl_type, vlan) = match a {
        Action::PopVlan => (0, true),
        Action::CopyTtlOut | Action::CopyTtlIn | Action::SetMplsTtl(_) | Action::DecMplsTtl => {
            (0x8847, false)
        }
        Action::PopMpls(_) => (0x8847, false),
        Action::PopPbb => (0x88e7, false),
        Action::SetNwTtl(_) | Action::DecNwTtl => (0x0800, false),
        _ => (0, false),
    };
    if dl_type != 0 {
        (m.key.dl_type, m.mask.dl_type) = (dl_type, !0);
    }
    if vlan {
        (m.key.vlan_tci, m.mask.vlan_tci) = (0x1000, 0x1000);
    }
    let mut p = Pipeline::new(2);
    let group = Group {
        id: 7,
        group_type: GroupType::All,
        buckets: vec![],
    };
    let add = GroupMod {
        command: GroupModCommand::Add,
        group,
    };
    p.apply_group_mod(&add, 0).expect("group 7");
    let flow = Flow {
        r#match: m,
        instructions: vec![Instruction::ApplyActions(vec![action])],
        ..Flow::default()
    };
    flow.validate().is_ok() && p.apply(&FlowMod::add(flow), 0).is_ok()
}

#[test]
fn listed_actions_are_the_accepted_ones() {
    let actions = supported_actions();
    let samples = [
        Action::Output {
            port: 1,
            max_len: 0,
        },
        Action::CopyTtlOut,
        Action::CopyTtlIn,
        Action::SetMplsTtl(9),
        Action::DecMplsTtl,
        Action::PushVlan(0x88a8),
        Action::PopVlan,
        Action::PushMpls(0x8848),
        Action::PopMpls(0x86dd),
        Action::SetQueue(0),
        Action::Group(7),
        Action::SetNwTtl(1),
        Action::DecNwTtl,
        Action::SetField(OxmTlv::exact(OxmField::TunnelId, 9)),
        Action::PushPbb(0x88e7),
        Action::PopPbb,
    ];
    assert_eq!(samples.len(), 16, "every OFPAT_* of the spec");
    let g = vnet_openflow::multipart::GroupFeatures::supported();
    for a in &samples {
        let listed = actions.contains(&a.type_code());
        assert_eq!(listed, flow_with_action_accepted(a), "{}", a.name());
        // Group features say the same.
        let bit = g.actions.iter().all(|m| m & 1 << a.type_code() != 0);
        assert_eq!(bit, listed, "group features: {}", a.name());
    }
}

#[test]
fn listed_set_fields_are_the_translated_ones() {
    let settable = settable_fields();
    for f in OxmField::ALL.iter().copied() {
        let listed = settable.contains(&OxmId::of(f));
        let v = if f == OxmField::VlanVid { 0x1005 } else { 1 };
        let ok = OxmTlv::exact(f, v).to_field().is_ok();
        assert_eq!(listed, ok, "set_field {}", f.name());
    }
}

/// The name ovs-ofctl prints for a field, None for those Open vSwitch does
/// not know (it skips them).
pub fn ovs_name(f: OxmField) -> Option<&'static str> {
    use OxmField as F;
    Some(match f {
        F::InPort => "in_port_oxm",
        F::Metadata => "metadata",
        F::EthDst => "eth_dst",
        F::EthSrc => "eth_src",
        F::EthType => "eth_type",
        F::VlanVid => "vlan_vid",
        F::VlanPcp => "vlan_pcp",
        F::IpDscp => "ip_dscp",
        F::IpEcn => "nw_ecn",
        F::IpProto => "nw_proto",
        F::Ipv4Src => "ip_src",
        F::Ipv4Dst => "ip_dst",
        F::TcpSrc => "tcp_src",
        F::TcpDst => "tcp_dst",
        F::UdpSrc => "udp_src",
        F::UdpDst => "udp_dst",
        F::SctpSrc => "sctp_src",
        F::SctpDst => "sctp_dst",
        F::Icmpv4Type => "icmp_type",
        F::Icmpv4Code => "icmp_code",
        F::ArpOp => "arp_op",
        F::ArpSpa => "arp_spa",
        F::ArpTpa => "arp_tpa",
        F::ArpSha => "arp_sha",
        F::ArpTha => "arp_tha",
        F::Ipv6Src => "ipv6_src",
        F::Ipv6Dst => "ipv6_dst",
        F::Ipv6Flabel => "ipv6_label",
        F::Icmpv6Type => "icmpv6_type",
        F::Icmpv6Code => "icmpv6_code",
        F::Ipv6NdTarget => "nd_target",
        F::Ipv6NdSll => "nd_sll",
        F::Ipv6NdTll => "nd_tll",
        F::MplsLabel => "mpls_label",
        F::MplsTc => "mpls_tc",
        F::MplsBos => "mpls_bos",
        F::TunnelId => "tun_id",
        F::NxIpFrag => "ip_frag",
        F::NxIpTtl => "nw_ttl",
        F::NxMplsTtl => "mpls_ttl",
        F::OnfTcpFlags => "tcp_flags",
        F::InPhyPort | F::PbbIsid | F::Ipv6Exthdr | F::NxTcpFlags => return None,
    })
}

/// The name ovs-ofctl prints for an `OFPAT_*` type, None for those it
/// does not know (COPY_TTL_*, PBB).
pub fn ovs_action_name(t: u16) -> Option<&'static str> {
    Some(match t {
        0 => "output",
        15 => "set_mpls_ttl",
        16 => "dec_mpls_ttl",
        17 => "push_vlan",
        18 => "strip_vlan",
        19 => "push_mpls",
        20 => "pop_mpls",
        21 => "set_queue",
        22 => "group",
        23 => "mod_nw_ttl",
        24 => "dec_ttl",
        25 => "set_field",
        _ => return None,
    })
}

/// `eth_{src,dst} vlan_vid` → {eth_src, eth_dst, vlan_vid}.
pub fn expand(list: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for word in list.split_whitespace() {
        match word.split_once('{') {
            Some((pre, rest)) => {
                for alt in rest.trim_end_matches('}').split(',') {
                    out.insert(format!("{pre}{alt}"));
                }
            }
            None => {
                out.insert(word.to_string());
            }
        }
    }
    out
}

/// The names after `label` on the first line of `text` that has it.
pub fn line(text: &str, label: &str) -> BTreeSet<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .map(expand)
        .unwrap_or_default()
}

/// What ovs-ofctl must print for the supported lists (as name sets):
/// (arbitrary mask, exact match or wildcard, actions, set-field).
pub fn ovs_expectations() -> [BTreeSet<String>; 4] {
    let known = |f: &OxmField| ovs_name(*f).map(str::to_string);
    let listed: Vec<OxmField> = OxmField::ALL
        .iter()
        .copied()
        .filter(|f| *f != OxmField::NxTcpFlags)
        .collect();
    let masked = listed
        .iter()
        .filter(|f| f.mask_allowed())
        .filter_map(known)
        .collect();
    let exact = listed
        .iter()
        .filter(|f| !f.mask_allowed())
        .filter_map(known)
        .collect();
    let actions = supported_actions()
        .into_iter()
        .filter_map(ovs_action_name)
        .map(str::to_string)
        .collect();
    let settable = settable_fields();
    let set = listed
        .iter()
        .filter(|f| settable.contains(&OxmId::of(**f)))
        .filter_map(known)
        .collect();
    [masked, exact, actions, set]
}

#[test]
fn ovs_ofctl_reads_the_truth() {
    let hex: String = reply(3)
        .encode(1)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let Ok(out) = Command::new("ovs-ofctl").args(["ofp-print", &hex]).output() else {
        println!("SKIP: ovs-ofctl not installed (apt-get install openvswitch-common)");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success() && !text.contains("decode error"),
        "{text}"
    );
    let [masked, exact, actions, set] = ovs_expectations();
    assert_eq!(line(&text, "arbitrary mask:"), masked, "{text}");
    assert_eq!(line(&text, "exact match or wildcard:"), exact, "{text}");
    assert!(!text.contains("must exact match"), "{text}");
    assert_eq!(line(&text, "actions:"), actions, "{text}");
    assert_eq!(line(&text, "supported on Set-Field:"), set, "{text}");
    assert!(text.contains("next tables: 1-2"), "{text}");
    assert!(text.contains(
        "instructions: meter apply_actions clear_actions write_actions write_metadata goto_table"
    ));
    // The last table cannot go further.
    let t2 = text.split("table 2").nth(1).unwrap();
    assert!(!t2.contains("goto_table"), "{t2}");
}
