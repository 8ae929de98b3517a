-- DESIGN.md, Phase names, for what AWS's detectors concluded: a GuardDuty finding's phase by its
-- threat purpose (the part of the type before the colon), an AWS Health risk event is AWS's
-- response. The hunt's guardduty_findings rows and the timeline read this one mapping.
CREATE OR REPLACE TEMP MACRO finding_phase(finding_source, finding_type) AS
    CASE
        WHEN finding_source = 'health' THEN 'aws_response'
        WHEN finding_type LIKE '%InstanceCredentialExfiltration%' OR finding_type LIKE 'CredentialAccess:%'
            THEN 'credential_access'
        WHEN finding_type LIKE 'Recon:%' OR finding_type LIKE 'Discovery:%' THEN 'discovery'
        WHEN finding_type LIKE 'CryptoCurrency:%' OR finding_type LIKE 'Impact:%'
             OR finding_type LIKE 'ResourceConsumption:%' OR finding_type LIKE 'Backdoor:%'
             OR finding_type LIKE 'Trojan:%' OR finding_type LIKE 'Behavior:%'
             OR finding_type LIKE 'AttackSequence:%' THEN 'impact'
        WHEN finding_type LIKE 'Execution:%' THEN 'execution'
        WHEN finding_type LIKE 'Persistence:%' THEN 'persistence'
        WHEN finding_type LIKE 'PrivilegeEscalation:%' THEN 'privilege_escalation'
        WHEN finding_type LIKE 'Stealth:%' OR finding_type LIKE 'DefenseEvasion:%' THEN 'defense_evasion'
        WHEN finding_type LIKE 'Exfiltration:%' THEN 'exfiltration'
        ELSE 'initial_access'
    END;
