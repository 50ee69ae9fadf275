//! The channel and the datapath together, without sockets or root: the
//! datapath's packet-ins (table-miss flow, controller action with max_len,
//! a table miss configured to the controller, an expired TTL) carried to a
//! connection as PACKET_IN messages, and PACKET_OUTs run through the
//! datapath (explicit outputs, FLOOD, output:TABLE through the flows).

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use vnet_openflow::conn::{ConnConfig, Connection, Delivery};
use vnet_openflow::msg::basic::Hello;
use vnet_openflow::msg::flow::{
    PacketIn, OFPR_ACTION, OFPR_INVALID_TTL, OFPR_NO_MATCH, OFP_NO_BUFFER,
};
use vnet_openflow::msg::OFPP_CONTROLLER;
use vnet_openflow::oxm::{OxmField, OxmMatch};
use vnet_openflow::{split_frames, Message};
use vnet_switch::datapath::{ControllerPacket, Datapath, PacketInReason, SwitchPort, VlanMode};
use vnet_switch::flow::{self, FlowMod, PortNo};
use vnet_switch::learning::{MacTable, DEFAULT_AGEING, DEFAULT_CAPACITY};
use vnet_switch::ofctl;
use vnet_switch::pipeline::{Pipeline, TableMiss};
use vnet_switch::port::MemPort;
use vnet_switch::rules::{compile, PipelineRules};
use vnet_wire::build;

const A: [u8; 6] = [2, 0, 0, 0, 0, 0xa];
const B: [u8; 6] = [2, 0, 0, 0, 0, 0xb];

struct Sw {
    dp: Datapath,
    ports: Vec<MemPort>,
    got: Arc<Mutex<Vec<ControllerPacket>>>,
    accept: Arc<Mutex<bool>>,
}

impl Sw {
    /// Three in-memory ports, flows in ovs-ofctl syntax, a sink that
    /// records packet-ins (and refuses them when `accept` is false).
    fn new(flows: &[&str], miss: TableMiss) -> Sw {
        let mut dp = Datapath::new("t", MacTable::new(DEFAULT_CAPACITY, DEFAULT_AGEING));
        let mut ports = Vec::new();
        for i in 1..=3u32 {
            let p = MemPort::new();
            dp.add_port(SwitchPort {
                name: format!("p{i}"),
                ofport: i,
                vlan: VlanMode::Unaware,
                io: Box::new(p.clone()),
                stats: Default::default(),
            });
            ports.push(p);
        }
        let mut pipeline = Pipeline::new(4);
        pipeline.set_table_miss(0, miss).unwrap();
        for f in flows {
            let flow = ofctl::parse_flow(f, &ofctl::no_port_names).unwrap();
            pipeline.apply(&FlowMod::add(flow), 0).unwrap();
        }
        dp.set_rules(Arc::new(PipelineRules::new(
            pipeline.snapshot(),
            Instant::now(),
        )));
        let got = Arc::new(Mutex::new(Vec::new()));
        let accept = Arc::new(Mutex::new(true));
        let (g, a) = (got.clone(), accept.clone());
        dp.set_controller(Some(Arc::new(move |p| {
            if *a.lock().unwrap() {
                g.lock().unwrap().push(p);
                true
            } else {
                false
            }
        })));
        Sw {
            dp,
            ports,
            got,
            accept,
        }
    }

    fn send(&mut self, ofport: u32, frame: &[u8]) {
        let pi = ofport as usize - 1;
        self.ports[pi].inject(frame);
        assert_eq!(self.dp.poll_port(pi, 0).unwrap(), 1);
    }

    fn packet_ins(&self) -> Vec<ControllerPacket> {
        std::mem::take(&mut *self.got.lock().unwrap())
    }

    fn sent(&self) -> Vec<Vec<Vec<u8>>> {
        self.ports.iter().map(|p| p.take_sent()).collect()
    }
}

