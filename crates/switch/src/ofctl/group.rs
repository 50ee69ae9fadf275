//! Groups and meters in ovs-ofctl's syntax (ovs-ofctl(8), "Group Syntax"
//! and "Meter Syntax"), parsed into the switch model and printed the way
//! `ovs-ofctl -O OpenFlow13 dump-groups` prints a group:
//!
//! ```text
//! group_id=1,type=select,bucket=weight:60,actions=output:1,bucket=weight:40,actions=output:2
//! meter=1,pktps,burst,stats,bands=type=drop,rate=100,burst_size=10
//! ```
//!
//! As in ovs-ofctl, a SELECT bucket's weight defaults to 1 and is printed
//! only when it is not; other buckets' weight is 0. A meter prints on one
//! line in `add-meter` syntax (dump-meters spreads it over lines); its
//! `burst_size` is printed whenever it is not 0, so that a meter reads
//! back exactly as it was given. Printing is canonical: parsing a printed
//! group or meter gives it back.

use std::fmt::Write;

use super::lex::Lexer;
use super::{actions, print, value, FlowsFileError, ParseError, ParseErrorKind};
use crate::flow::{PortNo, ANY_GROUP};
use crate::group::{Bucket, Group, GroupMod, GroupModCommand, GroupType, ALL_GROUPS};
use crate::meter::{
    Band, BandType, Meter, MeterFlags, MeterMod, MeterModCommand, ALL_METERS, CONTROLLER_METER,
    SLOWPATH_METER,
};

fn bad(pos: usize, token: String, reason: String) -> ParseError {
    ParseError::new(pos, token, ParseErrorKind::BadValue(reason))
}

/// Parses an `add-group` / `mod-group` / `del-groups` argument. A delete
/// without `group_id` deletes every group.
pub fn parse_group(
    text: &str,
    command: GroupModCommand,
    names: &dyn Fn(&str) -> Option<u32>,
) -> Result<GroupMod, ParseError> {
    let deleting = command == GroupModCommand::Delete;
    let tokens: Vec<_> = Lexer::new(text, 0).collect();
    let first_bucket = tokens
        .iter()
        .position(|t| t.key == "bucket")
        .unwrap_or(tokens.len());
    let mut id: Option<u32> = None;
    let mut group_type: Option<GroupType> = None;
    for t in &tokens[..first_bucket] {
        let err = |r: String| bad(t.key_pos, t.text(), r);
        match t.key {
            "group_id" => {
                id = Some(match t.value.to_ascii_lowercase().as_str() {
                    "all" if deleting => ALL_GROUPS,
                    "any" | "all" => {
                        return Err(err(format!("group_id={} is not allowed here", t.value)))
                    }
                    v => value::uint_max(v, u64::from(u32::MAX)).map_err(err)? as u32,
                });
            }
            "type" => {
                group_type = Some(
                    GroupType::from_name(t.value)
                        .ok_or_else(|| err(format!("{}: unknown group type", t.value)))?,
                );
            }
            _ => {
                return Err(ParseError::new(
                    t.key_pos,
                    t.text(),
                    ParseErrorKind::UnknownKeyword(t.key.to_string()),
                ))
            }
        }
    }
    if deleting {
        if first_bucket < tokens.len() {
            let t = &tokens[first_bucket];
            return Err(bad(t.key_pos, t.text(), "a delete takes no buckets".into()));
        }
        return Ok(GroupMod {
            command,
            group: Group {
                id: id.unwrap_or(ALL_GROUPS),
                group_type: group_type.unwrap_or(GroupType::All),
                buckets: Vec::new(),
            },
        });
    }
    let id = id.ok_or_else(|| bad(0, String::new(), "must specify a group_id".into()))?;
    let group_type =
        group_type.ok_or_else(|| bad(0, String::new(), "must specify a group type".into()))?;
    let starts: Vec<usize> = tokens[first_bucket..]
        .iter()
        .filter(|t| t.key == "bucket")
        .map(|t| t.key_pos)
        .chain([text.len()])
        .collect();
    let mut buckets = Vec::new();
    for w in starts.windows(2) {
        let t = tokens
            .iter()
            .find(|t| t.key_pos == w[0])
            .expect("a bucket token starts here");
        if t.delim.is_none() {
            return Err(bad(t.key_pos, t.text(), "bucket= needs actions".into()));
        }
        buckets.push(bucket(text, t.value_pos, w[1], group_type, names)?);
    }
    Ok(GroupMod {
        command,
        group: Group {
            id,
            group_type,
            buckets,
        },
    })
}

