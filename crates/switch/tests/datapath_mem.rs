//! The datapath driven directly through in-memory ports: deterministic,
//! no kernel, no root. Frames are built with `vnet_wire::build` and the
//! bytes that leave each port are compared exactly.
//!
//! Covered: NORMAL (learning, unicast once learned, flooding never back out
//! of the ingress port), VLAN port modes (access, trunk, native, admission),
//! the bounded MAC table under a flood of random source MACs, OpenFlow rules
//! (output, drop, VLAN push/pop/rewrite, set_field with checksums checked by
//! recomputation), cache versioning (a rules change is never answered from
//! a stale cache), and virtio_net_hdr conversion between ports that do and
//! do not carry one.

use std::collections::VecDeque;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::BorrowedFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vnet_switch::datapath::{Datapath, SwitchPort, VlanMode};
use vnet_switch::flow::{FlowMod, FlowModCommand};
use vnet_switch::frame::{Frame, HEADROOM, VNET_HDR_LEN};
use vnet_switch::learning::{MacTable, DEFAULT_AGEING, DEFAULT_CAPACITY};
use vnet_switch::ofctl;
use vnet_switch::pipeline::Pipeline;
use vnet_switch::port::{MemPort, PortIo};
use vnet_switch::rules::PipelineRules;
use vnet_wire::build;
use vnet_wire::checksum;
use vnet_wire::Mac;

const A: Mac = [0x02, 0, 0, 0, 0, 0x0a];
const B: Mac = [0x02, 0, 0, 0, 0, 0x0b];
const C: Mac = [0x02, 0, 0, 0, 0, 0x0c];
const IP_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const IP_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// A switch of in-memory ports numbered 1.. in order, and a clock.
struct Sw {
    dp: Datapath,
    ports: Vec<MemPort>,
    now: u64,
    /// The pipeline behind the rules, when flows are installed.
    pipeline: Option<Pipeline>,
    epoch: Instant,
}

impl Sw {
    fn new(modes: &[VlanMode]) -> Sw {
        Sw::with_table(modes, MacTable::new(DEFAULT_CAPACITY, DEFAULT_AGEING))
    }

    fn with_table(modes: &[VlanMode], macs: MacTable) -> Sw {
        let mut dp = Datapath::new("t", macs);
        let mut ports = Vec::new();
        for (i, m) in modes.iter().enumerate() {
            let p = MemPort::new();
            dp.add_port(SwitchPort {
                name: format!("p{}", i + 1),
                ofport: i as u32 + 1,
                vlan: m.clone(),
                io: Box::new(p.clone()),
                stats: Default::default(),
            });
            ports.push(p);
        }
        Sw {
            dp,
            ports,
            now: 0,
            pipeline: None,
            epoch: Instant::now(),
        }
    }

    fn unaware(n: usize) -> Sw {
        Sw::new(&vec![VlanMode::Unaware; n])
    }

    /// Injects `frame` on port `ofport` and runs the datapath over it.
    fn send(&mut self, ofport: u32, frame: &[u8]) {
        let pi = ofport as usize - 1;
        self.ports[pi].inject(frame);
        let got = self.dp.poll_port(pi, self.now).expect("poll");
        assert_eq!(got, 1);
    }

    /// What each port sent since the last call, indexed by ofport - 1.
    fn sent(&self) -> Vec<Vec<Vec<u8>>> {
        self.ports.iter().map(|p| p.take_sent()).collect()
    }

    /// The ofports that sent anything since the last call.
    fn out_ports(&self) -> Vec<u32> {
        self.sent()
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_empty())
            .map(|(i, _)| i as u32 + 1)
            .collect()
    }

    /// Replaces the flows with `flows` (ovs-ofctl syntax, one per entry).
    fn set_flows(&mut self, flows: &[&str]) {
        let mut p = Pipeline::new(16);
        for f in flows {
            let flow =
                ofctl::parse_flow(f, &ofctl::no_port_names).unwrap_or_else(|e| panic!("{f}: {e}"));
            p.apply(&FlowMod::add(flow), 0).expect("add flow");
        }
        self.publish(p);
    }

    fn publish(&mut self, p: Pipeline) {
        self.dp
            .set_rules(Arc::new(PipelineRules::new(p.snapshot(), self.epoch)));
        self.pipeline = Some(p);
    }

    /// Applies one flow-mod to the current pipeline and publishes it.
    fn flow_mod(&mut self, text: &str, command: FlowModCommand) {
        let mut p = self.pipeline.clone().unwrap_or_else(|| Pipeline::new(16));
        let fm = ofctl::parse_flow_mod(text, command, &ofctl::no_port_names)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        p.apply(&fm, 0).expect("flow mod");
        self.publish(p);
    }
}

