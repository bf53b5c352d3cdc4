//! `re` (also `ure`): regular expressions, as MicroPython's `modre.c` on the rp2 port (with
//! `match.groups`, `span`, `start`, `end` and `sub`), over the engine in `regex`.
//!
//! - `compile(pattern[, flags])`, `match(pattern, string)`, `search(pattern, string)`,
//!   `sub(pattern, repl, string[, count[, flags]])`: a pattern is a str or bytes, or a
//!   compiled regex; flags are ignored. There is no module-level `split`, as in MicroPython.
//! - A compiled regex: `match(string[, pos[, endpos]])`, `search(…)`, `split(string[,
//!   maxsplit])`, `sub(repl, string[, count])`. Positions are byte offsets; `^` matches at
//!   the start of the whole string only.
//! - A match: `group(n)` (`n` is required, as in MicroPython), `groups()`, `span([n])`,
//!   `start([n])`, `end([n])` (indexes in characters of a str), printed `<match num=N>`.
//!
//! `sub`'s replacement is a str (or bytes) where `\1` and `\g<1>` are groups and `\\` a
//! backslash (a backslash before anything else is dropped), or a callable given the match;
//! an empty match ends the substitutions, as it ends `split`, which refuses a pattern with
//! groups (`NotImplementedError: splitting with sub-captures`). A subject is a str or bytes,
//! results are of its type; a str result must be UTF-8 (`UnicodeError` otherwise: matching is
//! by bytes).
//!
//! ```text
//! regex  [hdr groups|RE][program bytes]                   immutable: frozen to flash
//! match  [hdr groups|MATCH][subject][captures tuple]      immutable: frozen to flash
//! ```
//!
//! A match's captures are small ints, two per group (group 0 first), byte offsets into the
//! subject, -1 for a group that took no part.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::regex::{self, ExecError, Stack, Subject, UNSET};
use crate::slots::{
    Freeze, Layout, ModuleDef, Native, NativeModule, NativeType, PrintKind, TypeSlots,
};
use crate::types::{instance, str as str_type, str_methods, unicode};
use crate::vm::{R, Thrown, Vm};

/// The `re` module.
pub struct Re;

impl<F: FlashImage> NativeModule<F> for Re {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["ure"],
        extensible: true,
        functions: &[
            Native::args("compile", compile, 1, 2),
            Native::args("match", re_match, 2, 4),
            Native::args("search", re_search, 2, 4),
            Native::args("sub", re_sub, 3, 5),
        ],
        ..ModuleDef::new("re")
    };
}

/// The kind of a compiled regex.
pub const RE: Kind = Kind::new(35);
/// The kind of a match.
pub const MATCH: Kind = Kind::new(36);

/// The compiled regex type.
pub struct Regex;

impl<F: FlashImage> NativeType<F> for Regex {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Words(1),
        freeze: Freeze::Flash,
        print: Some(print_re),
        builtin: false,
        methods: &[
            Native::args("match", re_match, 2, 4),
            Native::args("search", re_search, 2, 4),
            Native::args("split", split, 2, 3),
            Native::args("sub", re_sub, 3, 5),
        ],
        ..TypeSlots::new(RE, "re")
    };
}

/// The match type.
pub struct Match;

impl<F: FlashImage> NativeType<F> for Match {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Words(2),
        freeze: Freeze::Flash,
        print: Some(print_match),
        builtin: false,
        methods: &[
            Native::args("group", group, 2, 2),
            Native::args("groups", groups, 1, 1),
            Native::args("span", span, 1, 2),
            Native::args("start", start, 1, 2),
            Native::args("end", end, 1, 2),
        ],
        ..TypeSlots::new(MATCH, "match")
    };
}

// ------------------------------------------------------------------------------ arguments

/// The bytes of a str or bytes argument and whether it is a str (`TypeError: can't convert
/// '<type>' object to str implicitly` otherwise, as MicroPython's `mp_obj_str_get_data`).
fn text_arg<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<(Vec<u8>, bool)> {
    if let Some(b) = vm.str_bytes(v) {
        return Ok((b.to_vec(), true));
    }
    if vm.kind(v) == Some(Kind::BYTES) {
        return Ok((vm.str_obj_bytes(v).unwrap_or(b"").to_vec(), false));
    }
    str_methods::bad_conversion(vm, v)
}

/// A new str (checked UTF-8) or bytes.
fn text_value<F: FlashImage>(vm: &mut Vm<F>, b: &[u8], is_str: bool) -> R<Value> {
    if is_str {
        str_type::new_text(vm, b)
    } else {
        vm.new_str_obj(Kind::BYTES, b)
    }
}

