# Module globals rebound by the module's own code (`global`), used after freezing.
hits = 0
_cache = None


def bump():
    global hits
    hits += 1
    return hits


def cache():
    global _cache
    if _cache is None:
        _cache = [hits]
    return _cache
