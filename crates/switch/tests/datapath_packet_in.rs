//! Packet-ins carry the pipeline context the spec asks for (OpenFlow 1.3
//! §7.4.1): the metadata and tunnel id as they were when the packet-in was
//! made — after earlier tables' write_metadata and earlier set_fields, not
//! after the flow's own later instructions — for apply-actions, the action
//! set, table-miss flows and TTL expiry, the same for cached decisions.
//! And a frame whose checksum a veth left to the next hop
//! (CHECKSUM_PARTIAL, in the vnet header) reaches the controller, and
//! ports without vnet headers, with the checksum filled in.

mod support;

use std::net::Ipv4Addr;

use support::{assert_checksums, partial, Sw, A, B};
use vnet_switch::datapath::{ControllerPacket, PacketInReason};
use vnet_wire::build;

fn udp() -> Vec<u8> {
    build::udp4(
        A,
        B,
        None,
        Ipv4Addr::new(10, 0, 0, 1),
        Ipv4Addr::new(10, 0, 0, 2),
        1000,
        2000,
        b"payload",
    )
}

/// Sends the frame twice (a pipeline walk, then a cache hit); both
/// packet-ins must be the same; returns the first.
fn one_packet_in(s: &mut Sw) -> ControllerPacket {
    let mut seen = Vec::new();
    for _ in 0..2 {
        s.send(1, &udp());
        let mut pins = s.packet_ins();
        assert_eq!(pins.len(), 1, "{pins:?}");
        seen.push(pins.remove(0));
    }
    let key = |p: &ControllerPacket| (p.reason, p.table_id, p.cookie, p.metadata, p.tunnel_id);
    assert_eq!(key(&seen[0]), key(&seen[1]), "a cached decision differs");
    seen.remove(0)
}

#[test]
fn metadata_written_by_an_earlier_table_is_reported() {
    let mut s = Sw::new(2);
    s.flows(&[
        "table=0,actions=write_metadata:0x5a00/0xff00,goto_table:1",
        "table=1,cookie=0x7,udp,actions=controller",
    ]);
    let p = one_packet_in(&mut s);
    assert_eq!(
        (p.reason, p.table_id, p.cookie),
        (PacketInReason::Action, 1, 7)
    );
    assert_eq!((p.metadata, p.tunnel_id), (0x5a00, 0));
}

#[test]
fn a_flows_own_write_metadata_comes_after_its_apply_actions() {
    let mut s = Sw::new(2);
    s.flows(&["table=0,actions=controller,write_metadata:0x9"]);
    assert_eq!(one_packet_in(&mut s).metadata, 0);
    // ...but the action set runs after it.
    let mut s = Sw::new(2);
    s.flows(&["table=0,actions=write_actions(controller),write_metadata:0x9"]);
    assert_eq!(one_packet_in(&mut s).metadata, 9);
}

#[test]
fn table_miss_flows_report_the_context_too() {
    let mut s = Sw::new(2);
    s.flows(&[
        "table=0,actions=write_metadata:0x3,goto_table:2",
        "table=2,priority=0,actions=controller",
    ]);
    let p = one_packet_in(&mut s);
    assert_eq!((p.reason, p.table_id), (PacketInReason::NoMatch, 2));
    assert_eq!(p.metadata, 3);
}

#[test]
fn tunnel_id_set_before_the_controller_action_is_reported() {
    let mut s = Sw::new(2);
    s.flows(&["table=0,actions=set_field:0x77->tunnel_id,controller"]);
    let p = one_packet_in(&mut s);
    assert_eq!((p.metadata, p.tunnel_id), (0, 0x77));
    // A set_field after the controller action is not seen by it.
    let mut s = Sw::new(2);
    s.flows(&["table=0,actions=controller,set_field:0x77->tunnel_id"]);
    assert_eq!(one_packet_in(&mut s).tunnel_id, 0);
}