/// One bucket: `text[start..end]` (after `bucket=`).
fn bucket(
    text: &str,
    start: usize,
    end: usize,
    group_type: GroupType,
    names: &dyn Fn(&str) -> Option<u32>,
) -> Result<Bucket, ParseError> {
    let mut b = Bucket::new(Vec::new());
    if group_type == GroupType::Select {
        b.weight = 1;
    }
    for t in Lexer::new(&text[start..end], start) {
        let err = |r: String| bad(t.key_pos, t.text(), r);
        let with_value = matches!(t.delim, Some(b':' | b'='));
        match t.key {
            "weight" if with_value => {
                b.weight = value::uint_max(t.value, 0xffff).map_err(err)? as u16
            }
            "watch_port" if with_value => {
                b.watch_port = value::port(t.value, names)
                    .ok_or_else(|| err(format!("{}: unknown port", t.value)))?;
            }
            "watch_group" if with_value => {
                b.watch_group = match t.value.to_ascii_lowercase().as_str() {
                    "any" => ANY_GROUP,
                    v => value::uint_max(v, u64::from(u32::MAX)).map_err(err)? as u32,
                };
            }
            "bucket_id" => return Err(err("bucket ids need OpenFlow 1.5".into())),
            "actions" if t.delim == Some(b'=') => {
                b.actions = actions::bucket_actions(&text[t.value_pos..end], t.value_pos, names)?;
                break;
            }
            _ => {
                b.actions = actions::bucket_actions(&text[t.key_pos..end], t.key_pos, names)?;
                break;
            }
        }
    }
    Ok(b)
}

/// A group as `dump-groups` prints it (without the leading space), which
/// `add-group` reads back.
pub fn format_group(g: &Group, names: &dyn Fn(u32) -> Option<String>) -> String {
    let mut s = format!("group_id={},type={}", g.id, g.group_type.name());
    let default_weight = u16::from(g.group_type == GroupType::Select);
    for b in &g.buckets {
        s.push_str(",bucket=");
        if b.weight != default_weight {
            let _ = write!(s, "weight:{},", b.weight);
        }
        if b.watch_port != PortNo::ANY {
            s.push_str("watch_port:");
            print::port(&mut s, b.watch_port, names);
            s.push(',');
        }
        if b.watch_group != ANY_GROUP {
            let _ = write!(s, "watch_group:{},", b.watch_group);
        }
        s.push_str("actions=");
        if b.actions.is_empty() {
            s.push_str("drop");
        }
        for (i, a) in b.actions.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            print::action(&mut s, a, names);
        }
    }
    s
}

