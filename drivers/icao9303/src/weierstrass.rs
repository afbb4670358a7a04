//! Short-Weierstrass curves y² = x³ + ax + b over a prime field, for the curves no crate implements.
//!
//! ICAO 9303-11 §9.5.1 lists standardized domain parameters on curves the
//! RustCrypto crates do not cover: P-192 (ID 8), brainpoolP192r1 (9),
//! P-224 (10), brainpoolP224r1 (11), brainpoolP320r1 (14) and
//! brainpoolP512r1 (17). This module computes on them with `crypto-bigint`
//! field arithmetic; the curves that have a crate (P-256, P-384, P-521,
//! brainpoolP256r1, brainpoolP384r1) stay with their crate.
//!
//! What it is: point decoding and encoding (SEC 1 §2.3.3–2.3.4, uncompressed
//! only), point addition with the complete projective formulas of Renes,
//! Costello and Batina (EUROCRYPT 2016, Algorithm 1: valid for every input,
//! the identity and doubling included, on the odd-order curves here), a
//! fixed-length Montgomery ladder for scalar multiplication (constant time:
//! the same operations for every scalar of a curve, conditional swaps from
//! `crypto-bigint`), ECDH (SEC 1 §3.3.1) and ECDSA verification (SEC 1
//! §4.1.4, FIPS 186-4 §6.4). What it is not: a signer, or a library for
//! curves with a cofactor other than 1 ([`Curve::new`] refuses them).
//!
//! Every byte that comes in is untrusted: lengths are checked, points must be
//! on the curve and not the identity, scalars in [1, n-1]; nothing panics.

use std::sync::OnceLock;

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Choice, CtLt, CtSelect, Odd};
use zeroize::Zeroizing;

use crate::error::{CardFault, Error};

#[cfg(test)]
mod tests;

/// A curve's domain parameters (p, a, b, G, n, h), big-endian lowercase hex, each as long as p.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurveParams {
    /// The usual name, e.g. `"brainpoolP512r1"`.
    pub name: &'static str,
    /// The field prime p.
    pub p: &'static str,
    /// Coefficient a.
    pub a: &'static str,
    /// Coefficient b.
    pub b: &'static str,
    /// x of the base point G.
    pub gx: &'static str,
    /// y of the base point G.
    pub gy: &'static str,
    /// The prime order n of G.
    pub n: &'static str,
    /// The cofactor h.
    pub h: u32,
}

/// P-192, secp192r1 (SEC 2 §2.2.2; FIPS 186-4 §D.1.2.1); 9303-11 §9.5.1 ID 8.
pub const P192: CurveParams = CurveParams {
    name: "P-192",
    p: "fffffffffffffffffffffffffffffffeffffffffffffffff",
    a: "fffffffffffffffffffffffffffffffefffffffffffffffc",
    b: "64210519e59c80e70fa7e9ab72243049feb8deecc146b9b1",
    gx: "188da80eb03090f67cbf20eb43a18800f4ff0afd82ff1012",
    gy: "07192b95ffc8da78631011ed6b24cdd573f977a11e794811",
    n: "ffffffffffffffffffffffff99def836146bc9b1b4d22831",
    h: 1,
};

/// P-224, secp224r1 (SEC 2 §2.3.2; FIPS 186-4 §D.1.2.2); 9303-11 §9.5.1 ID 10.
pub const P224: CurveParams = CurveParams {
    name: "P-224",
    p: "ffffffffffffffffffffffffffffffff000000000000000000000001",
    a: "fffffffffffffffffffffffffffffffefffffffffffffffffffffffe",
    b: "b4050a850c04b3abf54132565044b0b7d7bfd8ba270b39432355ffb4",
    gx: "b70e0cbd6bb4bf7f321390b94a03c1d356c21122343280d6115c1d21",
    gy: "bd376388b5f723fb4c22dfe6cd4375a05a07476444d5819985007e34",
    n: "ffffffffffffffffffffffffffff16a2e0b8f03e13dd29455c5c2a3d",
    h: 1,
};

