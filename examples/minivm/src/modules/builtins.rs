//! `builtins`: the global functions (`print`, `len`, `isinstance`, `getattr`, `sorted`…).
//!
//! Its functions are the `builtins` module's; the statics lay out its dict with the builtin
//! types and exception classes too, and the interpreter looks global names up in it last.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::frame::GenOut;
use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::qstr::sq;
use crate::slots::{ModuleDef, Native, NativeModule, binop, unop};
use crate::types::bigint::pow3;
use crate::types::file;
use crate::types::int::prefixed;
use crate::types::list::sort_values;
use crate::types::{class, instance};
use crate::vm::{R, Vm};

/// The `builtins` module.
pub struct Builtins;

impl<F: FlashImage> NativeModule<F> for Builtins {
    const MODULE: ModuleDef<F> = ModuleDef {
        functions: &[
            Native::new("print", print),
            Native::args("len", len, 1, 1),
            Native::args("isinstance", isinstance, 2, 2),
            Native::args("issubclass", issubclass, 2, 2),
            Native::args("hasattr", hasattr, 2, 2),
            Native::args("getattr", getattr, 2, 3),
            Native::args("setattr", setattr, 3, 3),
            Native::args("delattr", delattr, 2, 2),
            Native::args("repr", repr, 1, 1),
            Native::args("iter", iter, 1, 1),
            Native::args("next", next, 1, 2),
            Native::new("abs", abs),
            Native::new("min", min),
            Native::new("max", max),
            Native::new("sum", sum),
            Native::new("sorted", sorted),
            Native::new("enumerate", enumerate),
            Native::new("zip", zip),
            Native::new("map", map),
            Native::new("any", any),
            Native::new("all", all),
            Native::args("id", id, 1, 1),
            Native::args("hash", hash, 1, 1),
            Native::args("callable", callable, 1, 1),
            Native::args("ord", ord, 1, 1),
            Native::args("chr", chr, 1, 1),
            Native::new("__build_class__", build_class),
            Native::new("__import__", import),
            Native::args("globals", globals, 0, 0),
            Native::args("locals", locals, 0, 0),
            Native::args("dir", dir, 0, 1),
            Native::new("divmod", divmod),
            Native::new("round", round),
            Native::new("pow", pow),
            Native::new("reversed", reversed),
            Native::new("hex", hex),
            Native::new("bin", bin),
            Native::new("oct", oct),
            Native::new("super", super_),
            Native::new("open", file::open),
        ],
        names: &["Ellipsis"],
        ..ModuleDef::new("builtins")
    };
}

fn print<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    let sep = match vm.kwarg(kw, "sep") {
        Some(v) if v.0 != vm.st.none => vm.str_of(v)?,
        _ => String::from(" "),
    };
    let end = match vm.kwarg(kw, "end") {
        Some(v) if v.0 != vm.st.none => vm.str_of(v)?,
        _ => String::from("\n"),
    };
    let mut line = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            line.push_str(&sep);
        }
        let s = vm.str_of(*a)?;
        line.push_str(&s);
    }
    line.push_str(&end);
    match vm.kwarg(kw, "file") {
        Some(f) => crate::types::file::stream_write(vm, f, &line)?,
        None => vm.out.push_str(&line),
    }
    Ok(vm.none())
}

fn len<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.len(arg(args, 0))
}

/// `isinstance(x, classes)` and `issubclass(c, classes)`.
fn is_subclass_of<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], instance: bool) -> R<Value> {
    vm.need(args, 2, "isinstance")?;
    let (a0, a1) = (arg(args, 0), arg(args, 1));
    let classes = vm.seq_vec(a1).unwrap_or_else(|| vec![a1]);
    let t = if instance { vm.type_of(a0) } else { a0.0 };
    let r = classes.iter().any(|c| vm.is_subclass(t, c.0));
    Ok(vm.bool_val(r))
}

fn isinstance<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    is_subclass_of(vm, args, true)
}

fn issubclass<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    is_subclass_of(vm, args, false)
}

/// `obj.name`, or `None` when it is missing or its lookup raises `AttributeError` (a class's
/// or module's `__getattr__`), as MicroPython's `mp_load_method_protected`: any other error
/// propagates.
fn probe_attr<F: FlashImage>(vm: &mut Vm<F>, obj: Value, name: Value) -> R<Option<Value>> {
    match vm.try_load_attr(obj, name) {
        Ok(v) => Ok(v),
        Err(t) => {
            let e = vm.exc;
            if vm.exception_match(e, Value(vm.exc_class("AttributeError"))) {
                vm.exc = Value::NULL;
                Ok(None)
            } else {
                Err(t)
            }
        }
    }
}

