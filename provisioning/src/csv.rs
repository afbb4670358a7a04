//! A small CSV reader for `watchlist import` and `fleet plan` (RFC 4180).
//!
//! Fields are separated by commas; a field may be quoted with `"`, a quote
//! inside it doubled (`""`), and a quoted field may hold commas and line
//! breaks. Lines end with LF or CRLF. Blank lines and lines starting with
//! `#` are skipped; unquoted fields are trimmed. Errors name the line and
//! never quote the text, which may be personal data.

use std::fmt;

/// One record: its fields and the line it starts on (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// The line the record starts on, from 1.
    pub(crate) line: usize,
    /// The fields, unquoted.
    pub(crate) fields: Vec<String>,
}

/// Text that is not CSV; names the line, never its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CsvError {
    /// The line, from 1.
    pub(crate) line: usize,
    /// What is wrong.
    pub(crate) what: &'static str,
}

impl fmt::Display for CsvError {
    /// `line N: what`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

impl std::error::Error for CsvError {}

/// Decodes a CSV file's bytes as UTF-8 (a leading byte-order mark dropped).
///
/// # Errors
/// [`CsvError`] naming the line of the first byte that is not UTF-8.
pub(crate) fn decode(bytes: &[u8]) -> Result<&str, CsvError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let before = bytes.get(..e.valid_up_to()).unwrap_or(&[]);
        CsvError {
            line: before.iter().filter(|&&b| b == b'\n').count() + 1,
            what: "not UTF-8 text",
        }
    })
}

/// The records of `text`, one at a time.
pub(crate) fn records(text: &str) -> Records<'_> {
    Records {
        rest: text.strip_prefix('\u{feff}').unwrap_or(text),
        line: 1,
    }
}

/// An iterator over the records of a CSV text (see [`records`]).
pub(crate) struct Records<'a> {
    /// The text not read yet.
    rest: &'a str,
    /// The line `rest` starts on.
    line: usize,
}

impl Records<'_> {
    /// Reads one record from the start of `rest`, which is not at its end.
    fn record(&mut self) -> Result<Record, CsvError> {
        let start = self.line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = self.rest.char_indices().peekable();
        let bad = |line, what| CsvError { line, what };
        loop {
            let Some((i, c)) = chars.next() else {
                self.rest = "";
                fields.push(finish(field, quoted));
                return Ok(Record {
                    line: start,
                    fields,
                });
            };
            match c {
                '"' if field.trim().is_empty() && !quoted => {
                    field.clear();
                    quoted = true;
                    // The quoted part, up to its closing quote.
                    loop {
                        match chars.next() {
                            None => return Err(bad(start, "a quoted field is not closed")),
                            Some((_, '"')) if chars.peek().is_some_and(|&(_, c)| c == '"') => {
                                chars.next();
                                field.push('"');
                            }
                            Some((_, '"')) => break,
                            Some((_, '\n')) => {
                                self.line += 1;
                                field.push('\n');
                            }
                            Some((_, c)) => field.push(c),
                        }
                    }
                    // Only blanks may follow, up to the separator.
                    while let Some(&(_, c)) = chars.peek() {
                        if c == ' ' || c == '\t' {
                            chars.next();
                        } else if c == ',' || c == '\n' || c == '\r' {
                            break;
                        } else {
                            return Err(bad(self.line, "text after a closing quote"));
                        }
                    }
                }
                '"' => return Err(bad(self.line, "a quote inside an unquoted field")),
                ',' => {
                    fields.push(finish(std::mem::take(&mut field), quoted));
                    quoted = false;
                }
                '\r' if chars.peek().is_some_and(|&(_, c)| c == '\n') => {}
                '\n' => {
                    self.line += 1;
                    self.rest = self.rest.get(i + 1..).unwrap_or("");
                    fields.push(finish(field, quoted));
                    return Ok(Record {
                        line: start,
                        fields,
                    });
                }
                c => field.push(c),
            }
        }
    }

    /// Skips blank and `#` comment lines at the start of `rest`.
    fn skip_blank_and_comments(&mut self) {
        loop {
            let (first, rest, more) = match self.rest.split_once('\n') {
                Some((first, rest)) => (first, rest, true),
                None => (self.rest, "", false),
            };
            let trimmed = first.trim();
            if !(trimmed.is_empty() || trimmed.starts_with('#')) || self.rest.is_empty() {
                return;
            }
            self.rest = rest;
            if more {
                self.line += 1;
            }
        }
    }
}

/// A field as read: unquoted fields are trimmed.
fn finish(field: String, quoted: bool) -> String {
    if quoted {
        field
    } else {
        field.trim().to_owned()
    }
}

impl Iterator for Records<'_> {
    type Item = Result<Record, CsvError>;

    /// The next record, or the error that ends the reading.
    fn next(&mut self) -> Option<Self::Item> {
        self.skip_blank_and_comments();
        if self.rest.is_empty() {
            return None;
        }
        let out = self.record();
        if out.is_err() {
            self.rest = "";
        }
        Some(out)
    }
}

/// A header: column names, trimmed, each once (names are compared as given).
///
/// # Errors
/// The name of a column given twice or an empty one.
pub(crate) fn header(record: &Record) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = Vec::with_capacity(record.fields.len());
    for (i, field) in record.fields.iter().enumerate() {
        let name = field.trim().to_owned();
        if name.is_empty() {
            return Err(format!("header column {} has no name", i + 1));
        }
        if names.contains(&name) {
            return Err(format!("header column {name:?} is given twice"));
        }
        names.push(name);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn all(text: &str) -> Vec<Result<Record, CsvError>> {
        records(text).collect()
    }

    #[test]
    fn plain_quoted_crlf_comments() {
        let text = "# comment\na, b ,c\r\n\n\"x,\"\"y\"\"\",\"multi\nline\" , z\nlast,\n";
        let got: Vec<Record> = all(text).into_iter().map(Result::unwrap).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(
            (got[0].line, got[0].fields.clone()),
            (2, vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(got[1].line, 4);
        assert_eq!(got[1].fields, vec!["x,\"y\"", "multi\nline", "z"]);
        assert_eq!(
            (got[2].line, got[2].fields.clone()),
            (6, vec!["last".into(), String::new()])
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = all("a\nb\"c\n").pop().unwrap().unwrap_err();
        assert_eq!(
            e,
            CsvError {
                line: 2,
                what: "a quote inside an unquoted field"
            }
        );
        let e = all("a\n\"open\n").pop().unwrap().unwrap_err();
        assert_eq!(e.line, 2);
        let e = all("a\n\"x\"y\n").pop().unwrap().unwrap_err();
        assert_eq!(e.what, "text after a closing quote");
        assert_eq!(decode(b"a\nb\n\xff").unwrap_err().line, 3);
        assert_eq!(decode(b"\xEF\xBB\xBFa").unwrap(), "a");
    }

    #[test]
    fn header_refuses_duplicates() {
        let r = Record {
            line: 1,
            fields: vec!["a".into(), " a".into()],
        };
        assert!(header(&r).is_err());
    }
}
