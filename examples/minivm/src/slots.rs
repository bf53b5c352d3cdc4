//! Type slots: the one way the runtime reaches a native type's behaviour, and the registry
//! that hands every builtin type and module to the VM.
//!
//! This is MicroPython's `mp_obj_type_t` in Rust. Each native type (one file in `types/`, or
//! a type defined by a module in `modules/`) declares a [`TypeSlots`]: its [`Kind`] (the id in
//! its objects' headers), its Python name, its object layout and frozen placement, its methods,
//! and optional slot functions. The runtime never matches on a kind to find behaviour: it looks
//! the value's kind up in the VM's type table and calls the slot, or falls back to the generic
//! behaviour the slot's docs name when the slot is `None`.
//!
//! ```text
//!   value ──► Kind (header byte; int for small ints, str for qstrs)
//!               │
//!   Vm::slots ──┴─► &TypeSlots ─┬─► binary_op / unary_op / attr / subscr / getiter / iternext
//!                               ├─► call / make_new / print / buffer
//!                               ├─► methods (laid out as the type object's dict in the statics)
//!                               └─► layout, freeze, frozen (the GC and the freezer)
//! ```
//!
//! The registry (`registry.rs`, above the core) lists the types and modules in a [`Builtins`]
//! and gives it to [`Vm::with_builtins`]. The core (`vm`, `runtime`, `interp`, `freeze`…) only
//! sees that table, never `crate::types` or `crate::modules`, so there is no import circle
//! between the VM and its builtins (`tests/layering.rs` checks it).
//!
//! Slot functions are plain `fn` pointers over `Vm<F>`; the tables are associated consts of
//! generic impls ([`NativeType::TYPE`], [`NativeModule::MODULE`]), so they live in flash, one
//! copy per flash type, and cost one indirect call per dispatch.

use alloc::string::String;

use flashfreeze::Mutability;

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::vm::{R, Vm};

/// A native function or method: `f(vm, args, kw)` with `kw` flat `[name, value, …]`. A method
/// gets its object as `args[0]`.
pub type NativeFn<F> = fn(&mut Vm<F>, &[Value], &[Value]) -> R<Value>;

/// A named native function: an entry of a type's methods or of a module's functions. The
/// statics hold one builtin function object per entry (`[hdr id|BUILTIN][name qstr]`).
pub struct Native<F: FlashImage> {
    /// The Python name.
    pub name: &'static str,
    /// The function.
    pub f: NativeFn<F>,
    /// The positional argument counts it accepts (a method's object counts), checked before
    /// the call with MicroPython's messages; `None`: the function checks its own arguments
    /// (and may take keywords).
    pub arity: Option<(u8, u8)>,
}

impl<F: FlashImage> Native<F> {
    /// A native named `name` that checks its own arguments.
    pub const fn new(name: &'static str, f: NativeFn<F>) -> Native<F> {
        Native {
            name,
            f,
            arity: None,
        }
    }

    /// A native named `name` taking `min` to `max` positional arguments and no keywords, as
    /// MicroPython's `MP_DEFINE_CONST_FUN_OBJ_1`…`_VAR_BETWEEN` (the call is refused with
    /// `TypeError: function takes 1 positional arguments but 2 were given` and the like).
    pub const fn args(name: &'static str, f: NativeFn<F>, min: u8, max: u8) -> Native<F> {
        Native {
            name,
            f,
            arity: Some((min, max)),
        }
    }
}

