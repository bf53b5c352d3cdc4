//! The bytecode interpreter: the dispatch loop, exception blocks and unwinding, name lookups.
//!
//! Each Python call gets a window on the VM value stack:
//!
//! ```text
//! [func][locals dict][generator] [state 0 .. n_state-1] [exc block 0 .. n_exc_stack-1]
//!                                 ^ operand stack grows up   locals: fastn[-i] = state[n_state-1-i]
//! exc block = [handler offset (small int)][sp offset << 1 | is_finally (small int)][prev exc]
//! ```
//!
//! The collector scans every window word, so every value a frame holds is rooted.

use alloc::vec;
use alloc::vec::Vec;

use crate::frame::GenOut;
use crate::mem::FlashImage;
use crate::obj::*;
use crate::prelude::{Prelude, read_uint};
use crate::qstr::sq;
use crate::vm::{R, Thrown, Vm};

/// How a frame stopped.
pub enum Flow {
    /// `return v`.
    Return(Value),
    /// `yield v`.
    Yield(Value),
}

/// A running frame (indexes into the VM stack; the values themselves live there).
pub struct Frame {
    pub(crate) ctx: Value,
    pub(crate) rc: Value,
    pub(crate) code: u32,
    pub(crate) ip: u32,
    pub(crate) base: usize,
    pub(crate) n_state: usize,
    pub(crate) sp: usize,
    pub(crate) exc_base: usize,
    pub(crate) exc_sp: usize,
    pub(crate) globals: Value,
    pub(crate) locals: Value,
    pub(crate) end: usize,
}

/// Words before a frame's state: the function, the locals dict (class bodies), the generator.
pub(crate) const WIN_HDR: usize = 3;
const ITER_SLOTS: usize = 4;

/// The key of a frozen namespace's overlay (see [`Vm::store_global`]): its address as a small
/// int (4-aligned, so exact), since a dict is no hashable key. A frozen namespace never moves.
fn overlay_key(globals: Value) -> Value {
    Value::small((globals.0 >> 2) as i32)
}

/// Tag for a raw bytecode offset kept on the operand stack by `UNWIND_JUMP`.
fn ip_tag(off: u32) -> u32 {
    (off << 3) | 0b110
}

impl<F: FlashImage> Vm<F> {
    /// A window word (0 outside the frame's window: malformed bytecode reads null).
    fn sget(&self, fr: &Frame, i: usize) -> u32 {
        if i >= fr.base && i < fr.end {
            self.stack[i]
        } else {
            0
        }
    }

    /// Writes a window word (ignored outside the frame's window).
    fn sset(&mut self, fr: &Frame, i: usize, v: u32) {
        if i >= fr.base && i < fr.end {
            self.stack[i] = v;
        }
    }

    fn push(&mut self, fr: &mut Frame, v: Value) {
        fr.sp = fr.sp.wrapping_add(1);
        if fr.sp < fr.exc_base {
            self.sset(fr, fr.sp, v.0);
        }
    }

    fn pop(&mut self, fr: &mut Frame) -> Value {
        let v = Value(self.sget(fr, fr.sp));
        fr.sp = fr.sp.wrapping_sub(1);
        v
    }

    fn top(&self, fr: &Frame) -> Value {
        Value(self.sget(fr, fr.sp))
    }

    fn byte(&self, fr: &mut Frame) -> u8 {
        let b = self.mem.read_u8(fr.code.wrapping_add(fr.ip));
        fr.ip = fr.ip.wrapping_add(1);
        b
    }

    fn uint(&self, fr: &mut Frame) -> u32 {
        let mut a = fr.code.wrapping_add(fr.ip);
        let v = read_uint(&self.mem, &mut a);
        fr.ip = a.wrapping_sub(fr.code);
        v
    }

    fn ulabel(&self, fr: &mut Frame) -> u32 {
        let b0 = self.byte(fr) as u32;
        if b0 & 0x80 != 0 {
            let b1 = self.byte(fr) as u32;
            (b0 & 0x7f) | (b1 << 7)
        } else {
            b0
        }
    }

    fn slabel(&self, fr: &mut Frame) -> i32 {
        let b0 = self.byte(fr) as i32;
        if b0 & 0x80 != 0 {
            let b1 = self.byte(fr) as i32;
            ((b0 & 0x7f) | (b1 << 7)) - 0x4000
        } else {
            b0 - 0x40
        }
    }

    fn qarg(&self, fr: &mut Frame) -> Value {
        let i = self.uint(fr);
        self.qstr_of_ctx(fr.ctx, i)
    }

    fn local(&self, fr: &Frame, i: u32) -> usize {
        (fr.base + fr.n_state - 1).wrapping_sub(i as usize)
    }

    fn exc_block(&self, fr: &Frame, i: usize) -> (u32, usize, bool, Value) {
        let b = fr.exc_base + 3 * i;
        let h = Value(self.sget(fr, b)).as_int() as u32;
        let s = Value(self.sget(fr, b + 1)).as_int() as u32;
        (
            h,
            fr.base - 1 + (s >> 1) as usize,
            s & 1 != 0,
            Value(self.sget(fr, b + 2)),
        )
    }

