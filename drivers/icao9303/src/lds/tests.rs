use super::*;
use crate::tlv::{encode, encode_constructed};
use proptest::prelude::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// Every parser gets the same three checks: each strict prefix of a valid
/// file is truncated, a byte after it is trailing data, and another outer tag
/// is refused.
fn check_framing<T: std::fmt::Debug>(valid: &[u8], parse: impl Fn(&[u8]) -> Result<T, ParseError>) {
    parse(valid).expect("the valid file parses");
    for len in 0..valid.len() {
        let err = parse(&valid[..len]).unwrap_err();
        assert!(
            matches!(err.kind, ParseErrorKind::Truncated { .. }),
            "prefix of {len} bytes: {err}"
        );
    }
    let mut trailing = valid.to_vec();
    trailing.push(0x00);
    let err = parse(&trailing).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::TrailingData(1));
    assert_eq!(err.offset, valid.len());

    let mut wrong = valid.to_vec();
    wrong[0] = if wrong[0] == 0x6D { 0x6A } else { 0x6D };
    let err = parse(&wrong).unwrap_err();
    assert!(
        matches!(err.kind, ParseErrorKind::UnexpectedTag { found, .. } if found == u32::from(wrong[0])),
        "{err}"
    );
    assert_eq!(err.offset, 0);
}

fn invalid(err: &ParseError) -> &'static str {
    match err.kind {
        ParseErrorKind::Invalid(why) => why,
        ref other => panic!("expected Invalid, got {other:?} ({err})"),
    }
}

// ---------------------------------------------------------------------------
// Tables (9303-10 §3.6, §4.6)
// ---------------------------------------------------------------------------

mod tables {
    use super::*;

    #[test]
    fn data_group_numbers_tags_and_file_ids() {
        let tags = [
            0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E,
            0x6F, 0x70,
        ];
        for (i, (&dg, &tag)) in DataGroup::ALL.iter().zip(&tags).enumerate() {
            let n = u8::try_from(i + 1).unwrap();
            assert_eq!(dg.number(), n);
            assert_eq!(dg.tag(), tag);
            assert_eq!(dg.file_id(), 0x0100 + u16::from(n));
            assert_eq!(dg.short_file_id(), n);
            assert_eq!(dg.name(), format!("DG{n}"));
            assert_eq!(dg.to_string(), format!("DG{n}"));
            assert_eq!(DataGroup::from_tag(tag), Some(dg));
            assert_eq!(DataGroup::from_number(n), Some(dg));
            assert_eq!(FileId::from(dg).file_id(), dg.file_id());
            assert_eq!(FileId::from(dg).tag(), tag);
        }
        assert_eq!(DataGroup::from_number(0), None);
        assert_eq!(DataGroup::from_number(17), None);
        assert_eq!(DataGroup::from_tag(0x60), None);
        assert_eq!(DataGroup::from_tag(0x77), None);
        assert_eq!(DataGroup::Dg16.file_id(), 0x0110);
    }

    #[test]
    fn other_files() {
        assert_eq!(
            (
                FileId::Com.file_id(),
                FileId::Com.short_file_id(),
                FileId::Com.tag()
            ),
            (0x011E, 0x1E, 0x60)
        );
        assert_eq!(
            (
                FileId::Sod.file_id(),
                FileId::Sod.short_file_id(),
                FileId::Sod.tag()
            ),
            (0x011D, 0x1D, 0x77)
        );
        assert_eq!(
            (
                FileId::CardAccess.file_id(),
                FileId::CardAccess.short_file_id()
            ),
            (0x011C, 0x1C)
        );
        assert_eq!(FileId::CardSecurity.file_id(), 0x011D);
        assert!(FileId::CardAccess.in_master_file());
        assert!(FileId::CardSecurity.in_master_file());
        assert!(!FileId::Com.in_master_file());
        assert!(!FileId::Dg(DataGroup::Dg1).in_master_file());
        assert_eq!(FileId::Com.to_string(), "EF.COM");
        assert_eq!(FileId::Dg(DataGroup::Dg14).to_string(), "DG14");
    }
}

// ---------------------------------------------------------------------------
// EF.COM
// ---------------------------------------------------------------------------

mod com {
    use super::*;

    /// 9303-11 App. D.4: the EF.COM read in the secure-messaging worked example.
    const WORKED_EXAMPLE: &str = "60145F0104303130365F36063034303030305C026175";

    #[test]
    fn worked_example_parses() {
        let bytes = h(WORKED_EXAMPLE);
        assert_eq!(bytes.len(), 22);
        let com = Com::parse(&bytes).unwrap();
        assert_eq!(com.lds_version, "0106");
        assert_eq!(com.unicode_version, "040000");
        assert_eq!(com.data_groups, [DataGroup::Dg1, DataGroup::Dg2]);
        assert!(com.unknown_tags.is_empty());
        assert!(com.contains(DataGroup::Dg2));
        assert!(!com.contains(DataGroup::Dg14));
        assert_eq!(com.encode(), bytes);
    }

    #[test]
    fn framing() {
        check_framing(&h(WORKED_EXAMPLE), Com::parse);
    }

    #[test]
    fn unknown_tags_in_the_list_are_kept() {
        let bytes = encode_constructed(
            0x60,
            &[
                encode(0x5F01, b"0107"),
                encode(0x5F36, b"040000"),
                encode(0x5C, &[0x61, 0x99, 0x75, 0x5F, 0x01, 0x6E]),
            ],
        );
        let com = Com::parse(&bytes).unwrap();
        assert_eq!(
            com.data_groups,
            [DataGroup::Dg1, DataGroup::Dg2, DataGroup::Dg14]
        );
        assert_eq!(com.unknown_tags, [0x99, 0x5F01]);
    }

    #[test]
    fn elements_in_any_order_and_unknown_elements_skipped() {
        let bytes = encode_constructed(
            0x60,
            &[
                encode(0x5C, &[0x61]),
                encode(0x5F7E, b"future"),
                encode(0x5F36, b"040000"),
                encode(0x5F01, b"0107"),
            ],
        );
        let com = Com::parse(&bytes).unwrap();
        assert_eq!(com.lds_version, "0107");
        assert_eq!(com.data_groups, [DataGroup::Dg1]);
    }

    #[test]
    fn missing_elements() {
        let without = |skip: u32| {
            let all: [(u32, &[u8]); 3] = [(0x5F01, b"0107"), (0x5F36, b"040000"), (0x5C, &[0x61])];
            let children: Vec<Vec<u8>> = all
                .iter()
                .filter(|(t, _)| *t != skip)
                .map(|(t, v)| encode(*t, v))
                .collect();
            Com::parse(&encode_constructed(0x60, &children))
                .unwrap_err()
                .kind
        };
        assert_eq!(
            without(0x5F01),
            ParseErrorKind::Missing("EF.COM LDS version")
        );
        assert_eq!(
            without(0x5F36),
            ParseErrorKind::Missing("EF.COM Unicode version")
        );
        assert_eq!(without(0x5C), ParseErrorKind::Missing("EF.COM tag list"));
    }

    #[test]
    fn repeated_element_is_invalid() {
        let bytes = encode_constructed(
            0x60,
            &[
                encode(0x5F01, b"0107"),
                encode(0x5F01, b"0108"),
                encode(0x5F36, b"040000"),
                encode(0x5C, &[0x61]),
            ],
        );
        let err = Com::parse(&bytes).unwrap_err();
        assert_eq!(invalid(&err), "data object repeated");
        assert_eq!(err.offset, 9);
    }