/// Binary operator numbers: the bytecode's (MicroPython's `mp_binary_op_t` order), then the
/// runtime's own.
pub mod binop {
    #![allow(missing_docs)]
    pub const LESS: u32 = 0;
    pub const MORE: u32 = 1;
    pub const EQUAL: u32 = 2;
    pub const LESS_EQUAL: u32 = 3;
    pub const MORE_EQUAL: u32 = 4;
    pub const NOT_EQUAL: u32 = 5;
    pub const IN: u32 = 6;
    pub const IS: u32 = 7;
    pub const EXCEPTION_MATCH: u32 = 8;
    pub const INPLACE_OR: u32 = 9;
    pub const INPLACE_XOR: u32 = 10;
    pub const INPLACE_AND: u32 = 11;
    pub const INPLACE_LSHIFT: u32 = 12;
    pub const INPLACE_RSHIFT: u32 = 13;
    pub const INPLACE_ADD: u32 = 14;
    pub const INPLACE_SUBTRACT: u32 = 15;
    pub const INPLACE_MULTIPLY: u32 = 16;
    pub const INPLACE_MAT_MULTIPLY: u32 = 17;
    pub const INPLACE_FLOOR_DIVIDE: u32 = 18;
    pub const INPLACE_TRUE_DIVIDE: u32 = 19;
    pub const INPLACE_MODULO: u32 = 20;
    pub const INPLACE_POWER: u32 = 21;
    pub const OR: u32 = 22;
    pub const XOR: u32 = 23;
    pub const AND: u32 = 24;
    pub const LSHIFT: u32 = 25;
    pub const RSHIFT: u32 = 26;
    pub const ADD: u32 = 27;
    pub const SUBTRACT: u32 = 28;
    pub const MULTIPLY: u32 = 29;
    pub const MAT_MULTIPLY: u32 = 30;
    pub const FLOOR_DIVIDE: u32 = 31;
    pub const TRUE_DIVIDE: u32 = 32;
    pub const MODULO: u32 = 33;
    pub const POWER: u32 = 34;
    /// `divmod(a, b)` (never in the bytecode).
    pub const DIVMOD: u32 = 35;
    /// `not in` (never in the bytecode: the compiler emits `in` + `not`).
    pub const NOT_IN: u32 = 35 + 1 + 1 + 13;
    /// `is not` (never in the bytecode).
    pub const IS_NOT: u32 = NOT_IN + 1;
    /// `x in container`, asked of the container's type as `binary_op(CONTAINS, container, x)`.
    pub const CONTAINS: u32 = IS_NOT + 1;

    /// The plain operator of an in-place one (`+=` → `+`), or `op` itself.
    pub const fn plain(op: u32) -> u32 {
        if op >= INPLACE_OR && op < OR {
            op - INPLACE_OR + OR
        } else {
            op
        }
    }

    /// The answer of comparison `op` (`<`, `>`, `<=`, `>=`) for operands ordered `ord`, or
    /// `None` when `op` is not one of those.
    pub fn compare(op: u32, ord: core::cmp::Ordering) -> Option<bool> {
        use core::cmp::Ordering::*;
        match op {
            LESS => Some(ord == Less),
            MORE => Some(ord == Greater),
            LESS_EQUAL => Some(ord != Greater),
            MORE_EQUAL => Some(ord != Less),
            _ => None,
        }
    }

    /// The operator's special method name, as MicroPython names it in error messages
    /// (`unsupported types for __add__: …`): empty for the operators without one (`in`).
    pub fn method_name(op: u32) -> &'static str {
        const NAMES: [&str; 36] = [
            "__lt__",
            "__gt__",
            "__eq__",
            "__le__",
            "__ge__",
            "__ne__",
            "",
            "",
            "",
            "__ior__",
            "__ixor__",
            "__iand__",
            "__ilshift__",
            "__irshift__",
            "__iadd__",
            "__isub__",
            "__imul__",
            "__imatmul__",
            "__ifloordiv__",
            "__itruediv__",
            "__imod__",
            "__ipow__",
            "__or__",
            "__xor__",
            "__and__",
            "__lshift__",
            "__rshift__",
            "__add__",
            "__sub__",
            "__mul__",
            "__matmul__",
            "__floordiv__",
            "__truediv__",
            "__mod__",
            "__pow__",
            "__divmod__",
        ];
        match op {
            CONTAINS => "__contains__",
            _ => NAMES.get(op as usize).copied().unwrap_or(""),
        }
    }

    /// The reflected special method of a plain arithmetic operator (`+` → `__radd__`), which
    /// the right operand's class is asked for when the left one has no answer.
    pub fn reflected_name(op: u32) -> Option<&'static str> {
        const NAMES: [&str; 13] = [
            "__ror__",
            "__rxor__",
            "__rand__",
            "__rlshift__",
            "__rrshift__",
            "__radd__",
            "__rsub__",
            "__rmul__",
            "__rmatmul__",
            "__rfloordiv__",
            "__rtruediv__",
            "__rmod__",
            "__rpow__",
        ];
        if (OR..=POWER).contains(&op) {
            Some(NAMES[(op - OR) as usize])
        } else {
            None
        }
    }

    /// The operator's symbol, for error messages.
    pub fn symbol(op: u32) -> &'static str {
        const NAMES: [&str; 35] = [
            "<", ">", "==", "<=", ">=", "!=", "in", "is", "exc", "|=", "^=", "&=", "<<=", ">>=",
            "+=", "-=", "*=", "@=", "//=", "/=", "%=", "**=", "|", "^", "&", "<<", ">>", "+", "-",
            "*", "@", "//", "/", "%", "**",
        ];
        NAMES.get(op as usize).copied().unwrap_or("?")
    }
}

