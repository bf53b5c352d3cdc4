//! The regular-expression engine behind `re`: MicroPython's dialect (its `re1.5`), compiled to
//! a small byte program and run by a backtracking matcher with an explicit, bounded stack.
//! Pure: no VM, no allocation but the caller's vectors.
//!
//! Syntax, as MicroPython's: literals (a backslash escapes any character: `\.` is `.`, and `\n`
//! is `n`, since there are no escape sequences), `.` (any byte, newline included), `[...]`
//! and `[^...]` with ranges and `\d \s \w \D \S \W` inside, `\d \D \s \S \w \W` (ASCII), `^`
//! (the start of the subject only) and `$` (its end only), `|`, groups `(...)` and
//! `(?:...)`, and the repeats `* + ?` with their lazy forms `*? +? ??`. Nothing else: `{` is
//! a literal, and so is `}`. Matching is by bytes of the subject (UTF-8 for a str), so a
//! repeat after a multi-byte character repeats its last byte, as in MicroPython.
//!
//! Errors, as MicroPython reports them: a pattern that does not parse (nothing to repeat, an
//! unclosed group or set, a trailing backslash) or whose program does not fit the format
//! below (a jump farther than 127 bytes, more than 127 ranges in a set, more than 63 groups)
//! is [`Error::TooComplex`] (`ValueError: regex too complex`); a `)` with no group open is
//! [`Error::Syntax`] (`ValueError: error in regex`). A pattern ends at its first NUL byte.
//!
//! The program, one instruction after the other (jump offsets are signed bytes, relative to
//! the end of their instruction):
//!
//! ```text
//! CHAR c | ANY | CLASS n (lo hi)×n | CLASS_NOT n (lo hi)×n | NAMED c     consume one byte
//! SPLIT off | RSPLIT off | JMP off                    SPLIT tries the next instruction first
//! SAVE k | BOL | EOL | MATCH                          RSPLIT the jump target first
//! ```
//!
//! A set's pair `(0, c)` is the named class `\c`. [`compile`] wraps the pattern's code in
//! `SAVE 0 … SAVE 1 MATCH`; the search (the unanchored match) tries each start position in
//! turn.
//!
//! The matcher is the recursive one MicroPython runs, with its recursion turned into a stack of
//! pending alternatives and saved captures ([`Stack`]): the same matches, in the same order of
//! preference. Where MicroPython's C stack overflows (`RuntimeError: maximum recursion depth
//! exceeded`: a greedy repeat over a long subject, or a repeat of what can match empty, as
//! `(a*)*`), this stack stops at [`MAX_DEPTH`] entries with [`ExecError::TooDeep`].

use alloc::vec::Vec;

/// Why a pattern does not compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// It does not parse, or its program does not fit the format (`regex too complex`).
    TooComplex,
    /// A `)` closes no group (`error in regex`).
    Syntax,
}

/// Why a match did not finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecError {
    /// The backtracking stack reached [`MAX_DEPTH`] entries.
    TooDeep,
    /// The stack could not grow (out of memory).
    NoMemory,
    /// The caller's tick asked to stop (an interrupt).
    Stopped,
}

/// Largest number of pending alternatives and saved captures (MicroPython's recursion depth).
pub const MAX_DEPTH: usize = 4096;

/// Steps between two calls of the matcher's tick.
pub const TICK_STEPS: u32 = 4096;

const CHAR: u8 = 1;
const ANY: u8 = 2;
const CLASS: u8 = 3;
const CLASS_NOT: u8 = 4;
const NAMED: u8 = 5;
const MATCH: u8 = 6;
const JMP: u8 = 7;
const SPLIT: u8 = 8;
const RSPLIT: u8 = 9;
const SAVE: u8 = 10;
const BOL: u8 = 11;
const EOL: u8 = 12;

/// In a set: this low byte makes the pair a named class.
const NAMED_IN_SET: u8 = 0;

/// A compiled pattern: its program and its number of groups (group 0 excluded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// The program (see the module docs).
    pub code: Vec<u8>,
    /// Groups in the pattern.
    pub groups: u32,
}

