"""python -m twin up|down|status|sync  (and `daemon`, which `up` starts)."""

import argparse
import json
import signal
import sys

from twin import paths


def _pairs(values):
    out = {}
    for value in values or ():
        vpc_id, sep, group_id = value.partition("=")
        if not sep or not vpc_id.startswith("vpc-") or not group_id.startswith("sg-"):
            raise SystemExit("--agent-security-group takes VPC=SG, for example vpc-0abc=sg-0def (got %r)" % value)
        out[vpc_id] = group_id
    return out


def main(argv=None):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `twin status | head` ends quietly (the daemon sets its own)
    parser = argparse.ArgumentParser(prog="python -m twin", description="The network twin of the AWS sandbox.")
    parser.add_argument("--state-dir", default=None, help="where the twin keeps its files (default .cache/twin)")
    verbs = parser.add_subparsers(dest="verb", required=True)
    up = verbs.add_parser("up", help="build the namespaces from the sandbox's state and start the daemon")
    up.add_argument("--endpoint-url", help="the sandbox's URL (default: from .cache/sandbox.env)")
    up.add_argument("--account-key", action="append", default=[],
                    help="access key of another account to read (AKIASBOX<12 digits>); repeatable")
    up.add_argument("--vpc", action="append", default=[], help="also model this VPC; repeatable")
    up.add_argument("--agent-security-group", action="append", default=[], metavar="VPC=SG",
                    help="the Agent host of VPC is in security group SG (its egress rules apply); repeatable")
    up.add_argument("--lifetime", type=float, default=None, help="seconds before the daemon stops by itself (2 h)")
    up.add_argument("--json", action="store_true", help="print the layout as JSON")
    verbs.add_parser("down", help="stop the daemon, delete the namespaces (idempotent)")
    verbs.add_parser("status", help="per VPC: namespace, Agent host, resolver, endpoints")
    sync = verbs.add_parser("sync", help="wait until the twin applied the sandbox's current state")
    sync.add_argument("--timeout", type=float, default=10.0)
    prove = verbs.add_parser("prove", help="in every VPC, the real clients send a log and a metric: a table of where they landed")
    prove.add_argument("--site", default="datadoghq.com")
    daemon = verbs.add_parser("daemon", help=argparse.SUPPRESS)
    daemon.add_argument("--lifetime", type=float, default=None)
    args = parser.parse_args(argv)

    from twin import api
    from twin.aws_state import TwinError
    from twin.net import NetError

    try:
        if args.verb == "up":
            conf = api.up(endpoint_url=args.endpoint_url, account_keys=args.account_key, vpcs=args.vpc,
                          agent_groups=_pairs(args.agent_security_group), state_dir=args.state_dir, lifetime=args.lifetime)
            if args.json:
                print(json.dumps(conf["layout"], indent=1, sort_keys=True))
            else:
                print(api.status(args.state_dir))
                print("up in %.1f s; requests are recorded in %s" % (conf["seconds"], paths.requests_path(args.state_dir)))
        elif args.verb == "down":
            print("twin down" if api.down(args.state_dir) else "no twin here")
        elif args.verb == "status":
            print(api.status(args.state_dir))
        elif args.verb == "sync":
            print("generation %s applied" % api.wait_synced(args.timeout, args.state_dir))
        elif args.verb == "prove":
            table, ok = api.prove(args.site, state_dir=args.state_dir)
            print(table)
            return 0 if ok else 1
        elif args.verb == "daemon":
            from twin import daemon

            return daemon.main(args.state_dir or str(paths.STATE_DIR),
                               **({"lifetime": args.lifetime} if args.lifetime else {}))
    except (TwinError, NetError) as exc:
        print("twin: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
