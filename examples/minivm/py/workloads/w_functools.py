# Workload for micropython-functools 0.0.7: partial, reduce, wraps, update_wrapper.
import functools


def power(base, exp, mod=None):
    r = base**exp
    return r % mod if mod else r


square = functools.partial(power, exp=2)
cube_mod = functools.partial(power, exp=3, mod=10)
print("partial:", square(7), square(base=9), cube_mod(4), functools.partial(power, 2)(10))
print("partial kw override:", square(3, exp=4))
print("reduce:", functools.reduce(lambda a, b: a * b, range(1, 8)))
print("reduce init:", functools.reduce(lambda acc, s: acc + len(s), ["ab", "cde", ""], 100))
print("reduce strings:", functools.reduce(lambda a, b: b + a, "abc"))
try:
    functools.reduce(lambda a, b: a, [])
except StopIteration:
    print("reduce empty: StopIteration")


def logged(f):
    @functools.wraps(f)
    def inner(*args):
        return ("logged", f(*args))

    return inner


@logged
def add(a, b):
    return a + b


print("wraps:", add(2, 3))
w = functools.update_wrapper(lambda: "wrapper", add)
print("update_wrapper:", w())
print("workload done")
