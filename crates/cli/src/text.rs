//! The one escaping function for text that came from outside (a relay, a
//! context, a keystore row) on its way to a terminal: control characters
//! (ESC sequences could hide or rewrite the rest of a line) and Unicode
//! format characters (bidi overrides, zero-width characters could make a
//! forged fingerprint read like the real one) are shown as `\u{XXXX}`; a
//! backslash is doubled so an escape cannot be faked.

/// `s` with every control and format character escaped (see the module).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if c.is_control() || is_format(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `s` can go into a command line for a person to paste: no
/// backslash and no control or format character (those are shown escaped
/// on a terminal, see [`escape`], so the pasted text would not be `s`).
pub fn pastable(s: &str) -> bool {
    !s.chars()
        .any(|c| c == '\\' || c.is_control() || is_format(c))
}

/// One argument as a POSIX shell reads it back: bare when it is made of
/// safe characters, else in single quotes (a quote as `'"'"'`, so no
/// backslash is needed); then escaped for the terminal ([`escape`]), so
/// nothing in it can act on the terminal. Only a [`pastable`] value is
/// pasted back as itself: callers that print a command to run check that.
pub fn shell_word(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_' | b'.' | b'/' | b':' | b'=' | b'@' | b'%' | b'+' | b','
                )
        });
    let quoted = if safe {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r#"'"'"'"#))
    };
    escape(&quoted)
}

/// `--flag=VALUE` for a command line to paste (the `=` form, so a value
/// that starts with `-` is not read as a flag), or `Err` with the reason
/// when the value is not [`pastable`].
pub fn shell_flag(flag: &str, value: &str) -> Result<String, String> {
    if pastable(value) {
        Ok(format!("{flag}={}", shell_word(value)))
    } else {
        Err(format!(
            "the value of {flag} holds a backslash or a control or format character, which a pasted command would not reproduce"
        ))
    }
}

/// A unix time as the local date and time for human output, e.g.
/// `2026-12-02 14:13:29 +01:00` (the system time zone: `TZ`, else
/// /etc/localtime). `--json` output keeps the unix value instead. A `TZ`
/// that names something other than a regular file (a FIFO, a device such
/// as /dev/zero: reading it would block or never end) is not read: UTC.
pub fn local_time(unix: i64) -> String {
    use chrono::TimeZone;
    if !tz_is_safe() {
        return match chrono::Utc.timestamp_opt(unix, 0) {
            chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
                t.format("%Y-%m-%d %H:%M:%S %:z").to_string()
            }
            chrono::LocalResult::None => format!("unix {unix}"),
        };
    }
    match chrono::Local.timestamp_opt(unix, 0) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.format("%Y-%m-%d %H:%M:%S %:z").to_string()
        }
        chrono::LocalResult::None => format!("unix {unix}"),
    }
}

/// Whether the time zone chrono would read is safe to read (once per run).
fn tz_is_safe() -> bool {
    static SAFE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SAFE.get_or_init(|| match std::env::var_os("TZ") {
        None => true,
        Some(v) => tz_value_is_safe(&v.to_string_lossy()),
    })
}

/// The file chrono opens for `TZ=value` (the first that exists of the
/// path itself, when absolute, or the name under the zoneinfo
/// directories) must be a regular file; a value naming no file is a POSIX
/// rule string (or unknown: chrono then uses UTC) and reads nothing.
fn tz_value_is_safe(value: &str) -> bool {
    let name = value.strip_prefix(':').unwrap_or(value);
    if name.is_empty() {
        return true;
    }
    let name = if name == "localtime" {
        "/etc/localtime"
    } else {
        name
    };
    let path = std::path::Path::new(name);
    let candidates: Vec<std::path::PathBuf> = if path.is_absolute() {
        vec![path.to_path_buf()]
    } else {
        [
            "/usr/share/zoneinfo",
            "/share/zoneinfo",
            "/etc/zoneinfo",
            "/usr/share/lib/zoneinfo",
        ]
        .iter()
        .map(|d| std::path::Path::new(d).join(path))
        .collect()
    };
    for c in candidates {
        // Follows symlinks, as opening does.
        if let Ok(md) = std::fs::metadata(&c) {
            return md.is_file();
        }
    }
    true
}

