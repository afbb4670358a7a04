use super::*;
use crate::apdu::Response;
use crate::error::CardFault;
use crate::vectors::hex;

const V: &str = "/bsi_eac_worked_example_chip_authentication_ecdh";

fn v(name: &str) -> Vec<u8> {
    hex(&format!("{V}/{name}"))
}

/// DG14 with the given SecurityInfos.
fn dg14(infos: &[Vec<u8>]) -> Dg14 {
    let bytes = tlv::encode(0x6E, &tlv::encode_constructed(0x31, infos));
    Dg14::parse(&bytes).unwrap()
}

fn ca_info(oid: &str, key_id: Option<u32>) -> Vec<u8> {
    ChipAuthenticationInfo {
        protocol_oid: oid.into(),
        version: 1,
        key_id,
    }
    .encode()
    .unwrap()
}

#[test]
fn bsi_worked_example_key_agreement_byte_for_byte() {
    let chip = ChipKeyPair::from_private(13, &v("chip_static_private_key")).unwrap();
    assert_eq!(chip.public_key(), v("chip_static_public_key"));
    let terminal_private = v("terminal_ephemeral_private_key");
    let terminal_public = chip.group.public_key(&terminal_private).unwrap();
    assert_eq!(terminal_public, v("terminal_ephemeral_public_key"));

    // The terminal's side, from DG14's SubjectPublicKeyInfo.
    let key = ChipPublicKey::from_spki_der(&chip.spki_der().unwrap()).unwrap();
    assert_eq!(key.parameter_id(), 13);
    assert_eq!(key.public_key(), v("chip_static_public_key"));
    let k = shared_secret(&key, &terminal_private).unwrap();
    assert_eq!(k.as_slice(), v("shared_secret_k"));

    // The chip's side gets the same K.
    let shared = chip
        .group
        .shared(chip.private_key(), &terminal_public)
        .unwrap();
    assert_eq!(
        chip.group.secret_of(&shared).as_slice(),
        v("shared_secret_k")
    );
}

#[test]
fn bsi_worked_example_session_keys_byte_for_byte() {
    // The BSI example is CA version 2: KS = KDF(K || r, c); 9303 CA has no r.
    let (enc, mac) = session_keys(
        &v("shared_secret_k"),
        Some(&v("chip_nonce_r")),
        SmCipher::Aes128,
    );
    assert_eq!(enc.as_bytes(), v("ks_enc"));
    assert_eq!(mac.as_bytes(), v("ks_mac"));
    let (enc, _) = session_keys(&v("shared_secret_k"), None, SmCipher::Aes128);
    assert_eq!(
        enc,
        crypto::kdf(&v("shared_secret_k"), KdfCounter::Enc, SmCipher::Aes128)
    );
}

#[test]
fn bsi_worked_example_protocol_oid() {
    let p = CaProtocol::from_oid(crate::vectors::string(&format!("{V}/protocol_oid"))).unwrap();
    assert_eq!(
        p,
        CaProtocol {
            key_agreement: KeyAgreement::Ecdh,
            cipher: SmCipher::Aes128
        }
    );
    assert_eq!(
        p.name(),
        crate::vectors::string(&format!("{V}/protocol_name"))
    );
}

#[test]
fn protocol_oids_round_trip() {
    for ka in ["1", "2"] {
        for c in ["1", "2", "3", "4"] {
            let oid = format!("0.4.0.127.0.7.2.2.3.{ka}.{c}");
            assert_eq!(CaProtocol::from_oid(&oid).unwrap().oid(), oid);
        }
    }
    for bad in [
        "0.4.0.127.0.7.2.2.3.3.1",
        "0.4.0.127.0.7.2.2.3.2.5",
        "0.4.0.127.0.7.2.2.4.2.2",
        "0.4.0.127.0.7.2.2.3.2",
    ] {
        assert!(CaProtocol::from_oid(bad).is_err(), "{bad}");
    }
}

