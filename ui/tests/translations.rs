#![allow(clippy::unwrap_used)]
//! The catalogues and the fonts: every string on every screen is translated
//! in every language, and the font each language uses has a glyph for every
//! character of it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ui::Language;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One catalogue entry: the source text(s) and the translation(s).
#[derive(Debug, Default, Clone)]
struct Entry {
    msgid: String,
    msgid_plural: Option<String>,
    msgstr: Vec<String>,
}

/// A gettext catalogue: the header's fields and the entries.
#[derive(Debug)]
struct Catalogue {
    header: BTreeMap<String, String>,
    entries: Vec<Entry>,
}

/// The text between the quotes of one `.po` line, unescaped.
fn quoted(line: &str) -> String {
    let inner = line
        .trim()
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_else(|| panic!("not a quoted string: {line}"));
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => panic!("dangling escape: {line}"),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A small `.po` reader: msgid, msgid_plural, msgstr and msgstr[N], with
/// continuation lines; comments skipped.
fn parse_po(path: &Path) -> Catalogue {
    let text = std::fs::read_to_string(path).unwrap();
    let mut entries = Vec::new();
    let mut current: Option<Entry> = None;
    // Which field a continuation line extends.
    #[derive(Clone, Copy)]
    enum Field {
        Id,
        Plural,
        Str(usize),
    }
    let mut field = Field::Id;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("msgid_plural ") {
            current.as_mut().unwrap().msgid_plural = Some(quoted(rest));
            field = Field::Plural;
        } else if let Some(rest) = line.strip_prefix("msgid ") {
            if let Some(done) = current.take() {
                entries.push(done);
            }
            current = Some(Entry {
                msgid: quoted(rest),
                ..Entry::default()
            });
            field = Field::Id;
        } else if let Some(rest) = line.strip_prefix("msgstr[") {
            let (index, rest) = rest.split_once("] ").unwrap();
            let index: usize = index.parse().unwrap();
            let entry = current.as_mut().unwrap();
            assert_eq!(
                index,
                entry.msgstr.len(),
                "{}: msgstr[{index}] out of order",
                path.display()
            );
            entry.msgstr.push(quoted(rest));
            field = Field::Str(index);
        } else if let Some(rest) = line.strip_prefix("msgstr ") {
            current.as_mut().unwrap().msgstr.push(quoted(rest));
            field = Field::Str(0);
        } else if line.starts_with('"') {
            let more = quoted(line);
            let entry = current.as_mut().unwrap();
            match field {
                Field::Id => entry.msgid.push_str(&more),
                Field::Plural => entry.msgid_plural.as_mut().unwrap().push_str(&more),
                Field::Str(i) => entry.msgstr[i].push_str(&more),
            }
        } else {
            panic!("{}: cannot read {line:?}", path.display());
        }
    }
    entries.extend(current);
    let header_entry = entries.remove(0);
    assert!(
        header_entry.msgid.is_empty(),
        "{}: the header must come first",
        path.display()
    );
    let header = header_entry.msgstr[0]
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Catalogue { header, entries }
}

/// Every `@tr(...)` of the `.slint` sources: (text, plural text).
fn slint_messages() -> BTreeSet<(String, Option<String>)> {
    let mut files = Vec::new();
    let mut dirs = vec![crate_dir().join("ui")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "slint") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 10, "found only {files:?}");
    let mut messages = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (start, _) in text.match_indices("@tr(") {
            let rest = &text[start + 4..];
            let mut strings = Vec::new();
            let mut chars = rest.char_indices();
            // Read the string literals up to the closing parenthesis.
            let mut depth = 0;
            while let Some((_, c)) = chars.next() {
                match c {
                    '"' => {
                        let mut s = String::new();
                        while let Some((_, c)) = chars.next() {
                            match c {
                                '\\' => s.push(chars.next().unwrap().1),
                                '"' => break,
                                c => s.push(c),
                            }
                        }
                        strings.push(s);
                    }
                    '(' => depth += 1,
                    ')' if depth == 0 => break,
                    ')' => depth -= 1,
                    _ => {}
                }
            }
            assert!(
                (1..=2).contains(&strings.len()),
                "{}: cannot read @tr{rest:.60}",
                file.display()
            );
            let plural = strings.get(1).cloned();
            messages.insert((strings[0].clone(), plural));
        }
    }
    messages
}

