//! ovs-ofctl drives a minimal switch built on this codec over TCP on
//! 127.0.0.1: the handshake, TABLE_FEATURES and PORT_DESC replies must
//! satisfy it, the FLOW_MODs it sends must translate to the expected
//! switch-model flows, and `dump-flows` must print them back as they went
//! in. Skipped (printing SKIP) when ovs-ofctl is not installed.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vnet_openflow::msg::basic::*;
use vnet_openflow::multipart::*;
use vnet_openflow::port::{PortDesc, OFPPS_LIVE};
use vnet_openflow::{Framer, Message};
use vnet_switch::flow::{self, FlowEntry, FlowModCommand, FlowStats};

type Flows = Arc<Mutex<Vec<flow::Flow>>>;

fn reply(msg: &MultipartRequest) -> MultipartReplyBody {
    use MultipartReplyBody as R;
    match &msg.body {
        MultipartRequestBody::TableFeatures(_) => R::TableFeatures(vec![
            TableFeatures::supported(0, 2, 1000),
            TableFeatures::supported(1, 2, 1000),
        ]),
        MultipartRequestBody::PortDesc => R::PortDesc(vec![PortDesc {
            port_no: 1,
            hw_addr: [2, 0, 0, 0, 0, 1],
            name: "p1".into(),
            state: OFPPS_LIVE,
            ..PortDesc::default()
        }]),
        MultipartRequestBody::Desc => R::Desc(Desc {
            mfr_desc: "vnet".into(),
            ..Desc::default()
        }),
        _ => R::Flow(vec![]),
    }
}

fn serve(mut s: TcpStream, flows: Flows) {
    let send = |s: &mut TcpStream, m: &Message, xid| s.write_all(&m.encode(xid).unwrap());
    let _ = send(&mut s, &Message::Hello(Hello::with_versions(&[4])), 1);
    let mut framer = Framer::default();
    let mut buf = [0u8; 65536];
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        for frame in framer.push(&buf[..n]).unwrap() {
            let (h, msg) = Message::decode(&frame).unwrap_or_else(|e| panic!("{e}"));
            let answer = match msg {
                Message::EchoRequest(d) => Some(Message::EchoReply(d)),
                Message::FeaturesRequest => Some(Message::FeaturesReply(SwitchFeatures {
                    datapath_id: 7,
                    n_tables: 2,
                    ..SwitchFeatures::default()
                })),
                Message::BarrierRequest => Some(Message::BarrierReply),
                Message::GetConfigRequest => Some(Message::GetConfigReply(SwitchConfig::default())),
                Message::FlowMod(fm) => {
                    let fm = fm.to_switch().unwrap();
                    assert_eq!(fm.command, FlowModCommand::Add);
                    flows.lock().unwrap().push(fm.flow);
                    None
                }
                Message::MultipartRequest(r) if matches!(r.body, MultipartRequestBody::Flow(_)) => {
                    let entries = flows
                        .lock()
                        .unwrap()
                        .iter()
                        .map(|f| {
                            let e = Arc::new(FlowEntry {
                                flow: f.clone(),
                                stats: Arc::new(FlowStats::new(0)),
                            });
                            FlowStatsEntry::from_switch(&e, 0).unwrap()
                        })
                        .collect();
                    Some(Message::MultipartReply(MultipartReply {
                        flags: 0,
                        body: MultipartReplyBody::Flow(entries),
                    }))
                }
                Message::MultipartRequest(r) => Some(Message::MultipartReply(MultipartReply {
                    flags: 0,
                    body: reply(&r),
                })),
                _ => None,
            };
            if let Some(a) = answer {
                if send(&mut s, &a, h.xid).is_err() {
                    return;
                }
            }
        }
    }
}

fn ofctl(port: u16, args: &[&str]) -> Option<String> {
    let target = format!("tcp:127.0.0.1:{port}");
    let mut full = vec!["-O", "OpenFlow13", "--timeout=10", args[0], &target];
    full.extend_from_slice(&args[1..]);
    let out = Command::new("ovs-ofctl").args(&full).output().ok()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "ovs-ofctl {args:?}: {text}");
    Some(text)
}

#[test]
fn ovs_ofctl_programs_and_reads_back_flows() {
    if Command::new("ovs-ofctl").arg("--version").output().is_err() {
        println!("SKIP: ovs-ofctl not installed (apt-get install openvswitch-common)");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let flows: Flows = Arc::default();
    let f2 = Arc::clone(&flows);
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let f = Arc::clone(&f2);
            std::thread::spawn(move || serve(s, f));
        }
    });
    let show = ofctl(port, &["show"]).unwrap();
    assert!(show.contains("dpid:0000000000000007"), "{show}");
    assert!(show.contains("1(p1): addr:02:00:00:00:00:01"), "{show}");
    let tf = ofctl(port, &["dump-table-features"]).unwrap();
    assert!(tf.contains("table 1 (\"table1\")"), "{tf}");
    // (add-flow argument, how dump-flows must print it back)
    let added = [
        (
            "priority=100,ip,nw_dst=10.0.0.0/24,actions=output:2",
            "cookie=0x0, duration=0s, table=0, n_packets=0, n_bytes=0, priority=100,ip,nw_dst=10.0.0.0/24 actions=output:2",
        ),
        (
            "table=1,priority=5,tcp6,ipv6_src=2001:db8::/32,tp_dst=443,actions=set_field:00:00:00:00:00:09->eth_dst,NORMAL",
            "cookie=0x0, duration=0s, table=1, n_packets=0, n_bytes=0, priority=5,tcp6,ipv6_src=2001:db8::/32,tp_dst=443 actions=set_field:00:00:00:00:00:09->eth_dst,NORMAL",
        ),
        (
            "cookie=0x7,priority=9,arp,in_port=1,dl_vlan=4,arp_tpa=10.0.0.1,actions=pop_vlan,output:2,write_metadata:0xf0/0xff,goto_table:1",
            "cookie=0x7, duration=0s, table=0, n_packets=0, n_bytes=0, priority=9,arp,in_port=1,dl_vlan=4,arp_tpa=10.0.0.1 actions=pop_vlan,output:2,write_metadata:0xf0/0xff,goto_table:1",
        ),
    ];
    for (f, _) in added {
        ofctl(port, &["add-flow", f]).unwrap();
    }
    let got = flows.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].r#match.key.ipv4_dst, 0x0a00_0000);
    assert_eq!(got[0].r#match.mask.ipv4_dst, 0xffff_ff00);
    assert_eq!(got[1].table_id, 1);
    assert_eq!(got[2].cookie, 7);
    let dump = ofctl(port, &["dump-flows"]).unwrap();
    let lines: Vec<&str> = dump.lines().skip(1).map(str::trim).collect();
    let expected: Vec<&str> = added.iter().map(|(_, d)| *d).collect();
    assert_eq!(lines, expected, "{dump}");
}
