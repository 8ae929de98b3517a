-- DESIGN.md, Instances and interfaces: an instance's network interfaces, wherever the evidence
-- ties them: RunInstances responses (each item's networkInterfaceSet), CreateNetworkInterface
-- and AttachNetworkInterface, GuardDuty's instance details, and flow records that carry
-- `instance-id`. Flow logs without that field (the version 2 default format) still belong to
-- their instance through these links. `how` says where a link comes from; a link read from
-- nowhere but a shared private address would be marked `inferred` (none is made here).
-- Scoped by the account the resource lives in (resource_account).

-- json_items (portable.sql): the elements of a JSON value that may be a list or a lone object
-- (AWS's XML rendered as JSON gives `items` as an object when there is one).

CREATE OR REPLACE TEMP VIEW instance_interface AS
WITH launched AS (
    SELECT resource_account(recipient_account_id, account_id) AS account_id, aws_region AS region,
           unnest(json_items(json_extract(response_elements, '$.instancesSet.items'))) AS item
    FROM cloudtrail
    WHERE event_source = 'ec2.amazonaws.com' AND event_name = 'RunInstances' AND outcome = 'success'
      AND response_elements IS NOT NULL
),
run AS (
    SELECT account_id, region, json_extract_string(item, '$.instanceId') AS instance_id,
           unnest(json_items(json_extract(item, '$.networkInterfaceSet.items'))) AS eni
    FROM launched
),
from_trail AS (
    SELECT account_id, instance_id, json_extract_string(eni, '$.networkInterfaceId') AS interface_id,
           region, 'run_instances' AS how
    FROM run
    UNION ALL
    SELECT resource_account(recipient_account_id, account_id),
           coalesce(json_extract_string(request_parameters, '$.instanceId'),
                    json_extract_string(response_elements, '$.networkInterface.attachment.instanceId')),
           coalesce(json_extract_string(request_parameters, '$.networkInterfaceId'),
                    json_extract_string(response_elements, '$.networkInterface.networkInterfaceId')),
           aws_region,
           CASE event_name WHEN 'AttachNetworkInterface' THEN 'attach_network_interface'
                           ELSE 'create_network_interface' END
    FROM cloudtrail
    WHERE event_source = 'ec2.amazonaws.com' AND outcome = 'success'
      AND event_name IN ('AttachNetworkInterface', 'CreateNetworkInterface')
),
gd AS (
    SELECT account_id, region, instance_id,
           coalesce(json_extract(raw, '$.Resource.InstanceDetails'),
                    json_extract(raw, '$.resource.instanceDetails'),
                    json_extract(raw, '$.detail.resource.instanceDetails')) AS details
    FROM findings
    WHERE source = 'guardduty'
),
gd_eni AS (
    SELECT account_id, region,
           coalesce(instance_id, json_extract_string(details, '$.InstanceId'),
                    json_extract_string(details, '$.instanceId')) AS instance_id,
           unnest(json_items(coalesce(json_extract(details, '$.NetworkInterfaces'),
                                      json_extract(details, '$.networkInterfaces')))) AS eni
    FROM gd WHERE details IS NOT NULL
),
links AS (
    SELECT * FROM from_trail
    UNION ALL
    SELECT account_id, instance_id,
           coalesce(json_extract_string(eni, '$.NetworkInterfaceId'),
                    json_extract_string(eni, '$.networkInterfaceId')),
           region, 'guardduty'
    FROM gd_eni
    UNION ALL
    SELECT DISTINCT account_id, instance_id, interface_id, region, 'flow'
    FROM vpc_flows
    WHERE instance_id LIKE 'i-%' AND interface_id LIKE 'eni-%'
)
SELECT account_id, instance_id, interface_id, min(region) AS region,
       list_sort(list(DISTINCT how)) AS how
FROM links
WHERE instance_id LIKE 'i-%' AND interface_id LIKE 'eni-%'
GROUP BY account_id, instance_id, interface_id;
