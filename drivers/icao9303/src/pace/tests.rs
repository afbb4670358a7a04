use super::*;
use crate::vectors::{hex, string};

fn v(set: &str, field: &str) -> Vec<u8> {
    hex(&format!("/{set}/{field}"))
}

fn point(set: &str, prefix: &str) -> Vec<u8> {
    let mut p = vec![0x04];
    p.extend_from_slice(&v(set, &format!("{prefix}_x")));
    p.extend_from_slice(&v(set, &format!("{prefix}_y")));
    p
}

/// The data of a response APDU (without SW 9000).
fn data(apdu: Vec<u8>) -> Vec<u8> {
    Response::parse(apdu).unwrap().data
}

fn protocol(set: &str) -> PaceProtocol {
    let p = PaceProtocol::from_oid(string(&format!("/{set}/protocol_oid"))).unwrap();
    assert_eq!(p.name(), string(&format!("/{set}/protocol_name")));
    assert_eq!(p.oid(), string(&format!("/{set}/protocol_oid")));
    p
}

fn g1_password() -> Password {
    Password::Mrz(string("/pace_gm_ecdh_brainpoolp256r1/mrz_information").to_owned())
}

const G1: &str = "pace_gm_ecdh_brainpoolp256r1";
const G2: &str = "pace_gm_dh_modp1024_160";
const H1: &str = "pace_im_ecdh_brainpoolp256r1";
const H2: &str = "pace_im_dh_modp1024_160";
const I1: &str = "pace_cam_ecdh_brainpoolp256r1";

#[test]
fn g1_password_key_and_card_access() {
    let password = g1_password();
    assert_eq!(
        bac::mrz_information("T22000129", "640812", "101031").unwrap(),
        string("/pace_gm_ecdh_brainpoolp256r1/mrz_information")
    );
    assert_eq!(password.k_pi(SmCipher::Aes128).as_bytes(), v(G1, "k_pi"));
    let mut card_access = vec![0x31, 0x14];
    card_access.extend_from_slice(&v(G1, "pace_info"));
    let card_access = CardAccess::parse(&card_access).unwrap();
    assert_eq!(choose(&card_access), Some((protocol(G1), 13)));
    assert_eq!(
        mse_set_at(&protocol(G1), &password).encode(false),
        v(G1, "mse_set_at_command")
    );
}

#[test]
fn g1_terminal_replays_appendix_g1() {
    let password = g1_password();
    let (ga1, wait) = start(protocol(G1), 13, &password).unwrap();
    assert_eq!(ga1.encode(false), v(G1, "ga1_command"));
    let (ga2, wait) = wait
        .map(
            &data(v(G1, "ga1_response")),
            &v(G1, "terminal_mapping_private_key"),
        )
        .unwrap();
    assert_eq!(wait.s.as_slice(), v(G1, "nonce_s"));
    assert_eq!(ga2.encode(false), v(G1, "ga2_command"));
    let (ga3, wait) = wait
        .agree(
            &data(v(G1, "ga2_response")),
            &v(G1, "terminal_ephemeral_private_key"),
        )
        .unwrap();
    assert_eq!(wait.mapped.generator(), point(G1, "mapped_generator"));
    assert_eq!(ga3.encode(false), v(G1, "ga3_command"));
    let (ga4, wait) = wait.authenticate(&data(v(G1, "ga3_response"))).unwrap();
    assert_eq!(wait.keys.enc.as_bytes(), v(G1, "ks_enc"));
    assert_eq!(wait.keys.mac.as_bytes(), v(G1, "ks_mac"));
    assert_eq!(ga4.encode(false), v(G1, "ga4_command"));
    let outcome = wait.finish(&data(v(G1, "ga4_response"))).unwrap();
    assert_eq!(outcome.channel.ssc(), 0);
    assert_eq!(outcome.channel.cipher(), SmCipher::Aes128);
    assert_eq!(
        outcome.chip_ephemeral_public_key,
        point(G1, "chip_ephemeral_public_key")
    );
    assert!(outcome.chip_authentication.is_none());
}

