//! The demo's travellers file (see `kiosk-app/demo/travellers.toml`).

use icao9303::mrz::{Td3Fields, encode_td3};

use crate::policy::{Date, Outcome};

/// The travellers the demo runs when no file is given.
pub const DEFAULT_TRAVELLERS: &str = include_str!("../../demo/travellers.toml");

/// One traveller of the demo.
#[derive(Debug, Clone, PartialEq)]
pub struct Traveller {
    /// What the demo calls them.
    pub label: String,
    /// The TD3 MRZ, two lines joined by `\n`.
    pub mrz: String,
    /// Their chip.
    pub chip: ChipKind,
    /// Whether the chip offers PACE.
    pub pace: bool,
    /// What the face unit answers.
    pub face_score: f32,
    /// Whether the document is on the watch list.
    pub watch_list: bool,
    /// The outcome the demo expects, if any.
    pub expect: Option<Outcome>,
    /// Issuing state and document number (for the watch list).
    pub document: (String, String),
}

/// The chip on the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChipKind {
    /// Genuine, signed by the demo's document signer.
    Genuine,
    /// DG2 altered after EF.SOD was signed.
    Tampered,
    /// Copied data without the Active Authentication private key.
    Cloned,
    /// No chip at all.
    None,
}

/// A travellers file that cannot be used; names the traveller and the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("traveller {index} ({label}): {key}: {problem}")]
pub struct TravellersError {
    /// 1-based position in the file (0: the file itself).
    pub index: usize,
    /// The label, when known.
    pub label: String,
    /// The key at fault.
    pub key: String,
    /// What is wrong.
    pub problem: String,
}

/// Parses a travellers file; relative dates count from `today`.
///
/// # Errors
/// [`TravellersError`] naming the traveller and key at fault.
pub fn parse(text: &str, today: Date) -> Result<Vec<Traveller>, TravellersError> {
    let file_error = |problem: String| TravellersError {
        index: 0,
        label: String::new(),
        key: "traveller".into(),
        problem,
    };
    let root: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| file_error(e.message().into()))?;
    let list = root
        .get("traveller")
        .and_then(toml::Value::as_array)
        .ok_or_else(|| file_error("expected [[traveller]] entries".into()))?;
    if let Some(key) = root.keys().find(|k| *k != "traveller") {
        return Err(TravellersError {
            index: 0,
            label: String::new(),
            key: key.clone(),
            problem: "unknown key".into(),
        });
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| one(i + 1, v, today))
        .collect()
}

/// One `[[traveller]]` table.
fn one(index: usize, value: &toml::Value, today: Date) -> Result<Traveller, TravellersError> {
    const KEYS: [&str; 14] = [
        "label",
        "surname",
        "given_names",
        "nationality",
        "issuing_state",
        "document_number",
        "birth_date",
        "expiry_date",
        "sex",
        "chip",
        "pace",
        "face_score",
        "watch_list",
        "expect",
    ];
    let label = value
        .get("label")
        .and_then(toml::Value::as_str)
        .unwrap_or("?")
        .to_owned();
    let err = |key: &str, problem: &str| TravellersError {
        index,
        label: label.clone(),
        key: key.into(),
        problem: problem.into(),
    };
    let table = value
        .as_table()
        .ok_or_else(|| err("traveller", "must be a table"))?;
    if let Some(key) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(err(key, "unknown key"));
    }
    let text = |key: &str| -> Result<String, TravellersError> {
        table
            .get(key)
            .and_then(toml::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| err(key, "missing (a string)"))
    };
    let flag = |key: &str| -> Result<bool, TravellersError> {
        match table.get(key) {
            None => Ok(false),
            Some(v) => v.as_bool().ok_or_else(|| err(key, "must be true or false")),
        }
    };
    let nationality = text("nationality")?;
    let issuing_state = match table.get("issuing_state") {
        None => nationality.clone(),
        Some(_) => text("issuing_state")?,
    };
    let number = text("document_number")?;
    let birth =
        yymmdd(&text("birth_date")?, today).ok_or_else(|| err("birth_date", "not a date"))?;
    let expiry =
        yymmdd(&text("expiry_date")?, today).ok_or_else(|| err("expiry_date", "not a date"))?;
    let sex = text("sex")?;
    let surname = text("surname")?;
    let given = text("given_names")?;
    let mrz = encode_td3(&Td3Fields {
        document_code: "P",
        issuing_state: &issuing_state,
        primary: &surname,
        secondary: &given,
        document_number: &number,
        nationality: &nationality,
        birth_date: &birth,
        sex: sex.chars().next().unwrap_or('<'),
        expiry_date: &expiry,
        optional: "",
    })
    .map_err(|e| err(e.field, e.problem))?;
    let chip = match text("chip")?.as_str() {
        "genuine" => ChipKind::Genuine,
        "tampered" => ChipKind::Tampered,
        "cloned" => ChipKind::Cloned,
        "none" => ChipKind::None,
        _ => return Err(err("chip", "must be genuine, tampered, cloned or none")),
    };
    let face_score = match table.get("face_score") {
        None => 0.93,
        Some(v) => {
            #[allow(clippy::cast_possible_truncation)]
            let score = v
                .as_float()
                .filter(|s| (0.0..=1.0).contains(s))
                .ok_or_else(|| err("face_score", "must be a number from 0.0 to 1.0"))?
                as f32;
            score
        }
    };
    let expect = match table.get("expect") {
        None => None,
        Some(_) => Some(match text("expect")?.as_str() {
            "approved" => Outcome::Approved,
            "referred" => Outcome::Referred,
            "redirected" => Outcome::Redirected,
            _ => return Err(err("expect", "must be approved, referred or redirected")),
        }),
    };
    Ok(Traveller {
        label: label.clone(),
        mrz,
        chip,
        pace: flag("pace")?,
        face_score,
        watch_list: flag("watch_list")?,
        expect,
        document: (issuing_state, number),
    })
}

