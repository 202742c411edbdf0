"""A light stand-in for a guest's sshd, for the vmlaunch benchmarks.

Every connection gets an SSH banner ("SSH-2.0-bench") at once, then
whatever it sends is echoed back until it closes its side.

    guest.py CONFIG          as the vmctl double runs a guest sshd
                             ("sshd -D -e -f CONFIG", through the shim
                             bench.py writes): listen on CONFIG's
                             ListenAddress, and append the wall-clock
                             time (ns) right after listen() to
                             listen_at beside CONFIG
    guest.py multi PORT...   one process, one listener per port on
                             127.0.0.1 (many VMs share it); prints
                             "listening" once every port listens
    guest.py delayed SECONDS PORT STAMPFILE
                             sleep, then listen on 127.0.0.1:PORT and
                             write the listen instant to STAMPFILE (the
                             polling-script baseline)
"""

import asyncio
import os
import socket
import sys
import time

BANNER = b"SSH-2.0-bench\r\n"


async def handle(reader, writer):
    try:
        writer.write(BANNER)
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


def listener(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(4096)
    return s


async def serve(socks):
    for s in socks:
        await asyncio.start_server(handle, sock=s)
    await asyncio.Event().wait()


def stamp(path, ns):
    with open(path, "a") as f:
        f.write("%d\n" % ns)


def main():
    args = sys.argv[1:]
    if args and args[0] == "multi":
        socks = [listener("127.0.0.1", int(p)) for p in args[1:]]
        print("listening", flush=True)
        asyncio.run(serve(socks))
    elif args and args[0] == "delayed":
        time.sleep(float(args[1]))
        s = listener("127.0.0.1", int(args[2]))
        stamp(args[3], time.time_ns())
        asyncio.run(serve([s]))
    else:
        cfg = args[-1]
        host, port = "127.0.0.1", 22
        with open(cfg) as f:
            for line in f:
                w = line.split()
                if len(w) == 2 and w[0] == "ListenAddress":
                    host, _, p = w[1].rpartition(":")
                    port = int(p)
        s = listener(host, port)
        stamp(os.path.join(os.path.dirname(cfg), "listen_at"),
              time.time_ns())
        asyncio.run(serve([s]))


if __name__ == "__main__":
    main()
