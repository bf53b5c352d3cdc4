//! The bytecode interpreter: prelude decoding, calls, the dispatch loop, generators, imports.
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

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::mem::{FlashImage, Memory};
use crate::obj::*;
use crate::qstr::sq;
use crate::vm::{R, Thrown, Vm};

/// Scope flags of a code prelude.
pub mod scope {
    /// A generator function.
    pub const GENERATOR: u32 = 0x01;
    /// Takes `**kwargs`.
    pub const VARKEYWORDS: u32 = 0x02;
    /// Takes `*args`.
    pub const VARARGS: u32 = 0x04;
    /// Has keyword-only defaults.
    pub const DEFKWARGS: u32 = 0x08;
}

/// A decoded bytecode prelude.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prelude {
    /// Number of state slots (locals + operand stack).
    pub n_state: u32,
    /// Number of exception blocks.
    pub n_exc_stack: u32,
    /// Scope flags ([`scope`]).
    pub scope_flags: u32,
    /// Positional parameters.
    pub n_pos_args: u32,
    /// Keyword-only parameters.
    pub n_kwonly_args: u32,
    /// Positional parameters with defaults.
    pub n_def_pos_args: u32,
    /// Size of the source-info section.
    pub n_info: u32,
    /// Number of cell bytes.
    pub n_cell: u32,
    /// Index (into the module qstr table) of the function name.
    pub name_idx: u32,
    /// Offset of the source-info section from the bytecode start.
    pub info_off: u32,
    /// Offset of the first opcode from the bytecode start.
    pub code_off: u32,
}

/// Reads a 7-bit-group unsigned int, most significant group first.
pub fn read_uint(mem: &Memory<impl FlashImage>, addr: &mut u32) -> u32 {
    let mut v: u32 = 0;
    for _ in 0..5 {
        let b = mem.read_u8(*addr);
        *addr += 1;
        v = (v << 7) | (b & 0x7f) as u32;
        if b & 0x80 == 0 {
            break;
        }
    }
    v
}

impl Prelude {
    /// Decodes the prelude of the bytecode starting at `addr`.
    pub fn decode(mem: &Memory<impl FlashImage>, addr: u32) -> Prelude {
        Self::decode_with(|i| mem.read_u8(addr + i))
    }

    /// Decodes a prelude through a byte accessor (offsets from the bytecode start).
    pub fn decode_with(byte: impl Fn(u32) -> u8) -> Prelude {
        let mut p = Prelude::default();
        let mut i = 0u32;
        let mut z = byte(i);
        i += 1;
        let (mut s, mut e, mut f, mut a, mut k, mut d) = (
            ((z >> 3) & 0xf) as u32,
            ((z >> 2) & 1) as u32,
            0u32,
            (z & 3) as u32,
            0u32,
            0u32,
        );
        let mut n = 0;
        while z & 0x80 != 0 && n < 8 {
            z = byte(i);
            i += 1;
            s |= ((z & 0x30) as u32) << (2 * n);
            e |= ((z & 0x02) as u32) << n;
            f |= (((z & 0x40) >> 6) as u32) << n;
            a |= ((z & 0x4) as u32) << n;
            k |= (((z & 0x08) >> 3) as u32) << n;
            d |= ((z & 0x1) as u32) << n;
            n += 1;
        }
        p.n_state = s + 1;
        p.n_exc_stack = e;
        p.scope_flags = f;
        p.n_pos_args = a;
        p.n_kwonly_args = k;
        p.n_def_pos_args = d;
        let (mut ninfo, mut ncell) = (0u32, 0u32);
        let mut n = 0;
        loop {
            let z = byte(i);
            i += 1;
            ninfo |= (((z >> 1) & 0x3f) as u32) << (6 * n);
            ncell |= ((z & 1) as u32) << n;
            n += 1;
            if z & 0x80 == 0 || n >= 5 {
                break;
            }
        }
        p.n_info = ninfo;
        p.n_cell = ncell;
        p.info_off = i;
        // simple name: var uint
        let mut v = 0u32;
        for j in i..i + 5 {
            let b = byte(j);
            v = (v << 7) | (b & 0x7f) as u32;
            if b & 0x80 == 0 {
                break;
            }
        }
        p.name_idx = v;
        p.code_off = i + ninfo + ncell;
        p
    }
}