/// `v` itself if it is a compiled regex, else `v` compiled (a pattern).
fn regex_of<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<(Value, bool)> {
    if vm.kind(v) == Some(RE) {
        return Ok((v, true));
    }
    Ok((compile(vm, &[v], &[])?, false))
}

/// `compile(pattern[, flags])`.
fn compile<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (pattern, _) = text_arg(vm, args[0])?;
    let c = match regex::compile(&pattern) {
        Ok(c) => c,
        Err(regex::Error::TooComplex) => return vm.raise_msg("ValueError", "regex too complex"),
        Err(regex::Error::Syntax) => return vm.raise_msg("ValueError", "error in regex"),
    };
    let prog = vm.new_str_obj(Kind::BYTES, &c.code)?;
    vm.alloc_obj(RE, c.groups, &[prog])
}

/// A compiled regex's program and number of groups.
fn program<F: FlashImage>(vm: &Vm<F>, re: Value) -> (Vec<u8>, usize) {
    let code = vm.str_obj_bytes(vm.wv(re, 1)).unwrap_or(b"").to_vec();
    let groups = (vm.aux(re) as usize).min(regex::groups_of(&code) as usize);
    (code, groups)
}

// ------------------------------------------------------------------------------ matching

/// A matcher run: the program and its scratch space, kept across the matches of a search,
/// a `split` or a `sub`.
struct Matcher {
    code: Vec<u8>,
    caps: Vec<u32>,
    stack: Stack,
}

impl Matcher {
    fn new<F: FlashImage>(vm: &Vm<F>, re: Value) -> Matcher {
        let (code, groups) = program(vm, re);
        Matcher {
            code,
            caps: alloc::vec![UNSET; 2 * (groups + 1)],
            stack: Stack::new(),
        }
    }

    /// Runs on `subj`; `RuntimeError` when the backtracking goes too deep (MicroPython's C
    /// stack overflow), `MemoryError` when its stack cannot grow, `KeyboardInterrupt` on
    /// Ctrl-C.
    fn exec<F: FlashImage>(&mut self, vm: &mut Vm<F>, subj: Subject<'_>, search: bool) -> R<bool> {
        let mut tick = || burn(vm);
        let r = regex::exec(
            &self.code,
            subj,
            search,
            &mut self.caps,
            &mut self.stack,
            &mut tick,
        );
        match r {
            Ok(hit) => Ok(hit),
            Err(ExecError::TooDeep) => {
                vm.raise_msg("RuntimeError", "maximum recursion depth exceeded")
            }
            Err(ExecError::NoMemory) => {
                vm.exc = Value(vm.st.memory_error);
                Err(Thrown)
            }
            // The tick raised (Ctrl-C, out of fuel): the exception is pending.
            Err(ExecError::Stopped) => Err(Thrown),
        }
    }

    /// Group `g`'s `(start, end)` byte offsets, if it took part.
    fn group(&self, g: usize) -> Option<(usize, usize)> {
        let (a, b) = (*self.caps.get(2 * g)?, *self.caps.get(2 * g + 1)?);
        (a != UNSET && b != UNSET).then_some((a as usize, b as usize))
    }
}

/// The matcher's tick: spends fuel as bytecode does, so a long match polls for Ctrl-C (and a
/// fuel limit bounds it); `true` when an exception is pending.
fn burn<F: FlashImage>(vm: &mut Vm<F>) -> bool {
    let n = regex::TICK_STEPS as u64;
    if vm.fuel > n {
        vm.fuel -= n;
        return false;
    }
    vm.fuel = 0;
    vm.refuel().is_err()
}

/// A new match object for the matcher's captures over `subject`.
fn new_match<F: FlashImage>(vm: &mut Vm<F>, m: &Matcher, subject: Value) -> R<Value> {
    let caps: Vec<Value> = m
        .caps
        .iter()
        .map(|&c| {
            if c == UNSET {
                Value::small(-1)
            } else {
                Value::small(c.min(SMALL_MAX as u32) as i32)
            }
        })
        .collect();
    let t = vm.new_tuple(&caps)?;
    let groups = (m.caps.len() / 2) as u32;
    vm.alloc_obj(MATCH, groups, &[subject, t])
}