    #[test]
    fn versions_must_be_digits_of_the_right_length() {
        let cases: [(&[u8], &[u8]); 4] = [
            (b"01A7", b"040000"),
            (b"107", b"040000"),
            (b"0107", b"04000"),
            (b"0107", b"04000x"),
        ];
        for (lds, unicode) in cases {
            let bytes = encode_constructed(
                0x60,
                &[
                    encode(0x5F01, lds),
                    encode(0x5F36, unicode),
                    encode(0x5C, &[0x61]),
                ],
            );
            invalid(&Com::parse(&bytes).unwrap_err());
        }
    }

    #[test]
    fn malformed_tag_list_is_an_error() {
        let bytes = encode_constructed(
            0x60,
            &[
                encode(0x5F01, b"0107"),
                encode(0x5F36, b"040000"),
                encode(0x5C, &[0x61, 0x5F]),
            ],
        );
        let err = Com::parse(&bytes).unwrap_err();
        assert!(matches!(err.kind, ParseErrorKind::Truncated { .. }));
    }
}

// ---------------------------------------------------------------------------
// EF.CardAccess, DG14, DG15 (DER)
// ---------------------------------------------------------------------------

mod security_infos {
    use super::*;

    /// 9303-11 App. G.1: PACEInfo for ECDH-GM with AES-128 and brainpoolP256r1
    /// (parameter ID 13), wrapped in a SET as dmrtd does.
    const CARD_ACCESS_G1: &str = "31143012060A04007F0007020204020202010202010D";
    /// 9303-11 App. G.2: PACEInfo for DH-GM with 3DES, parameter ID 0.
    const PACE_INFO_G2: &str = "3012060A04007F00070202040102020102020100";
    /// 9303-11 App. I.1: a ChipAuthenticationPublicKeyInfo.
    const CA_PUBLIC_KEY_INFO: &str = "3062060904007F0007020201023052300C060704007F0007010202010D034200041872709494399E7470A6431BE25E83EEE24FEA568C2ED28DB48E05DB3A610DC884D256A40E35EFCB59BF6753D3A489D28C7A4D973C2DA138A6E7A4A08F68E16F02010D";

    fn set_of(members: &[Vec<u8>]) -> Vec<u8> {
        encode_constructed(0x31, members)
    }

    #[test]
    fn card_access_of_the_pace_worked_example() {
        let bytes = h(CARD_ACCESS_G1);
        let ca = CardAccess::parse(&bytes).unwrap();
        assert_eq!(ca.infos.len(), 1);
        let pace: Vec<&PaceInfo> = ca.pace_infos().collect();
        assert_eq!(
            pace,
            [&PaceInfo {
                protocol_oid: "0.4.0.127.0.7.2.2.4.2.2".into(),
                version: 2,
                parameter_id: Some(13),
            }]
        );
        assert_eq!(ca.infos[0].raw(), &bytes[2..]);
        assert_eq!(ca.infos[0].oid(), "0.4.0.127.0.7.2.2.4.2.2");
        assert_eq!(pace[0].encode().unwrap(), &bytes[2..]);
    }

    #[test]
    fn card_access_framing() {
        check_framing(&h(CARD_ACCESS_G1), CardAccess::parse);
    }

    #[test]
    fn several_infos_kept_in_order() {
        let no_param = PaceInfo {
            protocol_oid: "0.4.0.127.0.7.2.2.4.6.2".into(),
            version: 2,
            parameter_id: None,
        };
        // PACEDomainParameterInfo: id-PACE-ECDH-GM (one arc after id-PACE) is not a PACEInfo.
        let domain_params = encode_constructed(
            0x30,
            &[
                encode(0x06, &h("04007F000702020402")),
                encode_constructed(0x30, &[encode(0x06, &h("04007F00070102020101"))]),
            ],
        );
        let bytes = set_of(&[
            h(PACE_INFO_G2),
            no_param.encode().unwrap(),
            domain_params.clone(),
            h(CA_PUBLIC_KEY_INFO),
        ]);
        let ca = CardAccess::parse(&bytes).unwrap();
        let oids: Vec<&str> = ca.infos.iter().map(SecurityInfo::oid).collect();
        assert_eq!(
            oids,
            [
                "0.4.0.127.0.7.2.2.4.1.2",
                "0.4.0.127.0.7.2.2.4.6.2",
                "0.4.0.127.0.7.2.2.4.2",
                "0.4.0.127.0.7.2.2.1.2",
            ]
        );
        assert_eq!(
            ca.infos[0].pace(),
            Some(&PaceInfo {
                protocol_oid: "0.4.0.127.0.7.2.2.4.1.2".into(),
                version: 2,
                parameter_id: Some(0),
            })
        );
        assert_eq!(ca.infos[1].pace(), Some(&no_param));
        assert_eq!(ca.infos[2].pace(), None);
        assert_eq!(ca.infos[2].raw(), &domain_params[..]);
        assert_eq!(ca.infos[3].raw(), &h(CA_PUBLIC_KEY_INFO)[..]);
        assert_eq!(ca.pace_infos().count(), 2);
    }

    #[test]
    fn empty_set_is_allowed() {
        assert!(CardAccess::parse(&[0x31, 0x00]).unwrap().infos.is_empty());
    }

    #[test]
    fn member_that_is_not_a_sequence() {
        let err = CardAccess::parse(&set_of(&[encode(0x04, &[1])])).unwrap_err();
        assert_eq!(
            err.kind,
            ParseErrorKind::UnexpectedTag {
                expected: 0x30,
                found: 0x04
            }
        );
        assert_eq!(err.offset, 2);
    }

    #[test]
    fn pace_info_field_errors() {
        let oid = encode(0x06, &h("04007F00070202040202"));
        let pace = |fields: &[Vec<u8>]| {
            let mut all = vec![oid.clone()];
            all.extend_from_slice(fields);
            CardAccess::parse(&set_of(&[encode_constructed(0x30, &all)])).unwrap_err()
        };
        // No version.
        assert!(matches!(pace(&[]).kind, ParseErrorKind::Truncated { .. }));
        // Version not an INTEGER.
        assert!(matches!(
            pace(&[encode(0x04, &[2])]).kind,
            ParseErrorKind::UnexpectedTag { expected: 0x02, .. }
        ));
        assert_eq!(invalid(&pace(&[encode(0x02, &[])])), "empty INTEGER");
        assert_eq!(invalid(&pace(&[encode(0x02, &[0xFF])])), "negative INTEGER");
        assert_eq!(
            invalid(&pace(&[encode(0x02, &[0x01, 0, 0, 0, 0])])),
            "INTEGER larger than 32 bits"
        );
        // A third field after parameterId.
        let err = pace(&[encode(0x02, &[2]), encode(0x02, &[13]), encode(0x02, &[1])]);
        assert_eq!(err.kind, ParseErrorKind::TrailingData(3));
    }

    #[test]
    fn leading_zero_integers_are_read() {
        let bytes = set_of(&[encode_constructed(
            0x30,
            &[
                encode(0x06, &h("04007F00070202040202")),
                encode(0x02, &[0x00, 0x00, 0x00, 0x00, 0x02]),
                encode(0x02, &[0x00, 0x80]),
            ],
        )]);
        let ca = CardAccess::parse(&bytes).unwrap();
        let info = ca.infos[0].pace().unwrap();
        assert_eq!((info.version, info.parameter_id), (2, Some(128)));
    }

    #[test]
    fn other_info_needs_required_data_and_at_most_optional_data() {
        let oid = encode(0x06, &h("04007F00070202030202"));
        let parse = |fields: &[Vec<u8>]| {
            let mut all = vec![oid.clone()];
            all.extend_from_slice(fields);
            CardAccess::parse(&set_of(&[encode_constructed(0x30, &all)]))
        };
        assert_eq!(
            parse(&[]).unwrap_err().kind,
            ParseErrorKind::Missing("SecurityInfo requiredData")
        );
        assert!(parse(&[encode(0x02, &[1])]).is_ok());
        assert!(parse(&[encode(0x02, &[1]), encode(0x02, &[7])]).is_ok());
        assert_eq!(
            parse(&[encode(0x02, &[1]), encode(0x02, &[7]), encode(0x05, &[])])
                .unwrap_err()
                .kind,
            ParseErrorKind::TrailingData(2)
        );
    }

