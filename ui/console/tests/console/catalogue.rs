//! Every string of the console's `.slint` files goes through `@tr` and is in
//! the catalogue template `lang/officer-console.pot` and in every language's
//! `.po` (English only, for now); nothing stale is left in them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn slint_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            slint_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slint") {
            out.push(path);
        }
    }
}

/// The string literal starting at `text` (just after its opening quote).
fn literal(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return out,
            '\\' => out.push(chars.next().unwrap()),
            c => out.push(c),
        }
    }
    panic!("unterminated string");
}

/// The `@tr` strings of every `.slint` file.
fn translatable() -> BTreeSet<String> {
    let mut files = Vec::new();
    slint_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("ui"),
        &mut files,
    );
    let mut ids = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (at, _) in text.match_indices("@tr(\"") {
            ids.insert(literal(&text[at + 5..]));
        }
    }
    ids
}

/// The msgids of a gettext file (single-line entries, as ours are).
fn msgids(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("msgid \""))
        .map(literal)
        .filter(|id| !id.is_empty())
        .collect()
}

#[test]
fn every_tr_string_is_in_the_catalogues_and_nothing_stale() {
    let ids = translatable();
    assert!(ids.len() > 100, "{} strings", ids.len());
    let lang = Path::new(env!("CARGO_MANIFEST_DIR")).join("lang");
    let mut catalogues = vec![lang.join("officer-console.pot")];
    for entry in std::fs::read_dir(&lang).unwrap() {
        let po = entry.unwrap().path().join("LC_MESSAGES/officer-console.po");
        if po.exists() {
            catalogues.push(po);
        }
    }
    assert!(catalogues.len() >= 2, "the template and English");
    for file in catalogues {
        let have = msgids(&file);
        let missing: Vec<_> = ids.difference(&have).collect();
        let stale: Vec<_> = have.difference(&ids).collect();
        assert!(
            missing.is_empty() && stale.is_empty(),
            "{}: missing {missing:?}, stale {stale:?}",
            file.display()
        );
    }
}

#[test]
fn no_visible_text_bypasses_tr() {
    // Text elements and button labels take @tr strings, codes through
    // Words, data from Rust, or fixed symbols: no bare English words.
    let mut files = Vec::new();
    slint_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("ui"),
        &mut files,
    );
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            let Some(value) = line
                .strip_prefix("text: \"")
                .or_else(|| line.strip_prefix("title: \""))
            else {
                continue;
            };
            let shown = literal(value);
            assert!(
                !shown.chars().any(char::is_alphabetic),
                "{}:{}: {shown:?} is not translated",
                file.display(),
                n + 1
            );
        }
    }
}