/// MicroPython's `re_exec_helper`: `match` (anchored) and `search`, of the module (a pattern
/// or a regex; positions ignored) and of a regex (`pos`, `endpos` clamped to the subject).
fn exec_helper<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], search: bool) -> R<Value> {
    let (re, compiled) = regex_of(vm, args[0])?;
    let subject = args[1];
    let (text, _) = text_arg(vm, subject)?;
    let len = text.len() as i64;
    let (mut begin, mut end) = (0i64, len);
    if compiled && args.len() > 2 {
        begin = vm.int_arg(args[2])?.clamp(0, len);
        if args.len() > 3 {
            end = vm.int_arg(args[3])?.min(len).max(begin);
        }
    }
    let mut m = Matcher::new(vm, re);
    let subj = Subject {
        text: &text,
        begin: begin as usize,
        end: end as usize,
    };
    if !m.exec(vm, subj, search)? {
        return Ok(vm.none());
    }
    new_match(vm, &m, subject)
}

fn re_match<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    exec_helper(vm, args, false)
}

fn re_search<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    exec_helper(vm, args, true)
}

/// `r.split(string[, maxsplit])`.
fn split<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let re = args[0];
    if vm.kind(re) != Some(RE) {
        return vm.raise_msg("TypeError", "expected a compiled regex");
    }
    let (text, is_str) = text_arg(vm, args[1])?;
    let mut maxsplit = match args.get(2) {
        Some(&n) => vm.int_arg(n)?,
        None => 0,
    };
    let out = vm.new_list(&[])?;
    let mut m = Matcher::new(vm, re);
    let mut begin = 0;
    loop {
        let subj = Subject {
            text: &text,
            begin,
            end: text.len(),
        };
        if !m.exec(vm, subj, true)? {
            break;
        }
        let Some((a, b)) = m.group(0).filter(|(a, b)| a != b) else {
            break;
        };
        let piece = text_value(vm, &text[begin..a], is_str)?;
        vm.list_append(out, piece)?;
        if m.caps.len() > 2 {
            return vm.raise_msg("NotImplementedError", "splitting with sub-captures");
        }
        begin = b;
        if maxsplit > 0 {
            maxsplit -= 1;
            if maxsplit == 0 {
                break;
            }
        }
    }
    let rest = text_value(vm, &text[begin..], is_str)?;
    vm.list_append(out, rest)?;
    Ok(out)
}

/// Can `v` be called (what `sub` asks of its replacement)?
fn is_callable<F: FlashImage>(vm: &Vm<F>, v: Value) -> bool {
    match vm.kind(v) {
        Some(Kind::INSTANCE) => instance::is_callable(vm, v),
        _ => vm.slots(v).is_some_and(|t| t.call.is_some()),
    }
}

/// `sub(pattern, repl, string[, count[, flags]])` and `r.sub(repl, string[, count])`.
fn re_sub<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (re, _) = regex_of(vm, args[0])?;
    let repl = args[1];
    let subject = args[2];
    let mut count = match args.get(3) {
        Some(&n) => vm.int_arg(n)?,
        None => 0,
    };
    let (text, is_str) = text_arg(vm, subject)?;
    let mut m = Matcher::new(vm, re);
    let mut out: Option<Vec<u8>> = None;
    let mut begin = 0;
    loop {
        let subj = Subject {
            text: &text,
            begin,
            end: text.len(),
        };
        if !m.exec(vm, subj, true)? {
            break;
        }
        let Some((a, b)) = m.group(0).filter(|(a, b)| a != b) else {
            break;
        };
        let mut buf = out.take().unwrap_or_default();
        buf.extend_from_slice(&text[begin..a]);
        let template = if is_callable(vm, repl) {
            let mo = new_match(vm, &m, subject)?;
            let r = vm.call(repl, &[mo], &[])?;
            text_arg(vm, r)?.0
        } else {
            text_arg(vm, repl)?.0
        };
        expand(vm, &m, &text, &template, &mut buf)?;
        out = Some(buf);
        begin = b;
        if count > 0 {
            count -= 1;
            if count == 0 {
                break;
            }
        }
    }
    let Some(mut buf) = out else {
        // No substitution: the subject itself.
        return Ok(subject);
    };
    buf.extend_from_slice(&text[begin..]);
    text_value(vm, &buf, is_str)
}

