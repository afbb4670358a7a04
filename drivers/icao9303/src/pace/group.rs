//! The groups PACE computes in: elliptic curves (ECDH) and prime-order MODP groups (DH).
//!
//! Standardized domain parameters (9303-11 section 9.5.1): IDs 0–2 are the
//! RFC 5114 MODP groups, 8 P-192, 9 brainpoolP192r1, 10 P-224,
//! 11 brainpoolP224r1, 12 P-256, 13 brainpoolP256r1, 14 brainpoolP320r1,
//! 15 P-384, 16 brainpoolP384r1, 17 brainpoolP512r1 and 18 P-521. Every element crosses this module as
//! bytes: an uncompressed point `04 || x || y` or a big-endian DH value as
//! long as p. Every element that comes in is checked: on the curve and not
//! the point at infinity, or 1 < y < p-1 and y^q = 1.
//!
//! Curve arithmetic is the curve crates' (`ProjectivePoint` and the
//! `elliptic_curve::group` traits) where a crate exists, and
//! [`crate::weierstrass`]'s for IDs 8–11, 14 and 17; DH arithmetic and the field arithmetic of
//! the Integrated Mapping point encoding are `crypto-bigint`'s.

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, NonZero, Odd, Resize};
use elliptic_curve::group::{Curve as _, Group as _};
use elliptic_curve::hazmat::FieldArithmetic;
use elliptic_curve::ops::Invert;
use elliptic_curve::sec1::{FromSec1Point, ModulusSize, ToSec1Point};
use elliptic_curve::{
    AffinePoint, CurveArithmetic, FieldBytes, FieldBytesSize, PrimeField, Scalar,
};
use zeroize::Zeroizing;

use crate::error::{CardFault, Error};
use crate::weierstrass;

/// A standardized elliptic curve this crate computes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// NIST P-256 (parameter ID 12).
    P256,
    /// NIST P-384 (parameter ID 15).
    P384,
    /// NIST P-521 (parameter ID 18).
    P521,
    /// brainpoolP256r1 (parameter ID 13).
    BrainpoolP256r1,
    /// brainpoolP384r1 (parameter ID 16).
    BrainpoolP384r1,
    /// NIST P-192 (parameter ID 8; generic arithmetic, [`crate::weierstrass`]).
    P192,
    /// brainpoolP192r1 (parameter ID 9; generic arithmetic).
    BrainpoolP192r1,
    /// NIST P-224 (parameter ID 10; generic arithmetic).
    P224,
    /// brainpoolP224r1 (parameter ID 11; generic arithmetic).
    BrainpoolP224r1,
    /// brainpoolP320r1 (parameter ID 14; generic arithmetic).
    BrainpoolP320r1,
    /// brainpoolP512r1 (parameter ID 17; generic arithmetic).
    BrainpoolP512r1,
}

/// A group with its generator: the standard one, or the one a mapping produced.
#[derive(Clone)]
pub(crate) enum Group {
    /// An elliptic curve and a generator (uncompressed point).
    Ec { curve: Curve, generator: Vec<u8> },
    /// A MODP group and a generator.
    Dh {
        params: std::sync::Arc<DhParams>,
        generator: BoxedUint,
    },
}

/// p, q and the Montgomery parameters of a MODP group.
pub(crate) struct DhParams {
    p: Odd<BoxedUint>,
    pub(crate) q: NonZero<BoxedUint>,
    monty: BoxedMontyParams,
    /// Bytes of p.
    len: usize,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Group::Ec { curve, .. } => write!(f, "Group::Ec({curve:?})"),
            Group::Dh { params, .. } => write!(f, "Group::Dh({} bits)", params.len * 8),
        }
    }
}

/// Dispatches a generic function over the curve type.
macro_rules! on_curve {
    ($curve:expr, $f:ident ( $($arg:expr),* )) => {
        match $curve {
            Curve::P256 => $f::<p256::NistP256>($($arg),*),
            Curve::P384 => $f::<p384::NistP384>($($arg),*),
            Curve::P521 => $f::<p521::NistP521>($($arg),*),
            Curve::BrainpoolP256r1 => $f::<bp256::BrainpoolP256r1>($($arg),*),
            Curve::BrainpoolP384r1 => $f::<bp384::BrainpoolP384r1>($($arg),*),
            other => generic::$f(other $(, $arg)*),
        }
    };
}

