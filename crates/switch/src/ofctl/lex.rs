//! Splitting ovs-ofctl text into `key[=:(]value` tokens exactly as
//! `ofputil_parse_key_value` does: pairs are separated by commas and white
//! space; a value after `=` or `:` runs to the next comma or white space, a
//! value after `(` to the matching `)`; parentheses nest inside values.
//! Unlike ovs-ofctl, a double-quoted string (a port name) is one unit, so it
//! may hold separators. Every token remembers its byte offset in the text.

/// One `key`, `key=value`, `key:value` or `key(value)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Token<'a> {
    pub key: &'a str,
    pub key_pos: usize,
    pub value: &'a str,
    pub value_pos: usize,
    /// The byte that ended the key: `=`, `:`, `(`, or none.
    pub delim: Option<u8>,
}

impl Token<'_> {
    /// The whole token as written, for error messages.
    pub fn text(&self) -> String {
        match self.delim {
            Some(b'(') => format!("{}({})", self.key, self.value),
            Some(d) => format!("{}{}{}", self.key, d as char, self.value),
            None => self.key.to_string(),
        }
    }
}

/// A tokenizer over `s`, whose byte 0 is at offset `base` of the full text.
pub(super) struct Lexer<'a> {
    s: &'a str,
    pos: usize,
    base: usize,
}

const SEPARATORS: &[u8] = b", \t\r\n";

impl<'a> Lexer<'a> {
    pub fn new(s: &'a str, base: usize) -> Lexer<'a> {
        Lexer { s, pos: 0, base }
    }

    /// The offset in the full text of byte `i` of this lexer's text.
    pub fn offset(&self, i: usize) -> usize {
        self.base + i
    }

    /// Past a quoted string starting at `i` (on the `"`); the end of the
    /// text if unterminated.
    fn skip_quoted(b: &[u8], mut i: usize) -> usize {
        i += 1;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'"' => return i + 1,
                _ => i += 1,
            }
        }
        b.len()
    }

    /// Length of the value starting at `start`, ended by one of `delims`.
    fn value_len(b: &[u8], start: usize, delims: &[u8]) -> usize {
        let mut i = start;
        while i < b.len() && !delims.contains(&b[i]) {
            match b[i] {
                b'(' => {
                    let mut level = 0;
                    while i < b.len() {
                        match b[i] {
                            b'(' => level += 1,
                            b')' => level -= 1,
                            b'"' => {
                                i = Self::skip_quoted(b, i);
                                continue;
                            }
                            _ => {}
                        }
                        i += 1;
                        if level == 0 {
                            break;
                        }
                    }
                }
                b'"' => i = Self::skip_quoted(b, i),
                _ => i += 1,
            }
        }
        i.min(b.len()) - start
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let b = self.s.as_bytes();
        while self.pos < b.len() && SEPARATORS.contains(&b[self.pos]) {
            self.pos += 1;
        }
        if self.pos >= b.len() {
            return None;
        }
        let key_start = self.pos;
        let mut i = key_start;
        while i < b.len() && !b":=(, \t\r\n".contains(&b[i]) {
            i = if b[i] == b'"' {
                Self::skip_quoted(b, i)
            } else {
                i + 1
            };
        }
        let i = i.min(b.len());
        let key = &self.s[key_start..i];
        let delim = b.get(i).copied();
        let value_delims: &[u8] = match delim {
            Some(b':' | b'=') => SEPARATORS,
            Some(b'(') => b")",
            _ => {
                self.pos = (i + 1).min(b.len());
                let at = self.offset(i);
                return Some(Token {
                    key,
                    key_pos: self.offset(key_start),
                    value: "",
                    value_pos: at,
                    delim: None,
                });
            }
        };
        let start = i + 1;
        let mut n = Self::value_len(b, start, value_delims);
        // `key(x)->y`: the value runs on to the next separator.
        if delim == Some(b'(') && b[start + n..].starts_with(b")->") {
            n += Self::value_len(b, start + n, SEPARATORS);
        }
        let end = start + n;
        self.pos = (end + 1).min(b.len());
        Some(Token {
            key,
            key_pos: self.offset(key_start),
            value: &self.s[start..end],
            value_pos: self.offset(start),
            delim,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<(&str, &str, usize)> {
        Lexer::new(s, 0)
            .map(|t| (t.key, t.value, t.value_pos))
            .collect()
    }

    #[test]
    fn splits_like_ofputil_parse_key_value() {
        assert_eq!(
            toks("priority=100, ip nw_dst=10.0.0.0/24,actions=output:2"),
            vec![
                ("priority", "100", 9),
                ("ip", "", 16),
                ("nw_dst", "10.0.0.0/24", 24),
                ("actions", "output:2", 44)
            ]
        );
        assert_eq!(
            toks("write_actions(output:1,set_field:1->vlan_pcp),goto_table:2")[0].1,
            "output:1,set_field:1->vlan_pcp"
        );
        assert_eq!(
            toks("output:\"p 1\",2"),
            vec![("output", "\"p 1\"", 7), ("2", "", 14)]
        );
        assert_eq!(
            toks("a(b(c)d)e,f"),
            vec![("a", "b(c)d", 2), ("e", "", 9), ("f", "", 11)]
        );
        assert_eq!(toks("load(x)->y,z")[0].1, "x)->y");
        assert!(toks("  ,, \t").is_empty());
    }
}
