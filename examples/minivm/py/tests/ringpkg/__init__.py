# Freeze as you import: a package whose submodules refer to modules still being imported.
# core imports task, and task does `from . import core` while core's body runs (asyncio's
# shape); plugin appends to this package's registry while this __init__ runs, and this
# __init__ appends after it; leaf refers to nothing still running. tests/freeze_import.rs
# checks which batch each module lands in, and that everything reads the same after a reboot.
registry = ["init"]

from .core import Loop, schedule
from . import plugin

registry.append("after plugin")

from . import leaf

VERSION = (1, 2)


def summary():
    loop = Loop()
    schedule(loop, "a")
    schedule(loop, "b")
    return (tuple(registry), loop.run(), leaf.double(21), plugin.NAME, plugin.seen())
