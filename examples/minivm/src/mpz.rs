//! Arbitrary-precision integer arithmetic (MicroPython's `mpz.c`): sign and magnitude, the
//! magnitude as little-endian 32-bit limbs, with Python's semantics (floor division, modulo with
//! the divisor's sign, shifts and bitwise operators on the infinite two's complement form).
//!
//! These are pure functions over temporary copies: a big int *object* keeps its limbs in the
//! modelled heap (or in flash once frozen, see `number`), and the runtime copies them into an
//! [`Mpz`], computes, and writes the normalised result back as a new object. Nothing here
//! allocates more than a small multiple of its operands' size; the caller checks a result's
//! size against the heap before computing it ([`Mpz::bits`], [`pow_bits`]).
//!
//! Schoolbook multiplication and Knuth's division (algorithm D): the numbers an embedded
//! program meets (ticks, CRCs, hashes, a few hundred digits at most) are far below the size
//! where asymptotically faster algorithms pay for their code.

use alloc::vec;
use alloc::vec::Vec;
use core::cmp::Ordering;

/// A signed integer: `neg` and the magnitude's limbs, least significant first, with no zero
/// limb at the top (zero is `neg: false`, no limbs).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Mpz {
    /// Is the value negative (never for zero)?
    pub neg: bool,
    /// The magnitude, little-endian 32-bit limbs, normalised.
    pub mag: Vec<u32>,
}

/// Drops zero limbs at the top.
fn trim(v: &mut Vec<u32>) {
    while v.last() == Some(&0) {
        v.pop();
    }
}

/// Compares two normalised magnitudes.
fn cmp_mag(a: &[u32], b: &[u32]) -> Ordering {
    if a.len() != b.len() {
        return a.len().cmp(&b.len());
    }
    for i in (0..a.len()).rev() {
        if a[i] != b[i] {
            return a[i].cmp(&b[i]);
        }
    }
    Ordering::Equal
}

/// `a + b` of magnitudes.
fn add_mag(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (a, b) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let mut out = Vec::with_capacity(a.len() + 1);
    let mut carry = 0u64;
    for (i, &x) in a.iter().enumerate() {
        let s = x as u64 + *b.get(i).unwrap_or(&0) as u64 + carry;
        out.push(s as u32);
        carry = s >> 32;
    }
    if carry != 0 {
        out.push(carry as u32);
    }
    out
}

/// `a - b` of magnitudes, `a >= b`.
fn sub_mag(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i64;
    for (i, &x) in a.iter().enumerate() {
        let mut d = x as i64 - *b.get(i).unwrap_or(&0) as i64 - borrow;
        borrow = 0;
        if d < 0 {
            d += 1 << 32;
            borrow = 1;
        }
        out.push(d as u32);
    }
    trim(&mut out);
    out
}

/// `a * b` of magnitudes.
fn mul_mag(a: &[u32], b: &[u32]) -> Vec<u32> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0u32; a.len() + b.len()];
    for (i, &x) in a.iter().enumerate() {
        let mut carry = 0u64;
        for (j, &y) in b.iter().enumerate() {
            let t = x as u64 * y as u64 + out[i + j] as u64 + carry;
            out[i + j] = t as u32;
            carry = t >> 32;
        }
        out[i + b.len()] = carry as u32;
    }
    trim(&mut out);
    out
}

/// `(a / d, a % d)` of a magnitude by one limb.
fn divmod_limb(a: &[u32], d: u32) -> (Vec<u32>, u32) {
    let mut q = vec![0u32; a.len()];
    let mut r = 0u64;
    for i in (0..a.len()).rev() {
        let cur = (r << 32) | a[i] as u64;
        q[i] = (cur / d as u64) as u32;
        r = cur % d as u64;
    }
    trim(&mut q);
    (q, r as u32)
}