impl Curve {
    /// The curve of a standardized domain parameter ID (9303-11 section 9.5.1), if supported.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for unknown IDs and the MODP groups (0–2).
    pub fn from_parameter_id(id: u32) -> Result<Self, Error> {
        match id {
            8 => Ok(Curve::P192),
            9 => Ok(Curve::BrainpoolP192r1),
            10 => Ok(Curve::P224),
            11 => Ok(Curve::BrainpoolP224r1),
            12 => Ok(Curve::P256),
            13 => Ok(Curve::BrainpoolP256r1),
            14 => Ok(Curve::BrainpoolP320r1),
            15 => Ok(Curve::P384),
            16 => Ok(Curve::BrainpoolP384r1),
            17 => Ok(Curve::BrainpoolP512r1),
            18 => Ok(Curve::P521),
            _ => Err(Error::Unsupported("PACE standardized domain parameter ID")),
        }
    }

    /// The constants of a curve computed with the generic arithmetic ([`crate::weierstrass`]), `None` for a crate's curve.
    pub fn generic_params(self) -> Option<&'static weierstrass::CurveParams> {
        match self {
            Curve::P192 => Some(&weierstrass::P192),
            Curve::BrainpoolP192r1 => Some(&weierstrass::BRAINPOOL_P192R1),
            Curve::P224 => Some(&weierstrass::P224),
            Curve::BrainpoolP224r1 => Some(&weierstrass::BRAINPOOL_P224R1),
            Curve::BrainpoolP320r1 => Some(&weierstrass::BRAINPOOL_P320R1),
            Curve::BrainpoolP512r1 => Some(&weierstrass::BRAINPOOL_P512R1),
            Curve::P256
            | Curve::P384
            | Curve::P521
            | Curve::BrainpoolP256r1
            | Curve::BrainpoolP384r1 => None,
        }
    }

    /// Bytes of a field element (and of the x-coordinate shared secret).
    pub fn field_len(self) -> usize {
        match self {
            Curve::P256 | Curve::BrainpoolP256r1 => 32,
            Curve::P384 | Curve::BrainpoolP384r1 => 48,
            Curve::P521 => 66,
            Curve::P192 | Curve::BrainpoolP192r1 => 24,
            Curve::P224 | Curve::BrainpoolP224r1 => 28,
            Curve::BrainpoolP320r1 => 40,
            Curve::BrainpoolP512r1 => 64,
        }
    }

    /// Curve coefficients a and b, big-endian hex (SEC 2, RFC 5639; as in the curve crates).
    fn coefficients(self) -> (Option<&'static str>, &'static str) {
        match self {
            // a = -3 for the NIST curves.
            Curve::P256 => (
                None,
                "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
            ),
            Curve::P384 => (
                None,
                "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef",
            ),
            Curve::P521 => (
                None,
                "0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00",
            ),
            Curve::BrainpoolP256r1 => (
                Some("7d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9"),
                "26dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b6",
            ),
            Curve::BrainpoolP384r1 => (
                Some(
                    "7bc382c63d8c150c3c72080ace05afa0c2bea28e4fb22787139165efba91f90f8aa5814a503ad4eb04a8c7dd22ce2826",
                ),
                "04a8c7dd22ce28268b39b55416f0447c2fb77de107dcd2a62e880ea53eeb62d57cb4390295dbc9943ab78696fa504c11",
            ),
            other => other
                .generic_params()
                .map_or((None, ""), |g| (Some(g.a), g.b)),
        }
    }
}

impl Group {
    /// The group of a standardized domain parameter ID with its standard generator.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an ID this crate cannot compute with.
    pub(crate) fn standard(parameter_id: u32) -> Result<Self, Error> {
        if let Some((p, g, q)) = dh_group(parameter_id) {
            let params = std::sync::Arc::new(DhParams::new(p, q)?);
            let generator = params.uint(&hex_bytes(g)?)?;
            return Ok(Group::Dh { params, generator });
        }
        let curve = Curve::from_parameter_id(parameter_id)?;
        Ok(Group::Ec {
            curve,
            generator: on_curve!(curve, ec_generator()),
        })
    }

    /// Whether this is an elliptic-curve group.
    pub(crate) fn is_ec(&self) -> bool {
        matches!(self, Group::Ec { .. })
    }

    /// Bits of the field prime p (for the Integrated Mapping's PRF length).
    pub(crate) fn p_bits(&self) -> Result<u32, Error> {
        match self {
            Group::Ec { curve, .. } => Ok(curve_field(*curve)?.p.as_ref().bit_width()),
            Group::Dh { params, .. } => Ok(params.p.as_ref().bit_width()),
        }
    }