/// How a frame stopped.
pub enum Flow {
    /// `return v`.
    Return(Value),
    /// `yield v`.
    Yield(Value),
}

/// A running frame (indexes into the VM stack; the values themselves live there).
pub struct Frame {
    ctx: Value,
    rc: Value,
    code: u32,
    ip: u32,
    base: usize,
    n_state: usize,
    sp: usize,
    exc_base: usize,
    exc_sp: usize,
    globals: Value,
    locals: Value,
    end: usize,
}

const WIN_HDR: usize = 3;
const ITER_SLOTS: usize = 4;

/// Tag for a raw bytecode offset kept on the operand stack by `UNWIND_JUMP`.
fn ip_tag(off: u32) -> u32 {
    (off << 3) | 0b110
}

/// Result of resuming a generator.
pub enum GenOut {
    /// It yielded.
    Yield(Value),
    /// It returned (StopIteration value).
    Return(Value),
}

impl<F: FlashImage> Vm<F> {
    // ---------------------------------------------------------------- calls

    /// Calls `f(*args, **kw)`; `kw` is flat `[name, value, …]`.
    pub fn call(&mut self, f: Value, args: &[Value], kw: &[Value]) -> R<Value> {
        for v in core::iter::once(&f).chain(args).chain(kw) {
            if v.is_ptr() {
                self.young.push(v.0);
            }
        }
        match self.kind(f) {
            Some(Kind::Func | Kind::Closure) => self.call_bc(f, args, kw, Value::NULL),
            Some(Kind::BoundMeth) => {
                let mut a = Vec::with_capacity(args.len() + 1);
                a.push(self.wv(f, 2));
                a.extend_from_slice(args);
                let m = self.wv(f, 1);
                self.call(m, &a, kw)
            }
            Some(Kind::Builtin) => {
                let id = self.aux(f);
                self.call_native(id, args, kw)
            }
            Some(Kind::Class) => self.instantiate(f, args, kw),
            Some(Kind::Instance) => {
                let m = sq!("__call__");
                match self.lookup_method(f, m)? {
                    Some(c) => {
                        let mut a = vec![f];
                        a.extend_from_slice(args);
                        self.call(c, &a, kw)
                    }
                    None => self.not_callable(f),
                }
            }
            _ => self.not_callable(f),
        }
    }

    fn not_callable<T>(&mut self, f: Value) -> R<T> {
        let t = self.class_name(self.type_of(f));
        let msg = alloc::format!("'{t}' object isn't callable");
        self.raise_msg("TypeError", &msg)
    }

    /// Creates an instance of class `c` and runs `__init__`.
    pub fn instantiate(&mut self, c: Value, args: &[Value], kw: &[Value]) -> R<Value> {
        let flags = self.aux(c);
        if flags & class_flags::NATIVE != 0 {
            return self.construct_native(c, args, kw);
        }
        let newq = sq!("__new__");
        let inst = if let Some(nf) = self.class_lookup(c.0, newq)
            && matches!(
                self.kind(nf),
                Some(Kind::Func | Kind::Closure | Kind::StaticMeth)
            ) {
            let nf = if self.kind(nf) == Some(Kind::StaticMeth) {
                self.wv(nf, 1)
            } else {
                nf
            };
            let mut a = vec![c];
            a.extend_from_slice(args);
            let o = self.call(nf, &a, kw)?;
            if self.type_of(o) != c.0 {
                return Ok(o);
            }
            o
        } else if flags & class_flags::EXCEPTION != 0 {
            let t = self.new_tuple(args)?;
            self.alloc_obj(Kind::Instance, 0, &[c, Value::NULL, t])?
        } else {
            // No args word: null forever, so the frozen copy can drop it.
            self.alloc_obj(Kind::Instance, 0, &[c, Value::NULL, Value::NULL])?
        };
        let initq = sq!("__init__");
        if let Some(init) = self.class_lookup(c.0, initq) {
            let mut a = vec![inst];
            a.extend_from_slice(args);
            self.call(init, &a, kw)?;
        }
        Ok(inst)
    }

