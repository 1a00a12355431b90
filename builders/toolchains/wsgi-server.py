"""hop3's WSGI server, standard library only: runs Hop3's `wsgi: module:callable` workers without uWSGI.

Usage: python wsgi-server.py module:callable   (listens on $BIND_ADDRESS:$PORT, one thread per request)
"""
import importlib
import os
import signal
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, fmt, *args):
        print(f"{self.address_string()} {fmt % args}", flush=True)


def load(spec):
    module_name, _, attribute = spec.partition(":")
    target = importlib.import_module(module_name)
    for part in (attribute or "application").split("."):
        target = getattr(target, part)
    return target


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    application = load(sys.argv[1])
    host, port = os.environ.get("BIND_ADDRESS", "127.0.0.1"), int(os.environ.get("PORT", "8000"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with make_server(host, port, application, server_class=ThreadingWSGIServer, handler_class=QuietHandler) as server:
        print(f"serving {sys.argv[1]} on http://{host}:{port}", flush=True)
        server.serve_forever()
