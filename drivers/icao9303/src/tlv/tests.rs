use super::*;
use proptest::prelude::*;

fn kind(bytes: &[u8]) -> ParseErrorKind {
    read_tlv(&mut Reader::new(bytes)).unwrap_err().kind
}

fn truncated(needed: usize, available: usize) -> ParseErrorKind {
    ParseErrorKind::Truncated { needed, available }
}

// --- tags (ISO/IEC 8825-1 §8.1.2) -------------------------------------------

#[test]
fn single_byte_tag() {
    let tlv = parse_single(&[0x5C, 0x02, 0x61, 0x75], 0x5C).unwrap();
    assert_eq!(tlv.tag, 0x5C);
    assert_eq!(tlv.value, &[0x61, 0x75]);
    assert!(!tlv.is_constructed());
}

#[test]
fn two_three_and_four_byte_tags() {
    for (bytes, tag) in [
        (&[0x5F, 0x1F][..], 0x5F1F),
        (&[0x7F, 0x61], 0x7F61),
        (&[0x1F, 0x81, 0x01], 0x1F_8101),
        (&[0xDF, 0x81, 0x82, 0x03], 0xDF81_8203),
    ] {
        let mut input = bytes.to_vec();
        input.extend_from_slice(&[0x01, 0xAA]);
        let tlv = parse_single(&input, tag).unwrap();
        assert_eq!(tlv.tag, tag);
        assert_eq!(tlv.value, &[0xAA]);
        assert_eq!(tlv.raw, &input[..]);
    }
}

#[test]
fn tag_longer_than_four_bytes_is_bad_tag() {
    let err = read_tlv(&mut Reader::new(&[0x1F, 0x81, 0x82, 0x83, 0x04, 0x00])).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::BadTag);
    assert_eq!(err.offset, 0);
}

#[test]
fn tag_bytes_00_and_ff_are_bad_tags() {
    assert_eq!(kind(&[0x00, 0x00]), ParseErrorKind::BadTag);
    assert_eq!(kind(&[0xFF, 0x01, 0x00]), ParseErrorKind::BadTag);
}

#[test]
fn input_ending_inside_a_tag_is_truncated() {
    assert_eq!(kind(&[]), truncated(1, 0));
    assert_eq!(kind(&[0x5F]), truncated(1, 0));
    assert_eq!(kind(&[0x5F, 0x81]), truncated(1, 0));
}

#[test]
fn constructed_flag_is_bit_6_of_the_first_byte() {
    for tag in [
        0x60, 0x61, 0x75, 0x7F61, 0x7F60, 0x7F2E, 0xA1, 0x30, 0x31, 0x6E,
    ] {
        assert!(tag_is_constructed(tag), "{tag:X}");
    }
    for tag in [0x02, 0x06, 0x5C, 0x5F1F, 0x5F2E, 0x80, 0x5F01, 0x04] {
        assert!(!tag_is_constructed(tag), "{tag:X}");
    }
}

// --- lengths (ISO/IEC 8825-1 §8.1.3) ----------------------------------------

#[test]
fn short_and_long_form_lengths() {
    for (len_bytes, len) in [
        (&[0x00][..], 0usize),
        (&[0x7F], 0x7F),
        (&[0x81, 0x80], 0x80),
        (&[0x81, 0xFF], 0xFF),
        (&[0x82, 0x01, 0x00], 0x100),
        (&[0x83, 0x01, 0x00, 0x00], 0x1_0000),
    ] {
        let mut input = vec![0x04];
        input.extend_from_slice(len_bytes);
        input.extend(std::iter::repeat_n(0xAB, len));
        let tlv = parse_single(&input, 0x04).unwrap();
        assert_eq!(tlv.value.len(), len);
        assert_eq!(tlv.value_offset(), 1 + len_bytes.len());
    }
}

#[test]
fn non_minimal_long_form_is_accepted() {
    let tlv = parse_single(&[0x04, 0x82, 0x00, 0x01, 0xAA], 0x04).unwrap();
    assert_eq!(tlv.value, &[0xAA]);
}

#[test]
fn indefinite_length_is_bad_length() {
    let err = read_tlv(&mut Reader::new(&[0x30, 0x80, 0x00, 0x00])).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::BadLength);
    assert_eq!(err.offset, 1);
}