/// brainpoolP192r1 (RFC 5639 §3.1); 9303-11 §9.5.1 ID 9.
pub const BRAINPOOL_P192R1: CurveParams = CurveParams {
    name: "brainpoolP192r1",
    p: "c302f41d932a36cda7a3463093d18db78fce476de1a86297",
    a: "6a91174076b1e0e19c39c031fe8685c1cae040e5c69a28ef",
    b: "469a28ef7c28cca3dc721d044f4496bcca7ef4146fbf25c9",
    gx: "c0a0647eaab6a48753b033c56cb0f0900a2f5c4853375fd6",
    gy: "14b690866abd5bb88b5f4828c1490002e6773fa2fa299b8f",
    n: "c302f41d932a36cda7a3462f9e9e916b5be8f1029ac4acc1",
    h: 1,
};

/// brainpoolP224r1 (RFC 5639 §3.2); 9303-11 §9.5.1 ID 11.
pub const BRAINPOOL_P224R1: CurveParams = CurveParams {
    name: "brainpoolP224r1",
    p: "d7c134aa264366862a18302575d1d787b09f075797da89f57ec8c0ff",
    a: "68a5e62ca9ce6c1c299803a6c1530b514e182ad8b0042a59cad29f43",
    b: "2580f63ccfe44138870713b1a92369e33e2135d266dbb372386c400b",
    gx: "0d9029ad2c7e5cf4340823b2a87dc68c9e4ce3174c1e6efdee12c07d",
    gy: "58aa56f772c0726f24c6b89e4ecdac24354b9e99caa3f6d3761402cd",
    n: "d7c134aa264366862a18302575d0fb98d116bc4b6ddebca3a5a7939f",
    h: 1,
};

/// brainpoolP320r1 (RFC 5639 §3.5); 9303-11 §9.5.1 ID 14.
pub const BRAINPOOL_P320R1: CurveParams = CurveParams {
    name: "brainpoolP320r1",
    p: "d35e472036bc4fb7e13c785ed201e065f98fcfa6f6f40def4f92b9ec7893ec28fcd412b1f1b32e27",
    a: "3ee30b568fbab0f883ccebd46d3f3bb8a2a73513f5eb79da66190eb085ffa9f492f375a97d860eb4",
    b: "520883949dfdbc42d3ad198640688a6fe13f41349554b49acc31dccd884539816f5eb4ac8fb1f1a6",
    gx: "43bd7e9afb53d8b85289bcc48ee5bfe6f20137d10a087eb6e7871e2a10a599c710af8d0d39e20611",
    gy: "14fdd05545ec1cc8ab4093247f77275e0743ffed117182eaa9c77877aaac6ac7d35245d1692e8ee1",
    n: "d35e472036bc4fb7e13c785ed201e065f98fcfa5b68f12a32d482ec7ee8658e98691555b44c59311",
    h: 1,
};

/// brainpoolP512r1 (RFC 5639 §3.7); 9303-11 §9.5.1 ID 17.
pub const BRAINPOOL_P512R1: CurveParams = CurveParams {
    name: "brainpoolP512r1",
    p: concat!(
        "aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca70330871",
        "7d4d9b009bc66842aecda12ae6a380e62881ff2f2d82c68528aa6056583a48f3"
    ),
    a: concat!(
        "7830a3318b603b89e2327145ac234cc594cbdd8d3df91610a83441caea9863bc",
        "2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a72bf2c7b9e7c1ac4d77fc94ca"
    ),
    b: concat!(
        "3df91610a83441caea9863bc2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a7",
        "2bf2c7b9e7c1ac4d77fc94cadc083e67984050b75ebae5dd2809bd638016f723"
    ),
    gx: concat!(
        "81aee4bdd82ed9645a21322e9c4c6a9385ed9f70b5d916c1b43b62eef4d0098e",
        "ff3b1f78e2d0d48d50d1687b93b97d5f7c6d5047406a5e688b352209bcb9f822"
    ),
    gy: concat!(
        "7dde385d566332ecc0eabfa9cf7822fdf209f70024a57b1aa000c55b881f8111",
        "b2dcde494a5f485e5bca4bd88a2763aed1ca2b2fa8f0540678cd1e0f3ad80892"
    ),
    n: concat!(
        "aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca70330870",
        "553e5c414ca92619418661197fac10471db1d381085ddaddb58796829ca90069"
    ),
    h: 1,
};