    fn push_exc_block(&mut self, fr: &mut Frame, handler: u32, finally: bool) -> R<()> {
        if fr.exc_sp * 3 + fr.exc_base + 3 > fr.end {
            return self.raise_msg("RuntimeError", "exception stack overflow");
        }
        let b = fr.exc_base + 3 * fr.exc_sp;
        let sp_rel = (fr.sp.wrapping_add(1).wrapping_sub(fr.base)) as u32;
        self.sset(fr, b, Value::small(handler as i32).0);
        self.sset(
            fr,
            b + 1,
            Value::small(((sp_rel << 1) | finally as u32) as i32).0,
        );
        self.sset(fr, b + 2, 0);
        fr.exc_sp += 1;
        Ok(())
    }

    /// Runs `fr` until it returns or yields; `inject` is an exception thrown into it.
    pub(crate) fn run_frame(&mut self, fr: &mut Frame, inject: Value) -> R<Flow> {
        let outer = core::mem::replace(&mut self.frame_window, fr.base - WIN_HDR);
        let r = self.run_frame_in(fr, inject);
        self.frame_window = outer;
        r
    }

    /// The globals and the locals dict (null outside a class body) of the innermost running
    /// bytecode frame; the console's globals when none runs.
    pub fn current_scope(&self) -> (Value, Value) {
        let w = self.frame_window;
        if w.saturating_add(WIN_HDR) > self.stack_top {
            return (self.main_globals, Value::NULL);
        }
        let (f, locals) = (Value(self.stack[w]), Value(self.stack[w + 1]));
        if self.kind(f) != Some(Kind::FUNC) {
            return (self.main_globals, Value::NULL);
        }
        let globals = self.wv(self.wv(f, 2), 1);
        (globals, locals)
    }

    fn run_frame_in(&mut self, fr: &mut Frame, inject: Value) -> R<Flow> {
        let young_base = self.young.len();
        let mut pending: Option<Value> = None;
        if !inject.is_null() {
            let op = self.mem.read_u8(fr.code.wrapping_add(fr.ip));
            if op == 0x68 {
                pending = Some(inject); // YIELD_FROM passes it down.
            } else {
                if self.raise::<()>(inject).is_err()
                    && let Some(flow) = self.handle_exc(fr, fr.ip)?
                {
                    return Ok(flow);
                }
            }
        }
        loop {
            self.young.truncate(young_base);
            let op_ip = fr.ip;
            if self.fuel == 0 && self.refuel().is_err() {
                return Err(Thrown);
            }
            self.fuel -= 1;
            if fr.sp.wrapping_add(1) < fr.base || fr.sp >= fr.exc_base {
                // Only malformed bytecode gets here; the frame cannot continue.
                fr.sp = fr.base - 1;
                fr.exc_sp = 0;
                let _ = self.raise_msg::<()>("RuntimeError", "bytecode stack out of range");
                return Err(Thrown);
            }
            match self.step(fr, &mut pending) {
                Ok(None) => {}
                Ok(Some(flow)) => return Ok(flow),
                Err(Thrown) => match self.handle_exc(fr, op_ip) {
                    Ok(Some(flow)) => return Ok(flow),
                    Ok(None) => {}
                    Err(t) => {
                        self.add_traceback(fr, op_ip);
                        return Err(t);
                    }
                },
            }
        }
    }

    /// Routes the current exception to a handler of `fr`; `Err` if there is none.
    fn handle_exc(&mut self, fr: &mut Frame, op_ip: u32) -> R<Option<Flow>> {
        if self.exc.is_null() {
            self.exc = Value(self.st.memory_error);
        }
        while fr.exc_sp > 0 {
            let (h, _, _, _) = self.exc_block(fr, fr.exc_sp - 1);
            if h <= op_ip {
                fr.exc_sp -= 1;
            } else {
                break;
            }
        }
        if fr.exc_sp == 0 {
            return Err(Thrown);
        }
        let (h, sp, _, _) = self.exc_block(fr, fr.exc_sp - 1);
        self.traceback.clear();
        let e = self.take_exc();
        self.sset(fr, fr.exc_base + 3 * (fr.exc_sp - 1) + 2, e.0);
        fr.ip = h;
        fr.sp = sp;
        self.push(fr, e);
        Ok(None)
    }

    /// Records the frame an exception leaves, with the source line of `op_ip`.
    fn add_traceback(&mut self, fr: &Frame, op_ip: u32) {
        if self.traceback.len() >= 32 {
            return;
        }
        let p = Prelude::decode(&self.mem, fr.code);
        let mut a = fr.code + p.info_off;
        for _ in 0..1 + p.n_pos_args + p.n_kwonly_args {
            let _ = read_uint(&self.mem, &mut a);
        }
        let top = fr.code + p.info_off + p.n_info;
        let mut bc = op_ip.wrapping_sub(p.code_off);
        let mut line = 1u32;
        while a < top {
            let c = self.mem.read_u8(a) as u32;
            let (b, l) = if c & 0x80 == 0 {
                a += 1;
                (c & 0x1f, c >> 5)
            } else {
                let c2 = self.mem.read_u8(a + 1) as u32;
                a += 2;
                (c & 0xf, ((c << 4) & 0x700) | c2)
            };
            if bc >= b {
                bc -= b;
                line = line.wrapping_add(l);
            } else {
                break;
            }
        }
        let file = self.qstr_of_ctx(fr.ctx, 0);
        let name = self.qstr_of_ctx(fr.ctx, p.name_idx);
        self.traceback.push((file, line, name));
    }

