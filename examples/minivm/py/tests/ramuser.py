# A second freeze batch referring to RAM-section objects frozen by tests.ramstate
# (tests/freeze.rs).
from tests.ramstate import holder, items

refs = [holder, items]


def same():
    import tests.ramstate as r

    return refs[0] is r.holder and refs[1] is r.items