fn hasattr<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let name = vm.str_arg(arg(args, 1))?;
    let q = vm.intern(&name)?;
    let r = probe_attr(vm, arg(args, 0), q)?.is_some();
    Ok(vm.bool_val(r))
}

fn getattr<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let a0 = arg(args, 0);
    let name = vm.str_arg(arg(args, 1))?;
    let q = vm.intern(&name)?;
    if args.len() < 3 {
        return vm.load_attr(a0, q);
    }
    Ok(probe_attr(vm, a0, q)?.unwrap_or(args[2]))
}

fn setattr<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let name = vm.str_arg(arg(args, 1))?;
    let q = vm.intern(&name)?;
    vm.store_attr(arg(args, 0), q, arg(args, 2))?;
    Ok(vm.none())
}

fn delattr<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let name = vm.str_arg(arg(args, 1))?;
    let q = vm.intern(&name)?;
    vm.delete_attr(arg(args, 0), q)?;
    Ok(vm.none())
}

fn repr<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let s = vm.repr_of(arg(args, 0))?;
    vm.new_str(s.as_bytes())
}

fn iter<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.get_iter(arg(args, 0))
}

/// `next(it)`: the `StopIteration` that ends `it` keeps its value (a generator's return
/// value, the exception a `__next__` raised); `next(it, default)` answers `default` instead.
fn next<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let it = arg(args, 0);
    if args.len() == 1 {
        match vm.kind(it) {
            Some(Kind::GENERATOR) => {
                let none = vm.none();
                return match vm.gen_resume(it, none, Value::NULL)? {
                    GenOut::Yield(v) => Ok(v),
                    GenOut::Return(v) if v == none => vm.raise_empty("StopIteration"),
                    GenOut::Return(v) => vm.raise_args("StopIteration", &[v]),
                };
            }
            Some(Kind::INSTANCE) => {
                let q = sq!("__next__");
                if let Some(f) = vm.lookup_method(it, q)? {
                    return vm.call(f, &[it], &[]);
                }
            }
            _ => {}
        }
    }
    match vm.iter_next(it)? {
        Some(v) => Ok(v),
        None if args.len() > 1 => Ok(args[1]),
        None => vm.raise_empty("StopIteration"),
    }
}

fn abs<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.need(args, 1, "abs")?;
    vm.unary_op(unop::ABS, args[0])
}

/// `min` and `max`: the first item that no later item beats under `op`.
fn extreme<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value], op: u32) -> R<Value> {
    let items = if args.len() == 1 {
        vm.iter_to_vec(args[0])?
    } else {
        args.to_vec()
    };
    if items.is_empty() {
        if let Some(d) = vm.kwarg(kw, "default") {
            return Ok(d);
        }
        return vm.raise_msg("ValueError", "arg is an empty sequence");
    }
    let key = vm.kwarg(kw, "key").unwrap_or(Value::NULL);
    let mut best = items[0];
    let mut bk = if key.is_null() {
        best
    } else {
        vm.call(key, &[best], &[])?
    };
    for &x in &items[1..] {
        let k = if key.is_null() {
            x
        } else {
            vm.call(key, &[x], &[])?
        };
        if vm.binary_op(op, k, bk)?.0 == vm.st.true_ {
            best = x;
            bk = k;
        }
    }
    Ok(best)
}

fn min<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    extreme(vm, args, kw, binop::LESS)
}

fn max<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    extreme(vm, args, kw, binop::MORE)
}

fn sum<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let mut acc = if args.len() > 1 {
        args[1]
    } else {
        Value::small(0)
    };
    for x in vm.iter_to_vec(arg(args, 0))? {
        acc = vm.binary_op(binop::ADD, acc, x)?;
    }
    Ok(acc)
}

fn sorted<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    let mut items = vm.iter_to_vec(arg(args, 0))?;
    let key = vm.kwarg(kw, "key").unwrap_or(Value::NULL);
    let rev = match vm.kwarg(kw, "reverse") {
        Some(v) => vm.truthy(v)?,
        None => false,
    };
    sort_values(vm, &mut items, key, rev)?;
    vm.new_list(&items)
}

fn enumerate<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let it = vm.get_iter(arg(args, 0))?;
    let start = if args.len() > 1 {
        args[1]
    } else {
        Value::small(0)
    };
    vm.alloc_obj(Kind::ITER, iter_kind::ENUMERATE, &[it, start, Value::NULL])
}