/// Is `c` one of `d D s S w W`?
fn is_named(c: u8) -> bool {
    matches!(c, b'd' | b'D' | b's' | b'S' | b'w' | b'W')
}

/// Does byte `b` belong to named class `c` (`d`, `s`, `w`; upper case: the complement)?
fn named_match(c: u8, b: u8) -> bool {
    let r = match c | 0x20 {
        b'd' => b.is_ascii_digit(),
        b's' => b == b' ' || (b'\t'..=b'\r').contains(&b),
        _ => b.is_ascii_alphanumeric() || b == b'_',
    };
    r == c.is_ascii_lowercase()
}

/// A relative jump from the instruction at `at` (2 bytes long) to `to`, checked to fit.
fn rel(at: usize, to: usize, err: &mut bool) -> u8 {
    let d = to as i64 - at as i64 - 2;
    if !(-128..=127).contains(&d) {
        *err = true;
    }
    d as i8 as u8
}

struct Compiler<'a> {
    re: &'a [u8],
    code: Vec<u8>,
    groups: u32,
    /// An offset, count or group number did not fit its byte.
    overflow: bool,
}

impl Compiler<'_> {
    /// Byte `i` of the pattern, 0 past its end (the C string's terminator).
    fn at(&self, i: usize) -> u8 {
        self.re.get(i).copied().unwrap_or(0)
    }

    fn insert(&mut self, at: usize, bytes: [u8; 2]) {
        self.code.splice(at..at, bytes);
    }

    /// Compiles from byte `i` to the end or to a `)`; the index it stopped at.
    fn sequence(&mut self, mut i: usize) -> Result<usize, Error> {
        let start = self.code.len();
        let mut term = start;
        let mut alt: Option<usize> = None;
        while i < self.re.len() && self.re[i] != b')' {
            let c = self.re[i];
            match c {
                b'\\' => {
                    i += 1;
                    let e = self.at(i);
                    if e == 0 {
                        return Err(Error::TooComplex);
                    }
                    term = self.code.len();
                    let op = if is_named(e) { NAMED } else { CHAR };
                    self.code.extend_from_slice(&[op, e]);
                }
                b'.' => {
                    term = self.code.len();
                    self.code.push(ANY);
                }
                b'[' => {
                    term = self.code.len();
                    i = self.set(i + 1)?;
                }
                b'(' => {
                    term = self.code.len();
                    let capture = !(self.at(i + 1) == b'?' && self.at(i + 2) == b':');
                    let g = if capture {
                        self.groups += 1;
                        let k = 2 * self.groups;
                        self.overflow |= k > 127;
                        self.code.extend_from_slice(&[SAVE, k as u8]);
                        Some(k)
                    } else {
                        i += 2;
                        None
                    };
                    i = self.sequence(i + 1)?;
                    if self.at(i) != b')' {
                        return Err(Error::TooComplex);
                    }
                    if let Some(k) = g {
                        self.code.extend_from_slice(&[SAVE, k as u8 + 1]);
                    }
                }
                b'?' | b'*' | b'+' => {
                    if self.code.len() == term {
                        return Err(Error::TooComplex);
                    }
                    let lazy = self.at(i + 1) == b'?';
                    if lazy {
                        i += 1;
                    }
                    match c {
                        b'?' => {
                            self.insert(term, [if lazy { RSPLIT } else { SPLIT }, 0]);
                            let end = self.code.len();
                            self.code[term + 1] = rel(term, end, &mut self.overflow);
                        }
                        b'*' => {
                            self.insert(term, [if lazy { RSPLIT } else { SPLIT }, 0]);
                            let j = self.code.len();
                            let back = rel(j, term, &mut self.overflow);
                            self.code.extend_from_slice(&[JMP, back]);
                            let end = self.code.len();
                            self.code[term + 1] = rel(term, end, &mut self.overflow);
                        }
                        _ => {
                            let j = self.code.len();
                            let back = rel(j, term, &mut self.overflow);
                            self.code
                                .extend_from_slice(&[if lazy { SPLIT } else { RSPLIT }, back]);
                        }
                    }
                    term = self.code.len();
                }
                b'|' => {
                    // Patch the previous alternative's jump to here (where this one's jump
                    // will be once the split is inserted), then open a new alternative.
                    if let Some(a) = alt {
                        let here = self.code.len();
                        self.code[a] = rel(a - 1, here, &mut self.overflow);
                    }
                    self.insert(start, [SPLIT, 0]);
                    self.code.push(JMP);
                    alt = Some(self.code.len());
                    self.code.push(0);
                    let end = self.code.len();
                    self.code[start + 1] = rel(start, end, &mut self.overflow);
                    term = end;
                }
                b'^' | b'$' => {
                    self.code.push(if c == b'^' { BOL } else { EOL });
                    term = self.code.len();
                }
                _ => {
                    term = self.code.len();
                    self.code.extend_from_slice(&[CHAR, c]);
                }
            }
            i += 1;
        }
        if let Some(a) = alt {
            let end = self.code.len();
            self.code[a] = rel(a - 1, end, &mut self.overflow);
        }
        Ok(i)
    }

    /// Compiles the set starting at byte `i` (after its `[`); the index of its `]`.
    fn set(&mut self, mut i: usize) -> Result<usize, Error> {
        let op = if self.at(i) == b'^' {
            i += 1;
            CLASS_NOT
        } else {
            CLASS
        };
        let count_at = self.code.len() + 1;
        self.code.extend_from_slice(&[op, 0]);
        let mut n = 0u32;
        while self.at(i) != b']' {
            let mut c = self.at(i);
            let pair = if c == b'\\' {
                i += 1;
                c = self.at(i);
                if is_named(c) {
                    Some([NAMED_IN_SET, c])
                } else {
                    None
                }
            } else {
                None
            };
            let pair = match pair {
                Some(p) => p,
                None => {
                    if c == 0 {
                        return Err(Error::TooComplex);
                    }
                    if self.at(i + 1) == b'-' && self.at(i + 2) != b']' {
                        i += 2;
                    }
                    let hi = self.at(i);
                    if hi == 0 {
                        return Err(Error::TooComplex);
                    }
                    [c, hi]
                }
            };
            self.code.extend_from_slice(&pair);
            n += 1;
            i += 1;
        }
        self.overflow |= n > 127;
        self.code[count_at] = n as u8;
        Ok(i)
    }
}

