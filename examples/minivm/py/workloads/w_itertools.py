# Workload for micropython-itertools 0.3 (pure Python generators).
import itertools

print("count:", list(itertools.islice(itertools.count(5, 3), 4)))
print("cycle:", list(itertools.islice(itertools.cycle("ab"), 5)))
print("cycle iter:", list(itertools.islice(itertools.cycle(x for x in (1, 2)), 5)))
print("repeat:", list(itertools.repeat("x", 3)), list(itertools.islice(itertools.repeat(0), 2)))
print("chain:", list(itertools.chain([1, 2], (3,), "ab")))
print("islice:", list(itertools.islice(range(20), 2, 12, 3)), list(itertools.islice("abcdef", 3)))
print("tee:", [list(t) for t in itertools.tee([1, 2], 2)])
print("starmap:", list(itertools.starmap(pow, [(2, 3), (3, 2), (10, 0)])))
print("accumulate:", list(itertools.accumulate([1, 2, 3, 4])), list(itertools.accumulate([3, 1, 4], max)))
print("accumulate empty:", list(itertools.accumulate([])))
values = iter([5, 6, 0, 7])
it = itertools.iter(lambda: next(values), 0)
print("iter sentinel:", [next(it), next(it)])
try:
    next(it)
except StopIteration:
    print("iter sentinel: stops at the sentinel")
try:
    # The library's _iter has __next__ but no __iter__: real MicroPython refuses list() on it.
    list(itertools.iter(lambda: 1, 1))
except TypeError as e:
    print("iter sentinel list():", type(e).__name__, e)
print("iter one arg:", list(itertools.iter([9, 8])))
print("workload done")
