//! Loading a lab file: YAML text in, a fully resolved [`Lab`] out.
//!
//! The pipeline is parse (`model`: serde types with source locations) →
//! nodes, links, interface names and switch port VLANs (`resolve`, with the
//! rules in `names`; switches' OpenFlow settings in `openflow`) → L2
//! segments (per VLAN on switches) and addresses
//! (`addressing`) → default and static routes (`routes`). Each stage stops
//! at the first problem and reports it as a [`LabError`] located at the
//! offending value (`FILE:LINE:COLUMN`), so a bad file never produces a
//! partial lab. This module does no I/O beyond reading the file in
//! [`load_file`]; it never touches the kernel.
//!
//! The file format is documented in `docs/lab-format.md`.

mod addressing;
mod model;
mod names;
mod openflow;
mod resolve;
mod routes;

use std::fmt;
use std::path::Path;

use serde_saphyr::{Location, MessageFormatter};

use crate::lab::Lab;
use model::RawLab;

/// A lab file that cannot be loaded: where and why.
///
/// `line` and `column` are 1-based. They are 0 only when the file could not be
/// read at all (then `Display` prints `FILE: message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabError {
    /// The file name the text came from.
    pub origin: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.origin, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.origin, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for LabError {}

/// Read and resolve the lab file at `path`.
pub fn load_file(path: &Path) -> Result<Lab, LabError> {
    load_file_with(path, None)
}

/// [`load_file`], keeping the automatic addresses of `applied` (the lab
/// as it was last brought up) where they still fit (the
/// addressing module's "sticky addresses").
pub fn load_file_with(path: &Path, applied: Option<&Lab>) -> Result<Lab, LabError> {
    let origin = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => load_str_with(&text, &origin, applied),
        Err(e) => Err(LabError {
            origin,
            line: 0,
            column: 0,
            message: format!("cannot read lab file: {e}"),
        }),
    }
}

/// Resolve lab file text. `origin` names the text in error messages
/// (usually the file name).
pub fn load_str(text: &str, origin: &str) -> Result<Lab, LabError> {
    load_str_with(text, origin, None)
}

/// [`load_str`] with the applied lab's addresses as hints (see
/// [`load_file_with`]).
pub fn load_str_with(text: &str, origin: &str, applied: Option<&Lab>) -> Result<Lab, LabError> {
    let hints = applied.map(addressing::Hints::from_lab).unwrap_or_default();
    resolve_text(text, &hints).map_err(|e| LabError {
        origin: origin.to_owned(),
        line: e.line,
        column: e.column,
        message: e.message,
    })
}

fn resolve_text(text: &str, hints: &addressing::Hints) -> Result<Lab, Located> {
    let raw: RawLab = serde_saphyr::from_str(text).map_err(|e| yaml_error(text, &e))?;
    let auto_routes = routes::parse_mode(raw.routes.as_ref())?;
    let pools = addressing::Pools::parse(raw.addressing.as_ref())?;
    let mut draft = resolve::resolve(raw)?;
    let segments = addressing::assign(&mut draft, &pools, hints)?;
    routes::compute(&mut draft, &segments, auto_routes)?;
    Ok(draft.lab)
}

/// An error at a place in the text, before the file name is attached.
#[derive(Debug)]
struct Located {
    line: usize,
    column: usize,
    message: String,
}

impl Located {
    /// An error at `loc`; an unknown location falls back to the start of the file.
    fn at(loc: Location, message: impl Into<String>) -> Self {
        let (line, column) = if loc.line() == 0 {
            (1, 1)
        } else {
            (loc.line() as usize, loc.column().max(1) as usize)
        };
        Located {
            line,
            column,
            message: message.into(),
        }
    }
}

/// Shorthand for `Err(Located::at(..))`.
fn fail<T>(loc: Location, message: impl Into<String>) -> Result<T, Located> {
    Err(Located::at(loc, message))
}

/// Turn a YAML/serde error into a located one, with a friendlier message for
/// the errors people actually make.
fn yaml_error(text: &str, err: &serde_saphyr::Error) -> Located {
    let mut inner = err;
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = inner
    {
        inner = error;
    }
    let loc = err.location().unwrap_or(Location::UNKNOWN);
    let message = match inner {
        serde_saphyr::Error::DuplicateMappingKey { key: Some(key), .. } => {
            duplicate_key_message(text, key, loc)
        }
        other => {
            let raw = serde_saphyr::UserMessageFormatter.format_message(other);
            let plain = match raw.as_ref() {
                "expected sequence start" => "expected a list",
                "expected mapping start" => "expected a mapping (`key: value`)",
                "expected string scalar" => "expected a string",
                "invalid u8" => "expected a whole number from 0 to 255",
                "invalid u32" => "expected a whole number from 0 to 4294967295",
                // Only VLAN IDs are read as i64 (so that range errors are ours).
                "invalid i64" => "expected a VLAN ID, a whole number from 1 to 4094",
                other => other,
            };
            match key_before(text, loc) {
                Some(key) if plain != raw || !plain.contains('`') => format!("`{key}`: {plain}"),
                _ => plain.to_owned(),
            }
        }
    };
    Located::at(loc, message)
}

/// The mapping key written just before `loc` on its line (`exec` for an
/// error at the value of `exec: 5`), to say which value is wrong.
fn key_before(text: &str, loc: Location) -> Option<&str> {
    let line = text.lines().nth((loc.line() as usize).checked_sub(1)?)?;
    let col = (loc.column() as usize).checked_sub(1)?;
    let end = line.char_indices().nth(col).map_or(line.len(), |(i, _)| i);
    let before = line[..end].trim_end().strip_suffix(':')?;
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .map_or(0, |i| i + 1);
    let key = &before[start..];
    (!key.is_empty()).then_some(key)
}

/// Say "duplicate node" rather than "duplicate key" when the repeated key is
/// a node name. The strict parse stops at the duplicate without telling which
/// mapping it is in, so parse again letting duplicates through and look.
fn duplicate_key_message(text: &str, key: &str, loc: Location) -> String {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
    };
    if let Ok(raw) = serde_saphyr::from_str_with_options::<RawLab>(text, options) {
        let mut first = None;
        for (name, _) in &raw.nodes.value.0 {
            if name.value != key {
                continue;
            }
            match first {
                None => first = Some(name.referenced),
                Some(f) if name.referenced.line() == loc.line() => {
                    return format!(
                        "duplicate node `{key}` (first defined at line {}, column {})",
                        f.line(),
                        f.column()
                    );
                }
                Some(_) => {}
            }
        }
    }
    format!("duplicate key `{key}`: a key may appear only once in a mapping")
}
