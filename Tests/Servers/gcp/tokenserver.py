"""STAND-IN for Google's OAuth 2.0 token endpoint (oauth2.googleapis.com/token) and for the GCE metadata
server (metadata.google.internal), for the maifctl GCP provider's auth tests. It is not Google's code; it
follows Google's published behaviour:

Token endpoint (one port):
  POST /token  grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT
      The JWT (service-account flow): header alg RS256, kid = the key's private_key_id (required here, though
      Google can do without it); signature verified
      with the public half of that key; claims iss = client_email, scope (space-separated, non-empty),
      aud = this endpoint's token URI (the key file's token_uri) or https://oauth2.googleapis.com/token (what
      google-auth sends whatever the token_uri, and what Google's endpoint accepts), iat not in the future, exp after now and at most 1 h after iat.
  POST /token  grant_type=refresh_token&client_id&client_secret&refresh_token   (authorized_user files)
      → 200 {"access_token", "expires_in", "token_type": "Bearer"(, "scope")}
      → 400/401 {"error": "invalid_grant" | "invalid_client" | "invalid_scope" | "unsupported_grant_type"
                  | "invalid_request", "error_description": …}
  POST /tokeninfo  access_token=…  → {"azp", "aud", "scope", "exp", "expires_in", "email"}, or 400 invalid_token
  Control (test side): GET /_token/health, GET /_token/stats, POST /_token/config {"expiresIn": s},
      POST /_token/reset, POST /_token/mint {"scope"?} → a ready access token (for GOOGLE_OAUTH_ACCESS_TOKEN tests).
Metadata server (another port), every answer with Metadata-Flavor: Google; requests must carry
  Metadata-Flavor: Google (else 403) and no X-Forwarded-For:
  GET /  and /computeMetadata/v1/          GET /computeMetadata/v1/project/project-id (text)
  GET /computeMetadata/v1/project/numeric-project-id
  GET /computeMetadata/v1/instance/service-accounts/default/token  → {"access_token","expires_in","token_type"}
  GET /computeMetadata/v1/instance/service-accounts/default/email  (text)
  GET /computeMetadata/v1/instance/service-accounts/default/?recursive=true → {"aliases","email","scopes"}
  GET /computeMetadata/v1/instance/zone    (text: projects/NUM/zones/ZONE)
Tokens never reach the log: requests are logged by path only, without query or body."""

import argparse
import base64
import hashlib
import json
import secrets
import threading
import time
from urllib.parse import parse_qs

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from gcpcommon import Handler, Response, serve_forever

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
CLOCK_SKEW = 300  # seconds of leeway on iat/exp, as Google allows a few minutes


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def oauth_error(code, error, description):
    return Response(code, {"error": error, "error_description": description})


