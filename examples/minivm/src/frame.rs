//! Frames: a bytecode call's window on the value stack, argument binding, and generators
//! (a generator saves its window in an array between resumes).

use alloc::vec::Vec;

use crate::interp::{Flow, Frame, WIN_HDR};
use crate::mem::FlashImage;
use crate::obj::*;
use crate::prelude::{Prelude, read_uint, scope};
use crate::qstr::sq;
use crate::vm::{R, Vm};

/// Result of resuming a generator.
pub enum GenOut {
    /// It yielded.
    Yield(Value),
    /// It returned (StopIteration value).
    Return(Value),
}

impl<F: FlashImage> Vm<F> {
    /// Calls a bytecode function (or closure); `locals` is set for class bodies.
    pub fn call_bc(&mut self, f: Value, args: &[Value], kw: &[Value], locals: Value) -> R<Value> {
        let (fun, cells) = if self.kind(f) == Some(Kind::CLOSURE) {
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
                .write_u32(arr.0, header(Kind::ARRAY, words | ARRAY_FIXED));
            for i in 0..words {
                let x = self.stack[fr.base + i as usize];
                let _ = self.mem.write_u32(arr.0 + 4 + 4 * i, x);
            }
            let _ = rc;
            self.stack_top = fr.base - WIN_HDR;
            return self.alloc_obj(
                Kind::GENERATOR,
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

    /// Binds `args` and `kw` to the frame's parameters, with MicroPython's checks and
    /// messages (`mp_setup_code_state`): the positional count first (`f() takes 2 positional
    /// arguments but 1 were given`), then, when keywords are given or the function has
    /// keyword defaults, each keyword, the defaults, and what is still missing.
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
        let defv = if defs.is_ptr() {
            self.seq_vec(defs).unwrap_or_default()
        } else {
            Vec::new()
        };
        // The defaults the prelude counts, as many as the function has.
        let n_def = (p.n_def_pos_args as usize).min(defv.len()).min(n_pos);
        let mut var_slot = n_pos + n_kwonly; // local index of *args / **kwargs
        let mut n_args = args.len();
        let use_kw = !kw.is_empty() || flags & scope::DEFKWARGS != 0;
        if n_args > n_pos {
            if flags & scope::VARARGS == 0 {
                return self.pos_args_mismatch(fun, n_pos, n_args);
            }
            let t = self.new_tuple(&args[n_pos..])?;
            self.stack[slot(var_slot)] = t.0;
            var_slot += 1;
            n_args = n_pos;
        } else {
            if flags & scope::VARARGS != 0 {
                self.stack[slot(var_slot)] = self.st.empty_tuple;
                var_slot += 1;
            }
            if !use_kw {
                if n_args < n_pos - n_def {
                    return self.pos_args_mismatch(fun, n_pos - n_def, n_args);
                }
                for i in n_args..n_pos {
                    self.stack[slot(i)] = defv[defv.len() - n_def + (i - (n_pos - n_def))].0;
                }
            }
        }
        for (i, a) in args[..n_args].iter().enumerate() {
            self.stack[slot(i)] = a.0;
        }
        let names_start = fr.code + p.info_off;
        if !use_kw {
            if n_kwonly != 0 {
                return self.raise_msg("TypeError", "function missing keyword-only argument");
            }
            if flags & scope::VARKEYWORDS != 0 {
                let d = self.new_dict(0)?;
                self.stack[slot(var_slot)] = d.0;
            }
        } else {
            let mut kwdict = Value::NULL;
            if flags & scope::VARKEYWORDS != 0 {
                kwdict = self.new_dict(kw.len() as u32 / 2)?;
                self.stack[slot(var_slot)] = kwdict.0;
            }
            // Keyword arguments by name.
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
                            return self.multiple_values(name);
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
                    if self.dict_find(kwdict, name)?.is_some() {
                        return self.multiple_values(name);
                    }
                    self.dict_store(kwdict, name, val)?;
                }
            }
            // Positional defaults fill the last parameters still unset.
            for k in 0..n_def {
                let i = n_pos - n_def + k;
                if self.stack[slot(i)] == 0 {
                    self.stack[slot(i)] = defv[defv.len() - n_def + k].0;
                }
            }
            // The last positional parameter still missing, counted from 0 as MicroPython.
            if let Some(i) = (0..n_pos).rev().find(|&i| self.stack[slot(i)] == 0) {
                let msg = alloc::format!("function missing required positional argument #{i}");
                return self.raise_msg("TypeError", &msg);
            }
            // Keyword-only parameters: given, or their defaults.
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
                let c = self.alloc_obj(Kind::CELL, 0, &[cur])?;
                self.stack[slot(local)] = c.0;
            }
        }
        Ok(())
    }

    /// `TypeError: f() takes 2 positional arguments but 3 were given`.
    fn pos_args_mismatch(&mut self, fun: Value, expected: usize, given: usize) -> R<()> {
        let name = self.func_name(fun);
        let msg =
            alloc::format!("{name}() takes {expected} positional arguments but {given} were given");
        self.raise_msg("TypeError", &msg)
    }

    /// `TypeError: function got multiple values for argument 'a'`.
    fn multiple_values(&mut self, name: Value) -> R<()> {
        let n = self.str_string(name);
        let msg = alloc::format!("function got multiple values for argument '{n}'");
        self.raise_msg("TypeError", &msg)
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
        self.set_w(g, 0, header(Kind::GENERATOR, gen_state::RUNNING))?;
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
                self.set_w(g, 0, header(Kind::GENERATOR, gen_state::SUSPENDED))?;
                Ok(GenOut::Yield(v))
            }
            Ok(Flow::Return(v)) => {
                self.set_w(g, 0, header(Kind::GENERATOR, gen_state::DONE))?;
                Ok(GenOut::Return(v))
            }
            Err(t) => {
                let _ = self.set_w(g, 0, header(Kind::GENERATOR, gen_state::DONE));
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
    pub(crate) fn resume_any(&mut self, it: Value, send: Value, throw: Value) -> R<GenOut> {
        if self.kind(it) == Some(Kind::GENERATOR) {
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
            // An instance's `__next__` ends with a `StopIteration` whose value is the result
            // (`await task`, as asyncio's Task raises it).
            if self.kind(it) == Some(Kind::INSTANCE) {
                let m = sq!("__next__");
                if let Some(f) = self.lookup_method(it, m)? {
                    let v = self.call(f, &[it], &[]);
                    return self.stopiter_to_return(v);
                }
            }
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
}
