//! Tests for the MRZ parser: 9303 specimens, generated documents, every
//! check-digit failure, malformed input, repair, and property tests.

use super::*;
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Specimens (9303-4 Appendix, 9303-5, 9303-6, 9303-7) and a builder
// ---------------------------------------------------------------------------

const TD3_SPECIMEN: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n\
                            L898902C36UTO7408122F1204159ZE184226B<<<<<10";
const TD1_SPECIMEN: &str = "I<UTOD231458907<<<<<<<<<<<<<<<\n\
                            7408122F1204159UTO<<<<<<<<<<<6\n\
                            ERIKSSON<<ANNA<MARIA<<<<<<<<<<";
const TD1_LONG_SPECIMEN: &str = "I<UTOD23145890<7349<<<<<<<<<<<\n\
                                 3407127M9507122UTO<<<<<<<<<<<2\n\
                                 STEVENSON<<PETER<JOHN<<<<<<<<<";
const TD2_SPECIMEN: &str = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n\
                            D231458907UTO7408122F1204159<<<<<<<6";
const MRVA_SPECIMEN: &str = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n\
                             L8988901C4XXX4009078F96121096ZE184226B<<<<<<";
const MRVB_SPECIMEN: &str = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n\
                             L8988901C4XXX4009078F9612109<<<<<<<<";

/// Check digit of a string, as a char.
fn cd(s: &str) -> char {
    char::from(check_digit(s.as_bytes()).unwrap())
}

/// Pads with fillers (or truncates) to `n` characters.
fn pad(s: &str, n: usize) -> String {
    let mut s = s.to_owned();
    while s.len() < n {
        s.push('<');
    }
    s.truncate(n);
    s
}

/// The fields a test MRZ is built from.
#[derive(Debug, Clone)]
struct Doc {
    code: String,
    state: String,
    primary: String,
    secondary: String,
    number: String,
    nationality: String,
    birth: String,
    sex: char,
    expiry: String,
    optional: String,
    optional2: String,
}

impl Doc {
    fn new(code: &str, state: &str, number: &str) -> Self {
        Doc {
            code: code.into(),
            state: state.into(),
            primary: "NGUYEN".into(),
            secondary: "VAN AN".into(),
            number: number.into(),
            nationality: state.into(),
            birth: "850315".into(),
            sex: 'M',
            expiry: "310101".into(),
            optional: String::new(),
            optional2: String::new(),
        }
    }

    fn name(&self, n: usize) -> String {
        let name = format!(
            "{}<<{}",
            self.primary.replace(' ', "<"),
            self.secondary.replace(' ', "<")
        );
        pad(&name, n)
    }

    /// Document number field and check digit (10 characters) plus the start of the
    /// optional data: the overflow, its check digit and a filler for long numbers.
    fn number_and_optional(&self) -> (String, String) {
        if self.number.len() > 9 {
            let head = &self.number[..9];
            let tail = &self.number[9..];
            (
                format!("{head}<"),
                format!("{tail}{}<{}", cd(&self.number), self.optional),
            )
        } else {
            let n = pad(&self.number, 9);
            (format!("{n}{}", cd(&n)), self.optional.clone())
        }
    }

    fn dates(&self) -> (String, String) {
        (
            format!("{}{}", self.birth, cd(&self.birth)),
            format!("{}{}", self.expiry, cd(&self.expiry)),
        )
    }

    fn td3(&self) -> String {
        let l1 = format!(
            "{}{}{}",
            pad(&self.code, 2),
            pad(&self.state, 3),
            self.name(39)
        );
        let n = pad(&self.number, 9);
        let (birth, expiry) = self.dates();
        let opt = pad(&self.optional, 14);
        let opt_cd = if self.optional.is_empty() {
            '<'
        } else {
            cd(&opt)
        };
        let number = format!("{n}{}", cd(&n));
        let composite = cd(&format!("{number}{birth}{expiry}{opt}{opt_cd}"));
        let nat = pad(&self.nationality, 3);
        let sex = self.sex;
        format!("{l1}\n{number}{nat}{birth}{sex}{expiry}{opt}{opt_cd}{composite}")
    }

    fn td1(&self) -> String {
        let (number, opt) = self.number_and_optional();
        let l1 = format!(
            "{}{}{number}{}",
            pad(&self.code, 2),
            pad(&self.state, 3),
            pad(&opt, 15)
        );
        let (birth, expiry) = self.dates();
        let nat = pad(&self.nationality, 3);
        let opt2 = pad(&self.optional2, 11);
        let composite = cd(&format!("{}{birth}{expiry}{opt2}", &l1[5..]));
        let sex = self.sex;
        format!(
            "{l1}\n{birth}{sex}{expiry}{nat}{opt2}{composite}\n{}",
            self.name(30)
        )
    }

    fn td2(&self) -> String {
        let l1 = format!(
            "{}{}{}",
            pad(&self.code, 2),
            pad(&self.state, 3),
            self.name(31)
        );
        let (number, opt) = self.number_and_optional();
        let opt = pad(&opt, 7);
        let (birth, expiry) = self.dates();
        let composite = cd(&format!("{number}{birth}{expiry}{opt}"));
        let nat = pad(&self.nationality, 3);
        let sex = self.sex;
        format!("{l1}\n{number}{nat}{birth}{sex}{expiry}{opt}{composite}")
    }

    fn mrv(&self, width: usize) -> String {
        let l1 = format!(
            "{}{}{}",
            pad(&self.code, 2),
            pad(&self.state, 3),
            self.name(width - 5)
        );
        let n = pad(&self.number, 9);
        let (birth, expiry) = self.dates();
        let nat = pad(&self.nationality, 3);
        let opt = pad(&self.optional, width - 28);
        let sex = self.sex;
        format!("{l1}\n{n}{}{nat}{birth}{sex}{expiry}{opt}", cd(&n))
    }

    /// Asserts that `mrz` holds exactly these fields.
    fn assert_parsed(&self, mrz: &Mrz, format: Format) {
        assert_eq!(mrz.format, format);
        assert_eq!(mrz.document_type, self.code.trim_end_matches('<'));
        assert_eq!(mrz.issuing_state, self.state);
        assert_eq!(mrz.primary_identifier, self.primary);
        assert_eq!(mrz.secondary_identifier, self.secondary);
        assert_eq!(mrz.document_number, self.number);
        assert_eq!(mrz.nationality, self.nationality);
        assert_eq!(mrz.birth_date, self.birth);
        assert_eq!(mrz.sex, self.sex);
        assert_eq!(mrz.expiry_date, self.expiry);
        assert_eq!(mrz.optional_data, self.optional);
        let opt2 = (format == Format::Td1).then(|| self.optional2.clone());
        assert_eq!(mrz.optional_data_2, opt2);
        assert!(mrz.repairs.is_empty());
    }
}