    fn unknown_op<T>(&mut self, op: u8) -> R<T> {
        let msg = alloc::format!("opcode 0x{op:02x} not implemented");
        self.raise_msg("NotImplementedError", &msg)
    }

    /// Executes one opcode.
    fn step(&mut self, fr: &mut Frame, pending: &mut Option<Value>) -> R<Option<Flow>> {
        let op = self.byte(fr);
        match op {
            0x50 => self.push(fr, Value(self.st.false_)),
            0x51 => self.push(fr, Value(self.st.none)),
            0x52 => self.push(fr, Value(self.st.true_)),
            0x22 => {
                // LOAD_CONST_SMALL_INT: signed var-int
                let mut b = self.byte(fr);
                let mut n: i64 = if b & 0x40 != 0 { -1 } else { 0 };
                loop {
                    n = (n << 7) | (b & 0x7f) as i64;
                    if b & 0x80 == 0 {
                        break;
                    }
                    b = self.byte(fr);
                }
                let v = self.int_val(n)?;
                self.push(fr, v);
            }
            0x10 => {
                let q = self.qarg(fr);
                self.push(fr, q);
            }
            0x23 => {
                let i = self.uint(fr);
                let t = self.wv(fr.ctx, 3);
                let v = if i < self.aux(t) {
                    self.wv(t, 1 + i)
                } else {
                    Value::NULL
                };
                self.push(fr, v);
            }
            0x53 => self.push(fr, Value::NULL),
            0x24 => {
                let i = self.uint(fr);
                let v = Value(self.sget(fr, self.local(fr, i)));
                self.load_checked(fr, v)?;
            }
            0x25 => {
                let i = self.uint(fr);
                let c = Value(self.sget(fr, self.local(fr, i)));
                let v = self.wv(c, 1);
                self.load_checked(fr, v)?;
            }
            0x11 => {
                let q = self.qarg(fr);
                let v = self.load_name(fr, q)?;
                self.push(fr, v);
            }
            0x12 => {
                let q = self.qarg(fr);
                let v = self.load_global(fr.globals, q)?;
                self.push(fr, v);
            }
            0x13 => {
                let q = self.qarg(fr);
                let o = self.top(fr);
                let v = self.load_attr(o, q)?;
                self.sset(fr, fr.sp, v.0);
            }
            0x14 => {
                let q = self.qarg(fr);
                let o = self.top(fr);
                let (m, s) = self.load_method(o, q)?;
                self.sset(fr, fr.sp, m.0);
                self.push(fr, s);
            }
            0x15 => {
                // LOAD_SUPER_METHOD: stack (…, super, __class__, self) → (…, method, self)
                let q = self.qarg(fr);
                let obj = self.pop(fr);
                let class = self.top(fr);
                let (m, s) = self.super_method(class, obj, q)?;
                self.sset(fr, fr.sp.wrapping_sub(1), m.0);
                self.sset(fr, fr.sp, s.0);
            }
            0x54 => {
                let b = Value(self.st.build_class);
                self.push(fr, b);
            }
            0x55 => {
                let idx = self.pop(fr);
                let o = self.top(fr);
                let v = self.subscr(o, idx)?;
                self.sset(fr, fr.sp, v.0);
            }
            0x26 => {
                let i = self.uint(fr);
                let v = self.pop(fr);
                let s = self.local(fr, i);
                self.sset(fr, s, v.0);
            }
            0x27 => {
                let i = self.uint(fr);
                let v = self.top(fr);
                let c = Value(self.sget(fr, self.local(fr, i)));
                self.set_w(c, 1, v.0)?;
                fr.sp = fr.sp.wrapping_sub(1);
            }
            0x16 => {
                let q = self.qarg(fr);
                let v = self.top(fr);
                let d = if fr.locals.is_null() {
                    fr.globals
                } else {
                    fr.locals
                };
                self.dict_store(d, q, v)?;
                fr.sp = fr.sp.wrapping_sub(1);
            }
            0x17 => {
                let q = self.qarg(fr);
                let v = self.top(fr);
                self.store_global(fr.globals, q, v)?;
                fr.sp = fr.sp.wrapping_sub(1);
            }
            0x18 => {
                let q = self.qarg(fr);
                let o = self.top(fr);
                let v = Value(self.sget(fr, fr.sp.wrapping_sub(1)));
                if v.is_null() {
                    // `del obj.attr` is a store of null.
                    self.delete_attr(o, q)?;
                } else {
                    self.store_attr(o, q, v)?;
                }
                fr.sp = fr.sp.wrapping_sub(2);
            }
            0x56 => {
                // STORE_SUBSCR: stack (…, value, obj, index)
                let idx = self.top(fr);
                let o = Value(self.sget(fr, fr.sp.wrapping_sub(1)));
                let v = Value(self.sget(fr, fr.sp.wrapping_sub(2)));
                if v.is_null() {
                    // `del obj[index]` is a store of null.
                    self.delete_subscr(o, idx)?;
                } else {
                    self.store_subscr(o, idx, v)?;
                }
                fr.sp = fr.sp.wrapping_sub(3);
            }
            0x28 => {
                let i = self.uint(fr);
                let s = self.local(fr, i);
                if self.sget(fr, s) == 0 {
                    return self
                        .raise_msg("NameError", "local variable referenced before assignment");
                }
                self.sset(fr, s, 0);
            }
            0x29 => {
                let i = self.uint(fr);
                let c = Value(self.sget(fr, self.local(fr, i)));
                self.set_w(c, 1, 0)?;
            }
            0x19 | 0x1a => {
                let q = self.qarg(fr);
                let d = if op == 0x19 && !fr.locals.is_null() {
                    fr.locals
                } else {
                    fr.globals
                };
                if self.dict_remove(d, q)?.is_none() {
                    let n = self.str_string(q);
                    let msg = alloc::format!("name '{n}' isn't defined");
                    return self.raise_msg("NameError", &msg);
                }
            }
            0x57 => {
                let t = self.top(fr);
                self.push(fr, t);
            }
            0x58 => {
                let a = Value(self.sget(fr, fr.sp.wrapping_sub(1)));
                let b = self.top(fr);
                self.push(fr, a);
                self.push(fr, b);
            }
            0x59 => fr.sp = fr.sp.wrapping_sub(1),
            0x5a => {
                let (a, b) = (self.sget(fr, fr.sp), self.sget(fr, fr.sp.wrapping_sub(1)));
                self.sset(fr, fr.sp, b);
                self.sset(fr, fr.sp.wrapping_sub(1), a);
            }
            0x5b => {
                let t = self.sget(fr, fr.sp);
                self.sset(fr, fr.sp, self.sget(fr, fr.sp.wrapping_sub(1)));
                self.sset(
                    fr,
                    fr.sp.wrapping_sub(1),
                    self.sget(fr, fr.sp.wrapping_sub(2)),
                );
                self.sset(fr, fr.sp.wrapping_sub(2), t);
            }
            0x42 => {
                let s = self.slabel(fr);
                fr.ip = fr.ip.wrapping_add_signed(s);
            }
            0x43 | 0x44 => {
                let s = self.slabel(fr);
                let v = self.pop(fr);
                if self.truthy(v)? == (op == 0x43) {
                    fr.ip = fr.ip.wrapping_add_signed(s);
                }
            }
            0x45 | 0x46 => {
                let u = self.ulabel(fr);
                let v = self.top(fr);
                if self.truthy(v)? == (op == 0x45) {
                    fr.ip = fr.ip.wrapping_add(u);
                } else {
                    fr.sp = fr.sp.wrapping_sub(1);
                }
            }
            0x47 => {
                // SETUP_WITH: (…, ctx) → (…, __exit__, ctx, as_value)
                let u = self.ulabel(fr);
                let handler = fr.ip.wrapping_add(u);
                let obj = self.top(fr);
                let exitq = sq!("__exit__");
                let enterq = sq!("__enter__");
                let (ex, exs) = self.load_method(obj, exitq)?;
                let (en, ens) = self.load_method(obj, enterq)?;
                let r = if ens.is_null() {
                    self.call(en, &[], &[])?
                } else {
                    self.call(en, &[ens], &[])?
                };
                self.sset(fr, fr.sp, ex.0);
                self.push(
                    fr,
                    if exs.is_null() {
                        Value(self.st.none)
                    } else {
                        exs
                    },
                );
                self.push_exc_block(fr, handler, true)?;
                self.push(fr, r);
            }
            0x5c => self.with_cleanup(fr)?,
            0x40 => {
                // UNWIND_JUMP
                // The offset is relative to the end of the label, before the count byte.
                let s = self.slabel(fr);
                let dest = fr.ip.wrapping_add_signed(s);
                let n = self.byte(fr) as u32;
                self.push(fr, Value(ip_tag(dest)));
                self.unwind_jump(fr, n);
            }
            0x48 | 0x49 => {
                let u = self.ulabel(fr);
                let h = fr.ip.wrapping_add(u);
                self.push_exc_block(fr, h, op == 0x49)?;
            }
            0x5d => {
                // END_FINALLY
                fr.exc_sp = fr.exc_sp.saturating_sub(1);
                let t = self.top(fr);
                if t.0 == self.st.none {
                    fr.sp = fr.sp.wrapping_sub(1);
                } else if t.is_int() {
                    fr.sp = fr.sp.wrapping_sub(1);
                    let cause = t.as_int();
                    if cause < 0 {
                        return self.unwind_return(fr);
                    }
                    self.unwind_jump(fr, cause as u32);
                } else {
                    self.exc = t;
                    return Err(Thrown);
                }
            }
            0x5e => {
                let o = self.top(fr);
                let it = self.get_iter(o)?;
                self.sset(fr, fr.sp, it.0);
            }
            0x5f => {
                let o = self.top(fr);
                let it = self.get_iter(o)?;
                self.sset(fr, fr.sp, 0);
                self.push(fr, it);
                self.push(fr, Value::NULL);
                self.push(fr, Value::NULL);
            }
            0x4b => {
                let u = self.ulabel(fr);
                let it = Value(self.sget(fr, fr.sp.wrapping_sub(2)));
                match self.iter_next(it)? {
                    Some(v) => self.push(fr, v),
                    None => {
                        fr.sp = fr.sp.wrapping_sub(ITER_SLOTS);
                        fr.ip = fr.ip.wrapping_add(u);
                    }
                }
            }
            0x4a => {
                fr.exc_sp = fr.exc_sp.saturating_sub(1);
                let u = self.ulabel(fr);
                fr.ip = fr.ip.wrapping_add(u);
            }
            0x2a | 0x2b => {
                let n = self.uint(fr) as usize;
                if n > fr.sp.wrapping_add(1).wrapping_sub(fr.base) {
                    return self.raise_msg("RuntimeError", "bytecode stack out of range");
                }
                let items: Vec<Value> = (0..n)
                    .map(|i| {
                        Value(self.sget(fr, fr.sp.wrapping_add(1).wrapping_sub(n).wrapping_add(i)))
                    })
                    .collect();
                let v = if op == 0x2a {
                    self.new_tuple(&items)?
                } else {
                    self.new_list(&items)?
                };
                fr.sp = fr.sp.wrapping_add(1).wrapping_sub(n);
                self.sset(fr, fr.sp, v.0);
                if n == 0 {
                    fr.sp = fr.sp.wrapping_sub(1);
                    self.push(fr, v);
                }
            }
            0x2c => {
                let n = self.uint(fr);
                let d = self.new_dict(n)?;
                self.push(fr, d);
            }
            0x62 => {
                // STORE_MAP: (…, dict, value, key)
                let k = self.top(fr);
                let v = Value(self.sget(fr, fr.sp.wrapping_sub(1)));
                let d = Value(self.sget(fr, fr.sp.wrapping_sub(2)));
                self.dict_store(d, k, v)?;
                fr.sp = fr.sp.wrapping_sub(2);
            }
            0x2d => {
                let n = self.uint(fr) as usize;
                if n > fr.sp.wrapping_add(1).wrapping_sub(fr.base) {
                    return self.raise_msg("RuntimeError", "bytecode stack out of range");
                }
                let items: Vec<Value> = (0..n)
                    .map(|i| {
                        Value(self.sget(fr, fr.sp.wrapping_add(1).wrapping_sub(n).wrapping_add(i)))
                    })
                    .collect();
                let s = self.new_set()?;
                for x in items {
                    self.set_add(s, x)?;
                }
                fr.sp = fr.sp.wrapping_add(1).wrapping_sub(n);
                if n == 0 {
                    fr.sp = fr.sp.wrapping_sub(1);
                    self.push(fr, s);
                } else {
                    self.sset(fr, fr.sp, s.0);
                }
            }
            0x2e => {
                let n = self.uint(fr);
                let step = if n == 3 {
                    self.pop(fr)
                } else {
                    Value(self.st.none)
                };
                let stop = self.pop(fr);
                let start = self.top(fr);
                let s = self.alloc_obj(Kind::SLICE, 0, &[start, stop, step])?;
                self.sset(fr, fr.sp, s.0);
            }
            0x2f => {
                let n = self.uint(fr) as usize;
                let obj = Value(self.sget(fr, fr.sp.wrapping_sub(n >> 2)));
                match n & 3 {
                    0 => {
                        let v = self.top(fr);
                        self.list_append(obj, v)?;
                        fr.sp = fr.sp.wrapping_sub(1);
                    }
                    1 => {
                        let k = self.top(fr);
                        let v = Value(self.sget(fr, fr.sp.wrapping_sub(1)));
                        self.dict_store(obj, k, v)?;
                        fr.sp = fr.sp.wrapping_sub(2);
                    }
                    _ => {
                        let v = self.top(fr);
                        self.set_add(obj, v)?;
                        fr.sp = fr.sp.wrapping_sub(1);
                    }
                }
            }
            0x30 => {
                let n = self.uint(fr) as usize;
                let seq = self.top(fr);
                let items = self.iter_to_vec(seq)?;
                if items.len() != n {
                    let msg = if items.len() < n {
                        alloc::format!("need more than {} values to unpack", items.len())
                    } else {
                        alloc::format!("too many values to unpack (expected {n})")
                    };
                    return self.raise_msg("ValueError", &msg);
                }
                fr.sp = fr.sp.wrapping_sub(1);
                for x in items.iter().rev() {
                    self.push(fr, *x);
                }
            }
            0x31 => {
                let n = self.uint(fr) as usize;
                let (n_left, n_right) = (n & 0xff, (n >> 8) & 0xff);
                let seq = self.top(fr);
                let items = self.iter_to_vec(seq)?;
                if items.len() < n_left + n_right {
                    return self.raise_msg("ValueError", "need more values to unpack");
                }
                let mid = self.new_list(&items[n_left..items.len() - n_right])?;
                fr.sp = fr.sp.wrapping_sub(1);
                for x in items[items.len() - n_right..].iter().rev() {
                    self.push(fr, *x);
                }
                self.push(fr, mid);
                for x in items[..n_left].iter().rev() {
                    self.push(fr, *x);
                }
            }
            0x32 | 0x33 => {
                let i = self.uint(fr);
                let (d, kd) = if op == 0x33 {
                    let kd = self.pop(fr);
                    let d = self.pop(fr);
                    (d, kd)
                } else {
                    (Value::NULL, Value::NULL)
                };
                let f = self.make_function(fr, i, d, kd)?;
                self.push(fr, f);
            }
            0x20 | 0x21 => {
                let i = self.uint(fr);
                let n = self.byte(fr) as usize;
                let cells: Vec<Value> = (0..n)
                    .map(|k| {
                        Value(self.sget(fr, fr.sp.wrapping_add(1).wrapping_sub(n).wrapping_add(k)))
                    })
                    .collect();
                fr.sp = fr.sp.wrapping_sub(n);
                let (d, kd) = if op == 0x21 {
                    let kd = self.pop(fr);
                    let d = self.pop(fr);
                    (d, kd)
                } else {
                    (Value::NULL, Value::NULL)
                };
                let f = self.make_function(fr, i, d, kd)?;
                let mut words = vec![f];
                words.extend(cells);
                let c = self.alloc_obj(Kind::CLOSURE, n as u32, &words)?;
                self.push(fr, c);
            }
            0x34..=0x37 => {
                let u = self.uint(fr) as usize;
                let (n_pos, n_kw) = (u & 0xff, (u >> 8) & 0xff);
                let method = op == 0x36 || op == 0x37;
                let var = op == 0x35 || op == 0x37;
                let base = fr
                    .sp
                    .wrapping_add(1)
                    .wrapping_sub(n_pos + 2 * n_kw + method as usize + 1 + var as usize);
                if base < fr.base || base > fr.sp {
                    return self.raise_msg("RuntimeError", "bytecode stack out of range");
                }
                let f = Value(self.sget(fr, base));
                let mut args: Vec<Value> = Vec::with_capacity(n_pos + 1);
                let mut a0 = base + 1;
                if method {
                    let s = Value(self.sget(fr, base + 1));
                    if !s.is_null() {
                        args.push(s);
                    }
                    a0 += 1;
                }
                let star = if var {
                    Value(self.sget(fr, fr.sp)).as_int() as u32
                } else {
                    0
                };
                let mut kw: Vec<Value> = Vec::new();
                for i in 0..n_pos {
                    let v = Value(self.sget(fr, a0 + i));
                    if i < 32 && star >> i & 1 != 0 {
                        args.extend(self.iter_to_vec(v)?);
                    } else {
                        args.push(v);
                    }
                }
                for i in 0..n_kw {
                    let k = Value(self.sget(fr, a0 + n_pos + 2 * i));
                    let v = Value(self.sget(fr, a0 + n_pos + 2 * i + 1));
                    if k.is_null() && self.kind(v) == Some(Kind::DICT) {
                        for j in 0..self.dict_len(v) {
                            let (kk, vv) = self.dict_entry(v, j);
                            kw.push(kk);
                            kw.push(vv);
                        }
                    } else if k.is_null() {
                        // `**mapping`: its `keys()`, then `mapping[key]` for each.
                        let kq = sq!("keys");
                        let (f, s) = self.load_method(v, kq)?;
                        let keys = if s.is_null() {
                            self.call(f, &[], &[])?
                        } else {
                            self.call(f, &[s], &[])?
                        };
                        for kk in self.iter_to_vec(keys)? {
                            let vv = self.subscr(v, kk)?;
                            if vv.is_ptr() {
                                self.young.push(vv.0);
                            }
                            kw.push(kk);
                            kw.push(vv);
                        }
                    } else {
                        kw.push(k);
                        kw.push(v);
                    }
                }
                let r = self.call(f, &args, &kw)?;
                fr.sp = base;
                self.sset(fr, base, r.0);
            }
            0x63 => return self.unwind_return(fr),
            0x64 => {
                // RAISE_LAST
                for i in (0..fr.exc_sp).rev() {
                    let (_, _, _, prev) = self.exc_block(fr, i);
                    if !prev.is_null() {
                        self.exc = prev;
                        return Err(Thrown);
                    }
                }
                return self.raise_msg("RuntimeError", "no active exception to reraise");
            }
            0x65 => {
                let e = self.top(fr);
                return self.raise(e);
            }
            0x66 => {
                fr.sp = fr.sp.wrapping_sub(1);
                let e = self.top(fr);
                return self.raise(e);
            }
            0x67 => {
                let v = self.top(fr);
                return Ok(Some(Flow::Yield(v)));
            }
            0x68 => {
                // YIELD_FROM: (…, iter, send_value)
                let send = self.pop(fr);
                let it = self.top(fr);
                let throw = pending.take().unwrap_or(Value::NULL);
                match self.resume_any(it, send, throw)? {
                    GenOut::Yield(v) => {
                        fr.ip = fr.ip.wrapping_sub(1);
                        self.push(fr, v);
                        return Ok(Some(Flow::Yield(v)));
                    }
                    GenOut::Return(v) => {
                        self.sset(fr, fr.sp, v.0);
                        let ge = Value(self.exc_class("GeneratorExit"));
                        if !throw.is_null() && self.exception_match(throw, ge) {
                            return self.raise(throw);
                        }
                    }
                }
            }
            0x1b => {
                // IMPORT_NAME: (…, level, fromlist) → (…, module)
                let q = self.qarg(fr);
                let fromlist = self.pop(fr);
                let level = self.top(fr);
                let m = self.import_name(fr.globals, q, fromlist, level.as_int().max(0) as u32)?;
                self.sset(fr, fr.sp, m.0);
            }
            0x1c => {
                let q = self.qarg(fr);
                let m = self.top(fr);
                let v = self.import_from(m, q)?;
                self.push(fr, v);
            }
            0x69 => {
                let m = self.pop(fr);
                let d = if fr.locals.is_null() {
                    fr.globals
                } else {
                    fr.locals
                };
                self.import_star(m, d)?;
            }
            0x70..=0xaf => {
                let v = Value::small(op as i32 - 0x70 - 16);
                self.push(fr, v);
            }
            0xb0..=0xbf => {
                let v = Value(self.sget(fr, self.local(fr, (op - 0xb0) as u32)));
                self.load_checked(fr, v)?;
            }
            0xc0..=0xcf => {
                let v = self.pop(fr);
                let s = self.local(fr, (op - 0xc0) as u32);
                self.sset(fr, s, v.0);
            }
            0xd0..=0xd3 => {
                let a = self.top(fr);
                let r = self.unary_op((op - 0xd0) as u32, a)?;
                self.sset(fr, fr.sp, r.0);
            }
            0xd7..=0xf9 => {
                let b = self.top(fr);
                let a = Value(self.sget(fr, fr.sp.wrapping_sub(1)));
                let r = self.binary_op((op - 0xd7) as u32, a, b)?;
                fr.sp = fr.sp.wrapping_sub(1);
                self.sset(fr, fr.sp, r.0);
            }
            _ => return self.unknown_op(op),
        }
        Ok(None)
    }

