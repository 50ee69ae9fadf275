//! Every OXM match field of OpenFlow 1.3, one by one, and the Open vSwitch
//! extensions ovs-ofctl sends in OpenFlow 1.3: golden TLV bytes (captured
//! from `ovs-ofctl -O OpenFlow13 add-flow` — Open vSwitch 3.1 — for the
//! fields it can express; written by hand from the spec for IN_PHY_PORT,
//! PBB_ISID and IPV6_EXTHDR, which ovs-ofctl cannot) decode
//! to the switch-model match the same flow text gives, and that match
//! encodes back to the same bytes. Then each way a TLV can be wrong, for
//! every field: a mask where the spec forbids one (OFPBMC_BAD_MASK), value
//! bits outside the field (OFPBMC_BAD_VALUE) or outside the mask
//! (OFPBMC_BAD_WILDCARDS), the field twice (OFPBMC_DUP_FIELD), a wrong
//! length (OFPBMC_BAD_LEN), an unknown field (OFPBMC_BAD_FIELD), and every
//! prerequisite chain missing a link (OFPBMC_BAD_PREREQ).

mod common;

use common::{match_of, unhex};
use vnet_openflow::error::*;
use vnet_openflow::oxm::{OxmField, OxmMatch, OxmTlv};
use vnet_switch::flow::Match;
use vnet_switch::ofctl::{no_port_names, parse_flow};

