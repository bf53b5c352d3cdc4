# Workload for microdot 2.7.0, exercised through microdot.test_client (no network), on the
# asyncio of the corpus (CircuitPython's port of MicroPython's asyncio).
import asyncio

from microdot import Microdot, Response, abort, redirect
from microdot.test_client import TestClient

app = Microdot()
items = {}


@app.before_request
async def count(request):
    request.g.seen = True


@app.route("/")
async def index(request):
    return "Hello, minivm!"


@app.get("/items/<int:item_id>")
async def get_item(request, item_id):
    if item_id not in items:
        abort(404)
    return {"id": item_id, "name": items[item_id]}


@app.post("/items")
async def add_item(request):
    data = request.json
    item_id = len(items) + 1
    items[item_id] = data["name"]
    return {"id": item_id}, 201, {"X-Created": str(item_id)}


@app.route("/echo/<path:rest>", methods=["GET", "PUT"])
async def echo(request, rest):
    return Response(
        body=request.method + " " + rest + " " + request.args.get("q", "-"),
        headers={"Content-Type": "text/plain"},
    )


@app.route("/form", methods=["POST"])
async def form(request):
    return "form: " + ",".join(sorted(k + "=" + request.form[k] for k in request.form))


@app.route("/old")
async def old(request):
    return redirect("/")


@app.route("/boom")
async def boom(request):
    raise RuntimeError("handler failed")


@app.errorhandler(404)
async def not_found(request):
    return {"error": "not found"}, 404


@app.after_request
async def stamp(request, response):
    response.headers["X-Seen"] = "yes" if request.g.seen else "no"
    return response


def show(label, res):
    ct = res.headers.get("Content-Type", "")
    body = res.json if res.json is not None else res.text
    print(label, res.status_code, ct, res.headers.get("X-Seen"), body)


async def main():
    client = TestClient(app)
    show("GET /", await client.get("/"))
    show("POST /items", await client.post("/items", body={"name": "lamp"}))
    res = await client.post("/items", body={"name": "desk"})
    show("POST /items", res)
    print("X-Created:", res.headers.get("X-Created"))
    show("GET /items/2", await client.get("/items/2"))
    show("GET /items/9", await client.get("/items/9"))
    show("GET /nowhere", await client.get("/nowhere"))
    show("GET /echo", await client.get("/echo/a/b/c?q=search%20term"))
    show("PUT /echo", await client.put("/echo/x", body="data"))
    show("DELETE /echo", await client.delete("/echo/x"))
    show(
        "POST /form",
        await client.post(
            "/form",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body="b=2&a=%C3%A9+x",
        ),
    )
    res = await client.get("/old")
    print("GET /old", res.status_code, res.headers.get("Location"))
    res = await client.get("/boom")
    print("GET /boom", res.status_code, res.text)


asyncio.run(main())
print("workload done")
