#!/usr/bin/env python3
"""A loopback DNS server for tests: answers every A query for NAME with 127.0.0.1 and every other
query (AAAA, other names) with an empty NOERROR/NXDOMAIN reply, over UDP on ADDRESS:53. Each query
is printed as one line "QTYPE NAME" (flushed), so a test can see that the resolver asked.

    dns-stub.py ADDRESS NAME        (e.g. 127.53.0.1 studiostore; binding port 53 needs root)

It prints "ready" once it listens. glibc's resolver always uses port 53, hence a loopback address of
its own (any 127.x.y.z works on Linux) rather than a port.
"""
import socket, struct, sys

address, name = sys.argv[1], sys.argv[2].lower().rstrip(".")
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind((address, 53))
print("ready", flush=True)
while True:
    query, client = server.recvfrom(512)
    if len(query) < 17:
        continue
    ident, _flags, _count = struct.unpack(">HHH", query[:6])
    labels, i = [], 12
    while i < len(query) and query[i]:
        labels.append(query[i + 1:i + 1 + query[i]].decode("ascii", "replace"))
        i += query[i] + 1
    qtype = struct.unpack(">H", query[i + 1:i + 3])[0]
    question = query[12:i + 5]
    asked = ".".join(labels).lower()
    print(qtype, asked, flush=True)
    answer = b""
    if asked == name and qtype == 1:
        answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
    rcode = 0 if asked == name else 3
    header = struct.pack(">HHHHHH", ident, 0x8180 | rcode, 1, 1 if answer else 0, 0, 0)
    server.sendto(header + question + answer, client)
