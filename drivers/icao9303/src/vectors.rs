//! The shared ICAO 9303 worked examples, loaded for tests.

use std::sync::OnceLock;

/// The parsed `../shared/data/icao9303-vectors.json`.
pub(crate) fn vectors() -> &'static serde_json::Value {
    static V: OnceLock<serde_json::Value> = OnceLock::new();
    V.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/icao9303-vectors.json"
        );
        let text = std::fs::read_to_string(path)
            .expect("../shared/data/icao9303-vectors.json beside the repository");
        serde_json::from_str(&text).expect("vectors file is JSON")
    })
}

/// A hex string from the vectors at a `/`-separated JSON pointer.
pub(crate) fn hex(pointer: &str) -> Vec<u8> {
    hex::decode(string(pointer)).expect("vector is hex")
}

/// A string from the vectors at a JSON pointer.
pub(crate) fn string(pointer: &str) -> &'static str {
    vectors()
        .pointer(pointer)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("vector {pointer} missing"))
}