#[test]
fn g1_intermediate_values() {
    let group = Group::standard(13).unwrap();
    let h = group
        .shared(
            &v(G1, "terminal_mapping_private_key"),
            &point(G1, "chip_mapping_public_key"),
        )
        .unwrap();
    assert_eq!(h.as_slice(), point(G1, "shared_secret_h"));
    let mapped = group.map_generic(&v(G1, "nonce_s"), &h).unwrap();
    assert_eq!(mapped.generator(), point(G1, "mapped_generator"));
    let shared = mapped
        .shared(
            &v(G1, "chip_ephemeral_private_key"),
            &point(G1, "terminal_ephemeral_public_key"),
        )
        .unwrap();
    assert_eq!(
        mapped.secret_of(&shared).as_slice(),
        v(G1, "shared_secret_k")
    );
    let ctx = Context::new(protocol(G1), 13, &g1_password()).unwrap();
    let keys = ctx
        .session_keys(
            &mapped,
            &v(G1, "terminal_ephemeral_private_key"),
            &point(G1, "chip_ephemeral_public_key"),
        )
        .unwrap();
    assert_eq!(
        ctx.token(&keys, &point(G1, "chip_ephemeral_public_key"))
            .unwrap()
            .to_vec(),
        v(G1, "t_ifd")
    );
    assert_eq!(
        ctx.token(&keys, &point(G1, "terminal_ephemeral_public_key"))
            .unwrap()
            .to_vec(),
        v(G1, "t_ic")
    );
    assert_eq!(
        ctx.encrypt_nonce(&v(G1, "nonce_s")).unwrap(),
        v(G1, "encrypted_nonce_z")
    );
}

#[test]
fn g1_chip_side_answers_the_worked_example() {
    let password = g1_password();
    let (cmd, _) = Command::parse(&v(G1, "ga1_command")).unwrap();
    let (r1, chip) = chip_start(protocol(G1), 13, &password, &v(G1, "nonce_s"), &cmd.data).unwrap();
    assert_eq!(r1, data(v(G1, "ga1_response")));
    let (cmd, _) = Command::parse(&v(G1, "ga2_command")).unwrap();
    let (r2, chip) = chip
        .respond(&cmd.data, &v(G1, "chip_mapping_private_key"))
        .unwrap();
    assert_eq!(r2, data(v(G1, "ga2_response")));
    let (cmd, _) = Command::parse(&v(G1, "ga3_command")).unwrap();
    let (r3, chip) = chip
        .respond(&cmd.data, &v(G1, "chip_ephemeral_private_key"))
        .unwrap();
    assert_eq!(r3, data(v(G1, "ga3_response")));
    let (cmd, _) = Command::parse(&v(G1, "ga4_command")).unwrap();
    let (r4, _channel) = chip.respond(&cmd.data, None).unwrap();
    assert_eq!(r4, data(v(G1, "ga4_response")));
}

#[test]
fn g1_lying_token_is_refused() {
    let password = g1_password();
    let (_, wait) = start(protocol(G1), 13, &password).unwrap();
    let (_, wait) = wait
        .map(
            &data(v(G1, "ga1_response")),
            &v(G1, "terminal_mapping_private_key"),
        )
        .unwrap();
    let (_, wait) = wait
        .agree(
            &data(v(G1, "ga2_response")),
            &v(G1, "terminal_ephemeral_private_key"),
        )
        .unwrap();
    let (_, wait) = wait.authenticate(&data(v(G1, "ga3_response"))).unwrap();
    let mut resp = data(v(G1, "ga4_response"));
    let n = resp.len();
    resp[n - 1] ^= 1;
    assert_eq!(
        wait.finish(&resp).unwrap_err(),
        Error::CardMisbehaved(CardFault::BadPaceToken)
    );
}