    /// The generator, encoded.
    #[cfg(test)]
    pub(crate) fn generator(&self) -> Vec<u8> {
        match self {
            Group::Ec { generator, .. } => generator.clone(),
            Group::Dh { params, generator } => params.encode(generator),
        }
    }

    /// Checks a peer's public key or point: on the curve and not infinity, or 1 < y < p-1 with y^q = 1.
    ///
    /// # Errors
    /// [`CardFault::BadPublicKey`] when it is not a valid element.
    #[cfg(test)]
    pub(crate) fn check_element(&self, bytes: &[u8]) -> Result<(), Error> {
        match self {
            Group::Ec { curve, .. } => on_curve!(*curve, ec_check(bytes)),
            Group::Dh { params, .. } => params.decode(bytes).map(|_| ()),
        }
    }

    /// The public key `private · G` (or g^private).
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] when `private` is zero or not below the group order.
    pub(crate) fn public_key(&self, private: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Group::Ec { curve, generator } => on_curve!(*curve, ec_mul(generator, private)),
            Group::Dh { params, generator } => {
                params.check_private(private)?;
                Ok(params
                    .encode(&params.pow(generator, &BoxedUint::from_be_slice_vartime(private))))
            }
        }
    }

    /// `private · peer` (or peer^private) after checking `peer`: the shared point H or value.
    ///
    /// # Errors
    /// [`CardFault::BadPublicKey`] for an invalid `peer`; the result must not be the identity.
    pub(crate) fn shared(&self, private: &[u8], peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        match self {
            Group::Ec { curve, .. } => on_curve!(*curve, ec_mul(peer, private)).map(Zeroizing::new),
            Group::Dh { params, .. } => {
                params.check_private(private)?;
                let y = params.decode(peer)?;
                let k = params.pow(&y, &BoxedUint::from_be_slice_vartime(private));
                if bool::from(k.is_one()) {
                    return Err(CardFault::BadPublicKey("DH shared secret is 1").into());
                }
                Ok(Zeroizing::new(params.encode(&k)))
            }
        }
    }

    /// The shared secret K from a shared element: the x-coordinate, or the DH value (9303-11 section 4.4.1).
    pub(crate) fn secret_of(&self, shared: &[u8]) -> Zeroizing<Vec<u8>> {
        match self {
            Group::Ec { curve, .. } => {
                let n = curve.field_len();
                Zeroizing::new(shared.get(1..1 + n).unwrap_or_default().to_vec())
            }
            Group::Dh { .. } => Zeroizing::new(shared.to_vec()),
        }
    }

    /// Generic Mapping (9303-11 section 4.4.3.3.1): G' = s·G + H, or g' = g^s · h.
    ///
    /// # Errors
    /// When `h` is invalid or G' is the identity.
    pub(crate) fn map_generic(&self, s: &[u8], h: &[u8]) -> Result<Group, Error> {
        match self {
            Group::Ec { curve, generator } => {
                let s_g = on_curve!(*curve, ec_mul(generator, s))?;
                Ok(Group::Ec {
                    curve: *curve,
                    generator: on_curve!(*curve, ec_add(&s_g, h))?,
                })
            }
            Group::Dh { params, generator } => {
                let h = params.decode(h)?;
                let g_s = params.pow(generator, &BoxedUint::from_be_slice_vartime(s));
                let mapped = params.mul(&g_s, &h);
                params.decode(&params.encode(&mapped))?;
                Ok(Group::Dh {
                    params: params.clone(),
                    generator: mapped,
                })
            }
        }
    }

    /// Integrated Mapping's last step (9303-11 section 4.4.3.3.2): the point encoding f_G(R mod p),
    /// or g~ = (R mod p)^((p-1)/q).
    ///
    /// # Errors
    /// When the result is not a valid generator (probability negligible).
    pub(crate) fn map_integrated(&self, r: &[u8]) -> Result<Group, Error> {
        match self {
            Group::Ec { curve, .. } => {
                let field = curve_field(*curve)?;
                let t = field.reduce(r);
                Ok(Group::Ec {
                    curve: *curve,
                    generator: point_encoding(*curve, &field, &t)?,
                })
            }
            Group::Dh { params, .. } => {
                let p = params.p.as_ref();
                let bits = p.bits_precision();
                let r = BoxedUint::from_be_slice_vartime(r);
                let base = r.rem(
                    &NonZero::new(p.clone().resize(r.bits_precision().max(bits)))
                        .into_option()
                        .ok_or(Error::ApiMisuse("p is zero"))?,
                );
                let base = base.resize(bits);
                let p_minus_1 = p.wrapping_sub(BoxedUint::one_with_precision(bits));
                let exp = p_minus_1.div_rem(&params.q).0;
                let g = params.pow(&base, &exp);
                params.decode(&params.encode(&g))?;
                Ok(Group::Dh {
                    params: params.clone(),
                    generator: g,
                })
            }
        }
    }

    /// `scalar · point` on this curve (Chip Authentication Mapping: CA_IC · PK_IC).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for DH; a fault for an invalid point.
    pub(crate) fn ec_multiply(&self, point: &[u8], scalar: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Group::Ec { curve, .. } => on_curve!(*curve, ec_mul(point, scalar)),
            Group::Dh { .. } => Err(Error::Unsupported("Chip Authentication Mapping with DH")),
        }
    }

    /// `a^-1 · b mod n` on this curve (the chip's CA_IC = SK_IC^-1 · SK_Map,IC, 9303-11 section 4.4.3.3.3).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for DH; [`Error::ApiMisuse`] for invalid scalars.
    pub(crate) fn ec_inverse_times(&self, a: &[u8], b: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Group::Ec { curve, .. } => on_curve!(*curve, ec_inv_mul(a, b)),
            Group::Dh { .. } => Err(Error::Unsupported("Chip Authentication Mapping with DH")),
        }
    }

    /// A random private key in [1, order-1] from the system RNG.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the system has no random source.
    pub(crate) fn random_private(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        type Accept<'a> = Box<dyn Fn(&[u8]) -> bool + 'a>;
        let (len, accept): (usize, Accept<'_>) = match self {
            Group::Ec { curve, .. } => (
                curve.field_len(),
                Box::new(move |k: &[u8]| on_curve!(*curve, ec_scalar_ok(k))),
            ),
            Group::Dh { params, .. } => {
                let q = params.q.as_ref().clone();
                let len = q.bit_width().div_ceil(8) as usize;
                (
                    len,
                    Box::new(move |k: &[u8]| {
                        let k = BoxedUint::from_be_slice_vartime(k);
                        !bool::from(k.is_zero()) && k.cmp_vartime(&q) == std::cmp::Ordering::Less
                    }),
                )
            }
        };
        let top_bits = match self {
            Group::Ec {
                curve: Curve::P521, ..
            } => 0x01,
            _ => 0xFF,
        };
        for _ in 0..1000 {
            let mut k = Zeroizing::new(vec![0u8; len]);
            getrandom::fill(&mut k).map_err(|_| Error::Unsupported("no system random source"))?;
            if let Some(first) = k.first_mut() {
                *first &= top_bits;
            }
            if accept(&k) {
                return Ok(k);
            }
        }
        Err(Error::Unsupported(
            "random source does not produce usable keys",
        ))
    }
}

