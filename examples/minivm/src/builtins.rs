//! Firmware statics (builtin types, functions, modules) and the native functions.
//!
//! [`Vm::build_statics`] lays out every builtin object in the statics region in a fixed
//! order at boot, so their addresses are the same on every run and on every target; frozen
//! images may point at them. After boot the region is read-only.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::memmap::*;
use crate::natives::Native;
use crate::obj::*;
use crate::qstr::sq;
use crate::vm::{R, Vm};

/// Names used by the statics that are neither static qstrs nor native names.
pub const EXTRA_NAMES: &[&str] = &[
    "ellipsis",
    "function",
    "closure",
    "code",
    "context",
    "module",
    "cell",
    "bound_method",
    "generator",
    "iterator",
    "slice",
    "builtin_function",
    "array",
    "qstr_pool",
    "property",
    "handle",
    "gc",
    "sys",
    "freeze",
    "utime",
    "time",
    "ucollections",
    "collections",
    "uerrno",
    "errno",
    "uselect",
    "select",
    "usocket",
    "socket",
    "uio",
    "io",
    "utimeq",
    "modules",
    "path",
    "version",
    "platform",
    "byteorder",
    "maxsize",
    "minivm",
    "OrderedDict",
    "IOBase",
    "EPERM",
    "ENOENT",
    "EIO",
    "EBADF",
    "EAGAIN",
    "ENOMEM",
    "EACCES",
    "EEXIST",
    "ENODEV",
    "EISDIR",
    "EINVAL",
    "EOPNOTSUPP",
    "EADDRINUSE",
    "ECONNABORTED",
    "ECONNRESET",
    "ENOBUFS",
    "ENOTCONN",
    "ETIMEDOUT",
    "ECONNREFUSED",
    "EHOSTUNREACH",
    "EALREADY",
    "EINPROGRESS",
    "POLLIN",
    "POLLOUT",
    "POLLERR",
    "POLLHUP",
    "AF_INET",
    "SOCK_STREAM",
    "SOCK_DGRAM",
    "SOL_SOCKET",
    "SO_REUSEADDR",
    "__path__",
    "__bases__",
    "__self__",
    "__bool__",
    "__eq__",
    "__lt__",
    "__gt__",
    "__le__",
    "__ge__",
    "__contains__",
    "__or__",
    "__and__",
    "__add__",
    "__sub__",
    "__mul__",
    "errno",
    "NoneType",
    "__main__",
    "__build_class__",
    "__import__",
    "staticmethod",
    "classmethod",
    "__file__",
    "implementation",
    "StopAsyncIteration",
    "CancelledError",
    "TimeoutError",
    "__aiter__",
    "__anext__",
    "__aenter__",
    "__aexit__",
    "__await__",
    "__version__",
    "sysname",
    "const_array",
    "uos",
    "os",
    "sep",
];

/// Builtin exception hierarchy: (name, parent name).
const EXCEPTIONS: &[(&str, &str)] = &[
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
];

/// (kind, type name, methods) of the builtin types.
const TYPES: &[(Kind, &str, &[Native])] = &[
    (Kind::None, "NoneType", &[]),
    (Kind::Bool, "bool", &[]),
    (Kind::Ellipsis, "ellipsis", &[]),
    (
        Kind::Str,
        "str",
        &[
            Native::StrJoin,
            Native::StrSplit,
            Native::StrStartsWith,
            Native::StrEndsWith,
            Native::StrStrip,
            Native::StrRStrip,
            Native::StrLStrip,
            Native::StrUpper,
            Native::StrLower,
            Native::StrReplace,
            Native::StrFind,
            Native::StrFormat,
            Native::StrIsDigit,
            Native::StrIsAlpha,
            Native::StrEncode,
            Native::StrCount,
            Native::StrIndex,
            Native::StrRFind,
            Native::StrRIndex,
            Native::StrIsSpace,
            Native::StrIsLower,
            Native::StrIsUpper,
            Native::StrPartition,
            Native::StrRPartition,
            Native::StrRSplit,
        ],
    ),
    (Kind::Bytes, "bytes", &[Native::BytesDecode]),
    (
        Kind::Tuple,
        "tuple",
        &[Native::TupleIndex, Native::TupleCount],
    ),
    (
        Kind::List,
        "list",
        &[
            Native::ListAppend,
            Native::ListPop,
            Native::ListInsert,
            Native::ListRemove,
            Native::ListExtend,
            Native::ListIndex,
            Native::ListCount,
            Native::ListClear,
            Native::ListSort,
            Native::ListReverse,
            Native::ListCopy,
            Native::ListPopLeft,
        ],
    ),
    (
        Kind::Dict,
        "dict",
        &[
            Native::DictGet,
            Native::DictKeys,
            Native::DictValues,
            Native::DictItems,
            Native::DictPop,
            Native::DictSetDefault,
            Native::DictUpdate,
            Native::DictClear,
            Native::DictCopy,
            Native::DictPopItem,
        ],
    ),
    (
        Kind::Set,
        "set",
        &[Native::SetAdd, Native::SetDiscard, Native::SetRemove],
    ),
    (Kind::Func, "function", &[]),
    (Kind::Closure, "closure", &[]),
    (Kind::RawCode, "code", &[]),
    (Kind::Context, "context", &[]),
    (Kind::Module, "module", &[]),
    (Kind::Class, "type", &[]),
    (Kind::Instance, "object", &[Native::ObjectInit]),
    (Kind::Cell, "cell", &[]),
    (Kind::BoundMeth, "bound_method", &[]),
    (
        Kind::Generator,
        "generator",
        &[
            Native::GenSend,
            Native::GenThrow,
            Native::GenClose,
            Native::GenPendThrow,
        ],
    ),
    (Kind::Iter, "iterator", &[]),
    (Kind::Range, "range", &[]),
    (Kind::Slice, "slice", &[]),
    (Kind::Builtin, "builtin_function", &[]),
    (Kind::Array, "array", &[]),
    (Kind::ConstArray, "const_array", &[]),
    (Kind::QstrPool, "qstr_pool", &[]),
    (Kind::StaticMeth, "staticmethod", &[]),
    (Kind::ClassMeth, "classmethod", &[]),
    (Kind::Property, "property", &[]),
    (
        Kind::Handle,
        "handle",
        &[
            Native::HandleNoop,
            Native::UtqPush,
            Native::UtqPop,
            Native::UtqPeekTime,
            Native::UtqRemove,
            Native::PollRegister,
            Native::PollUnregister,
            Native::PollModify,
            Native::PollIpoll,
            Native::PollPoll,
            Native::HandleClose,
            Native::FileRead,
            Native::FileReadline,
            Native::FileWrite,
            Native::FileSeek,
            Native::FileTell,
            Native::FileFlush,
            Native::FileEnter,
            Native::FileExit,
        ],
    ),
];

/// Global builtin functions.
const GLOBAL_FNS: &[Native] = &[
    Native::Print,
    Native::Len,
    Native::IsInstance,
    Native::IsSubclass,
    Native::HasAttr,
    Native::GetAttr,
    Native::SetAttr,
    Native::DelAttr,
    Native::Repr,
    Native::Iter,
    Native::Next,
    Native::Abs,
    Native::Min,
    Native::Max,
    Native::Sum,
    Native::Sorted,
    Native::Enumerate,
    Native::Zip,
    Native::Map,
    Native::Any,
    Native::All,
    Native::Id,
    Native::Hash,
    Native::Callable,
    Native::Ord,
    Native::Chr,
    Native::BuildClass,
    Native::Import,
    Native::Globals,
    Native::Divmod,
    Native::Reversed,
    Native::Hex,
    Native::Super,
    Native::Open,
];

