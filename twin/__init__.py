"""The network twin: Linux network namespaces built from the AWS sandbox's state.

Real clients run inside a VPC's namespace (``ip netns exec ddpl-<vpc-id> ...``); the twin
answers DNS as the VPC's Route 53 Resolver would, lets through only what routes, peering and
security groups admit, and records at a TLS intake whether each request went through a VPC
endpoint (private) or the public internet. Not shipped with the collection (see docs/twin.md).
"""
