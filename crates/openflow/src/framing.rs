//! Framing: cutting a byte stream into whole OpenFlow messages by the
//! header's length field (offset 2), with a size limit.
//!
//! [`frame_len`] looks at the front of a buffer; [`split_frames`] takes
//! every complete message out of a buffer; [`Framer`] owns the buffer of a
//! stream. A length below 8 or above the limit is an error the connection
//! cannot recover from (the stream has lost its framing): answer it and
//! close.
//!
//! What it must never do: buffer more than one message's worth beyond the
//! limit, or panic on any input.

use crate::error::{DecodeError, OFPBRC_BAD_LEN};
use crate::msg::HEADER_LEN;

/// The largest message: the length field is 16 bits (64 KiB - 1).
pub const MAX_MESSAGE_LEN: usize = 65535;

/// The length of the message at the front of `buf`, once its header is
/// there (`None` = need more bytes). Errors when the header's length is
/// below 8 or above `max_len`.
pub fn frame_len(buf: &[u8], max_len: usize) -> Result<Option<usize>, DecodeError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    if len < HEADER_LEN {
        return Err(DecodeError::new(
            OFPBRC_BAD_LEN,
            format!("message length {len} is below the 8-byte header"),
        ));
    }
    if len > max_len {
        return Err(DecodeError::new(
            OFPBRC_BAD_LEN,
            format!("message length {len} exceeds the {max_len}-byte limit"),
        ));
    }
    Ok(Some(len))
}

/// Every complete message at the front of `buf`, and how many bytes they
/// take (the rest is an incomplete message). On error, the messages before
/// the bad one are lost with it: the stream is unusable anyway.
pub fn split_frames(buf: &[u8], max_len: usize) -> Result<(Vec<&[u8]>, usize), DecodeError> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(len) = frame_len(&buf[at..], max_len)? {
        if buf.len() - at < len {
            break;
        }
        out.push(&buf[at..at + len]);
        at += len;
    }
    Ok((out, at))
}

/// The receive buffer of one stream.
#[derive(Clone, Debug)]
pub struct Framer {
    buf: Vec<u8>,
    max_len: usize,
}

impl Default for Framer {
    fn default() -> Framer {
        Framer::new(MAX_MESSAGE_LEN)
    }
}

impl Framer {
    /// A framer refusing messages over `max_len` bytes.
    pub fn new(max_len: usize) -> Framer {
        Framer {
            buf: Vec::new(),
            max_len,
        }
    }

    /// Adds received bytes and returns the messages they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, DecodeError> {
        self.buf.extend_from_slice(bytes);
        let (frames, used) = split_frames(&self.buf, self.max_len)?;
        let out = frames.into_iter().map(<[u8]>::to_vec).collect();
        self.buf.drain(..used);
        Ok(out)
    }

    /// Bytes of an incomplete message held.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_whole_messages_and_keeps_the_rest() {
        // two HELLOs (8 bytes each) and half of a third
        let mut buf = Vec::new();
        for xid in 1..=2u8 {
            buf.extend_from_slice(&[4, 0, 0, 8, 0, 0, 0, xid]);
        }
        buf.extend_from_slice(&[4, 0, 0, 8, 0]);
        let (frames, used) = split_frames(&buf, MAX_MESSAGE_LEN).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(used, 16);
        assert_eq!(frames[1][7], 2);
    }

    #[test]
    fn byte_at_a_time() {
        let msg = [4u8, 2, 0, 10, 0, 0, 0, 9, 0xaa, 0xbb];
        let mut f = Framer::default();
        for &b in &msg[..9] {
            assert!(f.push(&[b]).unwrap().is_empty());
        }
        assert_eq!(f.push(&msg[9..]).unwrap(), vec![msg.to_vec()]);
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn bad_lengths() {
        let e = frame_len(&[4, 0, 0, 7], MAX_MESSAGE_LEN).unwrap_err();
        assert_eq!(e.kind, OFPBRC_BAD_LEN);
        let e = frame_len(&[4, 0, 0x10, 0], 1024).unwrap_err();
        assert!(e.message.contains("1024"), "{e}");
        assert_eq!(frame_len(&[4, 0, 0x10], 1024).unwrap(), None);
        assert_eq!(
            frame_len(&[4, 0, 0xff, 0xff], MAX_MESSAGE_LEN).unwrap(),
            Some(65535)
        );
    }
}
