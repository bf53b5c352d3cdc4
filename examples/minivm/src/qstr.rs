//! Interned strings (qstrs): the fixed static table, the firmware table, and the hash.
//!
//! Ids are dense and stable:
//!
//! ```text
//! 0              null
//! 1..=165        the static qstrs of the .mpy v6 format (same order as MicroPython's list)
//! 166..FW_END    firmware names of minivm's builtins (fixed by this source)
//! FW_END..       dynamic pools: frozen pools in the image first, then heap pools
//! ```
//!
//! One hash function ([`hash`]) is used for strings everywhere (heap, frozen, firmware).

/// The static qstrs of the `.mpy` v6 format; entry `i` has id `i + 1`.
pub const STATIC: [&str; 165] = [
    "",
    "__dir__",
    "\n",
    " ",
    "*",
    "/",
    "<module>",
    "_",
    "__call__",
    "__class__",
    "__delitem__",
    "__enter__",
    "__exit__",
    "__getattr__",
    "__getitem__",
    "__hash__",
    "__init__",
    "__int__",
    "__iter__",
    "__len__",
    "__main__",
    "__module__",
    "__name__",
    "__new__",
    "__next__",
    "__qualname__",
    "__repr__",
    "__setitem__",
    "__str__",
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "EOFError",
    "Ellipsis",
    "Exception",
    "GeneratorExit",
    "ImportError",
    "IndentationError",
    "IndexError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "NameError",
    "NoneType",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "RuntimeError",
    "StopIteration",
    "SyntaxError",
    "SystemExit",
    "TypeError",
    "ValueError",
    "ZeroDivisionError",
    "abs",
    "all",
    "any",
    "append",
    "args",
    "bool",
    "builtins",
    "bytearray",
    "bytecode",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "clear",
    "close",
    "const",
    "copy",
    "count",
    "dict",
    "dir",
    "divmod",
    "end",
    "endswith",
    "eval",
    "exec",
    "extend",
    "find",
    "format",
    "from_bytes",
    "get",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "id",
    "index",
    "insert",
    "int",
    "isalpha",
    "isdigit",
    "isinstance",
    "islower",
    "isspace",
    "issubclass",
    "isupper",
    "items",
    "iter",
    "join",
    "key",
    "keys",
    "len",
    "list",
    "little",
    "locals",
    "lower",
    "lstrip",
    "main",
    "map",
    "micropython",
    "next",
    "object",
    "open",
    "ord",
    "pop",
    "popitem",
    "pow",
    "print",
    "range",
    "read",
    "readinto",
    "readline",
    "remove",
    "replace",
    "repr",
    "reverse",
    "rfind",
    "rindex",
    "round",
    "rsplit",
    "rstrip",
    "self",
    "send",
    "sep",
    "set",
    "setattr",
    "setdefault",
    "sort",
    "sorted",
    "split",
    "start",
    "startswith",
    "staticmethod",
    "step",
    "stop",
    "str",
    "strip",
    "sum",
    "super",
    "throw",
    "to_bytes",
    "tuple",
    "type",
    "update",
    "upper",
    "utf-8",
    "value",
    "values",
    "write",
    "zip",
];

/// Number of static qstrs.
pub const N_STATIC: u32 = STATIC.len() as u32;

/// The string hash used for every str and qstr (djb2 with xor, 32 bits, never 0).
pub fn hash(bytes: &[u8]) -> u32 {
    let mut h: u32 = 5381;
    for &b in bytes {
        h = h.wrapping_mul(33) ^ b as u32;
    }
    if h == 0 { 1 } else { h }
}

/// Id of static qstr `s`, for the names the VM looks up while running: the `sq!` macro
/// evaluates it at compile time, so a hot path pays no table scan (and a name that is not
/// static fails the build).
pub const fn static_id(s: &str) -> u32 {
    let s = s.as_bytes();
    let mut i = 0;
    while i < STATIC.len() {
        let x = STATIC[i].as_bytes();
        if x.len() == s.len() {
            let mut j = 0;
            while j < s.len() && x[j] == s[j] {
                j += 1;
            }
            if j == s.len() {
                return i as u32 + 1;
            }
        }
        i += 1;
    }
    panic!("not a static qstr")
}

/// The qstr value of static name `$s` (a literal), its id resolved at compile time: the same
/// value as `Vm::q($s)`, which interns by scanning the tables.
macro_rules! sq {
    ($s:literal) => {
        $crate::obj::Value::qstr(const { $crate::qstr::static_id($s) })
    };
}
pub(crate) use sq;

/// Id of a static or firmware name given the firmware table, if it is one.
pub fn find_fixed(fw: &[&str], s: &[u8]) -> Option<u32> {
    if let Some(i) = STATIC.iter().position(|x| x.as_bytes() == s) {
        return Some(i as u32 + 1);
    }
    fw.iter()
        .position(|x| x.as_bytes() == s)
        .map(|i| N_STATIC + 1 + i as u32)
}

/// The text of a static or firmware id.
pub fn fixed_str<'a>(fw: &'a [&'a str], id: u32) -> Option<&'a str> {
    if id == 0 {
        return None;
    }
    if id <= N_STATIC {
        return STATIC.get(id as usize - 1).copied();
    }
    fw.get((id - N_STATIC - 1) as usize).copied()
}
