"""``intygsgateway mock-recipient``: run the recipient (Försäkringskassan) and certificate-archive simulator."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

from cli.mock_journal import tls_context
from simulator.journal import KEEP_RAW_DEFAULT, Mode
from simulator.recipient import CONTRACT_PATHS, MockRecipient
from simulator.server import serving


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "mock-recipient",
        help="run a simulated recipient (Försäkringskassan) or certificate archive",
        description="Serve RegisterCertificate, SendCertificateToRecipient, RevokeCertificate and "
        "SendMessageToRecipient at their platform paths (/clinicalprocess/healthcond/certificate/<Contract>/"
        "<major>/rivtabp21, with ?wsdl), validating every request against xsd/ and answering as Försäkringskassan "
        "and the archive do (duplicates with their INFO texts). Received requests are listed at GET "
        "/_mock/received; failures are set at run time with PUT /_mock/mode/<mode>[?contract=C][&address=A]. "
        "With --care-url it also acts as Försäkringskassan: POST /_mock/send-message-to-care calls the "
        "gateway's SendMessageToCare. See docs/mock-recipient.md.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8082, help="listen port (default 8082; 0 picks a free one)")
    parser.add_argument("--care-url", metavar="URL",
                        help="the gateway's SendMessageToCare URL (or its base URL), for POST "
                        "/_mock/send-message-to-care")
    parser.add_argument("--mode", choices=[mode.value for mode in Mode], default=Mode.OK.value,
                        help="how to answer every call (default ok: as the recipient would)")  # fmt: skip
    parser.add_argument("--delay", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long before every answer (default 0)")
    parser.add_argument("--keep-raw", type=int, default=KEEP_RAW_DEFAULT, metavar="N",
                        help=f"keep the raw XML of the latest N requests (default {KEEP_RAW_DEFAULT})")  # fmt: skip
    parser.add_argument("--tls-cert", metavar="FILE", help="PEM server certificate: serve HTTPS (with --tls-key)")
    parser.add_argument("--tls-key", metavar="FILE", help="PEM private key of --tls-cert")
    parser.add_argument("--tls-client-ca", metavar="FILE", help="PEM CA bundle: require a client certificate")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.delay < 0 or args.keep_raw < 0:
        print("intygsgateway: --delay and --keep-raw cannot be negative", file=sys.stderr)
        return 2
    try:
        tls = tls_context(args.tls_cert, args.tls_key, args.tls_client_ca)
        recipient = MockRecipient(args.care_url, Mode(args.mode), args.delay, args.keep_raw)
    except ValueError as wrong:
        print(f"intygsgateway: {wrong}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with serving(recipient, args.host, args.port, tls) as base:
        print(f"mock recipient listening at {base} (mode {args.mode}); stop with Ctrl-C", flush=True)
        for name, path in CONTRACT_PATHS.items():
            print(f"  {name}: {base}{path}", flush=True)
        stop.wait()
    return 0
