//! A small, strict JSON reader (RFC 8259) for envelopes and contexts.
//!
//! Why not serde_json: the browser bundle must stay tiny, and the envelope
//! rules need things serde does not give directly — members in order with
//! duplicates visible, the raw text of numbers (`1` vs `1.0`), lone-surrogate
//! rejection, and a hard nesting limit. Every fault is a value, never a panic.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

/// Nesting deeper than this is rejected (stack safety on hostile input).
pub const MAX_DEPTH: usize = 32;

/// A parsed JSON value. Numbers keep their exact source text.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as its exact source text.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// Members in source order; duplicates are kept so callers can reject them.
    Object(Vec<(String, Value)>),
}

/// Why input is not acceptable JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonError {
    /// Grammar violation, trailing data, or empty input.
    Syntax,
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Input is not UTF-8, or a `\u` escape leaves a lone surrogate.
    Utf8,
}

/// Parse one complete JSON text.
pub fn parse(input: &[u8]) -> Result<Value, JsonError> {
    let text = core::str::from_utf8(input).map_err(|_| JsonError::Utf8)?;
    let mut p = Parser {
        text,
        s: text.as_bytes(),
        i: 0,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(JsonError::Syntax);
    }
    Ok(v)
}

/// Length of the leading run of bytes that need no attention inside a JSON
/// string (not `"`, `\\` or a control character). Eight bytes at a time: an
/// envelope's `ct` is one 22 KB string.
fn plain_run(s: &[u8]) -> usize {
    const L: u64 = 0x0101_0101_0101_0101;
    const H: u64 = 0x8080_8080_8080_8080;
    // Nonzero iff some byte of w is zero (exact as a yes/no).
    let has_zero = |w: u64| w.wrapping_sub(L) & !w & H;
    let special = |c: u8| c == b'"' || c == b'\\' || c < 0x20;
    let mut n = 0;
    for c in s.chunks_exact(8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        let w = u64::from_le_bytes(b);
        // Bytes < 0x20: (w - 0x20..) & !w & H catches them (exact as yes/no).
        let control = w.wrapping_sub(0x20 * L) & !w & H;
        if control | has_zero(w ^ (u64::from(b'"') * L)) | has_zero(w ^ (u64::from(b'\\') * L)) != 0
        {
            break;
        }
        n += 8;
    }
    let rest = s.get(n..).unwrap_or_default();
    n + rest.iter().position(|&c| special(c)).unwrap_or(rest.len())
}

struct Parser<'a> {
    /// The input, validated as UTF-8 once; `s` is its bytes.
    text: &'a str,
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> Result<(), JsonError> {
        if self.s.get(self.i..self.i + lit.len()) == Some(lit) {
            self.i += lit.len();
            Ok(())
        } else {
            Err(JsonError::Syntax)
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        match self.peek().ok_or(JsonError::Syntax)? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string().map(Value::String),
            b't' => self.eat(b"true").map(|_| Value::Bool(true)),
            b'f' => self.eat(b"false").map(|_| Value::Bool(false)),
            b'n' => self.eat(b"null").map(|_| Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(JsonError::Syntax),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        self.i += 1;
        let mut members = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(JsonError::Syntax);
            }
            let k = self.string()?;
            self.ws();
            self.eat(b":")?;
            self.ws();
            let v = self.value(depth)?;
            members.push((k, v));
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(JsonError::Syntax),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth)?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(JsonError::Syntax),
            }
        }
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(JsonError::Syntax),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.require_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.require_digits()?;
        }
        // The slice is ASCII digits and signs, so it is valid UTF-8.
        let digits = self.s.get(start..self.i).ok_or(JsonError::Syntax)?;
        let raw = core::str::from_utf8(digits).map_err(|_| JsonError::Syntax)?;
        Ok(Value::Number(raw.to_owned()))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    fn require_digits(&mut self) -> Result<(), JsonError> {
        let before = self.i;
        self.digits();
        if self.i == before {
            Err(JsonError::Syntax)
        } else {
            Ok(())
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let h = self.s.get(self.i..self.i + 4).ok_or(JsonError::Syntax)?;
        let mut v = 0u32;
        for &c in h {
            let d = (c as char).to_digit(16).ok_or(JsonError::Syntax)?;
            v = v * 16 + d;
        }
        self.i += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            // Copy the longest run of plain characters at once.
            let run_start = self.i;
            self.i += plain_run(self.s.get(run_start..).unwrap_or_default());
            // Split only at ASCII bytes of text validated once: a char
            // boundary check, not a second UTF-8 validation of the run.
            out.push_str(self.text.get(run_start..self.i).ok_or(JsonError::Utf8)?);
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let e = self.peek().ok_or(JsonError::Syntax)?;
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(JsonError::Syntax),
                    };
                    out.push(c);
                }
                // Raw control character or end of input inside a string.
                _ => return Err(JsonError::Syntax),
            }
        }
    }

    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let hi = self.hex4()?;
        let cp = match hi {
            0xD800..=0xDBFF => {
                // A high surrogate must be followed by an escaped low surrogate.
                if self.s.get(self.i..self.i + 2) != Some(b"\\u") {
                    return Err(JsonError::Utf8);
                }
                self.i += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(JsonError::Utf8);
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            // A lone low surrogate (0xDC00..=0xDFFF) is no scalar value:
            // `char::from_u32` refuses it below.
            _ => hi,
        };
        char::from_u32(cp).ok_or(JsonError::Utf8)
    }
}