/// A date as `YYMMDD`: `YYYY-MM-DD`, or `+Ny` / `-Nd` (years, days) from `today`.
fn yymmdd(text: &str, today: Date) -> Option<String> {
    let date = if let Some(rest) = text.strip_prefix(['+', '-']) {
        let sign: i64 = if text.starts_with('-') { -1 } else { 1 };
        let (n, unit) = rest.split_at(rest.len().checked_sub(1)?);
        let n: i64 = n.parse().ok()?;
        match unit {
            "d" => today.add_days(sign * n),
            "y" => {
                let year = i32::try_from(i64::from(today.year()) + sign * n).ok()?;
                Date::new(year, today.month(), today.day())
                    .or_else(|| Date::new(year, today.month(), 28))?
            }
            _ => return None,
        }
    } else {
        let mut parts = text.splitn(3, '-');
        let y: i32 = parts.next()?.parse().ok()?;
        let m: u8 = parts.next()?.parse().ok()?;
        let d: u8 = parts.next()?.parse().ok()?;
        Date::new(y, m, d)?
    };
    Some(format!(
        "{:02}{:02}{:02}",
        date.year().rem_euclid(100),
        date.month(),
        date.day()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::new(2026, 11, 24).unwrap()
    }

    #[test]
    fn the_default_file_has_every_kind_of_traveller_the_issue_names() {
        let t = parse(DEFAULT_TRAVELLERS, today()).unwrap();
        let labels: Vec<&str> = t.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "approved",
                "expired",
                "non-ASEAN",
                "watch-listed",
                "tampered chip",
                "cloned chip",
                "minor"
            ]
        );
        for t in &t {
            icao9303::mrz::parse(&t.mrz, icao9303::mrz::Mode::Strict).unwrap();
            assert!(t.expect.is_some());
        }
        assert_eq!(t[4].chip, ChipKind::Tampered);
        assert_eq!(t[5].chip, ChipKind::Cloned);
        assert!(t[3].watch_list);
        assert!(t[0].pace);
    }

    #[test]
    fn relative_and_absolute_dates() {
        assert_eq!(yymmdd("2031-01-01", today()).unwrap(), "310101");
        assert_eq!(yymmdd("+5y", today()).unwrap(), "311124");
        assert_eq!(yymmdd("-10y", today()).unwrap(), "161124");
        assert_eq!(yymmdd("-30d", today()).unwrap(), "261025");
        for bad in ["2031-13-01", "+5w", "-", "yesterday", "+y"] {
            assert_eq!(yymmdd(bad, today()), None, "{bad}");
        }
    }

    #[test]
    fn errors_name_the_traveller_and_the_key() {
        let base = "[[traveller]]\nlabel = \"x\"\nsurname = \"A\"\ngiven_names = \"B\"\n\
                    nationality = \"THA\"\ndocument_number = \"N1\"\nbirth_date = \"1990-01-01\"\n\
                    expiry_date = \"+1y\"\nsex = \"F\"\nchip = \"genuine\"\n";
        assert!(parse(base, today()).is_ok());
        let cases = [
            ("chip = \"genuine\"", "chip = \"forged\"", "chip"),
            ("sex = \"F\"", "sex = \"F\"\ncolour = \"red\"", "colour"),
            (
                "birth_date = \"1990-01-01\"",
                "birth_date = \"1990-02-30\"",
                "birth_date",
            ),
            (
                "document_number = \"N1\"",
                "document_number = \"TOOLONG1234\"",
                "document_number",
            ),
            ("nationality = \"THA\"", "", "nationality"),
        ];
        for (from, to, key) in cases {
            let e = parse(&base.replace(from, to), today()).unwrap_err();
            assert_eq!((e.index, e.key.as_str()), (1, key), "{e}");
        }
        assert_eq!(parse("x = 1", today()).unwrap_err().index, 0);
    }
}
