#!/usr/bin/python3
"""A complete sentinel-ebpf detector in Python: the contract of
proto/events.proto, answered the way the agent relies on. Replace score()
with your model. docs/write-a-detector.md explains each part; CI runs this
file against a real agent (test/integration/test_detector_example.sh).

  protoc --python_out=gen --grpc_python_out=gen \\
    --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \\
    -I proto -I /usr/include proto/events.proto
  PYTHONPATH=gen python3 docs/examples/detector.py --port 50051 \\
    --sensitive /etc/,/usr/bin/
"""
import argparse
import json
import signal
import sys
import threading
from concurrent import futures

import grpc
from google.protobuf import empty_pb2

import events_pb2 as pb
import events_pb2_grpc as pb_grpc


class Detector(pb_grpc.DetectorServiceServicer):
    def __init__(self, sensitive):
        self._sensitive = tuple(sensitive)
        self._lock = threading.Lock()
        self._last_seq = {}  # agent_id -> highest seq seen

    def score(self, ev):
        """Your model goes here: (anomaly, score, reason) for one event."""
        name = ev.data.get("filename", "")
        if ev.event_type != "file_read" and name.startswith(self._sensitive):
            return True, 0.9, "sensitive_path_change: " + name
        return False, 0.0, ""

    def _answer(self, ev):
        """One answer per event, anomaly or not: the answer is the
        acknowledgement (seq N acknowledges everything up to N). An agent
        re-sends what was unanswered when a stream broke: seq and event_id
        identify such duplicates; answering them again is correct."""
        anomaly, score, reason = self.score(ev)
        with self._lock:
            prev = self._last_seq.get(ev.agent_id, 0)
            if ev.seq > prev + 1 and prev:
                # a gap: the agent lost events (it counts them too)
                print(json.dumps({"type": "gap", "agent_id": ev.agent_id,
                                  "after_seq": prev, "seq": ev.seq}), flush=True)
            self._last_seq[ev.agent_id] = max(prev, ev.seq)
            if anomaly:
                print(json.dumps({"type": "anomaly", "reason": reason,
                                  "event_type": ev.event_type,
                                  "filename": ev.data.get("filename", ""),
                                  "comm": ev.data.get("comm", ""),
                                  "hostname": ev.hostname, "pod": ev.pod_name,
                                  "namespace": ev.namespace,
                                  "agent_id": ev.agent_id, "seq": ev.seq}),
                      flush=True)
        return pb.DetectionResponse(event_id=ev.event_id, anomaly=anomaly,
                                    reason=reason, score=score, seq=ev.seq)

    # The agent tries this first: one EventBatch in, one DetectionBatch out.
    def StreamEventBatches(self, request_iterator, context):
        for batch in request_iterator:
            yield pb.DetectionBatch(
                responses=[self._answer(ev) for ev in batch.events])

    # Older agents, or one that found StreamEventBatches UNIMPLEMENTED.
    def StreamEvents(self, request_iterator, context):
        for ev in request_iterator:
            yield self._answer(ev)

    # For other components (a second-stage model, a triage tool); agents
    # never call it.
    def ReportAnomaly(self, request, context):
        print(json.dumps({"type": "report", "event_id": request.event_id,
                          "reason": request.reason, "score": request.score}),
              flush=True)
        return empty_pb2.Empty()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=50051)
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--sensitive", default="/etc/,/bin/,/sbin/,/usr/,/boot/",
                    help="comma-separated path prefixes whose changes are anomalies")
    a = ap.parse_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    pb_grpc.add_DetectorServiceServicer_to_server(
        Detector([p for p in a.sensitive.split(",") if p]), server)
    if not server.add_insecure_port("%s:%d" % (a.bind, a.port)):
        sys.exit("cannot listen on %s:%d" % (a.bind, a.port))
    server.start()
    print("detector listening on %s:%d" % (a.bind, a.port), file=sys.stderr, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop(5).wait()


if __name__ == "__main__":
    main()
