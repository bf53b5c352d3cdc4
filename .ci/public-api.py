#!/usr/bin/env python3
"""The public API of flashfreeze as a sorted listing, from rustdoc's JSON output.

Usage: public-api.py target/doc/flashfreeze.json > tests/api/public-api.txt

One line per public item, at every path a user can name it by: modules, types with their
public fields and variants, traits with their items, functions and inherent methods with their
signatures, constants, and the trait impls of each type (the impls' names only). Items of the
`unstable` module are listed too, under `unstable`, so changes to them show as well. CI
regenerates it and fails on a difference: an API change shows up in review.
"""
import json
import sys

d = json.load(open(sys.argv[1]))
idx = d["index"]
paths = d["paths"]


def item(i):
    return idx.get(str(i))


def ty(t):
    """Render a rustdoc JSON type."""
    if t is None:
        return "_"
    (k, v), = t.items()
    if k == "primitive" or k == "generic":
        return v
    if k == "resolved_path":
        return v["path"].split("::")[-1] + args(v.get("args"))
    if k == "borrowed_ref":
        lt = (v["lifetime"] + " ") if v["lifetime"] else ""
        return "&" + lt + ("mut " if v["is_mutable"] else "") + ty(v["type"])
    if k == "slice":
        return "[" + ty(v) + "]"
    if k == "array":
        return "[" + ty(v["type"]) + "; " + v["len"] + "]"
    if k == "tuple":
        return "(" + ", ".join(ty(x) for x in v) + ")"
    if k == "raw_pointer":
        return "*" + ("mut " if v["is_mutable"] else "const ") + ty(v["type"])
    if k == "qualified_path":
        return ty(v["self_type"]) + "::" + v["name"]
    if k == "impl_trait":
        return "impl " + " + ".join(bound(b) for b in v)
    if k == "dyn_trait":
        parts = [tr["trait"]["path"].split("::")[-1] + args(tr["trait"].get("args")) for tr in v["traits"]]
        if v.get("lifetime"):
            parts.append(v["lifetime"])
        return "dyn " + " + ".join(parts)
    if k == "function_pointer":
        return "fn(" + ", ".join(ty(x[1]) for x in v["sig"]["inputs"]) + ")" + out(v["sig"]["output"])
    return k


def args(a):
    if not a:
        return ""
    if "angle_bracketed" in a:
        parts = []
        for x in a["angle_bracketed"]["args"]:
            (k, v), = x.items()
            parts.append(v if k == "lifetime" else ty(v) if k == "type" else str(v))
        for c in a["angle_bracketed"].get("constraints", []):
            b = c["binding"]
            parts.append(c["name"] + (" = " + ty(b["equality"]["type"]) if "equality" in b else ": " + " + ".join(bound(x) for x in b["constraint"])))
        return "<" + ", ".join(parts) + ">" if parts else ""
    if "parenthesized" in a:
        p = a["parenthesized"]
        return "(" + ", ".join(ty(x) for x in p["inputs"]) + ")" + out(p.get("output"))
    return ""


def out(o):
    return " -> " + ty(o) if o else ""


def bound(b):
    if "trait_bound" in b:
        tb = b["trait_bound"]
        return ("?" if tb.get("modifier") == "maybe" else "") + tb["trait"]["path"].split("::")[-1] + args(tb["trait"].get("args"))
    if "outlives" in b:
        return b["outlives"]
    return "?"


def generics(g):
    ps = []
    for p in g["params"]:
        k = p["kind"]
        if "lifetime" in k:
            ps.append(p["name"])
        elif "type" in k:
            if k["type"].get("is_synthetic"):
                continue
            bs = k["type"]["bounds"]
            ps.append(p["name"] + (": " + " + ".join(bound(b) for b in bs) if bs else ""))
        elif "const" in k:
            ps.append("const " + p["name"] + ": " + ty(k["const"]["type"]))
    return "<" + ", ".join(ps) + ">" if ps else ""


def where(g):
    ws = []
    for w in g.get("where_predicates", []):
        if "bound_predicate" in w:
            bp = w["bound_predicate"]
            ws.append(ty(bp["type"]) + ": " + " + ".join(bound(b) for b in bp["bounds"]))
    return " where " + ", ".join(ws) if ws else ""


def fn_sig(name, f):
    ins = []
    for n, t in f["sig"]["inputs"]:
        if n == "self":
            ins.append({"&Self": "&self", "&mut Self": "&mut self", "Self": "self"}.get(ty(t), "self: " + ty(t)))
        else:
            ins.append(n + ": " + ty(t))
    h = f.get("header", {})
    pre = ("const " if h.get("is_const") else "") + ("async " if h.get("is_async") else "") + ("unsafe " if h.get("is_unsafe") else "")
    return pre + "fn " + name + generics(f["generics"]) + "(" + ", ".join(ins) + ")" + out(f["sig"]["output"]) + where(f["generics"])


lines = set()
seen = set()


def emit(s):
    lines.add(s)


def attrs(it):
    a = it.get("attrs", [])
    return "#[non_exhaustive] " if any("non_exhaustive" in str(x) for x in a) else ""


