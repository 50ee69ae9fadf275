//! The receive ring against the real kernel, in a throwaway namespace:
//! small frames come through the ring's slots, a frame larger than a slot
//! comes whole (through the socket's queue), and order is kept across both.

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

fn frame(i: u16, len: usize) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x88, 0xb5];
    f.extend_from_slice(&i.to_be_bytes());
    f.resize(len, (i % 251) as u8);
    f
}

#[test]
fn ring_carries_small_and_large_frames_in_order() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIP: kernel tests need root (CI runs them as root)");
        return;
    }
    in_fresh_netns(|| {
        let mut nl = Netlink::open().unwrap();
        nl.set_up(1, true).unwrap(); // lo: MTU 65536
        let base = PacketOptions {
            vnet_hdr: false,
            rcvbuf: 0,
            qdisc_bypass: false,
            ignore_outgoing: true,
            rx_ring: false,
        };
        let mut rx = PacketSocket::open(
            1,
            PacketOptions {
                rx_ring: true,
                ..base
            },
        )
        .unwrap();
        assert!(rx.has_rx_ring(), "the kernel refused the ring");
        let tx = PacketSocket::open(1, base).unwrap();
        // Small, larger than a 2 KiB slot, small again, jumbo, small.
        let sizes = [60usize, 3000, 60, 9000, 1500, 60];
        let frames: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, n)| frame(i as u16, *n))
            .collect();
        let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
        assert_eq!(tx.send_batch(&refs).unwrap(), frames.len());
        let mut bufs = vec![vec![0u8; 16384]; 8];
        let mut meta = vec![RecvMeta::default(); 8];
        let mut got = Vec::new();
        for _ in 0..200 {
            let mut areas: Vec<&mut [u8]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
            let n = rx.recv_batch(&mut areas, &mut meta).unwrap();
            for i in 0..n {
                got.push(bufs[i][..meta[i].len].to_vec());
            }
            if got.len() >= frames.len() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let lens: Vec<usize> = got.iter().map(|f| f.len()).collect();
        assert_eq!(lens, sizes, "frames lost, cut or reordered");
        assert_eq!(got, frames);
        assert_eq!(rx.take_drops().unwrap(), 0);
    });
}
