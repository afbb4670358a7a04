#![allow(clippy::unwrap_used)]
//! The screens need no system font: rendered with fontconfig seeing only the
//! bundled fonts (`fonts/fonts.conf`, as on the appliance), every pixel is the
//! same as with whatever fonts this machine has installed.

use std::path::{Path, PathBuf};
use std::process::Command;

fn render(out: &Path, fontconfig_file: Option<&Path>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_render-screens"));
    cmd.arg("--out")
        .arg(out)
        .args([
            "--screen",
            "attract",
            "--language",
            "my",
            "--language",
            "vi",
        ])
        .arg("--no-contact-sheet");
    match fontconfig_file {
        Some(file) => cmd.env("FONTCONFIG_FILE", file),
        None => cmd.env_remove("FONTCONFIG_FILE"),
    };
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "render-screens failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn pixels(path: &Path) -> Vec<u8> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1920, 1080));
    buf.truncate(info.buffer_size());
    buf
}

#[test]
fn bundled_fonts_alone_render_the_same_pixels() {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-system-fonts");
    let _ = std::fs::remove_dir_all(&tmp);
    let bundled_only = tmp.join("bundled-only");
    let system = tmp.join("system");
    let conf = Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts/fonts.conf");
    render(&bundled_only, Some(&conf));
    render(&system, None);
    for file in ["attract/my.png", "attract/vi.png"] {
        let a = pixels(&bundled_only.join(file));
        let b = pixels(&system.join(file));
        // Something is drawn: the language list alone is many dark pixels.
        let ink = a
            .chunks(3)
            .filter(|p| p.iter().map(|&c| u32::from(c)).sum::<u32>() < 300)
            .count();
        assert!(ink > 5000, "{file}: only {ink} dark pixels");
        assert!(a == b, "{file} differs with the system's fonts");
    }
}
