//! Writing a TD3 (passport) MRZ from its fields (9303-4 section 4.2.2),
//! with every check digit computed (9303-3 section 4.9).

use super::check_digit;

/// The fields of a TD3 MRZ, as printed (names with spaces, no fillers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Td3Fields<'a> {
    /// Document code, 1 or 2 letters (`P`, `PN`...).
    pub document_code: &'a str,
    /// Issuing state, 1 to 3 characters.
    pub issuing_state: &'a str,
    /// Primary identifier (surname); spaces become `<`.
    pub primary: &'a str,
    /// Secondary identifier (given names); spaces become `<`.
    pub secondary: &'a str,
    /// Document number, at most 9 characters.
    pub document_number: &'a str,
    /// Nationality, 1 to 3 characters.
    pub nationality: &'a str,
    /// Birth date `YYMMDD`.
    pub birth_date: &'a str,
    /// `M`, `F`, `X` or `<`.
    pub sex: char,
    /// Expiry date `YYMMDD`.
    pub expiry_date: &'a str,
    /// Optional personal number, at most 14 characters.
    pub optional: &'a str,
}

/// A field that cannot be written into a TD3 MRZ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("TD3 field {field}: {problem}")]
pub struct EncodeError {
    /// The field at fault.
    pub field: &'static str,
    /// What is wrong (never the value).
    pub problem: &'static str,
}

/// The two 44-character lines of a TD3 MRZ, joined by `\n`.
///
/// Names longer than line 1 allows are truncated (9303-3 section 4.6 allows
/// truncation; the lane never writes one that long in practice).
///
/// # Errors
/// [`EncodeError`] naming the field that is too long or holds a character
/// outside `A-Z`, `0-9`, `<` (and space in names).
pub fn encode_td3(f: &Td3Fields<'_>) -> Result<String, EncodeError> {
    let code = field("document_code", f.document_code, 1..=2)?;
    let state = field("issuing_state", f.issuing_state, 1..=3)?;
    let number = field("document_number", f.document_number, 1..=9)?;
    let nationality = field("nationality", f.nationality, 1..=3)?;
    let birth = date("birth_date", f.birth_date)?;
    let expiry = date("expiry_date", f.expiry_date)?;
    let optional = field("optional", f.optional, 0..=14)?;
    let sex = match f.sex {
        'M' | 'F' | 'X' | '<' => f.sex,
        _ => {
            return Err(EncodeError {
                field: "sex",
                problem: "must be M, F, X or <",
            });
        }
    };
    let primary = name("primary", f.primary)?;
    let secondary = name("secondary", f.secondary)?;

    let names: String = pad(&format!("{primary}<<{secondary}"), 39)
        .chars()
        .take(39)
        .collect();
    let line1 = format!("{}{}{names}", pad(&code, 2), pad(&state, 3));
    let number = pad(&number, 9);
    let number = format!("{number}{}", digit(&number));
    let birth = format!("{birth}{}", digit(&birth));
    let expiry = format!("{expiry}{}", digit(&expiry));
    let optional = pad(&optional, 14);
    // An empty personal number may have `<` as its check digit (9303-4 section 4.2.2.2).
    let optional_cd = if optional.bytes().all(|b| b == b'<') {
        '<'
    } else {
        digit(&optional)
    };
    let composite = digit(&format!("{number}{birth}{expiry}{optional}{optional_cd}"));
    Ok(format!(
        "{line1}\n{number}{}{birth}{sex}{expiry}{optional}{optional_cd}{composite}",
        pad(&nationality, 3)
    ))
}

/// An upper-case code field of a length in `len`.
fn field(
    name: &'static str,
    value: &str,
    len: std::ops::RangeInclusive<usize>,
) -> Result<String, EncodeError> {
    if !len.contains(&value.len()) {
        return Err(EncodeError {
            field: name,
            problem: "has the wrong length",
        });
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'<')
    {
        return Err(EncodeError {
            field: name,
            problem: "holds a character outside A-Z, 0-9 and <",
        });
    }
    Ok(value.to_owned())
}

/// A `YYMMDD` date field.
fn date(name: &'static str, value: &str) -> Result<String, EncodeError> {
    if value.len() == 6 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(EncodeError {
            field: name,
            problem: "must be 6 digits YYMMDD",
        })
    }
}

/// A name: letters and spaces (spaces become `<`).
fn name(field: &'static str, value: &str) -> Result<String, EncodeError> {
    if value
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b == b' ' || b == b'<')
    {
        Ok(value.trim().replace(' ', "<"))
    } else {
        Err(EncodeError {
            field,
            problem: "holds a character outside A-Z and space",
        })
    }
}

/// `s` filled with `<` to `n` characters.
fn pad(s: &str, n: usize) -> String {
    format!("{s:<<n$}")
}

/// The check digit of a field that was checked to hold only valid characters.
fn digit(s: &str) -> char {
    check_digit(s.as_bytes()).map_or('0', char::from)
}
