//! The netlink client against the real kernel, inside throwaway namespaces,
//! with `ip -j` (iproute2's JSON output) as the independent oracle.

mod common;

use std::net::IpAddr;
use std::os::fd::AsFd;

use common::{link_json, root_or_skip, TestNs};
use vnet_sys::netlink::{
    format_mac, BridgeOptions, LinkDetails, MacvlanMode, NewLink, NewLinkKind, RouteSpec,
    VxlanOptions,
};
use vnet_sys::probe::{self, Feature};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn veth_peer_created_directly_inside_another_namespace() {
    if !root_or_skip() {
        return;
    }
    let (a, b) = (TestNs::new("va"), TestNs::new("vb"));
    let mut nl = a.ns.netlink().unwrap();
    let mut link = NewLink::veth("left0", "right0")
        .peer_netns(b.ns.as_fd())
        .mtu(Some(1400));
    link.mac = Some([0x02, 0, 0, 0, 0, 0xaa]);
    nl.create(&link).unwrap();

    let left = link_json(&a, "left0");
    assert_eq!(left["linkinfo"]["info_kind"], "veth");
    assert_eq!(left["mtu"], 1400);
    assert_eq!(left["address"], "02:00:00:00:00:aa");
    let right = link_json(&b, "right0");
    assert_eq!(right["linkinfo"]["info_kind"], "veth");
    assert_eq!(right["mtu"], 1400);
    // The peer is not in the first namespace.
    assert!(!a.ip_json(&["link"]).to_string().contains("right0"));

    let info = nl.link("left0").unwrap().unwrap();
    assert_eq!(info.kind.as_deref(), Some("veth"));
    assert_eq!(info.index, left["ifindex"].as_u64().unwrap() as u32);
    assert_eq!(
        info.peer_index,
        Some(right["ifindex"].as_u64().unwrap() as u32)
    );
    assert_eq!(format_mac(&info.mac.unwrap()), "02:00:00:00:00:aa");
}

#[test]
fn link_changes_match_iproute2() {
    if !root_or_skip() {
        return;
    }
    let (a, b) = (TestNs::new("lc"), TestNs::new("lc2"));
    let mut nl = a.ns.netlink().unwrap();
    nl.create(&NewLink::veth("x0", "y0")).unwrap();
    let i = nl.index_of("x0").unwrap();
    nl.set_mtu(i, 9000).unwrap();
    nl.set_mac(i, [0x02, 1, 2, 3, 4, 5]).unwrap();
    nl.rename(i, "renamed0").unwrap();
    nl.set_up(i, true).unwrap();
    let j = link_json(&a, "renamed0");
    assert_eq!(j["mtu"], 9000);
    assert_eq!(j["address"], "02:01:02:03:04:05");
    assert!(j["flags"].to_string().contains("\"UP\""), "{j}");
    assert_eq!(nl.link_by_index(i).unwrap().unwrap().name, "renamed0");
    assert!(nl.link("x0").unwrap().is_none());
    nl.set_up(i, false).unwrap();
    assert!(!link_json(&a, "renamed0")["flags"]
        .to_string()
        .contains("\"UP\""));

    // Move into the other namespace.
    nl.set_netns(i, b.ns.as_fd()).unwrap();
    assert!(nl.link("renamed0").unwrap().is_none());
    assert_eq!(link_json(&b, "renamed0")["linkinfo"]["info_kind"], "veth");

    // Create directly inside a target namespace.
    let mut l = NewLink::veth("in0", "in1");
    l.netns = Some(b.ns.as_fd());
    nl.create(&l).unwrap();
    assert_eq!(link_json(&b, "in0")["ifname"], "in0");
    // Without `peer_netns` the peer stays in the socket's namespace.
    assert_eq!(link_json(&a, "in1")["ifname"], "in1");

    // Delete: both ends go.
    let mut nlb = b.ns.netlink().unwrap();
    nlb.delete("in0").unwrap();
    assert!(nl.link("in1").unwrap().is_none());
    let names: Vec<String> = nlb.links().unwrap().into_iter().map(|l| l.name).collect();
    assert!(
        names.contains(&"renamed0".to_string()) && names.contains(&"lo".to_string()),
        "{names:?}"
    );
}

