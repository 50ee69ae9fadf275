//! ovs-ofctl's flow syntax, parsed into the flow model and printed back the
//! way `ovs-ofctl -O OpenFlow13 dump-flows` prints (Open vSwitch 3.1):
//!
//! ```text
//! priority=100,ip,nw_dst=10.0.0.0/24,actions=output:2
//!  cookie=0x0, duration=1.234s, table=0, n_packets=3, n_bytes=180, priority=100,ip,nw_dst=10.0.0.0/24 actions=output:2
//! ```
//!
//! What is parsed is what ovs-ofctl accepts (ovs-fields(7), ovs-actions(7),
//! ovs-ofctl(8)), translated to what ovs-ofctl would send in OpenFlow 1.3
//! (see [`actions`] for legacy actions such as `mod_vlan_vid`). Where
//! ovs-ofctl silently drops or mangles something OpenFlow 1.3 cannot carry
//! (a field without its prerequisite, `nw_tos=3`, a partial PCP mask), this
//! parser refuses it with an error instead. It also accepts double-quoted
//! port names and, for OpenFlow 1.3 fields ovs-ofctl lacks, `pbb_isid` and
//! `ipv6_exthdr`. A modify's unmasked `cookie=` neither filters nor changes
//! cookies (OpenFlow 1.3 cannot change a cookie).
//!
//! Printing is canonical: `parse(print(flow)) == flow` for every valid flow,
//! and the counters dump-flows prints (`duration`, `n_packets`...) are
//! ignored when parsed, as ovs-ofctl ignores them.
//!
//! Groups and meters have their own syntax (`group`): `add-group` /
//! `add-meter` arguments, printed as `dump-groups` prints a group and a
//! meter on one `add-meter` line.
//!
//! Port names go through caller-supplied resolvers (`&dyn Fn(&str) ->
//! Option<u32>` to parse, `&dyn Fn(u32) -> Option<String>` to print); errors
//! name the offending token and its byte offset (line and column for files).

mod actions;
mod group;
mod lex;
mod parse;
mod print;
mod value;

use std::fmt::Write;

pub use group::{
    format_group, format_meter, parse_group, parse_groups_file, parse_meter, parse_meters_file,
};

use crate::flow::{
    Action, ActionError, Flow, FlowError, FlowFlags, FlowMod, FlowModCommand, FlowStats,
    Instruction, Match, MatchError, DEFAULT_PRIORITY,
};

/// A flow text that could not be parsed: what, where (byte offset in the
/// text), and the token as written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at byte {pos}{})", if token.is_empty() { String::new() } else { format!(": `{token}`") })]
pub struct ParseError {
    pub pos: usize,
    pub token: String,
    pub kind: ParseErrorKind,
}

impl ParseError {
    fn new(pos: usize, token: String, kind: ParseErrorKind) -> ParseError {
        ParseError { pos, token, kind }
    }
}

/// What was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    #[error("unknown keyword {0}")]
    UnknownKeyword(String),
    #[error("unknown action {0}")]
    UnknownAction(String),
    #[error("field {0} missing value")]
    MissingValue(String),
    #[error("{0}")]
    BadValue(String),
    #[error("{0}: output to unknown port")]
    UnknownPort(String),
    #[error("{what} is not allowed in a {command} request")]
    NotAllowed { what: String, command: &'static str },
    #[error("must specify an action")]
    MissingActions,
    #[error("flow additions cannot use a cookie mask")]
    CookieMaskOnAdd,
    #[error("cannot set cookie (a delete needs cookie=value/mask)")]
    CookieWithoutMask,
    #[error("\"drop\" must not be accompanied by any other action or instruction")]
    DropWithOthers,
    #[error("apply_actions is the default instruction")]
    ApplyActionsKeyword,
    #[error(transparent)]
    Match(MatchError),
    #[error(transparent)]
    Action(ActionError),
    #[error(transparent)]
    Flow(FlowError),
}

/// A flows file that could not be parsed: 1-based line and column (bytes).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {}{}", error.kind, if error.token.is_empty() { String::new() } else { format!(" (`{}`)", error.token) })]
pub struct FlowsFileError {
    pub line: usize,
    pub column: usize,
    pub error: ParseError,
}

/// A resolver that knows no port names.
pub fn no_port_names(_: &str) -> Option<u32> {
    None
}

/// A reverse resolver that knows no port names.
pub fn no_port_labels(_: u32) -> Option<String> {
    None
}

/// Parses an `add-flow` argument.
pub fn parse_flow(text: &str, ports: &dyn Fn(&str) -> Option<u32>) -> Result<Flow, ParseError> {
    parse::flow_mod(text, FlowModCommand::Add, ports).map(|fm| fm.flow)
}

/// Parses the argument of `add-flow` (Add), `mod-flows` (Modify,
/// ModifyStrict with `--strict`) or `del-flows` (Delete, DeleteStrict).
/// Modify and delete default to all tables (`table_id` 255).
pub fn parse_flow_mod(
    text: &str,
    command: FlowModCommand,
    ports: &dyn Fn(&str) -> Option<u32>,
) -> Result<FlowMod, ParseError> {
    parse::flow_mod(text, command, ports)
}

