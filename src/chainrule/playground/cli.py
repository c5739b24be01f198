"""``chainrule playground [--host H] [--port P] [--open] [--token T | --no-token]``: start the
Playground server.

``playground`` is the click command registered in ``chainrule/cli.py``; ``main`` is the same
command on argparse for ``python -m chainrule.playground`` (no click needed).
"""
import argparse
import sys

from .server import DEFAULT_HOST, DEFAULT_PORT

HELP = "Start the Playground: train networks live in the browser."


def add_arguments(parser):
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to bind (default {DEFAULT_HOST}; anything else is reachable "
                             f"from other machines and prints a warning)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--open", action="store_true", help="open the page in a web browser")
    parser.add_argument("--token", default=None,
                        help="the token a non-loopback --host requires (default: a random one, "
                             "printed in the URL)")
    parser.add_argument("--no-token", action="store_true",
                        help="serve a non-loopback --host without a token: anyone who can reach "
                             "it can use it")
    parser.add_argument("--max-sessions", type=int, default=None,
                        help="most browser tabs served at once (default 32)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes the sessions train in (default: one per CPU core; 0 "
                             "trains in the server process)")


def run(args):
    try:
        from .server import serve
    except ImportError as e:   # the playground extra is missing
        print(f"chainrule playground needs the 'playground' extra ({e.name} is missing): "
              f"pip install 'chainrule[playground]'", file=sys.stderr)
        return 1
    if not 0 < args.port < 65536:
        print(f"chainrule playground: --port must be in 1..65535, got {args.port}", file=sys.stderr)
        return 2
    try:
        serve(host=args.host, port=args.port, open_browser=args.open,
              max_sessions=args.max_sessions, workers=getattr(args, "workers", None),
              token=getattr(args, "token", None), no_token=getattr(args, "no_token", False))
    except KeyboardInterrupt:
        pass
    except OSError as e:
        print(f"chainrule playground: cannot listen on {args.host}:{args.port}: {e}",
              file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="chainrule playground", description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv))


try:
    import click
except ImportError:     # only ``chainrule playground`` needs click; ``python -m`` does not
    click = None

if click is not None:
    @click.command(help=HELP)
    @click.option("--host", default=DEFAULT_HOST, show_default=True,
                  help="Address to bind; anything but loopback is reachable from other machines "
                       "(prints a warning).")
    @click.option("--port", default=DEFAULT_PORT, show_default=True, type=int,
                  help="Port to listen on.")
    @click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser.")
    @click.option("--max-sessions", default=None, type=int,
                  help="Most browser tabs served at once (default 32).")
    @click.option("--workers", default=None, type=int,
                  help="Processes the sessions train in (default: one per CPU core; 0 trains in "
                       "the server process).")
    @click.option("--token", default=None,
                  help="The token a non-loopback --host requires (default: a random one, printed "
                       "in the URL).")
    @click.option("--no-token", is_flag=True,
                  help="Serve a non-loopback --host without a token: anyone who can reach it can "
                       "use it.")
    def playground(host, port, open_browser, max_sessions, workers, token, no_token):
        code = run(argparse.Namespace(host=host, port=port, open=open_browser,
                                      max_sessions=max_sessions, workers=workers, token=token,
                                      no_token=no_token))
        if code:
            sys.exit(code)
