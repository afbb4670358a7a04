//! `VirtualChip::process` answers anything with a status word and never panics.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use icao9303::apdu::Command;
use proptest::prelude::*;
use virtual_emrtd::{ChipProfile, Misbehaviour, VirtualChip};

use common::{MRZ, chip, open_bac};

fn profile() -> ChipProfile {
    ChipProfile::new(MRZ).with(Misbehaviour::TruncatedFile { missing: 3 })
}

/// Command APDUs of the instructions the chip knows, with arbitrary parameters.
fn plausible_command() -> impl Strategy<Value = (Command, bool)> {
    (
        prop::sample::select(vec![0x00u8, 0x0C, 0x10, 0x80]),
        prop::sample::select(vec![0xA4u8, 0xB0, 0xB1, 0x84, 0x82, 0x20]),
        any::<u8>(),
        any::<u8>(),
        prop::collection::vec(any::<u8>(), 0..300),
        prop::option::of(1usize..=65_536),
        any::<bool>(),
    )
        .prop_map(|(cla, ins, p1, p2, data, le, extended)| {
            let mut cmd = Command::new(cla, ins, p1, p2).with_data(data);
            cmd.le = le;
            (cmd, extended)
        })
}

fn check(chip: &mut VirtualChip, apdu: &[u8]) -> Result<(), TestCaseError> {
    let out = chip.process(apdu);
    prop_assert!(out.len() >= 2, "every answer ends in a status word");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_bytes_before_bac(apdus in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..600), 1..8)) {
        let mut chip = chip(profile());
        for apdu in &apdus {
            check(&mut chip, apdu)?;
        }
    }

    #[test]
    fn random_bytes_after_bac(apdus in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..600), 1..8)) {
        let mut chip = chip(profile());
        open_bac(&mut chip);
        for apdu in &apdus {
            check(&mut chip, apdu)?;
        }
    }

    #[test]
    fn plausible_commands_in_and_out_of_secure_messaging(cmds in prop::collection::vec(plausible_command(), 1..8)) {
        let mut chip = chip(profile());
        let mut sm = open_bac(&mut chip);
        for (cmd, extended) in &cmds {
            // Under secure messaging, as the terminal would wrap it...
            let wire = sm.protect_command(cmd, *extended).unwrap();
            let out = chip.process(&wire);
            prop_assert!(out.len() >= 2);
            if chip.has_session() {
                // ...whose answer must then verify.
                prop_assert!(sm.unprotect_response(out).is_ok());
            } else {
                open_bac(&mut chip);
            }
            // And in plain, which ends the session whatever it is.
            check(&mut chip, &cmd.encode(*extended))?;
            prop_assert!(!chip.has_session());
            sm = open_bac(&mut chip);
        }
    }
}