#[test]
fn more_than_four_length_bytes_is_bad_length() {
    assert_eq!(
        kind(&[0x04, 0x85, 0, 0, 0, 0, 1, 0xAA]),
        ParseErrorKind::BadLength
    );
    assert_eq!(kind(&[0x04, 0xFF]), ParseErrorKind::BadLength);
}

#[test]
fn hostile_lengths_are_truncated_without_allocating() {
    assert_eq!(
        kind(&[0x04, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]),
        truncated(0xFFFF_FFFF, 0)
    );
    assert_eq!(
        kind(&[0x04, 0x84, 0x7F, 0xFF, 0xFF, 0xFF, 1, 2]),
        truncated(0x7FFF_FFFF, 2)
    );
    assert_eq!(
        kind(&[0x04, 0x84, 0x80, 0, 0, 0]),
        truncated(0x8000_0000, 0)
    );
    assert_eq!(
        kind(&[0x77, 0x83, 0xFF, 0xFF, 0xFF]),
        truncated(0xFF_FFFF, 0)
    );
}

#[test]
fn input_ending_inside_a_length_is_truncated() {
    assert_eq!(kind(&[0x04]), truncated(1, 0));
    assert_eq!(kind(&[0x04, 0x81]), truncated(1, 0));
    assert_eq!(kind(&[0x04, 0x82, 0x01]), truncated(2, 1));
}

#[test]
fn truncated_value_reports_need_and_offset() {
    let err = read_tlv(&mut Reader::new(&[0x04, 0x05, 1, 2])).unwrap_err();
    assert_eq!(err.kind, truncated(5, 2));
    assert_eq!(err.offset, 2);
}

#[test]
fn failed_read_consumes_nothing() {
    let mut r = Reader::new(&[0x04, 0x05, 1, 2]);
    read_tlv(&mut r).unwrap_err();
    assert_eq!(r.offset(), 0);
    let mut r = Reader::new(&[0x04, 0x01, 1]);
    read_expected(&mut r, 0x05, "x").unwrap_err();
    assert_eq!(r.offset(), 0);
}

// --- parse_single, read_expected --------------------------------------------

#[test]
fn parse_single_rejects_trailing_data() {
    let err = parse_single(&[0x04, 0x01, 0xAA, 0x00], 0x04).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::TrailingData(1));
    assert_eq!(err.offset, 3);
}

#[test]
fn parse_single_rejects_wrong_tag() {
    let err = parse_single_named(&[0x04, 0x01, 0xAA], 0x05, "thing").unwrap_err();
    assert_eq!(
        err,
        ParseError::new(
            "thing",
            0,
            ParseErrorKind::UnexpectedTag {
                expected: 0x05,
                found: 0x04
            }
        )
    );
}

#[test]
fn parse_single_rejects_truncated_input() {
    let err = parse_single(&[0x61, 0x05, 0x5F, 0x1F], 0x61).unwrap_err();
    assert_eq!(err.kind, truncated(5, 2));
}

#[test]
fn read_all_reads_a_sequence() {
    let bytes = [0x01, 0x00, 0x02, 0x01, 0xAA, 0x5F, 0x01, 0x00];
    let all = read_all(&mut Reader::new(&bytes)).unwrap();
    let tags: Vec<u32> = all.iter().map(|t| t.tag).collect();
    assert_eq!(tags, [0x01, 0x02, 0x5F01]);
    assert_eq!(all[2].offset, 5);
}

// --- children, find ---------------------------------------------------------

fn nested_example() -> Vec<u8> {
    encode_constructed(
        0x61,
        &[
            encode(0x5F01, b"0107"),
            encode_constructed(0xA0, &[encode(0x02, &[1]), encode(0x5F0F, b"X")]),
            encode(0x5C, &[0x61, 0x75]),
        ],
    )
}

#[test]
fn children_have_absolute_offsets() {
    let bytes = nested_example();
    let outer = parse_single(&bytes, 0x61).unwrap();
    let children = outer.children_vec().unwrap();
    assert_eq!(
        children.iter().map(|c| c.tag).collect::<Vec<_>>(),
        [0x5F01, 0xA0, 0x5C]
    );
    assert_eq!(children[0].offset, 2);
    assert_eq!(children[1].offset, 9);
    let name = children[1].find(0x5F0F).unwrap().unwrap();
    assert_eq!(name.offset, 14);
    assert_eq!(&bytes[name.value_offset()..][..1], b"X");
}