/// Replaces the character at `line`, `column` (both from 1).
fn set_char(mrz: &str, line: usize, column: usize, c: char) -> String {
    mrz.lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line {
                l.chars()
                    .enumerate()
                    .map(|(j, x)| if j + 1 == column { c } else { x })
                    .collect()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<String>>()
        .join("\n")
}

/// The character at `line`, `column` (both from 1).
fn char_at(mrz: &str, line: usize, column: usize) -> char {
    mrz.lines()
        .nth(line - 1)
        .unwrap()
        .chars()
        .nth(column - 1)
        .unwrap()
}

/// Flips the check digit at `line`, `column` and asserts the named error.
fn assert_check_digit_failure(mrz: &str, line: usize, column: usize, field: Field) {
    let expected = char_at(mrz, line, column);
    let found = char::from(b'0' + (expected as u8 - b'0' + 1) % 10);
    let bad = set_char(mrz, line, column, found);
    assert_eq!(
        parse(&bad, Mode::Strict),
        Err(MrzError::CheckDigit {
            field,
            expected,
            found
        }),
        "{bad}"
    );
}

fn strict(text: &str) -> Mrz {
    parse(text, Mode::Strict).unwrap_or_else(|e| panic!("{e}: {text}"))
}

// ---------------------------------------------------------------------------
// Check digits and specimens
// ---------------------------------------------------------------------------

#[test]
fn check_digit_examples() {
    // 9303-3 §4.9 worked example: 520727 has check digit 3.
    assert_eq!(check_digit(b"520727"), Some(b'3'));
    assert_eq!(check_digit(b"L898902C3"), Some(b'6'));
    assert_eq!(check_digit(b"<<<<<"), Some(b'0'));
    assert_eq!(check_digit(b""), Some(b'0'));
    // A=10, B=11, <=0, 1: 70 + 33 + 0 + 7 = 110.
    assert_eq!(check_digit(b"AB<1"), Some(b'0'));
    assert_eq!(check_digit(b"abc"), None);
    assert_eq!(check_digit(b"12 3"), None);
    // Long input cannot overflow.
    assert!(check_digit(&[b'Z'; 100_000]).is_some());
}

#[test]
fn specimens_check_digits_verified_independently() {
    // TD3: number, birth, expiry, personal number, composite.
    assert_eq!(cd("L898902C3"), '6');
    assert_eq!(cd("740812"), '2');
    assert_eq!(cd("120415"), '9');
    assert_eq!(cd("ZE184226B<<<<<"), '1');
    assert_eq!(cd("L898902C3674081221204159ZE184226B<<<<<1"), '0');
    // TD1.
    assert_eq!(cd("D23145890"), '7');
    let f = |n: usize| "<".repeat(n);
    assert_eq!(
        cd(&format!("D231458907{}74081221204159{}", f(15), f(11))),
        '6'
    );
    // TD1 with a long number: D23145890734, check digit 9.
    assert_eq!(cd("D23145890734"), '9');
    assert_eq!(cd("340712"), '7');
    assert_eq!(cd("950712"), '2');
    assert_eq!(
        cd(&format!("D23145890<7349{}34071279507122{}", f(11), f(11))),
        '2'
    );
    // TD2.
    assert_eq!(cd(&format!("D23145890774081221204159{}", f(7))), '6');
    // MRV-A and MRV-B (no composite).
    assert_eq!(cd("L8988901C"), '4');
    assert_eq!(cd("400907"), '8');
    assert_eq!(cd("961210"), '9');
}

#[test]
fn parses_td3_specimen() {
    let mrz = strict(TD3_SPECIMEN);
    assert_eq!(mrz.format, Format::Td3);
    assert_eq!(mrz.document_type, "P");
    assert_eq!(mrz.issuing_state, "UTO");
    assert_eq!(mrz.primary_identifier, "ERIKSSON");
    assert_eq!(mrz.secondary_identifier, "ANNA MARIA");
    assert_eq!(mrz.document_number, "L898902C3");
    assert_eq!(mrz.nationality, "UTO");
    assert_eq!(mrz.birth_date, "740812");
    assert_eq!(mrz.sex, 'F');
    assert_eq!(mrz.expiry_date, "120415");
    assert_eq!(mrz.optional_data, "ZE184226B");
    assert_eq!(mrz.optional_data_2, None);
    assert!(mrz.warnings.is_empty());
    assert!(mrz.repairs.is_empty());
    assert!(!mrz.nationality_is_asean());
    assert_eq!(TD3_SPECIMEN.parse::<Mrz>(), Ok(mrz));
}

#[test]
fn parses_td1_specimen() {
    let mrz = strict(TD1_SPECIMEN);
    assert_eq!(mrz.format, Format::Td1);
    assert_eq!(mrz.document_type, "I");
    assert_eq!(mrz.issuing_state, "UTO");
    assert_eq!(mrz.document_number, "D23145890");
    assert_eq!(mrz.birth_date, "740812");
    assert_eq!(mrz.sex, 'F');
    assert_eq!(mrz.expiry_date, "120415");
    assert_eq!(mrz.nationality, "UTO");
    assert_eq!(mrz.optional_data, "");
    assert_eq!(mrz.optional_data_2.as_deref(), Some(""));
    assert_eq!(mrz.primary_identifier, "ERIKSSON");
    assert_eq!(mrz.secondary_identifier, "ANNA MARIA");
    assert!(mrz.warnings.is_empty());
}

#[test]
fn parses_td1_long_document_number_specimen() {
    let mrz = strict(TD1_LONG_SPECIMEN);
    assert_eq!(mrz.document_number, "D23145890734");
    assert_eq!(mrz.optional_data, "");
    assert_eq!(mrz.birth_date, "340712");
    assert_eq!(mrz.sex, 'M');
    assert_eq!(mrz.expiry_date, "950712");
    assert_eq!(mrz.primary_identifier, "STEVENSON");
    assert_eq!(mrz.secondary_identifier, "PETER JOHN");
}

#[test]
fn parses_td2_specimen() {
    let mrz = strict(TD2_SPECIMEN);
    assert_eq!(mrz.format, Format::Td2);
    assert_eq!(mrz.document_type, "I");
    assert_eq!(mrz.document_number, "D23145890");
    assert_eq!(mrz.nationality, "UTO");
    assert_eq!(mrz.birth_date, "740812");
    assert_eq!(mrz.expiry_date, "120415");
    assert_eq!(mrz.optional_data, "");
    assert_eq!(mrz.primary_identifier, "ERIKSSON");
    assert_eq!(mrz.secondary_identifier, "ANNA MARIA");
}

#[test]
fn parses_mrv_a_specimen() {
    let mrz = strict(MRVA_SPECIMEN);
    assert_eq!(mrz.format, Format::MrvA);
    assert!(mrz.format.is_visa());
    assert_eq!(mrz.document_type, "V");
    assert_eq!(mrz.document_number, "L8988901C");
    assert_eq!(mrz.nationality, "XXX");
    assert_eq!(code_kind(&mrz.nationality), CodeKind::Unspecified);
    assert_eq!(mrz.birth_date, "400907");
    assert_eq!(mrz.expiry_date, "961210");
    assert_eq!(mrz.optional_data, "6ZE184226B");
}

#[test]
fn parses_mrv_b_specimen() {
    let mrz = strict(MRVB_SPECIMEN);
    assert_eq!(mrz.format, Format::MrvB);
    assert_eq!(mrz.document_number, "L8988901C");
    assert_eq!(mrz.birth_date, "400907");
    assert_eq!(mrz.sex, 'F');
    assert_eq!(mrz.expiry_date, "961210");
    assert_eq!(mrz.optional_data, "");
    assert_eq!(mrz.primary_identifier, "ERIKSSON");
}

#[test]
fn format_shapes() {
    for (f, lines, width) in [
        (Format::Td1, 3, 30),
        (Format::Td2, 2, 36),
        (Format::Td3, 2, 44),
        (Format::MrvA, 2, 44),
        (Format::MrvB, 2, 36),
    ] {
        assert_eq!((f.lines(), f.line_length()), (lines, width));
    }
    assert_eq!(Format::MrvA.to_string(), "MRV-A");
}

// ---------------------------------------------------------------------------
// Generated documents: ASEAN, unknown dates, sex X, long numbers, Germany
// ---------------------------------------------------------------------------

#[test]
fn asean_passports_round_trip() {
    for state in [
        "THA", "VNM", "TLS", "SGP", "MYS", "IDN", "PHL", "BRN", "KHM", "LAO", "MMR",
    ] {
        let mut doc = Doc::new("P", state, "AB1234567");
        doc.optional = "123456789012".into();
        let mrz = strict(&doc.td3());
        doc.assert_parsed(&mrz, Format::Td3);
        assert!(mrz.nationality_is_asean(), "{state}");
        assert!(mrz.issuing_state_is_asean(), "{state}");
    }
}

#[test]
fn every_format_round_trips() {
    let mut doc = Doc::new("ID", "PHL", "X12345");
    doc.optional = "AB12".into();
    doc.optional2 = "OPT2".into();
    doc.assert_parsed(&strict(&doc.td1()), Format::Td1);
    doc.optional2.clear();
    doc.assert_parsed(&strict(&doc.td2()), Format::Td2);
    doc.code = "V".into();
    doc.assert_parsed(&strict(&doc.mrv(44)), Format::MrvA);
    doc.assert_parsed(&strict(&doc.mrv(36)), Format::MrvB);
    doc.code = "PM".into();
    doc.assert_parsed(&strict(&doc.td3()), Format::Td3);
}

#[test]
fn unknown_birth_day_and_month() {
    for birth in ["6408<<", "64<<<<", "64<<15", "<<<<<<"] {
        let mut doc = Doc::new("P", "VNM", "C1234567");
        doc.birth = birth.into();
        let mrz = strict(&doc.td3());
        assert_eq!(mrz.birth_date, birth);
        doc.assert_parsed(&mrz, Format::Td3);
    }
}

#[test]
fn sex_x_and_unspecified() {
    for sex in ['X', '<', 'F'] {
        let mut doc = Doc::new("I", "THA", "1234567890123");
        doc.sex = sex;
        assert_eq!(strict(&doc.td1()).sex, sex);
    }
}

#[test]
fn td1_long_document_number_with_optional_data() {
    let mut doc = Doc::new("ID", "BEL", "591234567890");
    doc.optional = "42".into();
    let text = doc.td1();
    assert!(text.starts_with("IDBEL591234567<890"), "{text}");
    let mrz = strict(&text);
    assert_eq!(mrz.document_number, "591234567890");
    assert_eq!(mrz.optional_data, "42");
    doc.assert_parsed(&mrz, Format::Td1);
}

#[test]
fn td2_long_document_number() {
    let mut doc = Doc::new("I", "TLS", "AB12345678");
    let text = doc.td2();
    let mrz = strict(&text);
    assert_eq!(mrz.document_number, "AB12345678");
    assert_eq!(mrz.optional_data, "");
    assert!(mrz.nationality_is_asean());
    doc.assert_parsed(&mrz, Format::Td2);
    doc.number = "AB1234567890".into(); // 3 overflow + check digit + filler = 5 of 7
    doc.assert_parsed(&strict(&doc.td2()), Format::Td2);
}

#[test]
fn long_document_number_check_digit_failure() {
    // The check digit of the full number sits after the overflow (column 19 in the specimen).
    assert_check_digit_failure(TD1_LONG_SPECIMEN, 1, 19, Field::DocumentNumber);
    let doc = Doc::new("I", "TLS", "AB12345678");
    // TD2: overflow "8" at column 29, its check digit at column 30.
    assert_check_digit_failure(&doc.td2(), 2, 30, Field::DocumentNumber);
}

#[test]
fn malformed_overflow_is_an_error() {
    // `<` in the check digit position but the optional data starts with a filler.
    let text = TD1_SPECIMEN.replacen("D231458907", "D23145890<", 1);
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::DocumentNumberOverflow)
    );
    // Only one character (no overflow, just a check digit).
    let text = TD1_SPECIMEN.replacen("D231458907<", "D23145890<7", 1);
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::DocumentNumberOverflow)
    );
    // A short number cannot overflow.
    let text = TD1_LONG_SPECIMEN.replacen("D23145890<", "D2314589<<", 1);
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::DocumentNumberOverflow)
    );
}

