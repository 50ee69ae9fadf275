//! Errors: [`DecodeError`] for everything a peer can send wrong (its `kind`
//! is the OpenFlow 1.3 `(ofp_error_type, code)` to answer with in an
//! OFPT_ERROR), [`EncodeError`] for switch-model values OpenFlow 1.3 cannot
//! express, and the spec's error constants (`OFPET_*` types, `OFP*C_*`
//! codes as `(type, code)` pairs).
//!
//! What it must never do: invent codes. Every pair here is from the
//! OpenFlow 1.3.5 specification, section A.4.4.

use std::fmt;

/// An OpenFlow error: `(ofp_error_type, code)`.
pub type ErrorKind = (u16, u16);

/// Why bytes from a peer were refused, and what to answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", ErrorName(*kind))]
pub struct DecodeError {
    /// The OFPT_ERROR `(type, code)` the connection answers with.
    pub kind: ErrorKind,
    /// What was wrong, naming the field or object.
    pub message: String,
}

impl DecodeError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> DecodeError {
        DecodeError {
            kind,
            message: message.into(),
        }
    }
}

/// Why a switch-model value cannot be put into an OpenFlow 1.3 message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{field} cannot be expressed in an OpenFlow 1.3 match: {reason}")]
    Match {
        field: &'static str,
        reason: &'static str,
    },
    #[error("message of {len} bytes exceeds the 65535-byte OpenFlow limit")]
    TooLong { len: usize },
}

/// Prints an [`ErrorKind`] by its spec name (`OFPBMC_BAD_PREREQ`), or as
/// numbers when unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorName(pub ErrorKind);

impl fmt::Display for ErrorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match error_name(self.0) {
            Some(n) => f.write_str(n),
            None => write!(f, "error type {} code {}", self.0 .0, self.0 .1),
        }
    }
}

macro_rules! error_codes {
    ($( $ty_name:ident = $ty:expr => { $($name:ident = $code:expr),* $(,)? } )*) => {
        $( pub const $ty_name: u16 = $ty;
           $( pub const $name: ErrorKind = ($ty, $code); )* )*
        /// The spec name of an error, if it is one of the spec's.
        pub fn error_name(kind: ErrorKind) -> Option<&'static str> {
            match kind {
                $( $( ($ty, $code) => Some(stringify!($name)), )* )*
                _ => None,
            }
        }
    };
}