#[test]
fn off_curve_and_infinity_points_are_refused() {
    let password = g1_password();
    let (_, wait) = start(protocol(G1), 13, &password).unwrap();
    let (_, wait) = wait
        .map(
            &data(v(G1, "ga1_response")),
            &v(G1, "terminal_mapping_private_key"),
        )
        .unwrap();
    let mut resp = data(v(G1, "ga2_response"));
    let n = resp.len();
    resp[n - 1] ^= 1;
    assert!(matches!(
        wait.agree(&resp, &v(G1, "terminal_ephemeral_private_key")),
        Err(Error::CardMisbehaved(CardFault::BadPublicKey(_)))
    ));
    let group = Group::standard(13).unwrap();
    assert!(group.check_element(&[0x00]).is_err());
    assert!(group.check_element(&[0x04; 65]).is_err());
    assert!(
        group
            .check_element(&point(G1, "chip_mapping_public_key")[..64])
            .is_err()
    );
}

#[test]
fn g2_dh_generic_mapping() {
    let password = g1_password();
    assert_eq!(password.k_pi(SmCipher::Aes128).as_bytes(), v(G2, "k_pi"));
    assert_eq!(
        mse_set_at(&protocol(G2), &password).encode(false),
        v(G2, "mse_set_at_command")
    );
    let (ga1, wait) = start(protocol(G2), 0, &password).unwrap();
    assert_eq!(ga1.encode(false), v(G2, "ga1_command"));
    let (ga2, wait) = wait
        .map(
            &data(v(G2, "ga1_response")),
            &v(G2, "terminal_mapping_private_key"),
        )
        .unwrap();
    assert_eq!(wait.s.as_slice(), v(G2, "nonce_s"));
    assert_eq!(
        ga2.data,
        tlv::encode(
            0x7C,
            &tlv::encode(0x81, &v(G2, "terminal_mapping_public_key"))
        )
    );
    let chip_map = tlv::encode(0x7C, &tlv::encode(0x82, &v(G2, "chip_mapping_public_key")));
    let (ga3, wait) = wait
        .agree(&chip_map, &v(G2, "terminal_ephemeral_private_key"))
        .unwrap();
    assert_eq!(wait.mapped.generator(), v(G2, "mapped_generator"));
    assert_eq!(
        ga3.data,
        tlv::encode(
            0x7C,
            &tlv::encode(0x83, &v(G2, "terminal_ephemeral_public_key"))
        )
    );
    let chip_key = tlv::encode(
        0x7C,
        &tlv::encode(0x84, &v(G2, "chip_ephemeral_public_key")),
    );
    let (ga4, wait) = wait.authenticate(&chip_key).unwrap();
    assert_eq!(wait.keys.enc.as_bytes(), v(G2, "ks_enc"));
    assert_eq!(wait.keys.mac.as_bytes(), v(G2, "ks_mac"));
    assert_eq!(ga4.encode(false), v(G2, "ga4_command"));
    let outcome = wait.finish(&v(G2, "ga4_response_data")).unwrap();
    assert_eq!(outcome.channel.cipher(), SmCipher::Aes128);
    // The 1024-bit form of the terminal key gives the same public key.
    let group = Group::standard(0).unwrap();
    let h = group
        .shared(
            &v(G2, "terminal_mapping_private_key"),
            &v(G2, "chip_mapping_public_key"),
        )
        .unwrap();
    assert_eq!(h.as_slice(), v(G2, "shared_secret_h"));
    let mapped = group.map_generic(&v(G2, "nonce_s"), &h).unwrap();
    assert_eq!(
        mapped
            .public_key(&v(G2, "alternative_terminal_ephemeral_private_key_1024bit"))
            .unwrap(),
        v(G2, "terminal_ephemeral_public_key")
    );
    let k = mapped
        .shared(
            &v(G2, "chip_ephemeral_private_key"),
            &v(G2, "terminal_ephemeral_public_key"),
        )
        .unwrap();
    assert_eq!(k.as_slice(), v(G2, "shared_secret_k"));
}