#[test]
fn germany_single_letter_code() {
    let mut doc = Doc::new("P", "D", "C01X00T47");
    doc.primary = "MUSTERMANN".into();
    doc.secondary = "ERIKA".into();
    let text = doc.td3();
    assert!(text.starts_with("P<D<<MUSTERMANN"));
    let mrz = strict(&text);
    assert_eq!(mrz.issuing_state, "D");
    assert_eq!(mrz.nationality, "D");
    assert_eq!(code_kind(&mrz.nationality), CodeKind::Germany);
    assert!(mrz.warnings.is_empty(), "{:?}", mrz.warnings);
    doc.assert_parsed(&mrz, Format::Td3);
}

#[test]
fn short_unknown_code_is_accepted_with_warning() {
    let mut doc = Doc::new("P", "AB", "C01X00T47");
    doc.nationality = "UTO".into();
    let mrz = strict(&doc.td3());
    assert_eq!(mrz.issuing_state, "AB");
    assert_eq!(mrz.warnings.len(), 1, "{:?}", mrz.warnings);
}

#[test]
fn code_kinds() {
    assert!(is_asean("THA"));
    assert!(is_asean("TLS"));
    assert!(is_asean("TMP"));
    assert!(is_asean("VNM<"));
    assert!(!is_asean("UTO"));
    assert!(!is_asean("tha"));
    assert_eq!(code_kind("D<<"), CodeKind::Germany);
    assert_eq!(code_kind("UNO"), CodeKind::UnitedNations);
    assert_eq!(code_kind("UNA"), CodeKind::UnitedNations);
    assert_eq!(code_kind("UNK"), CodeKind::UnitedNations);
    assert_eq!(code_kind("XXA"), CodeKind::Stateless);
    assert_eq!(code_kind("XXB"), CodeKind::Refugee);
    assert_eq!(code_kind("XXC"), CodeKind::Refugee);
    assert_eq!(code_kind("XXX"), CodeKind::Unspecified);
    assert_eq!(code_kind("EUE"), CodeKind::EuropeanUnion);
    assert_eq!(code_kind("XPO"), CodeKind::Interpol);
    assert_eq!(code_kind("FRA"), CodeKind::Other);
    assert_eq!(code_kind("<<<"), CodeKind::Invalid);
    assert_eq!(code_kind("U1O"), CodeKind::Invalid);
    assert_eq!(code_kind("ABCD"), CodeKind::Invalid);
    assert_eq!(code_kind(""), CodeKind::Invalid);
    assert_eq!(ASEAN_CODES.len(), 12);
}