/// `(a / b, a % b)` of magnitudes, `b` non-zero (Knuth, TAOCP 4.3.1, algorithm D).
fn divmod_mag(a: &[u32], b: &[u32]) -> (Vec<u32>, Vec<u32>) {
    if cmp_mag(a, b) == Ordering::Less {
        return (Vec::new(), a.to_vec());
    }
    if b.len() == 1 {
        let (q, r) = divmod_limb(a, b[0]);
        let r = if r == 0 { Vec::new() } else { vec![r] };
        return (q, r);
    }
    // Normalise so the divisor's top limb has its high bit set.
    let s = b[b.len() - 1].leading_zeros();
    let v = shl_mag(b, s as u64);
    let mut u = shl_mag(a, s as u64);
    u.resize(a.len() + 1, 0);
    let n = v.len();
    let m = a.len() - n;
    let mut q = vec![0u32; m + 1];
    let (vt, vt1) = (v[n - 1] as u64, v[n - 2] as u64);
    for j in (0..=m).rev() {
        let num = ((u[j + n] as u64) << 32) | u[j + n - 1] as u64;
        let mut qhat = num / vt;
        let mut rhat = num % vt;
        while qhat > u32::MAX as u64 || qhat * vt1 > ((rhat << 32) | u[j + n - 2] as u64) {
            qhat -= 1;
            rhat += vt;
            if rhat > u32::MAX as u64 {
                break;
            }
        }
        // u[j..=j+n] -= qhat * v
        let mut borrow = 0i64;
        let mut carry = 0u64;
        for i in 0..n {
            let p = qhat * v[i] as u64 + carry;
            carry = p >> 32;
            let t = u[i + j] as i64 - borrow - (p & 0xFFFF_FFFF) as i64;
            u[i + j] = t as u32;
            borrow = if t < 0 { 1 } else { 0 };
        }
        let t = u[j + n] as i64 - borrow - carry as i64;
        u[j + n] = t as u32;
        if t < 0 {
            // qhat was one too large: add v back.
            qhat -= 1;
            let mut c = 0u64;
            for i in 0..n {
                let s2 = u[i + j] as u64 + v[i] as u64 + c;
                u[i + j] = s2 as u32;
                c = s2 >> 32;
            }
            u[j + n] = u[j + n].wrapping_add(c as u32);
        }
        q[j] = qhat as u32;
    }
    trim(&mut q);
    u.truncate(n);
    trim(&mut u);
    let r = shr_mag(&u, s as u64);
    (q, r)
}

/// `a << n` of a magnitude.
fn shl_mag(a: &[u32], n: u64) -> Vec<u32> {
    if a.is_empty() {
        return Vec::new();
    }
    let (limbs, bits) = ((n / 32) as usize, (n % 32) as u32);
    let mut out = vec![0u32; limbs];
    out.reserve(a.len() + 1);
    if bits == 0 {
        out.extend_from_slice(a);
    } else {
        let mut carry = 0u32;
        for &x in a {
            out.push((x << bits) | carry);
            carry = x >> (32 - bits);
        }
        out.push(carry);
    }
    trim(&mut out);
    out
}

/// `a >> n` of a magnitude (truncating).
fn shr_mag(a: &[u32], n: u64) -> Vec<u32> {
    let limbs = (n / 32) as usize;
    if limbs >= a.len() {
        return Vec::new();
    }
    let bits = (n % 32) as u32;
    let src = &a[limbs..];
    let mut out = Vec::with_capacity(src.len());
    for i in 0..src.len() {
        let hi = if bits == 0 {
            0
        } else {
            src.get(i + 1).map_or(0, |&h| h << (32 - bits))
        };
        out.push((src[i] >> bits) | hi);
    }
    trim(&mut out);
    out
}

/// A bitwise operator on two's complement forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bitwise {
    /// `&`
    And,
    /// `|`
    Or,
    /// `^`
    Xor,
}

impl Mpz {
    /// Zero.
    pub fn zero() -> Mpz {
        Mpz::default()
    }

    /// From a machine integer.
    pub fn from_i64(n: i64) -> Mpz {
        let m = n.unsigned_abs();
        let mut mag = vec![m as u32, (m >> 32) as u32];
        trim(&mut mag);
        Mpz { neg: n < 0, mag }
    }

    /// From a sign and limbs (normalised here).
    pub fn from_parts(neg: bool, mut mag: Vec<u32>) -> Mpz {
        trim(&mut mag);
        let neg = neg && !mag.is_empty();
        Mpz { neg, mag }
    }

    /// Is it zero?
    pub fn is_zero(&self) -> bool {
        self.mag.is_empty()
    }

