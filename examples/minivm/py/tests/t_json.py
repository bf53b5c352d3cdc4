# Oracle test: json (dumps, loads, dump, load), as web and MQTT libraries use it (microdot,
# urequests). Run by tools/difftest: minivm must print exactly what the real MicroPython prints.
# Each check prints `name: repr(result)`, or `name: ! ExcType message` if it raised.
import io
import json
from collections import OrderedDict


def t(name, f):
    try:
        r = f()
    except Exception as e:
        print(name + ": !", type(e).__name__, e)
    else:
        print(name + ":", repr(r))


t("d1", lambda: json.dumps({'a': 1}))
t("d2", lambda: json.dumps([1, 2.5, "x\n\"\\\t\x01é", None, True, False, (1, 2), []]))
t("d3", lambda: json.dumps({'a': [1, {'b': None}]}))
t("dsep", lambda: json.dumps([1, {'a': 2}], separators=(',', ':')))
t("dsep2", lambda: json.dumps({'a': 2}, separators=('; ', '= ')))
t("dkey int", lambda: json.dumps({1: 2}))
t("dset", lambda: json.dumps({1}))
t("dbytes", lambda: json.dumps(b'ab'))
t("dfloat", lambda: json.dumps([1e100, 0.1, float('inf'), float('nan'), -0.0, 1/3]))
t("dbig", lambda: json.dumps(2**70))
t("dstr", lambda: json.dumps("\u1234\U0001F600"))
t("dkw", lambda: json.dumps(1, indent=2))
t("l1", lambda: json.loads('{"a": [1, 2.5, -3e2, "x\\n\\u00e9\\"", null, true, false]}'))
t("l2", lambda: json.loads(' [ ] '))
t("lbad", lambda: json.loads('[1,'))
t("lbad2", lambda: json.loads('{1:2}'))
t("lbad3", lambda: json.loads(''))
t("lbad4", lambda: json.loads('[1] x'))
t("lbad5", lambda: json.loads('tru'))
t("lbytes", lambda: json.loads(b'[1]'))
t("lint", lambda: json.loads(5))
t("lbig", lambda: json.loads('123456789012345678901234'))
t("lfl", lambda: json.loads('[1.5, 1e3, 1E-2, -0, 0.0]'))
t("lsurr", lambda: json.loads('"\\ud83d\\ude00"'))
t("lesc", lambda: json.loads('"\\/\\b\\f\\r\\t"'))
t("lbadesc", lambda: json.loads('"\\q"'))
t("lctrl", lambda: json.loads('"a\nb"'))
t("lnested", lambda: json.loads('{"a":{"b":{"c":[[]]}}}'))
t("lnan", lambda: json.loads('NaN'))
t("lleading", lambda: json.loads('01'))
t("lplus", lambda: json.loads('+1'))
t("ldot", lambda: json.loads('1.'))
t("ldup", lambda: json.loads('{"a":1,"a":2}'))
t("ltrail", lambda: json.loads('[1,]'))
t("ltrail2", lambda: json.loads('{"a":1,}'))
t("lunterm", lambda: json.loads('"abc'))
t("lws", lambda: json.loads('\t\n\r [1 , 2]\n'))
s = io.StringIO()
t("dump", lambda: json.dump({'x': [1]}, s))
t("dumpv", lambda: s.getvalue())
t("dumpsep", lambda: json.dump([1, 2], s, separators=(',', ':')))
t("dumpv2", lambda: s.getvalue())
t("load", lambda: json.load(io.StringIO('{"k": "v"}')))
t("loadB", lambda: json.load(io.BytesIO(b'[1, 2]')))
t("load2", lambda: json.load(io.StringIO('[1] [2]')))
t("dir", lambda: sorted(dir(json)))
t("name", lambda: json.__name__)
t("dnested_tuple_key", lambda: json.dumps({(1,2): 3}))
t("dstrkey", lambda: json.dumps({'a': 1, 'b': 2}))
t("dlong", lambda: json.dumps(list(range(20))))
t("dmv", lambda: json.dumps(bytearray(b'a')))
t("lkw", lambda: json.loads('1', strict=False))
t("dnotstrsep", lambda: json.dumps(1, separators=1))
t("dsep3", lambda: json.dumps([1], separators=(',',)))
t("lnumsp", lambda: json.loads('1 2'))
t("lexp", lambda: json.loads('1e'))
t("lminus", lambda: json.loads('-'))
t("lu", lambda: json.loads('"\\u12"'))
t("lemptyobj", lambda: json.loads('{}'))
t("lobj_ws", lambda: json.loads('{ "a" : 1 , "b" : [ ] }'))
t("od", lambda: json.dumps(OrderedDict([('b', 1), ('a', 2)])))
t("set", lambda: json.dumps({'a'}))
t("int-", lambda: int('-'))
for s in ['-', '1-2', '--1', '1e5e', '.5', '-.5', '1.5.5', '1+', '-x', '1x', '12e', '0x10', '-0.0', '1e400', '[1 2]', '{"a" 1}', '[,1]', '[1}', '{"a":[}', '{[1]:2}', ']', '[', '[]]', '"\\u00zz"', '"\\u0041"', '"\\x"', ' \x0b1', '1\x0b', '\x0b1', 'null ', 'nul', 'nullx', '{"a":}', '{"a"}', '{"a":1 "b":2}']:
    t('l ' + repr(s), lambda: json.loads(s))
t("ctrl", lambda: json.dumps('\x00\x1f\x7f\x08\x0c'))
t("bytes hi", lambda: json.dumps(b'a"\\\n'))
t("strsub", lambda: json.dumps([1, 'a'], separators=(1, 2)))
t("sepint", lambda: json.dumps({'a': [1, 2]}, separators=(' , ', ' : ')))
t("nested tuple", lambda: json.dumps(((1,), [()])))
t("dict bytes key", lambda: json.dumps({b'k': 1}))
t("dict none key", lambda: json.dumps({None: 1}))
t("dict float key", lambda: json.dumps({1.5: 1}))
t("bool", lambda: json.dumps([True, 1 == 1]))
t("dumps noarg", lambda: json.dumps())
t("dumps two", lambda: json.dumps(1, 2))
t("dump nostream", lambda: json.dump(1, 5))
t("load nostream", lambda: json.load(5))
class S:
    def __init__(self): self.buf = []
    def write(self, s): self.buf.append(s); return len(s)
    def read(self, n=-1): return '[1]'
s2 = S()
t("dump pyobj", lambda: json.dump([1, 'a'], s2))
t("dump pyobj buf", lambda: s2.buf)
t("load pyobj", lambda: json.load(s2))
class R:
    def __repr__(self): return 'R!'
    def __str__(self): return 'S!'
t("instrepr", lambda: json.dumps([R()]))
t("roundtrip", lambda: json.loads(json.dumps({"k": [1, -2, 3.25, "é\n", None, True, {"n": []}]})))
t("ujson", lambda: __import__("ujson").dumps([1]))
