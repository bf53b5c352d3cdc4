//! UTF-8 and the ASCII character classes, as MicroPython's `py/unicode.c`: a `str` is UTF-8
//! bytes, indexed, sliced and measured by code point; the `is*`/`upper`/`lower` methods and
//! whitespace splitting know ASCII only (a byte of 0x80 or more is never a space, a digit or a
//! letter), exactly as MicroPython's `unichar_is*` functions.
//!
//! ```text
//! 0xxxxxxx                                  1 byte:  U+0000..U+007F
//! 110xxxxx 10xxxxxx                         2 bytes: U+0080..U+07FF
//! 1110xxxx 10xxxxxx 10xxxxxx                3 bytes: U+0800..U+FFFF
//! 11110xxx 10xxxxxx 10xxxxxx 10xxxxxx       4 bytes: U+10000..U+10FFFF
//! ```
//!
//! The functions are pure and total: malformed input (a str can only be built from text that
//! passed [`check`], but a strip of a multi-byte character's bytes, as MicroPython allows, is
//! caught by the same check) never panics, it only counts differently.

use alloc::vec::Vec;

/// Is `b` a continuation byte (`10xxxxxx`)?
#[inline]
pub fn is_cont(b: u8) -> bool {
    b & 0xC0 == 0x80
}

/// Number of code points of `s` (its bytes that are no continuation bytes).
pub fn char_count(s: &[u8]) -> usize {
    s.iter().filter(|&&b| !is_cont(b)).count()
}

/// Offset of the character after the one starting at `i` (`s.len()` at most).
#[inline]
pub fn next(s: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < s.len() && is_cont(s[j]) {
        j += 1;
    }
    j.min(s.len())
}

/// Code point index of byte offset `off` (the characters before it).
pub fn index_of(s: &[u8], ascii: bool, off: usize) -> usize {
    let off = off.min(s.len());
    if ascii { off } else { char_count(&s[..off]) }
}

/// Byte offset of code point `i` of `s` (negative: from the end), as MicroPython's
/// `str_index_to_ptr`: `None` when out of range, unless `clamp` (a slice bound), which caps it
/// to the start or the end. `ascii`: every byte is a code point (O(1)).
pub fn offset(s: &[u8], ascii: bool, i: i64, clamp: bool) -> Option<usize> {
    let n = s.len();
    if ascii {
        let j = if i < 0 { i + n as i64 } else { i };
        return if (0..n as i64).contains(&j) {
            Some(j as usize)
        } else if clamp {
            Some(if j < 0 { 0 } else { n })
        } else {
            None
        };
    }
    if i < 0 {
        // Count characters back from the end.
        let mut left = -i;
        let mut p = n;
        while left > 0 {
            if p == 0 {
                return clamp.then_some(0);
            }
            p -= 1;
            if !is_cont(s[p]) {
                left -= 1;
            }
        }
        Some(p)
    } else {
        let mut p = 0;
        let mut left = i;
        loop {
            if p >= n {
                return clamp.then_some(n);
            }
            if left == 0 {
                return Some(p);
            }
            left -= 1;
            p = next(s, p);
        }
    }
}

/// The code point starting at `i` and the offset after it (MicroPython's `utf8_get_char`,
/// which takes the lead byte's bits and every continuation byte that follows).
pub fn decode(s: &[u8], i: usize) -> (u32, usize) {
    let Some(&lead) = s.get(i) else {
        return (0, s.len());
    };
    if lead < 0x80 {
        return (lead as u32, i + 1);
    }
    let mut cp = (lead & 0x7F) as u32;
    let mut mask = 0x40;
    while cp & mask != 0 {
        cp &= !mask;
        mask >>= 1;
    }
    let mut j = i + 1;
    while j < s.len() && is_cont(s[j]) {
        cp = (cp << 6) | (s[j] & 0x3F) as u32;
        j += 1;
    }
    (cp, j)
}

