/* ---
id: resource_shared_externally
title: Snapshots, images or database snapshots shared with another account or made public
kind: detection
sources: [cloudtrail]
tactic: exfiltration
attack: [TA0010:T1537]
severity: high
stratus:
  - aws.exfiltration.ec2-share-ami
  - aws.exfiltration.ec2-share-ebs-snapshot
  - aws.exfiltration.rds-share-snapshot
params:
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Sharing is how data leaves without a download: ModifySnapshotAttribute (EBS volume
  permissions), ModifyImageAttribute (launch permissions), ModifyDBSnapshotAttribute and
  ModifyDBClusterSnapshotAttribute (restore) adding an account other than the owner's, or "all".
  Removing permissions is not sharing, and neither is any group other than 'all' (`group: none`
  is no one). The calls are the vocabulary's `sharing` events.
falsepositives: [AMIs or snapshots shared on purpose with the organisation's other accounts]
--- */
WITH calls AS (
    SELECT *, resource_account(recipient_account_id, account_id) AS account
    FROM cloudtrail
    WHERE event_has('sharing', event_source, event_name)
      AND is_principal_action(principal_type)
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
shared AS (   -- only what is added: an account other than the owner, or group 'all' (public)
    SELECT *,
           -- EC2: every permission attribute's (`$.*`) add.items, each a userId or a group
           list_filter(
               CASE WHEN event_source = 'rds.amazonaws.com'
                    THEN coalesce(json_strings(json_extract(request_parameters, '$.valuesToAdd')), [])
                    ELSE flatten(list_transform(
                           json_values(request_parameters),
                           lambda p: list_transform(
                               json_items(json_extract(p, '$.add.items')),
                               lambda i: coalesce(json_extract_string(i, '$.userId'),
                                                  CASE WHEN lower(json_extract_string(i, '$.group')) = 'all'
                                                       THEN json_extract_string(i, '$.group') END))))
               END,
               lambda a: a IS NOT NULL AND a <> coalesce(account, '')) AS added
    FROM calls
    WHERE event_source <> 'rds.amazonaws.com'
       OR json_extract_string(request_parameters, '$.attributeName') = 'restore'
)
SELECT
    event_time,
    'resource_shared_externally'  AS detection,
    CASE WHEN outcome = 'success' THEN 'high' ELSE 'medium' END AS severity,
    'exfiltration'                AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    aws_region                    AS region,
    coalesce(json_extract_string(request_parameters, '$.snapshotId'),
             json_extract_string(request_parameters, '$.imageId'),
             json_extract_string(request_parameters, '$.dBSnapshotIdentifier'),
             json_extract_string(request_parameters, '$.dBClusterSnapshotIdentifier')) AS resource,
    event_id,
    event_name,
    outcome,
    added                         AS shared_with
FROM shared
WHERE array_length(added) > 0
ORDER BY event_time