error_codes! {
    OFPET_HELLO_FAILED = 0 => { OFPHFC_INCOMPATIBLE = 0, OFPHFC_EPERM = 1 }
    OFPET_BAD_REQUEST = 1 => {
        OFPBRC_BAD_VERSION = 0, OFPBRC_BAD_TYPE = 1, OFPBRC_BAD_MULTIPART = 2,
        OFPBRC_BAD_EXPERIMENTER = 3, OFPBRC_BAD_EXP_TYPE = 4, OFPBRC_EPERM = 5,
        OFPBRC_BAD_LEN = 6, OFPBRC_BUFFER_EMPTY = 7, OFPBRC_BUFFER_UNKNOWN = 8,
        OFPBRC_BAD_TABLE_ID = 9, OFPBRC_IS_SLAVE = 10, OFPBRC_BAD_PORT = 11,
        OFPBRC_BAD_PACKET = 12, OFPBRC_MULTIPART_BUFFER_OVERFLOW = 13,
    }
    OFPET_BAD_ACTION = 2 => {
        OFPBAC_BAD_TYPE = 0, OFPBAC_BAD_LEN = 1, OFPBAC_BAD_EXPERIMENTER = 2,
        OFPBAC_BAD_EXP_TYPE = 3, OFPBAC_BAD_OUT_PORT = 4, OFPBAC_BAD_ARGUMENT = 5,
        OFPBAC_EPERM = 6, OFPBAC_TOO_MANY = 7, OFPBAC_BAD_QUEUE = 8,
        OFPBAC_BAD_OUT_GROUP = 9, OFPBAC_MATCH_INCONSISTENT = 10,
        OFPBAC_UNSUPPORTED_ORDER = 11, OFPBAC_BAD_TAG = 12, OFPBAC_BAD_SET_TYPE = 13,
        OFPBAC_BAD_SET_LEN = 14, OFPBAC_BAD_SET_ARGUMENT = 15,
    }
    OFPET_BAD_INSTRUCTION = 3 => {
        OFPBIC_UNKNOWN_INST = 0, OFPBIC_UNSUP_INST = 1, OFPBIC_BAD_TABLE_ID = 2,
        OFPBIC_UNSUP_METADATA = 3, OFPBIC_UNSUP_METADATA_MASK = 4,
        OFPBIC_BAD_EXPERIMENTER = 5, OFPBIC_BAD_EXP_TYPE = 6, OFPBIC_BAD_LEN = 7,
        OFPBIC_EPERM = 8,
    }
    OFPET_BAD_MATCH = 4 => {
        OFPBMC_BAD_TYPE = 0, OFPBMC_BAD_LEN = 1, OFPBMC_BAD_TAG = 2,
        OFPBMC_BAD_DL_ADDR_MASK = 3, OFPBMC_BAD_NW_ADDR_MASK = 4,
        OFPBMC_BAD_WILDCARDS = 5, OFPBMC_BAD_FIELD = 6, OFPBMC_BAD_VALUE = 7,
        OFPBMC_BAD_MASK = 8, OFPBMC_BAD_PREREQ = 9, OFPBMC_DUP_FIELD = 10,
        OFPBMC_EPERM = 11,
    }
    OFPET_FLOW_MOD_FAILED = 5 => {
        OFPFMFC_UNKNOWN = 0, OFPFMFC_TABLE_FULL = 1, OFPFMFC_BAD_TABLE_ID = 2,
        OFPFMFC_OVERLAP = 3, OFPFMFC_EPERM = 4, OFPFMFC_BAD_TIMEOUT = 5,
        OFPFMFC_BAD_COMMAND = 6, OFPFMFC_BAD_FLAGS = 7,
    }
    OFPET_GROUP_MOD_FAILED = 6 => {
        OFPGMFC_GROUP_EXISTS = 0, OFPGMFC_INVALID_GROUP = 1,
        OFPGMFC_WEIGHT_UNSUPPORTED = 2, OFPGMFC_OUT_OF_GROUPS = 3,
        OFPGMFC_OUT_OF_BUCKETS = 4, OFPGMFC_CHAINING_UNSUPPORTED = 5,
        OFPGMFC_WATCH_UNSUPPORTED = 6, OFPGMFC_LOOP = 7, OFPGMFC_UNKNOWN_GROUP = 8,
        OFPGMFC_CHAINED_GROUP = 9, OFPGMFC_BAD_TYPE = 10, OFPGMFC_BAD_COMMAND = 11,
        OFPGMFC_BAD_BUCKET = 12, OFPGMFC_BAD_WATCH = 13, OFPGMFC_EPERM = 14,
    }
    OFPET_PORT_MOD_FAILED = 7 => {
        OFPPMFC_BAD_PORT = 0, OFPPMFC_BAD_HW_ADDR = 1, OFPPMFC_BAD_CONFIG = 2,
        OFPPMFC_BAD_ADVERTISE = 3, OFPPMFC_EPERM = 4,
    }
    OFPET_TABLE_MOD_FAILED = 8 => {
        OFPTMFC_BAD_TABLE = 0, OFPTMFC_BAD_CONFIG = 1, OFPTMFC_EPERM = 2,
    }
    OFPET_QUEUE_OP_FAILED = 9 => {
        OFPQOFC_BAD_PORT = 0, OFPQOFC_BAD_QUEUE = 1, OFPQOFC_EPERM = 2,
    }
    OFPET_SWITCH_CONFIG_FAILED = 10 => {
        OFPSCFC_BAD_FLAGS = 0, OFPSCFC_BAD_LEN = 1, OFPSCFC_EPERM = 2,
    }
    OFPET_ROLE_REQUEST_FAILED = 11 => {
        OFPRRFC_STALE = 0, OFPRRFC_UNSUP = 1, OFPRRFC_BAD_ROLE = 2,
    }
    OFPET_METER_MOD_FAILED = 12 => {
        OFPMMFC_UNKNOWN = 0, OFPMMFC_METER_EXISTS = 1, OFPMMFC_INVALID_METER = 2,
        OFPMMFC_UNKNOWN_METER = 3, OFPMMFC_BAD_COMMAND = 4, OFPMMFC_BAD_FLAGS = 5,
        OFPMMFC_BAD_RATE = 6, OFPMMFC_BAD_BURST = 7, OFPMMFC_BAD_BAND = 8,
        OFPMMFC_BAD_BAND_VALUE = 9, OFPMMFC_OUT_OF_METERS = 10,
        OFPMMFC_OUT_OF_BANDS = 11,
    }
    OFPET_TABLE_FEATURES_FAILED = 13 => {
        OFPTFFC_BAD_TABLE = 0, OFPTFFC_BAD_METADATA = 1, OFPTFFC_BAD_TYPE = 2,
        OFPTFFC_BAD_LEN = 3, OFPTFFC_BAD_ARGUMENT = 4, OFPTFFC_EPERM = 5,
    }
}

/// Experimenter error messages (`ofp_error_experimenter_msg`).
pub const OFPET_EXPERIMENTER: u16 = 0xffff;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_display() {
        assert_eq!(error_name(OFPBMC_BAD_PREREQ), Some("OFPBMC_BAD_PREREQ"));
        assert_eq!(OFPBMC_BAD_PREREQ, (4, 9));
        assert_eq!(OFPTFFC_EPERM, (13, 5));
        let e = DecodeError::new(OFPBRC_BAD_LEN, "hello too short");
        assert_eq!(e.to_string(), "OFPBRC_BAD_LEN: hello too short");
        assert_eq!(ErrorName((99, 1)).to_string(), "error type 99 code 1");
    }
}