/// Appends the UTF-8 encoding of code point `cp` (below 0x110000; surrogates are encoded as
/// any other code point, as MicroPython's `chr` does).
pub fn encode(cp: u32, out: &mut Vec<u8>) {
    match cp {
        0..=0x7F => out.push(cp as u8),
        0x80..=0x7FF => out.extend_from_slice(&[0xC0 | (cp >> 6) as u8, 0x80 | (cp & 0x3F) as u8]),
        0x800..=0xFFFF => out.extend_from_slice(&[
            0xE0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]),
        _ => out.extend_from_slice(&[
            0xF0 | ((cp >> 18) & 0x07) as u8,
            0x80 | ((cp >> 12) & 0x3F) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]),
    }
}

/// Is `s` well-formed as MicroPython checks it (`utf8_check`): every lead byte is followed by
/// as many continuation bytes as it announces, no stray continuation byte, no byte of 0xF8 or
/// more. (Like MicroPython, overlong forms and surrogates pass.)
pub fn check(s: &[u8]) -> bool {
    let mut need = 0u8;
    for &c in s {
        if need > 0 {
            if !is_cont(c) {
                return false;
            }
            need -= 1;
        } else if c >= 0xF8 || (0x80..0xC0).contains(&c) {
            return false;
        } else if c >= 0xC0 {
            need = (0xE5u8 >> ((c >> 3) & 0x6)) & 3;
        }
    }
    need == 0
}

/// ASCII whitespace as MicroPython knows it: space, `\t \n \v \f \r`.
#[inline]
pub fn is_space(c: u8) -> bool {
    matches!(c, b' ' | 9..=13)
}

/// An ASCII digit.
#[inline]
pub fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}

/// An ASCII letter.
#[inline]
pub fn is_alpha(c: u8) -> bool {
    c.is_ascii_alphabetic()
}

/// An ASCII upper-case letter.
#[inline]
pub fn is_upper(c: u8) -> bool {
    c.is_ascii_uppercase()
}

/// An ASCII lower-case letter.
#[inline]
pub fn is_lower(c: u8) -> bool {
    c.is_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIX: &[u8] = "aé€😀z".as_bytes();

    #[test]
    fn offsets_count_code_points_from_either_end() {
        assert_eq!(char_count(MIX), 5);
        let want = [0, 1, 3, 6, 10];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(offset(MIX, false, i as i64, false), Some(*w));
            assert_eq!(offset(MIX, false, i as i64 - 5, false), Some(*w));
            assert_eq!(index_of(MIX, false, *w), i);
        }
        assert_eq!(offset(MIX, false, 5, false), None);
        assert_eq!(offset(MIX, false, -6, false), None);
        assert_eq!(offset(MIX, false, 99, true), Some(MIX.len()));
        assert_eq!(offset(MIX, false, -99, true), Some(0));
        assert_eq!(offset(b"abc", true, -1, false), Some(2));
        assert_eq!(offset(b"abc", true, 3, false), None);
        assert_eq!(offset(b"abc", true, -4, true), Some(0));
    }

    #[test]
    fn decode_and_encode_agree_on_every_length() {
        for cp in [0x41, 0xE9, 0x20AC, 0x1F600, 0xD800, 0x10FFFF] {
            let mut b = Vec::new();
            encode(cp, &mut b);
            assert_eq!(decode(&b, 0), (cp, b.len()), "{cp:x}");
            assert!(check(&b));
            if let Some(c) = char::from_u32(cp) {
                let mut buf = [0u8; 4];
                assert_eq!(b, c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }

    #[test]
    fn check_refuses_what_micropython_refuses() {
        assert!(check(MIX));
        for bad in [
            &b"\xff"[..],
            b"\xc3",
            b"a\x80",
            b"\xe2\x82",
            b"\xf8\x80\x80\x80",
        ] {
            assert!(!check(bad), "{bad:?}");
        }
        // Truncated input never panics.
        assert_eq!(decode(b"\xe2\x82", 0).1, 2);
        assert_eq!(next(b"\xe2", 0), 1);
    }
}