/// Unary operator numbers (MicroPython's `mp_unary_op_t`): the bytecode's four, then the
/// runtime's.
pub mod unop {
    #![allow(missing_docs)]
    pub const POSITIVE: u32 = 0;
    pub const NEGATIVE: u32 = 1;
    pub const INVERT: u32 = 2;
    pub const NOT: u32 = 3;
    /// Truth (`if x`); a type without an answer is true.
    pub const BOOL: u32 = 4;
    /// `len(x)`.
    pub const LEN: u32 = 5;
    /// `hash(x)`; a type without an answer hashes by address.
    pub const HASH: u32 = 6;
    /// `abs(x)`.
    pub const ABS: u32 = 7;

    /// The operator's special method name, as MicroPython names it in error messages
    /// (`unsupported type for __neg__: 'str'`).
    pub fn method_name(op: u32) -> &'static str {
        match op {
            POSITIVE => "__pos__",
            NEGATIVE => "__neg__",
            INVERT => "__invert__",
            ABS => "__abs__",
            BOOL => "__bool__",
            LEN => "__len__",
            HASH => "__hash__",
            _ => "",
        }
    }
}

/// What an [`AttrFn`] is asked to do with `obj.name`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrOp {
    /// Load `obj.name`.
    Load,
    /// Load `obj.name` for a call (`LOAD_METHOD`): may answer [`Attr::Method`], which spares
    /// allocating a bound method.
    Method,
    /// `obj.name = value`.
    Store(Value),
    /// `del obj.name`.
    Delete,
}

/// An [`AttrFn`]'s answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attr {
    /// The attribute's value (a load).
    Found(Value),
    /// A function and the self to call it with (a `Method` load).
    Method(Value, Value),
    /// The store or delete happened.
    Done,
    /// No such attribute: the runtime raises `AttributeError` (a load through `getattr` with a
    /// default or `hasattr` answers without raising).
    Missing,
    /// Not handled here: the runtime does the generic lookup (`__class__`, then the type's
    /// dict with method binding; a store or delete is refused).
    Default,
}

/// What a [`SubscrFn`] is asked to do with `obj[index]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscrOp {
    /// Load `obj[index]`.
    Load,
    /// `obj[index] = value`.
    Store(Value),
    /// `del obj[index]`.
    Delete,
}

/// Which text a [`PrintFn`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrintKind {
    /// `repr(x)`.
    Repr,
    /// `str(x)` (asked only at the top level; elements of a container print as `Repr`).
    Str,
}

/// A contiguous byte buffer behind an object (MicroPython's buffer protocol).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buffer {
    /// Modelled address of the first byte.
    pub addr: u32,
    /// Length in bytes.
    pub len: u32,
    /// May the bytes be written (a bytearray, not a bytes)?
    pub writable: bool,
    /// The item type, as `array`'s typecodes (`b'B'` for str, bytes and bytearray; `b'h'` for
    /// an `array('h')` …): a memoryview of the object reads and writes items of this type.
    pub typecode: u8,
}

/// `type(*args, **kw)` of a native type: builds a value of it. `class` is the type object
/// called (a subclass's when a Python class derives from the native type).
pub type MakeNewFn<F> = fn(&mut Vm<F>, class: Value, args: &[Value], kw: &[Value]) -> R<Value>;
/// Writes `repr(v)` or `str(v)` to `out`; `depth` is the container nesting (the runtime stops
/// at 16).
pub type PrintFn<F> =
    fn(&mut Vm<F>, v: Value, out: &mut String, depth: u32, kind: PrintKind) -> R<()>;