fn udp(len: usize) -> Vec<u8> {
    build::udp4(
        A,
        B,
        None,
        Ipv4Addr::new(10, 0, 0, 1),
        Ipv4Addr::new(10, 0, 0, 2),
        1000,
        2000,
        &vec![0x55; len],
    )
}

/// The PACKET_IN the daemon makes of a datapath packet-in.
fn to_wire(p: &ControllerPacket) -> Message {
    Message::PacketIn(PacketIn {
        buffer_id: OFP_NO_BUFFER,
        total_len: p.total_len as u16,
        reason: p.reason as u8,
        table_id: p.table_id,
        cookie: p.cookie,
        r#match: OxmMatch::packet_in(p.in_port, 0, 0),
        data: p.data.clone(),
    })
}

#[test]
fn table_miss_flow_and_controller_action_make_packet_ins() {
    let mut sw = Sw::new(
        &[
            "priority=0,actions=controller",
            "cookie=0x1234,priority=10,udp,tp_dst=2000,actions=controller:64",
            "priority=10,arp,actions=flood",
        ],
        TableMiss::Drop,
    );
    // ARP: flooded, no packet-in.
    sw.send(
        1,
        &build::arp_request(
            A,
            None,
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
        ),
    );
    assert!(sw.packet_ins().is_empty());
    let sent = sw.sent();
    assert!(sent[0].is_empty() && sent[1].len() == 1 && sent[2].len() == 1);

    // UDP to 2000: the controller action, cut to 64 bytes.
    let frame = udp(200);
    sw.send(2, &frame);
    let p = sw.packet_ins();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].reason, PacketInReason::Action);
    assert_eq!((p[0].in_port, p[0].table_id, p[0].cookie), (2, 0, 0x1234));
    assert_eq!(p[0].total_len, frame.len());
    assert_eq!(p[0].data, frame[..64]);

    // TCP: only the table-miss flow matches: reason NO_MATCH, whole frame.
    let tcp = build::tcp4(
        A,
        B,
        None,
        Ipv4Addr::new(10, 0, 0, 1),
        Ipv4Addr::new(10, 0, 0, 2),
        1,
        2,
        0x10,
        b"x",
    );
    sw.send(3, &tcp);
    let p = sw.packet_ins();
    assert_eq!(p[0].reason, PacketInReason::NoMatch);
    assert_eq!(p[0].data, tcp);
    assert_eq!(sw.dp.stats.packet_ins, 2);

    // As the connection sends it: decodes, with IN_PORT in the match.
    let mut c = Connection::new(ConnConfig::default(), 0);
    c.on_bytes(
        0,
        &Message::Hello(Hello::with_versions(&[4]))
            .encode(1)
            .unwrap(),
    );
    c.poll(0);
    assert_eq!(c.send_async(&to_wire(&p[0])), Delivery::Sent);
    let out = c.poll(0);
    let (frames, _) = split_frames(&out, 65535).unwrap();
    match Message::decode(frames[0]).unwrap().1 {
        Message::PacketIn(pi) => {
            assert_eq!(pi.reason, OFPR_NO_MATCH);
            assert_eq!(pi.buffer_id, OFP_NO_BUFFER);
            assert_eq!(pi.r#match.get(OxmField::InPort).unwrap().value, 3);
            assert_eq!(pi.data, tcp);
        }
        m => panic!("{m:?}"),
    }
}

#[test]
fn a_full_queue_drops_and_counts() {
    let mut sw = Sw::new(&["priority=0,actions=controller"], TableMiss::Drop);
    *sw.accept.lock().unwrap() = false;
    sw.send(1, &udp(10));
    assert_eq!(sw.dp.stats.packet_in_dropped, 1);
    assert_eq!(sw.dp.stats.packet_ins, 0);
    // Without any sink: counted too.
    sw.dp.set_controller(None);
    sw.send(1, &udp(10));
    assert_eq!(sw.dp.stats.packet_in_dropped, 2);
}