#[test]
fn personal_number_check_digit_filler_or_zero_when_empty() {
    let doc = Doc::new("P", "SGP", "K0000000A");
    let text = doc.td3();
    assert_eq!(char_at(&text, 2, 43), '<');
    assert_eq!(strict(&text).optional_data, "");
    // `0` is the computed check digit of an all-filler field; `<` and `0` both count 0
    // in the composite, so it still holds.
    let zero = set_char(&text, 2, 43, '0');
    assert_eq!(strict(&zero).optional_data, "");
    // `<` is not allowed once there is a personal number.
    let mut doc = doc;
    doc.optional = "S1234567D".into();
    let text = set_char(&doc.td3(), 2, 43, '<');
    assert!(matches!(
        parse(&text, Mode::Strict),
        Err(MrzError::CheckDigit {
            field: Field::PersonalNumber,
            found: '<',
            ..
        })
    ));
}

#[test]
fn name_forms() {
    let mut doc = Doc::new("P", "MYS", "A12345678");
    doc.primary = "BIN ABDULLAH".into();
    doc.secondary = "MUHAMMAD".into();
    let mrz = strict(&doc.td3());
    assert_eq!(mrz.primary_identifier, "BIN ABDULLAH");
    assert_eq!(mrz.secondary_identifier, "MUHAMMAD");
    // A single name is all primary identifier.
    doc.primary = "SUHARTO".into();
    doc.secondary = String::new();
    let mrz = strict(&doc.td3());
    assert_eq!(mrz.primary_identifier, "SUHARTO");
    assert_eq!(mrz.secondary_identifier, "");
    // A name that fills the field may be truncated: accepted with a warning.
    doc.primary = "A".repeat(20);
    doc.secondary = "B".repeat(30);
    let mrz = strict(&doc.td3());
    assert_eq!(mrz.secondary_identifier, "B".repeat(17));
    assert_eq!(mrz.warnings.len(), 1, "{:?}", mrz.warnings);
}

// ---------------------------------------------------------------------------
// One check-digit failure per field per format
// ---------------------------------------------------------------------------

#[test]
fn td3_check_digit_failures() {
    let t = TD3_SPECIMEN;
    assert_check_digit_failure(t, 2, 10, Field::DocumentNumber);
    assert_check_digit_failure(t, 2, 20, Field::BirthDate);
    assert_check_digit_failure(t, 2, 28, Field::ExpiryDate);
    assert_check_digit_failure(t, 2, 43, Field::PersonalNumber);
    assert_check_digit_failure(t, 2, 44, Field::Composite);
}

#[test]
fn td1_check_digit_failures() {
    let t = TD1_SPECIMEN;
    assert_check_digit_failure(t, 1, 15, Field::DocumentNumber);
    assert_check_digit_failure(t, 2, 7, Field::BirthDate);
    assert_check_digit_failure(t, 2, 15, Field::ExpiryDate);
    assert_check_digit_failure(t, 2, 30, Field::Composite);
}

#[test]
fn td2_check_digit_failures() {
    let t = TD2_SPECIMEN;
    assert_check_digit_failure(t, 2, 10, Field::DocumentNumber);
    assert_check_digit_failure(t, 2, 20, Field::BirthDate);
    assert_check_digit_failure(t, 2, 28, Field::ExpiryDate);
    assert_check_digit_failure(t, 2, 36, Field::Composite);
}

#[test]
fn mrv_a_check_digit_failures() {
    let t = MRVA_SPECIMEN;
    assert_check_digit_failure(t, 2, 10, Field::DocumentNumber);
    assert_check_digit_failure(t, 2, 20, Field::BirthDate);
    assert_check_digit_failure(t, 2, 28, Field::ExpiryDate);
    // Position 29 is optional data, not a check digit: changing it is accepted.
    assert!(parse(&set_char(t, 2, 29, '7'), Mode::Strict).is_ok());
}

#[test]
fn mrv_b_check_digit_failures() {
    let t = MRVB_SPECIMEN;
    assert_check_digit_failure(t, 2, 10, Field::DocumentNumber);
    assert_check_digit_failure(t, 2, 20, Field::BirthDate);
    assert_check_digit_failure(t, 2, 28, Field::ExpiryDate);
}

#[test]
fn data_change_without_check_digit_change_is_caught() {
    // A changed birth date is caught by its own check digit.
    let bad = set_char(TD3_SPECIMEN, 2, 15, '5');
    assert!(matches!(
        parse(&bad, Mode::Strict),
        Err(MrzError::CheckDigit {
            field: Field::BirthDate,
            ..
        })
    ));
    // Changed TD1 optional data (only under the composite) is caught by the composite.
    // (Not `A`: it counts 10, which no weight can tell from `<`.)
    let bad = set_char(TD1_SPECIMEN, 2, 20, 'C');
    assert!(matches!(
        parse(&bad, Mode::Strict),
        Err(MrzError::CheckDigit {
            field: Field::Composite,
            ..
        })
    ));
}

