-- DESIGN.md, Incident cost: usage is what resources cost; tax, credits, refunds and fees are
-- reported apart, never mixed in. A billing line counts as usage unless its type says otherwise
-- (legacy CUR and CUR 2.0 lineItem/LineItemType; lines without a type are usage).
CREATE OR REPLACE TEMP TABLE vocab_non_usage_line (line_item_type VARCHAR PRIMARY KEY);
INSERT INTO vocab_non_usage_line VALUES
    ('Tax'), ('Credit'), ('Refund'), ('Fee'), ('RIFee'), ('SavingsPlanRecurringFee'),
    ('SavingsPlanNegation');

-- A FOCUS export can hold several clouds' bills (ProviderName: AWS, Microsoft, Oracle, ...);
-- only AWS's lines are evidence about AWS accounts and regions (Azure's 'eastus' is not a
-- region an AWS account used). CUR lines and FOCUS lines without a provider are AWS's.
CREATE OR REPLACE TEMP MACRO is_aws_line(provider) AS
    coalesce(provider, 'AWS') IN ('AWS', 'Amazon Web Services');
-- What an AWS resource cost: an AWS line whose type is usage.
CREATE OR REPLACE TEMP MACRO is_usage_line(line_type, provider) AS
    is_aws_line(provider)
    AND coalesce(line_type, 'Usage') NOT IN (SELECT n.line_item_type FROM vocab_non_usage_line n);
