"""``intygsgateway mock-recipient``: run the recipient (Försäkringskassan) and certificate-archive simulator."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cli.mock_journal import add_simulator_options, simulator_tls, stop_on_signals
from simulator.journal import Mode
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
    add_simulator_options(parser, 8082, mode_help="how to answer every call (default ok: as the recipient would)",
                          delay_help="wait this long before every answer (default 0)")
    parser.add_argument("--care-url", metavar="URL",
                        help="the gateway's SendMessageToCare URL (or its base URL), for POST "
                        "/_mock/send-message-to-care")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        tls = simulator_tls(args)
        recipient = MockRecipient(args.care_url, Mode(args.mode), args.delay, args.keep_raw)
    except ValueError as wrong:
        print(f"intygsgateway: {wrong}", file=sys.stderr)
        return 2
    stop = stop_on_signals()
    with serving(recipient, args.host, args.port, tls) as base:
        print(f"mock recipient listening at {base} (mode {args.mode}); stop with Ctrl-C", flush=True)
        for name, path in CONTRACT_PATHS.items():
            print(f"  {name}: {base}{path}", flush=True)
        stop.wait()
    return 0
