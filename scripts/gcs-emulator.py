#!/usr/bin/env python3
"""Starts gcp-storage-emulator (pip install gcp-storage-emulator) in memory on a free loopback port and writes
the port to --port-file first; callers poll http://127.0.0.1:PORT/storage/v1/b until it answers.
Exits 2 when the emulator is not installed."""
import argparse, os, shutil, socket, sys

parser = argparse.ArgumentParser()
parser.add_argument("--port-file", required=True)
args = parser.parse_args()
try:
    import gcp_storage_emulator  # noqa: F401
except ImportError:
    print("gcp-storage-emulator is not installed (pip install gcp-storage-emulator)")
    sys.exit(2)
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(port))
os.rename(args.port_file + ".tmp", args.port_file)
os.execv(sys.executable, [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1",
                          "--port", str(port), "--in-memory", "-q"])