#[test]
fn check_digit_error_display() {
    let e = MrzError::CheckDigit {
        field: Field::DocumentNumber,
        expected: '3',
        found: '4',
    };
    assert_eq!(
        e.to_string(),
        "document number check digit is 4, expected 3"
    );
    let e = crate::Error::from(e);
    assert!(e.to_string().contains("document number check digit"));
}

// ---------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------

#[test]
fn empty_input() {
    assert_eq!(parse("", Mode::Strict), Err(MrzError::Empty));
    assert_eq!(parse(" \n\r\n\t ", Mode::Repair), Err(MrzError::Empty));
}

#[test]
fn whitespace_and_crlf_tolerated() {
    let messy = format!(
        "\n\n  {}  \r\n{}   \r\n\n",
        TD3_SPECIMEN.lines().next().unwrap(),
        TD3_SPECIMEN.lines().nth(1).unwrap()
    );
    assert_eq!(strict(&messy), strict(TD3_SPECIMEN));
}

#[test]
fn line_count_errors() {
    let first = TD3_SPECIMEN.lines().next().unwrap();
    assert_eq!(
        parse(first, Mode::Strict),
        Err(MrzError::LineCount {
            found: 1,
            expected: 2
        })
    );
    let extra = format!("{TD3_SPECIMEN}\n{first}");
    assert_eq!(
        parse(&extra, Mode::Strict),
        Err(MrzError::LineCount {
            found: 3,
            expected: 2
        })
    );
    let four = format!("{TD1_SPECIMEN}\nERIKSSON<<ANNA<MARIA<<<<<<<<<<");
    assert_eq!(
        parse(&four, Mode::Strict),
        Err(MrzError::LineCount {
            found: 4,
            expected: 3
        })
    );
    // A TD1 missing its name line.
    let two: Vec<&str> = TD1_SPECIMEN.lines().take(2).collect();
    assert_eq!(
        parse(&two.join("\n"), Mode::Strict),
        Err(MrzError::LineCount {
            found: 2,
            expected: 3
        })
    );
}

#[test]
fn line_length_errors() {
    // Truncated second line.
    let truncated = &TD3_SPECIMEN[..TD3_SPECIMEN.len() - 1];
    assert_eq!(
        parse(truncated, Mode::Strict),
        Err(MrzError::LineLength {
            line: 2,
            expected: 44,
            found: 43
        })
    );
    // Truncated first line: the second gives the width.
    let lines: Vec<&str> = TD2_SPECIMEN.lines().collect();
    let text = format!("{}\n{}", &lines[0][..30], lines[1]);
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::LineLength {
            line: 1,
            expected: 36,
            found: 30
        })
    );
    // A TD1 line too long.
    let text = TD1_SPECIMEN.replacen("ERIKSSON<<", "ERIKSSON<<<", 1);
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::LineLength {
            line: 3,
            expected: 30,
            found: 31
        })
    );
    // Two lines of 40: neither 36 nor 44.
    let text = format!("{}\n{}", "P".repeat(40), "1".repeat(40));
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::LineLength {
            line: 1,
            expected: 44,
            found: 40
        })
    );
}

#[test]
fn lowercase_is_an_error() {
    let text = TD3_SPECIMEN.replacen("ERIKSSON", "Eriksson", 1);
    assert_eq!(
        parse(&text, Mode::Repair),
        Err(MrzError::Lowercase {
            line: 1,
            column: 7,
            found: 'r'
        })
    );
}

#[test]
fn invalid_characters() {
    let text = TD3_SPECIMEN.replacen("ANNA", "ANNÉ", 1);
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::InvalidCharacter {
            line: 1,
            column: 19,
            found: 'É'
        })
    );
    let text = TD3_SPECIMEN.replacen("L898902C3", "L898 02C3", 1);
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::InvalidCharacter {
            line: 2,
            column: 5,
            found: ' '
        })
    );
    assert!(matches!(
        parse("P<UTO\u{0}\n", Mode::Strict),
        Err(MrzError::InvalidCharacter { .. })
    ));
    assert!(matches!(
        parse("日本国\n旅券", Mode::Strict),
        Err(MrzError::InvalidCharacter {
            line: 1,
            column: 1,
            ..
        })
    ));
}

#[test]
fn unknown_document_codes() {
    let text = TD3_SPECIMEN.replacen("P<", "I<", 1);
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::UnknownDocumentCode {
            code: "I<".into(),
            layout: "2x44"
        })
    );
    let text = TD1_SPECIMEN.replacen("I<", "P<", 1);
    assert!(matches!(
        parse(&text, Mode::Strict),
        Err(MrzError::UnknownDocumentCode { layout: "3x30", .. })
    ));
    let text = TD2_SPECIMEN.replacen("I<", "X<", 1);
    assert!(matches!(
        parse(&text, Mode::Strict),
        Err(MrzError::UnknownDocumentCode { layout: "2x36", .. })
    ));
}

#[test]
fn invalid_codes() {
    let text = TD3_SPECIMEN.replacen("P<UTO", "P<U1O", 1);
    assert_eq!(
        parse(&text, Mode::Repair),
        Err(MrzError::InvalidCode {
            field: Field::IssuingState,
            code: "U1O".into()
        })
    );
    let text = TD3_SPECIMEN.replacen("C36UTO", "C36<<<", 1);
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::InvalidCode {
            field: Field::Nationality,
            code: "<<<".into()
        })
    );
    let text = TD3_SPECIMEN.replacen("C36UTO", "C36U<O", 1);
    assert!(matches!(
        parse(&text, Mode::Strict),
        Err(MrzError::InvalidCode {
            field: Field::Nationality,
            ..
        })
    ));
}

#[test]
fn invalid_names() {
    let text = TD3_SPECIMEN.replacen("ERIKSSON", "ERIK5SON", 1);
    assert_eq!(
        parse(&text, Mode::Repair),
        Err(MrzError::InvalidName {
            line: 1,
            column: 10,
            found: '5'
        })
    );
    let text = TD1_SPECIMEN.replacen("ERIKSSON<<ANNA<MARIA", &"<".repeat(20), 1);
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::MissingField { field: Field::Name })
    );
}

#[test]
fn empty_document_number() {
    let doc = Doc::new("P", "THA", "");
    assert_eq!(
        parse(&doc.td3(), Mode::Strict),
        Err(MrzError::MissingField {
            field: Field::DocumentNumber
        })
    );
}