    fn load_checked(&mut self, fr: &mut Frame, v: Value) -> R<()> {
        if v.is_null() {
            return self.raise_msg("NameError", "local variable referenced before assignment");
        }
        self.push(fr, v);
        Ok(())
    }

    fn with_cleanup(&mut self, fr: &mut Frame) -> R<()> {
        let t = self.top(fr);
        let none = self.none();
        if t.0 == self.st.none {
            // (…, __exit__, self, None)
            let ex = Value(self.sget(fr, fr.sp.wrapping_sub(2)));
            let s = Value(self.sget(fr, fr.sp.wrapping_sub(1)));
            self.call(ex, &[s, none, none, none], &[])?;
            fr.sp = fr.sp.wrapping_sub(2);
            self.sset(fr, fr.sp, none.0);
        } else if t.is_int() {
            // (…, __exit__, self, data, cause)
            let ex = Value(self.sget(fr, fr.sp.wrapping_sub(3)));
            let s = Value(self.sget(fr, fr.sp.wrapping_sub(2)));
            let data = self.sget(fr, fr.sp.wrapping_sub(1));
            self.call(ex, &[s, none, none, none], &[])?;
            self.sset(fr, fr.sp.wrapping_sub(3), data);
            self.sset(fr, fr.sp.wrapping_sub(2), t.0);
            fr.sp = fr.sp.wrapping_sub(2);
        } else {
            // (…, __exit__, self, exc)
            let ex = Value(self.sget(fr, fr.sp.wrapping_sub(2)));
            let s = Value(self.sget(fr, fr.sp.wrapping_sub(1)));
            let ty = Value(self.type_of(t));
            let r = self.call(ex, &[s, ty, t, none], &[])?;
            if self.truthy(r)? {
                fr.sp = fr.sp.wrapping_sub(2);
                self.sset(fr, fr.sp, none.0);
            } else {
                fr.sp = fr.sp.wrapping_sub(2);
                self.sset(fr, fr.sp, t.0);
            }
        }
        Ok(())
    }