/// Parses an `add-flows` file: one flow per line, optionally led by `add`,
/// `modify`, `modify_strict`, `delete` or `delete_strict`; `#` starts a
/// comment (outside double quotes), blank lines are skipped, a line ending
/// in `\` continues on the next.
pub fn parse_flows_file(
    text: &str,
    ports: &dyn Fn(&str) -> Option<u32>,
) -> Result<Vec<FlowMod>, FlowsFileError> {
    let mut out = Vec::new();
    let mut logical = String::new();
    // (offset in `logical`, line number, byte offset of that line's start
    // within `logical` minus column base)
    let mut segments: Vec<(usize, usize)> = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        logical.clear();
        segments.clear();
        let mut line = line;
        let mut number = i + 1;
        loop {
            segments.push((logical.len(), number));
            match line.strip_suffix('\\') {
                Some(body) if lines.peek().is_some() => {
                    logical.push_str(body);
                    logical.push(' ');
                    let (j, next) = lines.next().unwrap_or((number, ""));
                    (line, number) = (next, j + 1);
                }
                _ => {
                    logical.push_str(line);
                    break;
                }
            }
        }
        let body = &logical[..comment_start(&logical)];
        let trimmed = body.trim_start();
        if trimmed.trim().is_empty() {
            continue;
        }
        let lead = body.len() - trimmed.len();
        let word_len = trimmed
            .find([',', ' ', '\t', '\r', '\n'])
            .unwrap_or(trimmed.len());
        let (command, skip) = match &trimmed[..word_len] {
            "add" => (FlowModCommand::Add, word_len),
            "modify" => (FlowModCommand::Modify, word_len),
            "modify_strict" => (FlowModCommand::ModifyStrict, word_len),
            "delete" => (FlowModCommand::Delete, word_len),
            "delete_strict" => (FlowModCommand::DeleteStrict, word_len),
            _ => (FlowModCommand::Add, 0),
        };
        let start = lead + skip;
        match parse::flow_mod(&body[start..], command, ports) {
            Ok(fm) => out.push(fm),
            Err(mut error) => {
                let at = start + error.pos;
                let &(seg_start, line) = segments
                    .iter()
                    .rev()
                    .find(|(s, _)| *s <= at)
                    .unwrap_or(&(0, i + 1));
                error.pos = at;
                return Err(FlowsFileError {
                    line,
                    column: at - seg_start + 1,
                    error,
                });
            }
        }
    }
    Ok(out)
}

/// Where a `#` comment starts (outside double quotes), or the length.
fn comment_start(s: &str) -> usize {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '#' if !quoted => return i,
            _ => {}
        }
    }
    s.len()
}

/// One `dump-flows` line (with its leading space), counters from `stats`,
/// duration up to `now` (both in the caller's monotonic milliseconds).
pub fn format_flow(
    flow: &Flow,
    stats: &FlowStats,
    now: u64,
    names: &dyn Fn(u32) -> Option<String>,
) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        " cookie=0x{:x}, duration={}, table={}, n_packets={}, n_bytes={}, ",
        flow.cookie,
        print::duration(now.saturating_sub(stats.created())),
        flow.table_id,
        stats.packets(),
        stats.bytes()
    );
    flow_body(&mut s, flow, names);
    s
}

/// A flow as `dump-flows --no-stats` prints it, which `add-flow` accepts
/// back: cookie and table only when not zero, no leading space.
pub fn format_flow_spec(flow: &Flow, names: &dyn Fn(u32) -> Option<String>) -> String {
    let mut s = String::new();
    if flow.cookie != 0 {
        let _ = write!(s, "cookie=0x{:x}, ", flow.cookie);
    }
    if flow.table_id != 0 {
        let _ = write!(s, "table={}, ", flow.table_id);
    }
    flow_body(&mut s, flow, names);
    s
}

fn flow_body(s: &mut String, flow: &Flow, names: &dyn Fn(u32) -> Option<String>) {
    if flow.idle_timeout != 0 {
        let _ = write!(s, "idle_timeout={}, ", flow.idle_timeout);
    }
    if flow.hard_timeout != 0 {
        let _ = write!(s, "hard_timeout={}, ", flow.hard_timeout);
    }
    for (flag, name) in FlowFlags::NAMES {
        if flow.flags.contains(flag) {
            let _ = write!(s, "{name} ");
        }
    }
    let before = s.len();
    print::match_(s, &flow.r#match, flow.priority, names);
    if s.len() != before {
        s.push(' ');
    }
    s.push_str("actions=");
    print::instructions(s, &flow.instructions, names);
}

/// The match alone, canonically (usable as a `del-flows` argument).
pub fn format_match(m: &Match, names: &dyn Fn(u32) -> Option<String>) -> String {
    format_match_with_priority(m, DEFAULT_PRIORITY, names)
}

/// `priority=N,` (unless the default 32768) and the match.
pub fn format_match_with_priority(
    m: &Match,
    priority: u16,
    names: &dyn Fn(u32) -> Option<String>,
) -> String {
    let mut s = String::new();
    print::match_(&mut s, m, priority, names);
    s
}

/// What follows `actions=`.
pub fn format_instructions(insts: &[Instruction], names: &dyn Fn(u32) -> Option<String>) -> String {
    let mut s = String::new();
    print::instructions(&mut s, insts, names);
    s
}

/// One action.
pub fn format_action(a: &Action, names: &dyn Fn(u32) -> Option<String>) -> String {
    let mut s = String::new();
    print::action(&mut s, a, names);
    s
}