/// Runs CA between `terminal` and the chip side, then one protected command and response in each direction.
fn round_trip(parameter_id: u32, oid: &str, key_id: Option<u32>) {
    let chip = ChipKeyPair::generate(parameter_id).unwrap();
    let doc = dg14(&[
        ca_info(oid, key_id),
        chip.public_key_info(key_id).unwrap().encode().unwrap(),
    ]);
    let choice = choose(&doc).unwrap().unwrap();
    assert_eq!(choice.protocol.oid(), oid);
    assert_eq!(choice.key_id, key_id);
    let ephemeral = random_ephemeral_private(&choice.key).unwrap();
    let CaTerminal {
        commands,
        channel: mut terminal,
        ephemeral_public_key,
    } = super::terminal(&choice, &ephemeral).unwrap();

    // The chip reads what the terminal sent.
    let received = match choice.protocol.cipher {
        SmCipher::Tdes => {
            let [kat] = commands.as_slice() else {
                panic!("3DES: one command")
            };
            assert_eq!((kat.cla, kat.ins, kat.p1, kat.p2), (0, 0x22, 0x41, 0xA6));
            let (public, id) = chip_read_set_kat(&kat.data).unwrap();
            assert_eq!(id, key_id);
            public
        }
        _ => {
            let [at, ga] = commands.as_slice() else {
                panic!("AES: two commands")
            };
            assert_eq!((at.ins, at.p1, at.p2), (0x22, 0x41, 0xA4));
            let (protocol, id) = chip_read_set_at(&at.data).unwrap();
            assert_eq!((protocol, id), (choice.protocol, key_id));
            assert_eq!((ga.ins, ga.p1, ga.p2), (0x86, 0, 0));
            chip_read_general_authenticate(&ga.data).unwrap()
        }
    };
    assert_eq!(received, ephemeral_public_key);
    let mut chip_sm = chip_agree(&chip, choice.protocol.cipher, &received).unwrap();
    assert_eq!(terminal.ssc(), 0);
    assert_eq!(terminal.cipher(), choice.protocol.cipher);

    let cmd = Command::new(0x00, 0xB0, 0x00, 0x00).with_le(4);
    let wire = terminal.protect_command(&cmd, false).unwrap();
    assert_eq!(chip_sm.unprotect_command(&wire).unwrap(), cmd);
    let resp = Response {
        data: vec![1, 2, 3, 4],
        sw: 0x9000,
    };
    let raw = chip_sm.protect_response(&resp, 0xB0).unwrap();
    assert_eq!(terminal.unprotect_response(raw).unwrap(), resp);
}

#[test]
fn ecdh_round_trips_with_3des_and_aes() {
    round_trip(12, "0.4.0.127.0.7.2.2.3.2.1", None);
    round_trip(12, "0.4.0.127.0.7.2.2.3.2.2", Some(1));
    round_trip(13, "0.4.0.127.0.7.2.2.3.2.1", Some(0x80));
    round_trip(13, "0.4.0.127.0.7.2.2.3.2.2", None);
    round_trip(15, "0.4.0.127.0.7.2.2.3.2.3", None);
}

#[test]
fn dh_round_trips_with_standardized_parameters() {
    round_trip(0, "0.4.0.127.0.7.2.2.3.1.1", None);
    round_trip(2, "0.4.0.127.0.7.2.2.3.1.2", Some(7));
}

#[test]
fn a_chip_with_another_private_key_derives_other_keys() {
    // The cloned chip: DG14's key, but another private key for the agreement.
    let announced = ChipKeyPair::generate(12).unwrap();
    let held = ChipKeyPair::generate(12).unwrap();
    let doc = dg14(&[
        ca_info("0.4.0.127.0.7.2.2.3.2.2", None),
        announced.public_key_info(None).unwrap().encode().unwrap(),
    ]);
    let choice = choose(&doc).unwrap().unwrap();
    let ephemeral = random_ephemeral_private(&choice.key).unwrap();
    let mut t = super::terminal(&choice, &ephemeral).unwrap();
    let mut chip_sm = chip_agree(&held, SmCipher::Aes128, &t.ephemeral_public_key).unwrap();
    let wire = t
        .channel
        .protect_command(
            &Command::new(0, 0xA4, 0x02, 0x0C).with_data(vec![1, 1]),
            false,
        )
        .unwrap();
    assert!(matches!(
        chip_sm.unprotect_command(&wire),
        Err(Error::CardMisbehaved(CardFault::BadMac))
    ));
}

#[test]
fn choose_prefers_aes_and_matches_key_ids() {
    let a = ChipKeyPair::generate(12).unwrap();
    let b = ChipKeyPair::generate(13).unwrap();
    let doc = dg14(&[
        ca_info("0.4.0.127.0.7.2.2.3.2.1", Some(1)),
        ca_info("0.4.0.127.0.7.2.2.3.2.2", Some(2)),
        a.public_key_info(Some(1)).unwrap().encode().unwrap(),
        b.public_key_info(Some(2)).unwrap().encode().unwrap(),
    ]);
    let choice = choose(&doc).unwrap().unwrap();
    assert_eq!(choice.protocol.cipher, SmCipher::Aes128);
    assert_eq!(choice.key_id, Some(2));
    assert_eq!(choice.key.public_key(), b.public_key());
}