#[test]
fn an_expired_ttl_reports_the_context() {
    let mut s = Sw::new(2);
    s.flows(&[
        "table=0,actions=write_metadata:0x11,goto_table:1",
        "table=1,ip,actions=dec_ttl,output:2",
    ]);
    let mut f = udp();
    f[14 + 8] = 1; // IPv4 TTL 1 (checksum irrelevant: it is not forwarded)
    s.send(1, &f);
    let pins = s.packet_ins();
    assert_eq!(pins.len(), 1, "{pins:?}");
    assert_eq!(pins[0].reason, PacketInReason::InvalidTtl);
    assert_eq!(pins[0].metadata, 0x11);
}

fn tcp() -> Vec<u8> {
    build::tcp4(
        A,
        B,
        None,
        Ipv4Addr::new(10, 0, 0, 1),
        Ipv4Addr::new(10, 0, 0, 2),
        40000,
        80,
        0x02,
        b"syn",
    )
}

#[test]
fn pending_checksums_are_completed_for_the_controller_and_plain_ports() {
    for frame in [tcp(), udp()] {
        let (f, hdr) = partial(&frame);
        assert_ne!(f, frame, "the partial frame has no valid checksum yet");
        let mut wire = hdr.to_vec();
        wire.extend_from_slice(&f);
        // Port 3 has vnet headers; 1 and 2 are plain.
        let mut s = Sw::with_vnet_port(2);
        s.flows(&["in_port=3,actions=controller,output:1"]);
        s.send_vnet(&wire);
        let pins = s.packet_ins();
        assert_eq!(pins.len(), 1);
        assert_eq!(pins[0].data, frame, "packet-in");
        assert_checksums(&pins[0].data);
        assert_eq!(s.out(1), vec![frame.clone()], "plain port");
        // A cut packet-in (max_len) is the completed frame's first bytes.
        s.flows(&["priority=40000,in_port=3,actions=controller:40"]);
        s.send_vnet(&wire);
        assert_eq!(s.packet_ins()[0].data, frame[..40]);
        // A port with vnet headers still gets the offload as it came.
        s.flows(&["priority=50000,in_port=3,actions=in_port"]);
        s.send_vnet(&wire);
        assert_eq!(s.out_vnet(), vec![wire.clone()]);
    }
}

#[test]
fn port_config_bits_apply_to_cached_decisions_at_once() {
    use vnet_switch::datapath::port_config::{NO_FWD, NO_PACKET_IN, NO_RECV};
    let mut s = Sw::new(3);
    s.flows(&["in_port=1,actions=controller,output:2,output:3"]);
    s.send(1, &udp());
    assert_eq!(s.packet_ins().len(), 1);
    assert_eq!((s.out(2).len(), s.out(3).len()), (1, 1));
    // NO_PACKET_IN on the ingress port: forwarded, no packet-in.
    s.dp.set_port_config(1, NO_PACKET_IN);
    s.send(1, &udp());
    assert!(s.packet_ins().is_empty());
    assert_eq!((s.out(2).len(), s.out(3).len()), (1, 1));
    // NO_FWD on port 3: only port 3 stops getting frames.
    s.dp.set_port_config(1, 0);
    s.dp.set_port_config(3, NO_FWD);
    s.send(1, &udp());
    assert_eq!(
        (s.packet_ins().len(), s.out(2).len(), s.out(3).len()),
        (1, 1, 0)
    );
    // NO_RECV on port 1: nothing happens at all; counted as dropped.
    s.dp.set_port_config(3, 0);
    s.dp.set_port_config(1, NO_RECV);
    let before = s.dp.ports[0].stats.rx_dropped;
    s.send(1, &udp());
    assert_eq!(
        (s.packet_ins().len(), s.out(2).len(), s.out(3).len()),
        (0, 0, 0)
    );
    assert_eq!(s.dp.ports[0].stats.rx_dropped, before + 1);
    // Cleared: as before.
    s.dp.set_port_config(1, 0);
    s.send(1, &udp());
    assert_eq!(
        (s.packet_ins().len(), s.out(2).len(), s.out(3).len()),
        (1, 1, 1)
    );
}
