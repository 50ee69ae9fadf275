//! Checksums: the Internet checksum (RFC 1071) computed 8 bytes at a time,
//! its incremental update (RFC 1624), the TCP/UDP/ICMPv6 pseudo-header sums,
//! completion of offloaded (CHECKSUM_PARTIAL) checksums, and CRC32c (SCTP).
//!
//! Vocabulary used throughout the crate:
//! - a **sum** is the ones'-complement sum of big-endian 16-bit words,
//!   folded to 16 bits and *not* complemented ([`sum`], [`pseudo_v4`]);
//! - a **checksum** is the complement of a sum, the value stored in a
//!   header ([`checksum`], [`finish`]).
//!
//! Ones'-complement arithmetic has two zeros, 0x0000 and 0xffff. The sum of
//! data that is not all zero is always in `1..=0xffff`, so a checksum
//! computed from scratch is in `0..=0xfffe`; the incremental updates here
//! keep to the same canonical form, so a field updated incrementally is
//! byte-identical to one recomputed from scratch.
//!
//! Nothing here allocates.

use crate::{Error, Result};

#[inline(always)]
fn add64(a: u64, b: u64) -> u64 {
    let (s, carry) = a.overflowing_add(b);
    s + carry as u64
}

/// Folds a wide ones'-complement accumulator to 16 bits (2^16 ≡ 1 mod
/// 0xffff, so end-around carries at 64/32/16 bits are all the same sum).
/// A non-zero input never folds to zero.
#[inline]
fn fold(acc: u128) -> u16 {
    let s = add64((acc >> 64) as u64, acc as u64);
    let s = (s >> 32) + (s & 0xffff_ffff);
    let s = (s >> 32) + (s & 0xffff_ffff);
    let s = (s >> 16) + (s & 0xffff);
    let s = (s >> 16) + (s & 0xffff);
    s as u16
}

/// Ones'-complement sum of `data` as big-endian 16-bit words, folded, not
/// complemented. An odd final byte is padded with a zero byte. `data` is
/// assumed to start at an even offset of whatever it is part of.
///
/// Reads 8 bytes per step into a 128-bit accumulator (no carry handling
/// inside the loop).
#[inline]
pub fn sum(data: &[u8]) -> u16 {
    let mut acc: u128 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        acc += u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as u128;
    }
    // The tail starts at an even offset, and every 16-bit word counts the
    // same wherever it sits in a wider integer (2^16 ≡ 1 mod 0xffff), so
    // 4-, 2- and 1-byte pieces are added as they are, without a copy.
    let mut rest = chunks.remainder();
    if rest.len() >= 4 {
        acc += u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as u128;
        rest = &rest[4..];
    }
    if rest.len() >= 2 {
        acc += u16::from_be_bytes([rest[0], rest[1]]) as u128;
        rest = &rest[2..];
    }
    if let Some(&b) = rest.first() {
        acc += (b as u128) << 8;
    }
    fold(acc)
}

/// Ones'-complement addition of two sums.
#[inline]
pub fn add(a: u16, b: u16) -> u16 {
    let s = a as u32 + b as u32;
    ((s & 0xffff) + (s >> 16)) as u16
}

/// The Internet checksum of `data` (RFC 1071): `!sum(data)`. Computed over
/// a header whose checksum field is zero, this is the value to store; over
/// a header with a correct checksum in place it is 0.
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !sum(data)
}

/// The checksum of a transport segment given its pseudo-header sum:
/// `!(pseudo + sum(segment))`. The segment's checksum field must be zero.
#[inline]
pub fn finish(pseudo: u16, segment: &[u8]) -> u16 {
    !add(pseudo, sum(segment))
}

/// Sum of the IPv4 pseudo-header (RFC 793/768): source, destination, zero,
/// protocol, transport length.
#[inline]
pub fn pseudo_v4(src: [u8; 4], dst: [u8; 4], proto: u8, len: u16) -> u16 {
    let acc = u32::from_be_bytes(src) as u128
        + u32::from_be_bytes(dst) as u128
        + proto as u128
        + len as u128;
    fold(acc)
}

/// Sum of the IPv6 pseudo-header (RFC 8200 §8.1): source, destination,
/// upper-layer length (32 bits), next header.
#[inline]
pub fn pseudo_v6(src: &[u8; 16], dst: &[u8; 16], next_header: u8, len: u32) -> u16 {
    let acc = (u128::from_be_bytes(*src) >> 64)
        + (u128::from_be_bytes(*src) as u64 as u128)
        + (u128::from_be_bytes(*dst) >> 64)
        + (u128::from_be_bytes(*dst) as u64 as u128)
        + next_header as u128
        + len as u128;
    fold(acc)
}