fn zip<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let mut its = Vec::new();
    for a in args {
        its.push(vm.get_iter(*a)?);
    }
    let t = vm.new_tuple(&its)?;
    vm.alloc_obj(
        Kind::ITER,
        iter_kind::ZIP,
        &[t, Value::small(0), Value::NULL],
    )
}

fn map<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let it = vm.get_iter(arg(args, 1))?;
    vm.alloc_obj(
        Kind::ITER,
        iter_kind::MAP,
        &[it, Value::small(0), arg(args, 0)],
    )
}

/// `any` (`want` true) and `all` (`want` false): stops at the first item whose truth is `want`.
fn any_all<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], want: bool) -> R<Value> {
    let it = vm.get_iter(arg(args, 0))?;
    while let Some(x) = vm.iter_next(it)? {
        if vm.truthy(x)? == want {
            return Ok(vm.bool_val(want));
        }
    }
    Ok(vm.bool_val(!want))
}

fn any<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    any_all(vm, args, true)
}

fn all<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    any_all(vm, args, false)
}

fn id<F: FlashImage>(_vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(Value::small((arg(args, 0).0 >> 1) as i32))
}

fn hash<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.hash_of(arg(args, 0))
}

/// `callable(x)`: its type can be called (an instance: its class has `__call__`).
fn callable<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let v = arg(args, 0);
    let r = match vm.kind(v) {
        Some(Kind::INSTANCE) => instance::is_callable(vm, v),
        _ => vm.slots(v).is_some_and(|t| t.call.is_some()),
    };
    Ok(vm.bool_val(r))
}

fn ord<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    use crate::types::str_methods::{self, Flavor};
    use crate::types::unicode;
    // A str or a bytes (not a bytearray), as MicroPython's `mp_obj_str_get_data`.
    let s = arg(args, 0);
    let b = match str_methods::flavor(vm, s) {
        Some(Flavor::Str | Flavor::Bytes) => str_methods::data(vm, s).unwrap_or_default(),
        _ => return str_methods::bad_conversion(vm, s),
    };
    let n = if vm.kind(s) == Some(Kind::BYTES) {
        if b.len() == 1 {
            return Ok(Value::small(b[0] as i32));
        }
        b.len()
    } else {
        let n = unicode::char_count(&b);
        if n == 1 {
            return Ok(Value::small(unicode::decode(&b, 0).0 as i32));
        }
        n
    };
    let msg = alloc::format!("ord() expected a character, but string of length {n} found");
    vm.raise_msg("TypeError", &msg)
}

fn chr<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let c = vm.int_arg(arg(args, 0))?;
    if !(0..=0x10FFFF).contains(&c) {
        return vm.raise_msg("ValueError", "chr() arg not in range(0x110000)");
    }
    let mut b = alloc::vec::Vec::new();
    crate::types::unicode::encode(c as u32, &mut b);
    vm.new_str(&b)
}

/// `hex`, `oct` (`'%#x' % x`, `'%#o' % x`) and `bin` (`'{:#b}'.format(x)`) of an int or bool.
fn based<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], base: u32, prefix: &str) -> R<Value> {
    let x = arg(args, 0);
    let x = if vm.is_int(x) {
        x
    } else if base == 2 && vm.as_intlike(x).is_none() {
        let t = vm.class_name(vm.type_of(x));
        let msg = alloc::format!("unknown format code 'b' for object of type '{t}'");
        return vm.raise_msg("ValueError", &msg);
    } else {
        let n = vm.int_arg(x)?;
        vm.int_val(n)?
    };
    let s = prefixed(vm, x, base, prefix).unwrap_or_default();
    vm.new_str(s.as_bytes())
}

fn hex<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    based(vm, args, 16, "0x")
}

fn bin<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    based(vm, args, 2, "0b")
}

fn oct<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    based(vm, args, 8, "0o")
}

/// `__build_class__(body, name, *bases)`: runs the class body with a fresh namespace as its
/// locals, then makes the class.
fn build_class<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    if args.len() < 2 {
        return vm.raise_msg("TypeError", "__build_class__ needs body and name");
    }
    let body = args[0];
    let name = args[1];
    let bases = &args[2..];
    let locals = vm.new_namespace(8)?;
    let cell = vm.call_bc(body, &[], &[], locals)?;
    let nq = match vm.str_bytes(name) {
        Some(b) => {
            let b = b.to_vec();
            vm.intern(&b)?
        }
        None => name,
    };
    let c = class::new_class(vm, nq, bases, locals)?;
    if vm.kind(cell) == Some(Kind::CELL) {
        vm.set_w(cell, 1, c.0)?;
    }
    Ok(c)
}

