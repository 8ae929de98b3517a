"""Event-name vocabularies that place an attacker's call in a phase (detections.md §1-§5).

Kept as data, bound into SQL as list parameters, so one CASE expression classifies a whole
intrusion in the engine. Order of precedence lives in `phases.py`.
"""

from __future__ import annotations

# Calls that start a session or validate a credential: the intrusion's front door.
INITIAL_ACCESS = ["ConsoleLogin", "GetSigninToken", "CheckMfa", "AssumeRoleWithSAML"]

DEFENSE_EVASION = [
    "StopLogging",
    "DeleteTrail",
    "UpdateTrail",
    "PutEventSelectors",
    "PutInsightSelectors",
    "DeleteFlowLogs",
    "DeleteDetector",
    "DisassociateFromMasterAccount",
    "UpdateDetector",
    "DeleteMembers",
    "StopMonitoringMembers",
    "DisableSecurityHub",
    "DeleteConfigRule",
    "StopConfigurationRecorder",
    "DeleteConfigurationRecorder",
    "DeleteDeliveryChannel",
    "DeleteLogGroup",
    "DeleteLogStream",
    "PutRetentionPolicy",
    "LeaveOrganization",
    "DeleteResolverQueryLogConfig",
    "DisassociateResolverQueryLogConfig",
    "DeleteWebACL",
    "DeleteRuleGroup",
    "PutBucketLogging",
    "DeleteAccessKey",
    "DeleteVirtualMFADevice",
    "DeactivateMFADevice",
    "UpdateAccountPasswordPolicy",
]

# Paths to more privilege (Rhino's 28 methods, pathfinding.cloud, detections.md §1).
PRIVILEGE_ESCALATION = [
    "AttachUserPolicy",
    "AttachGroupPolicy",
    "AttachRolePolicy",
    "PutUserPolicy",
    "PutGroupPolicy",
    "PutRolePolicy",
    "CreatePolicyVersion",
    "SetDefaultPolicyVersion",
    "AddUserToGroup",
    "UpdateAssumeRolePolicy",
    "UpdateLoginProfile",
    "PutUserPermissionsBoundary",
    "DeleteUserPermissionsBoundary",
    "PutRolePermissionsBoundary",
    "DeleteRolePermissionsBoundary",
    "AssociateIamInstanceProfile",
    "ReplaceIamInstanceProfileAssociation",
    "AddRoleToInstanceProfile",
    "UpdateFunctionCode20150331v2",
    "UpdateFunctionConfiguration20150331v2",
    "CreateDevEndpoint",
    "UpdateDevEndpoint",
    "CreateNotebookInstance",
    "CreatePresignedNotebookInstanceUrl",
]
# Calls that escalate when aimed at someone else and persist when aimed at oneself.
OTHER_USER_ESCALATION = ["CreateAccessKey", "CreateLoginProfile"]

PERSISTENCE = [
    "CreateUser",
    "CreateAccessKey",
    "CreateLoginProfile",
    "CreateRole",
    "CreateGroup",
    "CreateInstanceProfile",
    "CreateVirtualMFADevice",
    "EnableMFADevice",
    "UpdateAccessKey",
    "GetSessionToken",
    "GetFederationToken",
    "CreateOpenIDConnectProvider",
    "CreateSAMLProvider",
    "UpdateSAMLProvider",
    "CreateTrustAnchor",
    "CreateProfile",
    "CreateFunction20150331",
    "AddPermission20150331v2",
    "CreateEventSourceMapping20150331",
    "PutRule",
    "PutTargets",
    "CreateServiceSpecificCredential",
    "UploadSSHPublicKey",
    "UploadSigningCertificate",
    "CreatePolicy",
]

CREDENTIAL_ACCESS = [
    "GetSecretValue",
    "BatchGetSecretValue",
    "GetParameter",
    "GetParameters",
    "GetParametersByPath",
    "GetPasswordData",
    "GetCredentialReport",
    "GenerateCredentialReport",
    "GetAuthorizationToken",
    "Decrypt",
    "GetSSHPublicKey",
    "RetrieveSecret",
]