    #[test]
    fn info_must_start_with_an_oid() {
        let bytes = set_of(&[encode_constructed(0x30, &[encode(0x02, &[2])])]);
        assert!(matches!(
            CardAccess::parse(&bytes).unwrap_err().kind,
            ParseErrorKind::UnexpectedTag { expected: 0x06, .. }
        ));
    }

    // --- OIDs (ISO/IEC 8825-1 §8.19) ----------------------------------------

    #[test]
    fn oid_decoding() {
        for (hex, dotted) in [
            ("04007F00070202040202", "0.4.0.127.0.7.2.2.4.2.2"),
            ("2A864886F70D010101", "1.2.840.113549.1.1.1"),
            ("2A8648CE3D0201", "1.2.840.10045.2.1"),
            ("2A8648CE3D030107", "1.2.840.10045.3.1.7"),
            ("678108010105", "2.23.136.1.1.5"),
            ("8837", "2.999"),
            ("00", "0.0"),
            ("27", "0.39"),
            ("28", "1.0"),
            ("4F", "1.39"),
            ("50", "2.0"),
        ] {
            assert_eq!(decode_oid(&h(hex)).unwrap(), dotted);
            assert_eq!(encode_oid(dotted).unwrap(), h(hex), "{dotted}");
        }
    }

    #[test]
    fn largest_arc_round_trips() {
        let dotted = format!("1.2.{}", u64::MAX);
        let bytes = encode_oid(&dotted).unwrap();
        assert_eq!(decode_oid(&bytes).unwrap(), dotted);
    }

    #[test]
    fn malformed_oids() {
        assert_eq!(invalid(&decode_oid(&[]).unwrap_err()), "empty OID");
        assert_eq!(
            invalid(&decode_oid(&[0x2A, 0x80, 0x01]).unwrap_err()),
            "OID subidentifier has a leading 80"
        );
        assert!(matches!(
            decode_oid(&[0x2A, 0x86]).unwrap_err().kind,
            ParseErrorKind::Truncated { .. }
        ));
        let mut huge = vec![0x2A];
        huge.extend([0xFF; 10]);
        huge.push(0x7F);
        assert_eq!(
            invalid(&decode_oid(&huge).unwrap_err()),
            "OID subidentifier larger than 64 bits"
        );
        assert_eq!(
            decode_oid(&[0x2A; 65]).unwrap_err().kind,
            ParseErrorKind::TooLong(65)
        );
    }

    #[test]
    fn invalid_dotted_oids_do_not_encode() {
        for bad in ["", "1", "3.1", "1.40", "0.40.1", "1.2.x", "1..2", "-1.2"] {
            assert_eq!(encode_oid(bad), None, "{bad}");
        }
    }

    // --- DG14 ---------------------------------------------------------------

    fn dg14_example() -> Vec<u8> {
        let ca_info = encode_constructed(
            0x30,
            &[encode(0x06, &h("04007F00070202030202")), encode(0x02, &[1])],
        );
        encode_constructed(
            0x6E,
            &[set_of(&[h(CA_PUBLIC_KEY_INFO), ca_info, h(PACE_INFO_G2)])],
        )
    }

    #[test]
    fn dg14_keeps_each_oid_and_raw_bytes() {
        let bytes = dg14_example();
        let dg14 = Dg14::parse(&bytes).unwrap();
        let oids: Vec<&str> = dg14.infos.iter().map(SecurityInfo::oid).collect();
        assert_eq!(
            oids,
            [
                "0.4.0.127.0.7.2.2.1.2",
                "0.4.0.127.0.7.2.2.3.2.2",
                "0.4.0.127.0.7.2.2.4.1.2"
            ]
        );
        assert_eq!(dg14.infos[0].raw(), &h(CA_PUBLIC_KEY_INFO)[..]);
        assert!(dg14.infos[2].pace().is_some());
    }

    #[test]
    fn dg14_framing() {
        check_framing(&dg14_example(), Dg14::parse);
    }

    #[test]
    fn dg14_inner_errors() {
        let err = Dg14::parse(&encode_constructed(0x6E, &[encode(0x30, &[])])).unwrap_err();
        assert!(matches!(
            err.kind,
            ParseErrorKind::UnexpectedTag { expected: 0x31, .. }
        ));
        let err =
            Dg14::parse(&encode_constructed(0x6E, &[set_of(&[]), encode(0x05, &[])])).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::TrailingData(2));
    }

    // --- DG15 ---------------------------------------------------------------

    fn spki(oid_hex: &str, params: Option<Vec<u8>>, key: &[u8]) -> Vec<u8> {
        let mut algorithm = vec![encode(0x06, &h(oid_hex))];
        algorithm.extend(params);
        let mut bits = vec![0x00];
        bits.extend_from_slice(key);
        encode_constructed(
            0x30,
            &[encode_constructed(0x30, &algorithm), encode(0x03, &bits)],
        )
    }

    #[test]
    fn dg15_rsa_and_ec_keys() {
        let rsa = spki(
            "2A864886F70D010101",
            Some(encode(0x05, &[])),
            &encode_constructed(
                0x30,
                &[encode(0x02, &[0x00, 0xC1, 0x01]), encode(0x02, &[1, 0, 1])],
            ),
        );
        let dg15 = Dg15::parse(&encode(0x6F, &rsa)).unwrap();
        assert_eq!(dg15.algorithm_oid, "1.2.840.113549.1.1.1");
        assert_eq!(dg15.subject_public_key_info, rsa);

        let mut point = vec![0x04];
        point.extend([0x11; 64]);
        let ec = spki(
            "2A8648CE3D0201",
            Some(encode(0x06, &h("2A8648CE3D030107"))),
            &point,
        );
        let dg15 = Dg15::parse(&encode(0x6F, &ec)).unwrap();
        assert_eq!(dg15.algorithm_oid, "1.2.840.10045.2.1");
        assert_eq!(dg15.subject_public_key_info, ec);

        let no_params = spki("2A8648CE3D0201", None, &point);
        assert!(Dg15::parse(&encode(0x6F, &no_params)).is_ok());
    }

    #[test]
    fn dg15_framing() {
        check_framing(
            &encode(0x6F, &spki("2A8648CE3D0201", None, &[0x04, 1, 2])),
            Dg15::parse,
        );
    }

    #[test]
    fn dg15_structure_errors() {
        let algorithm = encode_constructed(0x30, &[encode(0x06, &h("2A8648CE3D0201"))]);
        let wrap = |fields: &[Vec<u8>]| {
            Dg15::parse(&encode(0x6F, &encode_constructed(0x30, fields))).unwrap_err()
        };
        // No key.
        assert!(matches!(
            wrap(std::slice::from_ref(&algorithm)).kind,
            ParseErrorKind::Truncated { .. }
        ));
        // Key not a BIT STRING.
        assert!(matches!(
            wrap(&[algorithm.clone(), encode(0x04, &[0, 1])]).kind,
            ParseErrorKind::UnexpectedTag { expected: 0x03, .. }
        ));
        // Empty BIT STRING, or more than 7 unused bits.
        invalid(&wrap(&[algorithm.clone(), encode(0x03, &[])]));
        invalid(&wrap(&[algorithm.clone(), encode(0x03, &[8, 0])]));
        // Something after the key.
        let err = wrap(&[algorithm.clone(), encode(0x03, &[0, 1]), encode(0x05, &[])]);
        assert_eq!(err.kind, ParseErrorKind::TrailingData(2));
        // Algorithm without OID, or with two parameters.
        assert!(matches!(
            wrap(&[encode(0x30, &[]), encode(0x03, &[0, 1])]).kind,
            ParseErrorKind::Truncated { .. }
        ));
        let two_params = encode_constructed(
            0x30,
            &[
                encode(0x06, &h("2A8648CE3D0201")),
                encode(0x05, &[]),
                encode(0x05, &[]),
            ],
        );
        assert_eq!(
            wrap(&[two_params, encode(0x03, &[0, 1])]).kind,
            ParseErrorKind::TrailingData(2)
        );
        // Two SubjectPublicKeyInfos.
        let one = encode_constructed(0x30, &[algorithm, encode(0x03, &[0, 1])]);
        let err = Dg15::parse(&encode_constructed(0x6F, &[one.clone(), one])).unwrap_err();
        assert!(matches!(err.kind, ParseErrorKind::TrailingData(_)));
    }
}