/// (flow in ovs-ofctl syntax, the OXM TLVs ovs-ofctl sent for it).
const CAPTURED: &[(&str, &str)] = &[
    ("in_port=7", "8000000400000007"),
    (
        "metadata=0xab/0xff",
        "8000051000000000000000ab00000000000000ff",
    ),
    ("metadata=0x1122334455667788", "800004081122334455667788"),
    ("dl_dst=00:11:22:33:44:55", "80000606001122334455"),
    (
        "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00",
        "8000070c010000000000010000000000",
    ),
    ("dl_src=00:11:22:33:44:55", "80000806001122334455"),
    (
        "dl_src=00:11:22:00:00:00/ff:ff:ff:00:00:00",
        "8000090c001122000000ffffff000000",
    ),
    ("dl_type=0x1234", "80000a021234"),
    ("dl_vlan=10", "80000c02100a"),
    ("vlan_tci=0x1000/0x1000", "80000d0410001000"),
    ("vlan_tci=0x0000/0x1fff", "80000c020000"),
    ("vlan_tci=0x0005/0x0fff", "80000d0400050fff"),
    ("dl_vlan=10,dl_vlan_pcp=5", "80000c02100a80000e0105"),
    ("ip,nw_tos=184", "80000a020800800010012e"),
    ("ipv6,nw_ecn=2", "80000a0286dd8000120102"),
    ("ip,nw_proto=47", "80000a020800800014012f"),
    ("ip,nw_src=10.0.0.1", "80000a020800800016040a000001"),
    (
        "ip,nw_src=10.0.0.0/8",
        "80000a020800800017080a000000ff000000",
    ),
    (
        "ip,nw_dst=192.168.1.0/24",
        "80000a02080080001908c0a80100ffffff00",
    ),
    ("tcp,tp_src=80", "80000a020800800014010680001a020050"),
    ("tcp6,tp_dst=443", "80000a0286dd800014010680001c0201bb"),
    ("udp,tp_src=53", "80000a020800800014011180001e020035"),
    ("udp6,tp_dst=5353", "80000a0286dd80001401118000200214e9"),
    ("sctp,tp_src=1000", "80000a02080080001401848000220203e8"),
    ("sctp6,tp_dst=2000", "80000a0286dd80001401848000240207d0"),
    ("icmp,icmp_type=8", "80000a02080080001401018000260108"),
    (
        "icmp,icmp_type=3,icmp_code=1",
        "80000a020800800014010180002601038000280101",
    ),
    ("arp,arp_op=2", "80000a02080680002a020002"),
    ("arp,arp_spa=10.0.0.1", "80000a02080680002c040a000001"),
    (
        "arp,arp_tpa=10.0.0.0/24",
        "80000a02080680002f080a000000ffffff00",
    ),
    (
        "arp,arp_sha=00:11:22:33:44:55",
        "80000a02080680003006001122334455",
    ),
    (
        "arp,arp_tha=00:11:22:00:00:00/ff:ff:ff:00:00:00",
        "80000a0208068000330c001122000000ffffff000000",
    ),
    (
        "ipv6,ipv6_src=2001:db8::1",
        "80000a0286dd8000341020010db8000000000000000000000001",
    ),
    (
        "ipv6,ipv6_src=2001:db8::/32",
        "80000a0286dd8000352020010db8000000000000000000000000ffffffff000000000000000000000000",
    ),
    (
        "ipv6,ipv6_dst=fe80::/10",
        "80000a0286dd80003720fe800000000000000000000000000000ffc00000000000000000000000000000",
    ),
    ("ipv6,ipv6_label=0x12345", "80000a0286dd8000380400012345"),
    (
        "ipv6,ipv6_label=0x00045/0x000ff",
        "80000a0286dd8000390800000045000000ff",
    ),
    ("icmp6,icmp_type=128", "80000a0286dd800014013a80003a0180"),
    (
        "icmp6,icmp_type=1,icmp_code=4",
        "80000a0286dd800014013a80003a010180003c0104",
    ),
    (
        "icmp6,icmp_type=135,nd_target=2001:db8::1",
        "80000a0286dd800014013a80003a018780003e1020010db8000000000000000000000001",
    ),
    (
        "icmp6,icmp_type=136,nd_target=2001:db8::2",
        "80000a0286dd800014013a80003a018880003e1020010db8000000000000000000000002",
    ),
    (
        "icmp6,icmp_type=135,nd_sll=00:11:22:33:44:55",
        "80000a0286dd800014013a80003a018780004006001122334455",
    ),
    (
        "icmp6,icmp_type=136,nd_tll=00:11:22:33:44:66",
        "80000a0286dd800014013a80003a018880004206001122334466",
    ),
    ("mpls,mpls_label=100", "80000a0288478000440400000064"),
    ("mplsm,mpls_label=1048575", "80000a02884880004404000fffff"),
    ("mpls,mpls_tc=5", "80000a0288478000460105"),
    ("mpls,mpls_bos=1", "80000a0288478000480101"),
    ("tun_id=0x5", "80004c080000000000000005"),
    (
        "tun_id=0x500/0xff00",
        "80004d100000000000000500000000000000ff00",
    ),
    ("dl_type=0x88e7", "80000a0288e7"),
    // Open vSwitch's extensions for what the basic class lacks.
    ("ip,nw_ttl=5", "80000a02080000013a0105"),
    ("ip,nw_frag=first", "80000a0208000001340101"),
    ("ipv6,nw_frag=later", "80000a0286dd0001340103"),
    ("ip,nw_frag=not_later", "80000a020800000135020002"),
    (
        "tcp,tcp_flags=+syn-ack",
        "80000a0208008000140106ffff55084f4e460000020012",
    ),
    (
        "tcp6,tcp_flags=syn",
        "80000a0286dd8000140106ffff54064f4e46000002",
    ),
    ("mpls,mpls_ttl=5", "80000a02884700013c0105"),
];

