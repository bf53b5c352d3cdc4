# Workload for micropython-umqtt.simple 1.3.4, no network: the client talks to our fake socket
# (fakenet), which records every packet it sends and replays the broker's answers.
import fakenet
from umqtt import simple

simple.socket = fakenet  # the module the client calls socket()/getaddrinfo() on


def take_sent(sock):
    data = bytes(sock.sent)
    sock.sent = bytearray()
    return fakenet.hexed(data)


received = []
c = simple.MQTTClient("minivm-1", "broker.invalid", keepalive=60, user="u", password="pw")
c.set_callback(lambda topic, msg: received.append((topic, msg)))
c.set_last_will(b"status/minivm", b"gone", retain=True, qos=1)
fakenet.incoming.append(b"\x20\x02\x00\x00")  # CONNACK, session not present, accepted
print("connect:", c.connect(), fakenet.made[-1].peer)
sock = fakenet.made[-1]
print("CONNECT:", take_sent(sock))

c.publish(b"sensors/temp", b"21.5")
print("PUBLISH qos0:", take_sent(sock))
c.publish(b"sensors/temp", b"x" * 130, retain=True)  # remaining length takes 2 bytes
print("PUBLISH long:", take_sent(sock)[:40])

sock.rx += b"\x40\x02\x00\x01"  # PUBACK for packet id 1
sock.rx += b""
c.publish(b"q1", b"hello", qos=1)
print("PUBLISH qos1:", take_sent(sock))

sock.rx += b"\x90\x03\x00\x02\x00"  # SUBACK for packet id 2, qos 0
c.subscribe(b"cmd/#")
print("SUBSCRIBE:", take_sent(sock))

# A message from the broker: PUBLISH qos 0, topic "cmd/led", payload "on".
sock.rx += b"\x30\x0b\x00\x07cmd/ledon"
print("wait_msg:", c.wait_msg(), received)
# PUBLISH qos 1 from the broker: the client must answer with PUBACK.
sock.rx += b"\x32\x0e\x00\x07cmd/fan\x00\x07off"
c.wait_msg()
print("qos1 in:", received[-1], "PUBACK:", take_sent(sock))
sock.rx += b"\xd0\x00"  # PINGRESP
c.ping()
print("PINGREQ:", take_sent(sock), "->", c.wait_msg())
print("check_msg, nothing pending:", c.check_msg())
c.disconnect()
print("DISCONNECT:", take_sent(sock), "closed:", sock.closed)

fakenet.incoming.append(b"\x20\x02\x00\x05")  # CONNACK: not authorized
try:
    simple.MQTTClient("x", "h").connect()
except simple.MQTTException as e:
    print("refused:", type(e).__name__, e.args)
print("workload done")
