# Completes before its sibling fails.
VALUE = 7


def f():
    return VALUE * 6
