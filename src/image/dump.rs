//! Readable dumps of a validated image: a text layout (for snapshot tests and users) and a
//! Graphviz DOT export of the frozen graph.
//!
//! Kind names are not stored in the image (a kind byte per object would cost about 2 % of the
//! image for a diagnostic); the VM names an object from its frozen bytes instead (e.g. from its
//! type pointer), through the `kind` callback. [`no_kinds`] names every object `object`.
//!
//! ```text
//! image: batches 1, objects 3, flash bytes 36, ram bytes 12; erased from 0x1000
//! batch 0 at +0x0, span 4096: flash 0x10002090+36 (2 objects), ram 0x20030000+12 (1 objects), …
//!   root module "mymod" = 0x100020a0
//!   flash 0x10002090   12 B  immutable
//!   flash 0x100020a0   24 B  immutable  [+8 → 0x10002090, +12 → ram 0x20030000, +16 → static 0x10000]
//!   ram   0x20030000   12 B  mutable  [+8 → 0x100020a0]
//! ```

use alloc::collections::BTreeSet;
use alloc::string::String;
use core::fmt::Write;

use super::read::{Image, ImageObject};
use crate::model::Placement;
use crate::plan::RootKind;

/// A kind callback that knows no kinds.
pub fn no_kinds(_: &ImageObject<'_>) -> &'static str {
    "object"
}

/// Where an address points, relative to the image.
fn describe(image: &Image<'_>, addr: u64) -> &'static str {
    for b in image.batches() {
        if b.flash_range().contains(&addr) {
            return "";
        }
        if b.ram_range().contains(&addr) {
            return "ram ";
        }
    }
    "static "
}

/// The text layout of `image`: summary, then per batch its sections, roots and objects with
/// kind, address, size and references (`+offset → target`).
pub fn layout(image: &Image<'_>, kind: &dyn Fn(&ImageObject<'_>) -> &'static str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "image: {}", super::read::summary(image));
    for b in image.batches() {
        let h = b.header_ref();
        let (nf, nr) = b.object_counts();
        let _ = writeln!(
            s,
            "batch {} at +{:#x}, span {}: flash {:#x}+{} ({nf} objects), ram {:#x}+{} ({nr} objects), roots {} B, pointer map {} B, object map {} B, start bitmap {} B",
            b.index(),
            b.offset(),
            h.span.get(),
            h.flash_base.get(),
            h.flash.len.get(),
            h.ram_base.get(),
            h.ram.len.get(),
            h.roots_table.len.get(),
            h.pointer_map.len.get(),
            h.object_map.len.get(),
            h.start_bitmap().map_or(0, |b| b.len.get()),
        );
        for r in b.roots() {
            let _ = writeln!(
                s,
                "  root {} {:?} = {:#x}",
                root_kind(r.kind.0),
                r.name,
                r.address
            );
        }
        for o in b.objects() {
            let place = match o.placement {
                Placement::Flash => "flash",
                Placement::Ram => "ram  ",
            };
            let _ = write!(
                s,
                "  {place} {:#x} {:>5} B  {}",
                o.address,
                o.bytes.len(),
                kind(&o)
            );
            if !o.refs.is_empty() {
                s.push_str("  [");
                for (i, (off, to)) in o.refs.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    let _ = write!(s, "{sep}+{off} → {}{to:#x}", describe(image, *to));
                }
                s.push(']');
            }
            s.push('\n');
        }
    }
    s
}

fn root_kind(kind: u16) -> String {
    match RootKind(kind) {
        RootKind::MODULE => "module".into(),
        RootKind::QSTR_POOL => "qstr-pool".into(),
        RootKind::OTHER => "other".into(),
        RootKind::REMOVED => "removed".into(),
        RootKind::SOURCE => "source".into(),
        RootKind(k) => alloc::format!("kind{k}"),
    }
}

/// The frozen graph in Graphviz DOT: flash objects blue, RAM-section objects orange, static
/// targets grey ellipses, roots as plain labels; edges labelled with the slot offset.
pub fn dot(image: &Image<'_>, kind: &dyn Fn(&ImageObject<'_>) -> &'static str) -> String {
    let mut s = String::from(
        "digraph frozen {\n  rankdir=LR;\n  node [shape=box, style=filled, fontname=\"monospace\"];\n",
    );
    let mut statics = BTreeSet::new();
    let mut edges = String::new();
    for b in image.batches() {
        let _ = writeln!(
            s,
            "  subgraph cluster_batch{} {{\n    label=\"batch {}\";",
            b.index(),
            b.index()
        );
        for o in b.objects() {
            let colour = match o.placement {
                Placement::Flash => "lightblue",
                Placement::Ram => "orange",
            };
            let _ = writeln!(
                s,
                "    n{:x} [label=\"{}\\n{:#x}\\n{} B\", fillcolor={colour}];",
                o.address,
                kind(&o),
                o.address,
                o.bytes.len()
            );
            for (off, to) in &o.refs {
                if describe(image, *to) == "static " {
                    statics.insert(*to);
                }
                let _ = writeln!(edges, "  n{:x} -> n{to:x} [label=\"+{off}\"];", o.address);
            }
        }
        s.push_str("  }\n");
        for (i, r) in b.roots().enumerate() {
            let _ = writeln!(
                s,
                "  root{}_{i} [shape=plaintext, style=\"\", label=\"{} {}\"];\n  root{}_{i} -> n{:x};",
                b.index(),
                root_kind(r.kind.0),
                r.name.escape_default(),
                b.index(),
                r.address
            );
        }
    }
    for addr in statics {
        let _ = writeln!(
            s,
            "  n{addr:x} [shape=ellipse, fillcolor=grey, label=\"static\\n{addr:#x}\"];"
        );
    }
    s.push_str(&edges);
    s.push_str("}\n");
    s
}
