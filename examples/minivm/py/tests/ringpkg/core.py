# Imports task, which imports this module back while this body is half-way.
from .task import Task

NAME = "core"


class Loop:
    def __init__(self):
        self.queue = []

    def run(self):
        out = []
        while self.queue:
            out.append(self.queue.pop(0).step())
        return tuple(out)


def schedule(loop, name):
    loop.queue.append(Task(name))
