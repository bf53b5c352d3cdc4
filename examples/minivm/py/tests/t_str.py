# Oracle test: str is UTF-8 storage indexed, sliced, measured and iterated by code point, as in
# MicroPython; and the common str methods.
# Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


# Note: MicroPython pads (center, %5s, {:>5}) by UTF-8 bytes, not by code points.
CAFE = "café"
MIX = "aé€😀z"  # 1-, 2-, 3- and 4-byte UTF-8 sequences
GREEK = "αβγδε"

# --- code points, not bytes -----------------------------------------------------------------
t("len", lambda: [len(""), len("é"), len(CAFE), len(MIX), len(GREEK), len("😀")])
t("utf-8 bytes", lambda: [len(CAFE.encode()), len(MIX.encode()), MIX.encode()])
t("index", lambda: [CAFE[3], CAFE[-1], MIX[1], MIX[2], MIX[3], MIX[4], MIX[-2]])
t("index out", lambda: CAFE[4])
t("index neg out", lambda: MIX[-6])
t("index type", lambda: CAFE["1"])
t("slice", lambda: [CAFE[1:], CAFE[:3], CAFE[2:4], MIX[1:4], MIX[-3:], MIX[:-1], CAFE[:]])
t("slice bounds", lambda: [GREEK[10:], GREEK[-10:2], GREEK[3:1], GREEK[2:2], MIX[-1:], MIX[4:99]])
t("slice step 2", lambda: GREEK[::2])  # unicode str: only step 1 (NotImplementedError)
t("slice step -1", lambda: MIX[::-1])
t("slice step ascii", lambda: "abcdef"[::2])
t("iter", lambda: [c for c in MIX])
t("iter enumerate", lambda: list(enumerate(CAFE)))
t("list tuple", lambda: [list(GREEK), tuple("é€")])
t("ord chr", lambda: [ord("é"), ord("€"), ord("😀"), chr(233), chr(0x20AC), chr(0x1F600), chr(65)])
t("ord of 2", lambda: ord("ab"))
t("chr range", lambda: chr(0x110000))
t("in", lambda: ["é" in CAFE, "fé" in CAFE, "😀z" in MIX, "x" in MIX, "" in MIX])
t("find", lambda: [CAFE.find("é"), MIX.find("€"), MIX.find("z"), MIX.rfind("a"), MIX.find("😀", 2), MIX.find("q")])
t("index method", lambda: [MIX.index("😀"), GREEK.index("δ"), GREEK.rindex("α")])
t("index missing", lambda: GREEK.index("ω"))
t("count", lambda: ["ééé".count("é"), MIX.count("€"), ("ab" * 5).count("ba"), "aaaa".count("aa")])
t("split", lambda: ["α,β,,γ".split(","), "é é  é".split(), "a€b€c".split("€", 1), "a€b€c".rsplit("€", 1)])
t("partition", lambda: ["key=välue".partition("="), "a€b€c".rpartition("€"), "abc".partition("x")])
t("replace", lambda: [CAFE.replace("é", "e"), MIX.replace("€", "EUR"), "ééé".replace("é", "e", 2)])
t("upper lower", lambda: [CAFE.upper(), "ÉCOLE".lower(), "abc".upper(), "MiXeD".lower()])
t("strip", lambda: ["  é  ".strip(), "xxéxx".strip("x"), "\t\n a \r".strip(), "é..".rstrip("."), "..é".lstrip(".")])
t("starts ends", lambda: [CAFE.startswith("ca"), CAFE.endswith("é"), MIX.startswith("é", 1), MIX.endswith(("q", "z"))])
t("join", lambda: ["-".join(["é", "€", "😀"]), "".join(reversed(GREEK)), "€".join("abc")])
t("center", lambda: [CAFE.center(8), "é".center(4), GREEK.center(3), "ab".center(5)])
t("center fill", lambda: CAFE.center(8, "*"))
t("ljust", lambda: CAFE.ljust(6))
t("concat repeat", lambda: [CAFE + MIX, "é" * 3, 2 * "€", len(CAFE * 3)])
t("compare", lambda: ["é" > "e", "α" < "β", CAFE == "caf" + "é", sorted(["é", "e", "z", "€", "a"])])
t("is*", lambda: ["123".isdigit(), "abc".isalpha(), "  ".isspace(), "ABC".isupper(), "abc".islower(), "a1".isdigit()])
t("is* empty", lambda: ["".isdigit(), "".isalpha(), "".isspace(), "".isupper()])
t("splitlines", lambda: ["a\nb\r\nc\n".splitlines(), "α\nβ".splitlines(True), "".splitlines()])
t("encode decode", lambda: [CAFE.encode("utf-8"), b"caf\xc3\xa9".decode(), str(b"\xe2\x82\xac", "utf-8"), bytes(CAFE, "utf8")])
t("decode bad", lambda: b"\xff\xfe".decode())
t("str(bytes)", lambda: [str(b"ab\xff"), str(b"caf\xc3\xa9")])
t("repr", lambda: [repr(CAFE), repr("a'b"), repr('a"b'), repr("a'\"b"), repr("\n\t\r\x00\x7f"), repr("\\")])
t("repr unicode", lambda: [repr(MIX), repr("\u00e9\u2603"), repr("\x80\x9f")])
t("print", lambda: print(CAFE, MIX, GREEK))
t("escapes", lambda: ["\u00e9" == "é", "\U0001F600" == "😀", "\x41", "\101"])
t("% format", lambda: ["%s|%5s|%-5s|" % (CAFE, "é", "€"), "%r" % "é", "%.2s" % GREEK, "%c" % 65, "%c" % "a"])
t("%c multibyte", lambda: "%c" % "€")
t("format", lambda: ["{}-{}".format("é", 1), "{:>5}".format("€"), "{:*^7}".format("αβ"), "{0}{1}{0}".format("a", "é")])
t("format field", lambda: ["{x}{y}".format(x="é", y=2), "{!r}".format("é"), "{:.2}".format(GREEK)])
t("format errors", lambda: "{".format(1))
t("format index", lambda: "{1}".format(1))
t("str()", lambda: [str(), str(12), str(None), str([1, "é"]), str((CAFE,))])
t("hash-free set", lambda: sorted(set(CAFE + CAFE)))
t("dict keys", lambda: sorted({"é": 1, "€": 2, "e": 3}.items()))
t("str + int", lambda: "a" + 1)
t("str * str", lambda: "a" * "b")

def _assign():
    s = "abc"
    s[0] = "x"
    return s


t("str item assign", _assign)
t("no attr", lambda: CAFE.nosuch)
t("int(str)", lambda: [int("12"), int(" -7 "), int("+3")])
t("long", lambda: [len("é" * 1000), ("€" * 500)[499], ("ab€" * 300)[-2:], ("😀" * 100).count("😀")])
t("slice of long", lambda: ("aé€😀" * 50)[101:106])
t("methods chain", lambda: " Héllo, Wörld ".strip().lower().replace("ö", "o").split(", "))
t("startswith tuple", lambda: ["été".startswith(("é", "a")), "été".endswith("té", 0, 3)])
