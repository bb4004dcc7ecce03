//! The frame codec: header encoding and decoding, and masking.
//!
//! Most users never touch frames: [`Connection`](crate::Connection) turns bytes into
//! messages. This module is public for those who build their own framing on top, and for
//! fuzzing and benchmarks.

mod header;
mod mask;

pub use header::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode, RSV1};
pub use mask::apply_mask;
