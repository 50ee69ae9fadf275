//! AF_PACKET sockets against the real kernel, in a throwaway namespace:
//! batches go out and come back, and the kernel's drop counter is read.

use vnet_sys::packet::{PacketOptions, PacketSocket, RecvMeta};
use vnet_sys::Netlink;

fn in_fresh_netns<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare");
            f()
        })
        .join()
        .expect("test thread")
    })
}

fn frame(i: u16) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x88, 0xb5];
    f.extend_from_slice(&i.to_be_bytes());
    f.resize(60, 0xab);
    f
}

#[test]
fn batches_cross_and_kernel_drops_are_counted() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIP: kernel tests need root (CI runs them as root)");
        return;
    }
    in_fresh_netns(|| {
        let mut nl = Netlink::open().unwrap();
        nl.set_up(1, true).unwrap();
        let opts = PacketOptions {
            vnet_hdr: false,
            rcvbuf: 0,
            qdisc_bypass: false,
            ignore_outgoing: true,
            rx_ring: false,
        };
        let mut rx = PacketSocket::open(1, PacketOptions { rcvbuf: 0, ..opts }).unwrap();
        let tx = PacketSocket::open(1, opts).unwrap();
        // A few frames: all arrive, in order, intact.
        let frames: Vec<Vec<u8>> = (0..8).map(frame).collect();
        let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
        assert_eq!(tx.send_batch(&refs).unwrap(), 8);
        let mut bufs = vec![vec![0u8; 2048]; 16];
        let mut meta = vec![RecvMeta::default(); 16];
        let mut got = Vec::new();
        for _ in 0..100 {
            let mut areas: Vec<&mut [u8]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
            let n = rx.recv_batch(&mut areas, &mut meta).unwrap();
            for i in 0..n {
                got.push(bufs[i][..meta[i].len].to_vec());
            }
            if got.len() >= 8 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(got, frames);
        assert_eq!(rx.take_drops().unwrap(), 0);
        // Flood without reading: the receive buffer overflows and the kernel
        // counts what it dropped.
        let many: Vec<Vec<u8>> = (0..20_000u32).map(|i| frame(i as u16)).collect();
        let refs: Vec<&[u8]> = many.iter().map(|f| f.as_slice()).collect();
        let mut sent = 0;
        while sent < refs.len() {
            sent += tx.send_batch(&refs[sent..]).unwrap().max(1);
        }
        let drops = rx.take_drops().unwrap();
        assert!(
            drops > 0,
            "20,000 unread frames must overflow the default receive buffer"
        );
        assert_eq!(rx.take_drops().unwrap(), 0, "the counter resets when read");
    });
}
