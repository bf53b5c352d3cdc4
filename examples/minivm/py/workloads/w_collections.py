# Workload for micropython-collections 0.1.3: the package that re-exports the builtin
# ucollections (namedtuple, OrderedDict, deque) and adds the Mapping/MutableMapping ABC names.
import collections

Pair = collections.namedtuple("Pair", "key value")
p = Pair("k", 2)
print("namedtuple:", p, p.key, p.value, p[1], tuple(p))

od = collections.OrderedDict()
for word in ("delta", "alpha", "charlie", "bravo"):
    od[word] = len(word)
print("OrderedDict:", list(od.items()))
od.pop("alpha")
od["alpha"] = 0
print("OrderedDict re-added:", list(od.keys()))

dq = collections.deque((), 3)
for i in range(5):
    dq.append(i)
print("deque:", [dq.popleft() for _ in range(len(dq))])

print("ABCs:", collections.Mapping.__name__, collections.MutableMapping.__name__)


class Registry(collections.MutableMapping):
    def __init__(self):
        self.items = {}

    def __setitem__(self, k, v):
        self.items[k] = v

    def __getitem__(self, k):
        return self.items[k]


r = Registry()
r["x"] = 1
print("MutableMapping subclass:", r["x"], isinstance(r, collections.Mapping))
print("defaultdict present:", hasattr(collections, "defaultdict"))
print("workload done")