class Tokens:
    def __init__(self, registry, token_uri, project, project_number, zone, sa_email):
        self.lock = threading.Lock()
        self.token_uri = token_uri
        self.project, self.project_number, self.zone, self.sa_email = project, project_number, zone, sa_email
        self.keys = {}
        for sa in registry.get("service_accounts", []):
            self.keys[sa["private_key_id"]] = (sa["client_email"],
                                               serialization.load_pem_public_key(sa["public_key_pem"].encode()))
        self.users = {u["client_id"]: u for u in registry.get("authorized_users", [])}
        self.expires_in = 3599
        self.reset()

    def reset(self):
        self.issued = {}  # sha256(token) → {exp, scope, email, azp}
        self.stats = {"jwt_bearer": 0, "refresh_token": 0, "metadata": 0, "minted": 0, "rejected": 0, "tokeninfo": 0}

    def issue(self, kind, email, scope, azp):
        token = "ya29.local-" + secrets.token_urlsafe(32)
        with self.lock:
            self.issued[hashlib.sha256(token.encode()).hexdigest()] = {
                "exp": time.time() + self.expires_in, "scope": scope, "email": email, "azp": azp}
            self.stats[kind] += 1
        return {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}

    def reject(self, code, error, description):
        with self.lock:
            self.stats["rejected"] += 1
        return oauth_error(code, error, description)

    # ── grants ──
    def token(self, form):
        grant = form.get("grant_type")
        if grant == JWT_BEARER:
            return self.jwt_bearer(form.get("assertion", ""))
        if grant == "refresh_token":
            return self.refresh(form)
        if not grant:
            return self.reject(400, "invalid_request", "Missing required parameter: grant_type")
        return self.reject(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")

    def jwt_bearer(self, assertion):
        parts = assertion.split(".")
        if len(parts) != 3:
            return self.reject(400, "invalid_grant", "Invalid JWT: not three dot-separated parts.")
        try:
            header, claims = json.loads(b64url_decode(parts[0])), json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except (ValueError, UnicodeDecodeError):
            return self.reject(400, "invalid_grant", "Invalid JWT: the header or claim set is not base64url JSON.")
        if header.get("alg") != "RS256":
            return self.reject(400, "invalid_grant", f"Invalid JWT: alg must be RS256, not {header.get('alg')!r}.")
        if not header.get("kid"):
            # Stricter than Google, which tries the account's keys in turn: google-auth always sends kid.
            return self.reject(400, "invalid_grant", "Invalid JWT: the header has no kid (the key's private_key_id).")
        key = self.keys.get(header.get("kid"))
        if key is None:
            # Google looks the key up by kid (private_key_id) under the issuer: an unknown one fails the signature.
            return self.reject(400, "invalid_grant", "Invalid JWT Signature.")
        email, public = key
        try:
            public.verify(signature, (parts[0] + "." + parts[1]).encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return self.reject(400, "invalid_grant", "Invalid JWT Signature.")
        if claims.get("iss") != email:
            return self.reject(400, "invalid_grant", "Invalid grant: account not found")
        # The key's token_uri (this endpoint), or Google's own token URI, which google-auth always puts in aud.
        if claims.get("aud") not in (self.token_uri, GOOGLE_TOKEN_URI):
            return self.reject(400, "invalid_grant", f"Invalid JWT: Failed audience check. The right audience is {self.token_uri}")
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, (int, float)) or not isinstance(exp, (int, float)) or iat > now + CLOCK_SKEW \
                or exp < now or exp - iat > 3600 or exp <= iat:
            return self.reject(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in "
                               "a reasonable timeframe. Check your iat and exp values in the JWT claim.")
        scope = claims.get("scope")
        if "target_audience" in claims:
            return self.reject(400, "invalid_request", "ID tokens (target_audience) are not modelled by this stand-in.")
        if not isinstance(scope, str) or not scope.strip() or \
                not all(s.startswith("https://www.googleapis.com/auth/") for s in scope.split()):
            return self.reject(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        return Response(200, self.issue("jwt_bearer", claims.get("sub") or email, scope, email))

    def refresh(self, form):
        cid, secret, rt = form.get("client_id"), form.get("client_secret"), form.get("refresh_token")
        if not cid or not rt:
            return self.reject(400, "invalid_request", "Missing required parameter: " + ("client_id" if not cid else "refresh_token"))
        user = self.users.get(cid)
        if user is None or user["client_secret"] != secret:
            return self.reject(401, "invalid_client", "The OAuth client was not found." if user is None else "Unauthorized")
        if user["refresh_token"] != rt:
            return self.reject(400, "invalid_grant", "Token has been expired or revoked.")
        scope = form.get("scope") or "https://www.googleapis.com/auth/cloud-platform openid https://www.googleapis.com/auth/userinfo.email"
        out = self.issue("refresh_token", user.get("email", "user@example.com"), scope, cid)
        out["scope"] = scope
        return Response(200, out)

    def info(self, token):
        with self.lock:
            self.stats["tokeninfo"] += 1
            t = self.issued.get(hashlib.sha256((token or "").encode()).hexdigest())
        if t is None or t["exp"] < time.time():
            return oauth_error(400, "invalid_token", "Invalid Value")
        return Response(200, {"azp": t["azp"], "aud": t["azp"], "scope": t["scope"], "exp": str(int(t["exp"])),
                              "expires_in": str(int(t["exp"] - time.time())), "email": t["email"],
                              "email_verified": "true", "access_type": "online"})


class TokenApp:
    def __init__(self, tokens):
        self.t = tokens

    def handle(self, req):
        t = self.t
        if req.path == "/_token/health":
            return Response(200, {"ok": True, "stand_in": True})
        if req.path == "/_token/stats":
            with t.lock:
                return Response(200, dict(t.stats) | {"expiresIn": t.expires_in, "live": len(t.issued)})
        if req.path == "/_token/config" and req.method == "POST":
            t.expires_in = int(req.json().get("expiresIn", t.expires_in))
            return Response(200, {"expiresIn": t.expires_in})
        if req.path == "/_token/reset" and req.method == "POST":
            with t.lock:
                t.reset()
            return Response(200, {"reset": True})
        if req.path == "/_token/mint" and req.method == "POST":
            body = req.json()
            return Response(200, t.issue("minted", t.sa_email, body.get("scope", "https://www.googleapis.com/auth/cloud-platform"), "minted"))
        if req.path in ("/token", "/oauth2/v4/token") and req.method == "POST":
            ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip()
            if ctype == "application/json":
                try:
                    form = {k: str(v) for k, v in json.loads(req.raw_body or b"{}").items()}
                except ValueError:
                    return oauth_error(400, "invalid_request", "The body is not JSON.")
            else:
                form = {k: v[-1] for k, v in parse_qs(req.raw_body.decode(errors="replace")).items()}
            return t.token(form)
        if req.path == "/tokeninfo":
            form = {k: v[-1] for k, v in parse_qs(req.raw_body.decode(errors="replace")).items()}
            return t.info(form.get("access_token") or req.query.get("access_token"))
        return oauth_error(404, "not_found", f"no {req.method} {req.path}")


class MetadataApp:
    def __init__(self, tokens):
        self.t = tokens

    def handle(self, req):
        resp = self._handle(req)
        resp.headers["Metadata-Flavor"] = "Google"
        resp.headers["Server"] = "Metadata Server for VM (stand-in)"
        return resp

    def _handle(self, req):
        t = self.t
        text = "application/text"
        if req.headers.get("X-Forwarded-For"):
            return Response(403, raw="Request had X-Forwarded-For: refused.", content_type="text/html")
        if req.headers.get("Metadata-Flavor") != "Google":
            return Response(403, raw="Missing required header \"Metadata-Flavor\": \"Google\"\n", content_type="text/html")
        p = req.path.rstrip("/")
        base = "/computeMetadata/v1"
        sa = base + "/instance/service-accounts/default"
        if p in ("", base):
            return Response(200, raw="instance/\nproject/\n", content_type=text)
        if p == base + "/project/project-id":
            return Response(200, raw=t.project, content_type=text)
        if p == base + "/project/numeric-project-id":
            return Response(200, raw=str(t.project_number), content_type=text)
        if p == base + "/instance/zone":
            return Response(200, raw=f"projects/{t.project_number}/zones/{t.zone}", content_type=text)
        if p in (sa + "/email",):
            return Response(200, raw=t.sa_email, content_type=text)
        scopes = req.query.get("scopes") or "https://www.googleapis.com/auth/cloud-platform"
        if p == sa and req.query.get("recursive") == "true":
            return Response(200, {"aliases": ["default"], "email": t.sa_email, "scopes": scopes.split(",")})
        if p == sa + "/token":
            return Response(200, t.issue("metadata", t.sa_email, " ".join(scopes.split(",")), "metadata"))
        if p == sa + "/scopes":
            return Response(200, raw="\n".join(scopes.split(",")) + "\n", content_type=text)
        return Response(404, raw="Not Found\n", content_type="text/html")


class QuietHandler(Handler):
    def log_message(self, fmt, *args):
        # path only: no query string (tokeninfo takes access_token there) and no body
        import sys
        sys.stderr.write("%s %s %s\n" % (time.strftime("%H:%M:%S"), self.command, self.path.split("?")[0]))


def main():
    ap = argparse.ArgumentParser(description="OAuth2 token endpoint + GCE metadata server stand-ins")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--metadata-port", type=int, required=True)
    ap.add_argument("--registry", required=True, help="JSON: service_accounts[{client_email, private_key_id, public_key_pem}], authorized_users[…]")
    ap.add_argument("--project", default="maif-test")
    ap.add_argument("--project-number", default="123456789012")
    ap.add_argument("--zone", default="us-central1-a")
    ap.add_argument("--sa-email", default="maifctl-test@maif-test.iam.gserviceaccount.com")
    args = ap.parse_args()
    with open(args.registry) as f:
        registry = json.load(f)
    token_uri = f"http://{args.host}:{args.port}/token"
    tokens = Tokens(registry, token_uri, args.project, args.project_number, args.zone, args.sa_email)
    import gcpcommon
    a = gcpcommon.Server((args.host, args.port), type("TokenHandler", (QuietHandler,), {"app": TokenApp(tokens)}))
    b = gcpcommon.Server((args.host, args.metadata_port), type("MetadataHandler", (QuietHandler,), {"app": MetadataApp(tokens)}))
    import sys
    sys.stderr.write(f"token endpoint {token_uri}; metadata server http://{args.host}:{args.metadata_port}\n")
    serve_forever(a, b)


if __name__ == "__main__":
    main()
