//! Byte cursors: a bounds-checked big-endian [`Reader`] whose every read
//! either succeeds or returns the [`DecodeError`] its context chose (so a
//! truncated action says OFPBAC_BAD_LEN and a truncated match
//! OFPBMC_BAD_LEN), and [`Put`], big-endian appends onto a `Vec<u8>`.
//!
//! What it must never do: panic or index out of bounds on any input.

use crate::error::{DecodeError, ErrorKind};

/// A cursor over untrusted bytes.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// The error a short read reports.
    kind: ErrorKind,
    /// What is being read, for messages.
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], kind: ErrorKind, what: &'static str) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            kind,
            what,
        }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    /// An error of this reader's kind.
    pub fn error(&self, message: impl Into<String>) -> DecodeError {
        DecodeError::new(self.kind, message)
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(self.error(format!(
                "{} truncated: needs {} more bytes at offset {}, has {}",
                self.what,
                n,
                self.pos,
                self.remaining()
            )));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }

    pub fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.bytes(n).map(|_| ())
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }

    /// A reader over the next `n` bytes (same error kind), advancing past
    /// them.
    pub fn sub(&mut self, n: usize, what: &'static str) -> Result<Reader<'a>, DecodeError> {
        let kind = self.kind;
        Ok(Reader::new(self.bytes(n)?, kind, what))
    }

    /// The same bytes read with another error kind.
    pub fn with_kind(mut self, kind: ErrorKind, what: &'static str) -> Reader<'a> {
        self.kind = kind;
        self.what = what;
        self
    }

    /// A fixed-size, NUL-padded string field (`char name[N]`).
    pub fn string(&mut self, n: usize) -> Result<String, DecodeError> {
        let b = self.bytes(n)?;
        // NUL-terminated: at most n-1 bytes of text (a field without its
        // NUL is cut there, as encoding would). Bytes that are not UTF-8
        // become '?', one byte each, so decoding never makes a name longer
        // than the field and re-encoding it gives the same text.
        let end = b
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(b.len())
            .min(n.saturating_sub(1));
        let mut out = String::with_capacity(end);
        for chunk in b[..end].utf8_chunks() {
            out.push_str(chunk.valid());
            out.extend(std::iter::repeat_n('?', chunk.invalid().len()));
        }
        Ok(out)
    }
}

/// Big-endian appends.
pub(crate) trait Put {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u32(&mut self, v: u32);
    fn put_u64(&mut self, v: u64);
    fn put_zeros(&mut self, n: usize);
    /// Zeros until the length since `start` is a multiple of 8.
    fn pad8_from(&mut self, start: usize);
    /// Overwrites the u16 at `at` (a length placeholder).
    fn set_u16(&mut self, at: usize, v: u16);
    /// A NUL-padded string field of `n` bytes (truncated to `n - 1`).
    fn put_string(&mut self, s: &str, n: usize);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_zeros(&mut self, n: usize) {
        self.resize(self.len() + n, 0);
    }
    fn pad8_from(&mut self, start: usize) {
        let len = self.len() - start;
        self.put_zeros(pad8(len) - len);
    }
    fn set_u16(&mut self, at: usize, v: u16) {
        self[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }
    fn put_string(&mut self, s: &str, n: usize) {
        let b = s.as_bytes();
        // Cut at a character boundary, leaving room for the NUL.
        let mut take = b.len().min(n.saturating_sub(1));
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.extend_from_slice(&b[..take]);
        self.put_zeros(n - take);
    }
}

/// `len` rounded up to a multiple of 8.
pub(crate) fn pad8(len: usize) -> usize {
    len.div_ceil(8) * 8
}

/// A length as the u16 a message field holds, saturating (an overlong
/// message is caught by [`crate::Message::encode`]).
pub(crate) fn len16(len: usize) -> u16 {
    u16::try_from(len).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OFPBAC_BAD_LEN;

    #[test]
    fn short_reads_report_the_context_kind() {
        let mut r = Reader::new(&[1, 2, 3], OFPBAC_BAD_LEN, "action");
        assert_eq!(r.u16().unwrap(), 0x0102);
        let e = r.u16().unwrap_err();
        assert_eq!(e.kind, OFPBAC_BAD_LEN);
        assert_eq!(r.u8().unwrap(), 3);
        assert!(r.is_empty());
    }

    #[test]
    fn names_that_are_not_utf8_or_fill_the_field_survive_a_round_trip() {
        // 16 bytes, no NUL, two of them not UTF-8 (found by the property test).
        let raw = *b"\x11\xff\x1aR\xfe\xfe\xfeY\x08C\xe9ce4\xaa\xbb";
        let name = Reader::new(&raw, OFPBAC_BAD_LEN, "name")
            .string(16)
            .unwrap();
        assert_eq!(name.len(), 15);
        assert_eq!(name, "\u{11}?\u{1a}R???Y\u{8}C?ce4?");
        let mut v = Vec::new();
        v.put_string(&name, 16);
        let again = Reader::new(&v, OFPBAC_BAD_LEN, "name").string(16).unwrap();
        assert_eq!(again, name);
        // Encoding never splits a character.
        let mut w = Vec::new();
        w.put_string("aaaaaaaaaaaaaa\u{e9}", 16);
        assert_eq!(&w[..], b"aaaaaaaaaaaaaa\0\0");
    }

    #[test]
    fn strings_and_padding() {
        let mut v = Vec::new();
        v.put_string("eth0", 8);
        assert_eq!(v, b"eth0\0\0\0\0");
        let mut w = Vec::new();
        w.put_string("0123456789abcdefXYZ", 16);
        assert_eq!(&w[..], b"0123456789abcde\0");
        let mut r = Reader::new(&w, OFPBAC_BAD_LEN, "name");
        assert_eq!(r.string(16).unwrap(), "0123456789abcde");
        let mut p = vec![1, 2, 3];
        p.pad8_from(0);
        assert_eq!(p.len(), 8);
        assert_eq!(pad8(0), 0);
        assert_eq!(pad8(9), 16);
    }
}