#[test]
fn dg14_without_ca_infos_but_a_key_means_3des() {
    let a = ChipKeyPair::generate(12).unwrap();
    let doc = dg14(&[a.public_key_info(None).unwrap().encode().unwrap()]);
    let choice = choose(&doc).unwrap().unwrap();
    assert_eq!(choice.protocol.cipher, SmCipher::Tdes);
}

#[test]
fn dg14_without_chip_authentication_offers_none() {
    let pace = crate::lds::PaceInfo {
        protocol_oid: "0.4.0.127.0.7.2.2.4.2.2".into(),
        version: 2,
        parameter_id: Some(12),
    };
    let doc = dg14(&[pace.encode().unwrap()]);
    assert!(choose(&doc).unwrap().is_none());
}

#[test]
fn ca_info_without_a_key_is_an_error() {
    let doc = dg14(&[ca_info("0.4.0.127.0.7.2.2.3.2.2", None)]);
    assert!(choose(&doc).is_err());
}

#[test]
fn keys_off_the_curve_or_out_of_range_are_refused() {
    let a = ChipKeyPair::generate(12).unwrap();
    let mut spki = a.spki_der().unwrap();
    let last = spki.len() - 1;
    spki[last] ^= 0x01;
    assert!(matches!(
        ChipPublicKey::from_spki_der(&spki),
        Err(Error::CardMisbehaved(CardFault::BadPublicKey(_)))
    ));
    // DH: y = 1 is outside the range 1 < y < p-1.
    let dh = ChipKeyPair::generate(0).unwrap();
    let mut fake = dh.clone();
    fake.public = {
        let mut one = vec![0u8; dh.public_key().len()];
        *one.last_mut().unwrap() = 1;
        one
    };
    assert!(matches!(
        ChipPublicKey::from_spki_der(&fake.spki_der().unwrap()),
        Err(Error::CardMisbehaved(CardFault::BadPublicKey(_)))
    ));
    // A terminal key off the curve is refused by the chip.
    let mut bad_point = a.public_key().to_vec();
    bad_point[40] ^= 0x01;
    assert!(chip_agree(&a, SmCipher::Aes128, &bad_point).is_err());
}

#[test]
fn garbage_infos_and_keys_are_errors_not_panics() {
    for raw in [
        &[][..],
        &[0x30, 0x00],
        &[0x30, 0x03, 0x06, 0x01, 0x00],
        &[
            0x30, 0x0E, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02, 0x02,
            0x02, 0x01,
        ],
    ] {
        assert!(ChipAuthenticationInfo::parse(raw).is_err());
        assert!(ChipAuthenticationPublicKeyInfo::parse(raw).is_err());
        assert!(ChipPublicKey::from_spki_der(raw).is_err());
    }
    let info = ca_info("0.4.0.127.0.7.2.2.3.2.2", Some(3));
    assert_eq!(
        ChipAuthenticationInfo::parse(&info).unwrap().key_id,
        Some(3)
    );
    let mut trailing = info.clone();
    trailing.push(0);
    assert!(ChipAuthenticationInfo::parse(&trailing).is_err());
    assert!(ChipAuthenticationInfo::parse(&info[..info.len() - 1]).is_err());
    assert!(chip_read_general_authenticate(&[0x7C, 0x00]).is_err());
    assert!(chip_read_set_kat(&[0x84, 0x01, 0x01]).is_err());
    assert!(check_general_authenticate_response(&[0x7C, 0x00]).is_ok());
    assert!(check_general_authenticate_response(&[0x7D, 0x00]).is_err());
}

#[test]
fn explicit_ec_domain_parameters_name_the_same_key() {
    for id in [8, 12, 13, 15, 17, 18] {
        let chip = ChipKeyPair::generate(id).unwrap();
        let named = chip.spki_der().unwrap();
        let explicit = crate::ecparams::spki_der_with_explicit_parameters(&named).unwrap();
        assert_ne!(named, explicit);
        let key = ChipPublicKey::from_spki_der(&explicit).unwrap();
        assert_eq!(key.parameter_id(), id);
        assert_eq!(key.public_key(), chip.public_key());
    }
}

#[test]
fn explicit_parameters_of_a_changed_curve_are_unsupported() {
    let chip = ChipKeyPair::generate(12).unwrap();
    let mut explicit =
        crate::ecparams::spki_der_with_explicit_parameters(&chip.spki_der().unwrap()).unwrap();
    // The last byte of P-256's b (SEC 2 §2.4.2): 4b.
    let b_tail = [0x3b, 0xce, 0x3c, 0x3e, 0x27, 0xd2, 0x60, 0x4b];
    let at = explicit.windows(8).position(|w| w == b_tail).unwrap();
    explicit[at + 7] ^= 0x01;
    let err = ChipPublicKey::from_spki_der(&explicit).unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
}
