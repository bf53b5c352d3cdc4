//! Exceptions: the builtin hierarchy, and what an exception instance does beyond a plain
//! instance (its args tuple, `__init__`).
//!
//! An exception is an instance of a class with `class_flags::EXCEPTION` (a builtin exception
//! class or a subclass of one); its args word holds the args tuple. The classes are firmware
//! statics (see `statics`); a direct instance of one is like MicroPython's native exception
//! objects: it takes no attributes, so it never changes and freezes to flash.

use alloc::string::String;
use core::marker::PhantomData;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::Value;
use crate::qstr::sq;
use crate::slots::{Attr, Native, PrintKind};
use crate::vm::{R, Vm};

/// The builtin exception hierarchy: (name, parent name), parents first.
pub const EXCEPTIONS: &[(&str, &str)] = &[
    ("BaseException", ""),
    ("SystemExit", "BaseException"),
    ("KeyboardInterrupt", "BaseException"),
    ("GeneratorExit", "BaseException"),
    ("Exception", "BaseException"),
    ("StopIteration", "Exception"),
    ("StopAsyncIteration", "Exception"),
    ("ArithmeticError", "Exception"),
    ("OverflowError", "ArithmeticError"),
    ("ZeroDivisionError", "ArithmeticError"),
    ("AssertionError", "Exception"),
    ("AttributeError", "Exception"),
    ("EOFError", "Exception"),
    ("ImportError", "Exception"),
    ("LookupError", "Exception"),
    ("IndexError", "LookupError"),
    ("KeyError", "LookupError"),
    ("MemoryError", "Exception"),
    ("NameError", "Exception"),
    ("OSError", "Exception"),
    ("RuntimeError", "Exception"),
    ("NotImplementedError", "RuntimeError"),
    ("SyntaxError", "Exception"),
    ("IndentationError", "SyntaxError"),
    ("TypeError", "Exception"),
    ("ValueError", "Exception"),
    ("UnicodeError", "ValueError"),
];

/// The methods of the exception classes.
pub struct Methods<F>(PhantomData<F>);

impl<F: FlashImage> Methods<F> {
    /// `BaseException`'s dict.
    pub const BASE: &'static [Native<F>] = &[Native::new("__init__", init)];
}

/// `BaseException.__init__(self, *args)`: stores the args (a frozen instance keeps its own).
fn init<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let e = arg(args, 0);
    if vm.is_exception(e) && vm.mem.is_writable(e.0) {
        let t = vm.new_tuple(&args[1..])?;
        vm.set_w(e, 3, t.0)?;
    }
    Ok(vm.none())
}

/// `repr(e)` is `Type(args)`, the args tuple's repr (`ValueError('x',)`, as MicroPython);
/// `str(e)` is empty without args, `[Errno 2] ENOENT` for an `OSError` whose first arg is a
/// known error number, the one arg's `str`, or the args' `repr`.
pub fn print<F: FlashImage>(
    vm: &mut Vm<F>,
    e: Value,
    s: &mut String,
    depth: u32,
    kind: PrintKind,
) -> R<()> {
    let args = vm.inst_native(e);
    let args = if args.is_null() {
        Value(vm.st.empty_tuple)
    } else {
        args
    };
    if kind == PrintKind::Str {
        let items = vm.seq_vec(args).unwrap_or_default();
        if items.is_empty() {
            return Ok(());
        }
        if items.len() < 3
            && let Some(t) = vm.errno_text(e, items[0])
        {
            s.push_str(&t);
            if let Some(&msg) = items.get(1) {
                s.push_str(": ");
                vm.print_into(msg, s, depth + 1, PrintKind::Str)?;
            }
            return Ok(());
        }
        if items.len() == 1 {
            return vm.print_into(items[0], s, depth + 1, PrintKind::Str);
        }
    } else {
        let n = vm.class_name(vm.type_of(e));
        s.push_str(&n);
    }
    vm.print_into(args, s, depth + 1, PrintKind::Repr)
}

/// `e.args` (never null: no args word reads as `()`), and `e.value`, `e.errno`: the first arg
/// or None.
pub fn attr<F: FlashImage>(vm: &mut Vm<F>, e: Value, name: Value) -> Option<Value> {
    if name == sq!("args") {
        let args = vm.inst_native(e);
        let empty = Value(vm.st.empty_tuple);
        return Some(if args.is_null() { empty } else { args });
    }
    if name == sq!("value") || name == vm.q("errno") {
        let items = vm.seq_vec(vm.inst_native(e)).unwrap_or_default();
        return Some(items.first().copied().unwrap_or(vm.none()));
    }
    None
}

/// A store into a direct instance of a builtin exception class, which takes no attributes:
/// [`Attr::Missing`] (so `AttributeError`), except `e.__traceback__ = None`. MicroPython
/// accepts that one to clear the traceback stored in the exception; minivm keeps tracebacks
/// in the VM, never in the object, so there is nothing to clear (and the object may be in
/// flash): a no-op.
pub fn store_attr<F: FlashImage>(vm: &mut Vm<F>, name: Value, v: Value) -> Attr {
    if name == vm.q("__traceback__") && v.0 == vm.st.none {
        return Attr::Done;
    }
    Attr::Missing
}