// ---------------------------------------------------------------------------
// Elliptic curves, generic over the curve crates
// ---------------------------------------------------------------------------

fn ec_generator<C>() -> Vec<u8>
where
    C: CurveArithmetic,
    FieldBytesSize<C>: ModulusSize,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
{
    C::ProjectivePoint::generator()
        .to_affine()
        .to_sec1_point(false)
        .as_bytes()
        .to_vec()
}

/// Decodes an uncompressed point, checking that it is on the curve and not infinity.
fn ec_decode<C>(bytes: &[u8]) -> Result<AffinePoint<C>, Error>
where
    C: CurveArithmetic,
    FieldBytesSize<C>: ModulusSize,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
{
    let n = FieldBytes::<C>::default().len();
    if bytes.len() != 1 + 2 * n || bytes.first() != Some(&0x04) {
        return Err(
            CardFault::BadPublicKey("not an uncompressed point of the curve's size").into(),
        );
    }
    AffinePoint::<C>::from_sec1_bytes(bytes)
        .map_err(|_| CardFault::BadPublicKey("point is not on the curve").into())
}

fn ec_encode<C>(point: C::ProjectivePoint) -> Result<Vec<u8>, Error>
where
    C: CurveArithmetic,
    FieldBytesSize<C>: ModulusSize,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
{
    if bool::from(point.is_identity()) {
        return Err(CardFault::BadPublicKey("result is the point at infinity").into());
    }
    Ok(point.to_affine().to_sec1_point(false).as_bytes().to_vec())
}

