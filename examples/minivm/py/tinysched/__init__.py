# tinysched: a tiny cooperative scheduler and integer calculator, written for minivm's demos.
#
# Importing the package imports every submodule (errors, calc, core, jobs) through relative
# imports, so "import tinysched" costs heap in proportion to all of them; freezing moves that
# cost to flash. selftest() returns comparable results of every demo.

from .errors import *
from .core import Scheduler, Channel, Task, sleep, put, get, every
from . import calc
from .calc import Env, parse, evaluate
from . import jobs

VERSION = (0, 3, 1)
NAME = "tinysched"


def calculate(text, base=None):
    env = Env()
    if base is not None:
        env.bind("base", base)
    return calc.run(text, env)


def selftest_basic():
    """The demos that need no generators."""
    return (calc.selftest(), jobs.demo_steps(), calculate("base * 2 + 1", base=20))


def selftest():
    """Every demo; identical before freezing, after freezing and after a reboot."""
    return (
        VERSION,
        selftest_basic(),
        jobs.demo_pipeline(),
        jobs.demo_calc_tasks(),
        jobs.demo_errors(),
    )
