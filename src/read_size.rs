//! How much a driver asks of one socket read: the size adapts between [`MIN_READ`] and
//! [`MAX_READ`] (a read that fills its room doubles the next, one that takes less than a
//! quarter halves it), so small messages do not pay to zero or touch a large buffer and
//! large ones do not pay for many small reads. The runtime and the tokio adapter share it.

/// The smallest read, and what an idle connection's next read asks for.
pub(crate) const MIN_READ: usize = 4 * 1024;
/// The largest read.
pub(crate) const MAX_READ: usize = 256 * 1024;

/// The next read size after a read of `read` bytes into `room`.
pub(crate) fn adapt_read_size(room: usize, read: usize) -> usize {
    if read == room {
        (room * 2).min(MAX_READ)
    } else if read < room / 4 {
        (room / 2).max(MIN_READ)
    } else {
        room.clamp(MIN_READ, MAX_READ)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_size_adapts_within_bounds() {
        assert_eq!(adapt_read_size(MIN_READ, MIN_READ), 2 * MIN_READ);
        assert_eq!(adapt_read_size(MAX_READ, MAX_READ), MAX_READ);
        assert_eq!(adapt_read_size(64 * 1024, 100), 32 * 1024);
        assert_eq!(adapt_read_size(MIN_READ, 1), MIN_READ);
        assert_eq!(adapt_read_size(64 * 1024, 20_000), 64 * 1024);
    }
}
