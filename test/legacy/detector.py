#!/usr/bin/python3
"""Minimal detector for the original (v0) contract, as the original Python
project wrote them: StreamEvents answers each EventEnvelope with one
DetectionResponse carrying the same event_id (the old contract has no seq).
StreamEventBatches does not exist here, so grpcio answers it UNIMPLEMENTED.

Needs the code protoc generates from events_v0.proto on PYTHONPATH:
  protoc --python_out=DIR --grpc_python_out=DIR \
    --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
    -I test/legacy -I /usr/include test/legacy/events_v0.proto
  PYTHONPATH=DIR /usr/bin/python3 test/legacy/detector.py --port 50151 \
    --events events.jsonl [--sensitive /etc/] [--refuse SUBSTRING]
"""
import argparse
import json
import signal
import sys
import threading
from concurrent import futures

import grpc
from google.protobuf import empty_pb2

import events_v0_pb2 as pb
import events_v0_pb2_grpc as pb_grpc


class Detector(pb_grpc.DetectorServiceServicer):
    def __init__(self, events_path, sensitive, refuse=None):
        self._out = open(events_path, "a", encoding="utf-8")
        self._lock = threading.Lock()
        self._sensitive = sensitive
        self._refuse = refuse

    def _record(self, ev):
        line = json.dumps({
            "event_id": ev.event_id,
            "event_type": ev.event_type,
            "filename": ev.data.get("filename", ""),
            # a name that is not UTF-8: its exact bytes (sentinel-ebpf's
            # agent adds filename_hex; the original agent never did)
            "filename_hex": ev.data.get("filename_hex"),
            "filename_truncated": ev.data.get("filename_truncated"),
            "bytes": ev.data.get("bytes", ""),
            "comm": ev.data.get("comm", ""),
            "pid": ev.data.get("pid", ""),
        })
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()

    def StreamEvents(self, request_iterator, context):
        for ev in request_iterator:
            # A detector with a bug for one kind of event: it ends the whole
            # stream each time it sees one (the agent must not re-send it
            # forever).
            if self._refuse and self._refuse in ev.data.get("filename", ""):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                              "refused: %s" % ev.data.get("filename", ""))
            self._record(ev)
            resp = pb.DetectionResponse(event_id=ev.event_id)
            resp.ts.GetCurrentTime()
            if (self._sensitive is not None and ev.event_type == "file_write"
                    and ev.data.get("filename", "").startswith(self._sensitive)):
                resp.anomaly = True
                resp.reason = "sensitive write"
                resp.score = 1.0
            yield resp

    def ReportAnomaly(self, request, context):
        return empty_pb2.Empty()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True,
                    help="TCP port on localhost; 0 picks a free one")
    ap.add_argument("--events", required=True, help="JSON line per event")
    ap.add_argument("--sensitive", default=None,
                    help="flag file_write events under this path prefix")
    ap.add_argument("--refuse", default=None,
                    help="end the stream INVALID_ARGUMENT on events whose filename "
                    "contains this")
    args = ap.parse_args()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    pb_grpc.add_DetectorServiceServicer_to_server(
        Detector(args.events, args.sensitive, args.refuse), server)
    port = server.add_insecure_port("localhost:%d" % args.port)
    if port == 0:
        sys.exit("detector: cannot listen on port %d" % args.port)
    server.start()
    print("detector: listening port=%d" % port, file=sys.stderr, flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(1):
        pass
    server.stop(grace=1).wait()


if __name__ == "__main__":
    main()