/// `op v` ([`unop`]): `None` when this type has no answer.
pub type UnaryOpFn<F> = fn(&mut Vm<F>, op: u32, v: Value) -> R<Option<Value>>;
/// `a op b` ([`binop`]), asked of `a`'s type (of the container's for [`binop::CONTAINS`]):
/// `None` when this type has no answer. In-place operators are asked first as themselves,
/// then as their plain form.
pub type BinaryOpFn<F> = fn(&mut Vm<F>, op: u32, a: Value, b: Value) -> R<Option<Value>>;
/// Attribute load, method load, store and delete (see [`AttrOp`] and [`Attr`]).
pub type AttrFn<F> = fn(&mut Vm<F>, obj: Value, name: Value, op: AttrOp) -> R<Attr>;
/// `obj[index]` load, store and delete: `None` when this type does not support the operation.
/// A store or delete answers `Some(NULL)`.
pub type SubscrFn<F> = fn(&mut Vm<F>, obj: Value, index: Value, op: SubscrOp) -> R<Option<Value>>;
/// `iter(v)`.
pub type GetIterFn<F> = fn(&mut Vm<F>, v: Value) -> R<Value>;
/// `next(it)`: `None` when exhausted.
pub type IterNextFn<F> = fn(&mut Vm<F>, it: Value) -> R<Option<Value>>;
/// `f(*args, **kw)`.
pub type CallFn<F> = fn(&mut Vm<F>, f: Value, args: &[Value], kw: &[Value]) -> R<Value>;
/// The byte buffer behind `v`, if it has one.
pub type BufferFn<F> = fn(&Vm<F>, v: Value) -> Option<Buffer>;
/// The class of `v` when it is not its kind's type object (see [`TypeSlots::class_of`]).
pub type ClassOfFn<F> = fn(&Vm<F>, v: Value) -> Option<u32>;

/// How the GC and the freezer find an object's size and its value words.
#[derive(Clone, Copy, Debug)]
pub enum Layout {
    /// One of the core layouts documented in [`crate::obj`] ([`crate::obj::object_size`]).
    Core,
    /// `n` value words after the header.
    Words(u32),
    /// Raw bytes after the header (no value words at all): the size is `size(header)`.
    Raw {
        /// Byte size of the object (header included) from its header word.
        size: fn(u32) -> u32,
    },
}