    /// Calls a bytecode function (or closure); `locals` is set for class bodies.
    pub fn call_bc(&mut self, f: Value, args: &[Value], kw: &[Value], locals: Value) -> R<Value> {
        let (fun, cells) = if self.kind(f) == Some(Kind::Closure) {
            let n = self.aux(f);
            let cells: Vec<Value> = (0..n).map(|i| self.wv(f, 2 + i)).collect();
            (self.wv(f, 1), cells)
        } else {
            (f, Vec::new())
        };
        let all_args: Vec<Value>;
        let args = if cells.is_empty() {
            args
        } else {
            all_args = cells.iter().chain(args.iter()).copied().collect();
            &all_args
        };
        if self.depth >= self.max_depth {
            return self.raise_msg("RuntimeError", "maximum recursion depth exceeded");
        }
        let mut fr = self.setup_frame(fun, args, kw, locals)?;
        let rc = fr.rc;
        let p = Prelude::decode(&self.mem, fr.code);
        if p.scope_flags & scope::GENERATOR != 0 {
            // Save the bound state into a generator object.
            let words = (fr.end - fr.base) as u32;
            let arr = self.new_array(words);
            let arr = match arr {
                Ok(a) => a,
                Err(t) => {
                    self.stack_top = fr.base - WIN_HDR;
                    return Err(t);
                }
            };
            // Resuming copies exactly this many words back: the freezer must not trim it.
            let _ = self
                .mem
                .write_u32(arr.0, header(Kind::Array, words | ARRAY_FIXED));
            for i in 0..words {
                let x = self.stack[fr.base + i as usize];
                let _ = self.mem.write_u32(arr.0 + 4 + 4 * i, x);
            }
            let _ = rc;
            self.stack_top = fr.base - WIN_HDR;
            return self.alloc_obj(
                Kind::Generator,
                gen_state::NEW,
                &[
                    fun,
                    arr,
                    Value::small(fr.ip as i32),
                    Value::small(0),
                    Value::small(0),
                    Value::NULL,
                ],
            );
        }
        self.depth += 1;
        let r = self.run_frame(&mut fr, Value::NULL);
        self.depth -= 1;
        self.stack_top = fr.base - WIN_HDR;
        match r? {
            Flow::Return(v) => Ok(v),
            Flow::Yield(_) => self.raise_msg("RuntimeError", "yield outside generator"),
        }
    }

    /// Allocates a window and binds arguments (MicroPython's argument rules).
    fn setup_frame(&mut self, fun: Value, args: &[Value], kw: &[Value], locals: Value) -> R<Frame> {
        let rc = self.wv(fun, 1);
        let ctx = self.wv(fun, 2);
        let code = self.code_addr(rc);
        let p = Prelude::decode(&self.mem, code);
        let n_state = p.n_state as usize;
        let start = self.stack_top;
        let end = start + WIN_HDR + n_state + 3 * p.n_exc_stack as usize;
        if end > self.stack.len() {
            return self.raise_msg("RuntimeError", "maximum recursion depth exceeded");
        }
        self.stack[start..end].fill(0);
        self.stack[start] = fun.0;
        self.stack[start + 1] = locals.0;
        self.stack_top = end;
        let base = start + WIN_HDR;
        let globals = self.wv(ctx, 1);
        let fr = Frame {
            ctx,
            rc,
            code,
            ip: p.code_off,
            base,
            n_state,
            sp: base - 1,
            exc_base: base + n_state,
            exc_sp: 0,
            globals,
            locals,
            end,
        };
        match self.bind_args(&fr, &p, fun, args, kw) {
            Ok(()) => Ok(fr),
            Err(t) => {
                self.stack_top = start;
                Err(t)
            }
        }
    }

