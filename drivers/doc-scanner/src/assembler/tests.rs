//! Every framing, noise and partial-read case of the protocol, and property tests over arbitrary bytes.

use proptest::prelude::*;

use super::*;
use crate::sim::{LineEnd, Style, TD1_SPECIMEN, TD2_SPECIMEN, TD3_SPECIMEN, Trailer, encode};

const LINE_ENDS: [LineEnd; 3] = [LineEnd::Cr, LineEnd::Lf, LineEnd::CrLf];
const SPECIMENS: [&[&str]; 3] = [&TD3_SPECIMEN, &TD2_SPECIMEN, &TD1_SPECIMEN];

fn events(assembler: &mut ScanAssembler, bytes: &[u8]) -> Vec<Event> {
    assembler.feed(bytes).collect()
}

fn run(framing: Framing, bytes: &[u8]) -> Vec<Event> {
    events(&mut ScanAssembler::new(framing), bytes)
}

fn scan(lines: &[&str]) -> Event {
    Ok(Scan {
        lines: lines.iter().map(|l| (*l).to_owned()).collect(),
    })
}

fn unframed(line_end: LineEnd) -> Style {
    Style {
        line_end,
        ..Style::default()
    }
}

fn framed(line_end: LineEnd, end_last_line: bool) -> Style {
    Style {
        framed: true,
        line_end,
        end_last_line,
        ..Style::default()
    }
}

/// Every style a reader may use, with the framing to read it.
fn styles() -> Vec<(Framing, Style)> {
    let mut all = Vec::new();
    for line_end in LINE_ENDS {
        for trailer in [Trailer::None, Trailer::BlankLine, Trailer::Eot] {
            all.push((
                Framing::Lines,
                Style {
                    trailer,
                    ..unframed(line_end)
                },
            ));
        }
        for end_last_line in [true, false] {
            all.push((Framing::StxEtx, framed(line_end, end_last_line)));
            // A framed reader read in unframed mode works too.
            all.push((Framing::Lines, framed(line_end, end_last_line)));
        }
    }
    all
}

// ---------------------------------------------------------------------------
// Line ends, formats, framing
// ---------------------------------------------------------------------------

#[test]
fn td3_td2_td1_with_cr_lf_and_crlf() {
    for lines in SPECIMENS {
        for line_end in LINE_ENDS {
            let bytes = encode(lines, &unframed(line_end));
            assert_eq!(
                run(Framing::Lines, &bytes),
                vec![scan(lines)],
                "{line_end:?}"
            );
        }
    }
}

#[test]
fn every_style_gives_each_scan_once() {
    for (framing, style) in styles() {
        for lines in SPECIMENS {
            let bytes = encode(lines, &style);
            assert_eq!(
                run(framing, &bytes),
                vec![scan(lines)],
                "{framing:?} {style:?}"
            );
        }
    }
}

#[test]
fn split_at_every_byte_boundary() {
    for (framing, style) in styles() {
        for lines in SPECIMENS {
            let bytes = encode(lines, &style);
            for cut in 0..=bytes.len() {
                let (a, b) = bytes.split_at(cut);
                let mut assembler = ScanAssembler::new(framing);
                let mut got = events(&mut assembler, a);
                got.extend(events(&mut assembler, b));
                assert_eq!(got, vec![scan(lines)], "{framing:?} {style:?} cut at {cut}");
            }
        }
    }
}

#[test]
fn one_byte_at_a_time() {
    for (framing, style) in styles() {
        let bytes = encode(&TD1_SPECIMEN, &style);
        let mut assembler = ScanAssembler::new(framing);
        let got: Vec<Event> = bytes.iter().filter_map(|&b| assembler.push(b)).collect();
        assert_eq!(got, vec![scan(&TD1_SPECIMEN)], "{framing:?} {style:?}");
    }
}

#[test]
fn many_scans_in_one_chunk() {
    for (framing, style) in styles() {
        let mut bytes = Vec::new();
        for lines in SPECIMENS {
            bytes.extend(encode(lines, &style));
        }
        let want: Vec<Event> = SPECIMENS.iter().map(|l| scan(l)).collect();
        assert_eq!(run(framing, &bytes), want, "{framing:?} {style:?}");
    }
}