fn access(v: u16) -> VlanMode {
    VlanMode::Access(v)
}

fn trunk(allowed: &[u16], native: Option<u16>) -> VlanMode {
    VlanMode::Trunk {
        allowed: allowed.to_vec(),
        native,
    }
}

fn udp(src: Mac, dst: Mac, vlan: Option<u16>) -> Vec<u8> {
    build::udp4(src, dst, vlan, IP_A, IP_B, 1000, 2000, b"hello, switch")
}

fn tcp(src_ip: Ipv4Addr, dst_ip: Ipv4Addr, sport: u16, dport: u16) -> Vec<u8> {
    build::tcp4(
        A,
        B,
        None,
        src_ip,
        dst_ip,
        sport,
        dport,
        vnet_wire::tcp::flags::ACK,
        b"some payload bytes, odd length",
    )
}

// ---------------------------------------------------------------- NORMAL

#[test]
fn normal_learns_then_unicasts_and_stops_flooding() {
    let mut sw = Sw::unaware(4);
    // A (port 1) to B: B unknown, flooded to every other port.
    let ab = udp(A, B, None);
    sw.send(1, &ab);
    let out = sw.sent();
    assert!(out[0].is_empty(), "never back out of the ingress port");
    for (i, o) in out.iter().enumerate().skip(1) {
        assert_eq!(o, &vec![ab.clone()], "port {} gets the flood", i + 1);
    }
    // B (port 3) answers: A was learned on port 1, so only port 1.
    let ba = udp(B, A, None);
    sw.send(3, &ba);
    let out = sw.sent();
    assert_eq!(out[0], vec![ba.clone()]);
    assert!(out[1].is_empty() && out[2].is_empty() && out[3].is_empty());
    // A to B again, many times: only port 3 from now on.
    for _ in 0..50 {
        sw.send(1, &ab);
        assert_eq!(sw.out_ports(), vec![3]);
    }
    // C is still unknown: flooded, except back to port 4 it comes from.
    sw.send(4, &udp(C, [0x02, 0, 0, 0, 0, 0xee], None));
    assert_eq!(sw.out_ports(), vec![1, 2, 3]);
    // The table holds what was learned, per port.
    let e = sw.dp.macs.entries(sw.now);
    let learned: Vec<(u32, Mac)> = e.iter().map(|l| (l.port, l.mac)).collect();
    assert_eq!(learned, vec![(1, A), (3, B), (4, C)]);
    // A station that moves is learned on its new port.
    sw.send(2, &udp(A, B, None));
    assert_eq!(sw.out_ports(), vec![3]);
    sw.send(3, &ba);
    assert_eq!(sw.out_ports(), vec![2]);
    // Traffic to a station on the port it comes from is not sent at all.
    sw.send(3, &udp(C, B, None));
    assert_eq!(sw.out_ports(), Vec::<u32>::new());
}

#[test]
fn flooding_never_goes_back_out_of_the_ingress_port() {
    let mut sw = Sw::unaware(5);
    let frames: Vec<(&str, Vec<u8>)> = vec![
        ("broadcast", build::arp_request(A, None, IP_A, IP_B)),
        ("multicast", udp(A, [0x01, 0x00, 0x5e, 0, 0, 1], None)),
        ("unknown unicast", udp(A, [0x02, 9, 9, 9, 9, 9], None)),
    ];
    for (what, f) in &frames {
        for inp in 1..=5u32 {
            // Fresh table each time, so unicast stays unknown.
            sw.dp.macs = MacTable::new(DEFAULT_CAPACITY, DEFAULT_AGEING);
            sw.send(inp, f);
            let out = sw.sent();
            for (i, o) in out.iter().enumerate() {
                let q = i as u32 + 1;
                let want = usize::from(q != inp);
                assert_eq!(
                    o.len(),
                    want,
                    "{what} in on {inp}: port {q} got {}",
                    o.len()
                );
            }
        }
    }
    // The FLOOD and ALL actions do not send back to the ingress port either.
    for action in ["flood", "all"] {
        sw.set_flows(&[&format!("priority=1,actions={action}")]);
        sw.send(2, &frames[0].1);
        assert_eq!(sw.out_ports(), vec![1, 3, 4, 5], "actions={action}");
    }
    // in_port sends it back, and only there.
    sw.set_flows(&["priority=1,actions=in_port"]);
    sw.send(2, &frames[0].1);
    assert_eq!(sw.out_ports(), vec![2]);
    // Output to the ingress port by number is not allowed (OpenFlow).
    sw.set_flows(&["priority=1,actions=output:2"]);
    sw.send(2, &frames[0].1);
    assert_eq!(sw.out_ports(), Vec::<u32>::new());
}