    fn bind_args(
        &mut self,
        fr: &Frame,
        p: &Prelude,
        fun: Value,
        args: &[Value],
        kw: &[Value],
    ) -> R<()> {
        let n_params = p.n_pos_args as usize
            + p.n_kwonly_args as usize
            + usize::from(p.scope_flags & scope::VARARGS != 0)
            + usize::from(p.scope_flags & scope::VARKEYWORDS != 0);
        if n_params > fr.n_state {
            return self.raise_msg("RuntimeError", "bad bytecode prelude");
        }
        let n_state = fr.n_state;
        let slot = |i: usize| fr.base + n_state - 1 - i;
        let n_pos = p.n_pos_args as usize;
        let n_kwonly = p.n_kwonly_args as usize;
        let flags = p.scope_flags;
        let (defs, kwdefs) = self.func_defaults(fun);
        let n_def = p.n_def_pos_args as usize;
        let mut var_slot = n_pos + n_kwonly; // local index of *args / **kwargs
        let mut n_args = args.len();
        if n_args > n_pos {
            if flags & scope::VARARGS == 0 {
                let name = self.func_name(fun);
                let msg = alloc::format!(
                    "function {name} takes {n_pos} positional arguments but {n_args} were given"
                );
                return self.raise_msg("TypeError", &msg);
            }
            let t = self.new_tuple(&args[n_pos..])?;
            self.stack[slot(var_slot)] = t.0;
            var_slot += 1;
            n_args = n_pos;
        } else if flags & scope::VARARGS != 0 {
            self.stack[slot(var_slot)] = self.st.empty_tuple;
            var_slot += 1;
        }
        for (i, a) in args[..n_args].iter().enumerate() {
            self.stack[slot(i)] = a.0;
        }
        let mut kwdict = Value::NULL;
        if flags & scope::VARKEYWORDS != 0 {
            kwdict = self.new_dict(kw.len() as u32 / 2)?;
            self.stack[slot(var_slot)] = kwdict.0;
        }
        // Keyword arguments by name.
        let names_start = fr.code + p.info_off;
        for pair in kw.chunks(2) {
            let (name, val) = (pair[0], pair.get(1).copied().unwrap_or(Value::NULL));
            let mut a = names_start;
            let _ = read_uint(&self.mem, &mut a);
            let mut found = false;
            for j in 0..n_pos + n_kwonly {
                let qi = read_uint(&self.mem, &mut a);
                let q = self.qstr_of_ctx(fr.ctx, qi);
                if self.eq(q, name)? {
                    if self.stack[slot(j)] != 0 {
                        let n = self.str_string(name);
                        let msg = alloc::format!("function got multiple values for argument '{n}'");
                        return self.raise_msg("TypeError", &msg);
                    }
                    self.stack[slot(j)] = val.0;
                    found = true;
                    break;
                }
            }
            if !found {
                if kwdict.is_null() {
                    let n = self.str_string(name);
                    let msg = alloc::format!("unexpected keyword argument '{n}'");
                    return self.raise_msg("TypeError", &msg);
                }
                self.dict_store(kwdict, name, val)?;
            }
        }
        // Positional defaults.
        let defv = if defs.is_ptr() {
            self.seq_vec(defs).unwrap_or_default()
        } else {
            Vec::new()
        };
        for i in 0..n_pos {
            if self.stack[slot(i)] == 0 {
                let di = i as isize - (n_pos as isize - n_def as isize);
                if di >= 0 && (di as usize) < defv.len() {
                    self.stack[slot(i)] = defv[di as usize].0;
                } else {
                    let name = self.func_name(fun);
                    let msg = alloc::format!(
                        "function {name} missing required positional argument #{}",
                        i + 1
                    );
                    return self.raise_msg("TypeError", &msg);
                }
            }
        }
        // Keyword-only defaults.
        if n_kwonly > 0 {
            let mut a = names_start;
            let _ = read_uint(&self.mem, &mut a);
            for _ in 0..n_pos {
                let _ = read_uint(&self.mem, &mut a);
            }
            for i in 0..n_kwonly {
                let qi = read_uint(&self.mem, &mut a);
                if self.stack[slot(n_pos + i)] == 0 {
                    let q = self.qstr_of_ctx(fr.ctx, qi);
                    let d = if kwdefs.is_ptr() {
                        self.dict_get(kwdefs, q)?
                    } else {
                        None
                    };
                    match d {
                        Some(v) => self.stack[slot(n_pos + i)] = v.0,
                        None => {
                            let n = self.str_string(q);
                            let msg =
                                alloc::format!("function missing required keyword argument '{n}'");
                            return self.raise_msg("TypeError", &msg);
                        }
                    }
                }
            }
        }
        // Cells for closed-over locals.
        let cells_at = fr.code + p.info_off + p.n_info;
        for a in cells_at..cells_at + p.n_cell {
            let local = self.mem.read_u8(a) as usize;
            if local < n_state {
                let cur = Value(self.stack[slot(local)]);
                let c = self.alloc_obj(Kind::Cell, 0, &[cur])?;
                self.stack[slot(local)] = c.0;
            }
        }
        Ok(())
    }

