-- Definitions about one CloudTrail record: its outcome, whether it only read, who acted and for
-- which account. Scalar macros over columns (or over the record's own fields at load time), so
-- the loader, the detections and the investigation all read the same meaning.

-- The call as IAM names actions: `ec2:RunInstances` (the key of vocab_event).
CREATE OR REPLACE TEMP MACRO api_of(event_source, event_name) AS
    split_part(event_source, '.', 1) || ':' || event_name;

-- The event vocabulary's facts about a call (events.sql).
CREATE OR REPLACE TEMP MACRO event_has(tag, src, name) AS
    api_of(src, name) IN (SELECT v.api FROM vocab_event v WHERE list_contains(v.tags, tag));
CREATE OR REPLACE TEMP MACRO is_launch(event_source, event_name) AS
    event_has('launch', event_source, event_name);
CREATE OR REPLACE TEMP MACRO is_global_source(src) AS
    src IN (SELECT g.event_source FROM vocab_global_source g);

-- DESIGN.md, Denied: AccessDenied* (AccessDeniedException included), *UnauthorizedOperation,
-- *UnauthorizedAccess, *AuthorizationError, or a message naming an explicit deny or "is not
-- authorized to perform". Dry run: the call would have succeeded. Other errors (limits,
-- NoSuchEntity, throttling) are failures: neither denied nor succeeded.
CREATE OR REPLACE TEMP MACRO outcome_of(error_code, error_message) AS
    CASE
        WHEN nullif(error_code, '') IS NULL AND nullif(error_message, '') IS NULL THEN 'success'
        WHEN error_code IN ('Client.DryRunOperation', 'DryRunOperation') THEN 'dry_run'
        WHEN starts_with(coalesce(error_code, ''), 'AccessDenied')
             OR ends_with(coalesce(error_code, ''), 'UnauthorizedOperation')
             OR ends_with(coalesce(error_code, ''), 'UnauthorizedAccess')
             OR ends_with(coalesce(error_code, ''), 'AuthorizationError')
             OR coalesce(error_message, '') ILIKE '%explicit deny%'
             OR coalesce(error_message, '') ILIKE '%is not authorized to perform%'
            THEN 'denied'
        ELSE 'failed'
    END;

-- DESIGN.md, Read-only: as recorded; where the record lacks it (trimmed exports, SIEM copies),
-- from the event name. Never NULL.
CREATE OR REPLACE TEMP MACRO read_only_by_name(event_name) AS
    coalesce(regexp_matches(event_name,
        '^(Get|List|Describe|Head|Lookup|Search|Scan|Query|Select|Check|View|Preview|Estimate|Validate|Test|Simulate|Batch(Get|Describe)|ConsoleLogin$|Download|Retrieve)'),
        false);
CREATE OR REPLACE TEMP MACRO read_only_of(recorded, event_name) AS
    coalesce(CASE lower(CAST(recorded AS VARCHAR)) WHEN 'true' THEN true WHEN 'false' THEN false END,
             read_only_by_name(event_name));

-- DESIGN.md, Acting for a principal: only an identity of type AWSService is the service's own.
-- An event with `invokedBy` (CloudFormation, the console's sign-in, Athena) is the principal's
-- own action done through a service: it counts for detections and the story, but its source
-- address is the service's, so it never feeds network features.
CREATE OR REPLACE TEMP MACRO is_service_event(principal_type) AS
    coalesce(principal_type = 'AWSService', false);
CREATE OR REPLACE TEMP MACRO is_principal_action(principal_type) AS
    NOT is_service_event(principal_type);
-- An address that can speak for the caller's network: an IP written by the caller itself, not
-- a service acting for it, not a VPC endpoint's private hop.
CREATE OR REPLACE TEMP MACRO has_caller_network(source_is_ip, invoked_by, principal_type) AS
    coalesce(source_is_ip, false) AND nullif(invoked_by, '') IS NULL
    AND NOT is_service_event(principal_type);

-- DESIGN.md, account scope: identities, keys and baselines belong to the principal's account;
-- regions, resources and cost to the account the event was delivered for.
CREATE OR REPLACE TEMP MACRO identity_account(account_id, principal_arn, recipient_account_id) AS
    coalesce(nullif(account_id, ''), nullif(split_part(principal_arn, ':', 5), ''), recipient_account_id);
CREATE OR REPLACE TEMP MACRO resource_account(recipient_account_id, account_id) AS
    coalesce(nullif(recipient_account_id, ''), account_id);

-- DESIGN.md, Temporary keys: novelty for temporary credentials is judged on the issuing role,
-- for long-term keys on the key, otherwise on the principal.
CREATE OR REPLACE TEMP MACRO novelty_identity(access_key_id, session_issuer_arn, principal_arn) AS
    CASE WHEN starts_with(coalesce(access_key_id, ''), 'ASIA')
             THEN coalesce(session_issuer_arn, principal_arn, access_key_id)
         ELSE coalesce(access_key_id, principal_arn) END;

-- An EC2 instance-role session is named after its instance (`i-` and 8 or 17 hex digits).
CREATE OR REPLACE TEMP MACRO is_instance_session(session_name) AS
    coalesce(regexp_matches(session_name, '^i-([0-9a-fA-F]{8}|[0-9a-fA-F]{17})$'), false);

-- DESIGN.md, record_flags: a time before CloudTrail existed or in the future is kept as evidence
-- but never bounds a span, a phase or a loop.
CREATE OR REPLACE TEMP MACRO time_plausible(record_flags) AS
    NOT list_contains(coalesce(record_flags, []::VARCHAR[]), 'time implausible');

-- The instances a call's response names (RunInstances' instancesSet, CreateFleet's fleet
-- instance sets at any depth, Lightsail and Auto Scaling answers): what a launch started.
CREATE OR REPLACE TEMP MACRO response_instances(response_elements) AS
    regexp_extract_all(coalesce(CAST(response_elements AS VARCHAR), ''), '"(i-[0-9a-fA-F]{8,17})"', 1);