// ----------------------------------------------------------------- VLANs

/// Ports: 1,2 access 10; 3,4 access 20; 5 trunk 10,20; 6 trunk 10,20 with
/// native 10; 7 trunk 30 only.
fn vlan_switch() -> Sw {
    Sw::new(&[
        access(10),
        access(10),
        access(20),
        access(20),
        trunk(&[10, 20], None),
        trunk(&[10, 20], Some(10)),
        trunk(&[30], None),
    ])
}

#[test]
fn vlans_are_isolated_between_access_ports() {
    let mut sw = vlan_switch();
    // A broadcast from VLAN 10 reaches VLAN 10's ports and the trunks
    // carrying it, never an access port of VLAN 20 nor a trunk without 10.
    let bc = build::arp_request(A, None, IP_A, IP_B);
    sw.send(1, &bc);
    assert_eq!(sw.out_ports(), vec![2, 5, 6]);
    let bc20 = build::arp_request(B, None, IP_B, IP_A);
    sw.send(3, &bc20);
    assert_eq!(sw.out_ports(), vec![4, 5, 6], "port 6 carries 20 tagged");
    // Unknown unicast, and unicast to a MAC learned in the *other* VLAN:
    // flooded within the VLAN only. (A was learned in VLAN 10 on port 1.)
    for dst in [[0x02, 7, 7, 7, 7, 7], A] {
        sw.send(4, &udp(C, dst, None));
        let out = sw.out_ports();
        assert_eq!(out, vec![3, 5, 6], "to {dst:02x?}");
    }
    // Learned unicast inside a VLAN goes to the one port; VLAN 20 learned
    // C on port 4, but VLAN 10 never learned C.
    sw.send(2, &udp(B, A, None));
    assert_eq!(sw.out_ports(), vec![1]);
    sw.send(1, &udp(A, C, None));
    assert_eq!(sw.out_ports(), vec![2, 5, 6]);
    // Many frames between many hosts of VLAN 10: nothing ever leaves the
    // access ports of VLAN 20 (3, 4) or the trunk without VLAN 10 (7).
    let macs: Vec<Mac> = (0..8u8).map(|i| [0x02, 0, 0, 0, 1, i]).collect();
    for (k, src) in macs.iter().enumerate() {
        for dst in &macs {
            let inp = if k % 2 == 0 { 1 } else { 2 };
            sw.send(inp, &udp(*src, *dst, None));
            let out = sw.sent();
            assert!(out[2].is_empty() && out[3].is_empty() && out[6].is_empty());
        }
    }
}

#[test]
fn trunk_egress_is_tagged_and_access_egress_untagged() {
    let mut sw = vlan_switch();
    // Untagged on access 10 → port 5 (trunk) tagged with VID 10, port 2
    // (access 10) untagged as it came, port 6 (native 10) untagged.
    let f = udp(A, B, None);
    sw.send(1, &f);
    let out = sw.sent();
    assert_eq!(out[1], vec![f.clone()]);
    assert_eq!(out[4], vec![udp(A, B, Some(10))]);
    assert_eq!(out[5], vec![f.clone()], "native VLAN leaves untagged");
    // Same from VLAN 20: VID 20 on the trunk.
    let f20 = udp(C, B, None);
    sw.send(3, &f20);
    let out = sw.sent();
    assert_eq!(out[3], vec![f20.clone()]);
    assert_eq!(out[4], vec![udp(C, B, Some(20))]);
    assert!(out[5].is_empty() || out[5] == vec![udp(C, B, Some(20))]);
    // Port 6 allows 20 tagged: it got the tagged copy.
    assert_eq!(out[5], vec![udp(C, B, Some(20))]);
    // Tagged VID 20 on the trunk → access 20 ports untagged, the other
    // trunk tagged; the PCP bits are kept on trunks.
    let tagged = udp([0x02, 0, 0, 0, 2, 1], B, Some(0x6000 | 20));
    sw.send(5, &tagged);
    let out = sw.sent();
    let untagged = udp([0x02, 0, 0, 0, 2, 1], B, None);
    assert_eq!(out[2], vec![untagged.clone()]);
    assert_eq!(out[3], vec![untagged]);
    assert_eq!(out[5], vec![tagged.clone()]);
    assert!(out[0].is_empty() && out[1].is_empty() && out[4].is_empty() && out[6].is_empty());
    // Untagged on the native trunk is VLAN 10: access 10 untagged, trunk 5
    // tagged 10.
    let n = udp([0x02, 0, 0, 0, 3, 1], B, None);
    sw.send(6, &n);
    let out = sw.sent();
    assert_eq!(out[0], vec![n.clone()]);
    assert_eq!(out[1], vec![n.clone()]);
    assert_eq!(out[4], vec![udp([0x02, 0, 0, 0, 3, 1], B, Some(10))]);
    assert!(out[2].is_empty() && out[3].is_empty() && out[6].is_empty());
    // Tagged VID 10 on the native trunk leaves port 5 tagged, access
    // untagged.
    let t10 = udp([0x02, 0, 0, 0, 3, 2], B, Some(10));
    sw.send(6, &t10);
    let out = sw.sent();
    assert_eq!(out[4], vec![t10.clone()]);
    assert_eq!(out[0], vec![udp([0x02, 0, 0, 0, 3, 2], B, None)]);
}