    /// The value as an `i64`, if it fits.
    pub fn to_i64(&self) -> Option<i64> {
        if self.mag.len() > 2 {
            return None;
        }
        let m = self.mag.first().copied().unwrap_or(0) as u64
            | (self.mag.get(1).copied().unwrap_or(0) as u64) << 32;
        if self.neg {
            if m <= 1 << 63 {
                Some((m as i64).wrapping_neg())
            } else {
                None
            }
        } else {
            i64::try_from(m).ok()
        }
    }

    /// The value as an `i32` (MicroPython's machine word on a 32-bit port), if it fits.
    pub fn to_i32(&self) -> Option<i32> {
        self.to_i64().and_then(|n| i32::try_from(n).ok())
    }

    /// Number of bits of the magnitude.
    pub fn bits(&self) -> u64 {
        match self.mag.last() {
            Some(&top) => 32 * self.mag.len() as u64 - top.leading_zeros() as u64,
            None => 0,
        }
    }

    /// `-self`.
    pub fn neg(&self) -> Mpz {
        Mpz::from_parts(!self.neg, self.mag.clone())
    }

    /// `abs(self)`.
    pub fn abs(&self) -> Mpz {
        Mpz::from_parts(false, self.mag.clone())
    }

    /// `self + other`.
    pub fn add(&self, other: &Mpz) -> Mpz {
        if self.neg == other.neg {
            return Mpz::from_parts(self.neg, add_mag(&self.mag, &other.mag));
        }
        match cmp_mag(&self.mag, &other.mag) {
            Ordering::Equal => Mpz::zero(),
            Ordering::Greater => Mpz::from_parts(self.neg, sub_mag(&self.mag, &other.mag)),
            Ordering::Less => Mpz::from_parts(other.neg, sub_mag(&other.mag, &self.mag)),
        }
    }

    /// `self - other`.
    pub fn sub(&self, other: &Mpz) -> Mpz {
        self.add(&Mpz {
            neg: !other.neg && !other.is_zero(),
            mag: other.mag.clone(),
        })
    }

    /// `self * other`.
    pub fn mul(&self, other: &Mpz) -> Mpz {
        Mpz::from_parts(self.neg != other.neg, mul_mag(&self.mag, &other.mag))
    }

    /// `(self // other, self % other)` with Python's floor semantics; `None` for a zero divisor.
    pub fn divmod(&self, other: &Mpz) -> Option<(Mpz, Mpz)> {
        if other.is_zero() {
            return None;
        }
        let (q, r) = divmod_mag(&self.mag, &other.mag);
        let mut q = Mpz::from_parts(self.neg != other.neg, q);
        let mut r = Mpz::from_parts(self.neg, r);
        if self.neg != other.neg && !r.is_zero() {
            q = q.sub(&Mpz::from_i64(1));
            r = r.add(other);
        }
        Some((q, r))
    }

    /// `self << n`.
    pub fn shl(&self, n: u64) -> Mpz {
        Mpz::from_parts(self.neg, shl_mag(&self.mag, n))
    }

    /// `self >> n`, rounding toward negative infinity (an arithmetic shift).
    pub fn shr(&self, n: u64) -> Mpz {
        let q = Mpz::from_parts(self.neg, shr_mag(&self.mag, n));
        if !self.neg {
            return q;
        }
        // Any one bit shifted out of a negative number rounds the result down.
        let limbs = (n / 32) as usize;
        let lost = self.mag.iter().take(limbs).any(|&x| x != 0)
            || self
                .mag
                .get(limbs)
                .is_some_and(|&x| x & ((1u32 << (n % 32)) - 1) != 0);
        if lost { q.sub(&Mpz::from_i64(1)) } else { q }
    }

    /// `~self` (`-self - 1`).
    pub fn not(&self) -> Mpz {
        self.neg().sub(&Mpz::from_i64(1))
    }

    /// `len` limbs of the two's complement form (sign-extended).
    fn twos(&self, len: usize) -> Vec<u32> {
        let mut v = self.mag.clone();
        v.resize(len, 0);
        if self.neg {
            let mut carry = true;
            for x in v.iter_mut() {
                let (s, c) = (!*x).overflowing_add(carry as u32);
                *x = s;
                carry = c;
            }
        }
        v
    }