/// Append `s` to `out` as a JSON string literal (minimal escaping).
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                // c < 0x20, so both lookups are in bounds.
                let hex = |n: u32| char::from(HEX.get((n & 15) as usize).copied().unwrap_or(b'0'));
                out.push_str("\\u00");
                out.push(hex(c as u32 >> 4));
                out.push(hex(c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_run_stops_at_the_first_special_byte() {
        // Every byte value at every offset of a 0..=20-byte run (across the
        // 8-byte words), against the byte-by-byte definition.
        for len in 0..=20usize {
            for pos in 0..len {
                for c in 0..=255u8 {
                    let mut s = alloc::vec![b'a'; len];
                    s[pos] = c;
                    let want = s
                        .iter()
                        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                        .unwrap_or(len);
                    assert_eq!(plain_run(&s), want, "len {len} pos {pos} byte {c:#x}");
                }
            }
        }
    }

    #[test]
    fn parses_values_in_order_with_duplicates() {
        let v =
            parse(br#" {"a":1,"b":[true,false,null,-0.5e+3],"a":"x\u00e9\ud83d\udd11"} "#).unwrap();
        let Value::Object(m) = v else {
            panic!("object")
        };
        assert_eq!(m.len(), 3);
        assert_eq!(m[0], ("a".into(), Value::Number("1".into())));
        assert_eq!(m[2].1, Value::String("xé🔑".into()));
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            &b""[..],
            b" ",
            b"{",
            b"{}x",
            b"{'a':1}",
            b"[1,]",
            b"{\"a\":1,}",
            b"01",
            b"1.",
            b"-",
            b"\"\\ud800\"",
            b"\"\\udc00\"",
            b"\"\\ud800\\u0041\"",
            b"\"a\nb\"",
            b"\"\\x\"",
            b"tru",
            b"\xff",
            b"\"\xc3\"",
            b"\xef\xbb\xbf{}",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn depth_limit() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(ok.as_bytes()).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(deep.as_bytes()), Err(JsonError::TooDeep));
        let huge = "[".repeat(1_000_000);
        assert_eq!(parse(huge.as_bytes()), Err(JsonError::TooDeep));
    }

    /// Every short escape maps to its character; a lone low surrogate is
    /// not UTF-8.
    #[test]
    fn escapes_decode_to_their_characters() {
        let v = parse(br#"["\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"]"#).unwrap();
        assert_eq!(
            v,
            Value::Array(alloc::vec![Value::String(
                "\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{1f600}".into()
            )])
        );
        assert_eq!(parse(br#""\udc00""#), Err(JsonError::Utf8));
        assert_eq!(parse(br#""\ud800x""#), Err(JsonError::Utf8));
        assert_eq!(parse(br#""\q""#), Err(JsonError::Syntax));
    }

    /// Control characters below U+0020 are escaped; U+0020 itself is not.
    #[test]
    fn write_string_escapes_exactly_the_controls() {
        let mut out = String::new();
        write_string(&mut out, "\u{1f} \u{0}a\"\\");
        assert_eq!(out, "\"\\u001f \\u0000a\\\"\\\\\"");
    }

    /// Objects count toward the same depth as arrays, mixed in any order:
    /// exactly MAX_DEPTH levels parse, one more is TooDeep.
    #[test]
    fn depth_limit_counts_objects() {
        let nest = |open: &dyn Fn(usize) -> &'static str, n: usize| {
            let (mut head, mut tail) = (String::new(), String::new());
            for i in 0..n {
                head.push_str(open(i));
                tail.insert(0, if open(i) == "[" { ']' } else { '}' });
            }
            head + "1" + &tail
        };
        let objects = |_: usize| r#"{"k":"#;
        let mixed = |i: usize| if i % 2 == 0 { "[" } else { r#"{"k":"# };
        for open in [&objects as &dyn Fn(usize) -> &'static str, &mixed] {
            let ok = nest(open, MAX_DEPTH);
            assert!(parse(ok.as_bytes()).is_ok(), "{ok}");
            let deep = nest(open, MAX_DEPTH + 1);
            assert_eq!(parse(deep.as_bytes()), Err(JsonError::TooDeep), "{deep}");
        }
    }

    #[test]
    fn write_string_round_trips() {
        let s = "a\"b\\c\n\r\t\u{1}\u{1f}é🔑/";
        let mut out = String::new();
        write_string(&mut out, s);
        assert_eq!(parse(out.as_bytes()).unwrap(), Value::String(s.into()));
    }
}
