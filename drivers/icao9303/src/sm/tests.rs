use super::*;
use crate::crypto::{self, SessionKey, SmCipher, TdesKey};
use crate::vectors::hex;

fn terminal() -> SecureChannel {
    chip()
}

fn chip() -> SecureChannel {
    SecureChannel::tdes(
        TdesKey(hex("/secure_messaging_context/ks_enc").try_into().unwrap()),
        TdesKey(hex("/secure_messaging_context/ks_mac").try_into().unwrap()),
        u64::from_be_bytes(
            hex("/secure_messaging_context/initial_ssc")
                .try_into()
                .unwrap(),
        ),
    )
}

fn step(i: usize, field: &str) -> Vec<u8> {
    hex(&format!("/secure_messaging/{i}/{field}"))
}

#[test]
fn terminal_side_matches_appendix_d4() {
    let mut sm = terminal();
    for i in 0..3 {
        let (plain, _) = Command::parse(&step(i, "unprotected_command")).unwrap();
        assert_eq!(
            sm.protect_command(&plain, false).unwrap(),
            step(i, "protected_command"),
            "step {i}"
        );
        let resp = sm
            .unprotect_response(step(i, "protected_response"))
            .unwrap();
        assert_eq!(resp.encode(), step(i, "unprotected_response"), "step {i}");
    }
}

#[test]
fn chip_side_matches_appendix_d4() {
    let mut sm = chip();
    for i in 0..3 {
        let cmd = sm.unprotect_command(&step(i, "protected_command")).unwrap();
        let (plain, _) = Command::parse(&step(i, "unprotected_command")).unwrap();
        assert_eq!(cmd, plain, "step {i}");
        let (resp_plain, ins) = (
            Response::parse(step(i, "unprotected_response")).unwrap(),
            cmd.ins,
        );
        assert_eq!(
            sm.protect_response(&resp_plain, ins).unwrap(),
            step(i, "protected_response"),
            "step {i}"
        );
    }
}

#[test]
fn flipped_response_mac_is_rejected() {
    let mut sm = terminal();
    let (plain, _) = Command::parse(&step(1, "unprotected_command")).unwrap();
    sm.ssc = u128::from(u64::from_be_bytes(
        step(1, "ssc_command").try_into().unwrap(),
    )) - 1;
    sm.protect_command(&plain, false).unwrap();
    let mut resp = step(1, "protected_response");
    let n = resp.len();
    resp[n - 3] ^= 0x01;
    assert_eq!(
        sm.unprotect_response(resp),
        Err(Error::CardMisbehaved(CardFault::BadMac))
    );
}

#[test]
fn flipped_ciphertext_is_rejected_before_decryption() {
    let mut sm = terminal();
    sm.ssc = u128::from(u64::from_be_bytes(
        step(1, "ssc_response").try_into().unwrap(),
    )) - 1;
    let mut resp = step(1, "protected_response");
    resp[4] ^= 0x80;
    assert_eq!(
        sm.unprotect_response(resp),
        Err(Error::CardMisbehaved(CardFault::BadMac))
    );
}

#[test]
fn replayed_response_is_rejected() {
    let mut sm = terminal();
    sm.ssc = u128::from(u64::from_be_bytes(
        step(0, "ssc_response").try_into().unwrap(),
    )) - 1;
    sm.unprotect_response(step(0, "protected_response"))
        .unwrap();
    assert_eq!(
        sm.unprotect_response(step(0, "protected_response")),
        Err(Error::CardMisbehaved(CardFault::BadMac))
    );
}

#[test]
fn plain_status_differing_from_protected_is_rejected() {
    let mut sm = terminal();
    sm.ssc = u128::from(u64::from_be_bytes(
        step(0, "ssc_response").try_into().unwrap(),
    )) - 1;
    let mut resp = step(0, "protected_response");
    let n = resp.len();
    resp[n - 2..].copy_from_slice(&[0x62, 0x82]);
    assert_eq!(
        sm.unprotect_response(resp),
        Err(Error::CardMisbehaved(CardFault::StatusMismatch {
            protected: 0x9000,
            plain: 0x6282
        }))
    );
}