/// Where the freezer puts an object of this kind.
pub enum Freeze<F: FlashImage> {
    /// Flash: never written after it is built.
    Flash,
    /// The RAM section: written at run time.
    Ram,
    /// Refused, with the reason the freezer reports (the object's path is added).
    Refuse(&'static str),
    /// Decided per object.
    By(fn(&Vm<F>, Value) -> Mutability),
}

/// Where a frozen copy's value words are (see [`Frozen::values`]).
pub type FrozenValuesFn<F> = fn(&Vm<F>, Value) -> (u32, u32);

/// A kind whose frozen copy is not its heap layout byte for byte (see `freeze`): a compact
/// layout (the [`crate::obj::COMPACT`] bit in its header tells readers), or a trimmed one.
pub struct Frozen<F: FlashImage> {
    /// Byte size of the frozen copy of heap object `obj` (rounded up to 4 by the freezer).
    pub size: fn(&Vm<F>, Value) -> u32,
    /// Where the copy's value words are, as `(end, skip)`: words `1..end` of the copy are
    /// values, and copy word `i` is heap word `i + skip`. `None`: every word after the header
    /// of the copy is a value and the heap word at the same place.
    pub values: Option<FrozenValuesFn<F>>,
    /// Writes the frozen copy into `out` (sized by `size`, rounded up).
    pub write: fn(&Vm<F>, Value, &mut [u8]),
}

/// A native type's slot table. Build one with [`TypeSlots::new`] and struct update syntax,
/// naming only the slots the type has:
///
/// ```
/// use minivm::mem::FlashImage;
/// use minivm::obj::{Kind, Value};
/// use minivm::slots::{Freeze, Layout, Native, NativeType, TypeSlots};
/// use minivm::vm::{R, Vm};
///
/// /// `[hdr|KIND][count][list]`, written at run time.
/// pub struct Counter;
///
/// /// `c.reset()`.
/// fn reset<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
///     vm.set_w(args[0], 1, Value::small(0).0)?;
///     Ok(vm.none())
/// }
///
/// impl<F: FlashImage> NativeType<F> for Counter {
///     const TYPE: TypeSlots<F> = TypeSlots {
///         layout: Layout::Words(2),
///         freeze: Freeze::Ram,
///         methods: &[Native::new("reset", reset)],
///         ..TypeSlots::new(Kind::new(63), "counter")
///     };
/// }
///
/// let t = <Counter as NativeType<minivm::RamFlash>>::TYPE;
/// assert_eq!((t.name, t.kind.id(), t.methods.len()), ("counter", 63, 1));
/// assert!(t.binary_op.is_none());
/// ```
pub struct TypeSlots<F: FlashImage> {
    /// The id in this type's objects' headers; unique in the registry.
    pub kind: Kind,
    /// The Python name (the type object's `__name__`).
    pub name: &'static str,
    /// The name in the freezer's statistics (defaults to `name`).
    pub stats_name: &'static str,
    /// The kind whose type object this kind's objects report as their type (a boxed big int
    /// is an `int`); `None`: this kind gets its own type object.
    pub python_type: Option<Kind>,
    /// The native type this one derives from (MicroPython's `parent` slot): its type object is
    /// this type object's base, so `isinstance` and the method lookup reach it.
    pub parent: Option<Kind>,
    /// The class of an object of this kind when it is not the kind's own type object (an
    /// `OrderedDict` is a dict marked in its header): `None` from the function, or no function,
    /// gives the kind's type object.
    pub class_of: Option<ClassOfFn<F>>,
    /// Object layout for the GC and the freezer.
    pub layout: Layout,
    /// Frozen placement.
    pub freeze: Freeze<F>,
    /// Whether equal frozen objects of this type may share one copy when a freeze
    /// deduplicates ([`flashfreeze::ObjectModel::may_merge`]): only for a type whose equal
    /// objects no program can tell apart (MicroPython gives immutable constants no identity
    /// guarantee); never for one with identity (functions, classes, modules, instances).
    pub merge: bool,
    /// Compact frozen layout, if the frozen copy differs from the heap layout.
    pub frozen: Option<Frozen<F>>,
    /// `type(...)`: `None` raises `TypeError: cannot create '…' instances`.
    pub make_new: Option<MakeNewFn<F>>,
    /// `repr`/`str`: `None` prints `<name object at addr>`.
    pub print: Option<PrintFn<F>>,
    /// Unary operators, truth, `len`, `hash`.
    pub unary_op: Option<UnaryOpFn<F>>,
    /// Binary operators and `in`.
    pub binary_op: Option<BinaryOpFn<F>>,
    /// Attributes beyond the type's dict.
    pub attr: Option<AttrFn<F>>,
    /// Subscripts.
    pub subscr: Option<SubscrFn<F>>,
    /// `iter(x)`: `None` raises `TypeError: '…' object isn't iterable`.
    pub getiter: Option<GetIterFn<F>>,
    /// `next(it)`: `None` raises `TypeError: object not an iterator`.
    pub iternext: Option<IterNextFn<F>>,
    /// Calling an object of this type: `None` raises `TypeError: '…' object isn't callable`.
    pub call: Option<CallFn<F>>,
    /// The buffer protocol.
    pub buffer: Option<BufferFn<F>>,
    /// A function of this type found in a class binds the instance it is looked up on (a
    /// method), as MicroPython's `MP_TYPE_FLAG_BINDS_SELF`.
    pub binds_self: bool,
    /// Its type object is a global name, as `list` is; `false` for a type only a module gives
    /// out (`collections.deque`) or none (an iterator's).
    pub builtin: bool,
    /// The methods: the type object's dict, in this order.
    pub methods: &'static [Native<F>],
    /// Other names this type's code interns at run time (`vm.q(...)`): firmware qstrs, so
    /// using them never allocates.
    pub names: &'static [&'static str],
}

