//! The traveller's languages: codes, names, fonts, and the guess from the
//! passport's nationality.
#![forbid(unsafe_code)]

/// A language the traveller's screen speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// English: the source language, and the default.
    English,
    /// Malay (Bahasa Melayu).
    Malay,
    /// Indonesian (Bahasa Indonesia).
    Indonesian,
    /// Thai.
    Thai,
    /// Vietnamese.
    Vietnamese,
    /// Khmer.
    Khmer,
    /// Lao.
    Lao,
    /// Burmese (Myanmar).
    Burmese,
    /// Filipino.
    Filipino,
    /// Tetum (Tetun), of Timor-Leste.
    Tetum,
    /// Portuguese, as written in Timor-Leste and Portugal.
    Portuguese,
    /// Chinese, simplified characters.
    ChineseSimplified,
    /// Tamil.
    Tamil,
}

impl Language {
    /// Every language, in the order of the language list on the screen.
    pub const ALL: [Language; 13] = [
        Language::English,
        Language::Malay,
        Language::Indonesian,
        Language::Thai,
        Language::Vietnamese,
        Language::Khmer,
        Language::Lao,
        Language::Burmese,
        Language::Filipino,
        Language::Tetum,
        Language::Portuguese,
        Language::ChineseSimplified,
        Language::Tamil,
    ];

    /// The gettext code: the folder of the language's `.po` under `ui/lang/`.
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Malay => "ms",
            Language::Indonesian => "id",
            Language::Thai => "th",
            Language::Vietnamese => "vi",
            Language::Khmer => "km",
            Language::Lao => "lo",
            Language::Burmese => "my",
            Language::Filipino => "fil",
            Language::Tetum => "tet",
            Language::Portuguese => "pt",
            Language::ChineseSimplified => "zh_CN",
            Language::Tamil => "ta",
        }
    }

    /// The language named in itself, as the language list shows it.
    pub fn autonym(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::Malay => "Bahasa Melayu",
            Language::Indonesian => "Bahasa Indonesia",
            Language::Thai => "ไทย",
            Language::Vietnamese => "Tiếng Việt",
            Language::Khmer => "ខ្មែរ",
            Language::Lao => "ລາວ",
            Language::Burmese => "မြန်မာ",
            Language::Filipino => "Filipino",
            Language::Tetum => "Tetun",
            Language::Portuguese => "Português",
            Language::ChineseSimplified => "简体中文",
            Language::Tamil => "தமிழ்",
        }
    }

    /// The bundled font family that covers the language's script (and Latin).
    pub fn font_family(self) -> &'static str {
        match self {
            Language::Thai => "Lane Sans Thai",
            Language::Khmer => "Lane Sans Khmer",
            Language::Lao => "Lane Sans Lao",
            Language::Burmese => "Lane Sans Myanmar",
            Language::Tamil => "Lane Sans Tamil",
            Language::ChineseSimplified => "Lane Sans SC",
            Language::English
            | Language::Malay
            | Language::Indonesian
            | Language::Vietnamese
            | Language::Filipino
            | Language::Tetum
            | Language::Portuguese => "Lane Sans",
        }
    }

    /// The language whose [`code`](Self::code) is `code`, if any.
    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// The language to pre-select for a holder of this ICAO 9303 nationality
/// (three letters, as in the MRZ; `<` fillers and case are ignored).
///
/// `None` when the kiosk has no better guess than its default (English). The
/// traveller can always change it.
pub fn language_for_nationality(icao_code: &str) -> Option<Language> {
    let code: String = icao_code
        .trim()
        .trim_end_matches('<')
        .chars()
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let language = match code.as_str() {
        "BRN" | "MYS" => Language::Malay,
        "IDN" => Language::Indonesian,
        "THA" => Language::Thai,
        "VNM" => Language::Vietnamese,
        "KHM" => Language::Khmer,
        "LAO" => Language::Lao,
        "MMR" => Language::Burmese,
        "PHL" => Language::Filipino,
        "TLS" => Language::Tetum,
        "CHN" => Language::ChineseSimplified,
        "PRT" | "BRA" | "AGO" | "MOZ" | "CPV" | "GNB" | "STP" => Language::Portuguese,
        "SGP" | "GBR" | "GBD" | "GBN" | "GBO" | "GBP" | "GBS" | "USA" | "AUS" | "NZL" | "CAN"
        | "IRL" => Language::English,
        _ => return None,
    };
    Some(language)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        for l in Language::ALL {
            assert_eq!(Language::from_code(l.code()), Some(l));
        }
        let mut codes: Vec<_> = Language::ALL.iter().map(|l| l.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Language::ALL.len());
        assert_eq!(Language::from_code("xx"), None);
    }

    #[test]
    fn asean_nationalities_get_their_language() {
        let cases = [
            ("THA", Language::Thai),
            ("VNM", Language::Vietnamese),
            ("KHM", Language::Khmer),
            ("LAO", Language::Lao),
            ("MMR", Language::Burmese),
            ("PHL", Language::Filipino),
            ("TLS", Language::Tetum),
            ("IDN", Language::Indonesian),
            ("MYS", Language::Malay),
            ("BRN", Language::Malay),
            ("SGP", Language::English),
            ("CHN", Language::ChineseSimplified),
        ];
        for (code, language) in cases {
            assert_eq!(language_for_nationality(code), Some(language), "{code}");
        }
    }

    #[test]
    fn nationality_is_read_leniently() {
        assert_eq!(language_for_nationality(" tha "), Some(Language::Thai));
        // Germany is "D<<" in the MRZ.
        assert_eq!(language_for_nationality("D<<"), None);
        assert_eq!(language_for_nationality("UTO"), None);
        assert_eq!(language_for_nationality(""), None);
    }
}