    fn cancel_active_finally(&mut self, fr: &mut Frame) {
        if Value(self.sget(fr, fr.sp.wrapping_sub(1))).is_int() {
            self.sset(fr, fr.sp.wrapping_sub(2), self.sget(fr, fr.sp));
            fr.sp = fr.sp.wrapping_sub(2);
        }
    }

    fn unwind_jump(&mut self, fr: &mut Frame, mut unum: u32) {
        while unum & 0x7f > 0 {
            unum -= 1;
            if fr.exc_sp == 0 {
                break;
            }
            let (h, _, finally, _) = self.exc_block(fr, fr.exc_sp - 1);
            if finally {
                if h >= fr.ip {
                    self.push(fr, Value::small(unum as i32));
                    fr.ip = h;
                    return;
                }
                self.cancel_active_finally(fr);
            }
            fr.exc_sp -= 1;
        }
        let dest = self.pop(fr);
        fr.ip = dest.0 >> 3;
        if unum != 0 {
            fr.sp = fr.sp.wrapping_sub(ITER_SLOTS);
        }
    }

    fn unwind_return(&mut self, fr: &mut Frame) -> R<Option<Flow>> {
        while fr.exc_sp > 0 {
            let (h, sp, finally, _) = self.exc_block(fr, fr.exc_sp - 1);
            if finally {
                if h >= fr.ip {
                    // Run the finally block, then come back with cause -1.
                    self.sset(fr, sp + 1, self.sget(fr, fr.sp));
                    fr.sp = sp + 1;
                    self.push(fr, Value::small(-1));
                    fr.ip = h;
                    return Ok(None);
                }
                self.cancel_active_finally(fr);
            }
            fr.exc_sp -= 1;
        }
        let v = self.top(fr);
        Ok(Some(Flow::Return(v)))
    }