impl<F: FlashImage> TypeSlots<F> {
    /// A type with no slots: core layout, frozen to flash, no methods.
    pub const fn new(kind: Kind, name: &'static str) -> TypeSlots<F> {
        TypeSlots {
            kind,
            name,
            stats_name: name,
            python_type: None,
            parent: None,
            class_of: None,
            layout: Layout::Core,
            freeze: Freeze::Flash,
            merge: false,
            frozen: None,
            make_new: None,
            print: None,
            unary_op: None,
            binary_op: None,
            attr: None,
            subscr: None,
            getiter: None,
            iternext: None,
            call: None,
            buffer: None,
            binds_self: false,
            builtin: true,
            methods: &[],
            names: &[],
        }
    }
}

/// A constant of a builtin module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constant {
    /// An int (`errno.ENOENT`).
    Int(&'static str, i32),
    /// A str (`sys.platform`).
    Str(&'static str, &'static str),
    /// A builtin type under another name (`collections.OrderedDict`).
    Type(&'static str, Kind),
}

/// A module's attribute hook: asked before its dict for a load, and for every store or
/// delete (a builtin module's dict is in the statics, read-only). [`Attr::Default`] falls back
/// to the dict (a load) or refuses (a store: `AttributeError`, as MicroPython's
/// `'module' object has no attribute 'x'`).
pub type ModuleAttrFn<F> = fn(&mut Vm<F>, name: Value, op: AttrOp) -> R<Attr>;

/// Builds a module's static objects while the statics are laid out (see
/// [`ModuleDef::objects`]): `(name, value)` entries added to its dict.
pub type ModuleObjectsFn<F> = fn(&mut Vm<F>) -> alloc::vec::Vec<(&'static str, Value)>;

/// A builtin module: laid out in the statics as a module object whose dict holds `__name__`,
/// the functions, then the constants, then its static objects. Its header's aux is its index
/// in the registry's module list plus one (so the module type finds its [`ModuleDef::attr`]).
pub struct ModuleDef<F: FlashImage> {
    /// The module's name (`time`), its `__name__`.
    pub name: &'static str,
    /// Other names it is found under (`utime` for `time`), as MicroPython's `u`-prefixed names.
    pub aliases: &'static [&'static str],
    /// As MicroPython's extensible modules (`MP_REGISTER_EXTENSIBLE_MODULE`): the module
    /// sources are searched first, so a `heapq.mpy` on the path is imported instead of the
    /// builtin `heapq`; its aliases are found after the sources too. A module that is not
    /// extensible (`sys`, `gc`, `micropython`) is found by its name before any source.
    pub extensible: bool,
    /// The functions.
    pub functions: &'static [Native<F>],
    /// The constants.
    pub constants: &'static [Constant],
    /// Static objects built at boot (`sys.stdout`, `sys.implementation`): the function lays
    /// them out with `Vm::static_words` and friends; every name it returns must be listed in
    /// [`ModuleDef::names`] (firmware qstrs).
    pub objects: Option<ModuleObjectsFn<F>>,
    /// Attributes beyond the dict (`sys.path`, `sys.modules`: heap objects of the VM).
    pub attr: Option<ModuleAttrFn<F>>,
    /// Other names the module's code interns at run time (see [`TypeSlots::names`]).
    pub names: &'static [&'static str],
}

impl<F: FlashImage> ModuleDef<F> {
    /// An empty, not extensible module named `name`.
    pub const fn new(name: &'static str) -> ModuleDef<F> {
        ModuleDef {
            name,
            aliases: &[],
            extensible: false,
            functions: &[],
            constants: &[],
            objects: None,
            attr: None,
            names: &[],
        }
    }
}

/// Declares a native type: `impl<F: FlashImage> NativeType<F> for MyType { const TYPE = … }`.
pub trait NativeType<F: FlashImage> {
    /// The type's slot table.
    const TYPE: TypeSlots<F>;
}

/// Declares a builtin module.
pub trait NativeModule<F: FlashImage> {
    /// The module.
    const MODULE: ModuleDef<F>;
}

