//! Helpers shared by the integration tests: the specimen MRZ, its keys, and a hand-driven BAC.
#![allow(dead_code)]

use icao9303::apdu::{Command, Response};
use icao9303::bac::{self, BacKeys};
use icao9303::session::LDS1_AID;
use icao9303::sm::SecureChannel;
use virtual_emrtd::{ChipProfile, VirtualChip};

/// The ICAO 9303 part 4 specimen passport (Anna Maria Eriksson of Utopia): no real person.
pub(crate) const MRZ: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

/// BAC keys of [`MRZ`], derived without the MRZ parser.
pub(crate) fn keys() -> BacKeys {
    BacKeys::from_mrz_information(&bac::mrz_information("L898902C3", "740812", "120415").unwrap())
}

/// BAC keys of another document.
pub(crate) fn wrong_keys() -> BacKeys {
    BacKeys::from_mrz_information(&bac::mrz_information("L898902C<", "690806", "940623").unwrap())
}

/// A chip built from `profile`.
pub(crate) fn chip(profile: ChipProfile) -> VirtualChip {
    VirtualChip::new(profile).expect("specimen profile builds")
}

/// Sends a plain command and parses the answer.
pub(crate) fn plain(chip: &mut VirtualChip, cmd: &Command) -> Response {
    Response::parse(chip.process(&cmd.encode(false))).unwrap()
}

/// SELECT, GET CHALLENGE and EXTERNAL AUTHENTICATE by hand (9303-11 §4.3.4); the terminal's channel.
pub(crate) fn open_bac(chip: &mut VirtualChip) -> SecureChannel {
    let select = Command::new(0x00, 0xA4, 0x04, 0x0C).with_data(LDS1_AID.to_vec());
    assert_eq!(plain(chip, &select).sw, 0x9000);
    let challenge = plain(chip, &bac::get_challenge());
    assert_eq!(challenge.sw, 0x9000);
    let rnd_ic: [u8; 8] = challenge.data.try_into().unwrap();
    let (cmd, wait) = bac::external_authenticate(keys(), rnd_ic, [0x11; 8], [0x22; 16]).unwrap();
    let resp = plain(chip, &cmd);
    assert_eq!(resp.sw, 0x9000);
    assert!(chip.has_session());
    wait.finish(&resp.data).unwrap()
}

/// Sends `cmd` under secure messaging and returns the raw answer.
pub(crate) fn protected_raw(
    chip: &mut VirtualChip,
    sm: &mut SecureChannel,
    cmd: &Command,
    extended: bool,
) -> Vec<u8> {
    let wire = sm.protect_command(cmd, extended).unwrap();
    chip.process(&wire)
}

/// Sends `cmd` under secure messaging and unwraps the answer.
pub(crate) fn protected(
    chip: &mut VirtualChip,
    sm: &mut SecureChannel,
    cmd: &Command,
    extended: bool,
) -> Result<Response, icao9303::Error> {
    let raw = protected_raw(chip, sm, cmd, extended);
    sm.unprotect_response(raw)
}

/// SELECT EF by file identifier.
pub(crate) fn select_ef(fid: u16) -> Command {
    Command::new(0x00, 0xA4, 0x02, 0x0C).with_data(fid.to_be_bytes().to_vec())
}
