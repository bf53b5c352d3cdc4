# Raises half-way through its body (after making objects and using a finished sibling).
from . import good

TABLE = [good.f(), 2, 3]
raise ValueError("bad module, half-way")