    fn make_function(&mut self, fr: &Frame, child: u32, defs: Value, kwdefs: Value) -> R<Value> {
        let children = self.code_children(fr.rc);
        if !children.is_ptr() || child >= self.aux(children) {
            return self.raise_msg("RuntimeError", "bad child index in bytecode");
        }
        let rc = self.wv(children, 1 + child);
        let none = self.none();
        let defs = if defs.0 == self.st.none {
            Value::NULL
        } else {
            defs
        };
        if kwdefs.is_ptr() && kwdefs.0 != self.st.none {
            let pair = self.new_tuple(&[if defs.is_null() { none } else { defs }, kwdefs])?;
            self.alloc_obj(Kind::FUNC, func_flags::HAS_KWDEFAULTS, &[rc, fr.ctx, pair])
        } else {
            self.alloc_obj(Kind::FUNC, 0, &[rc, fr.ctx, defs])
        }
    }

    fn load_name(&mut self, fr: &Frame, q: Value) -> R<Value> {
        if fr.locals.is_ptr()
            && let Some(v) = self.overlay_get(fr.locals, q)
        {
            return Ok(v);
        }
        if fr.locals.is_ptr()
            && let Some(v) = self.dict_get_q(fr.locals, q)
        {
            return Ok(v);
        }
        self.load_global(fr.globals, q)
    }