#[test]
fn children_stop_after_an_error() {
    // 61 { 01 00, 02 05 <only 1 byte> }
    let bytes = [0x61, 0x05, 0x01, 0x00, 0x02, 0x05, 0xAA];
    let outer = parse_single(&bytes, 0x61).unwrap();
    let mut it = outer.children();
    assert!(it.next().unwrap().is_ok());
    let err = it.next().unwrap().unwrap_err();
    assert_eq!(err.kind, truncated(5, 1));
    assert_eq!(err.offset, 6);
    assert!(it.next().is_none());
    assert!(outer.children_vec().is_err());
}

#[test]
fn find_and_require() {
    let bytes = nested_example();
    let outer = parse_single(&bytes, 0x61).unwrap();
    assert_eq!(outer.find(0x5C).unwrap().unwrap().value, &[0x61, 0x75]);
    assert!(
        outer.find(0x5F0F).unwrap().is_none(),
        "only direct children"
    );
    let err = outer.require(0x5F36, "unicode").unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::Missing("unicode"));
}

#[test]
fn find_first_searches_depth_first() {
    let bytes = nested_example();
    let found = find_first(&bytes, 0x5F0F).unwrap().unwrap();
    assert_eq!(found.value, b"X");
    assert!(find_first(&bytes, 0x99).unwrap().is_none());
}