// ---------------------------------------------------------------------------
// DG1
// ---------------------------------------------------------------------------

mod dg1 {
    use super::*;

    /// 9303-4 specimen (TD3).
    const TD3: [&str; 2] = [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ];
    /// 9303-5 specimen (TD1).
    const TD1: [&str; 3] = [
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ];
    /// 9303-6 specimen (TD2).
    const TD2: [&str; 2] = [
        "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
        "D231458907UTO7408122F1204159<<<<<<<6",
    ];

    fn dg1_bytes(mrz: &[u8]) -> Vec<u8> {
        encode_constructed(0x61, &[encode(0x5F1F, mrz)])
    }

    #[test]
    fn raw_mrz_text_is_split_by_length() {
        for lines in [&TD3[..], &TD1[..], &TD2[..]] {
            let bytes = dg1_bytes(lines.concat().as_bytes());
            let dg1 = Dg1::parse(&bytes).unwrap();
            assert_eq!(dg1.lines, lines);
            assert_eq!(dg1.text(), lines.join("\n"));
            assert_eq!(dg1.encode(), bytes);
        }
    }

    #[test]
    fn td3_mrz_parses() {
        let dg1 = Dg1::parse(&dg1_bytes(TD3.concat().as_bytes())).unwrap();
        let mrz = dg1.parse_mrz().unwrap();
        assert_eq!(mrz.format, crate::mrz::Format::Td3);
        assert_eq!(mrz.document_number, "L898902C3");
        assert_eq!(mrz.primary_identifier, "ERIKSSON");
        assert_eq!(mrz.birth_date, "740812");
    }

    #[test]
    fn td1_mrz_parses() {
        let dg1 = Dg1::parse(&dg1_bytes(TD1.concat().as_bytes())).unwrap();
        let mrz = dg1.parse_mrz().unwrap();
        assert_eq!(mrz.format, crate::mrz::Format::Td1);
        assert_eq!(mrz.document_number, "D23145890");
    }

    #[test]
    fn framing() {
        check_framing(&dg1_bytes(TD3.concat().as_bytes()), Dg1::parse);
    }

    #[test]
    fn other_lengths_are_invalid() {
        for len in [0, 1, 30, 44, 87, 89, 91, 132] {
            let err = Dg1::parse(&dg1_bytes(&vec![b'<'; len])).unwrap_err();
            assert_eq!(invalid(&err), "MRZ length is not 90, 72 or 88", "{len}");
        }
    }

    #[test]
    fn non_ascii_mrz_is_invalid() {
        let mut mrz = TD3.concat().into_bytes();
        mrz[10] = 0xC3;
        let err = Dg1::parse(&dg1_bytes(&mrz)).unwrap_err();
        assert_eq!(invalid(&err), "MRZ character is not printable ASCII");
        assert_eq!(err.offset, 5 + 10);
        mrz[10] = b'\n';
        invalid(&Dg1::parse(&dg1_bytes(&mrz)).unwrap_err());
    }

    #[test]
    fn missing_and_repeated_mrz() {
        let err = Dg1::parse(&encode_constructed(0x61, &[encode(0x5F1E, b"x")])).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::Missing("DG1 MRZ"));
        let mrz = encode(0x5F1F, TD3.concat().as_bytes());
        let err = Dg1::parse(&encode_constructed(0x61, &[mrz.clone(), mrz])).unwrap_err();
        assert_eq!(invalid(&err), "data object repeated");
    }

    #[test]
    fn real_layout_uses_long_form_length() {
        // 61 5B 5F1F 58 <88 bytes>: the 9303 layout of a TD3 DG1.
        let bytes = dg1_bytes(TD3.concat().as_bytes());
        assert_eq!(&bytes[..5], &[0x61, 0x5B, 0x5F, 0x1F, 0x58]);
        let bytes = dg1_bytes(TD1.concat().as_bytes());
        assert_eq!(&bytes[..5], &[0x61, 0x5D, 0x5F, 0x1F, 0x5A]);
    }
}

// ---------------------------------------------------------------------------
// DG2 (ISO/IEC 19794-5:2005)
// ---------------------------------------------------------------------------

mod dg2 {
    use super::super::dg2::encode_facial_record;
    use super::*;