#[test]
fn invalid_sex() {
    let text = set_char(TD3_SPECIMEN, 2, 21, 'Q');
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::InvalidSex { found: 'Q' })
    );
    assert_eq!(
        MrzError::InvalidSex { found: 'Q' }.to_string(),
        "sex is 'Q', expected F, M, X or <"
    );
}

#[test]
fn invalid_dates() {
    let cases = [
        ("851315", Field::BirthDate, DateFault::Month),
        ("850015", Field::BirthDate, DateFault::Month),
        ("850132", Field::BirthDate, DateFault::Day),
        ("850230", Field::BirthDate, DateFault::Day),
        ("850431", Field::BirthDate, DateFault::Day),
        ("850400", Field::BirthDate, DateFault::Day),
        ("8504<1", Field::BirthDate, DateFault::NotDigits),
        ("8A0401", Field::BirthDate, DateFault::NotDigits),
    ];
    for (value, field, fault) in cases {
        let mut doc = Doc::new("P", "KHM", "N0123456");
        doc.birth = value.into();
        assert_eq!(
            parse(&doc.td3(), Mode::Strict),
            Err(MrzError::InvalidDate {
                field,
                value: value.into(),
                fault
            }),
            "{value}"
        );
    }
    for (value, fault) in [
        ("31<<<<", DateFault::Unknown),
        ("3112<1", DateFault::Unknown),
        ("311301", DateFault::Month),
        ("3101O1", DateFault::NotDigits),
    ] {
        let mut doc = Doc::new("P", "KHM", "N0123456");
        doc.expiry = value.into();
        assert_eq!(
            parse(&doc.td3(), Mode::Strict),
            Err(MrzError::InvalidDate {
                field: Field::ExpiryDate,
                value: value.into(),
                fault
            }),
            "{value}"
        );
    }
    // 29 February is always possible (the century is not known).
    let mut doc = Doc::new("P", "KHM", "N0123456");
    doc.birth = "010229".into();
    assert!(parse(&doc.td3(), Mode::Strict).is_ok());
}

// ---------------------------------------------------------------------------
// Repair
// ---------------------------------------------------------------------------

#[test]
fn repair_fixes_o_in_birth_date() {
    let text = set_char(TD3_SPECIMEN, 2, 16, 'O');
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::InvalidDate {
            field: Field::BirthDate,
            value: "74O812".into(),
            fault: DateFault::NotDigits
        })
    );
    let mrz = parse(&text, Mode::Repair).unwrap();
    assert_eq!(mrz.birth_date, "740812");
    assert_eq!(
        mrz.repairs,
        vec![Repair {
            field: Field::BirthDate,
            line: 2,
            column: 16,
            from: 'O',
            to: '0'
        }]
    );
    assert!(mrz.is_repaired());
    assert_eq!(
        mrz.warnings,
        vec!["repaired birth date: line 2 column 16 read as 'O', taken as '0'".to_owned()]
    );
    // Everything else is as in the clean specimen.
    let clean = strict(TD3_SPECIMEN);
    assert_eq!(
        Mrz {
            warnings: vec![],
            repairs: vec![],
            ..mrz
        },
        clean
    );
}

#[test]
fn repair_refused_when_check_digit_does_not_validate() {
    // O in the birth date and a wrong birth check digit: mapping O to 0 does not validate.
    let text = set_char(&set_char(TD3_SPECIMEN, 2, 16, 'O'), 2, 20, '3');
    let strict_error = parse(&text, Mode::Strict).unwrap_err();
    assert_eq!(parse(&text, Mode::Repair), Err(strict_error));
    // A letter that is not an OCR confusion is never repaired.
    let text = set_char(TD3_SPECIMEN, 2, 16, 'Q');
    assert_eq!(parse(&text, Mode::Repair), parse(&text, Mode::Strict));
}

#[test]
fn repair_fixes_several_dates_and_check_digits() {
    // TD1: I for 1 and S for 5 in the expiry date 120415.
    let text = set_char(&set_char(TD1_SPECIMEN, 2, 9, 'I'), 2, 14, 'S');
    assert!(parse(&text, Mode::Strict).is_err());
    let mrz = parse(&text, Mode::Repair).unwrap();
    assert_eq!(mrz.expiry_date, "120415");
    assert_eq!(mrz.repairs.len(), 2);
    assert!(mrz.repairs.iter().all(|r| r.field == Field::ExpiryDate));
    // A check digit read as a letter: composite 0 read as O.
    let text = set_char(TD3_SPECIMEN, 2, 44, 'O');
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::CheckDigit {
            field: Field::Composite,
            expected: '0',
            found: 'O'
        })
    );
    let mrz = parse(&text, Mode::Repair).unwrap();
    assert_eq!(
        mrz.repairs,
        vec![Repair {
            field: Field::Composite,
            line: 2,
            column: 44,
            from: 'O',
            to: '0'
        }]
    );
}

#[test]
fn repair_check_digit_of_document_number() {
    // Build a document whose number check digit is 0, then read it as O.
    let doc = (0..1000)
        .map(|i| Doc::new("P", "IDN", &format!("X{i:07}")))
        .find(|d| cd(&pad(&d.number, 9)) == '0')
        .unwrap();
    let text = set_char(&doc.td3(), 2, 10, 'O');
    assert!(matches!(
        parse(&text, Mode::Strict),
        Err(MrzError::CheckDigit {
            field: Field::DocumentNumber,
            found: 'O',
            ..
        })
    ));
    let mrz = parse(&text, Mode::Repair).unwrap();
    assert_eq!(mrz.document_number, doc.number);
    assert_eq!(mrz.repairs.len(), 1);
    assert_eq!(mrz.repairs[0].column, 10);
}

/// How many one-or-more-character swaps of `value` have check digit `digit`.
fn validating_swaps(value: &str, digit: char) -> usize {
    let bytes = value.as_bytes();
    let positions: Vec<usize> = (0..bytes.len())
        .filter(|&i| confusion(bytes[i]).is_some())
        .collect();
    (1u32..1 << positions.len())
        .filter(|mask| {
            let mut v = bytes.to_vec();
            for (bit, &i) in positions.iter().enumerate() {
                if mask & (1 << bit) != 0 {
                    v[i] = confusion(v[i]).unwrap();
                }
            }
            check_digit(&v) == Some(digit as u8)
        })
        .count()
}