#[test]
fn dh_values_out_of_range_are_refused() {
    let group = Group::standard(0).unwrap();
    let p = v("domain_parameters", "modp1024_160/p");
    let mut p_minus_1 = p.clone();
    *p_minus_1.last_mut().unwrap() -= 1;
    let mut one = vec![0u8; 128];
    one[127] = 1;
    for bad in [
        vec![0u8; 128],
        one,
        p_minus_1,
        p,
        vec![0xFF; 128],
        vec![2u8; 64],
    ] {
        assert!(matches!(
            group.check_element(&bad),
            Err(Error::CardMisbehaved(CardFault::BadPublicKey(_)))
        ));
    }
}

#[test]
fn every_dh_group_has_a_generator_of_order_q() {
    for id in 0..=2 {
        let Group::Dh { params, generator } = Group::standard(id).unwrap() else {
            panic!()
        };
        assert!(
            bool::from(params.pow(&generator, params.q.as_ref()).is_one()),
            "group {id}"
        );
    }
}

#[test]
fn h1_ecdh_integrated_mapping() {
    let password = Password::Can("123456".into());
    assert_eq!(password.k_pi(SmCipher::Aes128).as_bytes(), v(H1, "k_pi"));
    let ctx = Context::new(protocol(H1), 13, &password).unwrap();
    assert_eq!(
        ctx.decrypt_nonce(&v(H1, "encrypted_nonce_z"))
            .unwrap()
            .as_slice(),
        v(H1, "nonce_s")
    );
    let r = im_prf(
        &v(H1, "nonce_s"),
        &v(H1, "nonce_t"),
        ctx.group.p_bits().unwrap(),
    )
    .unwrap();
    assert_eq!(r, v(H1, "prf_r_output"));
    let Group::Ec { curve, .. } = ctx.group else {
        panic!()
    };
    let field = group::tests_support::curve_field(curve);
    assert_eq!(
        group::left_pad(&field.reduce(&r).to_be_bytes(), 32),
        v(H1, "r_mod_p")
    );
    // Through the terminal's states.
    let (_, wait) = start(protocol(H1), 13, &password).unwrap();
    let z = tlv::encode(0x7C, &tlv::encode(0x80, &v(H1, "encrypted_nonce_z")));
    let (ga2, wait) = wait.map(&z, &v(H1, "nonce_t")).unwrap();
    assert_eq!(
        ga2.data,
        tlv::encode(0x7C, &tlv::encode(0x81, &v(H1, "nonce_t")))
    );
    let (ga3, wait) = wait
        .agree(&[0x7C, 0x00], &v(H1, "terminal_ephemeral_private_key"))
        .unwrap();
    assert_eq!(wait.mapped.generator(), point(H1, "mapped_generator"));
    assert_eq!(
        ga3.data,
        tlv::encode(
            0x7C,
            &tlv::encode(0x83, &point(H1, "terminal_ephemeral_public_key"))
        )
    );
    let chip_key = tlv::encode(
        0x7C,
        &tlv::encode(0x84, &point(H1, "chip_ephemeral_public_key")),
    );
    let (ga4, wait) = wait.authenticate(&chip_key).unwrap();
    assert_eq!(wait.keys.enc.as_bytes(), v(H1, "ks_enc"));
    assert_eq!(wait.keys.mac.as_bytes(), v(H1, "ks_mac"));
    assert_eq!(
        ga4.data,
        tlv::encode(0x7C, &tlv::encode(0x85, &v(H1, "t_ifd")))
    );
    let t_ic = tlv::encode(0x7C, &tlv::encode(0x86, &v(H1, "t_ic")));
    wait.finish(&t_ic).unwrap();
}