/// A sum that came out as the "negative zero" 0x0000 is written 0xffff:
/// the sum of data that is not all zero is never 0x0000.
#[inline]
fn canonical(s: u16) -> u16 {
    if s == 0 {
        0xffff
    } else {
        s
    }
}

/// RFC 1624 (eqn. 3) update of a stored checksum `check` when the bytes
/// `old` of the covered data become `new`: `!(!check + !old + new)`.
///
/// `old` and `new` have the same length and start at an even offset of the
/// checksummed data (pad with the neighbouring byte otherwise, as
/// [`update16`] callers do for single bytes). The result is byte-identical
/// to a recomputation from scratch when `check` was canonical.
#[inline]
pub fn update(check: u16, old: &[u8], new: &[u8]) -> u16 {
    debug_assert_eq!(old.len(), new.len());
    !canonical(add(add(!check, !sum(old)), sum(new)))
}

/// [`update`] for one 16-bit word.
#[inline]
pub fn update16(check: u16, old: u16, new: u16) -> u16 {
    !canonical(add(add(!check, !old), new))
}

/// Update of a CHECKSUM_PARTIAL transport checksum field.
///
/// With checksum offload (Linux `CHECKSUM_PARTIAL`, virtio
/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`) the field holds the folded pseudo-header
/// *sum*, not complemented; whoever completes it adds the segment and
/// stores the complement ([`complete_partial`]). Changing pseudo-header
/// bytes `old` to `new` therefore gives `field - old + new`, again not
/// complemented (Linux `inet_proto_csum_replace4` with `pseudohdr` set).
/// Bytes outside the pseudo-header (ports) need no update at all.
#[inline]
pub fn update_partial(field: u16, old: &[u8], new: &[u8]) -> u16 {
    debug_assert_eq!(old.len(), new.len());
    canonical(add(add(field, !sum(old)), sum(new)))
}

/// Completes a CHECKSUM_PARTIAL frame in software, as Linux
/// `skb_checksum_help` does: sums `frame[csum_start..]` (the field at
/// `csum_start + csum_offset` already holding the pseudo-header sum) and
/// stores the complement there; a result of 0 is stored as 0xffff.
pub fn complete_partial(frame: &mut [u8], csum_start: usize, csum_offset: usize) -> Result<()> {
    let at = csum_start
        .checked_add(csum_offset)
        .ok_or(Error::Malformed)?;
    if at.checked_add(2).is_none_or(|end| end > frame.len()) {
        return Err(Error::Truncated);
    }
    let c = checksum(&frame[csum_start..]);
    let c = if c == 0 { 0xffff } else { c };
    frame[at..at + 2].copy_from_slice(&c.to_be_bytes());
    Ok(())
}

const CRC32C_POLY: u32 = 0x82f6_3b78; // Castagnoli, reflected

const fn crc32c_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ CRC32C_POLY
            } else {
                c >> 1
            };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut j = 1;
        while j < 8 {
            let p = t[j - 1][i];
            t[j][i] = (p >> 8) ^ t[0][(p & 0xff) as usize];
            j += 1;
        }
        i += 1;
    }
    t
}

static CRC32C: [[u32; 256]; 8] = crc32c_tables();

/// CRC32c (Castagnoli, RFC 3309/4960 appendix B) of `data`.
#[inline]
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c_append(0, data)
}

/// Continues a CRC32c: `crc32c_append(crc32c(a), b) == crc32c(a ++ b)`.
/// Slicing-by-8 tables built at compile time.
pub fn crc32c_append(crc: u32, data: &[u8]) -> u32 {
    let t = &CRC32C;
    let mut c = !crc;
    let mut chunks = data.chunks_exact(8);
    for ch in &mut chunks {
        let lo = u32::from_le_bytes([ch[0], ch[1], ch[2], ch[3]]) ^ c;
        let hi = u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]);
        c = t[7][(lo & 0xff) as usize]
            ^ t[6][((lo >> 8) & 0xff) as usize]
            ^ t[5][((lo >> 16) & 0xff) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][(hi & 0xff) as usize]
            ^ t[2][((hi >> 8) & 0xff) as usize]
            ^ t[1][((hi >> 16) & 0xff) as usize]
            ^ t[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        c = t[0][((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytewise reference: RFC 1071's loop over 16-bit words.
    fn naive_sum(data: &[u8]) -> u16 {
        let mut s: u32 = 0;
        for w in data.chunks(2) {
            let v = if w.len() == 2 {
                u16::from_be_bytes([w[0], w[1]])
            } else {
                (w[0] as u16) << 8
            };
            s += v as u32;
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    #[test]
    fn sum_matches_wordwise_reference_for_every_length() {
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for n in 0..data.len() {
            assert_eq!(sum(&data[..n]), naive_sum(&data[..n]), "len {n}");
        }
        let ones = vec![0xffu8; 1000];
        assert_eq!(sum(&ones), 0xffff);
        assert_eq!(sum(&[]), 0);
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        assert_eq!(
            sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
    }

    #[test]
    fn ipv4_header_checksum_known_value() {
        // A widely quoted header: checksum b861.
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&h), 0xb861);
        h[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert_eq!(checksum(&h), 0);
    }

    #[test]
    fn incremental_update_equals_recomputation() {
        let mut data: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37)).collect();
        data[10] = 0;
        data[11] = 0;
        let c = checksum(&data);
        for (at, new) in [
            (0usize, [0xffu8, 0xff]),
            (4, [0, 0]),
            (20, [0x12, 0x34]),
            (62, [0xab, 0xcd]),
        ] {
            let old = [data[at], data[at + 1]];
            let c0 = checksum(&data);
            assert_eq!(c0, c);
            let mut d2 = data.clone();
            d2[at..at + 2].copy_from_slice(&new);
            assert_eq!(update(c0, &old, &new), checksum(&d2));
            assert_eq!(
                update16(c0, u16::from_be_bytes(old), u16::from_be_bytes(new)),
                checksum(&d2)
            );
        }
    }

    #[test]
    fn incremental_update_keeps_canonical_zero() {
        // Data whose sum is 0xffff: the checksum from scratch is 0x0000, and
        // an update that returns to the same sum must give 0x0000 again.
        let data = [0xff, 0x00, 0x00, 0xff];
        assert_eq!(checksum(&data), 0);
        let d2 = [0x00, 0xff, 0xff, 0x00];
        assert_eq!(
            update(0, &data[..2], &d2[..2]),
            checksum(&[0x00, 0xff, 0x00, 0xff])
        );
        assert_eq!(update(checksum(&data), &data, &d2), checksum(&d2));
    }

    #[test]
    fn pseudo_headers_match_byte_layouts() {
        let v4 = [10, 0, 0, 1, 10, 0, 0, 2, 0, 17, 0, 30];
        assert_eq!(pseudo_v4([10, 0, 0, 1], [10, 0, 0, 2], 17, 30), sum(&v4));
        let s = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let d = [
            0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
        ];
        let mut v6 = Vec::new();
        v6.extend_from_slice(&s);
        v6.extend_from_slice(&d);
        v6.extend_from_slice(&70000u32.to_be_bytes());
        v6.extend_from_slice(&[0, 0, 0, 58]);
        assert_eq!(pseudo_v6(&s, &d, 58, 70000), sum(&v6));
    }

    #[test]
    fn partial_update_tracks_pseudo_header_sum() {
        let p = pseudo_v4([10, 0, 0, 1], [10, 0, 0, 2], 6, 40);
        let p2 = pseudo_v4([192, 168, 7, 9], [10, 0, 0, 2], 6, 40);
        assert_eq!(update_partial(p, &[10, 0, 0, 1], &[192, 168, 7, 9]), p2);
    }

    #[test]
    fn complete_partial_fills_checksum() {
        let mut seg = vec![0u8; 28];
        seg[..8].copy_from_slice(&[0x12, 0x34, 0x00, 0x35, 0x00, 28, 0, 0]);
        seg[8..].copy_from_slice(b"twenty bytes of payload!"[..20].as_ref());
        let p = pseudo_v4([1, 2, 3, 4], [5, 6, 7, 8], 17, 28);
        let want = finish(p, &seg);
        seg[6..8].copy_from_slice(&p.to_be_bytes());
        complete_partial(&mut seg, 0, 6).unwrap();
        assert_eq!(u16::from_be_bytes([seg[6], seg[7]]), want);
        assert_eq!(complete_partial(&mut seg, 27, 1), Err(Error::Truncated));
        assert_eq!(
            complete_partial(&mut seg, usize::MAX, 1),
            Err(Error::Malformed)
        );
    }

    #[test]
    fn crc32c_known_vectors() {
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa); // RFC 3720 B.4
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62a8_ab43);
        let inc: Vec<u8> = (0..32).collect();
        assert_eq!(crc32c(&inc), 0x46dd_794e);
        let data: Vec<u8> = (0..100u8).collect();
        for cut in 0..data.len() {
            assert_eq!(
                crc32c_append(crc32c(&data[..cut]), &data[cut..]),
                crc32c(&data)
            );
        }
    }
}