/// The native-function table of a builtin function object: its id is `table << 8 | index`.
pub mod table {
    /// Type methods: the table is the type's kind id (below `Kind::LIMIT`).
    pub const FIRST_MODULE: u32 = 0x40;
    /// The methods of the exception base class.
    pub const EXCEPTION: u32 = 0xFE;
    /// The functions of the `builtins` module.
    pub const BUILTINS: u32 = 0xFF;
}

/// Every builtin type and module of a VM, as the registry lists them. The statics are laid
/// out from it at boot in a fixed order (see `statics`), so the same table gives the same
/// statics bytes, and so the same firmware id.
pub struct Builtins<F: FlashImage> {
    /// The native types, in the order of their type objects in the statics.
    pub types: &'static [&'static TypeSlots<F>],
    /// The same types by kind id.
    pub by_kind: [Option<&'static TypeSlots<F>>; Kind::LIMIT],
    /// The builtin exception hierarchy: (name, parent name), parents first.
    pub exceptions: &'static [(&'static str, &'static str)],
    /// The exception base class's methods.
    pub exception_methods: &'static [Native<F>],
    /// The `builtins` module: its functions are the global builtins (its dict also holds the
    /// types and exceptions).
    pub builtins: &'static ModuleDef<F>,
    /// The other builtin modules.
    pub modules: &'static [&'static ModuleDef<F>],
    /// Firmware qstrs no type or module names: names common library code uses, interned at
    /// build time so importing it allocates no qstr.
    pub names: &'static [&'static str],
}

impl<F: FlashImage> Builtins<F> {
    /// The registry's table. Fails the build (evaluated in a `const`) when two types declare
    /// the same kind, a kind is out of range, or a table is too long for a native id.
    pub const fn new(
        types: &'static [&'static TypeSlots<F>],
        exceptions: &'static [(&'static str, &'static str)],
        exception_methods: &'static [Native<F>],
        builtins: &'static ModuleDef<F>,
        modules: &'static [&'static ModuleDef<F>],
        names: &'static [&'static str],
    ) -> Builtins<F> {
        let mut by_kind: [Option<&'static TypeSlots<F>>; Kind::LIMIT] = [None; Kind::LIMIT];
        let mut i = 0;
        while i < types.len() {
            let t = types[i];
            let k = t.kind.id() as usize;
            assert!(k < Kind::LIMIT, "a type's kind must be below Kind::LIMIT");
            assert!(
                by_kind[k].is_none(),
                "two types in the registry declare the same kind"
            );
            assert!(t.methods.len() <= 256, "a type has more than 256 methods");
            by_kind[k] = Some(t);
            i += 1;
        }
        let mut m = 0;
        while m < modules.len() {
            assert!(
                modules[m].functions.len() <= 256,
                "a module has more than 256 functions"
            );
            m += 1;
        }
        assert!(
            modules.len() < (table::EXCEPTION - table::FIRST_MODULE) as usize,
            "too many builtin modules"
        );
        assert!(builtins.functions.len() <= 256 && exception_methods.len() <= 256);
        Builtins {
            types,
            by_kind,
            exceptions,
            exception_methods,
            builtins,
            modules,
            names,
        }
    }

    /// The type of kind `k`, if it is registered.
    #[inline]
    pub fn slots(&self, k: Kind) -> Option<&'static TypeSlots<F>> {
        self.by_kind.get(k.id() as usize).copied().flatten()
    }

    /// The native function with id `id` (see [`table`]).
    pub fn native(&self, id: u32) -> Option<&'static Native<F>> {
        let (t, i) = (id >> 8, (id & 0xFF) as usize);
        let list: &'static [Native<F>] = match t {
            table::BUILTINS => self.builtins.functions,
            table::EXCEPTION => self.exception_methods,
            t if t >= table::FIRST_MODULE => {
                self.modules
                    .get((t - table::FIRST_MODULE) as usize)?
                    .functions
            }
            t => self.by_kind.get(t as usize).copied().flatten()?.methods,
        };
        list.get(i)
    }
}

/// The id of entry `index` of native table `table`.
pub const fn native_id(table: u32, index: usize) -> u32 {
    (table << 8) | index as u32
}