fn catalogue_path(language: Language) -> PathBuf {
    crate_dir()
        .join("lang")
        .join(language.code())
        .join("LC_MESSAGES")
        .join("ui.po")
}

fn translated_languages() -> impl Iterator<Item = Language> {
    Language::ALL
        .into_iter()
        .filter(|l| *l != Language::English)
}

fn nplurals(catalogue: &Catalogue) -> usize {
    let forms = &catalogue.header["Plural-Forms"];
    let n = forms
        .split(';')
        .find_map(|f| f.trim().strip_prefix("nplurals="))
        .unwrap();
    n.trim().parse().unwrap()
}

#[test]
fn every_language_but_english_has_a_catalogue_and_no_other_does() {
    for language in translated_languages() {
        assert!(catalogue_path(language).is_file(), "{language:?}");
    }
    for entry in std::fs::read_dir(crate_dir().join("lang")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let code = path.file_name().unwrap().to_str().unwrap();
            let language = Language::from_code(code);
            assert!(
                language.is_some_and(|l| l != Language::English),
                "unexpected catalogue {code}"
            );
        }
    }
}

#[test]
fn every_screen_string_is_translated_in_every_language() {
    let wanted = slint_messages();
    assert!(wanted.len() > 40, "{} strings only", wanted.len());
    for language in translated_languages() {
        let catalogue = parse_po(&catalogue_path(language));
        assert_eq!(
            catalogue.header.get("Language").map(String::as_str),
            Some(language.code())
        );
        let n = nplurals(&catalogue);
        let have: BTreeSet<_> = catalogue
            .entries
            .iter()
            .map(|e| (e.msgid.clone(), e.msgid_plural.clone()))
            .collect();
        let missing: Vec<_> = wanted.difference(&have).collect();
        let stale: Vec<_> = have.difference(&wanted).collect();
        assert!(missing.is_empty(), "{language:?} lacks {missing:?}");
        assert!(stale.is_empty(), "{language:?} has stale {stale:?}");
        for entry in &catalogue.entries {
            let forms = if entry.msgid_plural.is_some() { n } else { 1 };
            assert_eq!(
                entry.msgstr.len(),
                forms,
                "{language:?} {:?}: {} forms, want {forms}",
                entry.msgid,
                entry.msgstr.len()
            );
            for s in &entry.msgstr {
                assert!(
                    !s.trim().is_empty(),
                    "{language:?}: {:?} is untranslated",
                    entry.msgid
                );
                assert_eq!(
                    s.matches("{n}").count(),
                    entry.msgid.matches("{n}").count(),
                    "{language:?}: {s:?} must keep the {{n}} of {:?}",
                    entry.msgid
                );
            }
        }
    }
}

#[test]
fn the_template_lists_the_same_strings() {
    let template = parse_po(&crate_dir().join("lang").join("ui.pot"));
    let have: BTreeSet<_> = template
        .entries
        .iter()
        .map(|e| (e.msgid.clone(), e.msgid_plural.clone()))
        .collect();
    assert_eq!(have, slint_messages());
}

/// The bundled font files of a family: "Lane Sans Thai" is
/// `fonts/LaneSansThai-Regular.ttf` and `-Bold.ttf` (`.otf` for CJK).
fn font_files(family: &str) -> Vec<PathBuf> {
    let stem = family.replace(' ', "");
    ["Regular", "Bold"]
        .iter()
        .map(|weight| {
            let base = crate_dir().join("fonts").join(format!("{stem}-{weight}"));
            let ttf = base.with_extension("ttf");
            if ttf.is_file() {
                ttf
            } else {
                base.with_extension("otf")
            }
        })
        .collect()
}