    /// Looks `q` up in `globals`, then in builtins.
    pub fn load_global(&mut self, globals: Value, q: Value) -> R<Value> {
        if let Some(v) = self.overlay_get(globals, q) {
            return Ok(v);
        }
        if let Some(v) = self.dict_get_q(globals, q) {
            return Ok(v);
        }
        if let Some(v) = self.dict_get_q(Value(self.st.builtins), q) {
            return Ok(v);
        }
        let n = self.str_string(q);
        let msg = alloc::format!("name '{n}' isn't defined");
        self.raise_msg("NameError", &msg)
    }

    /// `global name; name = v` in a module's own code. A frozen module's namespace is
    /// read-only, so its code rebinds globals in a heap overlay: the new binding lives until
    /// the next reboot, when the frozen value is back (like the RAM section's state).
    /// `setattr` from outside still raises.
    pub fn store_global(&mut self, globals: Value, q: Value, v: Value) -> R<()> {
        if self.mem.is_writable(globals.0) {
            return self.dict_store(globals, q, v);
        }
        if !self.overlays.is_ptr() {
            self.overlays = self.new_dict(4)?;
        }
        let key = overlay_key(globals);
        let ov = match self.dict_get_q(self.overlays, key) {
            Some(d) => d,
            None => {
                let d = self.new_dict(4)?;
                self.dict_store(self.overlays, key, d)?;
                d
            }
        };
        self.dict_store(ov, q, v)
    }