#[test]
fn h2_dh_integrated_mapping() {
    let password = Password::Can("123456".into());
    let (_, wait) = start(protocol(H2), 0, &password).unwrap();
    let z = tlv::encode(0x7C, &tlv::encode(0x80, &v(H2, "encrypted_nonce_z")));
    let (_, wait) = wait.map(&z, &v(H2, "nonce_t")).unwrap();
    assert_eq!(wait.s.as_slice(), v(H2, "nonce_s"));
    let r = im_prf(&v(H2, "nonce_s"), &v(H2, "nonce_t"), 1024).unwrap();
    assert_eq!(r, v(H2, "prf_r_output"));
    let (ga3, wait) = wait
        .agree(&[0x7C, 0x00], &v(H2, "terminal_ephemeral_private_key"))
        .unwrap();
    assert_eq!(wait.mapped.generator(), v(H2, "mapped_generator"));
    assert_eq!(
        ga3.data,
        tlv::encode(
            0x7C,
            &tlv::encode(0x83, &v(H2, "terminal_ephemeral_public_key"))
        )
    );
    let chip_key = tlv::encode(
        0x7C,
        &tlv::encode(0x84, &v(H2, "chip_ephemeral_public_key")),
    );
    let (ga4, wait) = wait.authenticate(&chip_key).unwrap();
    assert_eq!(wait.keys.enc.as_bytes(), v(H2, "ks_enc"));
    assert_eq!(wait.keys.mac.as_bytes(), v(H2, "ks_mac"));
    assert_eq!(
        ga4.data,
        tlv::encode(0x7C, &tlv::encode(0x85, &v(H2, "t_ifd")))
    );
    wait.finish(&tlv::encode(0x7C, &tlv::encode(0x86, &v(H2, "t_ic"))))
        .unwrap();
}

#[test]
fn i1_chip_authentication_mapping() {
    let p = protocol(I1);
    assert_eq!(p.mapping, Mapping::ChipAuthentication);
    let password =
        Password::Mrz(string("/pace_cam_ecdh_brainpoolp256r1/mrz_information").to_owned());
    assert_eq!(
        mse_set_at(&p, &password).encode(false),
        v(I1, "mse_set_at_command")
    );
    assert_eq!(
        password.k_pi(SmCipher::Aes128).as_bytes(),
        hex("/pace_cam_ecdh_brainpoolp256r1/derived/k_pi_from_mrz_information")
    );
    // No encrypted nonce was published: feed the state machine z = E(K_pi, s).
    let ctx = Context::new(p, 13, &password).unwrap();
    let z = tlv::encode(
        0x7C,
        &tlv::encode(0x80, &ctx.encrypt_nonce(&v(I1, "nonce_s")).unwrap()),
    );
    let (_, wait) = start(p, 13, &password).unwrap();
    let (ga2, wait) = wait
        .map(&z, &v(I1, "terminal_mapping_private_key"))
        .unwrap();
    assert_eq!(ga2.encode(false), v(I1, "ga2_command"));
    let chip_map = tlv::encode(
        0x7C,
        &tlv::encode(0x82, &point(I1, "chip_mapping_public_key")),
    );
    let (ga3, wait) = wait
        .agree(&chip_map, &v(I1, "terminal_ephemeral_private_key"))
        .unwrap();
    assert_eq!(wait.mapped.generator(), point(I1, "mapped_generator"));
    assert_eq!(ga3.encode(false), v(I1, "ga3_command"));
    let chip_key = tlv::encode(
        0x7C,
        &tlv::encode(0x84, &point(I1, "chip_ephemeral_public_key")),
    );
    let (ga4, wait) = wait.authenticate(&chip_key).unwrap();
    assert_eq!(wait.keys.enc.as_bytes(), v(I1, "ks_enc"));
    assert_eq!(wait.keys.mac.as_bytes(), v(I1, "ks_mac"));
    assert_eq!(ga4.encode(false), v(I1, "ga4_command"));
    assert_eq!(
        crypto::aes_encrypt_block(wait.keys.enc.as_bytes(), &[0xFF; 16])
            .unwrap()
            .to_vec(),
        v(I1, "a_ic_iv")
    );
    let mut resp = tlv::encode(0x86, &v(I1, "t_ic"));
    resp.extend_from_slice(&tlv::encode(
        0x8A,
        &v(I1, "encrypted_chip_authentication_data_a_ic"),
    ));
    let outcome = wait.finish(&tlv::encode(0x7C, &resp)).unwrap();
    let cam = outcome.chip_authentication.unwrap();
    assert_eq!(cam.ca_ic, v(I1, "chip_authentication_data_ca_ic"));
    cam.verify(&point(I1, "chip_static_public_key")).unwrap();
    assert_eq!(
        cam.verify(&point(G1, "chip_ephemeral_public_key")),
        Err(Error::AccessDenied(
            "Chip Authentication Mapping does not verify"
        ))
    );
}