#[test]
fn crlf_is_one_line_end_but_lfcr_is_two() {
    let crlf = b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\r\nL898902C36UTO7408122F1204159ZE184226B<<<<<10\r\n";
    assert_eq!(run(Framing::Lines, crlf), vec![scan(&TD3_SPECIMEN)]);
    // LF CR ends the line and then a blank line: a boundary after one line.
    let lfcr = b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n\r";
    assert_eq!(
        run(Framing::Lines, lfcr),
        vec![Err(ScanError::LineCount {
            expected: 2,
            found: 1
        })]
    );
}

#[test]
fn empty_frame_and_blank_lines_in_a_frame_are_ignored() {
    let mut bytes = vec![STX, ETX, STX, CR, LF, CR];
    bytes.extend(encode(&TD2_SPECIMEN, &unframed(LineEnd::CrLf)));
    bytes.extend([CR, LF, ETX]);
    assert_eq!(run(Framing::StxEtx, &bytes), vec![scan(&TD2_SPECIMEN)]);
}

#[test]
fn trailing_boundaries_after_a_complete_scan_are_harmless() {
    let mut bytes = encode(&TD3_SPECIMEN, &unframed(LineEnd::Cr));
    bytes.extend([CR, CR, EOT, ETX, LF, EOT]);
    let mut assembler = ScanAssembler::new(Framing::Lines);
    assert_eq!(events(&mut assembler, &bytes), vec![scan(&TD3_SPECIMEN)]);
    assert_eq!(assembler.idle(), None);
    assert!(!assembler.is_busy());
}

// ---------------------------------------------------------------------------
// Noise
// ---------------------------------------------------------------------------

#[test]
fn flow_control_and_nul_inside_lines_are_dropped() {
    let clean = encode(&TD1_SPECIMEN, &unframed(LineEnd::CrLf));
    let mut noisy = Vec::new();
    for (i, &b) in clean.iter().enumerate() {
        noisy.push([0x00, XON_XOFF[0], XON_XOFF[1], 0x7F, 0x1B][i % 5]);
        noisy.push(b);
    }
    assert_eq!(run(Framing::Lines, &noisy), vec![scan(&TD1_SPECIMEN)]);
}

const XON_XOFF: [u8; 2] = [crate::protocol::XON, crate::protocol::XOFF];

#[test]
fn framed_mode_ignores_everything_between_frames() {
    let style = Style {
        noise: b"\x00\x11READY\r\nhello \x03\x04 world\r\n\xff\xfe<<<\r\n".to_vec(),
        ..framed(LineEnd::Cr, true)
    };
    let mut bytes = encode(&TD3_SPECIMEN, &style);
    bytes.extend(encode(&TD1_SPECIMEN, &style));
    assert_eq!(
        run(Framing::StxEtx, &bytes),
        vec![scan(&TD3_SPECIMEN), scan(&TD1_SPECIMEN)]
    );
}

#[test]
fn unframed_garbage_between_scans_is_reported_and_skipped() {
    let mut bytes = encode(&TD3_SPECIMEN, &unframed(LineEnd::CrLf));
    bytes.extend(b"\x00\x13garbage!\r\n\x11\r\n");
    bytes.extend(encode(&TD2_SPECIMEN, &unframed(LineEnd::CrLf)));
    assert_eq!(
        run(Framing::Lines, &bytes),
        vec![
            scan(&TD3_SPECIMEN),
            Err(ScanError::InvalidCharacter { line: 1, column: 1 }),
            scan(&TD2_SPECIMEN),
        ]
    );
}

#[test]
fn spaces_at_the_ends_of_a_line_are_ignored_inside_are_not() {
    let bytes = format!("  {}  \r\n {}\r\n", TD3_SPECIMEN[0], TD3_SPECIMEN[1]);
    assert_eq!(
        run(Framing::Lines, bytes.as_bytes()),
        vec![scan(&TD3_SPECIMEN)]
    );
    let bytes = b"P<UTO ERIKSSON\r\n";
    assert_eq!(
        run(Framing::Lines, bytes),
        vec![Err(ScanError::InvalidCharacter { line: 1, column: 6 })]
    );
}

