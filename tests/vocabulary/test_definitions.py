"""The vocabulary's definitions (DESIGN.md, Definitions) asserted on records loaded through the
real loader: outcome, read-only, escalation by effect, used regions, key first seen.

Each fact names a meaning DESIGN.md defines, not the vocabulary's internal lists (other work adds
rows to them). tests/mutation/mutate_sql.py found these facts unasserted: each test here kills
mutants of forensics/vocabulary/*.sql that the detections' fixtures let through.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import forensics
from tests.investigate.trail import ACCOUNT, Trail, session, t, user

OTHER = "444455556666"  # a second account of the same organisation
OUTSIDE = "999988887777"  # an account outside it
IP = "203.0.113.10"
UA = "aws-cli/2.15.0"
ALICE = user("alice", "AKIAALICE00000000001")

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
ADMIN_DOC = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
S3_READ_DOC = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
)
PASS_ROLE_DOC = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "iam:PassRole"], "Resource": "*"}],
    }
)
DENY_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
)


DRY_RUN_MESSAGE = "Request would have succeeded, but DryRun flag is set."


def at(when: str):
    """ "MM-DD HH:MM" in 2026, UTC."""
    return t(f"2026-{when.replace(' ', 'T')}:00Z")


def trust(principal: str, kind: str = "AWS") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {kind: principal}, "Action": "sts:AssumeRole"}],
        }
    )


def other_account(rec: dict[str, Any], account: str) -> dict[str, Any]:
    """The same record as delivered for (and made in) another account."""
    ident = rec["userIdentity"]
    ident["accountId"] = account
    ident["arn"] = ident["arn"].replace(ACCOUNT, account)
    rec["recipientAccountId"] = account
    return rec


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory):
    trail = Trail()
    ids: dict[str, str] = {}

    def add(label: str, when: str, service: str, name: str, **kw: Any) -> dict[str, Any]:
        """A record at `when` ("MM-DD HH:MM", 2026) by alice unless `identity=` says otherwise."""
        identity = kw.pop("identity", ALICE)
        rec = trail.add(
            at(when),
            service,
            name,
            json.loads(json.dumps(identity)),
            IP,
            UA,
            **kw,
        )
        ids[label] = rec["eventID"]
        return rec

    # outcome (DESIGN.md, Denied / Dry run)
    add("denied_exception", "03-01 10:00", "secretsmanager", "GetSecretValue",
        error=("AccessDeniedException", "Access to the secret was refused"))  # fmt: skip
    add("unauthorized_op", "03-01 10:01", "ec2", "RunInstances", region="sa-east-1",
        error=("Client.UnauthorizedOperation", "You are not authorized for this operation."))  # fmt: skip
    add("throttled", "03-01 10:02", "ec2", "DescribeInstances", region="sa-east-1",
        error=("ThrottlingException", "Rate exceeded"))  # fmt: skip
    add("dry_run", "03-01 10:03", "ec2", "RunInstances", region="sa-east-1",
        error=("Client.DryRunOperation", DRY_RUN_MESSAGE))  # fmt: skip
    add("explicit_deny", "03-01 10:04", "ec2", "TerminateInstances", region="sa-east-1",
        error=("Client.OperationNotPermitted", "denied with an explicit deny in an SCP"))  # fmt: skip
    add("succeeded", "03-01 10:05", "sts", "GetCallerIdentity")
    add("dry_run_bare", "03-01 10:06", "ec2", "RunInstances", region="sa-east-1",
        error=("DryRunOperation", DRY_RUN_MESSAGE))  # fmt: skip
    add("not_authorized_message", "03-01 10:07", "cloudformation", "CreateStack", region="sa-east-1",
        error=("ValidationError", f"User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: "
                                  "iam:PassRole on resource: deploy"))  # fmt: skip
    add("authorization_error", "03-01 10:08", "sts", "GetCallerIdentity",
        error=("AuthorizationError", "refused"))  # fmt: skip
    add("unauthorized_access", "03-01 10:09", "sts", "GetCallerIdentity",
        error=("UnauthorizedAccess", "refused"))  # fmt: skip
    add("code_without_message", "03-01 10:10", "iam", "GetUser", error=("NoSuchEntityException", ""))
    del add("code_without_message_2", "03-01 10:11", "iam", "GetRole",
            error=("NoSuchEntityException", "x"))["errorMessage"]  # fmt: skip
    # a failed console sign-in carries only a message
    del add("message_without_code", "03-01 10:12", "signin", "ConsoleLogin",
            error=("x", "Failed authentication"))["errorCode"]  # fmt: skip

    # read-only (DESIGN.md, Read-only): as recorded; derived from the name when the record lacks it
    del add("derived_read", "03-01 11:00", "ec2", "DescribeInstances", region="ca-central-1")["readOnly"]
    del add("derived_write", "03-01 11:01", "ec2", "RunInstances", region="eu-west-1")["readOnly"]
    add("recorded_write", "03-01 11:02", "ec2", "DescribeInstances", region="us-west-2", read_only=False)

    # acting for a principal, and whose address speaks for the caller's network
    add("own_call", "03-01 11:10", "sts", "GetCallerIdentity")
    via = add("through_service", "03-01 11:11", "cloudformation", "CreateStack", region="sa-east-1")
    via["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"
    add("internal_source", "03-01 11:12", "sts", "GetCallerIdentity")["sourceIPAddress"] = "AWS Internal"
    svc = add("service_own", "03-01 11:13", "sts", "AssumeRole",
              identity={"type": "AWSService", "invokedBy": "ec2.amazonaws.com"})  # fmt: skip
    svc["sourceIPAddress"] = "ec2.amazonaws.com"
    svc_ip = add("service_with_address", "03-01 11:14", "sts", "AssumeRole",
                 identity={"type": "AWSService"})  # fmt: skip
    svc_ip["sourceIPAddress"] = "198.51.100.20"
    add("no_type_invoked", "03-01 11:15", "s3", "GetObject", region="sa-east-1",
        identity={"invokedBy": "athena.amazonaws.com", "accountId": ACCOUNT})  # fmt: skip
    add("role_session", "03-01 11:16", "sts", "GetCallerIdentity",
        identity=session("builder", "ci-run", "ASIABUILDER000000001"))  # fmt: skip

    # escalation by effect (DESIGN.md, Privilege escalation)
    role_session = session("builder", "ci-run", "ASIABUILDER000000001")
    add("key_self", "03-01 12:00", "iam", "CreateAccessKey", params={})
    add("key_self_named", "03-01 12:01", "iam", "CreateAccessKey", params={"userName": "alice"})
    add("key_other", "03-01 12:02", "iam", "CreateAccessKey", params={"userName": "bob"})
    add("readonly_policy_other_role", "03-01 12:03", "iam", "AttachRolePolicy",
        params={"roleName": "reporting", "policyArn": READ_ONLY})  # fmt: skip
    add("admin_policy_other_role", "03-01 12:04", "iam", "AttachRolePolicy",
        params={"roleName": "reporting", "policyArn": ADMIN})  # fmt: skip
    add("admin_inline_other_user", "03-01 12:05", "iam", "PutUserPolicy",
        params={"userName": "bob", "policyName": "p", "policyDocument": ADMIN_DOC})  # fmt: skip
    add("s3_inline_other_user", "03-01 12:13", "iam", "PutUserPolicy",
        params={"userName": "bob", "policyName": "reader", "policyDocument": S3_READ_DOC})  # fmt: skip
    add("pass_role_inline_other_user", "03-01 12:14", "iam", "PutUserPolicy",
        params={"userName": "bob", "policyName": "ops", "policyDocument": PASS_ROLE_DOC})  # fmt: skip
    # credentials and compute for others, groups, root
    add("login_other", "03-01 12:30", "iam", "CreateLoginProfile", params={"userName": "bob"})
    add("password_other", "03-01 12:31", "iam", "UpdateLoginProfile", params={"userName": "bob"})
    add("readonly_policy_group", "03-01 12:32", "iam", "AttachGroupPolicy",
        params={"groupName": "devs", "policyArn": READ_ONLY})  # fmt: skip
    add("admin_policy_group", "03-01 12:33", "iam", "AttachGroupPolicy",
        params={"groupName": "devs", "policyArn": ADMIN})  # fmt: skip
    add("launch_with_role", "03-01 12:34", "ec2", "RunInstances", region="eu-west-1",
        params={"instanceType": "t3.micro", "iamInstanceProfile": {"name": "admin-profile"}})  # fmt: skip
    add("launch_without_role", "03-01 12:35", "ec2", "RunInstances", region="eu-west-1",
        params={"instanceType": "t3.micro"})  # fmt: skip
    add("stack_with_role", "03-01 12:36", "cloudformation", "CreateStack", region="eu-west-1",
        params={"stackName": "s", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/deployer"})  # fmt: skip
    add("stack_without_role", "03-01 12:37", "cloudformation", "CreateStack", region="eu-west-1",
        params={"stackName": "s"})  # fmt: skip
    root_identity = {"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT,
                     "accessKeyId": "AKIAROOT000000000001"}  # fmt: skip
    add("root_key_other", "03-01 12:38", "iam", "CreateAccessKey", identity=root_identity,
        params={"userName": "bob"})  # fmt: skip
    add("readonly_policy_other_user", "03-01 12:41", "iam", "AttachUserPolicy",
        params={"userName": "bob", "policyArn": READ_ONLY})  # fmt: skip
    fn = add("function_with_role", "03-01 12:42", "ec2", "CreateFunction20150331", region="eu-west-1",
             params={"functionName": "f", "role": f"arn:aws:iam::{ACCOUNT}:role/admin"})  # fmt: skip
    fn["eventSource"] = "lambda.amazonaws.com"
    build = add("build_with_role", "03-01 12:43", "ec2", "CreateProject", region="eu-west-1",
                params={"name": "b", "serviceRole": f"arn:aws:iam::{ACCOUNT}:role/admin"})  # fmt: skip
    build["eventSource"] = "codebuild.amazonaws.com"
    add(
        "group_self", "03-01 12:44", "iam", "AddUserToGroup", params={"userName": "alice", "groupName": "ops"}
    )
    add("group_admins_other", "03-01 12:45", "iam", "AddUserToGroup",
        params={"userName": "bob", "groupName": "Admins"})  # fmt: skip
    add("group_readers_other", "03-01 12:46", "iam", "AddUserToGroup",
        params={"userName": "bob", "groupName": "readers"})  # fmt: skip
    add("boundary_self", "03-01 12:47", "iam", "DeleteUserPermissionsBoundary", params={"userName": "alice"})
    add("s3_inline_other_role", "03-01 12:48", "iam", "PutRolePolicy",
        params={"roleName": "reporting", "policyName": "reader", "policyDocument": S3_READ_DOC})  # fmt: skip
    add("trust_service", "03-01 12:49", "iam", "UpdateAssumeRolePolicy",
        params={"roleName": "deploy", "policyDocument": trust("ec2.amazonaws.com", "Service")})  # fmt: skip
    task = add("task_with_role", "03-01 12:50", "ec2", "RegisterTaskDefinition", region="eu-west-1",
               params={"family": "t", "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/admin"})  # fmt: skip
    task["eventSource"] = "ecs.amazonaws.com"
    # the pass-role services: a call that names no role passes none (mutation survivors)
    for label, source, name, params in [
        ("stack_set_without_role", "cloudformation", "UpdateStackSet", {"stackSetName": "s"}),
        ("ecs_task_without_role", "ecs", "RunTask", {"cluster": "c", "taskDefinition": "t:1"}),
        ("apprunner_without_role", "apprunner", "CreateService", {"serviceName": "s"}),
        ("lambda_mapping_without_role", "lambda", "CreateEventSourceMapping20150331",
         {"functionName": "f", "eventSourceArn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q"}),
        ("build_without_role", "codebuild", "UpdateProject", {"name": "b", "timeoutInMinutes": 30}),
        ("glue_without_role", "glue", "UpdateJob", {"jobName": "j", "jobUpdate": {"maxRetries": 1}}),
        ("sagemaker_without_role", "sagemaker", "CreateNotebookInstanceLifecycleConfig",
         {"notebookInstanceLifecycleConfigName": "l"}),
        ("pipeline_without_role", "datapipeline", "PutPipelineDefinition", {"pipelineId": "df-1"}),
        # new code in a function that already has a role, and a presigned URL into a notebook
        # that runs with its role: escalation without naming one
        ("function_code", "lambda", "UpdateFunctionCode20150331v2", {"functionName": "f"}),
        ("notebook_url", "sagemaker", "CreatePresignedNotebookInstanceUrl", {"notebookInstanceName": "n"}),
    ]:  # fmt: skip
        rec = add(label, "03-01 12:51", "ec2", name, region="eu-west-1", params=params)
        rec["eventSource"] = f"{source}.amazonaws.com"
    add("spot_with_role", "03-01 12:52", "ec2", "RequestSpotInstances", region="eu-west-1",
        params={"launchSpecification": {"instanceType": "t3.micro",
                                        "iamInstanceProfile": {"name": "admin-profile"}}})  # fmt: skip
    add("spot_without_role", "03-01 12:53", "ec2", "RequestSpotInstances", region="eu-west-1",
        params={"launchSpecification": {"instanceType": "t3.micro"}})  # fmt: skip
    add("login_self", "03-01 12:54", "iam", "CreateLoginProfile", params={})
    add("password_self", "03-01 12:55", "iam", "UpdateLoginProfile", params={"userName": "alice"})
    add("s3_inline_group", "03-01 12:56", "iam", "PutGroupPolicy",
        params={"groupName": "devs", "policyName": "reader", "policyDocument": S3_READ_DOC})  # fmt: skip
    add("boundary_other", "03-01 12:57", "iam", "DeleteUserPermissionsBoundary", params={"userName": "bob"})
    add("role_boundary_self", "03-01 12:58", "iam", "DeleteRolePermissionsBoundary", identity=role_session,
        params={"roleName": "builder"})  # fmt: skip
    add("unlisted_read", "03-01 12:39", "ec2", "DescribeMutationProbes", region="eu-west-1")
    add("unlisted_write", "03-01 12:40", "ec2", "ModifyMutationProbe", region="eu-west-1")

    # AWS's quarantine of an exposed key (its own response, never the intruder's escalation)
    quarantine = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"
    add("quarantine", "03-01 12:20", "iam", "AttachUserPolicy",
        params={"userName": "alice", "policyArn": quarantine})  # fmt: skip
    add("quarantine_detached", "03-01 12:21", "iam", "DetachUserPolicy",
        params={"userName": "alice", "policyArn": quarantine})  # fmt: skip
    add("quarantine_lookalike", "03-01 12:22", "iam", "AttachUserPolicy",  # a customer's policy, same name
        params={"userName": "alice", "policyArn": quarantine.replace("::aws:", f"::{ACCOUNT}:")})  # fmt: skip
    add("quarantine_inline", "03-01 12:23", "iam", "PutUserPolicy",
        params={"userName": "alice", "policyName": "AWSExposedCredentialPolicy_DO_NOT_REMOVE",
                "policyDocument": ADMIN_DOC})  # fmt: skip
    add("quarantine_inline_group", "03-01 12:26", "iam", "PutGroupPolicy",
        params={"groupName": "devs", "policyName": "AWSExposedCredentialPolicy_DO_NOT_REMOVE",
                "policyDocument": DENY_ALL})  # fmt: skip
    add("quarantine_inline_deleted", "03-01 12:24", "iam", "DeleteUserPolicy",
        params={"userName": "alice", "policyName": "AWSExposedCredentialPolicy_DO_NOT_REMOVE"})  # fmt: skip
    # AWS's quarantine on a role (here a role session's own, which would otherwise be a gain)
    add("quarantine_role", "03-01 12:25", "iam", "AttachRolePolicy", identity=role_session,
        params={"roleName": "builder", "policyArn": quarantine})  # fmt: skip
    add("deny_only_other_user", "03-01 12:06", "iam", "PutUserPolicy",
        params={"userName": "bob", "policyName": "lockout", "policyDocument": DENY_ALL})  # fmt: skip
    add("deny_only_self", "03-01 12:07", "iam", "PutUserPolicy",
        params={"userName": "alice", "policyName": "lockout", "policyDocument": DENY_ALL})  # fmt: skip
    add("readonly_policy_self", "03-01 12:08", "iam", "AttachUserPolicy",
        params={"userName": "alice", "policyArn": READ_ONLY})  # fmt: skip
    add("trust_outside", "03-01 12:09", "iam", "UpdateAssumeRolePolicy",
        params={"roleName": "deploy", "policyDocument": trust(f"arn:aws:iam::{OUTSIDE}:root")})  # fmt: skip
    add("trust_own_account", "03-01 12:10", "iam", "UpdateAssumeRolePolicy",
        params={"roleName": "deploy", "policyDocument": trust(f"arn:aws:iam::{ACCOUNT}:root")})  # fmt: skip
    role = session("builder", "ci-run", "ASIABUILDER000000001")
    add("session_policy_own_role", "03-01 12:11", "iam", "AttachRolePolicy", identity=role,
        params={"roleName": "builder", "policyArn": READ_ONLY})  # fmt: skip
    add("listing", "03-01 12:12", "iam", "ListUsers", params={})

    # used regions (DESIGN.md, Used region), per account; a global service's write is no use
    add("write_eu", "03-02 09:00", "ec2", "CreateSecurityGroup", region="eu-west-1",
        params={"groupName": "web"})  # fmt: skip
    other = user("carol", "AKIACAROL00000000001")
    other_account(add("other_write", "03-02 09:01", "ec2", "CreateSecurityGroup", region="ap-south-1",
                      identity=other, params={"groupName": "x"}), OTHER)  # fmt: skip
    console = add("console_write", "03-02 09:03", "ec2", "CreateSecurityGroup", region="eu-north-1",
                  params={"groupName": "console"})  # fmt: skip
    console["eventType"] = "AwsConsoleAction"
    add("global_write", "03-02 09:02", "iam", "CreateUser", params={"userName": "dave"})

    # key first seen, per account (the same key id in a second account's evidence is that account's)
    add("key_first", "03-03 08:00", "ec2", "DescribeRegions", region="eu-west-1",
        identity=user("erin", "AKIAERIN000000000001"))  # fmt: skip
    add("key_later", "03-03 09:00", "ec2", "DescribeRegions", region="eu-west-1",
        identity=user("erin", "AKIAERIN000000000001"))  # fmt: skip
    other_account(add("key_other_account", "03-03 07:00", "ec2", "DescribeRegions",
                      region="eu-west-1", identity=user("erin", "AKIAERIN000000000001")), OTHER)  # fmt: skip

    root = tmp_path_factory.mktemp("definitions")
    evidence = trail.write(root / "evidence")
    with forensics.Case(root / "case.duckdb") as c:
        report = c.load([evidence], on_problem=lambda line: None)
        assert report.rejected == 0
        yield c, ids


def row(case, label: str, columns: str) -> tuple:
    c, ids = case
    rows = c.con.execute(f"SELECT {columns} FROM cloudtrail WHERE event_id = ?", [ids[label]]).fetchall()
    assert len(rows) == 1, label
    return rows[0]


@pytest.mark.parametrize(
    ("label", "outcome"),
    [
        ("denied_exception", "denied"),  # AccessDenied* includes AccessDeniedException
        ("unauthorized_op", "denied"),  # *UnauthorizedOperation
        ("explicit_deny", "denied"),  # a message naming an explicit deny
        ("throttled", "failed"),  # neither denied nor succeeded
        ("dry_run", "dry_run"),  # would have succeeded
        ("succeeded", "success"),
        ("dry_run_bare", "dry_run"),
        ("not_authorized_message", "denied"),  # a message "is not authorized to perform"
        ("authorization_error", "denied"),  # *AuthorizationError
        ("unauthorized_access", "denied"),  # *UnauthorizedAccess
        ("code_without_message", "failed"),  # an error code alone is no success
        ("code_without_message_2", "failed"),
        ("message_without_code", "failed"),  # nor is an error message alone
    ],
)
def test_outcome(case, label: str, outcome: str) -> None:
    assert row(case, label, "outcome") == (outcome,)


DERIVED = "read_only, list_contains(record_flags, 'read_only derived')"


def test_read_only_derived_from_the_name_when_unrecorded_and_flagged(case) -> None:
    assert row(case, "derived_read", DERIVED) == (True, True)
    assert row(case, "derived_write", DERIVED) == (False, True)


def test_read_only_as_recorded_wins_over_the_name(case) -> None:
    assert row(case, "recorded_write", DERIVED) == (False, False)


@pytest.mark.parametrize(
    ("label", "principal_action", "caller_network"),
    [
        ("own_call", True, True),
        ("through_service", True, False),  # the principal's own action, the service's address
        ("internal_source", True, False),  # no address at all
        ("service_own", False, False),  # the service's own event
        ("service_with_address", False, False),  # ... even if its source looks like an address
        ("no_type_invoked", True, False),  # no type but invokedBy: the principal's own action
    ],
)
def test_acting_for_a_principal_and_caller_network(
    case, label: str, principal_action: bool, caller_network: bool
) -> None:
    got = row(
        case,
        label,
        "is_principal_action(principal_type), is_service_event(principal_type), "
        "has_caller_network(source_is_ip, invoked_by, principal_type)",
    )
    assert got == (principal_action, not principal_action, caller_network)


def test_novelty_of_temporary_keys_is_judged_on_the_issuing_role(case) -> None:
    issuer = f"arn:aws:iam::{ACCOUNT}:role/builder"
    novelty = "novelty_identity(access_key_id, session_issuer_arn, principal_arn)"
    assert row(case, "role_session", novelty) == (issuer,)
    assert row(case, "own_call", novelty) == (ALICE["accessKeyId"],)  # a long-term key: the key


EFFECT = (
    "escalation_effect(event_source, event_name, principal_type, user_name, account_id, policy_arn, "
    "request_parameters)"
)


@pytest.mark.parametrize(
    ("label", "effect"),
    [
        ("key_self", "persistence"),  # a key a principal mints for itself
        ("key_self_named", "persistence"),
        ("key_other", "escalation"),  # a key for another principal
        ("readonly_policy_other_role", None),  # a non-admin policy on someone else: neither
        ("admin_policy_other_role", "escalation"),  # ... unless it grants escalation
        ("admin_inline_other_user", "escalation"),
        ("s3_inline_other_user", None),  # an inline policy granting no escalation action
        ("pass_role_inline_other_user", "escalation"),  # one action among others is enough
        ("deny_only_other_user", None),  # a policy that only takes away
        ("deny_only_self", None),
        ("readonly_policy_self", "escalation"),  # any policy attached to itself is more
        ("session_policy_own_role", "escalation"),  # a role session on its own role
        ("trust_outside", "persistence"),  # a trust policy opened to an outside account: a backdoor
        ("trust_own_account", "escalation"),  # a trust policy opened to the caller
        ("listing", None),
        ("quarantine", None),  # AWS's response, not the caller's gain
        ("login_other", "escalation"),  # a login for another principal
        ("password_other", "escalation"),  # a password for another principal
        ("readonly_policy_other_user", None),
        ("function_with_role", "escalation"),  # a role handed to a function the caller controls
        ("build_with_role", "escalation"),  # ... or to a build project
        ("group_self", "escalation"),  # a group's policies for itself
        ("group_admins_other", "escalation"),  # an admin group for another
        ("group_readers_other", None),
        ("boundary_self", "escalation"),  # its own limits taken away
        ("s3_inline_other_role", None),
        ("trust_service", None),  # trust in an AWS service opens the role to no principal
        ("task_with_role", "escalation"),  # ... or to a container task
        ("readonly_policy_group", None),  # a group is someone else: non-admin is neither
        ("admin_policy_group", "escalation"),
        ("launch_with_role", "escalation"),  # a role passed to compute the caller controls
        ("launch_without_role", None),
        ("stack_with_role", "escalation"),
        ("stack_without_role", None),
        ("root_key_other", None),  # root already holds every right
        ("quarantine_lookalike", "escalation"),  # only AWS's own policy is the quarantine
        ("stack_set_without_role", None),  # a pass-role service's call that names no role
        ("ecs_task_without_role", None),
        ("apprunner_without_role", None),
        ("lambda_mapping_without_role", None),
        ("build_without_role", None),
        ("glue_without_role", None),
        ("sagemaker_without_role", None),
        ("pipeline_without_role", None),
        ("function_code", "escalation"),  # new code runs with the function's role
        ("notebook_url", "escalation"),  # a way into a notebook that runs with its role
        ("spot_with_role", "escalation"),  # a role passed to a spot request
        ("spot_without_role", None),
        ("login_self", "persistence"),  # a console login for oneself: a way back
        ("password_self", None),  # changing one's own password gains nothing
        ("s3_inline_group", None),  # a non-admin inline policy on a group: neither
        ("boundary_other", None),  # someone else's limits taken away: neither
        ("role_boundary_self", "escalation"),  # a role session removing its own role's limits
        ("quarantine_role", None),  # AWS's quarantine on a role is its response
    ],
)
def test_escalation_effect(case, label: str, effect: str | None) -> None:
    assert row(case, label, EFFECT) == (effect,)


@pytest.mark.parametrize(
    ("label", "phase"),
    [
        ("key_other", "privilege_escalation"),
        ("key_self", "persistence"),
        ("unlisted_read", "discovery"),  # calls the vocabulary does not name: by read-only
        ("unlisted_write", "impact"),
    ],
)
def test_attacker_phase(case, label: str, phase: str) -> None:
    assert row(case, label, f"attacker_phase(event_source, event_name, read_only, {EFFECT})") == (phase,)


QUARANTINE = "is_quarantine_call(event_source, event_name, policy_arn, request_parameters)"


@pytest.mark.parametrize(
    ("label", "quarantine"),
    [
        ("quarantine", True),
        ("quarantine_inline", True),  # the inline policy AWS used to write
        ("quarantine_inline_group", True),  # ... written on a group
        ("quarantine_role", True),  # ... attached to a role
        ("quarantine_detached", False),  # taking it off is no quarantine
        ("quarantine_inline_deleted", False),
        ("quarantine_lookalike", False),
        ("readonly_policy_self", False),
    ],
)
def test_quarantine_call(case, label: str, quarantine: bool) -> None:
    assert row(case, label, QUARANTINE) == (quarantine,)


def used_regions(case, account: str) -> set[str]:
    c, _ = case
    rows = c.con.execute("SELECT region FROM region_use WHERE account_id = ?", [account]).fetchall()
    return {r[0] for r in rows}


def test_region_use_is_per_account(case) -> None:
    assert "eu-west-1" in used_regions(case, ACCOUNT)
    assert "ap-south-1" not in used_regions(case, ACCOUNT)  # another account's write
    assert "ap-south-1" in used_regions(case, OTHER)
    assert "eu-north-1" in used_regions(case, ACCOUNT)  # a write made in the console is a write


def test_region_use_ignores_global_services_and_reads(case) -> None:
    mine = used_regions(case, ACCOUNT)
    assert "us-east-1" not in mine  # IAM and STS log there whatever region the caller works in
    assert "ca-central-1" not in mine  # only a read there
    assert "us-west-2" in mine  # a call recorded as a write is one, whatever its name


def test_region_use_first_write_is_the_earliest_write(case) -> None:
    c, _ = case
    first = c.con.execute(
        "SELECT first_write FROM region_use WHERE account_id = ? AND region = 'eu-west-1'", [ACCOUNT]
    ).fetchone()[0]
    assert first == at("03-01 11:01")  # the unrecorded RunInstances, a write by its name


def test_region_use_is_known_after_exactly_a_day_of_evidence(case) -> None:
    """DESIGN.md: with less than a day of evidence before a time, region use is unknown; a day is
    enough (the account's first record is at 03-01 10:00)."""
    c, _ = case
    known = "SELECT region_use_known(?, ?)"
    assert c.con.execute(known, [ACCOUNT, at("03-02 10:00")]).fetchone() == (True,)
    assert c.con.execute(known, [ACCOUNT, at("03-02 09:59")]).fetchone() == (False,)


def test_key_first_seen_is_per_account(case) -> None:
    c, ids = case
    got = dict(
        c.con.execute(
            "SELECT account_id, (first_seen, event_id) FROM key_first_seen WHERE access_key_id = ?",
            ["AKIAERIN000000000001"],
        ).fetchall()
    )
    assert got[ACCOUNT] == (at("03-03 08:00"), ids["key_first"])
    assert got[OTHER] == (at("03-03 07:00"), ids["key_other_account"])