    /// A global rebound by a frozen module's own code (see [`Vm::store_global`]).
    pub fn overlay_get(&self, globals: Value, q: Value) -> Option<Value> {
        if !self.overlays.is_ptr() || self.mem.is_writable(globals.0) {
            return None;
        }
        let ov = self.dict_get_q(self.overlays, overlay_key(globals))?;
        self.dict_get_q(ov, q)
    }

    fn super_method(&mut self, class: Value, obj: Value, q: Value) -> R<(Value, Value)> {
        // Search the bases of `class` (skip the class itself).
        let bases = self.seq_vec(self.wv(class, 2)).unwrap_or_default();
        let mut found = None;
        for b in bases.iter().chain(core::iter::once(&Value(self.st.object))) {
            if let Some(m) = self.class_lookup(b.0, q) {
                found = Some(m);
                break;
            }
        }
        let Some(m) = found else {
            let n = self.str_string(q);
            let msg = alloc::format!("'super' object has no attribute '{n}'");
            return self.raise_msg("AttributeError", &msg);
        };
        Ok(match self.kind(m) {
            Some(Kind::STATIC_METH) => (self.wv(m, 1), Value::NULL),
            Some(Kind::CLASS_METH) => (self.wv(m, 1), Value(self.type_of(obj))),
            _ => (m, obj),
        })
    }

    // ---------------------------------------------------------------- imports
}