// ---------------------------------------------------------------------------
// Bad lines
// ---------------------------------------------------------------------------

#[test]
fn an_over_long_line_is_reported_once_and_never_stored() {
    let mut assembler = ScanAssembler::new(Framing::Lines);
    let long = vec![b'<'; 10_000];
    assert_eq!(
        events(&mut assembler, &long),
        vec![Err(ScanError::LineTooLong { line: 1 })]
    );
    assert!(assembler.buffered() <= MAX_LINE_LEN);
    let mut rest = vec![CR, LF];
    rest.extend(encode(&TD3_SPECIMEN, &unframed(LineEnd::CrLf)));
    assert_eq!(events(&mut assembler, &rest), vec![scan(&TD3_SPECIMEN)]);
}

#[test]
fn an_over_long_second_line_drops_the_scan_up_to_the_boundary() {
    let bytes = format!(
        "{}\r\n{}X\r\n{}\r\n\r\n{}\r\n{}\r\n",
        TD3_SPECIMEN[0], TD3_SPECIMEN[1], TD3_SPECIMEN[0], TD3_SPECIMEN[0], TD3_SPECIMEN[1]
    );
    assert_eq!(
        run(Framing::Lines, bytes.as_bytes()),
        vec![Err(ScanError::LineTooLong { line: 2 }), scan(&TD3_SPECIMEN)]
    );
}

#[test]
fn lowercase_and_high_bytes_are_invalid_characters() {
    for bad in [b'a', b'#', 0x80, 0xFF] {
        let mut line = TD3_SPECIMEN[0].as_bytes().to_vec();
        line[7] = bad;
        line.push(CR);
        assert_eq!(
            run(Framing::Lines, &line),
            vec![Err(ScanError::InvalidCharacter { line: 1, column: 8 })]
        );
    }
}

#[test]
fn line_lengths_must_be_mrz_lengths_and_agree() {
    assert_eq!(
        run(Framing::Lines, b"P<UTO<<<\r\n"),
        vec![Err(ScanError::UnknownLineLength { found: 8 })]
    );
    let bytes = format!("{}\r\n{}\r\n", TD3_SPECIMEN[0], TD2_SPECIMEN[1]);
    assert_eq!(
        run(Framing::Lines, bytes.as_bytes()),
        vec![Err(ScanError::LineLength {
            line: 2,
            expected: 44,
            found: 36
        })]
    );
}

#[test]
fn wrong_number_of_lines() {
    // TD1 needs 3 lines: a blank line after 2 ends it short.
    let bytes = format!("{}\r\n{}\r\n\r\n", TD1_SPECIMEN[0], TD1_SPECIMEN[1]);
    assert_eq!(
        run(Framing::Lines, bytes.as_bytes()),
        vec![Err(ScanError::LineCount {
            expected: 3,
            found: 2
        })]
    );
    // EOT after one line of a TD3.
    let bytes = format!("{}\r\n\x04", TD3_SPECIMEN[0]);
    assert_eq!(
        run(Framing::Lines, bytes.as_bytes()),
        vec![Err(ScanError::LineCount {
            expected: 2,
            found: 1
        })]
    );
    // A frame with 3 lines of 44, then one with 1.
    let bytes = format!(
        "\x02{0}\r{1}\r{1}\r\x03\x02{0}\x03",
        TD3_SPECIMEN[0], TD3_SPECIMEN[1]
    );
    assert_eq!(
        run(Framing::StxEtx, bytes.as_bytes()),
        vec![
            Err(ScanError::LineCount {
                expected: 2,
                found: 3
            }),
            Err(ScanError::LineCount {
                expected: 2,
                found: 1
            }),
        ]
    );
}

// ---------------------------------------------------------------------------
// Torn scans
// ---------------------------------------------------------------------------