#[test]
fn chip_and_terminal_agree_on_every_supported_curve_and_mapping() {
    for (oid, id) in [
        ("0.4.0.127.0.7.2.2.4.2.2", 12),
        ("0.4.0.127.0.7.2.2.4.2.4", 15),
        ("0.4.0.127.0.7.2.2.4.2.3", 18),
        ("0.4.0.127.0.7.2.2.4.2.1", 16),
        ("0.4.0.127.0.7.2.2.4.4.2", 12),
        ("0.4.0.127.0.7.2.2.4.4.2", 18),
        ("0.4.0.127.0.7.2.2.4.4.2", 16),
        ("0.4.0.127.0.7.2.2.4.6.2", 12),
        ("0.4.0.127.0.7.2.2.4.1.1", 1),
        ("0.4.0.127.0.7.2.2.4.3.2", 2),
        // Curves without a crate, through crate::weierstrass (9303-11 section 9.5.1).
        ("0.4.0.127.0.7.2.2.4.2.2", 17),
        ("0.4.0.127.0.7.2.2.4.2.4", 17),
        ("0.4.0.127.0.7.2.2.4.4.2", 17),
        ("0.4.0.127.0.7.2.2.4.6.4", 17),
        ("0.4.0.127.0.7.2.2.4.2.2", 8),
        ("0.4.0.127.0.7.2.2.4.2.2", 9),
        ("0.4.0.127.0.7.2.2.4.2.2", 10),
        ("0.4.0.127.0.7.2.2.4.2.2", 11),
        ("0.4.0.127.0.7.2.2.4.2.2", 14),
        ("0.4.0.127.0.7.2.2.4.4.2", 8),
        ("0.4.0.127.0.7.2.2.4.4.2", 9),
        ("0.4.0.127.0.7.2.2.4.4.2", 11),
        ("0.4.0.127.0.7.2.2.4.4.2", 14),
        ("0.4.0.127.0.7.2.2.4.6.2", 14),
    ] {
        assert!(
            is_supported(&PaceProtocol::from_oid(oid).unwrap(), id),
            "{oid}/{id}"
        );
        let p = PaceProtocol::from_oid(oid).unwrap();
        let password = Password::Can("987654".into());
        let s = random_nonce(&p).unwrap();
        let (ga1, term) = start(p, id, &password).unwrap();
        let (r1, chip) = chip_start(p, id, &password, &s, &ga1.data).unwrap();
        let secret = term.random_mapping_secret().unwrap();
        let (ga2, term) = term.map(&r1, &secret).unwrap();
        let chip_key = chip.random_private().unwrap();
        let (r2, chip) = chip.respond(&ga2.data, &chip_key).unwrap();
        let eph = term.random_ephemeral_private().unwrap();
        let (ga3, term) = term.agree(&r2, &eph).unwrap();
        let chip_eph = chip.random_private().unwrap();
        let (r3, chip) = chip.respond(&ga3.data, &chip_eph).unwrap();
        let (ga4, term) = term.authenticate(&r3).unwrap();
        let static_key = Group::standard(id).unwrap().random_private().unwrap();
        let (r4, mut chip_sm) = chip.respond(&ga4.data, Some(&static_key)).unwrap();
        let mut outcome = term
            .finish(&r4)
            .unwrap_or_else(|e| panic!("{oid}/{id}: {e}"));
        if let Some(cam) = &outcome.chip_authentication {
            cam.verify(&static_public_key(id, &static_key).unwrap())
                .unwrap();
        }
        let cmd = Command::new(0, 0xB0, 0, 0).with_le(5);
        let wire = outcome.channel.protect_command(&cmd, false).unwrap();
        assert_eq!(chip_sm.unprotect_command(&wire).unwrap(), cmd);
    }
}

