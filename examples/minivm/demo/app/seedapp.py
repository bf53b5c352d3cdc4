# The seed demo's application (ours): a small web app on microdot 2.7.0 and CircuitPython's
# asyncio, both fetched at run time. Requests go through microdot's test client (no network).
# `hits` and `notes` are mutable module state: frozen, they live in the RAM section and start
# again from their frozen value after every reboot.
import asyncio

from microdot import Microdot
from microdot.test_client import TestClient

app = Microdot()
hits = {"/": 0}
notes = ["frozen at boot"]


@app.route("/")
async def index(request):
    hits["/"] += 1
    return "hello from minivm, visit " + str(hits["/"])


@app.get("/notes")
async def get_notes(request):
    return {"notes": notes}


@app.post("/notes")
async def add_note(request):
    notes.append(request.json["text"])
    return {"count": len(notes)}, 201


@app.get("/notes/<int:i>")
async def get_note(request, i):
    if i >= len(notes):
        return {"error": "no note " + str(i)}, 404
    return {"note": notes[i]}


def get(path):
    """GET `path`: (status, body)."""
    return asyncio.run(_call("get", path, None))


def post(path, body):
    """POST `body` (a dict, sent as JSON) to `path`: (status, body)."""
    return asyncio.run(_call("post", path, body))


async def _call(method, path, body):
    client = TestClient(app)
    if body is None:
        res = await getattr(client, method)(path)
    else:
        res = await getattr(client, method)(path, body=body)
    return res.status_code, res.json if res.json is not None else res.text
