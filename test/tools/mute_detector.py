#!/usr/bin/python3
"""A detector with a natural mistake: it reads every event and answers only
the anomalies, here none at all, so nothing is ever acknowledged. The agent
must say the detector is at fault (log, metric, readiness) instead of only
"queue full". Events seen are counted in COUNT_FILE (one line per message).

Needs the code protoc generates from proto/events.proto on PYTHONPATH:
  protoc --python_out=DIR --grpc_python_out=DIR \
    --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
    -I proto -I /usr/include proto/events.proto
  PYTHONPATH=DIR /usr/bin/python3 test/tools/mute_detector.py --port P --count COUNT_FILE
"""
import argparse
import signal
import threading
from concurrent import futures

import grpc

import events_pb2_grpc as pb_grpc


class Mute(pb_grpc.DetectorServiceServicer):
    def __init__(self, count_path):
        self._out = open(count_path, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def _seen(self, n):
        with self._lock:
            self._out.write("%d\n" % n)
            self._out.flush()

    def StreamEventBatches(self, request_iterator, context):
        for batch in request_iterator:
            self._seen(len(batch.events))
        return iter(())

    def StreamEvents(self, request_iterator, context):
        for _ in request_iterator:
            self._seen(1)
        return iter(())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", required=True)
    a = ap.parse_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_DetectorServiceServicer_to_server(Mute(a.count), server)
    server.add_insecure_port("127.0.0.1:%d" % a.port)
    server.start()
    print("listening", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.stop(0)


if __name__ == "__main__":
    main()
