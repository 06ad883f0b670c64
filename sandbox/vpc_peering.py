"""VPC peering: DescribeVpcPeeringConnections filters, which moto 5.2.5 ignores.

moto returns every connection of the account whatever the Filters; AWS filters, and
amazon.aws.ec2_vpc_peering relies on it to find the connection joining two VPCs (without
it, requesting a second connection in a region returns the first one).

Tags: AWS keeps each side's tags of a connection apart (a tag set in one region or account is
not seen from the other); moto reads them from the requester's region whatever region asks.
"""

from moto.core.responses import ActionResult
from moto.ec2.responses.vpc_peering_connections import VPCPeeringConnections

# Filter name -> the value of a connection it compares (AWS's names).
PEERING_FILTERS = {
    "requester-vpc-info.vpc-id": lambda pcx: pcx.vpc.id,
    "accepter-vpc-info.vpc-id": lambda pcx: pcx.peer_vpc.id,
    "requester-vpc-info.owner-id": lambda pcx: pcx.vpc.owner_id,
    "accepter-vpc-info.owner-id": lambda pcx: pcx.peer_vpc.owner_id,
    "requester-vpc-info.cidr-block": lambda pcx: pcx.vpc.cidr_block,
    "accepter-vpc-info.cidr-block": lambda pcx: pcx.peer_vpc.cidr_block,
    "status-code": lambda pcx: pcx._status.code,
    "vpc-peering-connection-id": lambda pcx: pcx.id,
}


class _SideView:
    """A connection as the asking region and account see it: their own tags."""

    def __init__(self, pcx, backend):
        self._pcx, self._backend = pcx, backend

    def __getattr__(self, name):
        return getattr(self._pcx, name)

    def get_tags(self):
        return self._backend.describe_tags(filters={"resource-id": [self._pcx.id]})

    tags = tag_set = tag_list = property(get_tags)


def _describe_vpc_peering_connections(self):
    found = self.ec2_backend.describe_vpc_peering_connections(vpc_peering_ids=self._get_param("VpcPeeringConnectionIds", []))
    found = [_SideView(p, self.ec2_backend) for p in found]
    for name, values in self._filters_from_querystring().items():
        if name.startswith("tag:"):
            found = [p for p in found if {t["key"]: t["value"] for t in p.get_tags()}.get(name[4:]) in values]
        elif name == "tag-key":
            found = [p for p in found if set(t["key"] for t in p.get_tags()) & set(values)]
        elif name in PEERING_FILTERS:
            found = [p for p in found if PEERING_FILTERS[name](p) in values]
        else:
            raise ValueError("the sandbox does not know the DescribeVpcPeeringConnections filter %r" % name)
    return ActionResult({"VpcPeeringConnections": found})


def install():
    VPCPeeringConnections.describe_vpc_peering_connections = _describe_vpc_peering_connections