fn import<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let q = vm.str_arg(arg(args, 0))?;
    let qv = vm.intern(&q)?;
    // A relative import is relative to the globals given, else the running code's.
    let g = match args.get(1) {
        Some(&g) if vm.kind(g) == Some(Kind::DICT) => g,
        _ => vm.current_scope().0,
    };
    let from = if args.len() > 3 { args[3] } else { vm.none() };
    let level = if args.len() > 4 {
        args[4].as_int().max(0) as u32
    } else {
        0
    };
    vm.import_name(g, qv, from, level)
}

/// `globals()`: the running function's module globals (the console's at the top level).
fn globals<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(vm.current_scope().0)
}

/// `locals()`: a class body's namespace, else the globals (as MicroPython, whose functions
/// keep no locals dict).
fn locals<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    let (g, l) = vm.current_scope();
    Ok(if l.is_ptr() { l } else { g })
}

/// `dir()`: the names of the current namespace (`locals()`); `dir(x)`: every name `x` has an
/// attribute for, found as MicroPython does by trying each qstr in id order (so a module's
/// or class's `__getattr__` and properties run; only `AttributeError` is swallowed).
fn dir<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    if args.is_empty() {
        let (g, l) = vm.current_scope();
        let d = if l.is_ptr() { l } else { g };
        let names: Vec<Value> = (0..vm.dict_len(d)).map(|i| vm.dict_entry(d, i).0).collect();
        return vm.new_list(&names);
    }
    let obj = args[0];
    let out = vm.new_list(&[])?;
    // Id 1 is the empty qstr; ids interned while probing are probed too.
    let mut id = 2;
    while id < vm.next_qstr {
        let q = Value::qstr(id);
        if probe_attr(vm, obj, q)?.is_some() {
            vm.list_append(out, q)?;
        }
        id += 1;
    }
    Ok(out)
}

fn divmod<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.need(args, 2, "divmod")?;
    vm.binary_op(binop::DIVMOD, args[0], args[1])
}

/// `round(x)`, `round(x, n)`: an int stays an int (rounded half to even at a negative `n`),
/// a float is rounded half to even (`round(x)` gives an int, `round(x, n)` a float computed
/// as `rint(x * 10**n) / 10**n`, as MicroPython does).
fn round<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    use binop::*;
    vm.need(args, 1, "round")?;
    let x = args[0];
    if vm.is_int(x) {
        if args.len() < 2 || vm.int_arg(args[1])? >= 0 {
            return Ok(x);
        }
        let n = -vm.int_arg(args[1])?;
        let ten = Value::small(10);
        let nv = vm.int_val(n)?;
        let mult = vm.binary_op(POWER, ten, nv)?;
        let half = vm.binary_op(FLOOR_DIVIDE, mult, Value::small(2))?;
        let modulo = vm.binary_op(MODULO, x, mult)?;
        let rounded = vm.binary_op(SUBTRACT, x, modulo)?;
        let up = if vm.binary_op(MORE, half, modulo)?.0 == vm.st.true_ {
            false
        } else if vm.binary_op(MORE, modulo, half)?.0 == vm.st.true_ {
            true
        } else {
            let floor = vm.binary_op(FLOOR_DIVIDE, x, mult)?;
            let odd = vm.binary_op(AND, floor, Value::small(1))?;
            vm.truthy(odd)?
        };
        return if up {
            vm.binary_op(ADD, rounded, mult)
        } else {
            Ok(rounded)
        };
    }
    let f = vm.float_arg(x)?;
    if args.len() > 1 {
        let n = vm.int_arg(args[1])?;
        let mult = libm::pow(10.0, n as f64);
        return vm.new_float(libm::rint(f * mult) / mult);
    }
    vm.int_from_float(libm::rint(f))
}

/// `pow(a, b)` is `a ** b`; `pow(a, b, m)` is modular, for ints only.
fn pow<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.need(args, 2, "pow")?;
    match args.get(2) {
        Some(&m) => pow3(vm, args[0], args[1], m),
        None => vm.binary_op(binop::POWER, args[0], args[1]),
    }
}

fn reversed<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let a0 = arg(args, 0);
    let l = vm.len(a0)?;
    vm.alloc_obj(Kind::ITER, iter_kind::REVERSED, &[a0, l, Value::NULL])
}

/// `super()` is compiled to `LOAD_SUPER_METHOD` inside a method; called any other way it
/// cannot know its class.
fn super_<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.raise_msg("NotImplementedError", "super() outside a method call")
}
