#!/usr/bin/env python3
"""Starts gcp-storage-emulator (pip install gcp-storage-emulator) in memory on a free loopback port and writes
the port to --port-file first; callers poll http://127.0.0.1:PORT/storage/v1/b until it answers.
Exits 2 when the emulator is not installed.

One fix to the emulator, so that it stores what real GCS stores: an upload with an empty body is a zero-byte
object (the emulator reads an empty body as "no data" and drops the connection without an answer, which a
client then retries for seconds; our change marks are empty objects)."""
import argparse, os, socket, sys

parser = argparse.ArgumentParser()
parser.add_argument("--port-file", required=True)
args = parser.parse_args()
try:
    from gcp_storage_emulator import server
    from gcp_storage_emulator.__main__ import main
except ImportError:
    print("gcp-storage-emulator is not installed (pip install gcp-storage-emulator)")
    sys.exit(2)

read_data = getattr(server, "_read_data", None)


def read_data_keeping_empty_uploads(handler, query):
    data = read_data(handler, query)
    return b"" if data is None and query.get("uploadType") == ["media"] else data


if read_data:  # a later emulator may have renamed it (and fixed this)
    server._read_data = read_data_keeping_empty_uploads
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(port))
os.rename(args.port_file + ".tmp", args.port_file)
main(["start", "--host", "127.0.0.1", "--port", str(port), "--in-memory", "-q"])