#[test]
fn walk_reports_depths() {
    let bytes = nested_example();
    let mut seen = Vec::new();
    walk(&bytes, |depth, tlv| {
        seen.push((depth, tlv.tag));
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(
        seen,
        [
            (0, 0x61),
            (1, 0x5F01),
            (1, 0xA0),
            (2, 0x02),
            (2, 0x5F0F),
            (1, 0x5C)
        ]
    );
}

/// `levels` constructed objects nested inside each other around `01 00`.
fn nested(levels: usize) -> Vec<u8> {
    let mut bytes = encode(0x01, &[]);
    for _ in 0..levels {
        bytes = encode(0x30, &bytes);
    }
    bytes
}

#[test]
fn walk_accepts_max_depth() {
    // MAX_DEPTH levels in all: MAX_DEPTH - 1 constructed plus the innermost primitive.
    let mut depths = 0;
    walk(&nested(MAX_DEPTH - 1), |depth, _| {
        depths = depths.max(depth + 1);
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(depths, MAX_DEPTH);
}

#[test]
fn walk_rejects_one_level_more() {
    let err = walk(&nested(MAX_DEPTH), |_, _| ControlFlow::Continue(())).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::TooDeep);
}

#[test]
fn ten_thousand_levels_are_too_deep_not_a_stack_overflow() {
    let bytes = nested(10_000);
    let err = walk(&bytes, |_, _| ControlFlow::Continue(())).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::TooDeep);
    assert_eq!(
        find_first(&bytes, 0x01).unwrap_err().kind,
        ParseErrorKind::TooDeep
    );
    // Reading only the outer level is fine: children() never recurses.
    let outer = read_tlv(&mut Reader::new(&bytes)).unwrap();
    assert_eq!(outer.children_vec().unwrap().len(), 1);
}

#[test]
fn walk_stops_on_break() {
    let bytes = nested_example();
    let mut count = 0;
    walk(&bytes, |_, _| {
        count += 1;
        if count == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(count, 2);
}

#[test]
fn walk_reports_malformed_descendants() {
    // 30 { 04 05 <1 byte> }
    let err = walk(&[0x30, 0x03, 0x04, 0x05, 0xAA], |_, _| {
        ControlFlow::Continue(())
    })
    .unwrap_err();
    assert_eq!(err.kind, truncated(5, 1));
}

#[test]
fn tag_list() {
    let mut r = Reader::new(&[0x5F, 0x0E, 0x5F, 0x2B, 0x61, 0xA0]);
    assert_eq!(read_tag_list(&mut r).unwrap(), [0x5F0E, 0x5F2B, 0x61, 0xA0]);
    let mut r = Reader::new(&[0x61, 0x5F]);
    assert_eq!(read_tag_list(&mut r).unwrap_err().kind, truncated(1, 0));
}

// --- header_len_and_total ---------------------------------------------------

#[test]
fn header_of_the_ef_com_worked_example() {
    // 9303-11 App. D.4.2 reads the first 4 bytes of EF.COM: 60 14 5F 01.
    assert_eq!(
        header_len_and_total(&[0x60, 0x14, 0x5F, 0x01]).unwrap(),
        Some((2, 22))
    );
}

#[test]
fn header_needs_more_bytes() {
    for partial in [
        &[][..],
        &[0x7F],
        &[0x7F, 0x61],
        &[0x75, 0x82, 0x3A],
        &[0x5F, 0x81],
    ] {
        assert_eq!(
            header_len_and_total(partial).unwrap(),
            None,
            "{partial:02X?}"
        );
    }
}

#[test]
fn header_long_forms() {
    assert_eq!(
        header_len_and_total(&[0x75, 0x82, 0x3A, 0x98, 0x7F, 0x61]).unwrap(),
        Some((4, 4 + 0x3A98))
    );
    assert_eq!(
        header_len_and_total(&[0x77, 0x83, 0x01, 0x00, 0x00]).unwrap(),
        Some((5, 5 + 0x1_0000))
    );
    assert_eq!(
        header_len_and_total(&[0x7F, 0x61, 0x81, 0x80]).unwrap(),
        Some((4, 4 + 0x80))
    );
}

#[test]
fn header_rejects_files_over_the_limit() {
    let err = header_len_and_total(&[0x75, 0x84, 0x00, 0x10, 0x00, 0x00]).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::TooLong(6 + (1 << 20)));
    let err = header_len_and_total(&[0x75, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]).unwrap_err();
    assert!(matches!(err.kind, ParseErrorKind::TooLong(_)));
    // Exactly at the limit is fine.
    let len = MAX_FILE_SIZE - 5;
    let mut first = vec![0x75, 0x83];
    first.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes()[1..]);
    assert_eq!(
        header_len_and_total(&first).unwrap(),
        Some((5, MAX_FILE_SIZE))
    );
    assert_eq!(
        header_len_and_total_with_limit(&[0x60, 0x14], 21)
            .unwrap_err()
            .kind,
        ParseErrorKind::TooLong(22)
    );
}

#[test]
fn header_rejects_malformed_headers() {
    assert_eq!(
        header_len_and_total(&[0x75, 0x80]).unwrap_err().kind,
        ParseErrorKind::BadLength
    );
    assert_eq!(
        header_len_and_total(&[0x75, 0x85, 0, 0, 0, 0, 1])
            .unwrap_err()
            .kind,
        ParseErrorKind::BadLength
    );
    assert_eq!(
        header_len_and_total(&[0x00, 0x01]).unwrap_err().kind,
        ParseErrorKind::BadTag
    );
    assert_eq!(
        header_len_and_total(&[0x1F, 0x81, 0x81, 0x81, 0x01])
            .unwrap_err()
            .kind,
        ParseErrorKind::BadTag
    );
}

// --- encoding ---------------------------------------------------------------

#[test]
fn length_encodings_are_minimal() {
    for (len, expected) in [
        (0usize, &[0x00][..]),
        (0x7F, &[0x7F]),
        (0x80, &[0x81, 0x80]),
        (0xFF, &[0x81, 0xFF]),
        (0x100, &[0x82, 0x01, 0x00]),
        (0xFFFF, &[0x82, 0xFF, 0xFF]),
        (0x1_0000, &[0x83, 0x01, 0x00, 0x00]),
        (0x100_0000, &[0x84, 0x01, 0x00, 0x00, 0x00]),
        (0xFFFF_FFFF, &[0x84, 0xFF, 0xFF, 0xFF, 0xFF]),
    ] {
        let mut out = Vec::new();
        encode_length(len, &mut out);
        assert_eq!(out, expected, "{len:#X}");
    }
}

#[test]
fn tag_encodings() {
    for (tag, expected) in [
        (0x5Cu32, &[0x5C][..]),
        (0x5F1F, &[0x5F, 0x1F]),
        (0x7F61, &[0x7F, 0x61]),
        (0x1F_8101, &[0x1F, 0x81, 0x01]),
        (0xDF81_8203, &[0xDF, 0x81, 0x82, 0x03]),
    ] {
        let mut out = Vec::new();
        encode_tag(tag, &mut out);
        assert_eq!(out, expected);
    }
}

#[test]
#[should_panic(expected = "does not fit")]
#[cfg(target_pointer_width = "64")]
fn encoding_a_length_over_4_gib_panics() {
    encode_length(1 << 32, &mut Vec::new());
}

#[test]
fn encode_round_trips_the_ef_com_example() {
    let bytes = hex::decode("60145F0104303130365F36063034303030305C026175").unwrap();
    let com = parse_single(&bytes, 0x60).unwrap();
    let children: Vec<Vec<u8>> = com.children().map(|c| c.unwrap().raw.to_vec()).collect();
    assert_eq!(encode_constructed(0x60, &children), bytes);
    assert_eq!(com.raw, &bytes[..]);
}

#[test]
fn debug_shows_the_tag_in_hex() {
    let tlv = parse_single(&[0x5F, 0x1F, 0x01, 0x3C], 0x5F1F).unwrap();
    assert_eq!(
        format!("{tlv:?}"),
        "Tlv { tag: 5F1F, offset: 0, value: [60] }"
    );
}

#[test]
fn tlv_equality_ignores_nothing_that_matters() {
    let a = parse_single(&[0x04, 0x01, 0xAA], 0x04).unwrap();
    let b = parse_single(&[0x04, 0x81, 0x01, 0xAA], 0x04).unwrap();
    assert_ne!(a, b, "different encodings differ");
    assert_eq!(a, a.clone());
}

// --- property tests ---------------------------------------------------------

/// Any tag this module reads: 1 to 4 bytes, first byte not 00 or FF.
fn any_tag() -> impl Strategy<Value = u32> {
    let single = (0x01u8..=0xFE)
        .prop_filter("single-byte", |b| b & 0x1F != 0x1F)
        .prop_map(u32::from);
    let multi = (
        prop::sample::select(vec![0x1Fu8, 0x3F, 0x5F, 0x7F, 0x9F, 0xBF, 0xDF]),
        prop::collection::vec(0x80u8..=0xFF, 0..=2),
        0x00u8..=0x7F,
    )
        .prop_map(|(first, middle, last)| {
            let mut tag = u32::from(first);
            for b in middle {
                tag = (tag << 8) | u32::from(b);
            }
            (tag << 8) | u32::from(last)
        });
    prop_oneof![single, multi]
}

proptest! {
    #[test]
    fn read_tlv_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut r = Reader::new(&bytes);
        while let Ok(tlv) = read_tlv(&mut r) {
            prop_assert!(tlv.raw.len() <= bytes.len());
            let _ = tlv.children_vec();
        }
        let _ = walk(&bytes, |_, _| ControlFlow::Continue(()));
        let _ = header_len_and_total(&bytes);
        let _ = read_tag_list(&mut Reader::new(&bytes));
    }

    #[test]
    fn encode_then_read_round_trips(
        tag in any_tag(),
        value in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let bytes = encode(tag, &value);
        let tlv = parse_single(&bytes, tag).unwrap();
        prop_assert_eq!(tlv.tag, tag);
        prop_assert_eq!(tlv.value, &value[..]);
        prop_assert_eq!(tlv.raw, &bytes[..]);
        prop_assert_eq!(tlv.is_constructed(), tag_is_constructed(tag));
        let (header, total) = header_len_and_total(&bytes).unwrap().unwrap();
        prop_assert_eq!(total, bytes.len());
        prop_assert_eq!(header, bytes.len() - value.len());
    }

    #[test]
    fn header_agrees_with_read_tlv(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
        if let Ok(Some((header, total))) = header_len_and_total(&bytes) {
            prop_assert!(header <= total);
            match read_tlv(&mut Reader::new(&bytes)) {
                Ok(tlv) => prop_assert_eq!(tlv.raw.len(), total),
                Err(e) => {
                    let is_truncated = matches!(e.kind, ParseErrorKind::Truncated { .. });
                    prop_assert!(total > bytes.len() && is_truncated);
                }
            }
        }
    }

    #[test]
    fn nested_round_trip(tags in prop::collection::vec(any_tag(), 1..8), leaf in prop::collection::vec(any::<u8>(), 0..20)) {
        let mut bytes = leaf.clone();
        for &tag in &tags {
            bytes = encode(tag, &bytes);
        }
        let mut tlv = read_tlv(&mut Reader::new(&bytes)).unwrap();
        for &tag in tags.iter().rev().skip(1) {
            let mut r = tlv.reader();
            tlv = read_expected(&mut r, tag, "level").unwrap();
            r.expect_end("level").unwrap();
        }
        prop_assert_eq!(tlv.value, &leaf[..]);
    }
}
