"""The fixed world of the sample: the company, its account, people, addresses and resources.

Names and addresses are constants so the README can tell the story; identifiers that AWS would
generate (keys, unique ids, instance ids) come from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .ids import Ids, derive

ACCOUNT_ID = "047391826504"  # leading zero on purpose: account ids are text
COMPANY = "Sakura Commerce K.K."
TRAIL_NAME = "sakura-main-trail"
TRAIL_HOME_REGION = "ap-northeast-1"
LOG_BUCKET = f"sakura-audit-logs-{ACCOUNT_ID}"
ORDERS_BUCKET = "sakura-shop-orders-prod"  # the trail records S3 data events for this bucket
ASSETS_BUCKET = "sakura-shop-assets-prod"
REPORTS_BUCKET = "sakura-sales-reports"
EDGE_BUCKET = "sakura-cdn-logs-use1"
SCANNER_ACCOUNT_ID = "318642907515"  # the security vendor's account that scans every region
EMAIL_DOMAIN = "sakura-commerce.co.jp"

HOME_REGION = "ap-northeast-1"
GLOBAL_REGION = "us-east-1"  # IAM, STS's global endpoint and other global services log here

# The 17 regions enabled by default, in the order ec2:DescribeRegions lists them.
# code: (CUR usage-type prefix, location as billing names it, AZ-id prefix)
REGIONS: dict[str, tuple[str, str, str]] = {
    "ap-south-1": ("APS3", "Asia Pacific (Mumbai)", "aps1"),
    "eu-north-1": ("EUN1", "EU (Stockholm)", "eun1"),
    "eu-west-3": ("EUW3", "EU (Paris)", "euw3"),
    "eu-west-2": ("EUW2", "EU (London)", "euw2"),
    "eu-west-1": ("EU", "EU (Ireland)", "euw1"),
    "ap-northeast-3": ("APN3", "Asia Pacific (Osaka)", "apne3"),
    "ap-northeast-2": ("APN2", "Asia Pacific (Seoul)", "apne2"),
    "ap-northeast-1": ("APN1", "Asia Pacific (Tokyo)", "apne1"),
    "ca-central-1": ("CAN1", "Canada (Central)", "cac1"),
    "sa-east-1": ("SAE1", "South America (Sao Paulo)", "sae1"),
    "ap-southeast-1": ("APS1", "Asia Pacific (Singapore)", "apse1"),
    "ap-southeast-2": ("APS2", "Asia Pacific (Sydney)", "apse2"),
    "eu-central-1": ("EUC1", "EU (Frankfurt)", "euc1"),
    "us-east-1": ("USE1", "US East (N. Virginia)", "use1"),
    "us-east-2": ("USE2", "US East (Ohio)", "use2"),
    "us-west-1": ("USW1", "US West (N. California)", "usw1"),
    "us-west-2": ("USW2", "US West (Oregon)", "usw2"),
}

# Addresses (all publicly routable, so "is this a public address" checks behave as in real life).
OFFICE_IPS = ("202.214.87.36", "202.214.87.37")  # Tokyo office egress
CI_IP = "35.74.118.20"  # self-hosted CI runner's Elastic IP in Tokyo
WEB_NAT_IP = "54.178.66.103"  # NAT gateway of the production VPC
LAMBDA_IPS = ("13.231.90.17", "52.194.204.8", "3.113.218.41")
SCANNER_IPS = ("44.230.71.18", "44.230.71.19")
ATTACKER_RECON_IP = "45.155.205.107"  # hosting provider; the leaked key's first new address
ATTACKER_LAUNCH_IP = "193.233.139.52"  # runs the mass-launch script
SSRF_IP = "146.70.185.36"  # VPS that replays the stolen instance credentials
MINING_POOLS = (("141.94.96.144", 3333), ("51.15.58.224", 14444), ("94.130.12.30", 4444))
MINER_DOWNLOAD = ("140.82.121.4", 443)


@dataclass(frozen=True)
class IamUser:
    name: str
    principal_id: str
    access_key: str

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT_ID}:user/{self.name}"


@dataclass(frozen=True)
class Role:
    name: str
    role_id: str
    path: str = "/"

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT_ID}:role{self.path}{self.name}"

    def session_arn(self, session: str) -> str:
        return f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{self.name}/{session}"


@dataclass(frozen=True)
class Host:
    """A network interface of an instance (or of a managed service) in the flow logs."""

    instance_id: str
    eni: str
    private_ip: str
    volume_id: str = ""


@dataclass
class World:
    """Everything the story refers to by id, drawn once from the seed."""

    tanaka: IamUser  # the developer whose key leaks
    ci: IamUser
    developer_sso: Role
    admin_sso: Role
    web_role: Role
    nightly_role: Role
    remediator_role: Role
    scanner_role: Role
    autoscaling_slr: Role
    config_slr: Role
    web: tuple[Host, Host]
    prod_vpc: str
    prod_subnets: tuple[str, str]
    alb: tuple[Host, Host]
    rds: Host
    rds_standby: Host  # the Multi-AZ standby: idle, so its flow records say NODATA
    nat: Host
    nat_gateway_id: str
    default_vpcs: dict[str, str] = field(default_factory=dict)
    default_subnets: dict[str, str] = field(default_factory=dict)
    amis: dict[str, str] = field(default_factory=dict)
    kms_key_id: str = ""


def _user(ids: Ids, name: str) -> IamUser:
    return IamUser(name, ids.unique_id("AIDA"), ids.access_key("AKIA"))


def _role(ids: Ids, name: str, path: str = "/") -> Role:
    return Role(name, ids.unique_id("AROA"), path)


def build_world(seed: int) -> World:
    """Draw the ids of people, roles and resources for this seed."""
    ids = Ids(derive(seed, "world"))
    sso_path = "/aws-reserved/sso.amazonaws.com/ap-northeast-1/"
    world = World(
        tanaka=_user(ids, "dev-tanaka"),
        ci=_user(ids, "ci-deploy"),
        developer_sso=_role(ids, f"AWSReservedSSO_DeveloperAccess_{ids.hex(16)}", sso_path),
        admin_sso=_role(ids, f"AWSReservedSSO_AdministratorAccess_{ids.hex(16)}", sso_path),
        web_role=_role(ids, "sakura-web-app-role"),
        nightly_role=_role(ids, "nightly-sales-report-role"),
        remediator_role=_role(ids, "s3-bucket-policy-remediator-role"),
        scanner_role=_role(ids, "SecurityAuditScannerRole"),
        autoscaling_slr=_role(
            ids, "AWSServiceRoleForAutoScaling", "/aws-service-role/autoscaling.amazonaws.com/"
        ),
        config_slr=_role(ids, "AWSServiceRoleForConfig", "/aws-service-role/config.amazonaws.com/"),
        web=(
            Host(ids.resource("i"), ids.resource("eni"), "10.20.11.57", ids.resource("vol")),
            Host(ids.resource("i"), ids.resource("eni"), "10.20.12.140", ids.resource("vol")),
        ),
        prod_vpc=ids.resource("vpc"),
        prod_subnets=(ids.resource("subnet"), ids.resource("subnet")),
        alb=(
            Host("-", ids.resource("eni"), "10.20.1.23"),
            Host("-", ids.resource("eni"), "10.20.2.88"),
        ),
        rds=Host("-", ids.resource("eni"), "10.20.21.9"),
        rds_standby=Host("-", ids.resource("eni"), "10.20.22.9"),
        nat=Host("-", ids.resource("eni"), "10.20.1.200"),
        nat_gateway_id=ids.resource("nat"),
        kms_key_id=ids.uuid(),
    )
    for region in REGIONS:
        world.default_vpcs[region] = f"vpc-{ids.hex(8)}"  # default VPCs carry short ids
        world.default_subnets[region] = f"subnet-{ids.hex(8)}"
        world.amis[region] = ids.resource("ami")
    return world
