# Workload for micropython-urequests 0.9.1, no network: requests go to our fake socket module
# (fakenet), which serves canned HTTP responses and records the requests.
import fakenet
import urequests

urequests.usocket = fakenet  # the module urequests calls getaddrinfo()/socket() on


def serve(*lines, body=b""):
    data = b""
    for line in lines:
        data += line + b"\r\n"
    fakenet.incoming.append(data + b"\r\n" + body)


def request_of(sock):
    return bytes(sock.sent).decode().replace("\r\n", "|")


serve(b"HTTP/1.0 200 OK", b"Content-Type: text/plain", b"X-Count: 3", body=b"hello, world")
r = urequests.get("http://example.invalid/index.html")
print("GET:", r.status_code, r.reason, sorted(r.headers.items()))
print("text:", r.text, "| content again:", r.content)
print("request:", request_of(fakenet.made[-1]))
print("peer:", fakenet.made[-1].peer, "closed:", fakenet.made[-1].closed)

serve(b"HTTP/1.1 201 Created", b"Content-Type: application/json", body=b'{"id": 7, "ok": true, "tags": ["a", "b"]}')
r = urequests.post("http://api.invalid:8080/items", json={"name": "lamp"}, headers={"X-Token": "t0k"})
j = r.json()
print("POST json:", r.status_code, r.reason, j["id"], j["ok"], j["tags"])
print("request:", request_of(fakenet.made[-1]))

serve(b"HTTP/1.0 302 Found", b"Location: http://example.invalid/moved")
serve(b"HTTP/1.0 200 OK", body=b"moved here")
r = urequests.get("http://example.invalid/old")
print("redirect:", r.status_code, r.text, len(fakenet.made))

serve(b"HTTP/1.0 404 Not Found", body=b"")
r = urequests.put("http://example.invalid/x", data=b"raw-bytes")
print("PUT:", r.status_code, r.reason, repr(r.content))
print("request:", request_of(fakenet.made[-1]))

serve(b"HTTP/1.0 204 No Content")
r = urequests.delete("http://example.invalid/x", parse_headers=False)
print("DELETE:", r.status_code, hasattr(r, "headers"))
r.close()

try:
    urequests.get("ftp://example.invalid/")
except ValueError as e:
    print("bad scheme:", e)
print("workload done")