#[test]
fn torn_scan_then_idle_then_new_scan() {
    let mut assembler = ScanAssembler::new(Framing::Lines);
    let torn = format!("{}\r\nL898902C3", TD3_SPECIMEN[0]);
    assert_eq!(events(&mut assembler, torn.as_bytes()), vec![]);
    assert_eq!(
        assembler.idle(),
        Some(ScanError::Incomplete {
            lines: 1,
            mid_line: true,
            cause: Cut::Idle
        })
    );
    assert_eq!(assembler.buffered(), 0);
    let bytes = encode(&TD3_SPECIMEN, &unframed(LineEnd::Cr));
    assert_eq!(events(&mut assembler, &bytes), vec![scan(&TD3_SPECIMEN)]);
}

#[test]
fn torn_first_line_without_idle_loses_only_what_it_must() {
    // With neither framing nor an idle gap, the torn line runs into the next
    // scan's first line: both are lost, and that is reported once; the
    // line after it is not paired with anything that follows a boundary.
    let bytes = format!(
        "P<UTOERIK{}\r\n{}\r\n\r\n",
        TD3_SPECIMEN[0], TD3_SPECIMEN[1]
    );
    assert_eq!(
        run(Framing::Lines, bytes.as_bytes()),
        vec![
            Err(ScanError::LineTooLong { line: 1 }),
            Err(ScanError::LineCount {
                expected: 2,
                found: 1
            }),
        ]
    );
}

#[test]
fn torn_frame_then_new_frame() {
    let bytes = format!(
        "\x02{}\rL8989\x02{}\r{}\r\x03",
        TD3_SPECIMEN[0], TD3_SPECIMEN[0], TD3_SPECIMEN[1]
    );
    assert_eq!(
        run(Framing::StxEtx, bytes.as_bytes()),
        vec![
            Err(ScanError::Incomplete {
                lines: 1,
                mid_line: true,
                cause: Cut::Stx
            }),
            scan(&TD3_SPECIMEN),
        ]
    );
}

#[test]
fn stx_cuts_an_unframed_scan_short_too() {
    let bytes = format!("{}\r\x02", TD1_SPECIMEN[0]);
    assert_eq!(
        run(Framing::Lines, bytes.as_bytes()),
        vec![Err(ScanError::Incomplete {
            lines: 1,
            mid_line: false,
            cause: Cut::Stx
        })]
    );
}

#[test]
fn eot_inside_a_frame_is_a_framing_error() {
    let bytes = format!("\x02{}\r\x04\x03", TD2_SPECIMEN[0]);
    assert_eq!(
        run(Framing::StxEtx, bytes.as_bytes()),
        vec![Err(ScanError::Incomplete {
            lines: 1,
            mid_line: false,
            cause: Cut::Eot
        })]
    );
}

#[test]
fn idle_with_an_open_empty_frame_is_silent() {
    let mut assembler = ScanAssembler::new(Framing::StxEtx);
    assert_eq!(events(&mut assembler, &[STX, CR, LF]), vec![]);
    assert!(assembler.is_busy());
    assert_eq!(assembler.idle(), None);
    assert!(!assembler.is_busy());
}

// ---------------------------------------------------------------------------
// Personal data and validation
// ---------------------------------------------------------------------------

#[test]
fn errors_and_debug_never_show_mrz_content() {
    let errors = [
        ScanError::LineTooLong { line: 2 },
        ScanError::InvalidCharacter { line: 1, column: 3 },
        ScanError::UnknownLineLength { found: 8 },
        ScanError::LineLength {
            line: 2,
            expected: 44,
            found: 36,
        },
        ScanError::LineCount {
            expected: 3,
            found: 2,
        },
        ScanError::Incomplete {
            lines: 1,
            mid_line: true,
            cause: Cut::Idle,
        },
    ];
    for e in errors {
        let text = format!("{e} {e:?}");
        assert!(!text.contains("UTO") && !text.contains('<'), "{text}");
    }
    let s = Scan {
        lines: TD3_SPECIMEN.iter().map(|l| (*l).to_owned()).collect(),
    };
    let text = format!("{s:?}");
    assert!(
        !text.contains("ERIKSSON") && !text.contains("L898"),
        "{text}"
    );
    let mut assembler = ScanAssembler::new(Framing::Lines);
    let _ = events(&mut assembler, format!("{}\r", TD3_SPECIMEN[0]).as_bytes());
    assert!(!format!("{assembler:?}").contains("ERIKSSON"));
}

