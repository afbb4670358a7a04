//! One benchmark figure as a JSON line, appended to the file named by the
//! `BENCH_REPORT` environment variable; nothing happens when it is unset.
//! `scripts/bench.sh` sets it, runs every bench and turns the lines into one
//! table (`scripts/bench_table.py`): one table row per `row`, its figures in
//! the order they were emitted.
//!
//! The hand-written benches include this file with
//! `#[path = ".../scripts/bench_figure.rs"] mod bench_figure;` (ten lines are
//! not worth a crate). Criterion benches are read from criterion's own
//! `estimates.json` instead.

use std::io::Write;

/// Appends `{"bench":…,"row":…,"figure":…,"value":…,"unit":…}` to `$BENCH_REPORT`.
///
/// # Errors
/// When `$BENCH_REPORT` is set and the file cannot be opened or written.
pub(crate) fn emit(
    bench: &str,
    row: &str,
    figure: &str,
    value: f64,
    unit: &str,
) -> std::io::Result<()> {
    let Some(path) = std::env::var_os("BENCH_REPORT") else {
        return Ok(());
    };
    // `{value}` on an f64 never uses an exponent, so it is a JSON number;
    // NaN and infinities are not, and become null.
    let value = if value.is_finite() {
        value.to_string()
    } else {
        "null".to_owned()
    };
    let line = format!(
        "{{\"bench\":{},\"row\":{},\"figure\":{},\"value\":{value},\"unit\":{}}}\n",
        json_string(bench),
        json_string(row),
        json_string(figure),
        json_string(unit)
    );
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(line.as_bytes())
}

/// `text` as a JSON string literal (RFC 8259 §7).
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