/// Fields ovs-ofctl has no syntax for: (flow in vnet's syntax, TLVs
/// written from the spec).
const BY_HAND: &[(&str, &str)] = &[
    // ETH_TYPE 0x88e7, PBB_ISID 0x123456
    (
        "dl_type=0x88e7,pbb_isid=0x123456",
        "80000a0288e7 80004a03123456",
    ),
    // PBB_ISID/mask
    (
        "dl_type=0x88e7,pbb_isid=0x120000/0xff0000",
        "80000a0288e7 80004b06120000ff0000",
    ),
    // ETH_TYPE 0x86dd, IPV6_EXTHDR HOP
    ("ipv6,ipv6_exthdr=0x40", "80000a0286dd 80004e020040"),
    // IPV6_EXTHDR/mask: no HOP, FRAG, UNSEQ
    (
        "ipv6,ipv6_exthdr=0x0110/0x0150",
        "80000a0286dd 80004f0401100150",
    ),
];

fn error(tlvs: &[u8]) -> ErrorKind {
    match match_of(tlvs) {
        Ok(m) => panic!("{} accepted as {m:?}", hex(tlvs)),
        Err(e) => e.kind,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The TLVs this codec writes for `m`.
fn encode(m: &Match) -> Vec<u8> {
    let mut out = Vec::new();
    for t in OxmMatch::from_switch(m).unwrap().fields {
        t.encode(&mut out);
    }
    out
}

fn parsed(text: &str) -> Match {
    parse_flow(&format!("{text},actions=drop"), &no_port_names)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .r#match
}

/// One TLV of `f` with `value` (and `mask`), raw.
fn tlv(f: OxmField, value: u128, mask: Option<u128>) -> Vec<u8> {
    let mut out = Vec::new();
    OxmTlv {
        field: f,
        value,
        mask,
    }
    .encode(&mut out);
    out
}

/// A TLV header of `f` declaring `len` bytes, followed by `len` zeros.
fn tlv_with_len(f: OxmField, len: usize) -> Vec<u8> {
    let header = f.header(false) & !0xff | len as u32;
    let mut out = header.to_be_bytes().to_vec();
    if let Some(e) = f.experimenter() {
        out.extend_from_slice(&e.to_be_bytes());
        out.resize(out.len() + len - 4, 0);
    } else {
        out.resize(out.len() + len, 0);
    }
    out
}

/// The basic-class fields, OpenFlow 1.3's forty.
fn basic() -> impl Iterator<Item = OxmField> {
    OxmField::ALL
        .iter()
        .copied()
        .filter(|f| f.class() == 0x8000)
}

#[test]
fn every_basic_field_has_a_golden_case() {
    let mut covered = std::collections::BTreeSet::new();
    for (_, h) in CAPTURED.iter().chain(BY_HAND) {
        let b = unhex(h);
        let mut at = 0;
        while at < b.len() {
            covered.insert(b[at + 2] >> 1);
            at += 4 + usize::from(b[at + 3]);
        }
    }
    covered.insert(OxmField::InPhyPort.code()); // in_phy_port_equals_in_port
    for f in basic() {
        assert!(
            covered.contains(&f.code()),
            "no golden TLV for {}",
            f.name()
        );
    }
    assert_eq!(basic().count(), 40);
}

#[test]
fn captured_tlvs_decode_and_encode_back() {
    for (text, h) in CAPTURED.iter().chain(BY_HAND) {
        let bytes = unhex(h);
        let m = match_of(&bytes).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(m, parsed(text), "{text}: decoded match");
        assert_eq!(hex(&encode(&m)), hex(&bytes), "{text}: encoded TLVs");
    }
}

#[test]
fn in_phy_port_equals_in_port() {
    // IN_PORT 7, IN_PHY_PORT 7: the physical port is the port here.
    let m = match_of(&unhex("8000000400000007 8000020400000007")).unwrap();
    assert_eq!(m, parsed("in_port=7"));
    // ... in either order (the prerequisite need not come first).
    let m = match_of(&unhex("8000020400000007 8000000400000007")).unwrap();
    assert_eq!(m, parsed("in_port=7"));
    // A different physical port can never match: refused.
    let e = error(&unhex("8000000400000007 8000020400000008"));
    assert_eq!(e, OFPBMC_BAD_VALUE);
    // Without IN_PORT: its prerequisite.
    assert_eq!(error(&unhex("8000020400000007")), OFPBMC_BAD_PREREQ);
}

#[test]
fn vlan_vid_present_and_none() {
    // OFPVID_NONE: untagged only.
    let m = match_of(&unhex("80000c020000")).unwrap();
    assert_eq!((m.key.vlan_tci, m.mask.vlan_tci), (0, 0x1fff));
    // OFPVID_PRESENT/OFPVID_PRESENT: any tag.
    let m = match_of(&unhex("80000d0410001000")).unwrap();
    assert_eq!((m.key.vlan_tci, m.mask.vlan_tci), (0x1000, 0x1000));
    // PRESENT|5: tag 5.
    let m = match_of(&unhex("80000c021005")).unwrap();
    assert_eq!((m.key.vlan_tci, m.mask.vlan_tci), (0x1005, 0x1fff));
    // A VID without PRESENT can never match a packet: refused.
    assert_eq!(error(&unhex("80000c020005")), OFPBMC_BAD_VALUE);
    // Bits above the 13 of the field.
    assert_eq!(error(&unhex("80000c022005")), OFPBMC_BAD_VALUE);
    // VLAN_PCP needs a tag: VLAN_VID NONE, or none at all, is not one;
    // PRESENT/PRESENT is.
    assert_eq!(error(&unhex("80000c020000 80000e0103")), OFPBMC_BAD_PREREQ);
    assert_eq!(error(&unhex("80000e0103")), OFPBMC_BAD_PREREQ);
    let m = match_of(&unhex("80000d0410001000 80000e0103")).unwrap();
    assert_eq!((m.key.vlan_tci, m.mask.vlan_tci), (0x7000, 0xf000));
}

#[test]
fn masks_only_where_the_spec_allows() {
    let allowed: Vec<&str> = basic()
        .filter(|f| f.mask_allowed())
        .map(|f| f.name())
        .collect();
    assert_eq!(
        allowed,
        [
            "metadata",
            "eth_dst",
            "eth_src",
            "vlan_vid",
            "ipv4_src",
            "ipv4_dst",
            "arp_spa",
            "arp_tpa",
            "arp_sha",
            "arp_tha",
            "ipv6_src",
            "ipv6_dst",
            "ipv6_flabel",
            "pbb_isid",
            "tunnel_id",
            "ipv6_exthdr"
        ]
    );
    for f in OxmField::ALL.iter().copied().filter(|f| !f.mask_allowed()) {
        let all = f.max_value();
        let e = error(&tlv(f, 0, Some(all)));
        assert_eq!(e, OFPBMC_BAD_MASK, "{}", f.name());
    }
    // The ports Open vSwitch masks, as it sends them: refused.
    assert_eq!(
        error(&unhex("80000a020800 8000140106 80001d041000f000")),
        OFPBMC_BAD_MASK
    );
}

#[test]
fn value_bits_outside_the_field() {
    for f in OxmField::ALL.iter().copied() {
        let max = f.max_value();
        if max == u128::MAX || f.width() * 8 == f.bits() as usize {
            continue;
        }
        assert_eq!(
            error(&tlv(f, max + 1, None)),
            OFPBMC_BAD_VALUE,
            "{}",
            f.name()
        );
        if f.mask_allowed() {
            let m = tlv(f, max + 1, Some(max + 1));
            assert_eq!(error(&m), OFPBMC_BAD_VALUE, "{} masked", f.name());
        }
    }
}

#[test]
fn value_bits_outside_the_mask() {
    for f in OxmField::ALL.iter().copied().filter(|f| f.mask_allowed()) {
        let e = error(&tlv(f, 1, Some(2)));
        assert_eq!(e, OFPBMC_BAD_WILDCARDS, "{}", f.name());
    }
}

#[test]
fn duplicate_fields() {
    for f in OxmField::ALL.iter().copied() {
        let one = tlv(f, 0, None);
        let e = error(&[one.clone(), one].concat());
        assert_eq!(e, OFPBMC_DUP_FIELD, "{}", f.name());
    }
    // The two TCP flags encodings are one field.
    let onf = tlv(OxmField::OnfTcpFlags, 2, None);
    let nx = tlv(OxmField::NxTcpFlags, 2, None);
    assert_eq!(error(&[onf, nx].concat()), OFPBMC_DUP_FIELD);
}

#[test]
fn wrong_lengths() {
    for f in OxmField::ALL.iter().copied() {
        let w = f.width() + if f.experimenter().is_some() { 4 } else { 0 };
        for len in [w - 1, w + 1] {
            let e = error(&tlv_with_len(f, len));
            assert_eq!(e, OFPBMC_BAD_LEN, "{} with length {len}", f.name());
        }
    }
}

#[test]
fn unknown_fields() {
    // Basic class, fields 40..=127.
    for code in 40u32..128 {
        let h = 0x8000_0000 | code << 9 | 4;
        let b = [h.to_be_bytes().as_slice(), &[0; 4]].concat();
        assert_eq!(error(&b), OFPBMC_BAD_FIELD, "basic field {code}");
    }
    // NXM_0 (class 0) IN_PORT; NXM_1 REG0; another experimenter's field.
    assert_eq!(error(&unhex("00000002 0001")), OFPBMC_BAD_FIELD);
    assert_eq!(error(&unhex("00010004 00000001")), OFPBMC_BAD_FIELD);
    assert_eq!(error(&unhex("ffff5406 00002320 0002")), OFPBMC_BAD_FIELD);
}

const ETH_IP: &str = "80000a020800";
const ETH_IP6: &str = "80000a0286dd";
const ETH_ARP: &str = "80000a020806";

/// Every field with a prerequisite, alone: refused.
#[test]
fn prerequisites_alone() {
    for f in OxmField::ALL.iter().copied() {
        if f.prerequisite().is_none() {
            continue;
        }
        let v = if f == OxmField::VlanPcp { 1 } else { 0 };
        assert_eq!(error(&tlv(f, v, None)), OFPBMC_BAD_PREREQ, "{}", f.name());
    }
}

/// The chains, each link missing or wrong in turn.
#[test]
fn prerequisite_chains() {
    let ok = |parts: &[&str]| {
        match_of(&unhex(&parts.concat())).unwrap_or_else(|e| panic!("{parts:?}: {e}"));
    };
    let bad = |parts: &[&str]| {
        assert_eq!(
            error(&unhex(&parts.concat())),
            OFPBMC_BAD_PREREQ,
            "{parts:?}"
        );
    };
    let tcp = "8000140106";
    let udp = "8000140111";
    let sctp = "8000140184";
    let icmp = "8000140101";
    let icmp6 = "800014013a";
    // L4 ports: ETH_TYPE ip or ipv6, then IP_PROTO.
    for (proto, fields) in [
        (tcp, ["80001a020050", "80001c020050"]),
        (udp, ["80001e020035", "800020020035"]),
        (sctp, ["800022020035", "800024020035"]),
    ] {
        for port in fields {
            ok(&[ETH_IP, proto, port]);
            ok(&[ETH_IP6, proto, port]);
            ok(&[port, proto, ETH_IP6]); // order is free
            bad(&[port]);
            bad(&[proto, port]); // IP_PROTO without ETH_TYPE
            bad(&[ETH_IP, port]); // no IP_PROTO
            bad(&[ETH_ARP, port]);
            let other = if proto == tcp { udp } else { tcp };
            bad(&[ETH_IP, other, port]); // the wrong protocol
        }
    }
    // IP_PROTO, IP_DSCP, IP_ECN: ETH_TYPE ip or ipv6.
    for f in ["8000140106", "8000100101", "8000120101"] {
        ok(&[ETH_IP, f]);
        ok(&[ETH_IP6, f]);
        bad(&[f]);
        bad(&[ETH_ARP, f]);
    }
    // ICMPv4: ETH_TYPE 0x0800 and IP_PROTO 1, not IPv6.
    for f in ["8000260108", "8000280100"] {
        ok(&[ETH_IP, icmp, f]);
        bad(&[ETH_IP6, icmp, f]);
        bad(&[ETH_IP, icmp6, f]);
        bad(&[ETH_IP, f]);
    }
    // ICMPv6: ETH_TYPE 0x86dd and IP_PROTO 58.
    for f in ["80003a0180", "80003c0100"] {
        ok(&[ETH_IP6, icmp6, f]);
        bad(&[ETH_IP, icmp6, f]);
        bad(&[ETH_IP6, icmp, f]);
        bad(&[ETH_IP6, f]);
    }
    // ND: ICMPV6_TYPE 135 or 136 (target), exactly 135 (SLL), 136 (TLL).
    let target = "80003e1020010db8000000000000000000000001";
    let sll = "80004006001122334455";
    let tll = "80004206001122334455";
    let (ns, na, echo) = ("80003a0187", "80003a0188", "80003a0180");
    ok(&[ETH_IP6, icmp6, ns, target]);
    ok(&[ETH_IP6, icmp6, na, target]);
    bad(&[ETH_IP6, icmp6, echo, target]);
    bad(&[ETH_IP6, icmp6, target]);
    ok(&[ETH_IP6, icmp6, ns, sll]);
    bad(&[ETH_IP6, icmp6, na, sll]);
    bad(&[ETH_IP6, icmp6, sll]);
    ok(&[ETH_IP6, icmp6, na, tll]);
    bad(&[ETH_IP6, icmp6, ns, tll]);
    bad(&[ETH_IP, icmp, "8000260187", tll]);
    // IPv4 addresses: ETH_TYPE 0x0800 exactly; IPv6 ones and the flow
    // label and IPV6_EXTHDR: 0x86dd exactly.
    for f in ["800016040a000001", "800018040a000001"] {
        ok(&[ETH_IP, f]);
        bad(&[ETH_IP6, f]);
        bad(&[ETH_ARP, f]);
    }
    for f in [
        "8000341020010db8000000000000000000000001",
        "8000361020010db8000000000000000000000001",
        "8000380400012345",
        "80004e020040",
    ] {
        ok(&[ETH_IP6, f]);
        bad(&[ETH_IP, f]);
        bad(&[f]);
    }
    // ARP fields: ETH_TYPE 0x0806 (0x8035, RARP, accepted too).
    for f in [
        "80002a020001",
        "80002c040a000001",
        "80002e040a000001",
        "80003006001122334455",
        "80003206001122334455",
    ] {
        ok(&[ETH_ARP, f]);
        ok(&["80000a028035", f]);
        bad(&[ETH_IP, f]);
        bad(&[f]);
    }
    // MPLS: ETH_TYPE 0x8847 or 0x8848.
    for f in ["8000440400000064", "8000460105", "8000480101"] {
        ok(&["80000a028847", f]);
        ok(&["80000a028848", f]);
        bad(&[ETH_IP, f]);
        bad(&[f]);
    }
    // PBB_ISID: ETH_TYPE 0x88e7.
    ok(&["80000a0288e7", "80004a03000001"]);
    bad(&["80000a028847", "80004a03000001"]);
    bad(&["80004a03000001"]);
    // No prerequisite: METADATA, ETH_*, VLAN_VID, TUNNEL_ID.
    for f in [
        "80000408 0000000000000001",
        "80000606 001122334455",
        "80000806 001122334455",
        "80000a02 1234",
        "80000c02 1001",
        "80004c08 0000000000000001",
    ] {
        ok(&[f]);
    }
}
