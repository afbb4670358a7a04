use super::*;
use crate::vectors::{hex, string};

fn arr<const N: usize>(pointer: &str) -> [u8; N] {
    hex(pointer).try_into().unwrap()
}

fn appendix_d_keys() -> BacKeys {
    BacKeys::from_mrz_information(string("/bac/mrz_information"))
}

#[test]
fn mrz_information_pads_short_document_numbers() {
    let info = mrz_information("L898902C", "690806", "940623").unwrap();
    assert_eq!(info, string("/bac/mrz_information"));
}

#[test]
fn mrz_information_keeps_long_document_numbers_whole() {
    let v = "/bac_td1_long_document_number";
    let info = mrz_information(
        string(&format!("{v}/document_number")),
        string(&format!("{v}/date_of_birth")),
        string(&format!("{v}/date_of_expiry")),
    )
    .unwrap();
    assert_eq!(info, string(&format!("{v}/mrz_information")));
    let seed = &sha1::Sha1::digest(info.as_bytes())[..16];
    assert_eq!(seed.to_vec(), hex(&format!("{v}/kseed")));
}

#[test]
fn mrz_information_rejects_non_mrz_characters() {
    assert!(mrz_information("L89890é", "690806", "940623").is_err());
}

#[test]
fn keys_match_appendix_d2() {
    let keys = appendix_d_keys();
    assert_eq!(keys.kenc.0.to_vec(), hex("/bac/kenc"));
    assert_eq!(keys.kmac.0.to_vec(), hex("/bac/kmac"));
}

#[test]
fn commands_and_session_match_appendix_d3() {
    assert_eq!(
        get_challenge().encode(false),
        hex("/bac/get_challenge_command")
    );
    let (cmd, wait) = external_authenticate(
        appendix_d_keys(),
        arr("/bac/rnd_ic"),
        arr("/bac/rnd_ifd"),
        arr("/bac/k_ifd"),
    )
    .unwrap();
    assert_eq!(cmd.encode(false), hex("/bac/external_authenticate_command"));
    let channel = wait
        .finish(&hex("/bac/external_authenticate_resp_data"))
        .unwrap();
    assert_eq!(channel.ssc().to_be_bytes().to_vec(), hex("/bac/ssc"));
}

#[test]
fn chip_side_answers_appendix_d3() {
    let (resp, channel) = chip_authenticate(
        &appendix_d_keys(),
        arr("/bac/rnd_ic"),
        arr("/bac/k_ic"),
        &hex("/bac/external_authenticate_cmd_data"),
    )
    .unwrap();
    assert_eq!(resp, hex("/bac/external_authenticate_resp_data"));
    assert_eq!(channel.ssc().to_be_bytes().to_vec(), hex("/bac/ssc"));
}

#[test]
fn wrong_mrz_is_access_denied() {
    let wrong = BacKeys::from_mrz_information("L898902C<369080619406237");
    let (_, wait) = external_authenticate(
        wrong,
        arr("/bac/rnd_ic"),
        arr("/bac/rnd_ifd"),
        arr("/bac/k_ifd"),
    )
    .unwrap();
    let err = wait
        .finish(&hex("/bac/external_authenticate_resp_data"))
        .unwrap_err();
    assert!(matches!(err, Error::AccessDenied(_)), "{err:?}");
}

#[test]
fn chip_that_does_not_echo_the_challenge_is_caught() {
    let (_, wait) = external_authenticate(
        appendix_d_keys(),
        [0; 8],
        arr("/bac/rnd_ifd"),
        arr("/bac/k_ifd"),
    )
    .unwrap();
    // A correctly MACed answer for another challenge.
    let err = wait
        .finish(&hex("/bac/external_authenticate_resp_data"))
        .unwrap_err();
    assert_eq!(err, Error::CardMisbehaved(CardFault::BadCryptogram));
}

#[test]
fn response_of_wrong_length_is_rejected() {
    let (_, wait) = external_authenticate(appendix_d_keys(), [0; 8], [0; 8], [0; 16]).unwrap();
    assert!(matches!(
        wait.finish(&[0; 39]),
        Err(Error::CardMisbehaved(CardFault::TooMuchData { .. }))
    ));
}

#[test]
fn chip_side_refuses_wrong_terminal_mac() {
    let mut data = hex("/bac/external_authenticate_cmd_data");
    data[39] ^= 1;
    let err = chip_authenticate(
        &appendix_d_keys(),
        arr("/bac/rnd_ic"),
        arr("/bac/k_ic"),
        &data,
    )
    .unwrap_err();
    assert!(matches!(err, Error::AccessDenied(_)));
}