#[test]
fn repair_unique_document_number() {
    // Find a number with one OCR error whose repair is the only validating candidate.
    let (doc, column, misread) = (0..10_000)
        .flat_map(|i| {
            let number = format!("K{i:04}ACDE");
            (2..=5).map(move |col| (number.clone(), col))
        })
        .find_map(|(number, col)| {
            let misread = confusion(number.as_bytes()[col - 1]).filter(u8::is_ascii_uppercase)?;
            let mut read = number.clone().into_bytes();
            read[col - 1] = misread;
            let read = String::from_utf8(read).unwrap();
            (validating_swaps(&read, cd(&number)) == 1)
                .then(|| (Doc::new("P", "LAO", &number), col, char::from(misread)))
        })
        .unwrap();
    let text = set_char(&doc.td3(), 2, column, misread);
    assert!(parse(&text, Mode::Strict).is_err());
    let mrz = parse(&text, Mode::Repair).unwrap();
    assert_eq!(mrz.document_number, doc.number);
    assert_eq!(mrz.repairs.len(), 1);
    assert_eq!(mrz.repairs[0].field, Field::DocumentNumber);
    assert_eq!(mrz.repairs[0].from, misread);
}

#[test]
fn repair_ambiguous_document_number_refused() {
    // Digits 0,1,2,5,8 are all confusable: many swaps validate for some check digit.
    let number = "B0125S8ZO";
    let (digit, count) = ('0'..='9')
        .filter(|&d| d != cd(number))
        .map(|d| (d, validating_swaps(number, d)))
        .find(|&(_, n)| n >= 2)
        .unwrap();
    let doc = Doc::new("P", "MMR", number);
    let text = set_char(&doc.td3(), 2, 10, digit);
    assert_eq!(
        parse(&text, Mode::Strict),
        Err(MrzError::CheckDigit {
            field: Field::DocumentNumber,
            expected: cd(number),
            found: digit
        })
    );
    assert_eq!(
        parse(&text, Mode::Repair),
        Err(MrzError::AmbiguousRepair {
            field: Field::DocumentNumber,
            candidates: count
        })
    );
}

#[test]
fn repair_needs_the_composite_to_hold() {
    // O in the birth date (repairable) and a wrong composite: refused.
    let text = set_char(&set_char(TD3_SPECIMEN, 2, 16, 'O'), 2, 44, '7');
    assert_eq!(
        parse(&text, Mode::Repair),
        Err(MrzError::CheckDigit {
            field: Field::Composite,
            expected: '0',
            found: '7'
        })
    );
}

#[test]
fn repair_does_not_touch_unprotected_fields() {
    // 0 for O in the nationality is not repaired (no check digit protects it).
    let text = TD3_SPECIMEN.replacen("C36UTO", "C36UT0", 1);
    assert_eq!(parse(&text, Mode::Repair), parse(&text, Mode::Strict));
    // Nor in TD1 optional data, which only the composite covers.
    let text = TD1_SPECIMEN.replacen("UTO<<<<<<<<<<<6", "UTO<<<<<O<<<<<6", 1);
    assert!(matches!(
        parse(&text, Mode::Repair),
        Err(MrzError::CheckDigit {
            field: Field::Composite,
            ..
        })
    ));
}