#[test]
fn errors_name_the_operation_the_object_and_the_kernels_reason() {
    if !root_or_skip() {
        return;
    }
    let a = TestNs::new("err");
    let mut nl = a.ns.netlink().unwrap();
    nl.create(&NewLink::veth("p1", "p2")).unwrap();
    let e = nl
        .create(&NewLink::veth("p1", "p3").label("h1:eth0 <-> s1:p1"))
        .unwrap_err();
    assert!(e.is_exists());
    assert!(
        e.to_string()
            .starts_with("create veth h1:eth0 <-> s1:p1: File exists"),
        "{e}"
    );
    let e = nl
        .create(&NewLink::veth("sixteen-bytes-xx", "p4"))
        .unwrap_err();
    assert!(e.to_string().contains("15 bytes"), "{e}");
    let e = nl.delete("nosuch0").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("delete link nosuch0: No such device"),
        "{e}"
    );
    let e = nl.index_of("nosuch0").unwrap_err();
    assert_eq!(e.to_string(), "nosuch0: no such interface");
}

#[test]
fn bridge_options_ports_and_fdb() {
    if !root_or_skip() {
        return;
    }
    let a = TestNs::new("br");
    let mut nl = a.ns.netlink().unwrap();
    let opts = BridgeOptions {
        stp: Some(true),
        ageing_time: Some(12_300),
        forward_delay: Some(700),
        vlan_filtering: None,
    };
    nl.create(&NewLink::bridge("br0", opts).up()).unwrap();
    let j = link_json(&a, "br0");
    let d = &j["linkinfo"]["info_data"];
    assert_eq!(d["stp_state"], 1, "{d}");
    assert_eq!(d["ageing_time"], 12_300);
    assert_eq!(d["forward_delay"], 700);
    let br = nl.index_of("br0").unwrap();
    match nl.link_by_index(br).unwrap().unwrap().details {
        LinkDetails::Bridge(o) => {
            assert_eq!(o.stp, Some(true));
            assert_eq!(o.ageing_time, Some(12_300));
            assert_eq!(o.forward_delay, Some(700));
        }
        other => panic!("{other:?}"),
    }
    nl.set_bridge(
        br,
        &BridgeOptions {
            stp: Some(false),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        link_json(&a, "br0")["linkinfo"]["info_data"]["stp_state"],
        0
    );

    // Ports: created enslaved, then detached and attached again.
    nl.create(&NewLink::veth("port0", "peer0").master(br).up())
        .unwrap();
    assert_eq!(link_json(&a, "port0")["master"], "br0");
    let p = nl.index_of("port0").unwrap();
    nl.set_master(p, None).unwrap();
    assert!(link_json(&a, "port0")["master"].is_null());
    nl.set_master(p, Some(br)).unwrap();
    assert_eq!(link_json(&a, "port0")["master"], "br0");
    assert_eq!(nl.link_by_index(p).unwrap().unwrap().master, Some(br));

    // FDB: the port's own MAC is a permanent entry; compare with `bridge -j fdb`.
    let mac = format_mac(&nl.link_by_index(p).unwrap().unwrap().mac.unwrap());
    let fdb = nl.fdb(br).unwrap();
    let ours: Vec<String> = fdb
        .iter()
        .filter(|e| e.port == p)
        .map(|e| format_mac(&e.mac))
        .collect();
    assert!(ours.contains(&mac), "{fdb:?}");
    let oracle = common::run(
        "bridge",
        &["-n", a.name(), "-j", "fdb", "show", "br", "br0"],
    );
    assert!(oracle.contains(&mac), "{oracle}");
}

#[test]
fn bridge_vlan_filtering_works_or_is_reported_clearly() {
    if !root_or_skip() {
        return;
    }
    let a = TestNs::new("vf");
    let mut nl = a.ns.netlink().unwrap();
    let opts = BridgeOptions {
        vlan_filtering: Some(true),
        ..Default::default()
    };
    let r = nl.create(&NewLink::bridge("brv", opts));
    if probe::available(Feature::BridgeVlanFiltering) {
        r.unwrap();
        assert_eq!(
            link_json(&a, "brv")["linkinfo"]["info_data"]["vlan_filtering"],
            1
        );
    } else {
        let e = r.unwrap_err();
        eprintln!("bridge VLAN filtering unavailable, as the probe said: {e}");
        assert!(e.to_string().starts_with("create bridge brv: "), "{e}");
        assert_eq!(e.errno(), Some(libc::EOPNOTSUPP), "{e}");
    }
}

#[test]
fn vxlan_and_macvlan() {
    if !root_or_skip() {
        return;
    }
    let a = TestNs::new("vx");
    let mut nl = a.ns.netlink().unwrap();
    nl.create(&NewLink::veth("under0", "under1")).unwrap();
    let under = nl.index_of("under0").unwrap();
    let vx = VxlanOptions {
        vni: 4242,
        local: Some(ip("10.1.1.1")),
        remote: Some(ip("10.1.1.2")),
        dstport: 4789,
        learning: false,
        underlay: Some(under),
    };
    nl.create(&NewLink::new("vx0", NewLinkKind::Vxlan(vx)))
        .unwrap();
    let d = link_json(&a, "vx0")["linkinfo"]["info_data"].clone();
    assert_eq!(d["id"], 4242, "{d}");
    assert_eq!(d["port"], 4789);
    assert_eq!(d["learning"], false);
    assert_eq!(d["local"], "10.1.1.1");
    assert_eq!(d["remote"], "10.1.1.2");
    match nl.link("vx0").unwrap().unwrap().details {
        LinkDetails::Vxlan {
            vni,
            port,
            learning,
        } => {
            assert_eq!((vni, port, learning), (4242, Some(4789), Some(false)))
        }
        other => panic!("{other:?}"),
    }

    nl.create(&NewLink::new(
        "mv0",
        NewLinkKind::Macvlan {
            parent: under,
            mode: MacvlanMode::Bridge,
        },
    ))
    .unwrap();
    let j = link_json(&a, "mv0");
    assert_eq!(j["linkinfo"]["info_kind"], "macvlan");
    assert_eq!(j["linkinfo"]["info_data"]["mode"], "bridge");
    assert_eq!(
        nl.link("mv0").unwrap().unwrap().details,
        LinkDetails::Macvlan {
            mode: MacvlanMode::Bridge
        }
    );
}

#[test]
fn addresses_v4_and_v6() {
    if !root_or_skip() {
        return;
    }
    let a = TestNs::new("ad");
    let mut nl = a.ns.netlink().unwrap();
    nl.create(&NewLink::veth("a0", "a1")).unwrap();
    let i = nl.index_of("a0").unwrap();
    nl.set_up(i, true).unwrap();
    nl.addr_add(i, ip("10.20.30.40"), 24).unwrap();
    nl.addr_add(i, ip("fd00:1::5"), 64).unwrap();
    let j = a.ip_json(&["addr", "show", "dev", "a0"]);
    let infos = j[0]["addr_info"].as_array().unwrap();
    let have: Vec<(String, u64)> = infos
        .iter()
        .map(|x| {
            (
                x["local"].as_str().unwrap().to_string(),
                x["prefixlen"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(have.contains(&("10.20.30.40".into(), 24)), "{have:?}");
    assert!(have.contains(&("fd00:1::5".into(), 64)), "{have:?}");
    let v4 = infos.iter().find(|x| x["local"] == "10.20.30.40").unwrap();
    assert_eq!(v4["broadcast"], "10.20.30.255");

    let ours = nl.addrs(Some(i)).unwrap();
    assert!(ours
        .iter()
        .any(|x| x.address == ip("10.20.30.40") && x.prefix_len == 24));
    assert!(ours
        .iter()
        .any(|x| x.address == ip("fd00:1::5") && x.prefix_len == 64));

    let e = nl.addr_add(i, ip("10.20.30.40"), 24).unwrap_err();
    assert!(e.to_string().contains("File exists"), "{e}");
    nl.addr_del(i, ip("10.20.30.40"), 24).unwrap();
    nl.addr_del(i, ip("fd00:1::5"), 64).unwrap();
    let j = a.ip_json(&["addr", "show", "dev", "a0"]).to_string();
    assert!(
        !j.contains("10.20.30.40") && !j.contains("fd00:1::5"),
        "{j}"
    );
}

#[test]
fn routes_default_gateway_dev_metric_and_neighbours() {
    if !root_or_skip() {
        return;
    }
    let a = TestNs::new("rt");
    let mut nl = a.ns.netlink().unwrap();
    nl.create(&NewLink::veth("r0", "r1")).unwrap();
    let i = nl.index_of("r0").unwrap();
    nl.set_up(i, true).unwrap();
    let r1 = nl.index_of("r1").unwrap();
    nl.set_up(r1, true).unwrap();
    nl.addr_add(i, ip("10.5.0.1"), 24).unwrap();
    nl.addr_add(i, ip("fd00:5::1"), 64).unwrap();

    let default = RouteSpec {
        dst: ip("0.0.0.0"),
        dst_len: 0,
        via: Some(ip("10.5.0.254")),
        dev: None,
        metric: None,
    };
    let via_dev = RouteSpec {
        dst: ip("10.9.0.0"),
        dst_len: 16,
        via: Some(ip("10.5.0.2")),
        dev: Some(i),
        metric: Some(50),
    };
    let dev_only = RouteSpec {
        dst: ip("10.8.0.0"),
        dst_len: 16,
        via: None,
        dev: Some(i),
        metric: None,
    };
    let v6 = RouteSpec {
        dst: ip("fd00:9::"),
        dst_len: 48,
        via: Some(ip("fd00:5::2")),
        dev: None,
        metric: Some(7),
    };
    for r in [&default, &via_dev, &dev_only, &v6] {
        nl.route_add(r).unwrap();
    }
    let j = a.ip_json(&["route", "show"]);
    let find = |dst: &str| {
        j.as_array()
            .unwrap()
            .iter()
            .find(|r| r["dst"] == dst)
            .cloned()
            .unwrap_or_else(|| panic!("{dst} missing in {j}"))
    };
    assert_eq!(find("default")["gateway"], "10.5.0.254");
    let r = find("10.9.0.0/16");
    assert_eq!(
        (
            r["gateway"].as_str(),
            r["dev"].as_str(),
            r["metric"].as_u64()
        ),
        (Some("10.5.0.2"), Some("r0"), Some(50))
    );
    let r = find("10.8.0.0/16");
    assert_eq!(
        (r["dev"].as_str(), r["scope"].as_str()),
        (Some("r0"), Some("link"))
    );
    let j6 = a.ip_json(&["-6", "route", "show"]);
    let r6 = j6
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["dst"] == "fd00:9::/48")
        .unwrap();
    assert_eq!(
        (r6["gateway"].as_str(), r6["metric"].as_u64()),
        (Some("fd00:5::2"), Some(7))
    );

    let ours = nl.routes().unwrap();
    assert!(ours
        .iter()
        .any(|r| r.dst_len == 0 && r.via == Some(ip("10.5.0.254"))));
    assert!(ours
        .iter()
        .any(|r| r.dst == ip("10.9.0.0") && r.metric == Some(50) && r.dev == Some(i)));
    assert!(ours
        .iter()
        .any(|r| r.dst == ip("fd00:9::") && r.dst_len == 48));

    nl.route_del(&via_dev).unwrap();
    nl.route_del(&default).unwrap();
    let j = a.ip_json(&["route", "show"]).to_string();
    assert!(!j.contains("10.9.0.0") && !j.contains("default"), "{j}");
    let e = nl.route_del(&via_dev).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("delete route 10.9.0.0/16 via 10.5.0.2"),
        "{e}"
    );

    // Neighbours: an entry made by iproute2 is read back.
    a.ip(&[
        "neigh",
        "add",
        "10.5.0.77",
        "lladdr",
        "02:aa:bb:cc:dd:ee",
        "dev",
        "r0",
    ]);
    let n = nl.neighbours().unwrap();
    let e = n
        .iter()
        .find(|n| n.address == ip("10.5.0.77"))
        .expect("neighbour");
    assert_eq!(format_mac(&e.mac.unwrap()), "02:aa:bb:cc:dd:ee");
    assert_eq!(e.state, "permanent");
    assert_eq!(e.index, i);
}

#[test]
fn batch_reports_one_result_per_request() {
    if !root_or_skip() {
        return;
    }
    let a = TestNs::new("bat");
    let mut nl = a.ns.netlink().unwrap();
    let links = [
        NewLink::veth("b0", "b1"),
        NewLink::veth("b0", "b2"),
        NewLink::veth("b3", "b4"),
    ];
    let r = nl.create_many(&links);
    assert!(r[0].is_ok() && r[2].is_ok(), "{r:?}");
    assert!(r[1].as_ref().unwrap_err().is_exists());
    assert!(nl.link("b3").unwrap().is_some());
}
