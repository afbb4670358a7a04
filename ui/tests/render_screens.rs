//! `render-screens` as CI runs it: every screen in every language, to PNG,
//! with no display and only the bundled fonts.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use ui::{Language, Page};

#[test]
fn every_screen_in_every_language_is_rendered_with_a_contact_sheet() {
    let out = std::env::temp_dir().join(format!("render-screens-test-{}", std::process::id()));
    let run = Command::new(env!("CARGO_BIN_EXE_render-screens"))
        .arg("--out")
        .arg(&out)
        .env(
            "FONTCONFIG_FILE",
            concat!(env!("CARGO_MANIFEST_DIR"), "/fonts/fonts.conf"),
        )
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut pngs = 0;
    for page in Page::ALL {
        for language in Language::ALL {
            let file = out
                .join(page.slug())
                .join(format!("{}.png", language.code()));
            let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert!(
                bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
                "{}",
                file.display()
            );
            pngs += 1;
        }
    }
    assert_eq!(pngs, Page::ALL.len() * Language::ALL.len());
    assert!(out.join("contact-sheet.png").exists());
    let _ = std::fs::remove_dir_all(&out);
}