/// Parses an `add-meter` / `mod-meter` / `del-meters` argument. A delete
/// without `meter` deletes every meter.
pub fn parse_meter(text: &str, command: MeterModCommand) -> Result<MeterMod, ParseError> {
    let deleting = command == MeterModCommand::Delete;
    let mut meter = Meter {
        id: 0,
        flags: MeterFlags::default(),
        bands: Vec::new(),
    };
    let mut bands_at = None;
    for t in Lexer::new(text, 0) {
        let err = |r: String| bad(t.key_pos, t.text(), r);
        let flag = MeterFlags::NAMES.iter().find(|(_, n)| *n == t.key);
        match (t.key, flag) {
            ("meter", _) => {
                meter.id = match t.value {
                    "all" if deleting => ALL_METERS,
                    "slowpath" => SLOWPATH_METER,
                    "controller" => CONTROLLER_METER,
                    v => value::uint_max(v, u64::from(u32::MAX)).map_err(err)? as u32,
                };
            }
            (_, Some((f, _))) if !deleting && t.delim.is_none() => {
                meter.flags = meter.flags | *f;
            }
            ("bands" | "band", _) if !deleting && t.delim == Some(b'=') => {
                bands_at = Some(t.value_pos);
                break;
            }
            _ => {
                return Err(ParseError::new(
                    t.key_pos,
                    t.text(),
                    ParseErrorKind::UnknownKeyword(t.key.to_string()),
                ))
            }
        }
    }
    if deleting {
        if meter.id == 0 {
            meter.id = ALL_METERS;
        }
        return Ok(MeterMod { command, meter });
    }
    if meter.id == 0 {
        return Err(bad(0, String::new(), "must specify 'meter'".into()));
    }
    let at = bands_at.ok_or_else(|| bad(0, String::new(), "must specify bands".into()))?;
    for t in Lexer::new(&text[at..], at) {
        let err = |r: String| bad(t.key_pos, t.text(), r);
        let num = |max: u64| value::uint_max(t.value, max).map_err(err);
        if t.key == "type" {
            let band_type = match t.value {
                "drop" => BandType::Drop,
                "dscp_remark" => BandType::DscpRemark { prec_level: 0 },
                v => return Err(err(format!("{v}: unknown band type"))),
            };
            meter.bands.push(Band {
                band_type,
                rate: 0,
                burst_size: 0,
            });
            continue;
        }
        let Some(band) = meter.bands.last_mut() else {
            return Err(err("a band starts with type=".into()));
        };
        match (t.key, &mut band.band_type) {
            ("rate", _) => band.rate = num(u64::from(u32::MAX))? as u32,
            ("burst_size", _) => band.burst_size = num(u64::from(u32::MAX))? as u32,
            ("prec_level", BandType::DscpRemark { prec_level }) => *prec_level = num(0xff)? as u8,
            _ => {
                return Err(ParseError::new(
                    t.key_pos,
                    t.text(),
                    ParseErrorKind::UnknownKeyword(t.key.to_string()),
                ))
            }
        }
    }
    Ok(MeterMod { command, meter })
}

/// A meter on one line in `add-meter` syntax.
pub fn format_meter(m: &Meter) -> String {
    let mut s = format!("meter={}", m.id);
    for (f, name) in MeterFlags::NAMES {
        if m.flags.contains(f) {
            let _ = write!(s, ",{name}");
        }
    }
    s.push_str(",bands=");
    for (i, b) in m.bands.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let kind = match b.band_type {
            BandType::Drop => "drop",
            BandType::DscpRemark { .. } => "dscp_remark",
        };
        let _ = write!(s, "type={kind},rate={}", b.rate);
        if b.burst_size != 0 {
            let _ = write!(s, ",burst_size={}", b.burst_size);
        }
        if let BandType::DscpRemark { prec_level } = b.band_type {
            let _ = write!(s, ",prec_level={prec_level}");
        }
    }
    s
}

/// Non-empty lines of a file, without `#` comments: (line number, text).
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let l = &l[..super::comment_start(l)];
        (!l.trim().is_empty()).then_some((i + 1, l))
    })
}

fn at_line(line: usize, error: ParseError) -> FlowsFileError {
    FlowsFileError {
        line,
        column: error.pos + 1,
        error,
    }
}

/// Parses a file of groups (one `add-group` argument per line, `#`
/// comments) into adds.
pub fn parse_groups_file(
    text: &str,
    names: &dyn Fn(&str) -> Option<u32>,
) -> Result<Vec<GroupMod>, FlowsFileError> {
    lines(text)
        .map(|(n, l)| parse_group(l, GroupModCommand::Add, names).map_err(|e| at_line(n, e)))
        .collect()
}

/// Parses a file of meters (one `add-meter` argument per line) into adds.
pub fn parse_meters_file(text: &str) -> Result<Vec<MeterMod>, FlowsFileError> {
    lines(text)
        .map(|(n, l)| parse_meter(l, MeterModCommand::Add).map_err(|e| at_line(n, e)))
        .collect()
}
