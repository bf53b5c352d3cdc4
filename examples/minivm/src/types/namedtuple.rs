//! Namedtuple classes (`collections.namedtuple(name, fields)`) and their instances.
//!
//! A namedtuple class is a Python class deriving from `tuple`, marked in its header:
//!
//! ```text
//! class     [hdr NAMEDTUPLE|NATIVE_BASE|CLASS][name][bases (tuple,)][namespace {'_fields': (names…)}]
//! instance  [hdr|INSTANCE][class][null][fields tuple]
//! ```
//!
//! The instance is a tuple to every tuple operation (through its native object, see
//! `instance`), its fields are attributes, read-only (`AttributeError: can't set
//! attribute`), and it prints as `P(x=1, y=2)`. A class deriving from a namedtuple class gets
//! a namedtuple instance as its instances' native object, as in MicroPython (where the
//! namedtuple class is a native type).
//!
//! Frozen: the class and its namespace go to flash like any class; an instance goes to flash
//! too (it never changes: it takes no attributes). Like the reference build (the WebAssembly
//! port), there is no `_asdict`.

use alloc::string::String;
use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::*;
use crate::slots::PrintKind;
use crate::vm::{R, Vm};

/// A new namedtuple class `name` (a qstr) with fields `fields` (qstrs).
pub fn new_class<F: FlashImage>(vm: &mut Vm<F>, name: Value, fields: &[Value]) -> R<Value> {
    let t = vm.new_tuple(fields)?;
    let ns = vm.new_namespace(1)?;
    let fq = vm.q("_fields");
    vm.dict_store(ns, fq, t)?;
    let tuple = Value(vm.st.types[Kind::TUPLE.id() as usize]);
    let bases = vm.new_tuple(&[tuple])?;
    let flags = class_flags::NAMEDTUPLE | class_flags::NATIVE_BASE;
    vm.alloc_obj(Kind::CLASS, flags, &[name, bases, ns])
}

/// Is `v` an instance of a namedtuple class?
pub fn is_instance<F: FlashImage>(vm: &Vm<F>, v: Value) -> bool {
    vm.kind(v) == Some(Kind::INSTANCE) && of_class(vm, v)
}

/// Is instance `v`'s class a namedtuple class (`v` known to be an instance: its class word
/// is a class)?
#[inline]
pub fn of_class<F: FlashImage>(vm: &Vm<F>, v: Value) -> bool {
    vm.aux(Value(vm.w(v, 1))) & class_flags::NAMEDTUPLE != 0
}

/// The field names of namedtuple class `c`: its namespace's first entry, `_fields` (found
/// by position, as every attribute load of a namedtuple asks; by name if it was moved).
fn fields<F: FlashImage>(vm: &mut Vm<F>, c: Value) -> Vec<Value> {
    let ns = vm.wv(c, 3);
    let t = match vm.dict_len(ns) {
        0 => Value::NULL,
        _ => match vm.dict_entry(ns, 0) {
            (k, t) if vm.is_name(k, "_fields") => t,
            _ => {
                let fq = vm.q("_fields");
                vm.dict_get_q(ns, fq).unwrap_or(Value::NULL)
            }
        },
    };
    vm.seq_vec(t).unwrap_or_default()
}

/// The fields' tuple of an instance of namedtuple class `c`, from `c(*args, **kw)`: every
/// field given once, positionally or by name, as MicroPython's `namedtuple_make_new`.
pub fn make<F: FlashImage>(vm: &mut Vm<F>, c: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    let names = fields(vm, c);
    let n_kw = kw.len() / 2;
    if args.len() + n_kw != names.len() {
        let n = vm.class_name(c.0);
        let msg = alloc::format!(
            "{n}() takes {} positional arguments but {} were given",
            names.len(),
            args.len() + n_kw
        );
        return vm.raise_msg("TypeError", &msg);
    }
    let mut items = args.to_vec();
    items.resize(names.len(), Value::NULL);
    for p in kw.chunks(2) {
        let (k, v) = (p[0], arg(p, 1));
        let Some(i) = names
            .iter()
            .position(|f| vm.str_bytes(*f) == vm.str_bytes(k))
        else {
            let n = vm.str_string(k);
            let msg = alloc::format!("unexpected keyword argument '{n}'");
            return vm.raise_msg("TypeError", &msg);
        };
        if !items[i].is_null() {
            let n = vm.str_string(k);
            let msg = alloc::format!("function got multiple values for argument '{n}'");
            return vm.raise_msg("TypeError", &msg);
        }
        items[i] = v;
    }
    vm.new_tuple(&items)
}

/// Field `name` of namedtuple instance `v`, if it has one.
pub fn field<F: FlashImage>(vm: &mut Vm<F>, v: Value, name: Value) -> Option<Value> {
    let names = fields(vm, Value(vm.w(v, 1)));
    let i = names.iter().position(|f| *f == name)?;
    let items = vm.seq_vec(vm.inst_native(v))?;
    items.get(i).copied()
}

/// `P(x=1, y=2)`: the class name, then each field with its value's `repr`.
pub fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, depth: u32) -> R<()> {
    let c = Value(vm.w(v, 1));
    let names = fields(vm, c);
    let items = vm.seq_vec(vm.inst_native(v)).unwrap_or_default();
    s.push_str(&vm.class_name(c.0));
    s.push('(');
    for (i, (f, x)) in names.iter().zip(items).enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&vm.str_string(*f));
        s.push('=');
        vm.print_into(x, s, depth + 1, PrintKind::Repr)?;
    }
    s.push(')');
    Ok(())
}

/// A firmware-static attribute tuple (MicroPython's `attrtuple`: `sys.implementation`,
/// `os.uname()`): an instance of a nameless namedtuple class with `fields`, printed
/// `(name=…, …)`. Laid out at boot only.
pub fn static_attrtuple<F: FlashImage>(vm: &mut Vm<F>, fields: &[&str], values: &[Value]) -> Value {
    let names: Vec<Value> = fields.iter().map(|n| vm.q(n)).collect();
    let fields = vm.static_tuple(&names);
    let fq = vm.q("_fields");
    let ns = vm.static_dict(&[(fq, fields)]);
    let tuple = Value(vm.st.types[Kind::TUPLE.id() as usize]);
    let bases = vm.static_tuple(&[tuple]);
    let flags = class_flags::NAMEDTUPLE | class_flags::NATIVE_BASE;
    let class = vm.static_words(&[header(Kind::CLASS, flags), Value::qstr(1).0, bases.0, ns.0]);
    let values = vm.static_tuple(values);
    vm.static_words(&[header(Kind::INSTANCE, 0), class.0, 0, values.0])
}