/// Compiles `pattern` (see the module docs for the syntax and the errors).
pub fn compile(pattern: &[u8]) -> Result<Compiled, Error> {
    let re = match pattern.iter().position(|&b| b == 0) {
        Some(n) => &pattern[..n],
        None => pattern,
    };
    let mut c = Compiler {
        re,
        code: Vec::with_capacity(2 * re.len() + 5),
        groups: 0,
        overflow: false,
    };
    c.code.extend_from_slice(&[SAVE, 0]);
    let end = c.sequence(0)?;
    if c.overflow {
        return Err(Error::TooComplex);
    }
    if end < re.len() {
        return Err(Error::Syntax);
    }
    c.code.extend_from_slice(&[SAVE, 1, MATCH]);
    Ok(Compiled {
        code: c.code,
        groups: c.groups,
    })
}

/// Number of groups (group 0 excluded) of a program made by [`compile`]: its highest `SAVE`.
pub fn groups_of(code: &[u8]) -> u32 {
    let mut pc = 0;
    let mut k = 0;
    while pc < code.len() {
        let op = code[pc];
        if op == SAVE {
            k = k.max(code.get(pc + 1).copied().unwrap_or(0) as u32 / 2);
        }
        pc += width(code, pc);
    }
    k
}

/// Length of the instruction at `pc`.
fn width(code: &[u8], pc: usize) -> usize {
    match code[pc] {
        ANY | MATCH | BOL | EOL => 1,
        CLASS | CLASS_NOT => 2 + 2 * code.get(pc + 1).copied().unwrap_or(0) as usize,
        _ => 2,
    }
}

