"""The codec endpoint of the Temporal Web UI: Django serves Temporal's Codec
Server protocol at /temporal-codec/, so the UI shows encrypted payloads
(django_temporal_bridge.encryption) decoded, to the staff users allowed to.

The UI's browser code POSTs `{"payloads": [...]}` (Temporal's Payloads
message as protobuf JSON: base64 `data` and metadata values) to
`<endpoint>/decode` when it shows a history, and to `<endpoint>/encode` when
a staff user starts or signals a workflow from it; the answer has the same
shape. Its headers are Content-Type and X-Namespace (and Authorization when
the UI passes its own access token), so the browser first sends a CORS
preflight (OPTIONS, without cookies).

- Who: the session of an active staff user with the permission of the
  route, "Can decode Temporal payloads" (decode_payloads) or "Can encode
  Temporal payloads" (encode_payloads), granted to no one by default
  ("Include cross-origin credentials" on in the UI's codec settings, so the
  browser sends the cookie). Anyone else gets 403, never a redirect to the
  login page: decoding shows personal data, encoding is an encryption
  oracle.
- From where: CORS headers only for the origin of TEMPORAL_UI_URL; a POST
  from any other browser origin gets 403.
- CSRF: Django's token check is off here (the UI cannot send Django's
  token), and the checks above stand in for it: a browser always sends
  Origin on a cross-origin POST, so a page elsewhere cannot get a staff
  browser's POST accepted, nor read any answer; and neither route changes
  anything, they only transform the payloads they are given.
- Without TEMPORAL_PAYLOAD_KEYS there is nothing to decode: 404.
"""

from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from .conf import setting
from .encryption import EncryptionCodec, PayloadDecryptionError, payload_codec

# What the UI sends; Authorization only when it passes its access token.
ALLOWED_HEADERS = "Content-Type, X-Namespace, Authorization"
# A body may hold several of Temporal's largest payloads (2 MB each, a third
# more in base64): more than Django's limit on a request body (2.5 MB), so
# the view reads the body itself, up to this.
MAX_BODY_BYTES = 16 * 1024 * 1024


def allowed_origin() -> str:
    """The origin of TEMPORAL_UI_URL (scheme://host[:port]), the one origin
    whose browser code may call the endpoint."""
    url = urlsplit(setting("TEMPORAL_UI_URL"))
    return f"{url.scheme}://{url.netloc}".lower()


def _with_cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    response["Vary"] = "Origin"
    origin = request.headers.get("Origin", "")
    if origin.lower() == allowed_origin():
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
    return response


def _error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return _with_cors(request, JsonResponse({"error": message}, status=status))


def _codec_view(transform, permission: str):
    """A view that answers the preflight, checks who asks (a staff user with
    the package's `permission`) and from where, and runs
    `transform(codec, payload)` over each payload posted."""

    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        codec = payload_codec()
        if codec is None:
            return _error(request, 404, "Payload encryption is off")
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS":
            response = _with_cors(request, HttpResponse(status=204))
            if "Access-Control-Allow-Origin" in response:
                response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
                response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                response["Access-Control-Max-Age"] = "600"
            return response
        if request.method != "POST":
            response = _error(request, 405, "Use POST")
            response["Allow"] = "POST, OPTIONS"
            return response
        if origin is not None and origin.lower() != allowed_origin():
            return _error(request, 403, "Origin not allowed")
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return _error(request, 403, "Staff users only")
        if not user.has_perm(f"django_temporal_bridge.{permission}"):
            return _error(request, 403, f"Needs the {permission} permission")
        body = request.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return _error(request, 413, f"More than {MAX_BODY_BYTES:,} bytes")
        try:
            posted = json_format.Parse(body, Payloads(), ignore_unknown_fields=True)
        except (json_format.ParseError, UnicodeDecodeError) as error:
            return _error(request, 400, f"Not a JSON Payloads message: {error}")
        try:
            payloads = [transform(codec, payload) for payload in posted.payloads]
        except PayloadDecryptionError as error:
            return _error(request, 400, str(error))
        answer = {"payloads": [json_format.MessageToDict(p) for p in payloads]}
        return _with_cors(request, JsonResponse(answer))

    return view


decode = _codec_view(EncryptionCodec.decrypt, "decode_payloads")
encode = _codec_view(EncryptionCodec.encrypt, "encode_payloads")
