//! The image, inspected (the host's `minivm inspect`): its batches, the live modules with their
//! batch, size, source and staleness, the figures of `freeze.info()`, the layout dump and the
//! DOT graph of the library's `image::dump`. An image this firmware refuses (another firmware
//! id or format version) is reported with the reason and the modules it names.

use alloc::format;
use alloc::string::String;
use core::fmt::Write;

use flashfreeze::image::{Image, ImageObject, ReadConfig, dump, summary};
use flashfreeze::store::records;

use crate::freeze::{ENCODING, FreezeFlash, firmware_id, layout, statics_ranges};
use crate::vm::Vm;

/// What [`report`] prints besides the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Show {
    /// The layout dump (every object, its section, kind and size).
    pub layout: bool,
    /// The DOT graph of the objects and their references.
    pub dot: bool,
}

/// The report of `vm`'s image (mounted at boot, freezer attached, sources given).
pub fn report<F: FreezeFlash>(vm: &mut Vm<F>, show: Show) -> String {
    let mut out = String::new();
    let fw = firmware_id(vm);
    let statics = statics_ranges(vm);
    let cfg = ReadConfig::new(layout(fw.as_bytes()), ENCODING).with_statics(&statics);
    let _ = writeln!(out, "firmware id: {fw}");
    let refused = match Image::open(vm.mem.flash.image(), &cfg) {
        Ok(image) if image.batches().is_empty() => {
            let _ = writeln!(out, "image: empty ({})", image.tail());
            return out;
        }
        Ok(_) => None,
        Err(e) => Some(format!("{e}")),
    };
    if let Some(e) = refused {
        let _ = writeln!(out, "image: refused: {e}");
        let r = records::refused_modules(vm.mem.flash.image());
        let _ = writeln!(out, "modules it names (freeze.refreeze() re-freezes them):");
        for m in r.modules {
            let path = m
                .source
                .map_or(String::from("(no source record)"), |s| s.path);
            let _ = writeln!(out, "  {:16} batch {:3}  {path}", m.name, m.batch);
        }
        return out;
    }
    let mods = vm.freezer.take().map(|mut fz| {
        let m = fz.modules(vm);
        let i = fz.info(vm);
        vm.freezer = Some(fz);
        (m, i)
    });
    if let Some((m, i)) = mods {
        match m {
            Ok(list) => {
                let _ = writeln!(out, "modules:");
                for (name, batch, flash, ram) in list {
                    let stale = match vm.frozen_is_stale(&name) {
                        Some(true) => "stale",
                        Some(false) => "current",
                        None => "no source record",
                    };
                    let path = vm
                        .lifecycle
                        .sources
                        .iter()
                        .find(|s| s.name() == name)
                        .map_or("", |s| s.path());
                    let _ = writeln!(
                        out,
                        "  {name:16} batch {batch:3}  {flash:7} flash bytes {ram:6} ram bytes  {stale:8} {path}"
                    );
                }
            }
            Err(e) => {
                let _ = writeln!(out, "modules: {e}");
            }
        }
        match i {
            Ok(figures) => {
                let _ = writeln!(out, "info:");
                for (k, v) in figures {
                    let _ = writeln!(out, "  {k:16} {v}");
                }
            }
            Err(e) => {
                let _ = writeln!(out, "info: {e}");
            }
        }
    }
    let Ok(image) = Image::open(vm.mem.flash.image(), &cfg) else {
        return out;
    };
    let _ = writeln!(out, "batches:");
    for b in image.batches() {
        let (f, r) = b.object_counts();
        let roots: alloc::vec::Vec<String> = b
            .roots()
            .map(|r| match r.kind {
                flashfreeze::RootKind::SOURCE => format!(
                    "source {}",
                    records::parse_source(r.name).map_or(r.name, |(m, _, _)| m)
                ),
                flashfreeze::RootKind::REMOVED => format!("removed {}", r.name),
                flashfreeze::RootKind::QSTR_POOL => String::from("qstrs"),
                _ => String::from(r.name),
            })
            .collect();
        let _ = writeln!(
            out,
            "  batch {:3} at {:#07x}: {:6} bytes of region, {:6} flash, {:5} ram, {f}+{r} objects; roots: {}",
            b.index(),
            b.offset(),
            b.info().span,
            b.flash_section().len(),
            b.ram_section().len(),
            roots.join(", ")
        );
    }
    let _ = writeln!(out, "{}", summary(&image));
    let kind = |o: &ImageObject<'_>| -> &'static str {
        let hdr = o
            .bytes
            .get(..4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        vm.header_slots(hdr).map_or("?", |t| t.stats_name)
    };
    if show.layout {
        out.push_str(&dump::layout(&image, &kind));
    }
    if show.dot {
        out.push_str(&dump::dot(&image, &kind));
    }
    out
}
