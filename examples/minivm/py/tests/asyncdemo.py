# Runs a few coroutines on micropython-uasyncio (fetched at run time, see tools/fetch-uasyncio).
import uasyncio as asyncio

log = []


async def worker(name, n, delay):
    for i in range(n):
        log.append((name, i))
        await asyncio.sleep_ms(delay)
    return name


async def main():
    r = await worker("b", 2, 15)
    log.append(("main got", r))


def run():
    log.clear()
    loop = asyncio.get_event_loop()
    loop.create_task(worker("a", 3, 10))
    loop.run_until_complete(main())
    return list(log)
