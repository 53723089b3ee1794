"""``intygsgateway mock-journal``: run the journal-system simulator for demos, tests and benchmarks."""

from __future__ import annotations

import argparse
import signal
import ssl
import sys
import threading
from types import FrameType
from typing import Any

from simulator.journal import KEEP_RAW_DEFAULT, MockJournal, Mode
from simulator.server import running


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "mock-journal",
        help="run a simulated journal system that receives status updates",
        description="Serve CertificateStatusUpdateForCare at "
        "/clinicalprocess/healthcond/certificate/CertificateStatusUpdateForCare/3/rivtabp21 "
        "(and its ?wsdl), answering as --mode says. Received requests are listed at GET /_mock/received; "
        "the mode changes at run time with PUT /_mock/mode/<mode>[?address=HSA-ID]. Use it to watch "
        "status updates arrive, to provoke every delivery outcome, and as the far end of benchmarks. "
        "See docs/mock-journal.md.",
    )
    add_simulator_options(parser, 8081, mode_help="how to answer (default ok)",
                          delay_help="wait this long before every answer (default 0; 'slow' waits 600 s when 0)")
    parser.set_defaults(run=run)


def add_simulator_options(parser: argparse.ArgumentParser, port: int, mode_help: str, delay_help: str) -> None:
    """The options both simulators take: where to listen, how to answer, what to keep, TLS."""
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=port, help=f"listen port (default {port}; 0 picks a free one)")
    parser.add_argument("--mode", choices=[mode.value for mode in Mode], default=Mode.OK.value, help=mode_help)
    parser.add_argument("--delay", type=float, default=0.0, metavar="SECONDS", help=delay_help)
    parser.add_argument("--keep-raw", type=int, default=KEEP_RAW_DEFAULT, metavar="N",
                        help=f"keep the raw XML of the latest N requests (default {KEEP_RAW_DEFAULT})")  # fmt: skip
    parser.add_argument("--tls-cert", metavar="FILE", help="PEM server certificate: serve HTTPS (with --tls-key)")
    parser.add_argument("--tls-key", metavar="FILE", help="PEM private key of --tls-cert")
    parser.add_argument("--tls-client-ca", metavar="FILE",
                        help="PEM CA bundle: require a client certificate it signed (mutual TLS, as on the "
                        "national platform); try it with the files of `intygsgateway dev-pki`")  # fmt: skip


def simulator_tls(args: argparse.Namespace) -> ssl.SSLContext | None:
    """The TLS context ``add_simulator_options``' options ask for (None: plain HTTP).

    Raises ``ValueError`` for a negative --delay or --keep-raw, a half-given pair, or a client CA
    without a server certificate.
    """
    if args.delay < 0 or args.keep_raw < 0:
        raise ValueError("--delay and --keep-raw cannot be negative")
    return tls_context(args.tls_cert, args.tls_key, args.tls_client_ca)


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT: a simulator serves until it is set."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def tls_context(cert: str | None, key: str | None, client_ca: str | None) -> ssl.SSLContext | None:
    """The server-side TLS context the options ask for, or None for plain HTTP.

    Raises ``ValueError`` for a half-given pair or a client CA without a server certificate.
    """
    if bool(cert) != bool(key):
        raise ValueError("--tls-cert and --tls-key go together")
    if client_ca and not cert:
        raise ValueError("--tls-client-ca needs --tls-cert and --tls-key")
    if not cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    if client_ca:
        context.load_verify_locations(cafile=client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
        # TLS 1.2, so that a refused client certificate fails the handshake itself: under TLS 1.3 the
        # refusal comes after the client's handshake as an alert, which asyncio's server drops on close
        # (the client would see a closed connection instead of a TLS error).
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


def run(args: argparse.Namespace) -> int:
    try:
        tls = simulator_tls(args)
    except ValueError as wrong:
        print(f"intygsgateway: {wrong}", file=sys.stderr)
        return 2
    journal = MockJournal(Mode(args.mode), delay_s=args.delay, keep_raw=args.keep_raw)
    stop = stop_on_signals()
    with running(journal, args.host, args.port, tls) as url:
        print(f"mock journal listening at {url} (mode {args.mode}); stop with Ctrl-C", flush=True)
        stop.wait()
    return 0