#[test]
fn frames_a_port_does_not_admit_are_dropped() {
    let mut sw = vlan_switch();
    // A tagged frame arriving on an access port: dropped, whatever its VID.
    for vid in [10, 20, 1, 0] {
        sw.send(1, &udp(A, B, Some(vid)));
        assert_eq!(sw.out_ports(), Vec::<u32>::new(), "vid {vid} on access 10");
    }
    assert_eq!(sw.dp.ports[0].stats.rx_dropped, 4);
    // An untagged frame on a trunk without a native VLAN: dropped.
    sw.send(5, &udp(A, B, None));
    assert_eq!(sw.out_ports(), Vec::<u32>::new());
    // A tagged frame of a VLAN the trunk does not allow: dropped.
    sw.send(5, &udp(A, B, Some(30)));
    assert_eq!(sw.out_ports(), Vec::<u32>::new());
    sw.send(7, &udp(A, B, Some(10)));
    assert_eq!(sw.out_ports(), Vec::<u32>::new());
    // Nothing of it was learned.
    assert!(sw.dp.macs.is_empty(), "{:?}", sw.dp.macs.entries(0));
    // VLAN 30 is admitted on port 7, but no other port carries it.
    sw.send(7, &udp(A, B, Some(30)));
    assert_eq!(sw.out_ports(), Vec::<u32>::new());
    assert_eq!(sw.dp.macs.len(), 1);
}

// ------------------------------------------------------------- MAC flood

/// xorshift64*: a deterministic source of random MACs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn mac(&mut self) -> Mac {
        let b = self.next().to_be_bytes();
        // Unicast, locally administered.
        [(b[0] & 0xfc) | 0x02, b[1], b[2], b[3], b[4], b[5]]
    }
}

#[test]
fn a_flood_of_random_source_macs_keeps_the_table_bounded_and_unicast_working() {
    let mut sw = Sw::unaware(3);
    // H on port 2 is known before the flood.
    let h: Mac = [0x02, 0, 0, 0, 0x48, 0x01];
    sw.send(2, &udp(h, A, None));
    sw.sent();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut flooded_to_h = 0;
    for i in 0..100_000u32 {
        // 100k frames a second of simulated time.
        sw.now = u64::from(i) / 100;
        let src = rng.mac();
        let dst = rng.mac();
        sw.send(1, &udp(src, dst, None));
        sw.sent();
        if i % 1000 == 999 {
            // H keeps talking (every 10 ms)...
            sw.send(2, &udp(h, C, None));
            sw.sent();
        }
        if i % 1000 == 499 {
            // ... and someone on port 3 talks to it, half-way between: that
            // must reach H's port only, never be flooded to the attacker.
            sw.send(3, &udp(C, h, None));
            if sw.out_ports() != vec![2] {
                flooded_to_h += 1;
            }
            assert!(sw.dp.macs.len() <= DEFAULT_CAPACITY);
        }
    }
    assert!(
        sw.dp.macs.len() <= DEFAULT_CAPACITY,
        "{} entries",
        sw.dp.macs.len()
    );
    assert_eq!(sw.dp.macs.len(), DEFAULT_CAPACITY, "the flood filled it");
    assert!(sw.dp.macs.evictions >= 100_000 - DEFAULT_CAPACITY as u64);
    assert_eq!(
        flooded_to_h, 0,
        "an active host was evicted by the flood and its traffic flooded"
    );
    // After the flood, H is still known: unicast only.
    sw.send(3, &udp(C, h, None));
    assert_eq!(sw.out_ports(), vec![2]);
    assert_eq!(sw.dp.macs.lookup(0, h, sw.now), Some(2));
}

