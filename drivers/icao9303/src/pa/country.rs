//! ICAO three-letter codes (9303-3 §5) to the ISO 3166-1 alpha-2 codes in certificates' C= (9303-12 §7.1.1).

/// ICAO code → ISO 3166-1 alpha-2, for the states this appliance serves
/// and the 9303 test states.
const TABLE: [(&str, &str); 13] = [
    ("BRN", "BN"), // Brunei Darussalam
    ("KHM", "KH"), // Cambodia
    ("IDN", "ID"), // Indonesia
    ("LAO", "LA"), // Lao People's Democratic Republic
    ("MYS", "MY"), // Malaysia
    ("MMR", "MM"), // Myanmar
    ("PHL", "PH"), // Philippines
    ("SGP", "SG"), // Singapore
    ("THA", "TH"), // Thailand
    ("VNM", "VN"), // Viet Nam
    ("TLS", "TL"), // Timor-Leste
    ("UTO", "UT"), // Utopia, the 9303 specimen state, as ICAO test PKIs encode it
    ("D", "DE"),   // Germany: one letter in the MRZ (9303-3 §5)
];

/// The ISO 3166-1 alpha-2 code for an MRZ issuing state (filler `<` ignored), if known.
pub fn icao_to_iso3166(icao: &str) -> Option<&'static str> {
    let code = icao.trim_end_matches('<');
    TABLE
        .iter()
        .find(|(i, _)| i.eq_ignore_ascii_case(code))
        .map(|&(_, iso)| iso)
}