    /// `self & other`, `self | other`, `self ^ other`.
    pub fn bitwise(&self, op: Bitwise, other: &Mpz) -> Mpz {
        let len = self.mag.len().max(other.mag.len()) + 1;
        let (a, b) = (self.twos(len), other.twos(len));
        let mut r: Vec<u32> = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| match op {
                Bitwise::And => x & y,
                Bitwise::Or => x | y,
                Bitwise::Xor => x ^ y,
            })
            .collect();
        let neg = r[len - 1] >> 31 == 1;
        if neg {
            // The magnitude of a negative two's complement value: invert and add one.
            let mut carry = true;
            for x in r.iter_mut() {
                let (s, c) = (!*x).overflowing_add(carry as u32);
                *x = s;
                carry = c;
            }
        }
        Mpz::from_parts(neg, r)
    }

    /// `self ** exp` for `exp >= 0` (square and multiply).
    pub fn pow(&self, exp: &Mpz) -> Mpz {
        let mut result = Mpz::from_i64(1);
        let mut base = self.clone();
        let bits = exp.bits();
        for i in 0..bits {
            if exp.mag[(i / 32) as usize] >> (i % 32) & 1 == 1 {
                result = result.mul(&base);
            }
            if i + 1 < bits {
                base = base.mul(&base);
            }
        }
        result
    }

    /// `pow(self, exp, m)` as MicroPython computes it: 0 when the base is 0, the exponent is
    /// negative or `m` is 1; otherwise square and multiply, each step reduced modulo `m` with
    /// Python's modulo (so the result has `m`'s sign). `m` is non-zero.
    pub fn pow_mod(&self, exp: &Mpz, m: &Mpz) -> Mpz {
        if self.is_zero() || exp.neg || (m.mag == [1] && !m.neg) {
            return Mpz::zero();
        }
        let mut result = Mpz::from_i64(1);
        let mut base = self.clone();
        let bits = exp.bits();
        for i in 0..bits {
            if exp.mag[(i / 32) as usize] >> (i % 32) & 1 == 1 {
                result = result
                    .mul(&base)
                    .divmod(m)
                    .map(|(_, r)| r)
                    .unwrap_or_default();
            }
            if i + 1 < bits {
                base = base
                    .mul(&base)
                    .divmod(m)
                    .map(|(_, r)| r)
                    .unwrap_or_default();
            }
        }
        result
    }

    /// Appends the digits of the magnitude in `base` (2..=36), most significant first, with
    /// letters from `a` (or `A` when `upper`). Zero is `0`.
    pub fn write_digits(&self, base: u32, upper: bool, out: &mut Vec<u8>) {
        let start = out.len();
        if self.is_zero() {
            out.push(b'0');
            return;
        }
        // Peel off as many digits as fit in one limb at a time.
        let mut chunk = base;
        let mut per = 1;
        while (chunk as u64) * (base as u64) <= u32::MAX as u64 {
            chunk *= base;
            per += 1;
        }
        let letter = if upper { b'A' } else { b'a' };
        let mut cur = self.mag.clone();
        while !cur.is_empty() {
            let (q, mut r) = divmod_limb(&cur, chunk);
            cur = q;
            for _ in 0..per {
                let d = (r % base) as u8;
                r /= base;
                out.push(if d < 10 { b'0' + d } else { letter + d - 10 });
                if cur.is_empty() && r == 0 {
                    break;
                }
            }
        }
        out[start..].reverse();
    }

    /// Parses digits in `base` (2..=36) with no sign or prefix: `None` if a character is not a
    /// digit of the base or there are none.
    pub fn from_digits(digits: &[u8], base: u32) -> Option<Mpz> {
        if digits.is_empty() {
            return None;
        }
        let mut mag: Vec<u32> = Vec::new();
        for &c in digits {
            let d = (c as char).to_digit(36).filter(|&d| d < base)?;
            // mag = mag * base + d
            let mut carry = d as u64;
            for x in mag.iter_mut() {
                let t = *x as u64 * base as u64 + carry;
                *x = t as u32;
                carry = t >> 32;
            }
            if carry != 0 {
                mag.push(carry as u32);
            }
        }
        Some(Mpz::from_parts(false, mag))
    }

    /// From unsigned bytes, big- or little-endian.
    pub fn from_bytes(bytes: &[u8], big_endian: bool) -> Mpz {
        let mut mag = vec![0u32; bytes.len().div_ceil(4)];
        for (i, &b) in bytes.iter().enumerate() {
            let k = if big_endian { bytes.len() - 1 - i } else { i };
            mag[k / 4] |= (b as u32) << (8 * (k % 4));
        }
        Mpz::from_parts(false, mag)
    }

    /// `len` bytes of the value as MicroPython's `mpz_as_bytes` writes them (for `int.to_bytes`
    /// of a big int), or `None` on overflow. MicroPython walks the magnitude's 16-bit digits: a
    /// negative value becomes two's complement, every byte of those digits past `len` must be
    /// zero, a negative value that fills the buffer exactly must show its sign bit, and the
    /// bytes left over are sign-extended.
    pub fn to_bytes(&self, len: usize, big_endian: bool) -> Option<Vec<u8>> {
        let region = 2 * self.bits().div_ceil(16) as usize;
        let t = self.twos(self.mag.len() + 1);
        let mut out = vec![if self.neg { 0xFF } else { 0 }; len];
        for k in 0..region {
            let b = (t[k / 4] >> (8 * (k % 4))) as u8;
            if k < len {
                out[k] = b;
            } else if b != 0 {
                return None;
            }
        }
        if self.neg && region >= len && len > 0 && out[len - 1] & 0x80 == 0 {
            return None;
        }
        if big_endian {
            out.reverse();
        }
        Some(out)
    }

    /// The nearest `f64` as MicroPython's `mpz_as_float` computes it: 16-bit digits from the most
    /// significant, `val = val * 65536 + digit` in double precision (so a value above 2^53 may
    /// round differently from a single correct rounding, exactly as the reference does).
    pub fn to_f64(&self) -> f64 {
        let mut val = 0.0f64;
        for &limb in self.mag.iter().rev() {
            val = val * 65536.0 + (limb >> 16) as f64;
            val = val * 65536.0 + (limb & 0xFFFF) as f64;
        }
        if self.neg { -val } else { val }
    }

    /// The integer part of a finite `f64` (truncated toward zero), exactly.
    pub fn from_f64(f: f64) -> Mpz {
        let bits = f.to_bits();
        let neg = bits >> 63 == 1;
        let exp = ((bits >> 52) & 0x7FF) as i64;
        if exp == 0x7FF || exp < 1023 {
            return Mpz::zero();
        }
        let frac = (bits & ((1 << 52) - 1)) | (1 << 52);
        let shift = exp - 1023 - 52;
        let m = Mpz::from_i64(frac as i64);
        let m = if shift >= 0 {
            m.shl(shift as u64)
        } else {
            m.shr((-shift) as u64)
        };
        if neg { m.neg() } else { m }
    }

    /// A hash that equals the value for machine-word values (MicroPython's `mpz_hash`: the
    /// magnitude's low 32 bits, negated for a negative value), as a 31-bit small int.
    pub fn hash(&self) -> i32 {
        let low = self.mag.first().copied().unwrap_or(0);
        let h = if self.neg { low.wrapping_neg() } else { low } as i32;
        // Keep it in the small-int range (the runtime's hashes are small ints).
        (h << 1) >> 1
    }
}