#[test]
fn a_table_miss_to_the_controller_says_which_table() {
    let mut sw = Sw::new(
        &["priority=5,udp,actions=goto_table:2"],
        TableMiss::Controller { max_len: 0xffff },
    );
    // Table 2 has no flow and drops on a miss: nothing.
    sw.send(1, &udp(10));
    assert!(sw.packet_ins().is_empty());
    // A TCP frame misses table 0, whose miss goes to the controller.
    let tcp = build::tcp4(
        A,
        B,
        None,
        Ipv4Addr::LOCALHOST,
        Ipv4Addr::LOCALHOST,
        1,
        2,
        0,
        b"",
    );
    sw.send(1, &tcp);
    let p = sw.packet_ins();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].reason, PacketInReason::NoMatch);
    assert_eq!((p[0].table_id, p[0].cookie), (0, u64::MAX));
}

#[test]
fn dec_ttl_on_an_expiring_packet_goes_to_the_controller_not_out() {
    let mut sw = Sw::new(&["priority=5,ip,actions=dec_ttl,output:2"], TableMiss::Drop);
    let mut frame = udp(10);
    sw.send(1, &frame);
    assert_eq!(sw.sent()[1].len(), 1);
    assert!(sw.packet_ins().is_empty());
    frame[14 + 8] = 1; // TTL 1
    sw.send(1, &frame);
    assert!(sw.sent()[1].is_empty(), "an expired packet must not leave");
    let p = sw.packet_ins();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].reason, PacketInReason::InvalidTtl);
    assert_eq!(p[0].reason as u8, OFPR_INVALID_TTL);
    assert_eq!(PacketInReason::Action as u8, OFPR_ACTION);
}

#[test]
fn packet_out_outputs_floods_and_goes_through_the_table() {
    let mut sw = Sw::new(
        &[
            "priority=5,in_port=1,actions=output:3",
            "priority=0,actions=drop",
        ],
        TableMiss::Drop,
    );
    let frame = udp(20);
    let out = |actions: &[flow::Action]| compile(actions);

    // output:2 from the controller.
    let (ops, rw) = out(&[flow::Action::Output(PortNo(2))]);
    sw.dp.packet_out(OFPP_CONTROLLER, &frame, &ops, &rw, 0);
    let s = sw.sent();
    assert_eq!((s[0].len(), s[1].len(), s[2].len()), (0, 1, 0));
    assert_eq!(s[1][0], frame);

    // FLOOD with in_port 1: everywhere but port 1.
    let (ops, rw) = out(&[flow::Action::Output(PortNo::FLOOD)]);
    sw.dp.packet_out(1, &frame, &ops, &rw, 0);
    let s = sw.sent();
    assert_eq!((s[0].len(), s[1].len(), s[2].len()), (0, 1, 1));

    // output:TABLE with in_port 1: the flows send it to port 3.
    let (ops, rw) = out(&[flow::Action::Output(PortNo::TABLE)]);
    sw.dp.packet_out(1, &frame, &ops, &rw, 0);
    let s = sw.sent();
    assert_eq!((s[0].len(), s[1].len(), s[2].len()), (0, 0, 1));

    // Rewrite then output: the frame leaves changed.
    let (ops, rw) = out(&[
        flow::Action::SetField(flow::Field::EthDst([2, 0, 0, 0, 0, 0xc])),
        flow::Action::Output(PortNo(2)),
    ]);
    sw.dp.packet_out(OFPP_CONTROLLER, &frame, &ops, &rw, 0);
    let s = sw.sent();
    assert_eq!(s[1][0][..6], [2, 0, 0, 0, 0, 0xc]);

    // NORMAL from the controller floods (nothing learned) and teaches nothing.
    let (ops, rw) = out(&[flow::Action::Output(PortNo::NORMAL)]);
    sw.dp.packet_out(OFPP_CONTROLLER, &frame, &ops, &rw, 0);
    let s = sw.sent();
    assert_eq!((s[0].len(), s[1].len(), s[2].len()), (1, 1, 1));
    assert!(sw.dp.macs.entries(0).is_empty());
}
