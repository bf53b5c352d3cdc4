# Workload for adafruit-circuitpython-asyncio 3.1.1 (+ adafruit-circuitpython-ticks 1.1.7), a
# port of MicroPython's asyncio v3: run, create_task, await task (its result), gather, Event,
# Lock, wait_for with a timeout, cancel, sleep in float seconds and in ms.
# Delays are 50 ms apart or more, so the order is the same on a loaded machine.
import asyncio

log = []


async def ticker(name, n, delay):
    for i in range(n):
        log.append((name, i))
        await asyncio.sleep(delay)
    return name + " done"


async def compute(x):
    await asyncio.sleep_ms(50)
    return x * x


async def waiter(ev, name):
    log.append((name, "waiting"))
    await ev.wait()
    log.append((name, "woken"))
    return name


async def locked(lock, name, hold):
    async with lock:
        log.append((name, "has lock"))
        await asyncio.sleep_ms(hold)
        log.append((name, "releases"))


async def forever():
    try:
        while True:
            await asyncio.sleep_ms(60)
    except asyncio.CancelledError:
        log.append(("forever", "cancelled"))
        raise


async def nap(secs):
    await asyncio.sleep(secs)


async def fails():
    await asyncio.sleep_ms(10)
    raise ValueError("task failed")


async def main():
    t = asyncio.create_task(ticker("a", 3, 0.075))
    r = await ticker("b", 2, 0.1)
    log.append(("main got", r, await t))
    log.append(("gather", await asyncio.gather(compute(2), compute(3), compute(4))))
    log.append(("gather exc", await asyncio.gather(compute(5), fails(), return_exceptions=True)))
    ev = asyncio.Event()
    w1 = asyncio.create_task(waiter(ev, "w1"))
    w2 = asyncio.create_task(waiter(ev, "w2"))
    await asyncio.sleep_ms(50)
    log.append(("event set", ev.is_set()))
    ev.set()
    log.append(("waiters", await w1, await w2, ev.is_set()))
    lock = asyncio.Lock()
    await asyncio.gather(locked(lock, "L1", 50), locked(lock, "L2", 50))
    log.append(("lock free", lock.locked()))
    try:
        await asyncio.wait_for(nap(1), 0.1)
    except asyncio.TimeoutError:
        log.append(("wait_for", "timeout"))
    log.append(("wait_for ok", await asyncio.wait_for(compute(6), 1)))
    f = asyncio.create_task(forever())
    await asyncio.sleep_ms(100)
    f.cancel()
    try:
        await f
    except asyncio.CancelledError:
        log.append(("awaited cancelled task", "CancelledError"))
    try:
        await fails()
    except ValueError as e:
        log.append(("direct", str(e)))
    return "main result"


print("run:", asyncio.run(main()))
for entry in log:
    print(entry)
print("ticks:", asyncio.core.ticks_diff(asyncio.core.ticks_add(100, 50), 100))
print("workload done")
