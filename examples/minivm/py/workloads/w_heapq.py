# Workload for micropython-heapq 0.9.3 (pure Python: heapify, push/pop, replace, pushpop,
# nlargest/nsmallest with keys, merge).
import heapq

data = [27, 3, 99, 14, 3, 58, 41, 0, 72, 16, 85, 9]
h = list(data)
heapq.heapify(h)
print("heapify root:", h[0], "len:", len(h))
heapq.heappush(h, -5)
heapq.heappush(h, 50)
print("pops:", [heapq.heappop(h) for _ in range(5)])
print("heapreplace:", heapq.heapreplace(h, 1), h[0])
print("heappushpop:", heapq.heappushpop(h, 100), heapq.heappushpop(h, -1))
print("drain:", [heapq.heappop(h) for _ in range(len(h))])
print("nlargest:", heapq.nlargest(3, data), heapq.nlargest(2, data, key=lambda v: -v))
# nsmallest() (and merge() below) let next() raise StopIteration inside a generator: a
# RuntimeError since PEP 479, which real MicroPython applies (the library predates it).
for args, kw in (((4, data), {}), ((2, ["ccc", "a", "bb"]), {"key": len})):
    try:
        print("nsmallest:", heapq.nsmallest(*args, **kw))
    except RuntimeError as e:
        print("nsmallest: RuntimeError", e)
try:
    # merge() also ends with `yield from next.__self__`: MicroPython's bound methods have no
    # __self__ (AttributeError), when PEP 479 has not stopped it first.
    print("merge:", list(heapq.merge([1, 4, 9], [2, 3, 10], [], [0, 11])))
except (RuntimeError, AttributeError) as e:
    print("merge:", type(e).__name__, e)
tasks = []
for prio, name in ((3, "low"), (1, "urgent"), (2, "normal"), (1, "also urgent")):
    heapq.heappush(tasks, (prio, name))
print("tuples:", [heapq.heappop(tasks) for _ in range(len(tasks))])
try:
    heapq.heappop([])
except IndexError as e:
    print("empty pop: IndexError", e)
print("workload done")