struct Font {
    path: PathBuf,
    data: Vec<u8>,
}

impl Font {
    fn load(path: PathBuf) -> Font {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Font { path, data }
    }

    fn face(&self) -> ttf_parser::Face<'_> {
        ttf_parser::Face::parse(&self.data, 0).unwrap()
    }

    fn family(&self) -> String {
        let face = self.face();
        let names = face.names();
        let family = (0..names.len())
            .filter_map(|i| names.get(i))
            .find(|n| n.name_id == ttf_parser::name_id::FAMILY && n.is_unicode())
            .and_then(|n| n.to_string());
        family.unwrap()
    }

    fn missing(&self, text: &str) -> BTreeSet<char> {
        let face = self.face();
        text.chars()
            .filter(|c| !c.is_control())
            // Joiners and marks of direction are not drawn.
            .filter(|c| !matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'))
            .filter(|c| face.glyph_index(*c).is_none())
            .collect()
    }
}

#[test]
fn each_language_font_is_bundled_under_its_family_name() {
    for language in Language::ALL {
        for path in font_files(language.font_family()) {
            let font = Font::load(path);
            assert_eq!(
                font.family(),
                language.font_family(),
                "{}",
                font.path.display()
            );
        }
    }
}

#[test]
fn every_bundled_font_is_imported_by_the_window_and_licensed() {
    let kiosk = std::fs::read_to_string(crate_dir().join("ui").join("kiosk.slint")).unwrap();
    let mut count = 0;
    for entry in std::fs::read_dir(crate_dir().join("fonts")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".ttf") || name.ends_with(".otf") {
            count += 1;
            assert!(
                kiosk.contains(&format!("import \"../fonts/{name}\";")),
                "kiosk.slint does not import {name}"
            );
        }
    }
    assert_eq!(count, 14);
    let licence = std::fs::read_to_string(crate_dir().join("fonts").join("OFL.txt")).unwrap();
    assert!(licence.contains("SIL OPEN FONT LICENSE"));
}

#[test]
fn every_translated_character_has_a_glyph_in_its_language_font() {
    let digits = "0123456789";
    let mut failures = Vec::new();
    let mut check = |what: String, fonts: &[Font], text: &str| {
        for font in fonts {
            let missing = font.missing(text);
            if !missing.is_empty() {
                failures.push(format!("{what} in {}: {missing:?}", font.path.display()));
            }
        }
    };
    // English: the source strings, in the Latin font.
    let latin: Vec<Font> = font_files(Language::English.font_family())
        .into_iter()
        .map(Font::load)
        .collect();
    let english: String = slint_messages()
        .into_iter()
        .flat_map(|(a, b)| [a, b.unwrap_or_default()])
        .collect();
    check("English".into(), &latin, &english);
    for language in Language::ALL {
        let fonts: Vec<Font> = font_files(language.font_family())
            .into_iter()
            .map(Font::load)
            .collect();
        // The language list shows each language in its own font.
        check(format!("{language:?} name"), &fonts, language.autonym());
        // The permitted stay and the PIN keys are digits.
        check(format!("{language:?} digits"), &fonts, digits);
        if language == Language::English {
            continue;
        }
        let catalogue = parse_po(&catalogue_path(language));
        let text: String = catalogue
            .entries
            .iter()
            .flat_map(|e| e.msgstr.iter().map(String::as_str))
            .collect();
        check(format!("{language:?} translation"), &fonts, &text);
    }
    assert!(
        failures.is_empty(),
        "missing glyphs:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_glyph_check_can_fail() {
    // A Thai word is not in the Latin font, and the check says so.
    let latin = Font::load(font_files("Lane Sans").remove(0));
    assert_eq!(latin.missing("Aไ"), BTreeSet::from(['ไ']));
    assert!(latin.missing("Tiếng Việt").is_empty());
}
