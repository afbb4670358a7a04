use super::*;
use crate::vectors::{hex, vectors};

fn key(pointer: &str) -> TdesKey {
    TdesKey(hex(pointer).try_into().unwrap())
}

#[test]
fn kdf_matches_9303_appendix_d1() {
    let seed = hex("/bac/kseed");
    assert_eq!(
        kdf_3des(&seed, KdfCounter::Enc).0.to_vec(),
        hex("/bac/kenc")
    );
    assert_eq!(
        kdf_3des(&seed, KdfCounter::Mac).0.to_vec(),
        hex("/bac/kmac")
    );
}

#[test]
fn parity_adjustment_matches_appendix_d1() {
    let mut ka = hex("/bac/kenc_ka_unadjusted");
    adjust_parity(&mut ka);
    assert_eq!(ka, hex("/bac/kenc_ka"));
    let mut kb = hex("/bac/kmac_kb_unadjusted");
    adjust_parity(&mut kb);
    assert_eq!(kb, hex("/bac/kmac_kb"));
}

#[test]
fn padding_method_2_examples() {
    let examples = vectors()["iso9797_1"]["padding_method_2"]["examples_block8"]
        .as_array()
        .unwrap();
    for e in examples {
        let input = ::hex::decode(e["in"].as_str().unwrap()).unwrap();
        let out = ::hex::decode(e["out"].as_str().unwrap()).unwrap();
        assert_eq!(pad(&input, BLOCK), out);
        assert_eq!(unpad(&out).unwrap(), input.as_slice());
    }
}

#[test]
fn unpad_rejects_missing_marker() {
    assert_eq!(unpad(&[1, 2, 0, 0]), Err(CardFault::BadPadding));
    assert_eq!(unpad(&[0, 0, 0, 0]), Err(CardFault::BadPadding));
    assert_eq!(unpad(&[]), Err(CardFault::BadPadding));
}

#[test]
fn retail_mac_examples() {
    let examples = vectors()["iso9797_1"]["mac_algorithm_3"]["examples"]
        .as_array()
        .unwrap();
    assert_eq!(examples.len(), 5);
    for e in examples {
        let k = TdesKey(
            ::hex::decode(e["key"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
        );
        let mut msg = ::hex::decode(e["message"].as_str().unwrap()).unwrap();
        if e["padded"].as_bool().unwrap() {
            msg = pad(&msg, BLOCK);
        }
        let mac = ::hex::decode(e["mac"].as_str().unwrap()).unwrap();
        assert_eq!(retail_mac(&k, &msg).to_vec(), mac, "{}", e["source"]);
    }
}

#[test]
fn tdes_cbc_matches_appendix_d3() {
    let kenc = key("/bac/kenc");
    assert_eq!(
        tdes_cbc_encrypt(&kenc, &hex("/bac/s")).unwrap(),
        hex("/bac/e_ifd")
    );
    assert_eq!(
        tdes_cbc_decrypt(&kenc, &hex("/bac/e_ic")).unwrap(),
        hex("/bac/r")
    );
}

#[test]
fn tdes_rejects_ragged_input() {
    let k = key("/bac/kenc");
    assert!(tdes_cbc_encrypt(&k, &[0; 7]).is_err());
    assert_eq!(tdes_cbc_decrypt(&k, &[0; 9]), Err(CardFault::BadPadding));
}

#[test]
fn constant_time_compare() {
    assert!(ct_eq(b"abc", b"abc"));
    assert!(!ct_eq(b"abc", b"abd"));
    assert!(!ct_eq(b"abc", b"ab"));
}

fn h(s: &str) -> Vec<u8> {
    ::hex::decode(s).unwrap()
}

#[test]
fn aes_block_matches_fips_197() {
    let key = h("000102030405060708090a0b0c0d0e0f");
    let pt: [u8; 16] = h("00112233445566778899aabbccddeeff").try_into().unwrap();
    assert_eq!(
        aes_encrypt_block(&key, &pt).unwrap().to_vec(),
        h("69c4e0d86a7b0430d8cdb78070b4c55a")
    );
    let ct = aes_cbc_encrypt(&key, &[0; 16], &pt).unwrap();
    assert_eq!(aes_cbc_decrypt(&key, &[0; 16], &ct).unwrap(), pt);
}

#[test]
fn aes_cmac_matches_rfc_4493() {
    let key = h("2b7e151628aed2a6abf7158809cf4f3c");
    assert_eq!(
        aes_cmac(&key, &[]).unwrap().to_vec(),
        h("bb1d6929e95937287fa37d129b756746")
    );
    assert_eq!(
        aes_cmac(&key, &h("6bc1bee22e409f96e93d7e117393172a"))
            .unwrap()
            .to_vec(),
        h("070a16b46b4d4144f79bdd9dd04a287c")
    );
}

#[test]
fn kdf_uses_sha1_for_aes128_and_sha256_above() {
    let k = crate::vectors::hex("/pace_gm_ecdh_brainpoolp256r1/shared_secret_k");
    assert_eq!(
        kdf(&k, KdfCounter::Enc, SmCipher::Aes128).as_bytes(),
        crate::vectors::hex("/pace_gm_ecdh_brainpoolp256r1/ks_enc")
    );
    let full = Sha256::digest([k.as_slice(), &[0, 0, 0, 2]].concat());
    assert_eq!(
        kdf(&k, KdfCounter::Mac, SmCipher::Aes256).as_bytes(),
        &full[..]
    );
    assert_eq!(
        kdf(&k, KdfCounter::Mac, SmCipher::Aes192).as_bytes(),
        &full[..24]
    );
}

#[test]
fn aes_rejects_bad_key_lengths_and_ragged_ciphertext() {
    assert!(aes_cmac(&[0; 15], b"x").is_err());
    assert!(aes_cbc_decrypt(&[0; 16], &[0; 16], &[0; 17]).is_err());
}
