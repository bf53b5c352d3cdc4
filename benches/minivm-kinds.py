#!/usr/bin/env python3
"""Break a minivm flash file's frozen image down by object kind (used by minivm-density.sh).

    minivm-kinds.py FLASH_FILE          a Markdown table: kind, objects, bytes, share
    minivm-kinds.py --total FLASH_FILE  bytes of all batches up to their commit records

Reads the image format of docs/image-format.md (header, object map) and minivm's object header
word (low byte = kind, plus 0x40 for a compact frozen layout; see examples/minivm/src/obj.rs). It also reports the unused part of the
dicts' hash tables (capacity - 2 * len words: the room a sorted, exact-size frozen dict would
save), of the qstr pools (capacity - used entries), and the bytes of flash objects that are
byte-identical to another one (what deduplication would save in one round).
"""

import struct
import sys

KINDS = {
    1: "None", 2: "Bool", 3: "Ellipsis", 4: "Str", 5: "Bytes", 6: "Tuple", 7: "List",
    8: "Dict", 9: "Set", 10: "Func", 11: "Closure", 12: "RawCode", 13: "Context",
    14: "Module", 15: "Class", 16: "Instance", 17: "Cell", 18: "BoundMeth", 19: "Generator",
    20: "Iter", 21: "Range", 22: "Slice", 23: "Builtin", 24: "Array", 25: "QstrPool",
    26: "StaticMeth", 27: "ClassMeth", 28: "Property", 29: "Handle", 30: "ConstArray",
}
# Frozen objects in a compact layout (no hash word, packed qstr pool) have this bit in the kind.
COMPACT = 0x40
HEADER_LEN = 144
SECTOR = 4096


def name(byte):
    if byte in KINDS:
        return KINDS[byte]
    if byte & COMPACT and byte & ~COMPACT in KINDS:
        return KINDS[byte & ~COMPACT] + " (compact)"
    return f"kind {byte:#x}"


def leb(buf, at):
    value = shift = 0
    while True:
        b = buf[at]
        at += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, at


def batches(data):
    """Yield (batch offset, header dict) for each batch of the chain."""
    start = data.find(b"FFZB")
    while start >= 0 and data[start:start + 4] == b"FFZB":
        h = data[start:start + HEADER_LEN]
        sec = lambda o: struct.unpack_from("<II", h, o)  # noqa: E731
        hdr = {
            "flash_objects": struct.unpack_from("<I", h, 20)[0],
            "ram_objects": struct.unpack_from("<I", h, 24)[0],
            "flash_base": struct.unpack_from("<Q", h, 32)[0],
            "ram_base": struct.unpack_from("<Q", h, 40)[0],
            "flash": sec(48), "ram": sec(56), "roots": sec(64),
            "pointer_map": sec(72), "object_map": sec(80),
            "commit": struct.unpack_from("<I", h, 88)[0],
            "span": struct.unpack_from("<I", h, 92)[0],
        }
        yield start, hdr
        if hdr["span"] == 0:
            return
        start += hdr["span"]


def objects(data, start, hdr):
    """Yield (section name, absolute address, bytes) of each object of a batch."""
    om_off, om_len = hdr["object_map"]
    at, end = start + om_off, start + om_off + om_len
    for name, count, base in (("flash", hdr["flash_objects"], hdr["flash_base"]),
                              ("ram", hdr["ram_objects"], hdr["ram_base"])):
        sec_off = start + hdr[name][0]
        pos = 0
        for _ in range(count):
            v, at = leb(data, at)
            size, has_pad = v >> 1, v & 1
            if has_pad:
                pad, at = leb(data, at)
                pos += pad
            yield name, base + pos, data[sec_off + pos:sec_off + pos + size]
            pos += size
    assert at <= end


def main():
    args = sys.argv[1:]
    total = args[:1] == ["--total"]
    data = open(args[-1], "rb").read()
    if total:
        print(sum(h["object_map"][0] + h["object_map"][1] + 16 for _, h in batches(data)))
        return
    by_addr = {}
    same = {}
    rows = {}
    meta = 0
    for start, hdr in batches(data):
        meta += HEADER_LEN + hdr["roots"][1] + hdr["pointer_map"][1] + hdr["object_map"][1] + 16
        for section, addr, obj in objects(data, start, hdr):
            by_addr[addr] = obj
            if section == "flash":
                same[obj] = same.get(obj, 0) + 1
            kind = name(obj[0]) + (" (RAM)" if section == "ram" else "")
            n, b = rows.get(kind, (0, 0))
            rows[kind] = (n + 1, b + len(obj))
    # Unused words of qstr pools (header capacity minus used entries, word 3).
    pool_slack = 0
    for obj in by_addr.values():
        if obj[0] == 25 and len(obj) >= 16:
            cap = struct.unpack_from("<I", obj, 0)[0] >> 8
            used = struct.unpack_from("<I", obj, 12)[0] >> 1
            pool_slack += 4 * max(cap - used, 0)
    # Unused hash-table words of dicts: table capacity minus 2 words per entry.
    slack = 0
    for obj in by_addr.values():
        if obj[0] == 8 and len(obj) >= 12:
            length = struct.unpack_from("<I", obj, 4)[0] >> 1
            table = by_addr.get(struct.unpack_from("<I", obj, 8)[0])
            if table is not None:
                cap = struct.unpack_from("<I", table, 0)[0] >> 8
                slack += 4 * max(cap - 2 * length, 0)
    all_bytes = sum(b for _, b in rows.values())
    print("| kind | objects | bytes | share |")
    print("|---|---|---|---|")
    for kind, (n, b) in sorted(rows.items(), key=lambda kv: -kv[1][1]):
        print(f"| {kind} | {n} | {b} | {100 * b / all_bytes:.1f} % |")
    print(f"| **all objects** | {sum(n for n, _ in rows.values())} | {all_bytes} | |")
    print(f"| image metadata (headers, roots, pointer and object maps, commits) | | {meta} | "
          f"{100 * meta / all_bytes:.1f} % of the objects |")
    print(f"| of the objects: unused dict hash-table words | | {slack} | "
          f"{100 * slack / all_bytes:.1f} % |")
    print(f"| of the objects: unused qstr-pool entries | | {pool_slack} | "
          f"{100 * pool_slack / all_bytes:.1f} % |")
    # Flash objects with identical bytes (so identical references too): one copy would do.
    dup = sum((n - 1) * len(obj) for obj, n in same.items() if n > 1)
    print(f"| of the objects: byte-identical flash duplicates | | {dup} | "
          f"{100 * dup / all_bytes:.1f} % |")


main()
