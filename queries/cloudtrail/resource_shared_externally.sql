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
  Removing permissions is not sharing.
falsepositives: [AMIs or snapshots shared on purpose with the organisation's other accounts]
--- */
WITH calls AS (
    SELECT *, request_parameters::VARCHAR AS req
    FROM cloudtrail
    WHERE event_name IN ('ModifySnapshotAttribute', 'ModifyImageAttribute', 'ModifyDBSnapshotAttribute',
                         'ModifyDBClusterSnapshotAttribute')
      AND invoked_by IS NULL
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
shared AS (
    SELECT *,
           CASE WHEN event_source = 'rds.amazonaws.com'
                THEN coalesce(json_extract_string(request_parameters, '$.valuesToAdd[*]'), [])
                ELSE list_concat(
                       coalesce(json_extract_string(request_parameters, '$.*.add.items[*].userId'), []),
                       coalesce(json_extract_string(request_parameters, '$.*.add.items[*].group'), []))
           END AS added
    FROM calls
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
    list_filter(added, lambda a: a <> coalesce(recipient_account_id, '')) AS shared_with
FROM shared
WHERE len(list_filter(added, lambda a: a <> coalesce(recipient_account_id, ''))) > 0
ORDER BY event_time