/// A scalar from big-endian bytes: non-zero and below the order.
fn ec_scalar<C>(bytes: &[u8]) -> Result<Scalar<C>, Error>
where
    C: CurveArithmetic,
{
    let mut repr = FieldBytes::<C>::default();
    let n = repr.len();
    let significant = bytes.iter().skip_while(|&&b| b == 0).count();
    if significant > n {
        return Err(Error::ApiMisuse("scalar longer than the curve order"));
    }
    let start = bytes.len() - significant;
    repr[n - significant..].copy_from_slice(&bytes[start..]);
    let scalar = Option::<Scalar<C>>::from(Scalar::<C>::from_repr(repr))
        .ok_or(Error::ApiMisuse("scalar not below the curve order"))?;
    if bool::from(elliptic_curve::Field::is_zero(&scalar)) {
        return Err(Error::ApiMisuse("zero scalar"));
    }
    Ok(scalar)
}

fn ec_scalar_ok<C>(bytes: &[u8]) -> bool
where
    C: CurveArithmetic,
{
    ec_scalar::<C>(bytes).is_ok()
}

fn ec_check<C>(bytes: &[u8]) -> Result<(), Error>
where
    C: CurveArithmetic,
    FieldBytesSize<C>: ModulusSize,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
{
    ec_decode::<C>(bytes).map(|_| ())
}

fn ec_mul<C>(point: &[u8], scalar: &[u8]) -> Result<Vec<u8>, Error>
where
    C: CurveArithmetic,
    FieldBytesSize<C>: ModulusSize,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
{
    let p = ec_decode::<C>(point)?;
    let k = ec_scalar::<C>(scalar)?;
    ec_encode::<C>(C::ProjectivePoint::from(p) * k)
}

fn ec_add<C>(a: &[u8], b: &[u8]) -> Result<Vec<u8>, Error>
where
    C: CurveArithmetic,
    FieldBytesSize<C>: ModulusSize,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
{
    let a = C::ProjectivePoint::from(ec_decode::<C>(a)?);
    let b = ec_decode::<C>(b)?;
    ec_encode::<C>(a + C::ProjectivePoint::from(b))
}

fn ec_inv_mul<C>(a: &[u8], b: &[u8]) -> Result<Vec<u8>, Error>
where
    C: CurveArithmetic,
{
    let a = ec_scalar::<C>(a)?;
    let b = ec_scalar::<C>(b)?;
    let inv = Option::<Scalar<C>>::from(a.invert()).ok_or(Error::ApiMisuse("zero scalar"))?;
    let product: FieldBytes<C> = (inv * b).into();
    Ok(product.to_vec())
}

// ---------------------------------------------------------------------------
// Elliptic curves without a crate: the generic arithmetic (crate::weierstrass)
// ---------------------------------------------------------------------------

/// The same operations as above for the curves of [`Curve::generic_params`].
mod generic {
    use super::{Curve, Error, weierstrass};

    /// The generic curve of `curve`, prepared once per process.
    fn arith(curve: Curve) -> Result<&'static weierstrass::Curve, Error> {
        weierstrass::Curve::cached(
            curve
                .generic_params()
                .ok_or(Error::ApiMisuse("curve has a crate, not generic"))?,
        )
    }

    pub(super) fn ec_generator(curve: Curve) -> Vec<u8> {
        arith(curve).map(|c| c.generator()).unwrap_or_default()
    }

    pub(super) fn ec_check(curve: Curve, bytes: &[u8]) -> Result<(), Error> {
        arith(curve)?.check_point(bytes)
    }

    pub(super) fn ec_mul(curve: Curve, point: &[u8], scalar: &[u8]) -> Result<Vec<u8>, Error> {
        arith(curve)?.mul(point, scalar)
    }

    pub(super) fn ec_add(curve: Curve, a: &[u8], b: &[u8]) -> Result<Vec<u8>, Error> {
        arith(curve)?.add_points(a, b)
    }

    pub(super) fn ec_inv_mul(curve: Curve, a: &[u8], b: &[u8]) -> Result<Vec<u8>, Error> {
        arith(curve)?.inverse_times(a, b)
    }

    pub(super) fn ec_scalar_ok(curve: Curve, bytes: &[u8]) -> bool {
        arith(curve).is_ok_and(|c| c.scalar_ok(bytes))
    }

    pub(super) fn field_modulus(curve: Curve) -> &'static str {
        curve.generic_params().map_or("", |g| g.p)
    }
}

// ---------------------------------------------------------------------------
// Integrated Mapping point encoding (9303-11 section 4.4.3.3.2, Appendix B)
// ---------------------------------------------------------------------------

/// The prime field of a curve with its coefficients, for the point encoding.
pub(crate) struct CurveField {
    p: Odd<BoxedUint>,
    monty: BoxedMontyParams,
    a: BoxedUint,
    b: BoxedUint,
}