counted = {}  # item id -> (kind, under unstable)


def walk(i, prefix, real=None):
    it = item(i)
    real = i if real is None else real
    if it is None or it.get("visibility") != "public" and prefix:
        return
    inner = it["inner"]
    kind = next(iter(inner))
    name = it.get("name")
    if kind == "use":
        u = inner["use"]
        target = item(u["id"]) if u["id"] is not None else None
        if target is None:
            emit(f"pub use {prefix}::{u['name']} = {u['source']}")
            return
        if u["is_glob"]:
            for j in target["inner"]["module"]["items"]:
                walk(j, prefix)
            return
        # A re-export: list the item under this path too (renamed if so).
        it2 = dict(target)
        it2["name"] = u["name"]
        it2["visibility"] = "public"
        key = (prefix, u["name"], u["id"])
        if key in seen:
            return
        seen.add(key)
        idx["_tmp"] = it2
        walk("_tmp", prefix, u["id"])
        return
    path = f"{prefix}::{name}" if prefix else name
    if kind in ("module", "function", "struct", "enum", "union", "trait", "constant", "static", "type_alias", "macro"):
        unstable = "::unstable" in path
        old = counted.get(real)
        counted[real] = (kind, unstable and (old is None or old[1]))
    if kind == "module":
        emit(f"pub mod {path}")
        for j in inner["module"]["items"]:
            walk(j, path)
    elif kind == "function":
        emit(f"pub {fn_sig(path, inner['function'])}")
    elif kind in ("struct", "enum", "union"):
        s = inner[kind]
        emit(f"{attrs(it)}pub {kind} {path}{generics(s['generics'])}")
        if kind == "struct":
            k = s["kind"]
            fields = k.get("plain", {}).get("fields", []) if isinstance(k, dict) else []
            fields += k.get("tuple", []) if isinstance(k, dict) and "tuple" in k else []
            for n, f in enumerate(fields):
                fi = item(f) if f is not None else None
                if fi and fi.get("visibility") == "public":
                    emit(f"pub {path}::{fi['name'] or n}: {ty(fi['inner']['struct_field'])}")
        else:
            for v in s["variants"]:
                vi = item(v)
                vk = vi["inner"]["variant"]["kind"]
                if vk == "plain":
                    emit(f"pub {path}::{vi['name']}")
                elif "tuple" in vk:
                    emit(f"pub {path}::{vi['name']}(" + ", ".join(ty(item(x)['inner']['struct_field']) for x in vk["tuple"] if x is not None) + ")")
                else:
                    emit(f"pub {path}::{vi['name']} {{ " + ", ".join(item(x)["name"] + ": " + ty(item(x)["inner"]["struct_field"]) for x in vk["struct"]["fields"]) + " }")
        for imp in s["impls"]:
            ii = item(imp)
            if ii is None:
                continue
            im = ii["inner"]["impl"]
            if im.get("is_synthetic") or im.get("blanket_impl"):
                continue
            if im["trait"] is None:
                for m in im["items"]:
                    mi = item(m)
                    if mi and mi.get("visibility") == "public" and "function" in mi["inner"]:
                        emit(f"pub {fn_sig(path + '::' + mi['name'], mi['inner']['function'])}")
                    elif mi and mi.get("visibility") == "public" and "assoc_const" in mi["inner"]:
                        emit(f"pub const {path}::{mi['name']}: {ty(mi['inner']['assoc_const']['type'])}")
            else:
                tr = im["trait"]["path"].split("::")[-1] + args(im["trait"].get("args"))
                emit(f"impl{generics(im['generics'])} {tr} for {path}{where(im['generics'])}")
    elif kind == "trait":
        t = inner["trait"]
        emit(f"pub trait {path}{generics(t['generics'])}" + (": " + " + ".join(bound(b) for b in t["bounds"]) if t["bounds"] else ""))
        for m in t["items"]:
            mi = item(m)
            mk = next(iter(mi["inner"]))
            if mk == "function":
                emit(f"pub {fn_sig(path + '::' + mi['name'], mi['inner']['function'])}")
            elif mk == "assoc_const":
                emit(f"pub const {path}::{mi['name']}: {ty(mi['inner']['assoc_const']['type'])}")
            elif mk == "assoc_type":
                emit(f"pub type {path}::{mi['name']}")
    elif kind == "constant":
        emit(f"pub const {path}: {ty(inner['constant']['type'])}")
    elif kind == "static":
        emit(f"pub static {path}: {ty(inner['static']['type'])}")
    elif kind == "type_alias":
        emit(f"pub type {path} = {ty(inner['type_alias']['type'])}")
    elif kind == "macro":
        emit(f"macro {path}")


walk(d["root"], "")
if "--count" in sys.argv:
    stable = [k for k, u in counted.values() if not u]
    print(f"{len(stable)} public items outside `unstable` ({len(counted)} with it):",
          ", ".join(f"{stable.count(k)} {k}" for k in sorted(set(stable))))
else:
    for l in sorted(lines):
        print(l)