// ----------------------------------------------------------------- rules

#[test]
fn flows_output_and_drop() {
    let mut sw = Sw::unaware(4);
    sw.set_flows(&[
        "priority=100,in_port=1,udp,tp_dst=2000,actions=output:3",
        "priority=100,ip,nw_dst=10.0.0.9,actions=drop",
        "priority=50,in_port=1,actions=output:2,output:4",
        "priority=0,actions=normal",
    ]);
    let f = udp(A, B, None);
    sw.send(1, &f);
    let out = sw.sent();
    assert_eq!(out[2], vec![f.clone()], "steered to port 3 unchanged");
    assert!(out[1].is_empty() && out[3].is_empty() && out[0].is_empty());
    let other = build::udp4(A, B, None, IP_A, IP_B, 1000, 2001, b"x");
    sw.send(1, &other);
    let out = sw.sent();
    assert_eq!(out[1], vec![other.clone()]);
    assert_eq!(out[3], vec![other.clone()]);
    assert!(out[2].is_empty());
    let dropped = build::udp4(A, B, None, IP_A, Ipv4Addr::new(10, 0, 0, 9), 1, 2, b"x");
    for p in 1..=4 {
        sw.send(p, &dropped);
        assert_eq!(sw.out_ports(), Vec::<u32>::new(), "dropped, in on {p}");
    }
    assert!(sw.dp.stats.dropped >= 4);
    // NORMAL for the rest: port 2 to A floods (A not learned: port 1 only
    // sent through explicit flows, which do not learn).
    sw.send(2, &udp(B, A, None));
    assert_eq!(sw.out_ports(), vec![1, 3, 4]);
    // Counters: the drop flow saw 4 packets, the steering flow 1.
    let p = sw.pipeline.as_ref().expect("pipeline");
    let count = |needle: &str| {
        p.flows()
            .find(|f| ofctl::format_flow_spec(&f.flow, &ofctl::no_port_labels).contains(needle))
            .map(|f| (f.stats.packets(), f.stats.bytes()))
            .unwrap_or_else(|| panic!("no flow with {needle}"))
    };
    assert_eq!(count("nw_dst=10.0.0.9"), (4, 4 * dropped.len() as u64));
    assert_eq!(count("tp_dst=2000"), (1, f.len() as u64));
}

#[test]
fn flows_push_pop_and_rewrite_vlan_tags() {
    let mut sw = Sw::unaware(4);
    sw.set_flows(&[
        "priority=10,in_port=1,actions=mod_vlan_vid:10,output:2",
        "priority=10,in_port=2,dl_vlan=10,actions=strip_vlan,output:1",
        "priority=10,in_port=3,actions=push_vlan:0x8100,set_field:4116->vlan_vid,output:4",
        "priority=10,in_port=4,dl_vlan=20,actions=mod_vlan_vid:30,output:3",
        "priority=5,in_port=4,vlan_tci=0x1000/0x1000,actions=pop_vlan,output:3",
    ]);
    // Untagged in, mod_vlan_vid pushes a tag with VID 10.
    let f = udp(A, B, None);
    sw.send(1, &f);
    assert_eq!(sw.sent()[1], vec![udp(A, B, Some(10))]);
    // Tagged 10 in, strip_vlan: the untagged frame, byte for byte.
    sw.send(2, &udp(B, A, Some(10)));
    assert_eq!(sw.sent()[0], vec![udp(B, A, None)]);
    // push_vlan then set_field (with the present bit): VID 20, PCP 0.
    sw.send(3, &f);
    assert_eq!(sw.sent()[3], vec![udp(A, B, Some(20))]);
    // Rewriting the VID of a tagged frame keeps its PCP.
    sw.send(4, &udp(A, B, Some(0xa000 | 20)));
    assert_eq!(sw.sent()[2], vec![udp(A, B, Some(0xa000 | 30))]);
    // pop_vlan on another VID.
    sw.send(4, &udp(A, B, Some(7)));
    assert_eq!(sw.sent()[2], vec![udp(A, B, None)]);
}