    /// A tiny fake JPEG: SOI, an APP0/JFIF segment, EOI.
    fn fake_jpeg() -> Vec<u8> {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        jpeg.extend_from_slice(b"JFIF\0");
        jpeg.extend_from_slice(&[0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        jpeg
    }

    fn fake_j2k() -> Vec<u8> {
        vec![0xFF, 0x4F, 0xFF, 0x51, 0x00, 0x29, 0x00, 0x00, 0xFF, 0xD9]
    }

    fn fake_jp2() -> Vec<u8> {
        let mut jp2 = h("0000000C6A5020200D0A870A");
        jp2.extend_from_slice(&h("00000014667479706A703220"));
        jp2
    }

    fn face(format: ImageFormat, data: Vec<u8>) -> FaceImage {
        FaceImage {
            format,
            width: 480,
            height: 640,
            data,
        }
    }

    /// DG2 with `count` in `02` and the given facial records, one per template.
    fn dg2_with(count: u8, records: &[Vec<u8>]) -> Vec<u8> {
        let mut group = vec![encode(0x02, &[count])];
        for record in records {
            group.push(encode_constructed(
                0x7F60,
                &[
                    encode_constructed(0xA1, &[encode(0x81, &[0x02])]),
                    encode(0x5F2E, record),
                ],
            ));
        }
        encode_constructed(0x75, &[encode_constructed(0x7F61, &group)])
    }

    fn jpeg_record() -> Vec<u8> {
        encode_facial_record(&[face(ImageFormat::Jpeg, fake_jpeg())])
    }

    #[test]
    fn jpeg_face_comes_out_exactly() {
        let dg2 = Dg2 {
            faces: vec![face(ImageFormat::Jpeg, fake_jpeg())],
        };
        let bytes = dg2.encode();
        let parsed = Dg2::parse(&bytes).unwrap();
        assert_eq!(parsed, dg2);
        let first = parsed.face().unwrap();
        assert_eq!(first.format, ImageFormat::Jpeg);
        assert_eq!((first.width, first.height), (480, 640));
        assert_eq!(first.data, fake_jpeg());
    }

    #[test]
    fn jpeg2000_codestream_and_jp2_faces() {
        for data in [fake_j2k(), fake_jp2()] {
            let dg2 = Dg2 {
                faces: vec![face(ImageFormat::Jpeg2000, data)],
            };
            assert_eq!(Dg2::parse(&dg2.encode()).unwrap(), dg2);
        }
    }

    #[test]
    fn record_layout_matches_19794_5() {
        let record = jpeg_record();
        let jpeg = fake_jpeg();
        assert_eq!(&record[..8], b"FAC\x00010\x00");
        assert_eq!(record.len(), 14 + 20 + 12 + jpeg.len());
        assert_eq!(
            &record[8..12],
            &u32::try_from(record.len()).unwrap().to_be_bytes()
        );
        assert_eq!(&record[12..14], &[0, 1]);
        assert_eq!(
            &record[14..18],
            &u32::try_from(record.len() - 14).unwrap().to_be_bytes()
        );
        assert_eq!(record[35], 0, "image data type JPEG");
        assert_eq!(&record[36..40], &[0x01, 0xE0, 0x02, 0x80]);
        assert_eq!(&record[46..], &jpeg[..]);
    }

    #[test]
    fn jpeg2000_type_with_jpeg_bytes_is_a_mismatch() {
        let dg2 = Dg2 {
            faces: vec![face(ImageFormat::Jpeg2000, fake_jpeg())],
        };
        let err = Dg2::parse(&dg2.encode()).unwrap_err();
        assert_eq!(
            invalid(&err),
            "image bytes do not match the image data type"
        );
        let dg2 = Dg2 {
            faces: vec![face(ImageFormat::Jpeg, fake_j2k())],
        };
        invalid(&Dg2::parse(&dg2.encode()).unwrap_err());
        let dg2 = Dg2 {
            faces: vec![face(ImageFormat::Jpeg, b"GIF89a".to_vec())],
        };
        invalid(&Dg2::parse(&dg2.encode()).unwrap_err());
    }

    #[test]
    fn unknown_image_data_type() {
        let mut record = jpeg_record();
        record[35] = 2;
        let err = Dg2::parse(&dg2_with(1, &[record])).unwrap_err();
        assert_eq!(
            invalid(&err),
            "image data type is neither JPEG nor JPEG 2000"
        );
    }

    #[test]
    fn framing() {
        check_framing(&dg2_with(1, &[jpeg_record()]), Dg2::parse);
    }

    #[test]
    fn several_templates_and_images() {
        let two = encode_facial_record(&[
            face(ImageFormat::Jpeg, fake_jpeg()),
            face(ImageFormat::Jpeg2000, fake_j2k()),
        ]);
        let dg2 = Dg2::parse(&dg2_with(2, &[jpeg_record(), two])).unwrap();
        let formats: Vec<ImageFormat> = dg2.faces.iter().map(|f| f.format).collect();
        assert_eq!(
            formats,
            [ImageFormat::Jpeg, ImageFormat::Jpeg, ImageFormat::Jpeg2000]
        );
    }

    #[test]
    fn instance_count_must_match() {
        for (count, records) in [(2u8, 1usize), (1, 2), (0, 1)] {
            let err = Dg2::parse(&dg2_with(count, &vec![jpeg_record(); records])).unwrap_err();
            assert_eq!(invalid(&err), "instance count does not match the templates");
        }
    }

    #[test]
    fn no_template_at_all() {
        let err = Dg2::parse(&dg2_with(0, &[])).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::Missing("face image"));
    }

    #[test]
    fn enciphered_block_is_refused() {
        let bit = encode_constructed(0x7F60, &[encode(0xA1, &[]), encode(0x7F2E, &[0x01, 0x02])]);
        let bytes = encode_constructed(
            0x75,
            &[encode_constructed(0x7F61, &[encode(0x02, &[1]), bit])],
        );
        let err = Dg2::parse(&bytes).unwrap_err();
        assert_eq!(
            invalid(&err),
            "enciphered biometric data (7F2E) is not supported"
        );
    }

    #[test]
    fn template_structure_errors() {
        let record = encode(0x5F2E, &jpeg_record());
        let wrap_bit = |children: &[Vec<u8>]| {
            encode_constructed(
                0x75,
                &[encode_constructed(
                    0x7F61,
                    &[encode(0x02, &[1]), encode_constructed(0x7F60, children)],
                )],
            )
        };
        // No header template.
        assert!(matches!(
            Dg2::parse(&wrap_bit(std::slice::from_ref(&record)))
                .unwrap_err()
                .kind,
            ParseErrorKind::UnexpectedTag { expected: 0xA1, .. }
        ));
        // No data block.
        assert!(matches!(
            Dg2::parse(&wrap_bit(&[encode(0xA1, &[])]))
                .unwrap_err()
                .kind,
            ParseErrorKind::Truncated { .. }
        ));
        // Wrong data block tag.
        assert!(matches!(
            Dg2::parse(&wrap_bit(&[encode(0xA1, &[]), encode(0x5F2F, &[1])]))
                .unwrap_err()
                .kind,
            ParseErrorKind::UnexpectedTag {
                expected: 0x5F2E,
                found: 0x5F2F
            }
        ));
        // Malformed header template.
        assert!(Dg2::parse(&wrap_bit(&[encode(0xA1, &[0x80, 0x05]), record.clone()])).is_err());
        // Something after the data block.
        let err =
            Dg2::parse(&wrap_bit(&[encode(0xA1, &[]), record, encode(0x01, &[])])).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::TrailingData(2));
        // Something after the group template, or no group template.
        let inner = dg2_with(1, &[jpeg_record()]);
        let group = parse_single_value(&inner);
        let err = Dg2::parse(&encode_constructed(
            0x75,
            &[group.clone(), encode(0x01, &[])],
        ))
        .unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::TrailingData(2));
        assert!(matches!(
            Dg2::parse(&encode(0x75, &encode(0x02, &[1])))
                .unwrap_err()
                .kind,
            ParseErrorKind::UnexpectedTag {
                expected: 0x7F61,
                ..
            }
        ));
    }

    fn parse_single_value(dg2: &[u8]) -> Vec<u8> {
        tlv::parse_single(dg2, 0x75).unwrap().value.to_vec()
    }

    #[test]
    fn record_header_errors() {
        let mut bad_format = jpeg_record();
        bad_format[0] = b'F';
        bad_format[2] = b'X';
        assert_eq!(
            invalid(&Dg2::parse(&dg2_with(1, &[bad_format])).unwrap_err()),
            "not an ISO/IEC 19794-5 facial record"
        );
        let mut new_version = jpeg_record();
        new_version[4..8].copy_from_slice(b"030\0");
        invalid(&Dg2::parse(&dg2_with(1, &[new_version])).unwrap_err());
        let mut no_images = jpeg_record();
        no_images[12..14].copy_from_slice(&[0, 0]);
        no_images.truncate(14);
        no_images[8..12].copy_from_slice(&14u32.to_be_bytes());
        assert_eq!(
            Dg2::parse(&dg2_with(1, &[no_images])).unwrap_err().kind,
            ParseErrorKind::Missing("face image")
        );
    }

    #[test]
    fn record_length_must_match_the_data_block() {
        let record = jpeg_record();
        let len = record.len();
        for (stated, expected) in [
            (
                len + 1,
                ParseErrorKind::Truncated {
                    needed: len + 1,
                    available: len,
                },
            ),
            (len - 1, ParseErrorKind::TrailingData(1)),
            (
                0xFFFF_FFFF,
                ParseErrorKind::Truncated {
                    needed: 0xFFFF_FFFF,
                    available: len,
                },
            ),
        ] {
            let mut r = record.clone();
            r[8..12].copy_from_slice(&u32::try_from(stated).unwrap().to_be_bytes());
            assert_eq!(Dg2::parse(&dg2_with(1, &[r])).unwrap_err().kind, expected);
        }
    }

    #[test]
    fn image_block_length_errors() {
        let record = jpeg_record();
        let set_block_len = |n: u32| {
            let mut r = record.clone();
            r[14..18].copy_from_slice(&n.to_be_bytes());
            Dg2::parse(&dg2_with(1, &[r])).unwrap_err()
        };
        // Shorter than facial information plus image information.
        for n in [0, 3, 4, 31] {
            assert_eq!(
                invalid(&set_block_len(n)),
                "facial record data block too short"
            );
        }
        // Longer than the record.
        let len = u32::try_from(record.len()).unwrap();
        assert!(matches!(
            set_block_len(len).kind,
            ParseErrorKind::Truncated { .. }
        ));
        assert!(matches!(
            set_block_len(u32::MAX).kind,
            ParseErrorKind::Truncated { .. }
        ));
        // Shorter than the record leaves trailing bytes in the record.
        assert!(matches!(
            set_block_len(len - 14 - 1).kind,
            ParseErrorKind::TrailingData(1)
        ));
        // Exactly the headers: no image data.
        assert_eq!(
            set_block_len(32).kind,
            ParseErrorKind::Missing("image data")
        );
    }

    #[test]
    fn feature_points_are_skipped_and_bounded() {
        // One feature point: 8 more bytes before the image information.
        let mut record = jpeg_record();
        record[18..20].copy_from_slice(&[0, 1]);
        record.splice(34..34, [1, 0x11, 0, 10, 0, 20, 0, 0]);
        let len = u32::try_from(record.len()).unwrap();
        record[8..12].copy_from_slice(&len.to_be_bytes());
        record[14..18].copy_from_slice(&(len - 14).to_be_bytes());
        let dg2 = Dg2::parse(&dg2_with(1, &[record.clone()])).unwrap();
        assert_eq!(dg2.faces[0].data, fake_jpeg());
        // A feature point count that runs past the block.
        record[18..20].copy_from_slice(&[0xFF, 0xFF]);
        assert!(matches!(
            Dg2::parse(&dg2_with(1, &[record])).unwrap_err().kind,
            ParseErrorKind::Truncated { .. }
        ));
    }

    #[test]
    fn sniffing() {
        assert_eq!(ImageFormat::sniff(&fake_jpeg()), Some(ImageFormat::Jpeg));
        assert_eq!(ImageFormat::sniff(&fake_j2k()), Some(ImageFormat::Jpeg2000));
        assert_eq!(ImageFormat::sniff(&fake_jp2()), Some(ImageFormat::Jpeg2000));
        assert_eq!(ImageFormat::sniff(&[0xFF, 0xD8]), None);
        assert_eq!(ImageFormat::sniff(&[]), None);
    }

    #[test]
    fn debug_leaves_out_the_image() {
        let text = format!("{:?}", face(ImageFormat::Jpeg, fake_jpeg()));
        assert!(text.contains("data_len"), "{text}");
        assert!(!text.contains("255"), "{text}");
    }

    proptest! {
        #[test]
        fn round_trip(
            width in any::<u16>(),
            height in any::<u16>(),
            jpeg in any::<bool>(),
            body in prop::collection::vec(any::<u8>(), 0..400),
            faces in 1usize..4,
        ) {
            let (format, mut data) = if jpeg {
                (ImageFormat::Jpeg, vec![0xFF, 0xD8, 0xFF])
            } else {
                (ImageFormat::Jpeg2000, vec![0xFF, 0x4F, 0xFF, 0x51])
            };
            data.extend(body);
            let dg2 = Dg2 { faces: vec![FaceImage { format, width, height, data }; faces] };
            prop_assert_eq!(Dg2::parse(&dg2.encode()).unwrap(), dg2);
        }
    }
}