    /// (positional defaults tuple or null, kw-defaults dict or null) of a function.
    fn func_defaults(&self, fun: Value) -> (Value, Value) {
        // A compact frozen function has no defaults word: it had neither.
        if is_compact(self.w(fun, 0)) {
            return (Value::NULL, Value::NULL);
        }
        let d = self.wv(fun, 3);
        if self.aux(fun) & func_flags::HAS_KWDEFAULTS != 0 {
            let pos = self.wv(d, 1);
            let pos = if pos.0 == self.st.none {
                Value::NULL
            } else {
                pos
            };
            (pos, self.wv(d, 2))
        } else {
            (d, Value::NULL)
        }
    }

    /// Runs a module's top-level code with `globals` as its namespace.
    pub fn run_module_code(&mut self, fun: Value, globals: Value) -> R<Value> {
        self.call_bc(fun, &[], &[], globals)
    }

    // ---------------------------------------------------------------- generators

    /// Resumes a generator.
    pub fn gen_resume(&mut self, g: Value, send: Value, throw: Value) -> R<GenOut> {
        let state = self.aux(g);
        if state == gen_state::DONE {
            return Ok(GenOut::Return(self.none()));
        }
        if state == gen_state::RUNNING {
            return self.raise_msg("ValueError", "generator already executing");
        }
        let mut throw = throw;
        let pend = self.wv(g, 6);
        if pend.is_ptr() && pend.0 != self.st.none {
            throw = pend;
            self.set_w(g, 6, Value::NULL.0)?;
        }
        if self.depth >= self.max_depth {
            return self.raise_msg("RuntimeError", "maximum recursion depth exceeded");
        }
        let fun = self.wv(g, 1);
        let arr = self.wv(g, 2);
        let rc = self.wv(fun, 1);
        let ctx = self.wv(fun, 2);
        let code = self.code_addr(rc);
        let p = Prelude::decode(&self.mem, code);
        let n_state = p.n_state as usize;
        let start = self.stack_top;
        let words = (self.aux(arr) & ARRAY_LEN_MASK) as usize;
        let end = start + WIN_HDR + words;
        if end > self.stack.len() {
            return self.raise_msg("RuntimeError", "maximum recursion depth exceeded");
        }
        self.stack[start] = fun.0;
        self.stack[start + 1] = 0;
        self.stack[start + 2] = g.0;
        for i in 0..words {
            self.stack[start + WIN_HDR + i] = self.w(arr, 1 + i as u32);
        }
        self.stack_top = end;
        let base = start + WIN_HDR;
        let sp_rel = self.wv(g, 4).as_int() as usize;
        let mut fr = Frame {
            ctx,
            rc,
            code,
            ip: self.wv(g, 3).as_int() as u32,
            base,
            n_state,
            sp: base - 1 + sp_rel,
            exc_base: base + n_state,
            exc_sp: self.wv(g, 5).as_int() as usize,
            globals: self.wv(ctx, 1),
            locals: Value::NULL,
            end,
        };
        if sp_rel == 0 {
            if send.0 != self.st.none && throw.is_null() {
                self.stack_top = start;
                return self.raise_msg(
                    "TypeError",
                    "can't send non-None value to a just-started generator",
                );
            }
        } else {
            self.stack[fr.sp] = send.0;
        }
        self.set_w(g, 0, header(Kind::Generator, gen_state::RUNNING))?;
        self.depth += 1;
        let r = self.run_frame(&mut fr, throw);
        self.depth -= 1;
        // Save the state back.
        for i in 0..words {
            let x = self.stack[base + i];
            let _ = self.mem.write_u32(arr.0 + 4 + 4 * i as u32, x);
        }
        self.stack_top = start;
        let _ = self.set_w(g, 3, Value::small(fr.ip as i32).0);
        let _ = self.set_w(
            g,
            4,
            Value::small(fr.sp.wrapping_add(1).wrapping_sub(base) as i32).0,
        );
        let _ = self.set_w(g, 5, Value::small(fr.exc_sp as i32).0);
        match r {
            Ok(Flow::Yield(v)) => {
                self.set_w(g, 0, header(Kind::Generator, gen_state::SUSPENDED))?;
                Ok(GenOut::Yield(v))
            }
            Ok(Flow::Return(v)) => {
                self.set_w(g, 0, header(Kind::Generator, gen_state::DONE))?;
                Ok(GenOut::Return(v))
            }
            Err(t) => {
                let _ = self.set_w(g, 0, header(Kind::Generator, gen_state::DONE));
                let e = self.exc;
                if self.exception_match(e, Value(self.exc_class("StopIteration"))) {
                    return self.raise_msg("RuntimeError", "generator raised StopIteration");
                }
                Err(t)
            }
        }
    }

