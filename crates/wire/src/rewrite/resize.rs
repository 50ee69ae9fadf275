//! Buffers whose length the encapsulation actions change.

/// A frame that MPLS and PBB pushes and pops can grow and shrink in the
/// middle. `Vec<u8>` is one; the switch's frame buffers are another (they
/// keep headroom, so the few bytes in front of the gap move instead of the
/// payload).
pub trait Resize {
    /// The frame, from its first byte (the Ethernet destination).
    fn bytes(&self) -> &[u8];
    /// The frame, writable.
    fn bytes_mut(&mut self) -> &mut [u8];
    /// Opens a gap of `n` bytes at `at` (`at` ≤ the length): what was at
    /// `at..` follows the gap. The gap's bytes are unspecified until the
    /// caller writes them.
    fn insert_gap(&mut self, at: usize, n: usize);
    /// Removes the `n` bytes at `at` (`at + n` ≤ the length).
    fn remove_range(&mut self, at: usize, n: usize);
}

impl Resize for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }

    fn insert_gap(&mut self, at: usize, n: usize) {
        let len = self.len();
        self.resize(len + n, 0);
        self.copy_within(at..len, at + n);
    }

    fn remove_range(&mut self, at: usize, n: usize) {
        self.drain(at..at + n);
    }
}

#[cfg(test)]
mod tests {
    use super::Resize;

    #[test]
    fn vec_gap_and_removal() {
        let mut v = vec![1u8, 2, 3, 4];
        v.insert_gap(1, 2);
        v.bytes_mut()[1..3].copy_from_slice(&[9, 9]);
        assert_eq!(v.bytes(), &[1, 9, 9, 2, 3, 4]);
        v.remove_range(0, 3);
        assert_eq!(v, [2, 3, 4]);
        v.insert_gap(3, 1);
        assert_eq!(v.len(), 4);
    }
}
