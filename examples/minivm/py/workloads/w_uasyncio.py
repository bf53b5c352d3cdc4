# Workload for micropython-uasyncio 3.1.1 + uasyncio.core 2.3 (the uasyncio v2 API): tasks with
# sleeps (ms and float seconds), call_soon / call_later callbacks, wait_for timeouts, cancel.
# Delays are 50 ms apart or more, so the order is the same on a loaded machine.
# Run by tools/corpus on minivm and on the oracle; it prints everything it checks.
import uasyncio as asyncio

log = []


async def ticker(name, n, delay_ms):
    for i in range(n):
        log.append((name, i))
        await asyncio.sleep_ms(delay_ms)
    return name


async def seconds(name, secs):
    log.append((name, "start"))
    await asyncio.sleep(secs)
    log.append((name, "end"))


async def slow():
    await asyncio.sleep_ms(400)
    return "slow done"


async def forever():
    try:
        while True:
            await asyncio.sleep_ms(60)
            log.append(("forever", "tick"))
    except asyncio.CancelledError:
        log.append(("forever", "cancelled"))
        raise


def callback(*args):
    log.append(("callback",) + args)


async def main():
    loop = asyncio.get_event_loop()
    loop.call_soon(callback, "soon")
    loop.call_later_ms(125, callback, "later")
    r = await ticker("b", 2, 100)
    log.append(("main got", r))
    try:
        await asyncio.wait_for_ms(slow(), 75)
        log.append(("wait_for", "no timeout"))
    except asyncio.TimeoutError:
        log.append(("wait_for", "timed out"))
    f = forever()
    loop.create_task(f)
    await asyncio.sleep_ms(150)
    asyncio.cancel(f)
    await asyncio.sleep_ms(50)
    log.append(("main", "done"))


loop = asyncio.get_event_loop()
loop.create_task(ticker("a", 3, 75))
loop.create_task(seconds("s", 0.05))
loop.run_until_complete(main())
for entry in log:
    print(entry)
print("type_gen:", asyncio.type_gen.__name__)
print("SleepMs reused:", asyncio.sleep_ms is asyncio.sleep_ms)
print("workload done")