/// Appends replacement `template` to `out`: `\N` and `\g<N>` are group N (nothing for a
/// group that took no part; `IndexError: N` past the last group), `\\` is a backslash, a
/// backslash before anything else is dropped; the template ends at a NUL byte.
fn expand<F: FlashImage>(
    vm: &mut Vm<F>,
    m: &Matcher,
    text: &[u8],
    template: &[u8],
    out: &mut Vec<u8>,
) -> R<()> {
    let t = match template.iter().position(|&b| b == 0) {
        Some(n) => &template[..n],
        None => template,
    };
    let at = |i: usize| t.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while i < t.len() {
        if t[i] != b'\\' {
            out.push(t[i]);
            i += 1;
            continue;
        }
        i += 1;
        let g_form = at(i) == b'g' && at(i + 1) == b'<';
        if g_form {
            i += 2;
        }
        if at(i).is_ascii_digit() {
            let mut n: u64 = 0;
            while at(i).is_ascii_digit() {
                n = n.saturating_mul(10).saturating_add((at(i) - b'0') as u64);
                i += 1;
            }
            if g_form && at(i) == b'>' {
                i += 1;
            }
            if n >= (m.caps.len() / 2) as u64 {
                let k = Value::small(n.min(SMALL_MAX as u64) as i32);
                return vm.raise_args("IndexError", &[k]);
            }
            if let Some((a, b)) = m.group(n as usize) {
                out.extend_from_slice(&text[a..b]);
            }
        } else if at(i) == b'\\' {
            out.push(b'\\');
            i += 1;
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------ match objects

/// A match's subject and its type, and its captures.
fn match_parts<F: FlashImage>(vm: &mut Vm<F>, m: Value) -> R<(Value, Vec<i32>)> {
    if vm.kind(m) != Some(MATCH) {
        return vm.raise_msg("TypeError", "expected a match");
    }
    let caps = vm
        .seq_vec(vm.wv(m, 2))
        .unwrap_or_default()
        .iter()
        .map(|v| v.as_int())
        .collect();
    Ok((vm.wv(m, 1), caps))
}

/// Group number `n` of a match of `groups` groups (`IndexError: n` out of range).
fn group_index<F: FlashImage>(vm: &mut Vm<F>, n: Value, groups: usize) -> R<usize> {
    let i = vm.int_arg(n)?;
    if i < 0 || i as usize >= groups {
        return vm.raise_args("IndexError", &[n]);
    }
    Ok(i as usize)
}

/// Group `i`'s text, or `None`.
fn group_value<F: FlashImage>(vm: &mut Vm<F>, subject: Value, caps: &[i32], i: usize) -> R<Value> {
    let (a, b) = (caps[2 * i], caps[2 * i + 1]);
    if a < 0 || b < a {
        return Ok(vm.none());
    }
    let (text, is_str) = text_arg(vm, subject)?;
    let (a, b) = ((a as usize).min(text.len()), (b as usize).min(text.len()));
    text_value(vm, &text[a..b.max(a)], is_str)
}

/// `m.group(n)`.
fn group<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (subject, caps) = match_parts(vm, args[0])?;
    let i = group_index(vm, args[1], caps.len() / 2)?;
    group_value(vm, subject, &caps, i)
}

/// `m.groups()`: every group but group 0.
fn groups<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (subject, caps) = match_parts(vm, args[0])?;
    let mut items = Vec::new();
    for i in 1..caps.len() / 2 {
        items.push(group_value(vm, subject, &caps, i)?);
    }
    vm.new_tuple(&items)
}

/// Group `n`'s `(start, end)` (`(-1, -1)` if it took no part), in characters of a str.
fn span_of<F: FlashImage>(vm: &mut Vm<F>, args: &[Value]) -> R<(i64, i64)> {
    let (subject, caps) = match_parts(vm, args[0])?;
    let i = match args.get(1) {
        Some(&n) => group_index(vm, n, caps.len() / 2)?,
        None => 0,
    };
    let (a, b) = (caps[2 * i], caps[2 * i + 1]);
    if a < 0 {
        return Ok((-1, -1));
    }
    let (text, is_str) = text_arg(vm, subject)?;
    if !is_str {
        return Ok((a as i64, b as i64));
    }
    let ascii = text.is_ascii();
    let at = |o: i32| unicode::index_of(&text, ascii, o as usize) as i64;
    Ok((at(a), at(b)))
}

fn span<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (a, b) = span_of(vm, args)?;
    let (a, b) = (vm.int_val(a)?, vm.int_val(b)?);
    vm.new_tuple(&[a, b])
}

fn start<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (a, _) = span_of(vm, args)?;
    vm.int_val(a)
}

fn end<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (_, b) = span_of(vm, args)?;
    vm.int_val(b)
}

fn print_match<F: FlashImage>(
    vm: &mut Vm<F>,
    v: Value,
    s: &mut String,
    _d: u32,
    _k: PrintKind,
) -> R<()> {
    let _ = write!(s, "<match num={}>", vm.aux(v));
    Ok(())
}

fn print_re<F: FlashImage>(
    _vm: &mut Vm<F>,
    v: Value,
    s: &mut String,
    _d: u32,
    _k: PrintKind,
) -> R<()> {
    let _ = write!(s, "<re {:x}>", v.0);
    Ok(())
}