// ---------------------------------------------------------------------------
// DG11, DG12
// ---------------------------------------------------------------------------

mod dg11 {
    use super::*;

    fn example() -> Vec<u8> {
        encode_constructed(
            0x6B,
            &[
                encode(
                    0x5C,
                    &h("5F0E5F2B5F115F425F105F125F135F145F155F165F175F18A0"),
                ),
                encode(0x5F0E, "NGUYỄN<<VĂN<AN".as_bytes()),
                encode_constructed(
                    0xA0,
                    &[
                        encode(0x02, &[2]),
                        encode(0x5F0F, b"NGUYEN<<VAN<AN"),
                        encode(0x5F0F, b"NGUYEN<<AN"),
                    ],
                ),
                encode(0x5F10, b"123456789"),
                encode(0x5F2B, b"19740812"),
                encode(0x5F11, b"HANOI<VIET<NAM"),
                encode(0x5F42, b"1<MAIN<STREET<HANOI"),
                encode(0x5F12, b"+84-24-0000"),
                encode(0x5F13, b"ENGINEER"),
                encode(0x5F14, b"DR"),
                encode(0x5F15, b"SUMMARY"),
                encode(0x5F16, &[0xFF, 0xD8, 0xFF, 0x00, 0xFF, 0xD9]),
                encode(0x5F17, b"B1234567<C7654321"),
                encode(0x5F18, b"CUSTODY"),
            ],
        )
    }

    #[test]
    fn every_element() {
        let dg11 = Dg11::parse(&example()).unwrap();
        assert_eq!(dg11.tag_list.len(), 13);
        assert_eq!(dg11.tag_list[0], 0x5F0E);
        assert_eq!(dg11.tag_list[12], 0xA0);
        assert_eq!(dg11.full_name.as_deref(), Some("NGUYỄN<<VĂN<AN"));
        assert_eq!(dg11.other_names, ["NGUYEN<<VAN<AN", "NGUYEN<<AN"]);
        assert_eq!(dg11.personal_number.as_deref(), Some("123456789"));
        assert_eq!(dg11.full_date_of_birth.as_deref(), Some("19740812"));
        assert_eq!(dg11.place_of_birth.as_deref(), Some("HANOI<VIET<NAM"));
        assert_eq!(dg11.address.as_deref(), Some("1<MAIN<STREET<HANOI"));
        assert_eq!(dg11.telephone.as_deref(), Some("+84-24-0000"));
        assert_eq!(dg11.profession.as_deref(), Some("ENGINEER"));
        assert_eq!(dg11.title.as_deref(), Some("DR"));
        assert_eq!(dg11.personal_summary.as_deref(), Some("SUMMARY"));
        assert_eq!(
            dg11.proof_of_citizenship.as_deref(),
            Some(&[0xFF, 0xD8, 0xFF, 0x00, 0xFF, 0xD9][..])
        );
        assert_eq!(
            dg11.other_valid_td_numbers.as_deref(),
            Some("B1234567<C7654321")
        );
        assert_eq!(dg11.custody_information.as_deref(), Some("CUSTODY"));
    }

    #[test]
    fn framing() {
        check_framing(&example(), Dg11::parse);
    }