/// The matcher's stack: pending alternatives `(pc, sp)` and saved captures
/// `(SAVED | k, old)`; kept by the caller between matches (a search, a `sub`) to reuse its
/// room.
pub type Stack = Vec<(u32, u32)>;

/// A capture slot that holds no position.
pub const UNSET: u32 = u32::MAX;

/// Marks a saved-capture entry of the stack.
const SAVED: u32 = 1 << 31;

/// The subject of a match: its bytes and the window searched.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The whole subject (`^` matches at its start only).
    pub text: &'a [u8],
    /// Where the match may start (the first start of a search).
    pub begin: usize,
    /// Where the subject ends for the match (`$` matches here).
    pub end: usize,
}

/// Runs `code` on `subj`: anchored at `subj.begin`, or (`search`) at the first start from
/// there that matches. On a match `caps` (two slots per group, group 0 first) holds the byte
/// offsets of each group, [`UNSET`] for a group that did not take part; `tick` is called every
/// [`TICK_STEPS`] steps and stops the match when it answers `true`.
pub fn exec(
    code: &[u8],
    subj: Subject<'_>,
    search: bool,
    caps: &mut [u32],
    stack: &mut Stack,
    tick: &mut dyn FnMut() -> bool,
) -> Result<bool, ExecError> {
    let end = subj.end.min(subj.text.len());
    let mut steps = TICK_STEPS;
    let mut start = subj.begin.min(end);
    // A program starting with a literal byte can only match where that byte is.
    let first = match code.get(2..4) {
        Some([CHAR, c]) => Some(*c),
        _ => None,
    };
    loop {
        if let Some(c) = first {
            match subj.text[start..end].iter().position(|&b| b == c) {
                Some(k) if search || k == 0 => start += k,
                _ => return Ok(false),
            }
        }
        caps.fill(UNSET);
        stack.clear();
        if run(code, subj.text, end, start, caps, stack, &mut steps, tick)? {
            return Ok(true);
        }
        if !search || start >= end {
            return Ok(false);
        }
        start += 1;
    }
}

/// One anchored attempt at `sp`.
#[allow(clippy::too_many_arguments)]
fn run(
    code: &[u8],
    text: &[u8],
    end: usize,
    sp: usize,
    caps: &mut [u32],
    stack: &mut Stack,
    steps: &mut u32,
    tick: &mut dyn FnMut() -> bool,
) -> Result<bool, ExecError> {
    let mut pc = 0usize;
    let mut sp = sp;
    let byte = |k: usize| code.get(k).copied().unwrap_or(0);
    loop {
        *steps -= 1;
        if *steps == 0 {
            *steps = TICK_STEPS;
            if tick() {
                return Err(ExecError::Stopped);
            }
        }
        let op = byte(pc);
        let ok = match op {
            CHAR | ANY | CLASS | CLASS_NOT | NAMED if sp >= end => false,
            CHAR => {
                let ok = text[sp] == byte(pc + 1);
                pc += 2;
                sp += 1;
                ok
            }
            ANY => {
                pc += 1;
                sp += 1;
                true
            }
            CLASS | CLASS_NOT => {
                let n = byte(pc + 1) as usize;
                let b = text[sp];
                let hit = (0..n).any(|i| {
                    let (lo, hi) = (byte(pc + 2 + 2 * i), byte(pc + 3 + 2 * i));
                    if lo == NAMED_IN_SET {
                        named_match(hi, b)
                    } else {
                        (lo..=hi).contains(&b)
                    }
                });
                let ok = hit == (op == CLASS);
                pc += 2 + 2 * n;
                sp += 1;
                ok
            }
            NAMED => {
                let ok = named_match(byte(pc + 1), text[sp]);
                pc += 2;
                sp += 1;
                ok
            }
            MATCH => return Ok(true),
            JMP => {
                pc = jump(pc, byte(pc + 1));
                true
            }
            SPLIT | RSPLIT => {
                let target = jump(pc, byte(pc + 1));
                let (now, later) = if op == SPLIT {
                    (pc + 2, target)
                } else {
                    (target, pc + 2)
                };
                push(stack, (later as u32, sp as u32))?;
                pc = now;
                true
            }
            SAVE => {
                let k = byte(pc + 1) as usize;
                if let Some(slot) = caps.get_mut(k) {
                    push(stack, (SAVED | k as u32, *slot))?;
                    *slot = sp as u32;
                }
                pc += 2;
                true
            }
            BOL => {
                pc += 1;
                sp == 0
            }
            EOL => {
                pc += 1;
                sp == end
            }
            // Not an instruction: a corrupted program fails to match.
            _ => false,
        };
        if ok {
            continue;
        }
        // Backtrack: undo the captures saved since the latest alternative, then take it.
        loop {
            let Some((a, b)) = stack.pop() else {
                return Ok(false);
            };
            if a & SAVED != 0 {
                if let Some(slot) = caps.get_mut((a & !SAVED) as usize) {
                    *slot = b;
                }
            } else {
                pc = a as usize;
                sp = b as usize;
                break;
            }
        }
    }
}

