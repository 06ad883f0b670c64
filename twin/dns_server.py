"""The Route 53 Resolver of each VPC (CIDR base + 2), answering from the sandbox's current state."""

import threading

from dnslib import CNAME, QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from twin import model

TTL = 1  # clients must not keep an answer across a change made in the sandbox


class VpcResolver(BaseResolver):
    def __init__(self, vpc_id, current):
        """current() -> the snapshot of the last applied generation."""
        self.vpc_id, self.current = vpc_id, current

    def resolve(self, request, handler):
        reply = request.reply()
        qname = str(request.q.qname)
        qtype = QTYPE[request.q.qtype]
        answer = model.resolve(self.current(), self.vpc_id, qname)
        if answer.rcode == "NXDOMAIN":
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        if answer.rcode == "SERVFAIL":
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        for name, _type, target in answer.cnames:
            reply.add_answer(RR(name + ".", QTYPE.CNAME, rdata=CNAME(target + "."), ttl=TTL))
        if qtype in ("A", "ANY"):
            for address in answer.addresses:
                reply.add_answer(RR((answer.cnames[-1][2] if answer.cnames else qname.rstrip(".")) + ".",
                                    QTYPE.A, rdata=A(address), ttl=TTL))
        return reply


class _QuietLogger(DNSLogger):
    def __init__(self):
        super().__init__(log="-request,-reply,-truncated,-error,-recv,-send,-data")


def open_resolver(vpc_id, address, current):
    """UDP and TCP servers on address:53 (call inside the VPC's namespace); returns them, not started."""
    resolver = VpcResolver(vpc_id, current)
    servers = [DNSServer(resolver, port=53, address=address, tcp=tcp, logger=_QuietLogger()) for tcp in (False, True)]
    threads = [threading.Thread(target=s.server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True,
                                name="dns-%s-%s" % (vpc_id, "tcp" if s.server.socket.type == 1 else "udp"))
               for s in servers]
    return servers, threads
