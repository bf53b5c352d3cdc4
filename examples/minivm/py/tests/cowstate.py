# Copy-on-write frozen containers (tests/freeze_cow.rs): module-level and class-level lists,
# dicts, sets and instances that freeze to flash and are copied into the heap on their first
# write, keeping their identity.


class Config:
    table = {"css": "text/css", "js": "application/javascript"}
    methods = ["GET", "HEAD"]


class Queue:
    def __init__(self):
        self.items = []
        self.count = 0

    def push(self, v):
        self.items.append(v)
        self.count += 1


table = Config.table
alias = table
flags = {1, 2}
queue = Queue()
shared = [queue, queue]
nested = {"inner": [1, 2]}


def state():
    return (sorted(table.items()), Config.methods, sorted(flags), queue.items, queue.count,
            nested)


def mutate():
    alias["png"] = "image/png"
    Config.methods.append("POST")
    flags.add(3)
    shared[1].push("job")
    nested["inner"].append(3)
    return state()
