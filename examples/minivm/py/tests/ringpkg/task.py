# `from . import core` while core's body is half-way: a module still being imported.
from . import core


class Task:
    def __init__(self, name):
        self.name = name

    def step(self):
        return core.NAME + ":" + self.name