/// A curve ready to compute on: the parameters with their Montgomery forms.
#[derive(Debug, Clone)]
pub struct Curve {
    params: &'static CurveParams,
    /// Bytes of a field element (and of a scalar).
    len: usize,
    /// Bits of precision of every integer here.
    precision: u32,
    p: Odd<BoxedUint>,
    field: BoxedMontyParams,
    n: Odd<BoxedUint>,
    order: BoxedMontyParams,
    /// Bits of n: the ladder's fixed length.
    n_bits: u32,
    a: BoxedMontyForm,
    b: BoxedMontyForm,
    /// 3·b, for the complete addition formulas.
    b3: BoxedMontyForm,
    g: Point,
}

/// A point in homogeneous projective coordinates (X : Y : Z); the identity is (0 : 1 : 0).
#[derive(Debug, Clone)]
struct Point {
    x: BoxedMontyForm,
    y: BoxedMontyForm,
    z: BoxedMontyForm,
}

impl Point {
    /// Swaps `self` and `other` when `choice` is true, in constant time.
    fn ct_swap(&mut self, other: &mut Self, choice: Choice) {
        self.x
            .as_montgomery_mut()
            .ct_swap(other.x.as_montgomery_mut(), choice);
        self.y
            .as_montgomery_mut()
            .ct_swap(other.y.as_montgomery_mut(), choice);
        self.z
            .as_montgomery_mut()
            .ct_swap(other.z.as_montgomery_mut(), choice);
    }
}