/// An integer constant of a builtin module.
enum Item {
    Fn(Native),
    Int(&'static str, i32),
    Str(&'static str, &'static str),
    Type(&'static str, Kind),
}

const MODULES: &[(&str, &[&str], &[Item])] = &[
    (
        "gc",
        &[],
        &[
            Item::Fn(Native::GcCollect),
            Item::Fn(Native::GcMemAlloc),
            Item::Fn(Native::GcMemFree),
            Item::Fn(Native::GcEnable),
            Item::Fn(Native::GcDisable),
            Item::Fn(Native::GcThreshold),
        ],
    ),
    (
        "micropython",
        &[],
        &[
            Item::Fn(Native::MpMemInfo),
            Item::Fn(Native::MpConst),
            Item::Fn(Native::MpQstrInfo),
            Item::Fn(Native::MpAllocEmerg),
            Item::Fn(Native::MpKbdIntr),
            Item::Fn(Native::MpSchedule),
        ],
    ),
    (
        "sys",
        &[],
        &[
            Item::Fn(Native::SysPrintException),
            Item::Fn(Native::SysExit),
            Item::Str("version", "3.4.0; minivm"),
            Item::Str("platform", "minivm"),
            Item::Str("byteorder", "little"),
            Item::Int("maxsize", SMALL_MAX),
        ],
    ),
    (
        "freeze",
        &[],
        &[
            Item::Fn(Native::FreezeImportModules),
            Item::Fn(Native::FreezeClear),
            Item::Fn(Native::FreezeInfo),
        ],
    ),
    (
        "utime",
        &["time"],
        &[
            Item::Fn(Native::TicksMs),
            Item::Fn(Native::TicksUs),
            Item::Fn(Native::TicksAdd),
            Item::Fn(Native::TicksDiff),
            Item::Fn(Native::Sleep),
            Item::Fn(Native::SleepMs),
            Item::Fn(Native::SleepUs),
            Item::Fn(Native::Time),
        ],
    ),
    (
        "ucollections",
        &["collections"],
        &[
            Item::Fn(Native::Deque),
            Item::Type("OrderedDict", Kind::Dict),
        ],
    ),
    (
        "uerrno",
        &["errno"],
        &[
            Item::Int("EPERM", 1),
            Item::Int("ENOENT", 2),
            Item::Int("EIO", 5),
            Item::Int("EBADF", 9),
            Item::Int("EAGAIN", 11),
            Item::Int("ENOMEM", 12),
            Item::Int("EACCES", 13),
            Item::Int("EEXIST", 17),
            Item::Int("ENODEV", 19),
            Item::Int("EISDIR", 21),
            Item::Int("EINVAL", 22),
            Item::Int("EOPNOTSUPP", 95),
            Item::Int("EADDRINUSE", 98),
            Item::Int("ECONNABORTED", 103),
            Item::Int("ECONNRESET", 104),
            Item::Int("ENOBUFS", 105),
            Item::Int("ENOTCONN", 107),
            Item::Int("ETIMEDOUT", 110),
            Item::Int("ECONNREFUSED", 111),
            Item::Int("EHOSTUNREACH", 113),
            Item::Int("EALREADY", 114),
            Item::Int("EINPROGRESS", 115),
        ],
    ),
    (
        "uselect",
        &["select"],
        &[
            Item::Fn(Native::Poll),
            Item::Int("POLLIN", 1),
            Item::Int("POLLOUT", 4),
            Item::Int("POLLERR", 8),
            Item::Int("POLLHUP", 16),
        ],
    ),
    (
        "usocket",
        &["socket"],
        &[
            Item::Fn(Native::Socket),
            Item::Fn(Native::GetAddrInfo),
            Item::Int("AF_INET", 2),
            Item::Int("SOCK_STREAM", 1),
            Item::Int("SOCK_DGRAM", 2),
            Item::Int("SOL_SOCKET", 1),
            Item::Int("SO_REUSEADDR", 4),
        ],
    ),
    (
        "uio",
        &["io"],
        &[
            Item::Fn(Native::StringIO),
            Item::Fn(Native::BytesIO),
            Item::Type("IOBase", Kind::Instance),
        ],
    ),
    ("utimeq", &[], &[Item::Fn(Native::UtimeQ)]),
    (
        "uos",
        &["os"],
        &[
            Item::Fn(Native::OsListdir),
            Item::Fn(Native::OsIlistdir),
            Item::Fn(Native::OsStat),
            Item::Fn(Native::OsStatvfs),
            Item::Fn(Native::OsRemove),
            Item::Fn(Native::OsRmdir),
            Item::Fn(Native::OsMkdir),
            Item::Fn(Native::OsRename),
            Item::Fn(Native::OsGetcwd),
            Item::Fn(Native::OsChdir),
            Item::Str("sep", "/"),
        ],
    ),
];

impl<F: FlashImage> Vm<F> {
    fn s_alloc(&mut self, words: &[u32]) -> u32 {
        let a = STATICS_BASE + self.mem.statics.len() as u32;
        for w in words {
            self.mem.statics.extend_from_slice(&w.to_le_bytes());
        }
        a
    }

    fn s_dict(&mut self, entries: &[(Value, Value)]) -> u32 {
        let mut t = vec![header(Kind::Array, 2 * entries.len().max(1) as u32)];
        for (k, v) in entries {
            t.push(k.0);
            t.push(v.0);
        }
        if entries.is_empty() {
            t.extend_from_slice(&[0, 0]);
        }
        let ta = self.s_alloc(&t);
        self.s_alloc(&[
            header(Kind::Dict, 0),
            Value::small(entries.len() as i32).0,
            ta,
        ])
    }

    fn s_tuple(&mut self, items: &[u32]) -> u32 {
        let mut t = vec![header(Kind::Tuple, items.len() as u32)];
        t.extend_from_slice(items);
        self.s_alloc(&t)
    }

    fn s_builtin(&mut self, n: Native) -> Value {
        let name = self.q(crate::natives::NATIVE_NAMES[n as usize]);
        Value(self.s_alloc(&[header(Kind::Builtin, n as u32), name.0]))
    }

    /// Builds the statics region (called once from [`Vm::new`]).
    pub fn build_statics(&mut self) {
        self.mem.statics.clear();
        self.st.none = self.s_alloc(&[header(Kind::None, 0)]);
        self.st.false_ = self.s_alloc(&[header(Kind::Bool, 0)]);
        self.st.true_ = self.s_alloc(&[header(Kind::Bool, 1)]);
        self.st.ellipsis = self.s_alloc(&[header(Kind::Ellipsis, 0)]);
        self.st.empty_tuple = self.s_tuple(&[]);
        let empty = self.st.empty_tuple;
        self.st.types = vec![0; 32];
        let mut builtins: Vec<(Value, Value)> = Vec::new();
        // `object` first so other types can name it as their base.
        for &(kind, name, methods) in TYPES {
            let mut ents = Vec::new();
            for &m in methods {
                let f = self.s_builtin(m);
                let n = self.q(crate::natives::NATIVE_NAMES[m as usize]);
                ents.push((n, f));
            }
            let d = self.s_dict(&ents);
            let nq = self.q(name);
            let flags = class_flags::NATIVE | ((kind as u32) << 8);
            let c = self.s_alloc(&[header(Kind::Class, flags), nq.0, empty, d]);
            self.st.types[kind as usize] = c;
            builtins.push((nq, Value(c)));
        }
        self.st.object = self.st.types[Kind::Instance as usize];
        self.st.type_ = self.st.types[Kind::Class as usize];
        self.st.str_ = self.st.types[Kind::Str as usize];
        self.st.bool_ = self.st.types[Kind::Bool as usize];
        // `int` has no object kind (small ints are immediates).
        let int_d = self.s_dict(&[]);
        let iq = sq!("int");
        self.st.int = self.s_alloc(&[header(Kind::Class, class_flags::NATIVE), iq.0, empty, int_d]);
        builtins.push((iq, Value(self.st.int)));
        // Exceptions.
        let init = self.s_builtin(Native::ExcInit);
        let initq = sq!("__init__");
        for &(name, parent) in EXCEPTIONS {
            let bases = if parent.is_empty() {
                empty
            } else {
                let p = self.exc_class(parent);
                self.s_tuple(&[p])
            };
            let d = if parent.is_empty() {
                self.s_dict(&[(initq, init)])
            } else {
                self.s_dict(&[])
            };
            let nq = self.q(name);
            let c = self.s_alloc(&[header(Kind::Class, class_flags::EXCEPTION), nq.0, bases, d]);
            self.st.exc.push((name, c));
            builtins.push((nq, Value(c)));
        }
        let me = self.exc_class("MemoryError");
        self.st.memory_error = self.s_alloc(&[header(Kind::Instance, 0), me, 0, empty]);
        for &n in GLOBAL_FNS {
            let f = self.s_builtin(n);
            let nq = self.q(crate::natives::NATIVE_NAMES[n as usize]);
            builtins.push((nq, f));
        }
        let nq = sq!("__name__");
        let bq = sq!("builtins");
        builtins.push((nq, bq));
        self.st.builtins = self.s_dict(&builtins);
        // Builtin modules.
        for &(name, aliases, items) in MODULES {
            let mut ents = Vec::new();
            let mq = self.q(name);
            ents.push((nq, mq));
            for it in items {
                let (k, v) = match it {
                    Item::Fn(n) => {
                        let f = self.s_builtin(*n);
                        (self.q(crate::natives::NATIVE_NAMES[*n as usize]), f)
                    }
                    Item::Int(k, v) => (self.q(k), Value::small(*v)),
                    Item::Str(k, v) => {
                        let s = v.as_bytes();
                        let mut w = vec![header(Kind::Str, s.len() as u32), crate::qstr::hash(s)];
                        let mut padded = s.to_vec();
                        while padded.len() % 4 != 0 {
                            padded.push(0);
                        }
                        for c in padded.chunks(4) {
                            w.push(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
                        }
                        (self.q(k), Value(self.s_alloc(&w)))
                    }
                    Item::Type(k, kind) => (self.q(k), Value(self.st.types[*kind as usize])),
                };
                ents.push((k, v));
            }
            let d = self.s_dict(&ents);
            let m = self.s_alloc(&[header(Kind::Module, 0), mq.0, d]);
            self.st.modules.push((name, m));
            for a in aliases.iter() {
                self.st.aliases.push((a, m));
            }
        }
        let bm_d = self.st.builtins;
        let m = self.s_alloc(&[header(Kind::Module, 0), bq.0, bm_d]);
        self.st.modules.push(("builtins", m));
    }

    /// The builtin module `name`, if there is one (plain-name aliases excluded).
    pub fn builtin_module(&self, name: &str) -> Option<Value> {
        self.st
            .modules
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| Value(*m))
    }

    /// The builtin module a plain name (`time`, `collections`…) falls back to.
    pub fn builtin_alias(&self, name: &str) -> Option<Value> {
        self.st
            .aliases
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| Value(*m))
    }

    /// The static function object of a global builtin.
    pub fn builtin_fn(&mut self, n: Native) -> Value {
        let q = self.q(crate::natives::NATIVE_NAMES[n as usize]);
        self.dict_get_q(Value(self.st.builtins), q)
            .unwrap_or(Value::NULL)
    }

    /// `micropython.mem_info()` text.
    pub fn mem_info_text(&self) -> String {
        let s = self.heap_stats();
        let mut t = String::new();
        let _ = writeln!(
            t,
            "GC: total: {}, used: {}, free: {}",
            s.total, s.used, s.free
        );
        let _ = writeln!(
            t,
            " No. of 1-blocks: {}, 2-blocks: {}, max blk sz: {}, max free sz: {}",
            s.one_blocks, s.two_blocks, s.max_block, s.max_free
        );
        t
    }

    fn arg(&self, args: &[Value], i: usize) -> Value {
        args.get(i).copied().unwrap_or(Value::NULL)
    }

    fn kwarg(&self, kw: &[Value], name: &str) -> Option<Value> {
        kw.chunks(2)
            .find(|p| self.str_bytes(p[0]) == Some(name.as_bytes()))
            .and_then(|p| p.get(1).copied())
    }

    fn need<T>(&mut self, args: &[Value], n: usize, name: &str) -> R<()> {
        if args.len() < n {
            let msg = alloc::format!("{name}() takes at least {n} arguments");
            return self.raise_msg("TypeError", &msg);
        }
        let _ = core::marker::PhantomData::<T>;
        Ok(())
    }

    fn int_arg(&mut self, v: Value) -> R<i64> {
        match self.as_intlike(v) {
            Some(n) => Ok(n),
            None => {
                let t = self.class_name(self.type_of(v));
                let msg = alloc::format!("can't convert {t} to int");
                self.raise_msg("TypeError", &msg)
            }
        }
    }

    fn str_arg(&mut self, v: Value) -> R<Vec<u8>> {
        match self.str_bytes(v) {
            Some(b) => Ok(b.to_vec()),
            None => self.raise_msg("TypeError", "expected a str"),
        }
    }

    /// Calls a type to construct a builtin value.
    pub fn construct_native(&mut self, c: Value, args: &[Value], kw: &[Value]) -> R<Value> {
        let a0 = self.arg(args, 0);
        if c.0 == self.st.int {
            if args.is_empty() {
                return Ok(Value::small(0));
            }
            if let Some(n) = self.as_intlike(a0) {
                return self.int_val(n);
            }
            if let Some(b) = self.str_bytes(a0) {
                let s = String::from_utf8_lossy(b).trim().replace('_', "");
                let base = if args.len() > 1 {
                    self.int_arg(args[1])? as u32
                } else {
                    10
                };
                return match i64::from_str_radix(&s, base) {
                    Ok(n) => self.int_val(n),
                    Err(_) => {
                        let msg =
                            alloc::format!("invalid syntax for integer with base {base}: '{s}'");
                        self.raise_msg("ValueError", &msg)
                    }
                };
            }
            return self.raise_msg("TypeError", "can't convert to int");
        }
        let kind = Kind::from_u8((self.aux(c) >> 8) as u8);
        match kind {
            Some(Kind::Bool) => {
                let t = if args.is_empty() {
                    false
                } else {
                    self.truthy(a0)?
                };
                Ok(self.bool_val(t))
            }
            Some(Kind::Str) => {
                if args.is_empty() {
                    return Ok(Value::qstr(1));
                }
                if self.kind(a0) == Some(Kind::Bytes) && args.len() > 1 {
                    let b = self.str_obj_bytes(a0).unwrap_or(b"").to_vec();
                    return self.new_str(&b);
                }
                let s = self.str_of(a0)?;
                self.new_str(s.as_bytes())
            }
            Some(Kind::Bytes) => {
                if args.is_empty() {
                    return self.new_str_obj(Kind::Bytes, b"");
                }
                if let Some(b) = self.str_bytes(a0) {
                    let b = b.to_vec();
                    return self.new_str_obj(Kind::Bytes, &b);
                }
                if a0.is_int() {
                    let n = a0.as_int().max(0) as usize;
                    if n > self.mem.heap.len() {
                        self.exc = Value(self.st.memory_error);
                        return Err(crate::vm::Thrown);
                    }
                    let v = vec![0u8; n];
                    return self.new_str_obj(Kind::Bytes, &v);
                }
                let items = self.iter_to_vec(a0)?;
                let v: Vec<u8> = items.iter().map(|x| x.as_int() as u8).collect();
                self.new_str_obj(Kind::Bytes, &v)
            }
            Some(Kind::Tuple) => {
                if args.is_empty() {
                    return self.new_tuple(&[]);
                }
                let items = self.iter_to_vec(a0)?;
                self.new_tuple(&items)
            }
            Some(Kind::List) => {
                if args.is_empty() {
                    return self.new_list(&[]);
                }
                let items = self.iter_to_vec(a0)?;
                self.new_list(&items)
            }
            Some(Kind::Dict) => {
                let d = self.new_dict(4)?;
                if !args.is_empty() {
                    self.dict_update(d, a0)?;
                }
                for p in kw.chunks(2) {
                    self.dict_store(d, p[0], p[1])?;
                }
                Ok(d)
            }
            Some(Kind::Set) => {
                let s = self.new_set()?;
                if !args.is_empty() {
                    for x in self.iter_to_vec(a0)? {
                        self.set_add(s, x)?;
                    }
                }
                Ok(s)
            }
            Some(Kind::Range) => {
                let (a, b, st) = match args.len() {
                    1 => (0, self.int_arg(a0)?, 1),
                    2 => (self.int_arg(a0)?, self.int_arg(args[1])?, 1),
                    3 => (
                        self.int_arg(a0)?,
                        self.int_arg(args[1])?,
                        self.int_arg(args[2])?,
                    ),
                    _ => return self.raise_msg("TypeError", "range expected 1 to 3 arguments"),
                };
                if st == 0 {
                    return self.raise_msg("ValueError", "zero step");
                }
                let (a, b, st) = (self.int_val(a)?, self.int_val(b)?, self.int_val(st)?);
                self.alloc_obj(Kind::Range, 0, &[a, b, st])
            }
            Some(Kind::Class) => {
                if args.len() == 1 {
                    return Ok(Value(self.type_of(a0)));
                }
                self.raise_msg("NotImplementedError", "type() with 3 arguments")
            }
            Some(Kind::Instance) => {
                self.alloc_obj(Kind::Instance, 0, &[c, Value::NULL, Value::NULL])
            }
            Some(Kind::StaticMeth) => self.alloc_obj(Kind::StaticMeth, 0, &[a0]),
            Some(Kind::ClassMeth) => self.alloc_obj(Kind::ClassMeth, 0, &[a0]),
            Some(Kind::Property) => {
                let none = self.none();
                let s = if args.len() > 1 { args[1] } else { none };
                self.alloc_obj(Kind::Property, 0, &[a0, s, none])
            }
            _ => {
                let n = self.class_name(c.0);
                let msg = alloc::format!("cannot create '{n}' instances");
                self.raise_msg("TypeError", &msg)
            }
        }
    }

    fn dict_update(&mut self, d: Value, src: Value) -> R<()> {
        if matches!(self.kind(src), Some(Kind::Dict)) {
            for i in 0..self.dict_len(src) {
                let (k, v) = self.dict_entry(src, i);
                self.dict_store(d, k, v)?;
            }
            return Ok(());
        }
        for item in self.iter_to_vec(src)? {
            let kv = self.iter_to_vec(item)?;
            if kv.len() != 2 {
                return self.raise_msg(
                    "ValueError",
                    "dict update sequence element has wrong length",
                );
            }
            self.dict_store(d, kv[0], kv[1])?;
        }
        Ok(())
    }

    fn print_values(&mut self, args: &[Value], kw: &[Value]) -> R<()> {
        let sep = match self.kwarg(kw, "sep") {
            Some(v) if v.0 != self.st.none => self.str_of(v)?,
            _ => String::from(" "),
        };
        let end = match self.kwarg(kw, "end") {
            Some(v) if v.0 != self.st.none => self.str_of(v)?,
            _ => String::from("\n"),
        };
        let mut line = String::new();
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                line.push_str(&sep);
            }
            let s = self.str_of(*a)?;
            line.push_str(&s);
        }
        line.push_str(&end);
        self.out.push_str(&line);
        Ok(())
    }

    fn sort_values(&mut self, items: &mut [Value], key: Value, reverse: bool) -> R<()> {
        let keys: Vec<Value> = if key.is_null() || key.0 == self.st.none {
            items.to_vec()
        } else {
            let mut ks = Vec::with_capacity(items.len());
            for x in items.iter() {
                let k = self.call(key, &[*x], &[])?;
                if k.is_ptr() {
                    self.young.push(k.0);
                }
                ks.push(k);
            }
            ks
        };
        // Insertion sort with Python comparisons (stable, errors propagate).
        let mut idx: Vec<usize> = (0..items.len()).collect();
        for i in 1..idx.len() {
            let mut j = i;
            while j > 0 {
                let (a, b) = (keys[idx[j - 1]], keys[idx[j]]);
                let gt = self.binary_op(crate::ops::binop::MORE, a, b)?;
                let swap = if reverse {
                    self.binary_op(crate::ops::binop::LESS, a, b)?.0 == self.st.true_
                } else {
                    gt.0 == self.st.true_
                };
                if !swap {
                    break;
                }
                idx.swap(j - 1, j);
                j -= 1;
            }
        }
        let orig = items.to_vec();
        for (i, &k) in idx.iter().enumerate() {
            items[i] = orig[k];
        }
        Ok(())
    }

    /// Dispatches a native function.
    pub fn call_native(&mut self, id: u32, args: &[Value], kw: &[Value]) -> R<Value> {
        let Some(n) = Native::from_id(id) else {
            return self.raise_msg("RuntimeError", "bad builtin id");
        };
        let none = self.none();
        let a0 = self.arg(args, 0);
        let a1 = self.arg(args, 1);
        use Native::*;
        match n {
            Print => {
                self.print_values(args, kw)?;
                Ok(none)
            }
            Len => {
                self.need::<()>(args, 1, "len")?;
                self.len(a0)
            }
            IsInstance | IsSubclass => {
                self.need::<()>(args, 2, "isinstance")?;
                let classes = self.seq_vec(a1).unwrap_or_else(|| vec![a1]);
                let t = if n == IsInstance {
                    self.type_of(a0)
                } else {
                    a0.0
                };
                let r = classes.iter().any(|c| self.is_subclass(t, c.0));
                Ok(self.bool_val(r))
            }
            HasAttr => {
                let r = self.try_load_attr(a0, a1)?.is_some();
                Ok(self.bool_val(r))
            }
            GetAttr => {
                let name = self.str_arg(a1)?;
                let q = self.intern(&name)?;
                match self.try_load_attr(a0, q)? {
                    Some(v) => Ok(v),
                    None if args.len() > 2 => Ok(args[2]),
                    None => self.load_attr(a0, q),
                }
            }
            SetAttr => {
                let name = self.str_arg(a1)?;
                let q = self.intern(&name)?;
                self.store_attr(a0, q, self.arg(args, 2))?;
                Ok(none)
            }
            DelAttr => {
                let name = self.str_arg(a1)?;
                let q = self.intern(&name)?;
                self.delete_attr(a0, q)?;
                Ok(none)
            }
            Repr => {
                let s = self.repr_of(a0)?;
                self.new_str(s.as_bytes())
            }
            Iter => self.get_iter(a0),
            Next => match self.iter_next(a0)? {
                Some(v) => Ok(v),
                None if args.len() > 1 => Ok(a1),
                None => self.raise_empty("StopIteration"),
            },
            Abs => {
                let x = self.int_arg(a0)?;
                self.int_val(x.abs())
            }
            Min | Max => {
                let items = if args.len() == 1 {
                    self.iter_to_vec(a0)?
                } else {
                    args.to_vec()
                };
                if items.is_empty() {
                    return self.raise_msg("ValueError", "empty sequence");
                }
                let key = self.kwarg(kw, "key").unwrap_or(Value::NULL);
                let mut best = items[0];
                let mut bk = if key.is_null() {
                    best
                } else {
                    self.call(key, &[best], &[])?
                };
                for &x in &items[1..] {
                    let k = if key.is_null() {
                        x
                    } else {
                        self.call(key, &[x], &[])?
                    };
                    let op = if n == Min {
                        crate::ops::binop::LESS
                    } else {
                        crate::ops::binop::MORE
                    };
                    if self.binary_op(op, k, bk)?.0 == self.st.true_ {
                        best = x;
                        bk = k;
                    }
                }
                Ok(best)
            }
            Sum => {
                let mut acc = if args.len() > 1 { a1 } else { Value::small(0) };
                for x in self.iter_to_vec(a0)? {
                    acc = self.binary_op(crate::ops::binop::ADD, acc, x)?;
                }
                Ok(acc)
            }
            Sorted => {
                let mut items = self.iter_to_vec(a0)?;
                let key = self.kwarg(kw, "key").unwrap_or(Value::NULL);
                let rev = match self.kwarg(kw, "reverse") {
                    Some(v) => self.truthy(v)?,
                    None => false,
                };
                self.sort_values(&mut items, key, rev)?;
                self.new_list(&items)
            }
            Enumerate => {
                let it = self.get_iter(a0)?;
                let start = if args.len() > 1 { a1 } else { Value::small(0) };
                self.alloc_obj(Kind::Iter, iter_kind::ENUMERATE, &[it, start, Value::NULL])
            }
            Zip => {
                let mut its = Vec::new();
                for a in args {
                    its.push(self.get_iter(*a)?);
                }
                let t = self.new_tuple(&its)?;
                self.alloc_obj(
                    Kind::Iter,
                    iter_kind::ZIP,
                    &[t, Value::small(0), Value::NULL],
                )
            }
            Map => {
                let it = self.get_iter(a1)?;
                self.alloc_obj(Kind::Iter, iter_kind::MAP, &[it, Value::small(0), a0])
            }
            Any | All => {
                let it = self.get_iter(a0)?;
                while let Some(x) = self.iter_next(it)? {
                    let t = self.truthy(x)?;
                    if n == Any && t {
                        return Ok(self.bool_val(true));
                    }
                    if n == All && !t {
                        return Ok(self.bool_val(false));
                    }
                }
                Ok(self.bool_val(n == All))
            }
            Id => Ok(Value::small((a0.0 >> 1) as i32)),
            Hash => self.hash_of(a0),
            Callable => {
                let r = matches!(
                    self.kind(a0),
                    Some(
                        Kind::Func | Kind::Closure | Kind::BoundMeth | Kind::Builtin | Kind::Class
                    )
                );
                Ok(self.bool_val(r))
            }
            Ord => {
                let b = self.str_arg(a0)?;
                let s = String::from_utf8_lossy(&b);
                match s.chars().next() {
                    Some(c) => Ok(Value::small(c as i32)),
                    None => self.raise_msg("TypeError", "ord() expected a character"),
                }
            }
            Chr => {
                let c = self.int_arg(a0)?;
                let ch = char::from_u32(c as u32).unwrap_or('?');
                let mut buf = [0u8; 4];
                let s = ch.encode_utf8(&mut buf);
                self.new_str(s.as_bytes())
            }
            Hex => {
                let x = self.int_arg(a0)?;
                let s = if x < 0 {
                    alloc::format!("-0x{:x}", -x)
                } else {
                    alloc::format!("0x{x:x}")
                };
                self.new_str(s.as_bytes())
            }
            BuildClass => self.build_class(args, kw),
            Import => {
                let q = self.str_arg(a0)?;
                let qv = self.intern(&q)?;
                let g = self.main_globals;
                let from = if args.len() > 3 { args[3] } else { none };
                let level = if args.len() > 4 {
                    args[4].as_int().max(0) as u32
                } else {
                    0
                };
                self.import_name(g, qv, from, level)
            }
            Globals => Ok(self.main_globals),
            Divmod => {
                let q = self.binary_op(crate::ops::binop::FLOOR_DIVIDE, a0, a1)?;
                let m = self.binary_op(crate::ops::binop::MODULO, a0, a1)?;
                self.new_tuple(&[q, m])
            }
            Reversed => {
                let l = self.len(a0)?;
                self.alloc_obj(Kind::Iter, iter_kind::REVERSED, &[a0, l, Value::NULL])
            }
            Super => self.raise_msg("NotImplementedError", "super() outside a method call"),
            // ---- list
            ListAppend => {
                self.list_append(a0, a1)?;
                Ok(none)
            }
            ListPop => {
                let len = self.wv(a0, 1).as_int() as i64;
                if len == 0 {
                    return self.raise_msg("IndexError", "pop from empty list");
                }
                let i = if args.len() > 1 {
                    self.int_arg(a1)?
                } else {
                    -1
                };
                let i = if i < 0 { i + len } else { i };
                if i < 0 || i >= len {
                    return self.raise_msg("IndexError", "pop index out of range");
                }
                self.list_pop(a0, i as u32)
            }
            ListInsert => {
                let len = self.wv(a0, 1).as_int() as i64;
                let i = self.int_arg(a1)?;
                let i = if i < 0 { (i + len).max(0) } else { i.min(len) } as u32;
                let x = self.arg(args, 2);
                self.list_append(a0, x)?;
                let arr = self.wv(a0, 2);
                let mut j = len as u32;
                while j > i {
                    let p = self.w(arr, j);
                    self.set_w(arr, 1 + j, p)?;
                    j -= 1;
                }
                self.set_w(arr, 1 + i, x.0)?;
                Ok(none)
            }
            ListRemove | ListIndex | TupleIndex => {
                let items = self.seq_vec(a0).unwrap_or_default();
                for (i, x) in items.iter().enumerate() {
                    if self.eq(*x, a1)? {
                        if n == ListRemove {
                            self.list_pop(a0, i as u32)?;
                            return Ok(none);
                        }
                        return Ok(Value::small(i as i32));
                    }
                }
                self.raise_msg("ValueError", "object not in sequence")
            }
            ListCount | TupleCount => {
                let items = self.seq_vec(a0).unwrap_or_default();
                let mut c = 0;
                for x in items {
                    if self.eq(x, a1)? {
                        c += 1;
                    }
                }
                Ok(Value::small(c))
            }
            ListExtend => {
                for x in self.iter_to_vec(a1)? {
                    self.list_append(a0, x)?;
                }
                Ok(none)
            }
            ListClear => {
                // Null the items too: the GC frees them, and the freezer trims a null tail.
                let n = self.seq_items(a0).map_or(0, |(_, n)| n);
                let arr = self.wv(a0, 2);
                for i in 0..n {
                    self.set_w(arr, 1 + i, 0)?;
                }
                self.set_w(a0, 1, Value::small(0).0)?;
                Ok(none)
            }
            ListSort => {
                let mut items = self.seq_vec(a0).unwrap_or_default();
                let key = self.kwarg(kw, "key").unwrap_or(Value::NULL);
                let rev = match self.kwarg(kw, "reverse") {
                    Some(v) => self.truthy(v)?,
                    None => false,
                };
                self.sort_values(&mut items, key, rev)?;
                let arr = self.wv(a0, 2);
                for (i, x) in items.iter().enumerate() {
                    self.set_w(arr, 1 + i as u32, x.0)?;
                }
                Ok(none)
            }
            ListReverse => {
                let items = self.seq_vec(a0).unwrap_or_default();
                let arr = self.wv(a0, 2);
                for (i, x) in items.iter().rev().enumerate() {
                    self.set_w(arr, 1 + i as u32, x.0)?;
                }
                Ok(none)
            }
            ListCopy => {
                let items = self.seq_vec(a0).unwrap_or_default();
                self.new_list(&items)
            }
            // ---- dict
            DictGet => {
                Ok(self
                    .dict_get(a0, a1)?
                    .unwrap_or(if args.len() > 2 { args[2] } else { none }))
            }
            DictKeys => {
                let mut ks = Vec::new();
                for i in 0..self.dict_len(a0) {
                    ks.push(self.dict_entry(a0, i).0);
                }
                self.new_list(&ks)
            }
            DictValues => {
                let a = self.alloc_obj(
                    Kind::Iter,
                    iter_kind::DICT_VALUES,
                    &[a0, Value::small(0), Value::NULL],
                )?;
                Ok(a)
            }
            DictItems => self.alloc_obj(
                Kind::Iter,
                iter_kind::DICT_ITEMS,
                &[a0, Value::small(0), Value::NULL],
            ),
            DictPop => match self.dict_remove(a0, a1)? {
                Some(v) => Ok(v),
                None if args.len() > 2 => Ok(args[2]),
                None => self.raise_args("KeyError", &[a1]),
            },
            DictSetDefault => match self.dict_get(a0, a1)? {
                Some(v) => Ok(v),
                None => {
                    let d = if args.len() > 2 { args[2] } else { none };
                    self.dict_store(a0, a1, d)?;
                    Ok(d)
                }
            },
            DictUpdate => {
                if args.len() > 1 {
                    self.dict_update(a0, a1)?;
                }
                for p in kw.chunks(2) {
                    self.dict_store(a0, p[0], p[1])?;
                }
                Ok(none)
            }
            DictClear => {
                // Null the entries too (as for a list).
                let n = self.dict_len(a0);
                let t = self.wv(a0, 2);
                for i in 0..2 * n {
                    self.set_w(t, 1 + i, 0)?;
                }
                self.set_w(a0, 1, Value::small(0).0)?;
                Ok(none)
            }
            DictCopy => {
                let d = self.new_dict(self.dict_len(a0))?;
                self.dict_update(d, a0)?;
                Ok(d)
            }
            DictPopItem => {
                let len = self.dict_len(a0);
                if len == 0 {
                    return self.raise_msg("KeyError", "popitem(): dictionary is empty");
                }
                let (k, v) = self.dict_entry(a0, len - 1);
                self.dict_remove(a0, k)?;
                self.new_tuple(&[k, v])
            }
            // ---- str
            StrJoin => {
                let sep = self.str_arg(a0)?;
                let mut out = Vec::new();
                for (i, x) in self.iter_to_vec(a1)?.into_iter().enumerate() {
                    if i > 0 {
                        out.extend_from_slice(&sep);
                    }
                    let b = self.str_arg(x)?;
                    out.extend_from_slice(&b);
                }
                self.new_str(&out)
            }
            StrSplit => {
                let s = String::from_utf8_lossy(&self.str_arg(a0)?).into_owned();
                let parts: Vec<String> = if args.len() > 1 && a1.0 != self.st.none {
                    let sep = String::from_utf8_lossy(&self.str_arg(a1)?).into_owned();
                    if sep.is_empty() {
                        return self.raise_msg("ValueError", "empty separator");
                    }
                    s.split(sep.as_str()).map(String::from).collect()
                } else {
                    s.split_whitespace().map(String::from).collect()
                };
                let mut vals = Vec::new();
                for p in parts {
                    let v = self.new_str(p.as_bytes())?;
                    vals.push(v);
                }
                self.new_list(&vals)
            }
            StrStartsWith | StrEndsWith => {
                let s = self.str_arg(a0)?;
                let pats = match self.seq_vec(a1) {
                    Some(items) if self.kind(a1) == Some(Kind::Tuple) => items,
                    _ => vec![a1],
                };
                let mut r = false;
                for p in pats {
                    let p = self.str_arg(p)?;
                    r |= if n == StrStartsWith {
                        s.starts_with(&p)
                    } else {
                        s.ends_with(&p)
                    };
                }
                Ok(self.bool_val(r))
            }
            StrStrip | StrRStrip | StrLStrip => {
                let s = String::from_utf8_lossy(&self.str_arg(a0)?).into_owned();
                let chars: Option<Vec<char>> = if args.len() > 1 && a1.0 != self.st.none {
                    Some(
                        String::from_utf8_lossy(&self.str_arg(a1)?)
                            .chars()
                            .collect(),
                    )
                } else {
                    None
                };
                let pred = |c: char| match &chars {
                    Some(cs) => cs.contains(&c),
                    None => c.is_whitespace(),
                };
                let r = match n {
                    StrStrip => s.trim_matches(pred),
                    StrRStrip => s.trim_end_matches(pred),
                    _ => s.trim_start_matches(pred),
                };
                let r = String::from(r);
                self.new_str(r.as_bytes())
            }
            StrUpper | StrLower => {
                let s = String::from_utf8_lossy(&self.str_arg(a0)?).into_owned();
                let r = if n == StrUpper {
                    s.to_uppercase()
                } else {
                    s.to_lowercase()
                };
                self.new_str(r.as_bytes())
            }
            StrReplace => {
                let s = String::from_utf8_lossy(&self.str_arg(a0)?).into_owned();
                let a = String::from_utf8_lossy(&self.str_arg(a1)?).into_owned();
                let b = String::from_utf8_lossy(&self.str_arg(self.arg(args, 2))?).into_owned();
                let r = s.replace(a.as_str(), &b);
                self.new_str(r.as_bytes())
            }
            StrFind | StrIndex | StrRFind | StrRIndex => {
                let s = self.str_arg(a0)?;
                let p = self.str_arg(a1)?;
                let fwd = matches!(n, StrFind | StrIndex);
                let r = if p.is_empty() {
                    Some(if fwd { 0 } else { s.len() })
                } else if fwd {
                    s.windows(p.len()).position(|w| w == p.as_slice())
                } else {
                    s.windows(p.len()).rposition(|w| w == p.as_slice())
                };
                match r {
                    Some(x) => Ok(Value::small(x as i32)),
                    None if matches!(n, StrFind | StrRFind) => Ok(Value::small(-1)),
                    None => self.raise_msg("ValueError", "substring not found"),
                }
            }
            StrPartition | StrRPartition => {
                let s = self.str_arg(a0)?;
                let p = self.str_arg(a1)?;
                if p.is_empty() {
                    return self.raise_msg("ValueError", "empty separator");
                }
                let pos = if n == StrPartition {
                    s.windows(p.len()).position(|w| w == p.as_slice())
                } else {
                    s.windows(p.len()).rposition(|w| w == p.as_slice())
                };
                let (a, m, b) = match pos {
                    Some(i) => (s[..i].to_vec(), p.clone(), s[i + p.len()..].to_vec()),
                    None if n == StrPartition => (s.clone(), Vec::new(), Vec::new()),
                    None => (Vec::new(), Vec::new(), s.clone()),
                };
                let (a, m, b) = (self.new_str(&a)?, self.new_str(&m)?, self.new_str(&b)?);
                self.new_tuple(&[a, m, b])
            }
            StrRSplit => {
                let s = String::from_utf8_lossy(&self.str_arg(a0)?).into_owned();
                let max = if args.len() > 2 {
                    self.int_arg(args[2])?
                } else {
                    -1
                };
                let parts: Vec<String> = if args.len() > 1 && a1.0 != self.st.none {
                    let sep = String::from_utf8_lossy(&self.str_arg(a1)?).into_owned();
                    if sep.is_empty() {
                        return self.raise_msg("ValueError", "empty separator");
                    }
                    let mut v: Vec<String> = if max < 0 {
                        s.split(sep.as_str()).map(String::from).collect()
                    } else {
                        s.rsplitn(max as usize + 1, sep.as_str())
                            .map(String::from)
                            .collect()
                    };
                    if max >= 0 {
                        v.reverse();
                    }
                    v
                } else {
                    s.split_whitespace().map(String::from).collect()
                };
                let mut vals = Vec::new();
                for p in parts {
                    let v = self.new_str(p.as_bytes())?;
                    vals.push(v);
                }
                self.new_list(&vals)
            }
            StrIsSpace | StrIsLower | StrIsUpper => {
                let s = self.str_arg(a0)?;
                let r = !s.is_empty()
                    && match n {
                        StrIsSpace => s.iter().all(|c| c.is_ascii_whitespace()),
                        StrIsLower => {
                            s.iter().any(|c| c.is_ascii_lowercase())
                                && !s.iter().any(|c| c.is_ascii_uppercase())
                        }
                        _ => {
                            s.iter().any(|c| c.is_ascii_uppercase())
                                && !s.iter().any(|c| c.is_ascii_lowercase())
                        }
                    };
                Ok(self.bool_val(r))
            }
            StrCount => {
                let s = self.str_arg(a0)?;
                let p = self.str_arg(a1)?;
                let c = if p.is_empty() {
                    s.len() + 1
                } else {
                    s.windows(p.len()).filter(|w| *w == p.as_slice()).count()
                };
                Ok(Value::small(c as i32))
            }
            StrIsDigit | StrIsAlpha => {
                let s = self.str_arg(a0)?;
                let r = !s.is_empty()
                    && s.iter().all(|c| {
                        if n == StrIsDigit {
                            c.is_ascii_digit()
                        } else {
                            c.is_ascii_alphabetic()
                        }
                    });
                Ok(self.bool_val(r))
            }
            StrEncode => {
                let s = self.str_arg(a0)?;
                self.new_str_obj(Kind::Bytes, &s)
            }
            BytesDecode => {
                let s = self.str_obj_bytes(a0).unwrap_or(b"").to_vec();
                self.new_str(&s)
            }
            StrFormat => self.str_format(args, kw),
            // ---- set
            SetAdd => {
                self.set_add(a0, a1)?;
                Ok(none)
            }
            SetDiscard | SetRemove => {
                if self.dict_remove(a0, a1)?.is_none() && n == SetRemove {
                    return self.raise_args("KeyError", &[a1]);
                }
                Ok(none)
            }
            // ---- generators
            GenSend | GenThrow => {
                let (send, throw) = if n == GenSend {
                    (a1, Value::NULL)
                } else {
                    (none, a1)
                };
                match self.gen_resume(a0, send, throw)? {
                    crate::interp::GenOut::Yield(v) => Ok(v),
                    crate::interp::GenOut::Return(v) => self.raise_args("StopIteration", &[v]),
                }
            }
            GenClose => {
                if self.aux(a0) == gen_state::SUSPENDED {
                    let ge = Value(self.exc_class("GeneratorExit"));
                    match self.gen_resume(a0, none, ge) {
                        Ok(crate::interp::GenOut::Yield(_)) => {
                            return self
                                .raise_msg("RuntimeError", "generator ignored GeneratorExit");
                        }
                        Ok(_) => {}
                        Err(t) => {
                            let e = self.exc;
                            if !self.exception_match(e, ge) {
                                return Err(t);
                            }
                            self.exc = Value::NULL;
                        }
                    }
                }
                let _ = self.set_w(a0, 0, header(Kind::Generator, gen_state::DONE));
                Ok(none)
            }
            GenPendThrow => {
                let prev = self.wv(a0, 6);
                self.set_w(a0, 6, a1.0)?;
                Ok(if prev.is_null() { none } else { prev })
            }
            ObjectInit => Ok(none),
            ExcInit => {
                if self.is_exception(a0) && self.mem.is_writable(a0.0) {
                    let t = self.new_tuple(&args[1..])?;
                    self.set_w(a0, 3, t.0)?;
                }
                Ok(none)
            }
            // ---- gc / micropython / sys
            GcCollect => {
                self.collect();
                Ok(none)
            }
            GcMemAlloc => Ok(Value::small(self.heap_stats().used as i32)),
            GcMemFree => Ok(Value::small(self.heap_stats().free as i32)),
            GcEnable | GcDisable => {
                self.gc_enabled = n == GcEnable;
                Ok(none)
            }
            GcThreshold => Ok(Value::small(-1)),
            MpMemInfo => {
                let t = self.mem_info_text();
                self.out.push_str(&t);
                Ok(none)
            }
            MpConst => Ok(a0),
            MpQstrInfo => {
                let n_dyn = self.next_qstr - self.first_dyn_qstr;
                let t = alloc::format!(
                    "qstr pool: n_total={}, n_dynamic={}\n",
                    self.next_qstr - 1,
                    n_dyn
                );
                self.out.push_str(&t);
                Ok(none)
            }
            MpAllocEmerg | MpKbdIntr => Ok(none),
            MpSchedule => {
                self.call(a0, &[a1], &[])?;
                Ok(none)
            }
            SysPrintException => {
                let t = self.exc_text(a0);
                self.out.push_str("Traceback (most recent call last):\n");
                self.out.push_str(&t);
                self.out.push('\n');
                Ok(none)
            }
            SysExit => self.raise_args("SystemExit", args),
            // ---- os, open() and files (modos.rs)
            Open | OsListdir | OsIlistdir | OsStat | OsStatvfs | OsRemove | OsRmdir | OsMkdir
            | OsRename | OsGetcwd | OsChdir | FileRead | FileReadline | FileWrite | FileSeek
            | FileTell | FileFlush | FileEnter | FileExit => self.call_os(n, args, kw),
            HandleClose if self.is_file(a0) => self.call_os(n, args, kw),
            // ---- freeze
            FreezeImportModules => self.freeze_import_modules(args),
            FreezeClear => {
                let Some(mut fz) = self.freezer.take() else {
                    return self.raise_msg("RuntimeError", "no flash image attached");
                };
                let r = fz.clear(self);
                self.freezer = Some(fz);
                match r {
                    Ok(()) => Ok(none),
                    Err(e) => self.raise_msg("OSError", &e),
                }
            }
            FreezeInfo => {
                let t = alloc::format!("frozen objects: {}\n", self.frozen_count);
                self.out.push_str(&t);
                Ok(none)
            }
            // ---- time
            TicksMs => Ok(Value::small((self.ticks_ms & 0x3fff_ffff) as i32)),
            TicksUs => Ok(Value::small(
                (self.ticks_ms.wrapping_mul(1000) & 0x3fff_ffff) as i32,
            )),
            TicksAdd => {
                let r = (self.int_arg(a0)? + self.int_arg(a1)?) & 0x3fff_ffff;
                Ok(Value::small(r as i32))
            }
            TicksDiff => {
                let d = (self.int_arg(a0)? - self.int_arg(a1)?) & 0x3fff_ffff;
                let d = if d >= 0x2000_0000 { d - 0x4000_0000 } else { d };
                Ok(Value::small(d as i32))
            }
            Sleep | SleepMs | SleepUs => {
                let x = self.int_arg(a0).unwrap_or(0).max(0) as u32;
                let ms = match n {
                    Sleep => x.saturating_mul(1000),
                    SleepMs => x,
                    _ => x / 1000,
                };
                self.ticks_ms = self.ticks_ms.wrapping_add(ms);
                Ok(none)
            }
            Time => Ok(Value::small((self.ticks_ms / 1000) as i32)),
            // ---- stubs for network/io modules
            Deque => {
                let items = if args.is_empty() {
                    Vec::new()
                } else {
                    self.iter_to_vec(a0)?
                };
                self.new_list(&items)
            }
            Poll | Socket | StringIO | BytesIO | UtimeQ => {
                let l = self.new_list(&[])?;
                self.alloc_obj(Kind::Handle, id, &[Value::small(0), l])
            }
            ListPopLeft => {
                let len = self.wv(a0, 1).as_int();
                if len <= 0 {
                    return self.raise_msg("IndexError", "empty");
                }
                self.list_pop(a0, 0)
            }
            // ---- utimeq: entries (time, id, callback, args) in a list, earliest first
            UtqPush => {
                let id = self.wv(a0, 1).as_int() + 1;
                self.set_w(a0, 1, Value::small(id).0)?;
                let t = self.int_arg(a1)?;
                let cb = self.arg(args, 2);
                let data = self.arg(args, 3);
                let entry =
                    self.new_tuple(&[Value::small(t as i32), Value::small(id), cb, data])?;
                let l = self.wv(a0, 2);
                let items = self.seq_vec(l).unwrap_or_default();
                // Insert after every entry that is not later (ticks arithmetic, 30 bits).
                let mut at = items.len();
                for (i, e) in items.iter().enumerate() {
                    let et = self.wv(*e, 1).as_int() as i64;
                    let d = (et - t) & 0x3fff_ffff;
                    let d = if d >= 0x2000_0000 { d - 0x4000_0000 } else { d };
                    if d > 0 {
                        at = i;
                        break;
                    }
                }
                self.list_append(l, entry)?;
                let arr = self.wv(l, 2);
                let mut j = items.len() as u32;
                while j > at as u32 {
                    let p = self.w(arr, j);
                    self.set_w(arr, 1 + j, p)?;
                    j -= 1;
                }
                self.set_w(arr, 1 + at as u32, entry.0)?;
                Ok(Value::small(id))
            }
            UtqPop => {
                let l = self.wv(a0, 2);
                if self.wv(l, 1).as_int() <= 0 {
                    return self.raise_msg("IndexError", "empty heap");
                }
                let e = self.list_pop(l, 0)?;
                let items = self.seq_vec(e).unwrap_or_default();
                let arr = self.wv(a1, 2);
                for (i, k) in [0usize, 2, 3].iter().enumerate() {
                    if (i as i32) < self.wv(a1, 1).as_int() {
                        self.set_w(arr, 1 + i as u32, items[*k].0)?;
                    }
                }
                Ok(none)
            }
            UtqPeekTime => {
                let l = self.wv(a0, 2);
                if self.wv(l, 1).as_int() <= 0 {
                    return self.raise_msg("IndexError", "empty heap");
                }
                let e = self.subscr(l, Value::small(0))?;
                Ok(self.wv(e, 1))
            }
            UtqRemove => {
                let l = self.wv(a0, 2);
                let items = self.seq_vec(l).unwrap_or_default();
                for (i, e) in items.iter().enumerate() {
                    if self.wv(*e, 2) == a1 {
                        self.list_pop(l, i as u32)?;
                        break;
                    }
                }
                Ok(none)
            }
            // ---- poll: no I/O sources on this port; waiting advances the clock
            PollRegister | PollUnregister | PollModify | HandleClose => Ok(none),
            PollIpoll | PollPoll => {
                let ms = self.as_intlike(a1).unwrap_or(0);
                if ms > 0 {
                    self.ticks_ms = self.ticks_ms.wrapping_add(ms as u32);
                }
                self.new_tuple(&[])
            }
            GetAddrInfo => {
                let addr = self.new_tuple(&[a0, a1])?;
                let entry = self.new_tuple(&[
                    Value::small(2),
                    Value::small(1),
                    Value::small(0),
                    Value::qstr(1),
                    addr,
                ])?;
                self.new_list(&[entry])
            }
            HandleNoop => Ok(none),
        }
    }

    fn str_format(&mut self, args: &[Value], kw: &[Value]) -> R<Value> {
        let f = String::from_utf8_lossy(&self.str_arg(self.arg(args, 0))?).into_owned();
        let mut out = String::new();
        let mut auto = 1;
        let mut chars = f.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '{' {
                if chars.peek() == Some(&'{') {
                    chars.next();
                    out.push('{');
                    continue;
                }
                let mut field = String::new();
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                    field.push(d);
                }
                let (name, spec) = match field.split_once(':') {
                    Some((a, b)) => (String::from(a), String::from(b)),
                    None => (field.clone(), String::new()),
                };
                let name = name.split('!').next().unwrap_or("").trim();
                let v = if name.is_empty() {
                    let v = args.get(auto).copied();
                    auto += 1;
                    v
                } else if let Ok(i) = name.parse::<usize>() {
                    args.get(i + 1).copied()
                } else {
                    self.kwarg(kw, name)
                };
                let Some(v) = v else {
                    return self.raise_msg("IndexError", "format field not found");
                };
                let s = self.str_of(v)?;
                let width: usize = spec
                    .trim_start_matches(['<', '>', '0'])
                    .parse()
                    .unwrap_or(0);
                if spec.starts_with('<') || (!spec.starts_with('>') && !v.is_int()) {
                    let _ = write!(out, "{s:<width$}");
                } else if spec.starts_with('0') {
                    let _ = write!(out, "{s:0>width$}");
                } else {
                    let _ = write!(out, "{s:>width$}");
                }
            } else if c == '}' {
                if chars.peek() == Some(&'}') {
                    chars.next();
                }
                out.push('}');
            } else {
                out.push(c);
            }
        }
        self.new_str(out.as_bytes())
    }

    /// `__build_class__(body, name, *bases)`.
    fn build_class(&mut self, args: &[Value], _kw: &[Value]) -> R<Value> {
        if args.len() < 2 {
            return self.raise_msg("TypeError", "__build_class__ needs body and name");
        }
        let body = args[0];
        let name = args[1];
        let bases = &args[2..];
        let mut flags = 0;
        for b in bases {
            if self.kind(*b) != Some(Kind::Class) {
                return self.raise_msg("TypeError", "bases must be classes");
            }
            if self.aux(*b) & class_flags::EXCEPTION != 0 {
                flags |= class_flags::EXCEPTION;
            }
        }
        let locals = self.new_namespace(8)?;
        let cell = self.call_bc(body, &[], &[], locals)?;
        let bt = self.new_tuple(bases)?;
        let nq = match self.str_bytes(name) {
            Some(b) => {
                let b = b.to_vec();
                self.intern(&b)?
            }
            None => name,
        };
        let c = self.alloc_obj(Kind::Class, flags, &[nq, bt, locals])?;
        if self.kind(cell) == Some(Kind::Cell) {
            self.set_w(cell, 1, c.0)?;
        }
        Ok(c)
    }

    fn freeze_import_modules(&mut self, args: &[Value]) -> R<Value> {
        let Some(mut fz) = self.freezer.take() else {
            return self.raise_msg("RuntimeError", "no flash image attached");
        };
        let mut result = Ok(self.none());
        for a in args {
            let name = match self.str_bytes(*a) {
                Some(b) => String::from_utf8_lossy(b).into_owned(),
                None => {
                    result = self.raise_msg("TypeError", "module names must be str");
                    break;
                }
            };
            if let Err(t) = self.import_dotted(&name) {
                result = Err(t);
                break;
            }
            match fz.freeze_module(self, &name) {
                Ok(line) => {
                    self.out.push_str(&line);
                    self.out.push('\n');
                }
                Err(e) => {
                    result = self.raise_msg("TypeError", &e);
                    break;
                }
            }
        }
        self.freezer = Some(fz);
        result
    }
}
