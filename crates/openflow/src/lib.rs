//! vnet's OpenFlow 1.3 codec: every message an OpenFlow 1.3 switch
//! exchanges with its controllers, decoded from and encoded to bytes, and
//! translated to and from the switch's flow model
//! ([`vnet_switch::flow`]). Pure: no sockets, no clocks (durations are
//! computed from the caller's `now`), no unsafe.
//!
//! Layers, bottom up:
//! - [`framing`]: whole messages out of a byte stream (length at offset 2,
//!   size limit);
//! - [`msg`]: the [`Header`] and the [`Message`] enum, decode/encode;
//! - [`oxm`]: matches (OXM TLVs) with the spec's checks, and
//!   [`oxm::convert`] to/from [`vnet_switch::flow::Match`];
//! - [`instruction`], [`action`]: instructions and actions, to/from the
//!   switch model (what it lacks is refused with the spec's error);
//! - [`multipart`]: MULTIPART request and reply bodies;
//! - [`port`]: port descriptions, stats and PORT_MOD;
//! - [`conn`]: the channel state machine (HELLO, echo, roles, errors;
//!   bytes and `now` in, bytes and events out);
//! - [`error`]: [`DecodeError`] (carrying the `(type, code)` to answer
//!   with in an OFPT_ERROR) and the spec's error constants.
//!
//! Invariants: decoding never panics, whatever the bytes; a decoded
//! message re-encodes to the same bytes (padding normalised to zeros);
//! a translation to the switch model either keeps every field, action and
//! instruction or fails with the spec's error, never silently dropping
//! anything.
#![forbid(unsafe_code)]

pub mod action;
mod buf;
pub mod conn;
pub mod error;
pub mod framing;
pub mod instruction;
pub mod msg;
pub mod multipart;
pub mod oxm;
pub mod port;

pub use error::{DecodeError, EncodeError, ErrorKind};
pub use framing::{frame_len, split_frames, Framer, MAX_MESSAGE_LEN};
pub use msg::{Header, Message};

/// The wire version of OpenFlow 1.3.
pub const OFP_VERSION: u8 = 0x04;