#[test]
fn response_without_mac_is_rejected() {
    let mut sm = terminal();
    assert_eq!(
        sm.unprotect_response(vec![0x99, 0x02, 0x90, 0x00, 0x90, 0x00]),
        Err(Error::CardMisbehaved(CardFault::MissingDataObject(
            "DO'8E'"
        )))
    );
}

#[test]
fn plain_data_without_secure_messaging_is_rejected() {
    let mut sm = terminal();
    assert!(sm.unprotect_response(vec![0x60, 0x14, 0x90, 0x00]).is_err());
}

#[test]
fn unprotected_error_status_ends_the_session() {
    let mut sm = terminal();
    assert_eq!(
        sm.unprotect_response(vec![0x69, 0x88]),
        Err(Error::SecureMessagingAborted { sw: 0x6988 })
    );
}

#[test]
fn truncated_and_trailing_data_objects_are_errors() {
    let mut good = step(2, "protected_response");
    let n = good.len();
    let sw = good.split_off(n - 2);
    for cut in 1..good.len() {
        let mut sm = terminal();
        let mut resp = good[..cut].to_vec();
        resp.extend_from_slice(&sw);
        assert!(sm.unprotect_response(resp).is_err(), "cut at {cut}");
    }
    let mut sm = terminal();
    sm.ssc = u128::from(u64::from_be_bytes(
        step(2, "ssc_response").try_into().unwrap(),
    )) - 1;
    let mut resp = good.clone();
    resp.extend_from_slice(&[0x99, 0x02, 0x90, 0x00]);
    resp.extend_from_slice(&sw);
    assert!(sm.unprotect_response(resp).is_err());
}

#[test]
fn chip_side_rejects_wrong_command_mac() {
    let mut sm = chip();
    let mut cmd = step(0, "protected_command");
    let n = cmd.len();
    cmd[n - 2] ^= 1;
    assert_eq!(
        sm.unprotect_command(&cmd),
        Err(Error::CardMisbehaved(CardFault::BadMac))
    );
}

#[test]
fn round_trip_with_odd_instruction_and_extended_length() {
    let mut terminal = chip();
    let mut card = chip();
    let cmd = Command::new(0, 0xB1, 0, 0)
        .with_data(vec![0x54, 0x02, 0x80, 0x00])
        .with_le(1000);
    let wire = terminal.protect_command(&cmd, true).unwrap();
    let got = card.unprotect_command(&wire).unwrap();
    assert_eq!(got, cmd);
    let resp = Response {
        data: vec![0x53, 0x03, 1, 2, 3],
        sw: 0x9000,
    };
    let wire = card.protect_response(&resp, 0xB1).unwrap();
    assert_eq!(wire[0], 0x85);
    assert_eq!(terminal.unprotect_response(wire).unwrap(), resp);
}

fn aes_pair(len: usize) -> (SecureChannel, SecureChannel) {
    let enc: Vec<u8> = (0..len as u8).collect();
    let mac: Vec<u8> = (0..len as u8).map(|b| b ^ 0x5A).collect();
    let make =
        || SecureChannel::aes(SessionKey::new(enc.clone()), SessionKey::new(mac.clone())).unwrap();
    (make(), make())
}

