#!/usr/bin/env python3
"""A loopback stand-in for Google's OAuth token endpoint, STS, IAM generateAccessToken and the metadata server.

It checks what a real server checks: RS256 JWT signatures against the public keys in --keys-dir (one
`<kid>.pem` per key), the claims (iss, aud, scope, iat, exp), the grant types and form fields, and the
`Metadata-Flavor: Google` header. Every request is appended to --log as one JSON line (what was verified,
never the private key). Usage:

    fake-google-auth.py --port-file F --log L --keys-dir D [--expires-in S] [--fail-first N]

It writes its port to --port-file once it listens (port 0 = any free port).
"""
import argparse, base64, json, os, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ARGS = None
LOCK = threading.Lock()
COUNTER = [0]
FAILURES_LEFT = [0]


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def log(entry):
    with LOCK:
        with open(ARGS.log, "a") as f:
            f.write(json.dumps(entry) + "\n")


def next_token(prefix):
    with LOCK:
        COUNTER[0] += 1
        return "%s-%d" % (prefix, COUNTER[0])


def verify_jwt(jwt, audience):
    """Returns (header, claims) or raises ValueError saying what is wrong."""
    parts = jwt.split(".")
    if len(parts) != 3:
        raise ValueError("not three segments")
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    if header.get("alg") != "RS256" or header.get("typ") != "JWT":
        raise ValueError("bad header %r" % header)
    kid = header.get("kid")
    path = os.path.join(ARGS.keys_dir, "%s.pem" % kid)
    if not os.path.exists(path):
        raise ValueError("unknown kid %r" % kid)
    with open(path, "rb") as f:
        public_key = serialization.load_pem_public_key(f.read())
    public_key.verify(b64url_decode(parts[2]), (parts[0] + "." + parts[1]).encode(), padding.PKCS1v15(), hashes.SHA256())
    now = time.time()
    if claims.get("aud") != audience:
        raise ValueError("aud %r != %r" % (claims.get("aud"), audience))
    if not claims.get("iss") or not claims.get("scope"):
        raise ValueError("missing iss or scope")
    if abs(claims["iat"] - now) > 120 or claims["exp"] - claims["iat"] != 3600:
        raise ValueError("bad iat/exp")
    return header, claims


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if self.path.startswith("/computeMetadata"):
            self.send_header("Metadata-Flavor", "Google")
        self.end_headers()
        self.wfile.write(data)

    def injected_failure(self):
        with LOCK:
            if FAILURES_LEFT[0] > 0:
                FAILURES_LEFT[0] -= 1
                fail = True
            else:
                fail = False
        if fail:
            log({"path": self.path, "injected": 503})
            self.reply(503, {"error": "temporarily_unavailable"})
        return fail

    def do_GET(self):
        if self.injected_failure():
            return
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/computeMetadata/"):
            if self.headers.get("Metadata-Flavor") != "Google":
                log({"path": path, "error": "no Metadata-Flavor"})
                return self.reply(403, b"Missing Metadata-Flavor:Google header", "text/plain")
            if path == "/computeMetadata/v1/instance/service-accounts/default/token":
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                token = next_token("meta")
                log({"path": path, "kind": "metadata", "scopes": query.get("scopes", [""])[0], "token": token})
                return self.reply(200, {"access_token": token, "expires_in": ARGS.expires_in, "token_type": "Bearer"})
            if path == "/computeMetadata/v1/project/project-id":
                log({"path": path, "kind": "project"})
                return self.reply(200, b"meta-project", "application/text")
        self.reply(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        if self.injected_failure():
            return
        path = urllib.parse.urlsplit(self.path).path
        base = "http://127.0.0.1:%d" % self.server.server_address[1]
        if path == "/token":
            if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
                return self.reply(400, {"error": "invalid_request", "error_description": "form encoding expected"})
            form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
            grant = form.get("grant_type")
            if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
                try:
                    header, claims = verify_jwt(form.get("assertion", ""), base + "/token")
                except Exception as error:  # any failed check is an invalid grant, as Google answers
                    log({"path": path, "kind": "jwt-bearer", "error": str(error)})
                    return self.reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
                token = next_token("sa-" + header["kid"])
                log({"path": path, "kind": "jwt-bearer", "verified": True, "kid": header["kid"], "iss": claims["iss"],
                     "aud": claims["aud"], "scope": claims["scope"], "iat": claims["iat"], "exp": claims["exp"],
                     "token": token})
                return self.reply(200, {"access_token": token, "expires_in": ARGS.expires_in, "token_type": "Bearer"})
            if grant == "refresh_token":
                ok = form.get("client_id") == "cid" and form.get("client_secret") == "csecret" \
                    and form.get("refresh_token") == "rtoken"
                log({"path": path, "kind": "refresh", "verified": ok})
                if not ok:
                    return self.reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
                return self.reply(200, {"access_token": next_token("user"), "expires_in": str(ARGS.expires_in)})
            return self.reply(400, {"error": "unsupported_grant_type"})
        if path == "/v1/token":
            form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
            ok = form.get("grant_type") == "urn:ietf:params:oauth:grant-type:token-exchange" \
                and form.get("requested_token_type") == "urn:ietf:params:oauth:token-type:access_token" \
                and form.get("audience", "").startswith("//iam.googleapis.com/") and form.get("scope")
            log({"path": path, "kind": "sts", "verified": bool(ok), "subject_token": form.get("subject_token"),
                 "subject_token_type": form.get("subject_token_type"), "scope": form.get("scope")})
            if not ok:
                return self.reply(400, {"error": "invalid_request"})
            return self.reply(200, {"access_token": "sts-" + form.get("subject_token", ""), "expires_in": 3599,
                                    "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"})
        if path.endswith(":generateAccessToken"):
            auth = self.headers.get("Authorization", "")
            request = json.loads(body or "{}")
            ok = auth.startswith("Bearer sts-") and isinstance(request.get("scope"), list)
            log({"path": path, "kind": "impersonate", "verified": ok, "bearer": auth[len("Bearer "):],
                 "lifetime": request.get("lifetime")})
            if not ok:
                return self.reply(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}})
            expire = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + ARGS.expires_in))
            return self.reply(200, {"accessToken": next_token("impersonated"), "expireTime": expire})
        self.reply(404, {"error": "not found"})


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--keys-dir", default=".")
    parser.add_argument("--expires-in", type=int, default=3600)
    parser.add_argument("--fail-first", type=int, default=0)
    ARGS = parser.parse_args()
    FAILURES_LEFT[0] = ARGS.fail_first
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