impl Ord for Mpz {
    fn cmp(&self, other: &Mpz) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => cmp_mag(&self.mag, &other.mag),
            (true, true) => cmp_mag(&other.mag, &self.mag),
        }
    }
}

impl PartialOrd for Mpz {
    fn partial_cmp(&self, other: &Mpz) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// An upper bound of the bits of `base ** exp` (`base_bits * exp`), saturating.
pub fn pow_bits(base_bits: u64, exp: &Mpz) -> u64 {
    match exp.to_i64() {
        Some(e) if e >= 0 => base_bits.saturating_mul(e as u64),
        _ => u64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn z(n: i128) -> Mpz {
        let neg = n < 0;
        let m = n.unsigned_abs();
        Mpz::from_parts(
            neg,
            vec![
                m as u32,
                (m >> 32) as u32,
                (m >> 64) as u32,
                (m >> 96) as u32,
            ],
        )
    }

    fn dec(x: &Mpz) -> String {
        let mut v = Vec::new();
        if x.neg {
            v.push(b'-');
        }
        x.write_digits(10, false, &mut v);
        String::from_utf8(v).unwrap()
    }

    const SAMPLES: &[i128] = &[
        0,
        1,
        -1,
        7,
        -7,
        0xFFFF_FFFF,
        0x1_0000_0000,
        -0x1_0000_0001,
        123_456_789_012_345_678_901,
        -98_765_432_109_876_543_210,
        (1 << 95) - 1,
        -(1 << 90),
        0x1234_5678_9ABC_DEF0_1234,
    ];

    #[test]
    fn arithmetic_matches_i128() {
        for &a in SAMPLES {
            for &b in SAMPLES {
                let (x, y) = (z(a), z(b));
                if let Some(s) = a.checked_add(b) {
                    assert_eq!(x.add(&y), z(s), "{a} + {b}");
                }
                if let Some(s) = a.checked_sub(b) {
                    assert_eq!(x.sub(&y), z(s), "{a} - {b}");
                }
                if let Some(p) = a.checked_mul(b) {
                    assert_eq!(x.mul(&y), z(p), "{a} * {b}");
                }
                if b != 0 {
                    let mut q = a / b;
                    if a % b != 0 && (a < 0) != (b < 0) {
                        q -= 1;
                    }
                    let r = a - q * b;
                    assert_eq!(x.divmod(&y).unwrap(), (z(q), z(r)), "{a} divmod {b}");
                }
                assert_eq!(x.bitwise(Bitwise::And, &y), z(a & b), "{a} & {b}");
                assert_eq!(x.bitwise(Bitwise::Or, &y), z(a | b), "{a} | {b}");
                assert_eq!(x.bitwise(Bitwise::Xor, &y), z(a ^ b), "{a} ^ {b}");
                assert_eq!(x.cmp(&y), a.cmp(&b));
            }
            let x = z(a);
            for n in [0u64, 1, 5, 31, 32, 33, 64, 100] {
                assert_eq!(x.shr(n), z(a >> n.min(127)), "{a} >> {n}");
                if a.unsigned_abs().leading_zeros() as u64 > n + 1 {
                    assert_eq!(x.shl(n), z(a << n), "{a} << {n}");
                }
            }
            assert_eq!(x.not(), z(!a));
            assert_eq!(dec(&x), alloc::format!("{a}"));
        }
    }

    #[test]
    fn division_by_multi_limb_divisors() {
        // 2**200 // (2**64 + 3) and its remainder, checked by multiplying back.
        let a = Mpz::from_i64(1).shl(200);
        let b = Mpz::from_i64(1).shl(64).add(&Mpz::from_i64(3));
        let (q, r) = a.divmod(&b).unwrap();
        assert_eq!(q.mul(&b).add(&r), a);
        assert_eq!(r.cmp(&b), Ordering::Less);
        let c = Mpz::from_digits(b"340282366920938463463374607431768211455", 10).unwrap();
        let d = Mpz::from_digits(b"18446744073709551557", 10).unwrap();
        let (q, r) = c.divmod(&d).unwrap();
        assert_eq!(q.mul(&d).add(&r), c);
    }

    #[test]
    fn digits_bytes_and_floats() {
        let x = Mpz::from_digits(b"123456789012345678901234567890", 10).unwrap();
        assert_eq!(dec(&x), "123456789012345678901234567890");
        let mut h = Vec::new();
        x.write_digits(16, false, &mut h);
        assert_eq!(h, b"18ee90ff6c373e0ee4e3f0ad2");
        assert_eq!(Mpz::from_digits(b"12a", 10), None);
        let b = x.to_bytes(13, true).unwrap();
        assert_eq!(Mpz::from_bytes(&b, true), x);
        assert_eq!(x.to_bytes(12, true), None);
        assert_eq!(Mpz::from_i64(-2).to_bytes(2, false).unwrap(), [0xFE, 0xFF]);
        assert_eq!(x.to_f64(), 1.2345678901234568e29);
        assert_eq!(
            Mpz::from_f64(1e20),
            Mpz::from_digits(b"100000000000000000000", 10).unwrap()
        );
        assert_eq!(Mpz::from_f64(-2.5), Mpz::from_i64(-2));
        assert_eq!(Mpz::from_i64(3).pow(&Mpz::from_i64(4)), Mpz::from_i64(81));
        let m = Mpz::from_i64(3233);
        let c = Mpz::from_i64(42).pow_mod(&Mpz::from_i64(65537), &m);
        assert_eq!(c.pow_mod(&Mpz::from_i64(2753), &m), Mpz::from_i64(42));
        assert_eq!(
            Mpz::from_i64(5).pow_mod(&Mpz::from_i64(3), &Mpz::from_i64(-7)),
            Mpz::from_i64(-1)
        );
    }
}
