//! OUTPUT to the reserved LOCAL port reaches the switch's internal port,
//! frames from it enter the pipeline with `in_port=LOCAL`, and FLOOD / ALL
//! include it (as in Open vSwitch) but never send back where a frame came
//! from.

mod support;

use support::{Sw, A, B, IP_A, IP_B};
use vnet_wire::build;

fn udp() -> Vec<u8> {
    build::udp4(A, B, None, IP_A, IP_B, 1000, 2000, b"payload")
}

#[test]
fn output_local_and_from_local() {
    let mut s = Sw::new(2);
    let (local, li) = s.add_local();
    s.flows(&["in_port=1,actions=LOCAL", "in_port=LOCAL,actions=output:2"]);
    s.send(1, &udp());
    assert_eq!(local.take_sent(), vec![udp()], "output:LOCAL");
    assert!(s.out(2).is_empty());
    local.inject(&udp());
    assert_eq!(s.dp.poll_port(li, 0).unwrap(), 1);
    assert_eq!(s.out(2), vec![udp()], "in_port=LOCAL");
    assert!(local.take_sent().is_empty());
}

#[test]
fn flood_and_all_include_local_but_not_the_ingress_port() {
    for action in ["flood", "all"] {
        let mut s = Sw::new(3);
        let (local, li) = s.add_local();
        s.flows(&[&format!("actions={action}")]);
        s.send(1, &udp());
        assert_eq!(local.take_sent(), vec![udp()], "{action} from port 1");
        assert_eq!((s.out(1).len(), s.out(2).len(), s.out(3).len()), (0, 1, 1));
        local.inject(&udp());
        s.dp.poll_port(li, 0).unwrap();
        assert!(local.take_sent().is_empty(), "{action} back to LOCAL");
        assert_eq!((s.out(1).len(), s.out(2).len(), s.out(3).len()), (1, 1, 1));
    }
}