/// Big-endian bytes of a hex constant.
fn hex_bytes(s: &str) -> Result<Vec<u8>, Error> {
    if !s.len().is_multiple_of(2) {
        return Err(Error::ApiMisuse("odd-length hex constant"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(Error::ApiMisuse("bad hex constant"))
        })
        .collect()
}

/// Big-endian bytes padded (or stripped of leading bytes) to exactly `len`.
fn left_pad(bytes: &[u8], len: usize) -> Vec<u8> {
    let significant = bytes
        .get(bytes.len().saturating_sub(len)..)
        .unwrap_or(bytes);
    let mut out = vec![0u8; len - significant.len()];
    out.extend_from_slice(significant);
    out
}

/// `bytes` without leading zero bytes.
fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// The curves of this module, in the order of [`CACHE`].
const STANDARD: [&CurveParams; 6] = [
    &P192,
    &P224,
    &BRAINPOOL_P192R1,
    &BRAINPOOL_P224R1,
    &BRAINPOOL_P320R1,
    &BRAINPOOL_P512R1,
];

/// Each standard curve, prepared once per process (its Montgomery parameters cost a few modular inversions).
static CACHE: [OnceLock<Result<Curve, Error>>; 6] = [const { OnceLock::new() }; 6];

impl Curve {
    /// The prepared curve of one of this module's constants ([`P192`] … [`BRAINPOOL_P512R1`]), built on first use and shared after.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] for other constants (use [`Curve::new`]) or when they do not check.
    pub fn cached(params: &CurveParams) -> Result<&'static Curve, Error> {
        let index = STANDARD
            .iter()
            .position(|s| *s == params)
            .ok_or(Error::ApiMisuse("not one of the standard generic curves"))?;
        let slot = CACHE
            .get(index)
            .ok_or(Error::ApiMisuse("curve cache index"))?;
        let standard = STANDARD
            .get(index)
            .copied()
            .ok_or(Error::ApiMisuse("curve cache index"))?;
        slot.get_or_init(|| Curve::new(standard))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Prepares a curve from its constants, checking them: p and n odd and as long as each other, h = 1, G on the curve.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] for constants that are malformed or describe a curve this module does not take.
    pub fn new(params: &'static CurveParams) -> Result<Self, Error> {
        if params.h != 1 {
            return Err(Error::ApiMisuse("only cofactor 1 curves"));
        }
        let p_bytes = hex_bytes(params.p)?;
        let len = p_bytes.len();
        if len == 0 || strip_zeros(&p_bytes).len() != len {
            return Err(Error::ApiMisuse("curve prime"));
        }
        let precision = (len * 8) as u32;
        let uint = |hex: &str| -> Result<BoxedUint, Error> {
            let bytes = hex_bytes(hex)?;
            if bytes.len() != len {
                return Err(Error::ApiMisuse("curve constant of the wrong length"));
            }
            BoxedUint::from_be_slice(&bytes, precision)
                .map_err(|_| Error::ApiMisuse("curve constant"))
        };
        let p = Option::<Odd<BoxedUint>>::from(Odd::new(uint(params.p)?))
            .ok_or(Error::ApiMisuse("even curve prime"))?;
        let n = Option::<Odd<BoxedUint>>::from(Odd::new(uint(params.n)?))
            .ok_or(Error::ApiMisuse("even curve order"))?;
        let field = BoxedMontyParams::new(p.clone());
        let order = BoxedMontyParams::new(n.clone());
        let fe = |hex: &str| -> Result<BoxedMontyForm, Error> {
            let v = uint(hex)?;
            if v.cmp_vartime(p.as_ref()) != std::cmp::Ordering::Less {
                return Err(Error::ApiMisuse("curve constant not below p"));
            }
            Ok(BoxedMontyForm::new(v, &field))
        };
        let a = fe(params.a)?;
        let b = fe(params.b)?;
        let gx = fe(params.gx)?;
        let gy = fe(params.gy)?;
        let b3 = b.double().add(&b);
        let one = BoxedMontyForm::one(&field);
        let n_bits = n.as_ref().bit_width_vartime();
        let curve = Self {
            params,
            len,
            precision,
            p,
            field,
            n,
            order,
            n_bits,
            a,
            b,
            b3,
            g: Point {
                x: gx,
                y: gy,
                z: one,
            },
        };
        if !curve.on_curve(&curve.g.x, &curve.g.y) {
            return Err(Error::ApiMisuse("curve generator not on the curve"));
        }
        Ok(curve)
    }

    /// The constants this curve was made from.
    pub fn params(&self) -> &'static CurveParams {
        self.params
    }

    /// Bytes of a field element, of a scalar and of the ECDH shared secret.
    pub fn field_len(&self) -> usize {
        self.len
    }

    /// The generator G, uncompressed (SEC 1 §2.3.3).
    pub fn generator(&self) -> Vec<u8> {
        self.encode_affine(&self.g.x, &self.g.y)
    }

    /// Checks an uncompressed point: the right length, coordinates below p, on the curve (so not the identity).
    ///
    /// # Errors
    /// [`CardFault::BadPublicKey`] when it is not a point of this curve.
    pub fn check_point(&self, bytes: &[u8]) -> Result<(), Error> {
        self.decode(bytes).map(|_| ())
    }

    /// `scalar · point` for a secret scalar in [1, n-1], uncompressed; constant time in the scalar.
    ///
    /// # Errors
    /// [`CardFault::BadPublicKey`] for an invalid point or an identity result;
    /// [`Error::ApiMisuse`] for a scalar out of range.
    pub fn mul(&self, point: &[u8], scalar: &[u8]) -> Result<Vec<u8>, Error> {
        let p = self.decode(point)?;
        let k = self.scalar(scalar)?;
        self.encode(&self.ladder(&p, &k))
    }

    /// `scalar · G` for a secret scalar in [1, n-1] (a public key), uncompressed.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] for a scalar out of range.
    pub fn mul_generator(&self, scalar: &[u8]) -> Result<Vec<u8>, Error> {
        let k = self.scalar(scalar)?;
        self.encode(&self.ladder(&self.g, &k))
    }

    /// `a + b` of two uncompressed points.
    ///
    /// # Errors
    /// [`CardFault::BadPublicKey`] for an invalid point or when the sum is the identity.
    pub fn add_points(&self, a: &[u8], b: &[u8]) -> Result<Vec<u8>, Error> {
        let a = self.decode(a)?;
        let b = self.decode(b)?;
        self.encode(&self.add(&a, &b))
    }

    /// ECDH (SEC 1 §3.3.1): the x-coordinate of `private · peer`, as long as p.
    ///
    /// # Errors
    /// [`CardFault::BadPublicKey`] for an invalid peer point or an identity result;
    /// [`Error::ApiMisuse`] for a private key out of range.
    pub fn ecdh(&self, private: &[u8], peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        let shared = Zeroizing::new(self.mul(peer, private)?);
        Ok(Zeroizing::new(
            shared.get(1..1 + self.len).unwrap_or_default().to_vec(),
        ))
    }

    /// Whether `bytes` is a scalar in [1, n-1] (big-endian, at most as long as n after leading zeros).
    pub fn scalar_ok(&self, bytes: &[u8]) -> bool {
        self.scalar(bytes).is_ok()
    }

    /// `a⁻¹ · b mod n`, as long as n.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] when a scalar is out of range.
    pub fn inverse_times(&self, a: &[u8], b: &[u8]) -> Result<Vec<u8>, Error> {
        let a = BoxedMontyForm::new(self.scalar(a)?.clone(), &self.order);
        let b = BoxedMontyForm::new(self.scalar(b)?.clone(), &self.order);
        let inv =
            Option::<BoxedMontyForm>::from(a.invert()).ok_or(Error::ApiMisuse("zero scalar"))?;
        Ok(left_pad(&inv.mul(&b).retrieve().to_be_bytes(), self.len))
    }

    /// ECDSA verification over a precomputed hash (SEC 1 §4.1.4; FIPS 186-4 §6.4): `r`, `s` big-endian.
    ///
    /// The hash is truncated to the bit length of n. Public data only: variable time.
    ///
    /// # Errors
    /// A reason string when the key, the signature values or the signature are not valid.
    pub fn verify_prehash(
        &self,
        public_key: &[u8],
        hash: &[u8],
        r: &[u8],
        s: &[u8],
    ) -> Result<(), &'static str> {
        let q = self
            .decode(public_key)
            .map_err(|_| "EC public key is not a point of the curve")?;
        let r = self.scalar(r).map_err(|_| "ECDSA r is not in [1, n-1]")?;
        let s = self.scalar(s).map_err(|_| "ECDSA s is not in [1, n-1]")?;
        let e = self.hash_to_scalar(hash);
        let w =
            Option::<BoxedMontyForm>::from(BoxedMontyForm::new(s, &self.order).invert_vartime())
                .ok_or("ECDSA s is not invertible")?;
        let u1 = BoxedMontyForm::new(e, &self.order).mul(&w).retrieve();
        let u2 = BoxedMontyForm::new(r.clone(), &self.order)
            .mul(&w)
            .retrieve();
        let sum = self.add(&self.ladder(&self.g, &u1), &self.ladder(&q, &u2));
        let (x, _) = self
            .to_affine(&sum)
            .ok_or("ECDSA signature does not verify")?;
        let mut v = x.retrieve();
        while v.cmp_vartime(self.n.as_ref()) != std::cmp::Ordering::Less {
            v = v.wrapping_sub(self.n.as_ref());
        }
        if v.cmp_vartime(&r) == std::cmp::Ordering::Equal {
            Ok(())
        } else {
            Err("ECDSA signature does not verify")
        }
    }

    /// The leftmost bits of `hash`, as many as n has, reduced mod n (SEC 1 §4.1.3 step 5).
    fn hash_to_scalar(&self, hash: &[u8]) -> BoxedUint {
        let n_bytes = self.n_bits.div_ceil(8) as usize;
        let take = hash.len().min(n_bytes);
        let head = hash.get(..take).unwrap_or_default();
        let mut e = BoxedUint::from_be_slice(&left_pad(head, self.len), self.precision)
            .unwrap_or_else(|_| BoxedUint::zero_with_precision(self.precision));
        let excess = (take as u32 * 8).saturating_sub(self.n_bits);
        if excess > 0 {
            e = e.shr(excess);
        }
        if e.cmp_vartime(self.n.as_ref()) != std::cmp::Ordering::Less {
            e = e.wrapping_sub(self.n.as_ref());
        }
        e
    }

    /// A scalar in [1, n-1] from big-endian bytes; the range check is constant time.
    fn scalar(&self, bytes: &[u8]) -> Result<BoxedUint, Error> {
        let significant = strip_zeros(bytes);
        if significant.len() > self.len {
            return Err(Error::ApiMisuse("scalar longer than the curve order"));
        }
        let k = BoxedUint::from_be_slice(&left_pad(significant, self.len), self.precision)
            .map_err(|_| Error::ApiMisuse("scalar"))?;
        let ok = k.ct_lt(self.n.as_ref()) & k.is_nonzero();
        if !ok.to_bool() {
            return Err(Error::ApiMisuse("scalar not in [1, n-1]"));
        }
        Ok(k)
    }

    /// Decodes `04 || x || y` (SEC 1 §2.3.4), checking x, y < p and y² = x³ + ax + b.
    fn decode(&self, bytes: &[u8]) -> Result<Point, Error> {
        if bytes.len() != 1 + 2 * self.len || bytes.first() != Some(&0x04) {
            return Err(
                CardFault::BadPublicKey("not an uncompressed point of the curve's size").into(),
            );
        }
        let coordinate = |range: std::ops::Range<usize>| -> Result<BoxedMontyForm, Error> {
            let v = bytes
                .get(range)
                .and_then(|b| BoxedUint::from_be_slice(b, self.precision).ok())
                .ok_or(CardFault::BadPublicKey("point coordinate"))?;
            if v.cmp_vartime(self.p.as_ref()) != std::cmp::Ordering::Less {
                return Err(CardFault::BadPublicKey("point coordinate not below p").into());
            }
            Ok(BoxedMontyForm::new(v, &self.field))
        };
        let x = coordinate(1..1 + self.len)?;
        let y = coordinate(1 + self.len..1 + 2 * self.len)?;
        if !self.on_curve(&x, &y) {
            return Err(CardFault::BadPublicKey("point is not on the curve").into());
        }
        Ok(Point {
            x,
            y,
            z: BoxedMontyForm::one(&self.field),
        })
    }

    /// Whether the affine (x, y) satisfies y² = x³ + ax + b.
    fn on_curve(&self, x: &BoxedMontyForm, y: &BoxedMontyForm) -> bool {
        let rhs = x.square().mul(x).add(&self.a.mul(x)).add(&self.b);
        y.square().retrieve().cmp_vartime(rhs.retrieve()) == std::cmp::Ordering::Equal
    }

    /// (x, y) of a projective point, or `None` for the identity.
    fn to_affine(&self, p: &Point) -> Option<(BoxedMontyForm, BoxedMontyForm)> {
        let z_inv = Option::<BoxedMontyForm>::from(p.z.invert())?;
        Some((p.x.mul(&z_inv), p.y.mul(&z_inv)))
    }

    /// Uncompressed encoding; the identity has none.
    fn encode(&self, p: &Point) -> Result<Vec<u8>, Error> {
        let (x, y) = self
            .to_affine(p)
            .ok_or(CardFault::BadPublicKey("result is the point at infinity"))?;
        Ok(self.encode_affine(&x, &y))
    }

    /// `04 || x || y`, each as long as p.
    fn encode_affine(&self, x: &BoxedMontyForm, y: &BoxedMontyForm) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 2 * self.len);
        out.push(0x04);
        out.extend_from_slice(&left_pad(&x.retrieve().to_be_bytes(), self.len));
        out.extend_from_slice(&left_pad(&y.retrieve().to_be_bytes(), self.len));
        out
    }

    /// The identity (0 : 1 : 0).
    fn identity(&self) -> Point {
        Point {
            x: BoxedMontyForm::zero(&self.field),
            y: BoxedMontyForm::one(&self.field),
            z: BoxedMontyForm::zero(&self.field),
        }
    }

    /// `k · p` with a Montgomery ladder over all `n_bits` bits of k: the same additions, doublings and swaps for every k.
    fn ladder(&self, p: &Point, k: &BoxedUint) -> Point {
        let mut r0 = self.identity();
        let mut r1 = p.clone();
        for i in (0..self.n_bits).rev() {
            let bit = k.bit(i);
            r0.ct_swap(&mut r1, bit);
            r1 = self.add(&r0, &r1);
            r0 = self.add(&r0, &r0);
            r0.ct_swap(&mut r1, bit);
        }
        r0
    }

    /// Complete projective addition for any a (Renes–Costello–Batina 2016, Algorithm 1); also doubles.
    fn add(&self, p: &Point, q: &Point) -> Point {
        let (x1, y1, z1) = (&p.x, &p.y, &p.z);
        let (x2, y2, z2) = (&q.x, &q.y, &q.z);
        let a = &self.a;
        let b3 = &self.b3;
        let mut t0 = x1.mul(x2);
        let mut t1 = y1.mul(y2);
        let mut t2 = z1.mul(z2);
        let mut t3 = x1.add(y1);
        let mut t4 = x2.add(y2);
        t3 = t3.mul(&t4);
        t4 = t0.add(&t1);
        t3 = t3.sub(&t4);
        t4 = x1.add(z1);
        let mut t5 = x2.add(z2);
        t4 = t4.mul(&t5);
        t5 = t0.add(&t2);
        t4 = t4.sub(&t5);
        t5 = y1.add(z1);
        let mut x3 = y2.add(z2);
        t5 = t5.mul(&x3);
        x3 = t1.add(&t2);
        t5 = t5.sub(&x3);
        let mut z3 = a.mul(&t4);
        x3 = b3.mul(&t2);
        z3 = x3.add(&z3);
        x3 = t1.sub(&z3);
        z3 = t1.add(&z3);
        let mut y3 = x3.mul(&z3);
        t1 = t0.add(&t0);
        t1 = t1.add(&t0);
        t2 = a.mul(&t2);
        t4 = b3.mul(&t4);
        t1 = t1.add(&t2);
        t2 = t0.sub(&t2);
        t2 = a.mul(&t2);
        t4 = t4.add(&t2);
        t0 = t1.mul(&t4);
        y3 = y3.add(&t0);
        t0 = t5.mul(&t4);
        x3 = t3.mul(&x3);
        x3 = x3.sub(&t0);
        t0 = t3.mul(&t1);
        z3 = t5.mul(&z3);
        z3 = z3.add(&t0);
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }
}