#[test]
fn wrong_password_is_refused_by_the_chip() {
    let p = protocol(G1);
    let s = random_nonce(&p).unwrap();
    let (ga1, term) = start(p, 13, &Password::Can("111111".into())).unwrap();
    let (r1, chip) = chip_start(p, 13, &Password::Can("222222".into()), &s, &ga1.data).unwrap();
    let secret = term.random_mapping_secret().unwrap();
    let (ga2, term) = term.map(&r1, &secret).unwrap();
    let k = chip.random_private().unwrap();
    let (r2, chip) = chip.respond(&ga2.data, &k).unwrap();
    let k = term.random_ephemeral_private().unwrap();
    let (ga3, term) = term.agree(&r2, &k).unwrap();
    let k = chip.random_private().unwrap();
    let (r3, chip) = chip.respond(&ga3.data, &k).unwrap();
    let (ga4, _) = term.authenticate(&r3).unwrap();
    assert!(matches!(
        chip.respond(&ga4.data, None),
        Err(Error::AccessDenied(_))
    ));
}

#[test]
fn unsupported_parameters_and_oids() {
    for id in [3, 7, 19, 99] {
        assert!(
            matches!(Group::standard(id), Err(Error::Unsupported(_))),
            "{id}"
        );
    }
    assert!(PaceProtocol::from_oid("0.4.0.127.0.7.2.2.4.6.1").is_err());
    assert!(PaceProtocol::from_oid("0.4.0.127.0.7.2.2.3.2.2").is_err());
    let dh = PaceProtocol::from_oid("0.4.0.127.0.7.2.2.4.1.2").unwrap();
    assert!(!is_supported(&dh, 13), "DH protocol with a curve");
    let im256 = PaceProtocol::from_oid("0.4.0.127.0.7.2.2.4.4.4").unwrap();
    assert!(!is_supported(&im256, 13));
    // P-224 has p = 1 mod 4: no Integrated Mapping point encoding here.
    let im128 = PaceProtocol::from_oid("0.4.0.127.0.7.2.2.4.4.2").unwrap();
    assert!(!is_supported(&im128, 10));
    assert!(matches!(
        Group::standard(10).unwrap().map_integrated(&[7; 40]),
        Err(Error::Unsupported(_))
    ));
}

#[test]
fn brainpool_p512r1_group_checks_points() {
    let group = Group::standard(17).unwrap();
    assert_eq!(
        Curve::from_parameter_id(17).unwrap(),
        Curve::BrainpoolP512r1
    );
    let g = group.generator();
    assert_eq!(g.len(), 129);
    group.check_element(&g).unwrap();
    let mut off = g.clone();
    off[128] ^= 1;
    for bad in [&off[..], &g[..128], &[0x04; 129], &[0x00], &[]] {
        assert!(matches!(
            group.check_element(bad),
            Err(Error::CardMisbehaved(CardFault::BadPublicKey(_)))
        ));
    }
    let k = group.random_private().unwrap();
    let public = group.public_key(&k).unwrap();
    let k2 = group.random_private().unwrap();
    let public2 = group.public_key(&k2).unwrap();
    assert_eq!(
        group.shared(&k, &public2).unwrap(),
        group.shared(&k2, &public).unwrap()
    );
    assert!(group.shared(&k, &off).is_err());
}

#[test]
fn truncated_and_malformed_responses_are_errors() {
    let password = g1_password();
    let resp = data(v(G1, "ga1_response"));
    for cut in 0..resp.len() {
        let (_, wait) = start(protocol(G1), 13, &password).unwrap();
        assert!(
            wait.map(&resp[..cut], &v(G1, "terminal_mapping_private_key"))
                .is_err(),
            "{cut}"
        );
    }
    let (_, wait) = start(protocol(G1), 13, &password).unwrap();
    let mut trailing = resp.clone();
    trailing.push(0);
    assert!(
        wait.map(&trailing, &v(G1, "terminal_mapping_private_key"))
            .is_err()
    );
}
