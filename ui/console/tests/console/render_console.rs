//! `render-console` as CI runs it: the console's screenshots, with no
//! display and only the bundled fonts (`ui/fonts/fonts.conf`, as on a desk
//! console without system fonts). The pictures hold what they claim: the
//! four lanes' colours, and the face beside the document.

use std::path::Path;
use std::process::Command;

/// The PNG's RGB pixels, checked to be 1920x1080.
fn pixels(path: &Path) -> Vec<[u8; 3]> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(
        (info.width, info.height),
        (1920, 1080),
        "{}",
        path.display()
    );
    buf.truncate(info.buffer_size());
    buf.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect()
}

/// Pixels within a small distance of `rgb` in the region `x0..x1, y0..y1`.
fn count(px: &[[u8; 3]], rgb: u32, (x0, y0, x1, y1): (usize, usize, usize, usize)) -> usize {
    let want = rgb.to_be_bytes();
    let mut n = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let p = px[y * 1920 + x];
            if (0..3).all(|i| p[i].abs_diff(want[i + 1]) <= 6) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn the_console_screenshots_show_four_lanes_and_an_open_referral() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("render-console");
    let _ = std::fs::remove_dir_all(&out);
    let run = Command::new(env!("CARGO_BIN_EXE_render-console"))
        .arg("--out")
        .arg(&out)
        .env(
            "FONTCONFIG_FILE",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../fonts/fonts.conf"),
        )
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for name in [
        "login",
        "lanes",
        "referral",
        "referral-jpeg2000",
        "wrong-pin",
    ] {
        pixels(&out.join(format!("{name}.png")));
    }

    // The lanes: in service (green), referral (amber), out of service (dark
    // red), unknown (grey stripes, both greys), each over a large area.
    let lanes = pixels(&out.join("lanes.png"));
    let grid = (0, 100, 1260, 1080);
    for (what, rgb) in [
        ("in service", 0x146c3b),
        ("referral", 0xf2b632),
        ("out of service", 0x7a1a1a),
        ("unknown stripe", 0xcfd5dd),
        ("unknown stripe", 0xe6e9ee),
    ] {
        let n = count(&lanes, rgb, grid);
        assert!(n > 20_000, "{what}: {n} pixels");
    }

    // The referral: the face (the cartoon's skin and shirt) left of the
    // document, the Accept and Refuse buttons.
    let referral = pixels(&out.join("referral.png"));
    let face_area = (40, 280, 420, 790);
    let distinct: std::collections::HashSet<[u8; 3]> = (face_area.1..face_area.3)
        .flat_map(|y| (face_area.0..face_area.2).map(move |x| (x, y)))
        .map(|(x, y)| referral[y * 1920 + x])
        .collect();
    assert!(
        distinct.len() > 50,
        "a picture, not a placeholder: {} colours",
        distinct.len()
    );
    assert!(
        count(&referral, 0x146c3b, (400, 900, 1260, 1060)) > 5_000,
        "Accept"
    );
    assert!(
        count(&referral, 0xb42318, (400, 900, 1260, 1060)) > 5_000,
        "Refuse"
    );
    let _ = std::fs::remove_dir_all(&out);
}