#[test]
fn aes_round_trips_for_every_key_length() {
    for len in [16, 24, 32] {
        let (mut terminal, mut card) = aes_pair(len);
        assert_eq!(terminal.block_len(), 16);
        for (i, data_len) in [0usize, 1, 15, 16, 17, 200].into_iter().enumerate() {
            let cmd = Command::new(0, 0xA4, 2, 0x0C)
                .with_data(vec![0xA5; data_len.max(2)])
                .with_le(data_len.max(1));
            let wire = terminal.protect_command(&cmd, false).unwrap();
            assert_eq!(card.unprotect_command(&wire).unwrap(), cmd, "{len}/{i}");
            let resp = Response {
                data: vec![0x3C; data_len],
                sw: 0x9000,
            };
            let wire = card.protect_response(&resp, cmd.ins).unwrap();
            assert_eq!(terminal.unprotect_response(wire).unwrap(), resp);
        }
        assert_eq!(terminal.ssc(), 12);
        assert_eq!(terminal.ssc_bytes().len(), 16);
    }
}

#[test]
fn aes_command_follows_section_9_8_7() {
    // Recomputed from the primitives: IV = E(KSenc, SSC), CMAC over the 16-byte SSC.
    let (mut terminal, _) = aes_pair(16);
    let enc: Vec<u8> = (0..16u8).collect();
    let mac: Vec<u8> = (0..16u8).map(|b| b ^ 0x5A).collect();
    let cmd = Command::new(0, 0xA4, 2, 0x0C).with_data(vec![0x01, 0x1E]);
    let wire = terminal.protect_command(&cmd, false).unwrap();
    let mut ssc = [0u8; 16];
    ssc[15] = 1;
    let iv = crypto::aes_encrypt_block(&enc, &ssc).unwrap();
    let ct = crypto::aes_cbc_encrypt(&enc, &iv, &crypto::pad(&[0x01, 0x1E], 16)).unwrap();
    let mut do87 = vec![0x87, 0x11, 0x01];
    do87.extend_from_slice(&ct);
    let mut n = ssc.to_vec();
    n.extend_from_slice(&crypto::pad(&[0x0C, 0xA4, 0x02, 0x0C], 16));
    n.extend_from_slice(&do87);
    let cc = crypto::aes_cmac(&mac, &crypto::pad(&n, 16)).unwrap();
    let mut expected = vec![0x0C, 0xA4, 0x02, 0x0C, (do87.len() + 10) as u8];
    expected.extend_from_slice(&do87);
    expected.extend_from_slice(&[0x8E, 0x08]);
    expected.extend_from_slice(&cc[..8]);
    expected.push(0x00);
    assert_eq!(wire, expected);
}

#[test]
fn aes_response_with_flipped_mac_or_replay_is_rejected() {
    let (mut terminal, mut card) = aes_pair(16);
    let cmd = Command::new(0, 0xB0, 0, 0).with_le(4);
    let wire = terminal.protect_command(&cmd, false).unwrap();
    card.unprotect_command(&wire).unwrap();
    let resp = Response {
        data: vec![1, 2, 3, 4],
        sw: 0x9000,
    };
    let good = card.protect_response(&resp, 0xB0).unwrap();
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 3] ^= 1;
    let ssc = terminal.ssc;
    assert_eq!(
        terminal.unprotect_response(bad),
        Err(Error::CardMisbehaved(CardFault::BadMac))
    );
    terminal.ssc = ssc;
    assert_eq!(terminal.unprotect_response(good.clone()).unwrap(), resp);
    assert!(terminal.unprotect_response(good).is_err(), "replay");
}

#[test]
fn aes_keys_of_the_wrong_length_are_refused() {
    assert!(
        SecureChannel::aes(SessionKey::new(vec![0; 20]), SessionKey::new(vec![0; 20])).is_err()
    );
    assert!(
        SecureChannel::from_keys(
            SmCipher::Aes256,
            SessionKey::new(vec![0; 16]),
            SessionKey::new(vec![0; 16])
        )
        .is_err()
    );
    let tdes = SecureChannel::from_keys(
        SmCipher::Tdes,
        SessionKey::new(vec![1; 16]),
        SessionKey::new(vec![2; 16]),
    )
    .unwrap();
    assert_eq!(
        (tdes.cipher(), tdes.ssc(), tdes.block_len()),
        (SmCipher::Tdes, 0, 8)
    );
}