/// The target of the jump at `pc` with offset byte `off`.
fn jump(pc: usize, off: u8) -> usize {
    (pc as isize + 2 + off as i8 as isize).max(0) as usize
}

fn push(stack: &mut Stack, e: (u32, u32)) -> Result<(), ExecError> {
    if stack.len() >= MAX_DEPTH {
        return Err(ExecError::TooDeep);
    }
    stack.try_reserve(1).map_err(|_| ExecError::NoMemory)?;
    stack.push(e);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    fn find(p: &str, s: &str, search: bool) -> Option<Vec<Option<(usize, usize)>>> {
        let c = compile(p.as_bytes()).unwrap();
        let mut caps = alloc::vec![UNSET; 2 * (c.groups as usize + 1)];
        let subj = Subject {
            text: s.as_bytes(),
            begin: 0,
            end: s.len(),
        };
        let mut stack = Stack::new();
        let hit = exec(&c.code, subj, search, &mut caps, &mut stack, &mut || false).unwrap();
        hit.then(|| {
            caps.chunks(2)
                .map(|p| (p[0] != UNSET).then(|| (p[0] as usize, p[1] as usize)))
                .collect()
        })
    }

    #[test]
    fn matches_like_micropython() {
        assert_eq!(find("a+?", "aaa", false), Some(vec![Some((0, 1))]));
        assert_eq!(find("ab|a|abc", "abc", false), Some(vec![Some((0, 2))]));
        assert_eq!(
            find("(a|b)+", "abab", false),
            Some(vec![Some((0, 4)), Some((3, 4))])
        );
        assert_eq!(find("(a)?b", "b", false), Some(vec![Some((0, 1)), None]));
        assert_eq!(find("a{2}", "a{2}", false), Some(vec![Some((0, 4))]));
        assert_eq!(find(r"\d+$", "ab12", true), Some(vec![Some((2, 4))]));
        assert_eq!(find("[]a]", "a]", false), None);
        assert_eq!(find("[^]a]", "ba]", false), Some(vec![Some((0, 3))]));
        assert_eq!(find("x", "abc", true), None);
        assert_eq!(find("$", "ab", true), Some(vec![Some((2, 2))]));
    }

    #[test]
    fn errors_like_micropython() {
        for p in ["a**", "(a", "(?P<x>a)", "[ab", "ab\\", "^*", "a|*", "(*)"] {
            assert_eq!(compile(p.as_bytes()), Err(Error::TooComplex), "{p}");
        }
        assert_eq!(compile(b"a)"), Err(Error::Syntax));
        // A jump past 127 bytes does not fit.
        let long = alloc::format!("({})*", "a".repeat(70));
        assert_eq!(compile(long.as_bytes()), Err(Error::TooComplex));
    }

    #[test]
    fn deep_backtracking_is_bounded() {
        let c = compile(b"(a*)*").unwrap();
        let mut caps = [UNSET; 4];
        let subj = Subject {
            text: b"b",
            begin: 0,
            end: 1,
        };
        let mut stack = Stack::new();
        let r = exec(&c.code, subj, false, &mut caps, &mut stack, &mut || false);
        assert_eq!(r, Err(ExecError::TooDeep));
    }
}
