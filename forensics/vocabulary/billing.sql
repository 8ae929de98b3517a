-- DESIGN.md, Incident cost: usage is what resources cost; tax, credits, refunds and fees are
-- reported apart, never mixed in. A billing line counts as usage unless its type says otherwise
-- (legacy CUR and CUR 2.0 lineItem/LineItemType; lines without a type are usage).
CREATE OR REPLACE TEMP TABLE vocab_non_usage_line (line_item_type VARCHAR PRIMARY KEY);
INSERT INTO vocab_non_usage_line VALUES
    ('Tax'), ('Credit'), ('Refund'), ('Fee'), ('RIFee'), ('SavingsPlanRecurringFee'),
    ('SavingsPlanNegation');
CREATE OR REPLACE TEMP MACRO is_usage_line(line_type) AS
    coalesce(line_type, 'Usage') NOT IN (SELECT n.line_item_type FROM vocab_non_usage_line n);