#[test]
fn repair_in_td1_long_number() {
    // One confusable character (in the overflow): its repair is the only candidate.
    let doc = Doc::new("ID", "BRN", "ACDEFGHJKLM0");
    let text = doc.td1();
    assert_eq!(char_at(&text, 1, 18), '0');
    let text = set_char(&text, 1, 18, 'O');
    assert!(matches!(
        parse(&text, Mode::Strict),
        Err(MrzError::CheckDigit {
            field: Field::DocumentNumber,
            ..
        })
    ));
    let mrz = parse(&text, Mode::Repair).unwrap();
    assert_eq!(mrz.document_number, "ACDEFGHJKLM0");
    assert_eq!(
        mrz.repairs,
        vec![Repair {
            field: Field::DocumentNumber,
            line: 1,
            column: 18,
            from: 'O',
            to: '0'
        }]
    );
    // S for 5 in the specimen's long number: D23145890734, DZ3145B90734 and
    // D23I45B90734 all validate, so the repair is refused.
    let text = TD1_LONG_SPECIMEN.replacen("D23145890<", "D2314S890<", 1);
    assert_eq!(
        parse(&text, Mode::Repair),
        Err(MrzError::AmbiguousRepair {
            field: Field::DocumentNumber,
            candidates: 3
        })
    );
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

const SPECIMENS: [&str; 6] = [
    TD3_SPECIMEN,
    TD1_SPECIMEN,
    TD1_LONG_SPECIMEN,
    TD2_SPECIMEN,
    MRVA_SPECIMEN,
    MRVB_SPECIMEN,
];

/// An edit to apply to MRZ text.
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, char),
    Insert(usize, char),
    Delete(usize),
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    let c = prop_oneof![
        8 => proptest::sample::select(
            "0123456789OIBSZ<ACDEFGHJKLMNPQRTUVWXY".chars().collect::<Vec<_>>()
        ),
        1 => proptest::sample::select(vec!['\n', '\r', ' ', 'a', 'é', '日', '\u{0}']),
    ];
    prop_oneof![
        6 => (any::<usize>(), c.clone()).prop_map(|(i, c)| Edit::Replace(i, c)),
        1 => (any::<usize>(), c).prop_map(|(i, c)| Edit::Insert(i, c)),
        1 => any::<usize>().prop_map(Edit::Delete),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        let n = chars.len().max(1);
        match *edit {
            Edit::Replace(i, c) if !chars.is_empty() => chars[i % n] = c,
            Edit::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
            Edit::Delete(i) if !chars.is_empty() => {
                chars.remove(i % n);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// Applies the repairs of a parse to the text it came from.
fn apply_repairs(text: &str, repairs: &[Repair]) -> String {
    repairs
        .iter()
        .fold(text.to_owned(), |t, r| set_char(&t, r.line, r.column, r.to))
}

fn date_strategy() -> impl Strategy<Value = String> {
    (0u32..100, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| format!("{y:02}{m:02}{d:02}"))
}

prop_compose! {
    fn doc_strategy()(
        code in "[A-Z]?",
        state in proptest::sample::select(vec!["THA", "VNM", "TLS", "D", "UTO", "XXA", "SGP"]),
        nationality in proptest::sample::select(vec!["MYS", "PHL", "D", "XXX", "KHM", "TMP"]),
        primary in "[A-Z]{1,8}( [A-Z]{1,5})?",
        secondary in "([A-Z]{1,6}( [A-Z]{1,5})?)?",
        number in "[A-Z0-9]{1,14}",
        birth in date_strategy(),
        sex in proptest::sample::select(vec!['F', 'M', 'X', '<']),
        expiry in date_strategy(),
        optional in "([A-Z0-9]{1,5})?",
        optional2 in "([A-Z0-9]{1,11})?",
    ) -> Doc {
        // `code` is the second character of the document code; the first is set per format.
        // Names fit the shortest name field (30), and fields do not end in a filler,
        // so the round trip is exact.
        Doc {
            code, state: state.into(), primary, secondary, number,
            nationality: nationality.into(), birth, sex, expiry, optional, optional2,
        }
    }
}

/// Sets the first character of the document code and cuts the number to `max` characters.
fn variant(doc: &Doc, kind: char, max: usize, optional2: bool) -> Doc {
    let mut d = doc.clone();
    d.code = format!("{kind}{}", doc.code);
    d.number.truncate(max);
    if !optional2 {
        d.optional2.clear();
    }
    d
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = parse(&text, Mode::Strict);
        let _ = parse(&text, Mode::Repair);
    }

    #[test]
    fn never_panics_on_mrz_like_text(text in "[A-Z0-9<OIBSZ\n ]{0,140}") {
        let _ = parse(&text, Mode::Strict);
        let _ = parse(&text, Mode::Repair);
    }

    #[test]
    fn mutations_of_valid_mrzs(
        which in 0..SPECIMENS.len(),
        edits in proptest::collection::vec(edit_strategy(), 1..5),
    ) {
        let text = apply(SPECIMENS[which], &edits);
        let strict_result = parse(&text, Mode::Strict);
        let repaired = parse(&text, Mode::Repair);
        match (&strict_result, &repaired) {
            // Strict success means repair mode has nothing to do.
            (Ok(s), Ok(r)) => prop_assert_eq!(s, r),
            (Ok(_), Err(e)) => prop_assert!(false, "repair mode failed where strict passed: {}", e),
            // A repair, applied to the text, gives an MRZ that passes strictly.
            (Err(_), Ok(r)) => {
                prop_assert!(!r.repairs.is_empty());
                let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
                let fixed = apply_repairs(&lines.join("\n"), &r.repairs);
                let again = parse(&fixed, Mode::Strict);
                prop_assert!(again.is_ok(), "{:?}", again);
            }
            (Err(_), Err(_)) => {}
        }
    }

    #[test]
    fn generated_mrzs_round_trip(doc in doc_strategy()) {
        let d = variant(&doc, 'P', 9, false);
        d.assert_parsed(&strict(&d.td3()), Format::Td3);
        // TD1 takes numbers up to 14 characters (overflow, check digit and filler
        // leave room for 5 characters of optional data).
        let d = variant(&doc, 'I', 14, true);
        d.assert_parsed(&strict(&d.td1()), Format::Td1);
        // TD2 has 7 characters of optional data: long numbers only without other data.
        let max = if doc.optional.is_empty() { 14 } else { 9 };
        let d = variant(&doc, 'C', max, false);
        d.assert_parsed(&strict(&d.td2()), Format::Td2);
        let d = variant(&doc, 'V', 9, false);
        d.assert_parsed(&strict(&d.mrv(44)), Format::MrvA);
        d.assert_parsed(&strict(&d.mrv(36)), Format::MrvB);
    }
}

#[test]
fn debug_output_carries_no_personal_data() {
    let mrz = strict(TD3_SPECIMEN);
    let shown = format!("{mrz:?}");
    for personal in [
        "ERIKSSON",
        "ANNA",
        "L898902C3",
        "740812",
        "120415",
        "ZE184226B",
    ] {
        assert!(!shown.contains(personal), "{personal} in {shown}");
    }
    assert!(shown.contains("Td3"), "{shown}");
}

#[test]
fn date_errors_do_not_print_the_date() {
    let bad = set_char(TD3_SPECIMEN, 2, 16, '9'); // birth month 98
    let err = parse(&bad, Mode::Strict).unwrap_err();
    assert!(
        matches!(
            err,
            MrzError::InvalidDate {
                fault: DateFault::Month,
                ..
            }
        ),
        "{err:?}"
    );
    let shown = err.to_string();
    assert!(
        !shown.contains("749812") && !shown.contains("74981"),
        "{shown}"
    );
    assert!(shown.contains("birth date"), "{shown}");
}

#[test]
fn encoded_td3_parses_strictly_back_to_its_fields() {
    let f = Td3Fields {
        document_code: "P",
        issuing_state: "THA",
        primary: "SRISUK",
        secondary: "NARIN KANDA",
        document_number: "AA1234567",
        nationality: "THA",
        birth_date: "900412",
        sex: 'F',
        expiry_date: "310101",
        optional: "",
    };
    let text = encode_td3(&f).unwrap();
    let m = parse(&text, Mode::Strict).unwrap();
    assert_eq!(m.format, Format::Td3);
    assert_eq!(m.issuing_state, "THA");
    assert_eq!(m.document_number, "AA1234567");
    assert_eq!(m.primary_identifier, "SRISUK");
    assert_eq!(m.secondary_identifier, "NARIN KANDA");
    assert_eq!(m.birth_date, "900412");
    assert_eq!(m.expiry_date, "310101");
    // The ICAO specimen, rebuilt from its fields, is byte for byte the same.
    let specimen = Td3Fields {
        document_code: "P",
        issuing_state: "UTO",
        primary: "ERIKSSON",
        secondary: "ANNA MARIA",
        document_number: "L898902C3",
        nationality: "UTO",
        birth_date: "740812",
        sex: 'F',
        expiry_date: "120415",
        optional: "ZE184226B",
    };
    assert_eq!(
        encode_td3(&specimen).unwrap(),
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
    );
}

#[test]
fn encode_td3_refuses_bad_fields_by_name() {
    let ok = Td3Fields {
        document_code: "P",
        issuing_state: "THA",
        primary: "A",
        secondary: "B",
        document_number: "X1",
        nationality: "THA",
        birth_date: "900412",
        sex: 'F',
        expiry_date: "310101",
        optional: "",
    };
    let cases: [(Td3Fields<'_>, &str); 6] = [
        (
            Td3Fields {
                document_number: "ABCDEFGHIJ",
                ..ok.clone()
            },
            "document_number",
        ),
        (
            Td3Fields {
                issuing_state: "tha",
                ..ok.clone()
            },
            "issuing_state",
        ),
        (
            Td3Fields {
                birth_date: "9004",
                ..ok.clone()
            },
            "birth_date",
        ),
        (
            Td3Fields {
                sex: 'Q',
                ..ok.clone()
            },
            "sex",
        ),
        (
            Td3Fields {
                primary: "O'BRIEN",
                ..ok.clone()
            },
            "primary",
        ),
        (
            Td3Fields {
                optional: "123456789012345",
                ..ok.clone()
            },
            "optional",
        ),
    ];
    for (f, field) in cases {
        assert_eq!(encode_td3(&f).unwrap_err().field, field);
    }
}
