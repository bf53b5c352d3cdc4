//! The table of native (Rust) functions: one id per builtin function or method.
//!
//! A builtin function object in the statics is `[hdr id|Builtin][name qstr]`; calling it
//! dispatches on the id (see `builtins.rs`).

macro_rules! natives {
    ($($v:ident = $name:literal),* $(,)?) => {
        /// Every native function, in id order.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        #[repr(u16)]
        #[allow(missing_docs)]
        pub enum Native { $($v),* }
        /// Python names of the natives, indexed by id.
        pub const NATIVE_NAMES: &[&str] = &[$($name),*];
        /// All natives, indexed by id.
        pub const ALL: &[Native] = &[$(Native::$v),*];
    };
}

natives! {
    Print = "print", Len = "len", IsInstance = "isinstance", IsSubclass = "issubclass",
    HasAttr = "hasattr", GetAttr = "getattr", SetAttr = "setattr", DelAttr = "delattr",
    Repr = "repr", Iter = "iter", Next = "next", Abs = "abs", Min = "min", Max = "max",
    Sum = "sum", Sorted = "sorted", Enumerate = "enumerate", Zip = "zip", Map = "map",
    Any = "any", All = "all", Id = "id", Hash = "hash", Callable = "callable", Ord = "ord",
    Chr = "chr", BuildClass = "__build_class__", Import = "__import__", Globals = "globals",
    Divmod = "divmod", Reversed = "reversed", Hex = "hex",
    ListAppend = "append", ListPop = "pop", ListInsert = "insert", ListRemove = "remove",
    ListExtend = "extend", ListIndex = "index", ListCount = "count", ListClear = "clear",
    ListSort = "sort", ListReverse = "reverse", ListCopy = "copy",
    DictGet = "get", DictKeys = "keys", DictValues = "values", DictItems = "items",
    DictPop = "pop", DictSetDefault = "setdefault", DictUpdate = "update", DictClear = "clear",
    DictCopy = "copy", DictPopItem = "popitem",
    StrJoin = "join", StrSplit = "split", StrStartsWith = "startswith",
    StrEndsWith = "endswith", StrStrip = "strip", StrRStrip = "rstrip", StrLStrip = "lstrip",
    StrUpper = "upper", StrLower = "lower", StrReplace = "replace", StrFind = "find",
    StrFormat = "format", StrIsDigit = "isdigit", StrIsAlpha = "isalpha", StrEncode = "encode",
    StrCount = "count", StrIndex = "index", StrRFind = "rfind", StrRIndex = "rindex", StrIsSpace = "isspace", StrIsLower = "islower", StrIsUpper = "isupper", StrPartition = "partition", StrRPartition = "rpartition", StrRSplit = "rsplit", BytesDecode = "decode", TupleIndex = "index", TupleCount = "count",
    SetAdd = "add", SetDiscard = "discard", SetRemove = "remove",
    GenSend = "send", GenThrow = "throw", GenClose = "close", GenPendThrow = "pend_throw",
    ObjectInit = "__init__", ExcInit = "__init__",
    GcCollect = "collect", GcMemAlloc = "mem_alloc", GcMemFree = "mem_free",
    GcEnable = "enable", GcDisable = "disable", GcThreshold = "threshold",
    MpMemInfo = "mem_info", MpConst = "const", MpQstrInfo = "qstr_info",
    MpAllocEmerg = "alloc_emergency_exception_buf", MpKbdIntr = "kbd_intr",
    MpSchedule = "schedule", SysPrintException = "print_exception", SysExit = "exit",
    FreezeImportModules = "import_modules", FreezeClear = "clear", FreezeInfo = "info",
    TicksMs = "ticks_ms", TicksUs = "ticks_us", TicksAdd = "ticks_add",
    TicksDiff = "ticks_diff", Sleep = "sleep", SleepMs = "sleep_ms", SleepUs = "sleep_us",
    Time = "time", Deque = "deque", Poll = "poll", Socket = "socket",
    GetAddrInfo = "getaddrinfo", StringIO = "StringIO", BytesIO = "BytesIO",
    UtimeQ = "utimeq", HandleNoop = "noop", Super = "super", ListPopLeft = "popleft",
    UtqPush = "push", UtqPop = "pop", UtqPeekTime = "peektime", UtqRemove = "remove",
    PollRegister = "register", PollUnregister = "unregister", PollModify = "modify",
    PollIpoll = "ipoll", PollPoll = "poll", HandleClose = "close",
    Open = "open", OsListdir = "listdir", OsIlistdir = "ilistdir", OsStat = "stat",
    OsStatvfs = "statvfs", OsRemove = "remove", OsRmdir = "rmdir", OsMkdir = "mkdir",
    OsRename = "rename", OsGetcwd = "getcwd", OsChdir = "chdir", FileRead = "read",
    FileReadline = "readline", FileWrite = "write", FileSeek = "seek", FileTell = "tell",
    FileFlush = "flush", FileEnter = "__enter__", FileExit = "__exit__",
}

impl Native {
    /// The native with this id.
    pub fn from_id(id: u32) -> Option<Native> {
        ALL.get(id as usize).copied()
    }
}