    #[test]
    fn only_the_tag_list_is_mandatory() {
        let dg11 = Dg11::parse(&encode_constructed(0x6B, &[encode(0x5C, &[])])).unwrap();
        assert_eq!(dg11, Dg11::default());
        let err = Dg11::parse(&encode_constructed(0x6B, &[encode(0x5F0E, b"A<<B")])).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::Missing("DG11 tag list"));
    }

    #[test]
    fn bcd_date_of_birth() {
        let dg = |date: &[u8]| {
            Dg11::parse(&encode_constructed(
                0x6B,
                &[encode(0x5C, &[0x5F, 0x2B]), encode(0x5F2B, date)],
            ))
        };
        assert_eq!(
            dg(&[0x19, 0x74, 0x08, 0x12])
                .unwrap()
                .full_date_of_birth
                .as_deref(),
            Some("19740812")
        );
        assert_eq!(
            dg(b"1974").unwrap().full_date_of_birth.as_deref(),
            Some("1974"),
            "4 ASCII digits stay text"
        );
        assert_eq!(
            invalid(&dg(&[0x19, 0x7A, 0x08, 0x12]).unwrap_err()),
            "date is neither digits nor BCD"
        );
    }

    #[test]
    fn invalid_utf8_is_an_error_with_its_offset() {
        let bytes = encode_constructed(
            0x6B,
            &[encode(0x5C, &[]), encode(0x5F0E, &[b'A', b'<', 0xC3, 0x28])],
        );
        let err = Dg11::parse(&bytes).unwrap_err();
        assert_eq!(invalid(&err), "text is not UTF-8");
        assert_eq!(err.offset, 2 + 2 + 3 + 2);
        assert_eq!(err.what, "DG11 full name");
    }

    #[test]
    fn repeated_elements_and_bad_counts() {
        let name = encode(0x5F0E, b"A<<B");
        let err = Dg11::parse(&encode_constructed(
            0x6B,
            &[encode(0x5C, &[]), name.clone(), name],
        ))
        .unwrap_err();
        assert_eq!(invalid(&err), "data object repeated");

        let names = |count: u8, n: usize| {
            let mut items = vec![encode(0x02, &[count])];
            items.extend(std::iter::repeat_n(encode(0x5F0F, b"X"), n));
            Dg11::parse(&encode_constructed(
                0x6B,
                &[encode(0x5C, &[]), encode_constructed(0xA0, &items)],
            ))
        };
        assert_eq!(names(3, 3).unwrap().other_names.len(), 3);
        assert_eq!(
            invalid(&names(2, 3).unwrap_err()),
            "count does not match the items"
        );
        invalid(&names(3, 2).unwrap_err());
        let wrong_item = Dg11::parse(&encode_constructed(
            0x6B,
            &[
                encode(0x5C, &[]),
                encode_constructed(0xA0, &[encode(0x02, &[1]), encode(0x5F0E, b"X")]),
            ],
        ));
        assert!(matches!(
            wrong_item.unwrap_err().kind,
            ParseErrorKind::UnexpectedTag {
                expected: 0x5F0F,
                found: 0x5F0E
            }
        ));
    }

    #[test]
    fn loose_other_names_and_unknown_elements() {
        let dg11 = Dg11::parse(&encode_constructed(
            0x6B,
            &[
                encode(0x5C, &[0x5F, 0x0F]),
                encode(0x5F0F, b"ONE"),
                encode(0x5F7E, b"unknown"),
                encode(0x5F0F, b"TWO"),
            ],
        ))
        .unwrap();
        assert_eq!(dg11.other_names, ["ONE", "TWO"]);
    }
}

mod dg12 {
    use super::*;

    fn example() -> Vec<u8> {
        encode_constructed(
            0x6C,
            &[
                encode(0x5C, &h("5F195F26A05F1B5F1C5F1D5F1E5F555F56")),
                encode(0x5F19, b"IMMIGRATION DEPARTMENT"),
                encode(0x5F26, b"20120415"),
                encode_constructed(0xA0, &[encode(0x02, &[1]), encode(0x5F1A, b"DOE<<JANE")]),
                encode(0x5F1B, b"NONE"),
                encode(0x5F1C, b"EXIT OK"),
                encode(0x5F1D, &[0xFF, 0xD8, 0xFF, 0x01]),
                encode(0x5F1E, &[0xFF, 0xD8, 0xFF, 0x02]),
                encode(0x5F55, &[0x20, 0x12, 0x04, 0x15, 0x12, 0x30, 0x00]),
                encode(0x5F56, b"SN-0001"),
            ],
        )
    }

    #[test]
    fn every_element() {
        let dg12 = Dg12::parse(&example()).unwrap();
        assert_eq!(
            dg12.tag_list,
            [
                0x5F19, 0x5F26, 0xA0, 0x5F1B, 0x5F1C, 0x5F1D, 0x5F1E, 0x5F55, 0x5F56
            ]
        );
        assert_eq!(
            dg12.issuing_authority.as_deref(),
            Some("IMMIGRATION DEPARTMENT")
        );
        assert_eq!(dg12.date_of_issue.as_deref(), Some("20120415"));
        assert_eq!(dg12.other_persons, ["DOE<<JANE"]);
        assert_eq!(dg12.endorsements.as_deref(), Some("NONE"));
        assert_eq!(dg12.tax_or_exit_requirements.as_deref(), Some("EXIT OK"));
        assert_eq!(
            dg12.image_of_front.as_deref(),
            Some(&[0xFF, 0xD8, 0xFF, 0x01][..])
        );
        assert_eq!(
            dg12.image_of_rear.as_deref(),
            Some(&[0xFF, 0xD8, 0xFF, 0x02][..])
        );
        assert_eq!(dg12.personalisation_time.as_deref(), Some("20120415123000"));
        assert_eq!(
            dg12.personalisation_device_serial.as_deref(),
            Some("SN-0001")
        );
    }

    #[test]
    fn framing() {
        check_framing(&example(), Dg12::parse);
    }

    #[test]
    fn text_dates_and_missing_tag_list() {
        let dg12 = Dg12::parse(&encode_constructed(
            0x6C,
            &[
                encode(0x5C, &[]),
                encode(0x5F26, &[0x20, 0x12, 0x04, 0x15]),
                encode(0x5F55, b"20120415123000"),
            ],
        ))
        .unwrap();
        assert_eq!(dg12.date_of_issue.as_deref(), Some("20120415"));
        assert_eq!(dg12.personalisation_time.as_deref(), Some("20120415123000"));
        let err = Dg12::parse(&encode_constructed(0x6C, &[encode(0x5F19, b"X")])).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::Missing("DG12 tag list"));
    }

    #[test]
    fn errors() {
        let err = Dg12::parse(&encode_constructed(
            0x6C,
            &[encode(0x5C, &[]), encode(0x5F19, &[0xFF])],
        ))
        .unwrap_err();
        assert_eq!(invalid(&err), "text is not UTF-8");
        let front = encode(0x5F1D, &[1]);
        let err = Dg12::parse(&encode_constructed(
            0x6C,
            &[encode(0x5C, &[]), front.clone(), front],
        ))
        .unwrap_err();
        assert_eq!(invalid(&err), "data object repeated");
        let err = Dg12::parse(&encode_constructed(
            0x6C,
            &[
                encode(0x5C, &[]),
                encode_constructed(0xA0, &[encode(0x02, &[])]),
            ],
        ))
        .unwrap_err();
        assert_eq!(invalid(&err), "count is not 1 to 4 bytes");
    }
}

// ---------------------------------------------------------------------------
// EF.SOD and parse_file
// ---------------------------------------------------------------------------

mod sod {
    use super::*;

    fn example() -> Vec<u8> {
        // 77 { ContentInfo SEQUENCE { OID signedData, [0] { ... } } }
        encode(
            0x77,
            &encode_constructed(
                0x30,
                &[
                    encode(0x06, &h("2A864886F70D010702")),
                    encode(0xA0, &[0x30, 0x00]),
                ],
            ),
        )
    }

    #[test]
    fn keeps_the_content_info() {
        let bytes = example();
        let sod = Sod::parse(&bytes).unwrap();
        assert_eq!(sod.content_info, &bytes[2..]);
        assert_eq!(sod.encode(), bytes);
        assert!(!format!("{sod:?}").contains("42"));
    }

    #[test]
    fn framing() {
        check_framing(&example(), Sod::parse);
    }
}

mod parse_file {
    use super::*;