    /// `next(gen)`: `None` when it finished.
    pub fn gen_next(&mut self, g: Value) -> R<Option<Value>> {
        let none = self.none();
        match self.gen_resume(g, none, Value::NULL)? {
            GenOut::Yield(v) => Ok(Some(v)),
            GenOut::Return(_) => Ok(None),
        }
    }

    /// Generic resume used by `YIELD_FROM`, `send` and `throw` on any iterator.
    fn resume_any(&mut self, it: Value, send: Value, throw: Value) -> R<GenOut> {
        if self.kind(it) == Some(Kind::Generator) {
            return self.gen_resume(it, send, throw);
        }
        if !throw.is_null() {
            let m = sq!("throw");
            if let Some(f) = self.lookup_method(it, m)? {
                let v = self.call(f, &[it, throw], &[]);
                return self.stopiter_to_return(v);
            }
            return self.raise(throw);
        }
        if send.0 == self.st.none {
            return match self.iter_next(it)? {
                Some(v) => Ok(GenOut::Yield(v)),
                None => Ok(GenOut::Return(self.none())),
            };
        }
        let m = sq!("send");
        match self.lookup_method(it, m)? {
            Some(f) => {
                let v = self.call(f, &[it, send], &[]);
                self.stopiter_to_return(v)
            }
            None => self.raise_msg("TypeError", "object has no send()"),
        }
    }

    fn stopiter_to_return(&mut self, v: R<Value>) -> R<GenOut> {
        match v {
            Ok(v) => Ok(GenOut::Yield(v)),
            Err(t) => {
                let e = self.exc;
                if self.exception_match(e, Value(self.exc_class("StopIteration"))) {
                    self.exc = Value::NULL;
                    let items = self.seq_vec(self.inst_native(e)).unwrap_or_default();
                    Ok(GenOut::Return(
                        items.first().copied().unwrap_or(self.none()),
                    ))
                } else {
                    Err(t)
                }
            }
        }
    }

