-- Automation incidents (DESIGN.md, Definitions): no intruder, a function that runs away. The
-- indicator is the function (its ARN) or its role; the cost is the function's usage lines plus
-- its log group's (`/aws/lambda/<name>`); the story begins with the change that set it going and
-- ends with the change that stopped it (concurrency 0, its rule disabled or deleted, its trigger
-- removed, the function deleted), each with who made it. Which calls start or stop a function's
-- runs are the event vocabulary's tags `automation_start` and `automation_stop` (events.sql).

-- A Lambda function's ARN, its parts (NULL when the ARN is not a function's; a qualifier such as
-- `:prod` or `:$LATEST` is dropped).
CREATE OR REPLACE TEMP MACRO lambda_function_name(fn_arn) AS
    nullif(regexp_extract(fn_arn, '^arn:aws[a-z-]*:lambda:[a-z0-9-]*:[0-9]*:function:([A-Za-z0-9_-]+)', 1), '');
CREATE OR REPLACE TEMP MACRO arn_region(any_arn) AS nullif(split_part(any_arn, ':', 4), '');
CREATE OR REPLACE TEMP MACRO arn_account(any_arn) AS nullif(split_part(any_arn, ':', 5), '');
-- The unqualified ARN of a function.
CREATE OR REPLACE TEMP MACRO lambda_function_arn(fn_region, fn_account, fn_name) AS
    'arn:aws:lambda:' || fn_region || ':' || fn_account || ':function:' || fn_name;
-- The log group a function writes to (AWS's default).
CREATE OR REPLACE TEMP MACRO function_log_group(fn_name) AS '/aws/lambda/' || fn_name;

-- A billing line of the function (any version or alias) or of its log group, by resource id. The
-- account and region are the function's: a same-named function elsewhere is another function.
CREATE OR REPLACE TEMP MACRO bills_function(line_resource, fn_region, fn_account, fn_name) AS
    line_resource = lambda_function_arn(fn_region, fn_account, fn_name)
    OR starts_with(line_resource, lambda_function_arn(fn_region, fn_account, fn_name) || ':')
    OR line_resource IN (
        'arn:aws:logs:' || fn_region || ':' || fn_account || ':log-group:' || function_log_group(fn_name),
        'arn:aws:logs:' || fn_region || ':' || fn_account || ':log-group:' || function_log_group(fn_name) || ':*',
        function_log_group(fn_name));

-- A call whose request names the function: by name or ARN as `functionName`, or its ARN anywhere
-- (a rule's targets, a bucket's notifications, an event source mapping).
CREATE OR REPLACE TEMP MACRO names_function(params, fn_name, fn_arn) AS
    coalesce(json_extract_string(params, '$.functionName') = fn_name
             OR starts_with(json_extract_string(params, '$.functionName'), fn_arn)
             OR contains(CAST(params AS VARCHAR), fn_arn), false);

-- The rule a call to EventBridge (CloudWatch Events) acts on: PutTargets and RemoveTargets name it
-- `rule`, the rule calls `name`.
CREATE OR REPLACE TEMP MACRO rule_of(params) AS
    coalesce(json_extract_string(params, '$.rule'), json_extract_string(params, '$.name'));

-- What a change does to a function's runs: 'start' (sets it going or lets it run again), 'stop', or
-- NULL. A call tagged both ways decides by its request: reserved concurrency 0, or a mapping
-- disabled, stops; any other value starts.
CREATE OR REPLACE TEMP MACRO automation_effect(src, name, params) AS
    CASE WHEN event_has('automation_stop', src, name) AND event_has('automation_start', src, name)
         THEN CASE WHEN json_extract_string(params, '$.reservedConcurrentExecutions') = '0'
                     OR json_extract_string(params, '$.enabled') = 'false'
                   THEN 'stop' ELSE 'start' END
         WHEN event_has('automation_stop', src, name) THEN 'stop'
         WHEN event_has('automation_start', src, name) THEN 'start' END;

-- A role session that is a Lambda function's own execution: the function names the session and the
-- runtime names itself in the user agent.
CREATE OR REPLACE TEMP MACRO is_function_session(user_agent) AS
    coalesce(user_agent LIKE '%AWS_Lambda_%', false);

-- A usage line that counts a function's invocations (Lambda's `<REG>-Request`, Lambda@Edge's
-- `<REG>-Lambda-Edge-Request`): its usage amount is the number of invocations.
CREATE OR REPLACE TEMP MACRO counts_invocations(line_service, line_usage_type) AS
    coalesce(line_service = 'AWSLambda' AND regexp_matches(line_usage_type, '(^|-)Request$'), false);

-- A resource ARN's short name, as requests name it: a function's name, a bucket, a key id, an
-- instance id, a role's name (what follows the last `/` or `:`).
CREATE OR REPLACE TEMP MACRO resource_short_name(res_arn) AS
    coalesce(lambda_function_name(res_arn), nullif(regexp_extract(res_arn, '[:/]([^:/]+)$', 1), ''));
-- A call whose request names the resource: its ARN anywhere, or its short name as a whole JSON
-- string value (who touched it: `profile --resource`).
CREATE OR REPLACE TEMP MACRO names_resource(params, res_arn) AS
    coalesce(contains(CAST(params AS VARCHAR), res_arn)
             OR contains(CAST(params AS VARCHAR), '"' || resource_short_name(res_arn) || '"'), false);

-- The end of a stopped function's incident for its cost: invocations already running when it was
-- stopped go on up to Lambda's longest timeout (15 minutes), and the bill counts by the hour; what
-- it bills after that hour is its life after the incident.
CREATE OR REPLACE TEMP MACRO function_incident_end(stop_time) AS
    date_trunc('hour', stop_time + INTERVAL 15 MINUTE) + INTERVAL 1 HOUR;

-- A call the function made itself: a session its name names, from its runtime, in its account.
CREATE OR REPLACE TEMP MACRO is_function_call(sess_name, agent, acct, principal, recipient, fn_name, fn_account) AS
    sess_name = fn_name AND is_function_session(agent)
    AND identity_account(acct, principal, recipient) = fn_account;