fn field_modulus<C>() -> &'static str
where
    C: FieldArithmetic,
{
    <C::FieldElement as PrimeField>::MODULUS
}

fn curve_field(curve: Curve) -> Result<CurveField, Error> {
    let modulus = on_curve!(curve, field_modulus());
    let p_bytes = hex_bytes(modulus.trim_start_matches("0x"))?;
    let bits = (curve.field_len() * 8) as u32;
    let p = BoxedUint::from_be_slice(&left_pad(&p_bytes, curve.field_len()), bits)
        .map_err(|_| Error::ApiMisuse("curve modulus"))?;
    let p = Option::<Odd<BoxedUint>>::from(Odd::new(p)).ok_or(Error::ApiMisuse("even modulus"))?;
    let (a_hex, b_hex) = curve.coefficients();
    let a = match a_hex {
        Some(a) => uint_from_hex(a, curve.field_len(), bits)?,
        None => p
            .as_ref()
            .wrapping_sub(BoxedUint::from_be_slice_vartime(&[3]).resize(bits)),
    };
    let b = uint_from_hex(b_hex, curve.field_len(), bits)?;
    let monty = BoxedMontyParams::new(p.clone());
    Ok(CurveField { p, monty, a, b })
}

impl CurveField {
    fn form(&self, x: &BoxedUint) -> BoxedMontyForm {
        BoxedMontyForm::new(x.clone(), &self.monty)
    }

    /// `r mod p` at the field's precision.
    pub(crate) fn reduce(&self, r: &[u8]) -> BoxedUint {
        let bits = self.p.as_ref().bits_precision();
        let r = BoxedUint::from_be_slice_vartime(r);
        let wide = r.bits_precision().max(bits);
        let p = self.p.as_ref().clone().resize(wide);
        match Option::<NonZero<BoxedUint>>::from(NonZero::new(p)) {
            Some(p) => r.resize(wide).rem(&p).resize(bits),
            None => BoxedUint::zero_with_precision(bits),
        }
    }
}

/// f_G(t) for p = 3 mod 4 and cofactor 1 (every supported curve), 9303-11 Appendix B.2 (affine coordinates).
fn point_encoding(curve: Curve, f: &CurveField, t: &BoxedUint) -> Result<Vec<u8>, Error> {
    let bits = f.p.as_ref().bits_precision();
    if !f.p.as_ref().bit_vartime(1) {
        // p = 1 mod 4 (P-224): the square root below needs p = 3 mod 4.
        return Err(Error::Unsupported(
            "Integrated Mapping on a curve with p = 1 mod 4",
        ));
    }
    let one = f.form(&BoxedUint::one_with_precision(bits));
    let t = f.form(t);
    let a = f.form(&f.a);
    let b = f.form(&f.b);
    // 1. alpha = -t^2
    let alpha = t.square().neg();
    // 2. X2 = -b · (1 + alpha + alpha^2) · (a · (alpha + alpha^2))^-1
    let alpha_sum = alpha.add(&alpha.square());
    let inv = Option::<BoxedMontyForm>::from(a.mul(&alpha_sum).invert())
        .ok_or(Error::Unsupported("point encoding hit a zero denominator"))?;
    let x2 = b.neg().mul(&one.add(&alpha_sum)).mul(&inv);
    // 3. X3 = alpha · X2
    let x3 = alpha.mul(&x2);
    // 4. h2 = X2^3 + a·X2 + b
    let h2 = x2.square().mul(&x2).add(&a.mul(&x2)).add(&b);
    // 5. U = t^3 · h2
    let u = t.square().mul(&t).mul(&h2);
    // 6. A = h2^(p - 1 - (p+1)/4)
    let p = f.p.as_ref();
    let p_plus_1_over_4 = p.wrapping_add(BoxedUint::one_with_precision(bits)).shr(2);
    let exp = p
        .wrapping_sub(BoxedUint::one_with_precision(bits))
        .wrapping_sub(&p_plus_1_over_4);
    let big_a = h2.pow(&exp);
    // 7. A^2 · h2 = 1 ? (X2, A·h2) : (X3, A·U)
    let (x, y) = if bool::from(big_a.square().mul(&h2).retrieve().is_one()) {
        (x2, big_a.mul(&h2))
    } else {
        (x3, big_a.mul(&u))
    };
    let n = curve.field_len();
    let mut point = vec![0x04];
    point.extend_from_slice(&left_pad(&x.retrieve().to_be_bytes(), n));
    point.extend_from_slice(&left_pad(&y.retrieve().to_be_bytes(), n));
    on_curve!(curve, ec_check(&point))?;
    Ok(point)
}

