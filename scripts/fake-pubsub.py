#!/usr/bin/env python3
"""A loopback Google Cloud Pub/Sub (REST v1) for tests, with the semantics of docs/google.md#pubsub-over-rest:

- topics and subscriptions (PUT creates; 409 ALREADY_EXISTS; 404 for a subscription on a missing topic);
- publish (base64 `data` and/or `attributes` required; server-assigned messageId, publishTime);
- pull with maxMessages, held open up to --pull-hold seconds while nothing is available, `{}` when empty;
- ack deadlines that expire (the message is delivered again), modifyAckDeadline (0-600; 0 = at once);
- every delivery gets a new ackId; deliveryAttempt counted (shown when the subscription has a deadLetterPolicy
  or with --delivery-attempt, as the real service does only with a DLQ);
- acknowledge; stale ack ids are ignored, or on `enableExactlyOnceDelivery` subscriptions answered with a 400
  ErrorInfo whose metadata says PERMANENT_FAILURE_INVALID_ACK_ID;
- error injection: `POST /control/fail {"count":N,"status":503,"match":":pull"}` fails the next N requests whose
  path contains `match` (429/503 bodies in Google's error format); `--fail-first N` does it for any path;
- `GET /control/state` returns every subscription's messages (ready / outstanding / acked, delivery counts)
  and counters of requests per RPC.

Usage: fake-pubsub.py --port-file F [--port P] [--pull-hold S] [--delivery-attempt] [--fail-first N]
                      [--topic-propagation S]
"""
import argparse, base64, itertools, json, os, re, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
COND = threading.Condition()
TOPICS = {}          # full name -> {}
SUBS = {}            # full name -> {"topic", "ackDeadlineSeconds", "exactlyOnce", "dlq", "messages": [...]}
IDS = itertools.count(1)
FAILS = []           # [{"count", "status", "match"}]
COUNTS = {}