/// A duration in whole seconds, short: `45s`, `3m 05s`, `2h 03m`.
pub fn duration(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

/// Unicode general category Cf (format), plus the line and paragraph
/// separators: invisible characters that change how the text around them
/// is shown.
fn is_format(c: char) -> bool {
    matches!(u32::from(c),
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891
        | 0x08E2 | 0x180E | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2064
        | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD
        | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0001 | 0xE0020..=0xE007F)
}

#[cfg(test)]
mod tests {
    use super::{duration, escape, local_time, pastable, shell_flag, shell_word, tz_value_is_safe};

    #[test]
    fn words_are_quoted_for_a_shell_and_escaped_for_a_terminal() {
        assert_eq!(shell_word("web-1"), "web-1");
        assert_eq!(shell_word("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r#"'it'"'"'s'"#);
        assert_eq!(shell_word("$(x)"), "'$(x)'");
        assert_eq!(shell_word("a\u{1b}[2Jb"), "'a\\u{1b}[2Jb'");
        assert_eq!(shell_flag("--slug", "-x y"), Ok("--slug='-x y'".into()));
        assert_eq!(shell_flag("--node", "web-1"), Ok("--node=web-1".into()));
        for bad in ["a\\b", "a\u{1b}b", "a\u{202e}b", "tab\t"] {
            assert!(!pastable(bad), "{bad:?}");
            assert!(shell_flag("--slug", bad).is_err(), "{bad:?}");
        }
        assert!(pastable("é 日本 it's $(x)"));
    }

    #[test]
    fn a_tz_that_is_not_a_regular_file_is_not_read() {
        assert!(tz_value_is_safe(""));
        assert!(tz_value_is_safe("UTC"));
        assert!(tz_value_is_safe("CET-1CEST"));
        assert!(tz_value_is_safe("/no/such/zone"));
        assert!(!tz_value_is_safe("/dev/zero"));
        assert!(!tz_value_is_safe(":/dev/zero"));
        assert!(!tz_value_is_safe("/tmp"));
        assert!(!tz_value_is_safe("../../../../dev/zero"));
    }

    #[test]
    fn times_are_local_and_durations_short() {
        // The format, whatever the machine's zone: date, time, offset.
        let t = local_time(1_764_000_000);
        let (date, rest) = t.split_once(' ').unwrap();
        assert_eq!(date.len(), 10, "{t}");
        assert!(date.starts_with("2025-11-2"), "{t}");
        let (time, offset) = rest.split_once(' ').unwrap();
        assert_eq!(time.len(), 8, "{t}");
        assert!(offset.starts_with('+') || offset.starts_with('-'), "{t}");
        assert!(!t.contains("1764000000"), "{t}");
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(65), "1m 05s");
        assert_eq!(duration(7380), "2h 03m");
    }

    #[test]
    fn hostile_text_is_shown_not_obeyed() {
        assert_eq!(escape("db-pass"), "db-pass");
        assert_eq!(escape("é ü 日本"), "é ü 日本");
        assert_eq!(escape("a\u{1b}[8mhidden"), "a\\u{1b}[8mhidden");
        assert_eq!(escape("x\u{202e}gnp.exe"), "x\\u{202e}gnp.exe");
        assert_eq!(
            escape("zero\u{200b}width\u{feff}"),
            "zero\\u{200b}width\\u{feff}"
        );
        assert_eq!(escape("line\nbreak\r\t"), "line\\u{a}break\\u{d}\\u{9}");
        assert_eq!(escape("\u{2066}iso\u{2069}"), "\\u{2066}iso\\u{2069}");
        // A literal backslash cannot pose as an escape.
        assert_eq!(escape("\\u{1b}"), "\\\\u{1b}");
        assert_eq!(escape("\u{7f}\u{85}"), "\\u{7f}\\u{85}");
    }
}
