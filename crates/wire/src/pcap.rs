//! The classic pcap file format (what tcpdump -w writes and Wireshark
//! reads): a 24-byte global header, then per packet a 16-byte record
//! header and the bytes. Microsecond timestamps, Ethernet link type.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

/// LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u32 = 1;
const MAGIC_USEC: u32 = 0xa1b2_c3d4;

/// Writes pcap records to any writer; flushes after each packet so a
/// capture stopped at any moment is a valid file.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header.
    pub fn new(mut out: W, snaplen: u32) -> io::Result<PcapWriter<W>> {
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&MAGIC_USEC.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes()); // version 2.4
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone 0, sigfigs 0
        h[16..20].copy_from_slice(&snaplen.to_le_bytes());
        h[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&h)?;
        out.flush()?;
        Ok(PcapWriter { out, snaplen })
    }

    /// Writes one frame stamped with `time` (seconds, microseconds).
    pub fn write_at(&mut self, frame: &[u8], secs: u32, usecs: u32) -> io::Result<()> {
        let caplen = frame.len().min(self.snaplen as usize);
        let mut r = [0u8; 16];
        r[0..4].copy_from_slice(&secs.to_le_bytes());
        r[4..8].copy_from_slice(&usecs.to_le_bytes());
        r[8..12].copy_from_slice(&(caplen as u32).to_le_bytes());
        r[12..16].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        self.out.write_all(&r)?;
        self.out.write_all(&frame[..caplen])?;
        self.out.flush()
    }

    /// Writes one frame stamped with the current time.
    pub fn write(&mut self, frame: &[u8]) -> io::Result<()> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.write_at(frame, now.as_secs() as u32, now.subsec_micros())
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_header_and_record() {
        let mut w = PcapWriter::new(Vec::new(), 65535).unwrap();
        w.write_at(&[0xde, 0xad, 0xbe, 0xef], 0x0102_0304, 7)
            .unwrap();
        let b = w.into_inner();
        #[rustfmt::skip]
        let want = [
            0xd4, 0xc3, 0xb2, 0xa1, // magic (microsecond timestamps), little-endian
            0x02, 0x00, 0x04, 0x00, // version 2.4
            0, 0, 0, 0,             // thiszone
            0, 0, 0, 0,             // sigfigs
            0xff, 0xff, 0x00, 0x00, // snaplen 65535
            0x01, 0x00, 0x00, 0x00, // LINKTYPE_ETHERNET
            0x04, 0x03, 0x02, 0x01, // ts_sec
            0x07, 0x00, 0x00, 0x00, // ts_usec
            0x04, 0x00, 0x00, 0x00, // incl_len
            0x04, 0x00, 0x00, 0x00, // orig_len
            0xde, 0xad, 0xbe, 0xef, // the frame
        ];
        assert_eq!(b, want);
    }

    #[test]
    fn snaplen_truncates_but_keeps_orig_len() {
        let mut w = PcapWriter::new(Vec::new(), 2).unwrap();
        w.write_at(&[1, 2, 3], 0, 0).unwrap();
        let b = w.into_inner();
        assert_eq!(&b[24 + 8..24 + 16], &[2, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(&b[40..], &[1, 2]);
    }
}
