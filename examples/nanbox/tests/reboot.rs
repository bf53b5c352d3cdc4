//! nanbox freezes, reboots (a fresh VM over the same simulated flash) and reads its frozen
//! objects through its normal value path.

use flashfreeze::sim::{SharedFlash, SimFlash};
use nanbox::value::{OBJ_AT, STR_AT, Value};
use nanbox::vm::{FLASH_BASE, FLASH_SIZE, Flash, Kind, Obj, RAM_BASE, Vm};

fn chip() -> Flash {
    SharedFlash::new(SimFlash::new(FLASH_SIZE))
}

/// `config`: a version (double), a count (int, in a mutable table), a tuple of names, the ROM
/// string `__name__` as a value.
fn config(vm: &mut Vm) -> Value {
    let name = vm.str("config");
    let names = {
        let (a, b) = (vm.str("alpha"), vm.str("beta"));
        vm.alloc(Obj::Tuple(vec![a, b, Value::int(-3)]))
    };
    let keys: Vec<Value> = ["version", "count", "names", "rom"]
        .iter()
        .map(|k| vm.str(k))
        .collect();
    let rom = vm.rom_str(0);
    let globals = vm.alloc(Obj::Table(vec![
        (keys[0], Value::double(2.5)),
        (keys[1], Value::int(0)),
        (keys[2], names),
        (keys[3], rom),
    ]));
    let module = vm.alloc(Obj::Module { name, globals });
    vm.modules.insert("config".into(), module);
    module
}

fn check_config(vm: &Vm) {
    let c = vm.import("config").expect("config imported");
    assert_eq!(vm.kind(c), Some(Kind::Module));
    assert_eq!(vm.get(c, "version").and_then(Value::as_double), Some(2.5));
    let names = vm.get(c, "names").unwrap();
    assert_eq!(vm.repr(names), r#"("alpha", "beta", -3)"#);
    assert_eq!(
        vm.get(c, "rom").and_then(|v| vm.as_str(v)).as_deref(),
        Some("__name__")
    );
}

#[test]
fn frozen_modules_read_back_after_a_reboot_through_the_normal_value_path() {
    let flash = chip();
    let mut vm = Vm::new(flash.clone());
    config(&mut vm);
    let stats = vm.freeze("config").unwrap();
    assert_eq!(
        stats,
        "froze 168 flash bytes, 72 ram bytes, 10 objects, 4 qstrs"
    );
    // The VM continues on the frozen copies at once: its module table points into flash.
    let c = vm.import("config").unwrap();
    assert_eq!(c.tag(), Some(OBJ_AT));
    assert!(c.address().unwrap() >= FLASH_BASE);
    check_config(&vm);
    drop(vm);

    let vm = Vm::boot(flash).unwrap();
    check_config(&vm);
    let c = vm.import("config").unwrap();
    // The frozen words are the VM's own NaN-boxed values: strings tagged STR_AT.
    let names = vm.get(c, "names").unwrap();
    assert_eq!(names.tag(), Some(OBJ_AT));
    let items = vm.items(names).unwrap();
    assert_eq!(items[0].tag(), Some(STR_AT));
    assert_eq!(items[2], Value::int(-3), "immediates are kept as they were");
    // Mutable tables are in the RAM section.
    let count_table = vm.get(c, "count");
    assert_eq!(count_table, Some(Value::int(0)));
}

#[test]
fn a_ram_section_table_changes_and_a_reboot_restores_its_initial_state() {
    let flash = chip();
    let mut vm = Vm::new(flash.clone());
    config(&mut vm);
    vm.freeze("config").unwrap();
    let c = vm.import("config").unwrap();
    vm.set(c, "count", Value::int(41)).unwrap();
    assert_eq!(vm.get(c, "count"), Some(Value::int(41)));
    assert_eq!(
        vm.set(c, "new_key", Value::NIL),
        Err("a frozen table keeps its keys")
    );
    let vm = Vm::boot(flash).unwrap();
    let c = vm.import("config").unwrap();
    assert_eq!(vm.get(c, "count"), Some(Value::int(0)));
    assert!(
        vm.ram.len() >= 72 && vm.ram[..8] != [0; 8],
        "the RAM section is restored at {RAM_BASE:#x}"
    );
}

#[test]
fn a_second_batch_refers_to_the_first_and_reached_modules_are_named() {
    let flash = chip();
    let mut vm = Vm::new(flash.clone());
    config(&mut vm);
    vm.freeze("config").unwrap();
    // `app` holds the frozen `config` and a heap module `util` that no one froze yet.
    let util = {
        let (name, k) = (vm.str("util"), vm.str("answer"));
        let g = vm.alloc(Obj::Table(vec![(k, Value::int(42))]));
        vm.alloc(Obj::Module { name, globals: g })
    };
    vm.modules.insert("util".into(), util);
    let config = vm.import("config").unwrap();
    let (name, k1, k2) = (vm.str("app"), vm.str("config"), vm.str("util"));
    let g = vm.alloc(Obj::Table(vec![(k1, config), (k2, util)]));
    let app = vm.alloc(Obj::Module { name, globals: g });
    vm.modules.insert("app".into(), app);
    vm.freeze("app").unwrap();
    // util was reached, so the image names it: found again after a reboot.
    let vm = Vm::boot(flash).unwrap();
    let util = vm.import("util").expect("util found by name");
    assert_eq!(vm.get(util, "answer"), Some(Value::int(42)));
    let app = vm.import("app").unwrap();
    let via_app = vm.get(app, "config").unwrap();
    assert_eq!(
        via_app,
        vm.import("config").unwrap(),
        "the earlier batch's object"
    );
    check_config(&vm);
}

#[test]
fn a_host_resource_is_refused_with_its_path_and_nothing_is_written() {
    let flash = chip();
    let mut vm = Vm::new(flash.clone());
    let module = config(&mut vm);
    let file = vm.alloc(Obj::Native(3));
    let Some(Obj::Module { globals, .. }) = vm.arena[module.heap_index().unwrap() as usize].clone()
    else {
        unreachable!()
    };
    let k = vm.str("log");
    if let Some(Some(Obj::Table(t))) = vm.arena.get_mut(globals.heap_index().unwrap() as usize) {
        t.push((k, file));
    }
    let e = vm.freeze("config").unwrap_err();
    assert_eq!(
        e,
        "store: cannot freeze config.log (native): a host resource (file or socket); nothing written"
    );
    assert!(flash.bytes().iter().all(|&b| b == 0xFF));
    assert_eq!(vm.import("config"), Some(module), "the VM is as it was");
}

#[test]
fn a_pointer_outside_the_static_ranges_is_refused_before_anything_is_written() {
    let flash = chip();
    let mut vm = Vm::new(flash.clone());
    let module = config(&mut vm);
    let Some(Obj::Module { globals, .. }) = vm.arena[module.heap_index().unwrap() as usize].clone()
    else {
        unreachable!()
    };
    let k = vm.str("wild");
    let wild = Value::at(OBJ_AT, 0x4000_0000_0000);
    if let Some(Some(Obj::Table(t))) = vm.arena.get_mut(globals.heap_index().unwrap() as usize) {
        t.push((k, wild));
    }
    let e = vm.freeze("config").unwrap_err();
    assert_eq!(
        e,
        "store: VM contract broken by unknown object at 0x400000000000 (config.wild): static object at 0x400000000000 lies outside every declared static range; nothing written"
    );
    assert!(flash.bytes().iter().all(|&b| b == 0xFF));
}
