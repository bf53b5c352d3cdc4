//! Iterators: `[hdr sub-kind|ITER][seq][index][extra]`, one kind for the iterators over
//! sequences, ranges, strs, dicts, and for `enumerate`, `zip`, `map` and `reversed` (sub-kinds
//! in `obj::iter_kind`). Plain data: frozen to the RAM section.

use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::*;
use crate::slots::{Freeze, NativeType, TypeSlots};
use crate::vm::{R, Vm};

/// The `iterator` type.
pub struct Iter;

impl<F: FlashImage> NativeType<F> for Iter {
    const TYPE: TypeSlots<F> = TypeSlots {
        freeze: Freeze::Ram,
        getiter: Some(getiter),
        iternext: Some(iternext),
        ..TypeSlots::new(Kind::ITER, "iterator")
    };
}

/// A new iterator of sub-kind `sub` over `seq`, from index 0.
pub fn new<F: FlashImage>(vm: &mut Vm<F>, sub: u32, seq: Value) -> R<Value> {
    vm.alloc_obj(Kind::ITER, sub, &[seq, Value::small(0), Value::NULL])
}

/// An iterator is its own iterator.
pub fn getiter<F: FlashImage>(_vm: &mut Vm<F>, it: Value) -> R<Value> {
    Ok(it)
}

fn iternext<F: FlashImage>(vm: &mut Vm<F>, it: Value) -> R<Option<Value>> {
    let seq = vm.wv(it, 1);
    let idx = vm.wv(it, 2);
    match vm.aux(it) {
        iter_kind::RANGE => {
            let (stop, step) = (vm.wv(seq, 2).as_int(), vm.wv(seq, 3).as_int());
            let i = idx.as_int();
            if (step > 0 && i >= stop) || (step < 0 && i <= stop) || step == 0 {
                return Ok(None);
            }
            vm.set_w(it, 2, Value::small(i + step).0)?;
            Ok(Some(idx))
        }
        iter_kind::STR => {
            let b = vm.str_bytes(seq).unwrap_or(b"");
            let i = idx.as_int() as usize;
            if i >= b.len() {
                return Ok(None);
            }
            // One UTF-8 character.
            let mut j = i + 1;
            while j < b.len() && b[j] & 0xC0 == 0x80 {
                j += 1;
            }
            let ch = b[i..j].to_vec();
            vm.set_w(it, 2, Value::small(j as i32).0)?;
            Ok(Some(vm.new_str(&ch)?))
        }
        iter_kind::SEQ => {
            let i = idx.as_int() as u32;
            match vm.kind(seq) {
                Some(Kind::DICT | Kind::SET) => {
                    if i >= vm.dict_len(seq) {
                        return Ok(None);
                    }
                    vm.set_w(it, 2, Value::small(i as i32 + 1).0)?;
                    Ok(Some(vm.dict_entry(seq, i).0))
                }
                Some(Kind::BYTES) => {
                    let b = vm.str_obj_bytes(seq).unwrap_or(b"");
                    if i as usize >= b.len() {
                        return Ok(None);
                    }
                    let x = b[i as usize];
                    vm.set_w(it, 2, Value::small(i as i32 + 1).0)?;
                    Ok(Some(Value::small(x as i32)))
                }
                Some(Kind::INSTANCE) => {
                    vm.set_w(it, 2, Value::small(i as i32 + 1).0)?;
                    match vm.subscr(seq, Value::small(i as i32)) {
                        Ok(v) => Ok(Some(v)),
                        Err(t) => {
                            let e = vm.exc;
                            if vm.exception_match(e, Value(vm.exc_class("IndexError"))) {
                                vm.exc = Value::NULL;
                                Ok(None)
                            } else {
                                Err(t)
                            }
                        }
                    }
                }
                _ => {
                    let (a, n) = vm.seq_items(seq).unwrap_or((0, 0));
                    if i >= n {
                        return Ok(None);
                    }
                    vm.set_w(it, 2, Value::small(i as i32 + 1).0)?;
                    Ok(Some(Value(vm.mem.read_u32(a + 4 * i))))
                }
            }
        }
        iter_kind::REVERSED => {
            let i = idx.as_int();
            if i <= 0 {
                return Ok(None);
            }
            vm.set_w(it, 2, Value::small(i - 1).0)?;
            Ok(Some(vm.subscr(seq, Value::small(i - 1))?))
        }
        iter_kind::DICT_ITEMS | iter_kind::DICT_VALUES => {
            let i = idx.as_int() as u32;
            if i >= vm.dict_len(seq) {
                return Ok(None);
            }
            vm.set_w(it, 2, Value::small(i as i32 + 1).0)?;
            let (k, v) = vm.dict_entry(seq, i);
            if vm.aux(it) == iter_kind::DICT_VALUES {
                Ok(Some(v))
            } else {
                Ok(Some(vm.new_tuple(&[k, v])?))
            }
        }
        iter_kind::ENUMERATE => match vm.iter_next(seq)? {
            Some(x) => {
                vm.set_w(it, 2, Value::small(idx.as_int() + 1).0)?;
                Ok(Some(vm.new_tuple(&[idx, x])?))
            }
            None => Ok(None),
        },
        iter_kind::ZIP => {
            let items = vm.seq_vec(seq).unwrap_or_default();
            let mut out = Vec::new();
            for i in items {
                match vm.iter_next(i)? {
                    Some(x) => out.push(x),
                    None => return Ok(None),
                }
            }
            Ok(Some(vm.new_tuple(&out)?))
        }
        iter_kind::MAP => {
            let f = vm.wv(it, 3);
            match vm.iter_next(seq)? {
                Some(x) => Ok(Some(vm.call(f, &[x], &[])?)),
                None => Ok(None),
            }
        }
        _ => Ok(None),
    }
}
