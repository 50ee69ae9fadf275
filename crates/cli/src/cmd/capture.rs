//! `vnet capture LAB NODE:IFACE -w FILE`: record an interface's traffic as pcap.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use vnet_sys::packet::{PacketOptions, PacketSocket, RecvMeta};
use vnet_sys::Netns;
use vnet_wire::pcap::PcapWriter;

use crate::output::{applied, need_root};

/// Capture the frames an interface of a lab node sends and receives into a
/// pcap file that tcpdump and Wireshark read (`-w -` writes to stdout, e.g.
/// `vnet capture demo h1:eth0 -w - | tcpdump -r -`). The file stays valid
/// if the capture is interrupted.
///
/// Example: vnet capture demo s1:h1 -w h1.pcap -c 100
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    lab: String,
    /// The interface, as NODE:IFACE (a switch or bridge port is SWITCH:PORT).
    target: String,
    /// The pcap file to write (`-` for standard output).
    #[arg(short = 'w', long = "write")]
    file: String,
    /// Stop after this many frames.
    #[arg(short = 'c', long)]
    count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long)]
    duration: Option<f64>,
    /// Bytes kept of each frame.
    #[arg(long, default_value_t = 65535)]
    snaplen: u32,
}

pub fn run(args: Args) -> Result<ExitCode> {
    need_root("vnet capture")?;
    let Some((node, iface)) = args.target.split_once(':') else {
        bail!(
            "capture target {:?}: expected NODE:IFACE, e.g. h1:eth0",
            args.target
        );
    };
    let a = applied(&args.lab)?;
    let Some(n) = a.lab.node(node) else {
        bail!("lab {}: no node {node}", args.lab)
    };
    let Some(ns) = n.netns.clone() else {
        bail!(
            "lab {}: node {node} has no namespace of its own; capture on the node it is linked to",
            args.lab
        )
    };
    let netns = Netns::open(&ns)?;
    let name = iface.to_string();
    let mut sock = netns
        .run(move || -> Result<PacketSocket> {
            let mut nl = vnet_sys::Netlink::open()?;
            let idx = nl.index_of(&name)?;
            let opts = PacketOptions {
                vnet_hdr: false,
                qdisc_bypass: false,
                ignore_outgoing: false,
                ..Default::default()
            };
            Ok(PacketSocket::open(idx, opts)?)
        })?
        .with_context(|| format!("lab {}: capture on {node}:{iface}", args.lab))?;
    let out: Box<dyn Write> = if args.file == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(BufWriter::new(
            File::create(&args.file).with_context(|| format!("create {}", args.file))?,
        ))
    };
    let mut pcap = PcapWriter::new(out, args.snaplen)?;
    let deadline = args
        .duration
        .map(|d| Instant::now() + Duration::from_secs_f64(d.max(0.0)));
    let mut bufs: Vec<Vec<u8>> = (0..32).map(|_| vec![0u8; 65536 + 4]).collect();
    let mut meta = vec![RecvMeta::default(); 32];
    let mut captured = 0u64;
    if args.file != "-" {
        eprintln!("capturing on {node}:{iface} into {}", args.file);
    }
    loop {
        if args.count.is_some_and(|c| captured >= c)
            || deadline.is_some_and(|d| Instant::now() >= d)
        {
            break;
        }
        let mut fds = [PollFd::new(sock.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::from(200u16));
        // Leave room in front of each buffer to put a stripped VLAN tag back.
        let mut areas: Vec<&mut [u8]> = bufs.iter_mut().map(|b| &mut b[4..]).collect();
        let got = sock.recv_batch(&mut areas, &mut meta)?;
        drop(areas);
        for i in 0..got {
            if args.count.is_some_and(|c| captured >= c) {
                break;
            }
            let m = meta[i];
            let b = &mut bufs[i];
            let frame: &[u8] = match m.vlan {
                Some((tpid, tci)) if m.len >= 12 => {
                    b.copy_within(4..16, 0);
                    b[12..14].copy_from_slice(&tpid.to_be_bytes());
                    b[14..16].copy_from_slice(&tci.to_be_bytes());
                    &b[..m.len + 4]
                }
                _ => &b[4..4 + m.len],
            };
            pcap.write(frame)?;
            captured += 1;
        }
    }
    if args.file != "-" {
        eprintln!("{captured} frame(s) captured");
    }
    Ok(ExitCode::SUCCESS)
}
