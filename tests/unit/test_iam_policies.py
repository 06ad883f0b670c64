"""docs/iam/*.json: current with their generator, and covering every AWS call the modules make."""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "docs" / "iam"
# boto3 method -> IAM action prefix of the client it is called on (EC2 unless listed).
ROUTE53 = {"associate_vpc_with_hosted_zone", "disassociate_vpc_from_hosted_zone", "create_hosted_zone",
           "delete_hosted_zone", "get_hosted_zone", "list_hosted_zones", "list_hosted_zones_by_vpc",
           "list_resource_record_sets", "change_resource_record_sets", "change_tags_for_resource",
           "list_tags_for_resources", "create_vpc_association_authorization",
           "delete_vpc_association_authorization", "list_vpc_association_authorizations"}
SPECIAL = {"get_caller_identity": "sts:GetCallerIdentity", "associate_vpc_with_hosted_zone": "route53:AssociateVPCWithHostedZone",
           "disassociate_vpc_from_hosted_zone": "route53:DisassociateVPCFromHostedZone",
           "list_hosted_zones_by_vpc": "route53:ListHostedZonesByVPC",
           "create_vpc_association_authorization": "route53:CreateVPCAssociationAuthorization",
           "delete_vpc_association_authorization": "route53:DeleteVPCAssociationAuthorization",
           "list_vpc_association_authorizations": "route53:ListVPCAssociationAuthorizations"}
VERBS = ("describe", "create", "delete", "modify", "authorize", "revoke", "associate", "disassociate",
         "change", "list", "get", "accept", "replace")


def actions(name):
    found = set()
    for entry in json.loads((POLICIES / (name + ".json")).read_text())["Statement"]:
        found.update(entry["Action"])
    return found


def called_actions():
    """IAM actions of the boto3 calls in the collection's modules and module_utils."""
    wanted = set()
    sources = [p.read_text() for p in (ROOT / "plugins").rglob("*.py")]
    own = set(re.findall(r"def ([a-z0-9_]+)\(", "\n".join(sources))) | {"create_connection"}  # socket's
    for path in list((ROOT / "plugins" / "modules").glob("*.py")) + list((ROOT / "plugins" / "module_utils").glob("*.py")):
        for method in re.findall(r"\b((?:%s)_[a-z0-9_]+)\(" % "|".join(VERBS), path.read_text()):
            if method in own:
                continue
            if method in SPECIAL:
                wanted.add(SPECIAL[method])
            elif method in ROUTE53:
                wanted.add("route53:" + "".join(part.capitalize() for part in method.split("_")))
            elif method.startswith(VERBS) and not method.startswith(("get_", "list_")):
                wanted.add("ec2:" + "".join(part.capitalize() for part in method.split("_")))
    return wanted


def test_policies_are_generated():
    process = subprocess.run([sys.executable, str(ROOT / "docs" / "generate_iam.py"), "--check"],
                             capture_output=True, text=True, check=False)
    assert process.returncode == 0, process.stderr


def test_every_call_is_allowed_on_the_endpoint_account():
    # AWS allows sts:GetCallerIdentity to everyone, so no policy needs it.
    missing = called_actions() - actions("peered_region_endpoint_account") - {"sts:GetCallerIdentity"}
    assert not missing, "add to docs/generate_iam.py: %s" % sorted(missing)


def test_cross_region_adds_only_allow_multi_region():
    assert actions("cross_region") - actions("same_region") == {"vpce:AllowMultiRegion"}
    assert "vpce:AllowMultiRegion" not in actions("peered_region_endpoint_account")


def test_deletes_need_the_ownership_tag():
    for path in POLICIES.glob("*.json"):
        for entry in json.loads(path.read_text())["Statement"]:
            if any(a.startswith(("ec2:Delete", "ec2:DeleteTags")) and "Route" not in a for a in entry["Action"]):
                assert "aws:ResourceTag" in json.dumps(entry.get("Condition", {})), (path.name, entry["Sid"])