#[test]
fn a_scan_parses_to_its_mrz_or_names_the_failed_check() {
    for lines in SPECIMENS {
        let s = Scan {
            lines: lines.iter().map(|l| (*l).to_owned()).collect(),
        };
        let mrz = s.parse(icao9303::mrz::Mode::Strict).unwrap();
        assert_eq!(mrz.format.lines(), lines.len());
    }
    // Birth date 740812 -> 749912: an invalid date whose MrzError Debug holds the value.
    let s = Scan {
        lines: vec![
            TD3_SPECIMEN[0].to_owned(),
            TD3_SPECIMEN[1].replace("7408122", "7499122"),
        ],
    };
    let err = s.parse(icao9303::mrz::Mode::Strict).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("7499"), "{text}");
    assert!(matches!(
        err.error(),
        icao9303::mrz::MrzError::InvalidDate { .. } | icao9303::mrz::MrzError::CheckDigit { .. }
    ));
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

fn any_framing() -> impl Strategy<Value = Framing> {
    prop_oneof![Just(Framing::Lines), Just(Framing::StxEtx)]
}

/// Bytes biased toward the protocol's interesting ones.
fn protocol_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => any::<u8>(),
        4 => prop::sample::select(b"<ABCPIL0123456789".to_vec()),
        2 => prop::sample::select(vec![STX, ETX, EOT, CR, LF, 0x00, 0x11, 0x13, b' ']),
    ];
    prop::collection::vec(byte, 0..max)
}

fn noise_only(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(vec![0x00, 0x11, 0x13, 0x01, 0x1B, 0x7F, 0x07]),
        0..max,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_and_memory_stays_bounded(
        framing in any_framing(),
        bytes in protocol_bytes(2_000),
        idles in prop::collection::vec(0usize..2_000, 0..4),
    ) {
        let mut assembler = ScanAssembler::new(framing);
        for (i, &b) in bytes.iter().enumerate() {
            if idles.contains(&i) {
                let _ = assembler.idle();
            }
            if let Some(Ok(scan)) = assembler.push(b) {
                // Whatever comes out has the shape of an MRZ.
                let len = scan.lines[0].len();
                prop_assert_eq!(Some(scan.lines.len()), lines_for_length(len));
                prop_assert!(scan.lines.iter().all(|l| l.len() == len && l.bytes().all(is_mrz_char)));
            }
            prop_assert!(assembler.buffered() <= MAX_LINE_LEN * MAX_LINES);
            prop_assert!(assembler.lines.capacity() <= MAX_LINES);
        }
    }

    #[test]
    fn a_valid_scan_split_anywhere_comes_out_whole(
        style_index in 0usize..24,
        which in 0usize..3,
        noise in noise_only(20),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let all = styles();
        let (framing, style) = all[style_index % all.len()].clone();
        let lines = SPECIMENS[which];
        let bytes = encode(lines, &Style { noise, ..style });
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut assembler = ScanAssembler::new(framing);
        let mut got = Vec::new();
        let mut start = 0;
        for p in points.into_iter().chain([bytes.len()]) {
            got.extend(events(&mut assembler, &bytes[start..p]));
            start = p;
        }
        prop_assert_eq!(got, vec![scan(lines)]);
    }

    #[test]
    fn after_any_garbage_a_boundary_resynchronises(
        framing in any_framing(),
        garbage in protocol_bytes(300),
        which in 0usize..3,
    ) {
        let lines = SPECIMENS[which];
        let mut assembler = ScanAssembler::new(framing);
        let _ = events(&mut assembler, &garbage);
        let bytes = match framing {
            // Unframed: the idle gap is the boundary.
            Framing::Lines => {
                let _ = assembler.idle();
                encode(lines, &unframed(LineEnd::CrLf))
            }
            // Framed: STX is.
            Framing::StxEtx => encode(lines, &framed(LineEnd::Cr, true)),
        };
        let got = events(&mut assembler, &bytes);
        prop_assert_eq!(got.last(), Some(&scan(lines)));
        prop_assert!(got.len() <= 2);
    }
}