def error_body(code, status, message, details=None):
    error = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw.strip() else {}

    def injected(self, path):
        with COND:
            for rule in FAILS:
                if rule["count"] > 0 and rule.get("match", "") in path:
                    rule["count"] -= 1
                    status = rule.get("status", 503)
                    break
            else:
                return False
        name = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}.get(status, "UNKNOWN")
        self.reply(status, error_body(status, name, "injected failure"))
        return True

    def count(self, rpc):
        with COND:
            COUNTS[rpc] = COUNTS.get(rpc, 0) + 1

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/control/state":
            with COND:
                now = time.time()
                state = {name: [{"messageId": m["id"], "acked": m["acked"], "deliveries": m["deliveries"],
                                 "outstanding": (not m["acked"]) and m["deadline"] > now}
                                for m in sub["messages"]] for name, sub in SUBS.items()}
                return self.reply(200, {"subscriptions": state, "counts": dict(COUNTS)})
        if self.injected(path):
            return
        name = path[len("/v1/"):]
        with COND:
            if name in TOPICS:
                return self.reply(200, {"name": name})
            if name in SUBS:
                sub = SUBS[name]
                return self.reply(200, {"name": name, "topic": sub["topic"], "ackDeadlineSeconds": sub["ackDeadlineSeconds"]})
        self.reply(404, error_body(404, "NOT_FOUND", "Resource not found (resource=%s)." % name))

    def do_PUT(self):
        path = self.path.split("?")[0]
        body = self.body()
        if self.injected(path):
            return
        name = path[len("/v1/"):]
        with COND:
            if re.fullmatch(r"projects/[^/]+/topics/[^/]+", name):
                self.count("createTopic")
                if name in TOPICS:
                    return self.reply(409, error_body(409, "ALREADY_EXISTS", "Topic already exists"))
                TOPICS[name] = {"created": time.time()}
                return self.reply(200, {"name": name})
            if re.fullmatch(r"projects/[^/]+/subscriptions/[^/]+", name):
                self.count("createSubscription")
                if name in SUBS:
                    return self.reply(409, error_body(409, "ALREADY_EXISTS", "Subscription already exists"))
                topic = body.get("topic")
                if topic not in TOPICS or time.time() - TOPICS[topic].get("created", 0) < ARGS.topic_propagation:
                    return self.reply(404, error_body(404, "NOT_FOUND", "Topic not found"))
                deadline = body.get("ackDeadlineSeconds") or 10
                if not 10 <= deadline <= 600:
                    return self.reply(400, error_body(400, "INVALID_ARGUMENT", "Invalid ack deadline"))
                SUBS[name] = {"topic": topic, "ackDeadlineSeconds": deadline, "messages": [],
                              "exactlyOnce": bool(body.get("enableExactlyOnceDelivery")),
                              "dlq": bool(body.get("deadLetterPolicy"))}
                return self.reply(200, {"name": name, "topic": topic, "ackDeadlineSeconds": deadline})
        self.reply(404, error_body(404, "NOT_FOUND", "unknown resource"))

    def do_POST(self):
        path = self.path.split("?")[0]
        try:
            body = self.body()
        except ValueError:
            return self.reply(400, error_body(400, "INVALID_ARGUMENT", "Invalid JSON payload received."))
        if path == "/control/fail":
            with COND:
                FAILS.append({"count": body.get("count", 1), "status": body.get("status", 503), "match": body.get("match", "")})
            return self.reply(200, {})
        if self.injected(path):
            return
        name, _, rpc = path[len("/v1/"):].partition(":")
        self.count(rpc)
        if rpc == "publish":
            return self.publish(name, body)
        if rpc == "pull":
            return self.pull(name, body)
        if rpc in ("acknowledge", "modifyAckDeadline"):
            return self.ack(name, rpc, body)
        self.reply(404, error_body(404, "NOT_FOUND", "unknown method"))

    def publish(self, topic, body):
        with COND:
            if topic not in TOPICS:
                return self.reply(404, error_body(404, "NOT_FOUND", "Topic not found"))
            ids = []
            for message in body.get("messages", []):
                if not message.get("data") and not message.get("attributes"):
                    return self.reply(400, error_body(400, "INVALID_ARGUMENT", "Some messages are empty"))
                base64.b64decode(message.get("data", ""), validate=True)
                message_id = str(next(IDS))
                ids.append(message_id)
                for sub in SUBS.values():
                    if sub["topic"] == topic:
                        sub["messages"].append({"id": message_id, "data": message.get("data", ""),
                                                "attributes": message.get("attributes", {}), "publishTime": time.time(),
                                                "deadline": 0.0, "ackId": None, "deliveries": 0, "acked": False})
            COND.notify_all()
            return self.reply(200, {"messageIds": ids})

    def pull(self, name, body):
        max_messages = body.get("maxMessages")
        if not isinstance(max_messages, int) or max_messages <= 0:
            return self.reply(400, error_body(400, "INVALID_ARGUMENT", "maxMessages must be positive"))
        hold_until = time.time() + (0 if body.get("returnImmediately") else ARGS.pull_hold)
        with COND:
            while True:
                sub = SUBS.get(name)
                if sub is None:
                    return self.reply(404, error_body(404, "NOT_FOUND", "Subscription does not exist"))
                now = time.time()
                ready = [m for m in sub["messages"] if not m["acked"] and m["deadline"] <= now][:max_messages]
                if ready or now >= hold_until:
                    break
                COND.wait(min(0.05, hold_until - now))
            received = []
            for m in ready:
                m["deliveries"] += 1
                m["ackId"] = "ack-%s-%d-%s" % (m["id"], m["deliveries"], uuid.uuid4().hex[:8])
                m["deadline"] = now + sub["ackDeadlineSeconds"]
                entry = {"ackId": m["ackId"], "message": {"data": m["data"], "messageId": m["id"],
                                                          "publishTime": rfc3339(m["publishTime"])}}
                if m["attributes"]:
                    entry["message"]["attributes"] = m["attributes"]
                if sub["dlq"] or ARGS.delivery_attempt:
                    entry["deliveryAttempt"] = m["deliveries"]
                received.append(entry)
            return self.reply(200, {"receivedMessages": received} if received else {})

    def ack(self, name, rpc, body):
        ack_ids = body.get("ackIds") or []
        seconds = body.get("ackDeadlineSeconds")
        if rpc == "modifyAckDeadline" and (not isinstance(seconds, int) or not 0 <= seconds <= 600):
            return self.reply(400, error_body(400, "INVALID_ARGUMENT", "Invalid ack deadline given"))
        with COND:
            sub = SUBS.get(name)
            if sub is None:
                return self.reply(404, error_body(404, "NOT_FOUND", "Subscription does not exist"))
            now = time.time()
            current = {m["ackId"]: m for m in sub["messages"] if m["ackId"] and not m["acked"] and m["deadline"] > now}
            invalid = {}
            for ack_id in ack_ids:
                m = current.get(ack_id)
                if m is None:
                    invalid[ack_id] = "PERMANENT_FAILURE_INVALID_ACK_ID"
                elif rpc == "acknowledge":
                    m["acked"] = True
                else:
                    m["deadline"] = now + seconds
            COND.notify_all()
            if invalid and sub["exactlyOnce"]:
                return self.reply(400, error_body(400, "INVALID_ARGUMENT", "Some acknowledgement ids in the request were invalid.", [
                    {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "EXACTLY_ONCE_ACKID_FAILURE",
                     "domain": "pubsub.googleapis.com", "metadata": invalid}]))
            return self.reply(200, {})


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--pull-hold", type=float, default=2.0)
    parser.add_argument("--delivery-attempt", action="store_true")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--topic-propagation", type=float, default=0.0,
                        help="seconds a new topic stays invisible to subscription creation, as right after a real create")
    ARGS = parser.parse_args()
    if ARGS.fail_first:
        FAILS.append({"count": ARGS.fail_first, "status": 503, "match": ""})
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