// ---------------------------------------------------------------------------
// MODP groups
// ---------------------------------------------------------------------------

/// p, g and q of the RFC 5114 groups (9303-11 section 9.5.1: IDs 0, 1, 2).
fn dh_group(id: u32) -> Option<(&'static str, &'static str, &'static str)> {
    match id {
        0 => Some((
            "B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B616073E28675A23D189838EF1E2EE652C013ECB4AEA906112324975C3CD49B83BFACCBDD7D90C4BD7098488E9C219A73724EFFD6FAE5644738FAA31A4FF55BCCC0A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708DF1FB2BC2E4A4371",
            "A4D1CBD5C3FD34126765A442EFB99905F8104DD258AC507FD6406CFF14266D31266FEA1E5C41564B777E690F5504F213160217B4B01B886A5E91547F9E2749F4D7FBD7D3B9A92EE1909D0D2263F80A76A6A24C087A091F531DBF0A0169B6A28AD662A4D18E73AFA32D779D5918D08BC8858F4DCEF97C2A24855E6EEB22B3B2E5",
            "F518AA8781A8DF278ABA4E7D64B7CB9D49462353",
        )),
        1 => Some((
            "AD107E1E9123A9D0D660FAA79559C51FA20D64E5683B9FD1B54B1597B61D0A75E6FA141DF95A56DBAF9A3C407BA1DF15EB3D688A309C180E1DE6B85A1274A0A66D3F8152AD6AC2129037C9EDEFDA4DF8D91E8FEF55B7394B7AD5B7D0B6C12207C9F98D11ED34DBF6C6BA0B2C8BBC27BE6A00E0A0B9C49708B3BF8A317091883681286130BC8985DB1602E714415D9330278273C7DE31EFDC7310F7121FD5A07415987D9ADC0A486DCDF93ACC44328387315D75E198C641A480CD86A1B9E587E8BE60E69CC928B2B9C52172E413042E9B23F10B0E16E79763C9B53DCF4BA80A29E3FB73C16B8E75B97EF363E2FFA31F71CF9DE5384E71B81C0AC4DFFE0C10E64F",
            "AC4032EF4F2D9AE39DF30B5C8FFDAC506CDEBE7B89998CAF74866A08CFE4FFE3A6824A4E10B9A6F0DD921F01A70C4AFAAB739D7700C29F52C57DB17C620A8652BE5E9001A8D66AD7C17669101999024AF4D027275AC1348BB8A762D0521BC98AE247150422EA1ED409939D54DA7460CDB5F6C6B250717CBEF180EB34118E98D119529A45D6F834566E3025E316A330EFBB77A86F0C1AB15B051AE3D428C8F8ACB70A8137150B8EEB10E183EDD19963DDD9E263E4770589EF6AA21E7F5F2FF381B539CCE3409D13CD566AFBB48D6C019181E1BCFE94B30269EDFE72FE9B6AA4BD7B5A0F1C71CFFF4C19C418E1F6EC017981BC087F2A7065B384B890D3191F2BFA",
            "801C0D34C58D93FE997177101F80535A4738CEBCBF389A99B36371EB",
        )),
        2 => Some((
            "87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00E00DF8F1D61957D4FAF7DF4561B2AA3016C3D91134096FAA3BF4296D830E9A7C209E0C6497517ABD5A8A9D306BCF67ED91F9E6725B4758C022E0B1EF4275BF7B6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C4FDB70C581B23F76B63ACAE1CAA6B7902D52526735488A0EF13C6D9A51BFA4AB3AD8347796524D8EF6A167B5A41825D967E144E5140564251CCACB83E6B486F6B3CA3F7971506026C0B857F689962856DED4010ABD0BE621C3A3960A54E710C375F26375D7014103A4B54330C198AF126116D2276E11715F693877FAD7EF09CADB094AE91E1A1597",
            "3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA12510DBC15077BE463FFF4FED4AAC0BB555BE3A6C1B0C6B47B1BC3773BF7E8C6F62901228F8C28CBB18A55AE31341000A650196F931C77A57F2DDF463E5E9EC144B777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC831D14348F6F2F9193B5045AF2767164E1DFC967C1FB3F2E55A4BD1BFFE83B9C80D052B985D182EA0ADB2A3B7313D3FE14C8484B1E052588B9B7D2BBD2DF016199ECD06E1557CD0915B3353BBB64E0EC377FD028370DF92B52C7891428CDC67EB6184B523D1DB246C32F63078490F00EF8D647D148D47954515E2327CFEF98C582664B4C0F6CC41659",
            "8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3",
        )),
        _ => None,
    }
}