#[test]
fn outputs_before_a_rewrite_keep_the_frame_as_it_was() {
    let mut sw = Sw::unaware(3);
    sw.set_flows(&["priority=10,in_port=1,actions=output:2,mod_vlan_vid:5,output:3"]);
    let f = udp(A, B, None);
    sw.send(1, &f);
    let out = sw.sent();
    assert_eq!(out[1], vec![f.clone()]);
    assert_eq!(out[2], vec![udp(A, B, Some(5))]);
}

/// Asserts the IPv4 header and TCP/UDP checksums of `frame` (untagged) are
/// right, recomputed from scratch.
#[track_caller]
fn assert_checksums(frame: &[u8]) {
    let ip = &frame[14..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    assert_eq!(checksum::checksum(&ip[..ihl]), 0, "IPv4 header checksum");
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let l4 = &ip[ihl..total];
    let src: [u8; 4] = ip[12..16].try_into().unwrap();
    let dst: [u8; 4] = ip[16..20].try_into().unwrap();
    let pseudo = checksum::pseudo_v4(src, dst, ip[9], l4.len() as u16);
    // Over a segment with its checksum in place, the sum is all ones.
    assert_eq!(
        checksum::add(pseudo, checksum::sum(l4)),
        0xffff,
        "transport checksum"
    );
}

#[test]
fn set_field_rewrites_headers_with_correct_checksums() {
    let mut sw = Sw::unaware(2);
    sw.set_flows(&[
        "priority=10,tcp,tp_dst=80,actions=set_field:10.9.8.7->ip_dst,set_field:8080->tcp_dst,output:2",
        "priority=10,tcp,tp_dst=81,actions=mod_nw_src:192.168.1.1,mod_tp_src:4444,output:2",
        "priority=10,udp,actions=set_field:5353->udp_dst,set_field:02:00:00:00:99:99->eth_dst,output:2",
        "priority=10,tcp,tp_dst=82,actions=dec_ttl,mod_nw_tos:184,output:2",
    ]);
    // Each rewrite gives exactly the frame built with the new values (the
    // builder computes every checksum from scratch).
    sw.send(1, &tcp(IP_A, IP_B, 1234, 80));
    let got = sw.sent().remove(1);
    assert_eq!(got, vec![tcp(IP_A, Ipv4Addr::new(10, 9, 8, 7), 1234, 8080)]);
    assert_checksums(&got[0]);

    sw.send(1, &tcp(IP_A, IP_B, 1234, 81));
    let got = sw.sent().remove(1);
    assert_eq!(
        got,
        vec![tcp(Ipv4Addr::new(192, 168, 1, 1), IP_B, 4444, 81)]
    );
    assert_checksums(&got[0]);

    sw.send(1, &udp(A, B, None));
    let got = sw.sent().remove(1);
    let want = build::udp4(
        A,
        [0x02, 0, 0, 0, 0x99, 0x99],
        None,
        IP_A,
        IP_B,
        1000,
        5353,
        b"hello, switch",
    );
    assert_eq!(got, vec![want]);
    assert_checksums(&got[0]);

    // TTL and TOS: no builder for those values; check the bytes changed
    // and nothing else, with the checksums recomputed.
    let orig = tcp(IP_A, IP_B, 1234, 82);
    sw.send(1, &orig);
    let got = sw.sent().remove(1);
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert_eq!(g[14 + 8], 63, "TTL decremented");
    assert_eq!(g[14 + 1], 184, "TOS set");
    let diff: Vec<usize> = (0..orig.len()).filter(|&i| orig[i] != g[i]).collect();
    assert!(
        diff.iter()
            .all(|&i| [14 + 1, 14 + 8, 14 + 10, 14 + 11].contains(&i)),
        "only TOS, TTL and the header checksum change: {diff:?}"
    );
    assert_checksums(g);
}

#[test]
fn changed_rules_are_never_answered_from_a_stale_cache() {
    let mut sw = Sw::unaware(4);
    sw.set_flows(&["priority=10,udp,actions=output:2"]);
    let f = udp(A, B, None);
    for _ in 0..10 {
        sw.send(1, &f);
        assert_eq!(sw.out_ports(), vec![2]);
    }
    assert!(sw.dp.stats.emc_hits >= 9, "the decision was cached");
    // New flows, same packet: new behaviour at once.
    sw.set_flows(&["priority=10,udp,actions=output:3"]);
    sw.send(1, &f);
    assert_eq!(sw.out_ports(), vec![3]);
    // A higher-priority flow added on top of the cached one.
    sw.flow_mod(
        "priority=20,udp,tp_dst=2000,actions=drop",
        FlowModCommand::Add,
    );
    sw.send(1, &f);
    assert_eq!(sw.out_ports(), Vec::<u32>::new());
    // Deleted again: back to output:3.
    sw.flow_mod("udp,tp_dst=2000", FlowModCommand::Delete);
    sw.send(1, &f);
    assert_eq!(sw.out_ports(), vec![3]);
    // Modified actions of the matching flow.
    sw.flow_mod("udp,actions=output:4", FlowModCommand::Modify);
    sw.send(1, &f);
    assert_eq!(sw.out_ports(), vec![4]);
    // All flows gone: table miss drops.
    sw.flow_mod("", FlowModCommand::Delete);
    sw.send(1, &f);
    assert_eq!(sw.out_ports(), Vec::<u32>::new());
    // Interleaved with a stream of other flows that keep the caches busy,
    // every change applies to the very next packet.
    let mut rng = Rng(7);
    for round in 0..200u16 {
        let port = 2 + u32::from(round % 3);
        sw.set_flows(&[
            &format!("priority=10,udp,tp_dst=2000,actions=output:{port}"),
            "priority=1,actions=drop",
        ]);
        for _ in 0..5 {
            let noise = build::udp4(
                rng.mac(),
                B,
                None,
                IP_A,
                IP_B,
                (rng.next() % 60000) as u16,
                (rng.next() % 60000) as u16,
                b"n",
            );
            sw.send(1, &noise);
            sw.sent();
        }
        sw.send(1, &f);
        assert_eq!(sw.out_ports(), vec![port], "round {round}");
    }
}

#[test]
fn flow_counters_count_cached_packets_too() {
    let mut sw = Sw::unaware(2);
    sw.set_flows(&["priority=10,udp,actions=output:2"]);
    let f = udp(A, B, None);
    for _ in 0..25 {
        sw.send(1, &f);
    }
    let p = sw.pipeline.as_ref().unwrap();
    let flow = p.flows().next().unwrap();
    assert_eq!(flow.stats.packets(), 25);
    assert_eq!(flow.stats.bytes(), 25 * f.len() as u64);
    assert_eq!(sw.dp.ports[1].stats.tx_packets, 25);
    assert_eq!(sw.dp.ports[0].stats.rx_packets, 25);
}

// ------------------------------------------------------- virtio_net_hdr

/// An in-memory port whose frames carry a virtio_net_hdr (as AF_PACKET
/// sockets with PACKET_VNET_HDR and TAPs with IFF_VNET_HDR do).
#[derive(Clone, Default)]
struct VnetPort {
    inbound: Arc<Mutex<VecDeque<Vec<u8>>>>,
    outbound: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl PortIo for VnetPort {
    fn recv(&mut self, frames: &mut [Frame]) -> io::Result<usize> {
        let mut q = self.inbound.lock().unwrap();
        let mut got = 0;
        for f in frames.iter_mut() {
            let Some(bytes) = q.pop_front() else { break };
            f.recv_area()[..bytes.len()].copy_from_slice(&bytes);
            f.start = HEADROOM;
            f.len = bytes.len();
            f.vnet = true;
            got += 1;
        }
        Ok(got)
    }

    fn send(&mut self, frames: &[&Frame]) -> io::Result<usize> {
        let mut q = self.outbound.lock().unwrap();
        for f in frames {
            assert!(f.vnet, "a frame without header sent to a vnet port");
            q.push(f.wire().to_vec());
        }
        Ok(frames.len())
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    fn vnet_hdr(&self) -> bool {
        true
    }
}

#[test]
fn frames_cross_between_ports_with_and_without_vnet_headers() {
    let mut dp = Datapath::new("v", MacTable::new(64, Duration::from_secs(300)));
    let v1 = VnetPort::default();
    let v2 = VnetPort::default();
    let m = MemPort::new();
    for (i, io) in [
        Box::new(v1.clone()) as Box<dyn PortIo>,
        Box::new(v2.clone()),
        Box::new(m.clone()),
    ]
    .into_iter()
    .enumerate()
    {
        dp.add_port(SwitchPort {
            name: format!("p{}", i + 1),
            ofport: i as u32 + 1,
            vlan: VlanMode::Unaware,
            io,
            stats: Default::default(),
        });
    }
    let f = udp(A, B, None);
    // From a vnet port: the other vnet port gets header and frame as they
    // came; the plain port gets the bare frame.
    let mut wire = vec![0u8; VNET_HDR_LEN];
    wire.extend_from_slice(&f);
    v1.inbound.lock().unwrap().push_back(wire.clone());
    assert_eq!(dp.poll_port(0, 0).unwrap(), 1);
    assert_eq!(
        std::mem::take(&mut *v2.outbound.lock().unwrap()),
        vec![wire.clone()]
    );
    assert_eq!(m.take_sent(), vec![f.clone()]);
    // From the plain port: vnet ports get a zero header (no offloads
    // pending) in front of the frame.
    let g = udp(C, B, None);
    m.inject(&g);
    assert_eq!(dp.poll_port(2, 0).unwrap(), 1);
    let mut want = vec![0u8; VNET_HDR_LEN];
    want.extend_from_slice(&g);
    assert_eq!(
        std::mem::take(&mut *v1.outbound.lock().unwrap()),
        vec![want.clone()]
    );
    assert_eq!(
        std::mem::take(&mut *v2.outbound.lock().unwrap()),
        vec![want]
    );
}

// ------------------------------------------------------ cache soundness

/// Random frames over a small domain of addresses and ports.
fn random_frame(rng: &mut Rng) -> Vec<u8> {
    let ip = |r: &mut Rng| Ipv4Addr::new(10, 0, (r.next() % 2) as u8, (r.next() % 4) as u8);
    let (src, dst) = (ip(rng), ip(rng));
    let mac = |r: &mut Rng| [0x02, 0, 0, 0, 0, (r.next() % 3) as u8];
    let (sm, dm) = (mac(rng), mac(rng));
    let sport = [53u16, 80, 1000][(rng.next() % 3) as usize];
    let dport = [53u16, 80, 443, 2000][(rng.next() % 4) as usize];
    let vlan = [None, Some(10u16), Some(0x2000 | 20)][(rng.next() % 3) as usize];
    match rng.next() % 4 {
        0 => build::tcp4(sm, dm, vlan, src, dst, sport, dport, 0x10, b"t"),
        1 => build::udp4(sm, dm, vlan, src, dst, sport, dport, b"u"),
        2 => build::icmp4_echo(sm, dm, vlan, src, dst, true, 1, 2, b"i"),
        _ => build::arp_request(sm, vlan, src, dst),
    }
}

#[test]
fn cached_decisions_equal_uncached_ones() {
    // Overlapping flows of many masks and priorities: every frame must be
    // treated exactly as by the full pipeline, whatever the caches hold.
    let flows = [
        "priority=300,ip,nw_src=10.0.0.1,nw_dst=10.0.1.0/24,actions=drop",
        "priority=250,tcp,tp_dst=80,actions=set_field:8080->tcp_dst,output:2",
        "priority=200,udp,nw_dst=10.0.0.2,actions=mod_vlan_vid:7,output:3",
        "priority=150,dl_vlan=10,actions=strip_vlan,output:4",
        "priority=140,vlan_tci=0x3000/0xf000,actions=output:2,output:3",
        "priority=120,in_port=2,actions=output:1",
        "priority=100,ip,nw_src=10.0.1.0/24,actions=dec_ttl,output:4",
        "priority=90,arp,arp_tpa=10.0.0.3,actions=output:3",
        "priority=80,dl_src=02:00:00:00:00:01,actions=output:4",
        "priority=50,icmp,actions=output:2",
        "priority=10,in_port=1,actions=output:3",
        "priority=0,actions=drop",
    ];
    let mut cached = Sw::unaware(4);
    cached.set_flows(&flows);
    let mut fresh = Sw::unaware(4);
    fresh.set_flows(&flows);
    let snapshot = fresh.pipeline.clone().unwrap();
    let mut rng = Rng(0x1234_5678);
    for i in 0..5000 {
        let f = random_frame(&mut rng);
        let inp = 1 + (rng.next() % 4) as u32;
        cached.send(inp, &f);
        // The reference runs the pipeline for every frame: republishing
        // empties its caches.
        fresh.publish(snapshot.clone());
        fresh.send(inp, &f);
        assert_eq!(
            cached.sent(),
            fresh.sent(),
            "frame {i} in on {inp}: {f:02x?}"
        );
    }
    let s = cached.dp.stats;
    assert!(
        s.emc_hits > 100 && s.megaflow_hits > 500,
        "the caches were used: {s:?}"
    );
}
