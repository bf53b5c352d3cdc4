# tinysched.errors: the exception hierarchy, rooted at a subclass of the native Exception.
#
# The classes keep their data in the native args tuple instead of overriding __init__: a
# subclass of a native exception cannot call Exception.__init__ explicitly in MicroPython
# (only through super(), which minivm's demos avoid).


class SchedError(Exception):
    """Base class of every tinysched error; args[0] is the message."""

    def message(self):
        if len(self.args) == 0:
            return ""
        return str(self.args[0])

    def describe(self):
        return self.message()


class TaskError(SchedError):
    """A task raised: TaskError(task_name, original_exception)."""

    def task(self):
        return self.args[0]

    def cause(self):
        return self.args[1]

    def describe(self):
        cause = self.cause()
        return "task " + self.task() + " failed: " + type(cause).__name__ + ": " + str(cause)


class ParseError(SchedError):
    """The calculator could not read its input: ParseError(message[, offset])."""

    def pos(self):
        if len(self.args) < 2:
            return -1
        return self.args[1]

    def describe(self):
        if self.pos() < 0:
            return "parse error: " + self.message()
        return "parse error at " + str(self.pos()) + ": " + self.message()


class EvalError(SchedError):
    """The calculator could not evaluate a well-formed expression."""


class Cancelled(SchedError):
    """Thrown into a task that was cancelled."""


__all__ = ("SchedError", "TaskError", "ParseError", "EvalError", "Cancelled")