    // ---------------------------------------------------------------- the loop

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
    fn run_frame(&mut self, fr: &mut Frame, inject: Value) -> R<Flow> {
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
                let b = self.builtin_fn(crate::natives::Native::BuildClass);
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
                let s = self.alloc_obj(Kind::Slice, 0, &[start, stop, step])?;
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
                let c = self.alloc_obj(Kind::Closure, n as u32, &words)?;
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
                    if k.is_null() && self.kind(v) == Some(Kind::Dict) {
                        for j in 0..self.dict_len(v) {
                            let (kk, vv) = self.dict_entry(v, j);
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
            self.alloc_obj(Kind::Func, func_flags::HAS_KWDEFAULTS, &[rc, fr.ctx, pair])
        } else {
            self.alloc_obj(Kind::Func, 0, &[rc, fr.ctx, defs])
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
        let ov = match self.dict_get_q(self.overlays, globals) {
            Some(d) => d,
            None => {
                let d = self.new_dict(4)?;
                self.dict_store(self.overlays, globals, d)?;
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
        let ov = self.dict_get_q(self.overlays, globals)?;
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
            Some(Kind::StaticMeth) => (self.wv(m, 1), Value::NULL),
            Some(Kind::ClassMeth) => (self.wv(m, 1), Value(self.type_of(obj))),
            _ => (m, obj),
        })
    }

    // ---------------------------------------------------------------- imports

    /// `__import__(name, fromlist, level)` against `globals` of the importing module.
    pub fn import_name(
        &mut self,
        globals: Value,
        q: Value,
        fromlist: Value,
        level: u32,
    ) -> R<Value> {
        let name = self.str_string(q);
        let full = if level > 0 {
            let nq = sq!("__name__");
            let pq = self.q("__path__");
            let cur = self
                .dict_get_q(globals, nq)
                .map(|v| self.str_string(v))
                .unwrap_or_default();
            let is_pkg = self.dict_get_q(globals, pq).is_some();
            let mut parts: Vec<&str> = cur.split('.').collect();
            if !is_pkg {
                parts.pop();
            }
            for _ in 1..level {
                parts.pop();
            }
            if parts.is_empty() || parts == [""] {
                return self.raise_msg("ImportError", "can't perform relative import");
            }
            let mut p = parts.join(".");
            if !name.is_empty() {
                p.push('.');
                p.push_str(&name);
            }
            p
        } else {
            name.clone()
        };
        let leaf = self.import_dotted(&full)?;
        let from_empty = fromlist.0 == self.st.none || fromlist.is_null();
        if from_empty && level == 0 {
            let top = full.split('.').next().unwrap_or("");
            return self.import_dotted(top);
        }
        Ok(leaf)
    }

    /// Imports `a.b.c` step by step; returns the leaf module.
    pub fn import_dotted(&mut self, full: &str) -> R<Value> {
        let mut parent = Value::NULL;
        let mut path = String::new();
        let mut m = Value::NULL;
        for part in full.split('.') {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(part);
            m = self.import_one(&path)?;
            if parent.is_ptr() && self.mem.is_writable(self.wv(parent, 2).0) {
                let pq = self.intern(part.as_bytes())?;
                let g = self.wv(parent, 2);
                if self.dict_get_q(g, pq).is_none() {
                    self.dict_store(g, pq, m)?;
                }
            }
            parent = m;
        }
        Ok(m)
    }

    /// Imports one module by full dotted name (its parent is already imported).
    pub fn import_one(&mut self, path: &str) -> R<Value> {
        let key = self.intern(path.as_bytes())?;
        if let Some(m) = self.dict_get_q(self.modules, key) {
            return Ok(m);
        }
        if let Some(m) = self.builtin_module(path) {
            return Ok(m);
        }
        let mut found = None;
        for s in &self.sources {
            if let Some(x) = s.find(path) {
                found = Some(x);
                break;
            }
        }
        let Some((bytes, is_pkg)) = found else {
            if let Some(m) = self.builtin_alias(path) {
                return Ok(m);
            }
            if self.sources.iter().any(|s| s.is_package_dir(path)) {
                // A namespace package: a directory of modules without `__init__`.
                return Ok(self.new_module(key, 4, true)?.0);
            }
            let msg = alloc::format!("no module named '{path}'");
            return self.raise_msg("ImportError", &msg);
        };
        let (m, g) = self.new_module(key, 8, is_pkg)?;
        let top = match self.load_mpy(&bytes, g) {
            Ok(f) => f,
            Err(e) => {
                let _ = self.dict_remove(self.modules, key);
                let msg = alloc::format!("{path}: {e}");
                return self.raise_msg("ValueError", &msg);
            }
        };
        if let Err(t) = self.run_module_code(top, g) {
            let _ = self.dict_remove(self.modules, key);
            return Err(t);
        }
        Ok(m)
    }

    /// A new module `key` (globals of `cap` entries with `__name__`, and `__path__` for a
    /// package) registered in `sys.modules`: (module, globals).
    fn new_module(&mut self, key: Value, cap: u32, is_pkg: bool) -> R<(Value, Value)> {
        let g = self.new_namespace(cap)?;
        let nq = sq!("__name__");
        self.dict_store(g, nq, key)?;
        if is_pkg {
            let pq = self.q("__path__");
            self.dict_store(g, pq, key)?;
        }
        let m = self.alloc_obj(Kind::Module, 0, &[key, g])?;
        self.dict_store(self.modules, key, m)?;
        Ok((m, g))
    }

    fn import_from(&mut self, m: Value, q: Value) -> R<Value> {
        if let Some(v) = self.try_load_attr(m, q)? {
            return Ok(v);
        }
        if self.kind(m) == Some(Kind::Module) {
            let mut p = self.str_string(self.wv(m, 1));
            p.push('.');
            p.push_str(&self.str_string(q));
            if let Ok(v) = self.import_dotted(&p) {
                return Ok(v);
            }
            self.exc = Value::NULL;
        }
        let n = self.str_string(q);
        let msg = alloc::format!("can't import name {n}");
        self.raise_msg("ImportError", &msg)
    }

    fn import_star(&mut self, m: Value, dest: Value) -> R<()> {
        let g = self.wv(m, 2);
        let n = self.dict_len(g);
        for i in 0..n {
            let (k, v) = self.dict_entry(g, i);
            if self.str_bytes(k).is_some_and(|b| !b.starts_with(b"_")) {
                self.dict_store(dest, k, v)?;
            }
        }
        Ok(())
    }
}