impl DhParams {
    fn new(p_hex: &str, q_hex: &str) -> Result<Self, Error> {
        let p_bytes = hex_bytes(p_hex)?;
        let len = p_bytes.len();
        let bits = (len * 8) as u32;
        let p = BoxedUint::from_be_slice(&p_bytes, bits).map_err(|_| Error::ApiMisuse("DH p"))?;
        let p = Option::<Odd<BoxedUint>>::from(Odd::new(p)).ok_or(Error::ApiMisuse("even DH p"))?;
        let q = uint_from_hex(q_hex, len, bits)?;
        let q =
            Option::<NonZero<BoxedUint>>::from(NonZero::new(q)).ok_or(Error::ApiMisuse("DH q"))?;
        let monty = BoxedMontyParams::new(p.clone());
        Ok(Self { p, q, monty, len })
    }

    /// A value of at most p's length at p's precision.
    fn uint(&self, bytes: &[u8]) -> Result<BoxedUint, Error> {
        if bytes.len() > self.len {
            return Err(CardFault::BadPublicKey("DH value longer than p").into());
        }
        BoxedUint::from_be_slice(&left_pad(bytes, self.len), self.p.as_ref().bits_precision())
            .map_err(|_| CardFault::BadPublicKey("DH value").into())
    }

    /// Checks a received value: exactly p's length, 1 < y < p-1, y^q = 1 (the prime-order subgroup).
    fn decode(&self, bytes: &[u8]) -> Result<BoxedUint, Error> {
        if bytes.len() != self.len {
            return Err(CardFault::BadPublicKey("DH value is not as long as p").into());
        }
        let y = self.uint(bytes)?;
        let p_minus_1 = self.p.as_ref().wrapping_sub(BoxedUint::one_with_precision(
            self.p.as_ref().bits_precision(),
        ));
        if y.cmp_vartime(BoxedUint::one_with_precision(y.bits_precision()))
            != std::cmp::Ordering::Greater
            || y.cmp_vartime(&p_minus_1) != std::cmp::Ordering::Less
        {
            return Err(CardFault::BadPublicKey("DH value out of range 1 < y < p-1").into());
        }
        if !bool::from(self.pow(&y, self.q.as_ref()).is_one()) {
            return Err(
                CardFault::BadPublicKey("DH value outside the prime-order subgroup").into(),
            );
        }
        Ok(y)
    }

    fn check_private(&self, private: &[u8]) -> Result<(), Error> {
        let x = BoxedUint::from_be_slice_vartime(private);
        if bool::from(x.is_zero()) {
            return Err(Error::ApiMisuse("zero DH private key"));
        }
        Ok(())
    }

    pub(crate) fn pow(&self, base: &BoxedUint, exp: &BoxedUint) -> BoxedUint {
        BoxedMontyForm::new(base.clone(), &self.monty)
            .pow(exp)
            .retrieve()
    }

    fn mul(&self, a: &BoxedUint, b: &BoxedUint) -> BoxedUint {
        BoxedMontyForm::new(a.clone(), &self.monty)
            .mul(&BoxedMontyForm::new(b.clone(), &self.monty))
            .retrieve()
    }

    fn encode(&self, y: &BoxedUint) -> Vec<u8> {
        left_pad(&y.to_be_bytes(), self.len)
    }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Big-endian bytes padded (or stripped of leading zeros) to exactly `len`.
pub(crate) fn left_pad(bytes: &[u8], len: usize) -> Vec<u8> {
    let significant: &[u8] = if bytes.len() > len {
        bytes.get(bytes.len() - len..).unwrap_or(bytes)
    } else {
        bytes
    };
    let mut out = vec![0u8; len - significant.len()];
    out.extend_from_slice(significant);
    out
}

fn hex_bytes(s: &str) -> Result<Vec<u8>, Error> {
    if !s.len().is_multiple_of(2) {
        return hex_bytes(&format!("0{s}"));
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

fn uint_from_hex(s: &str, len: usize, bits: u32) -> Result<BoxedUint, Error> {
    BoxedUint::from_be_slice(&left_pad(&hex_bytes(s)?, len), bits)
        .map_err(|_| Error::ApiMisuse("bad constant"))
}

/// Test access to the curve fields.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// The prime field and coefficients of `curve`.
    pub(crate) fn curve_field(curve: Curve) -> CurveField {
        super::curve_field(curve).unwrap()
    }
}