/// Test access: the identity check of `n · G` and arbitrary-scalar multiplication.
#[cfg(test)]
impl Curve {
    /// Whether `k · G` is the identity, for any k below 2^n_bits (n itself included).
    pub(crate) fn generator_times_is_identity(&self, k_hex: &str) -> bool {
        let k = BoxedUint::from_be_slice(&hex_bytes(k_hex).unwrap_or_default(), self.precision)
            .unwrap_or_else(|_| BoxedUint::zero_with_precision(self.precision));
        self.to_affine(&self.ladder(&self.g, &k)).is_none()
    }

    /// ECDSA signing (SEC 1 §4.1.3) with a caller-chosen nonce, plain `r || s`: a test-only signer, never for real keys.
    pub(crate) fn sign_prehash_for_tests(
        &self,
        private: &[u8],
        nonce: &[u8],
        hash: &[u8],
    ) -> Option<Vec<u8>> {
        let d = self.scalar(private).ok()?;
        let k = self.scalar(nonce).ok()?;
        let (x, _) = self.to_affine(&self.ladder(&self.g, &k))?;
        let mut r = x.retrieve();
        while r.cmp_vartime(self.n.as_ref()) != std::cmp::Ordering::Less {
            r = r.wrapping_sub(self.n.as_ref());
        }
        let e = self.hash_to_scalar(hash);
        let k_inv = Option::<BoxedMontyForm>::from(BoxedMontyForm::new(k, &self.order).invert())?;
        let rd =
            BoxedMontyForm::new(r.clone(), &self.order).mul(&BoxedMontyForm::new(d, &self.order));
        let s = k_inv.mul(&BoxedMontyForm::new(e, &self.order).add(&rd));
        let mut out = left_pad(&r.to_be_bytes(), self.len);
        out.extend_from_slice(&left_pad(&s.retrieve().to_be_bytes(), self.len));
        Some(out)
    }
}