    #[test]
    fn dispatches_by_file() {
        let com = h("60145F0104303130365F36063034303030305C026175");
        assert!(matches!(parse_file(FileId::Com, &com), Ok(LdsFile::Com(_))));
        assert!(parse_file(DataGroup::Dg1, &com).is_err());

        let card_access = h("31143012060A04007F0007020204020202010202010D");
        assert!(matches!(
            parse_file(FileId::CardAccess, &card_access),
            Ok(LdsFile::CardAccess(_))
        ));

        let dg2 = Dg2 {
            faces: vec![FaceImage {
                format: ImageFormat::Jpeg,
                width: 1,
                height: 1,
                data: vec![0xFF, 0xD8, 0xFF, 0xD9],
            }],
        }
        .encode();
        assert!(matches!(
            parse_file(DataGroup::Dg2, &dg2),
            Ok(LdsFile::Dg2(_))
        ));
        assert!(matches!(
            parse_file(FileId::Sod, &encode(0x77, &[0x30, 0x00])),
            Ok(LdsFile::Sod(_))
        ));
    }

    #[test]
    fn files_without_a_parser_are_checked_and_kept() {
        let dg7 = encode_constructed(0x67, &[encode(0x02, &[1]), encode(0x5F43, &[0xFF, 0xD8])]);
        assert_eq!(
            parse_file(DataGroup::Dg7, &dg7).unwrap(),
            LdsFile::Unparsed {
                file: FileId::Dg(DataGroup::Dg7),
                raw: dg7.clone()
            }
        );
        let err = parse_file(DataGroup::Dg3, &dg7).unwrap_err();
        assert_eq!(
            err,
            ParseError::new(
                "DG3",
                0,
                ParseErrorKind::UnexpectedTag {
                    expected: 0x63,
                    found: 0x67
                }
            )
        );
        let security = encode(0x30, &[0x06, 0x01, 0x2A]);
        assert!(matches!(
            parse_file(FileId::CardSecurity, &security),
            Ok(LdsFile::Unparsed { .. })
        ));
        let mut trailing = security.clone();
        trailing.push(0);
        assert_eq!(
            parse_file(FileId::CardSecurity, &trailing)
                .unwrap_err()
                .kind,
            ParseErrorKind::TrailingData(1)
        );
    }
}

// ---------------------------------------------------------------------------
// Property tests: no parser panics, on noise or on damaged valid files
// ---------------------------------------------------------------------------

mod robustness {
    use super::*;

    fn all_files() -> Vec<FileId> {
        let mut files = vec![
            FileId::Com,
            FileId::Sod,
            FileId::CardAccess,
            FileId::CardSecurity,
        ];
        files.extend(DataGroup::ALL.map(FileId::Dg));
        files
    }

    /// One valid example of every file with a parser.
    fn valid_files() -> Vec<(FileId, Vec<u8>)> {
        let jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0xFF, 0xD9];
        let mrz = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10";
        vec![
            (
                FileId::Com,
                h("60145F0104303130365F36063034303030305C026175"),
            ),
            (
                FileId::CardAccess,
                h("31143012060A04007F0007020204020202010202010D"),
            ),
            (
                DataGroup::Dg1.into(),
                encode_constructed(0x61, &[encode(0x5F1F, mrz.as_bytes())]),
            ),
            (
                DataGroup::Dg2.into(),
                Dg2 {
                    faces: vec![FaceImage {
                        format: ImageFormat::Jpeg,
                        width: 2,
                        height: 3,
                        data: jpeg,
                    }],
                }
                .encode(),
            ),
            (
                DataGroup::Dg11.into(),
                encode_constructed(
                    0x6B,
                    &[
                        encode(0x5C, &[0x5F, 0x0E, 0xA0]),
                        encode(0x5F0E, b"A<<B"),
                        encode_constructed(0xA0, &[encode(0x02, &[1]), encode(0x5F0F, b"C")]),
                        encode(0x5F2B, &[0x19, 0x74, 0x08, 0x12]),
                    ],
                ),
            ),
            (
                DataGroup::Dg12.into(),
                encode_constructed(
                    0x6C,
                    &[encode(0x5C, &[0x5F, 0x19]), encode(0x5F19, b"AUTHORITY")],
                ),
            ),
            (
                DataGroup::Dg14.into(),
                encode(0x6E, &h("31143012060A04007F0007020204020202010202010D")),
            ),
            (
                DataGroup::Dg15.into(),
                encode(0x6F, &h("3013300906072A8648CE3D020103060004010203AB")),
            ),
            (FileId::Sod, encode(0x77, &[0x30, 0x03, 0x02, 0x01, 0x03])),
        ]
    }

    #[test]
    fn examples_are_valid() {
        for (file, bytes) in valid_files() {
            parse_file(file, &bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        }
    }

    proptest! {
        #[test]
        fn no_parser_panics_on_noise(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            for file in all_files() {
                let _ = parse_file(file, &bytes);
            }
            let _ = decode_oid(&bytes);
        }

        #[test]
        fn no_parser_panics_on_noise_behind_a_valid_header(
            tag in prop::sample::select(vec![0x60u8, 0x61, 0x75, 0x6B, 0x6C, 0x6E, 0x6F, 0x77, 0x31]),
            body in prop::collection::vec(any::<u8>(), 0..300),
        ) {
            let bytes = encode(u32::from(tag), &body);
            for file in all_files() {
                let _ = parse_file(file, &bytes);
            }
        }

        #[test]
        fn no_parser_panics_on_damaged_files(
            which in any::<prop::sample::Index>(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6),
        ) {
            let files = valid_files();
            let (file, mut bytes) = which.get(&files).clone();
            for (at, byte, op) in edits {
                if bytes.is_empty() {
                    break;
                }
                let i = at.index(bytes.len());
                match op {
                    0 => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    2 => { bytes.remove(i); }
                    _ => bytes.truncate(i),
                }
            }
            let _ = parse_file(file, &bytes);
        }

        #[test]
        fn com_round_trip(
            dgs in prop::collection::vec(any::<prop::sample::Index>(), 0..16),
            lds in 0u32..10_000,
            unicode in 0u32..1_000_000,
        ) {
            let com = Com {
                lds_version: format!("{lds:04}"),
                unicode_version: format!("{unicode:06}"),
                data_groups: dgs.iter().map(|i| *i.get(&DataGroup::ALL)).collect(),
                unknown_tags: vec![],
            };
            prop_assert_eq!(Com::parse(&com.encode()).unwrap(), com);
        }

        #[test]
        fn dg1_round_trip(
            kind in 0usize..3,
            chars in prop::collection::vec(prop::sample::select(b"ABCXYZ0189<".to_vec()), 90),
        ) {
            let (lines, len) = [(3, 30), (2, 36), (2, 44)][kind];
            let text: String = chars.iter().take(lines * len).map(|&b| char::from(b)).collect();
            let dg1 = Dg1 {
                lines: (0..lines).map(|i| text[i * len..(i + 1) * len].to_string()).collect(),
            };
            prop_assert_eq!(Dg1::parse(&dg1.encode()).unwrap(), dg1);
        }

        #[test]
        fn oid_round_trip(
            first in 0u64..3,
            second in 0u64..40,
            rest in prop::collection::vec(any::<u64>(), 0..6),
        ) {
            let mut arcs = vec![first.to_string(), second.to_string()];
            arcs.extend(rest.iter().map(u64::to_string));
            let dotted = arcs.join(".");
            let bytes = encode_oid(&dotted).unwrap();
            prop_assert_eq!(decode_oid(&bytes).unwrap(), dotted);
        }

        #[test]
        fn pace_info_round_trip(
            mapping in prop::sample::select(vec![1u64, 2, 3, 4, 6]),
            cipher in 1u64..5,
            version in any::<u32>(),
            parameter_id in prop::option::of(any::<u32>()),
        ) {
            let info = PaceInfo {
                protocol_oid: format!("0.4.0.127.0.7.2.2.4.{mapping}.{cipher}"),
                version,
                parameter_id,
            };
            let set = encode(0x31, &info.encode().unwrap());
            let ca = CardAccess::parse(&set).unwrap();
            prop_assert_eq!(ca.infos[0].pace(), Some(&info));
        }
    }
}