LATERAL_MOVEMENT = [
    "AssumeRole",
    "AssumeRoleWithWebIdentity",
    "SendSSHPublicKey",
    "SendSerialConsoleSSHPublicKey",
    "StartSession",
    "SendCommand",
    "ResumeSession",
    "CreateNetworkInterfacePermission",
    "SwitchRole",
]

EXFILTRATION = [
    "GetObject",
    "CopyObject",
    "SelectObjectContent",
    "RestoreObject",
    "ModifySnapshotAttribute",
    "ModifyImageAttribute",
    "ModifyDBSnapshotAttribute",
    "ModifyDBClusterSnapshotAttribute",
    "CreateSnapshot",
    "CopySnapshot",
    "CopyImage",
    "SharedSnapshotCopyInitiated",
    "PutBucketPolicy",
    "PutBucketAcl",
    "PutObjectAcl",
    "PutBucketReplication",
    "CreateExportTask",
    "StartExportTask",
    "GetSnapshotBlock",
]

# Launches: the calls that turn a stolen key into running compute (and a bill).
LAUNCH_CALLS = [
    "RunInstances",
    "CreateFleet",
    "RequestSpotInstances",
    "RequestSpotFleet",
    "RunScheduledInstances",
    "StartInstances",
]

IMPACT = LAUNCH_CALLS + [
    "CreateKeyPair",
    "ImportKeyPair",
    "CreateSecurityGroup",
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "CreateLaunchTemplate",
    "CreateLaunchTemplateVersion",
    "ModifyLaunchTemplate",
    "CreateAutoScalingGroup",
    "UpdateAutoScalingGroup",
    "CreateCluster",
    "RegisterTaskDefinition",
    "RunTask",
    "CreateService",
    "RequestServiceQuotaIncrease",
    "TerminateInstances",
    "StopInstances",
    "DeleteBucket",
    "DeleteObject",
    "DeleteObjects",
    "PutBucketLifecycle",
    "PutBucketLifecycleConfiguration",
    "PutBucketEncryption",
    "ScheduleKeyDeletion",
    "DisableKey",
    "DeleteDBInstance",
    "DeleteDBCluster",
    "InvokeModel",
    "InvokeModelWithResponseStream",
    "CreateModelInvocationJob",
    "PutFoundationModelEntitlement",
    "SendEmail",
    "SendRawEmail",
    "Publish",
    "CreateAccount",
    "PurchaseReservedInstancesOffering",
    "CreateNatGateway",
    "AllocateAddress",
    "CreateVolume",
    "CreateVpc",
    "CreateSubnet",
]

# Calls that mint credentials the intrusion can go on with (followed transitively).
MINTING = [
    "CreateAccessKey",
    "AssumeRole",
    "GetSessionToken",
    "GetFederationToken",
    "AssumeRoleWithWebIdentity",
    "AssumeRoleWithSAML",
]

# Sign-in and console plumbing: never containment work by themselves.
SIGN_IN = [
    "ConsoleLogin",
    "GetSigninToken",
    "CheckMfa",
    "Federate",
    "SwitchRole",
    "RenewRoleCredentials",
    "GetRoleCredentials",
    "ListAccountRoles",
    "ListAccounts",
]

# AWS's own quarantine policies (detections.md §4.1), matched by prefix.
QUARANTINE_PREFIX = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantine"
QUARANTINE_INLINE = [
    "AWSExposedCredentialPolicy_DO_NOT_REMOVE",
    "AWSCompromisedKeyQuarantine",
    "AWSCompromisedKeyQuarantineV2",
    "AWSCompromisedKeyQuarantineV3",
]

# Signals that a new address is the intruder's rather than the owner's new desk.
SENSITIVE = sorted(
    set(
        PRIVILEGE_ESCALATION
        + OTHER_USER_ESCALATION
        + PERSISTENCE
        + DEFENSE_EVASION
        + LAUNCH_CALLS
        + CREDENTIAL_ACCESS
        + [
            "CreateKeyPair",
            "ImportKeyPair",
            "GetServiceQuota",
            "ListServiceQuotas",
            "DescribeRegions",
            "GetAccountAuthorizationDetails",
        ]
    )
)
