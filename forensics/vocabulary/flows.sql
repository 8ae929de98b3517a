-- Which addresses are inside a private network (RFC 1918, carrier-grade NAT, loopback, link-local;
-- IPv6 unique local, link-local, loopback): the `private` kind of `addresses`, and which flows
-- leave the network (one of our interfaces to an outside address).
-- Flow logs without flow-direction (v2) are judged by the source address.
CREATE OR REPLACE TEMP MACRO is_internal_address(addr) AS
    coalesce(addr LIKE '10.%' OR addr LIKE '192.168.%' OR addr LIKE '127.%' OR addr LIKE '169.254.%'
             OR (addr LIKE '172.%' AND TRY_CAST(split_part(addr, '.', 2) AS INTEGER) BETWEEN 16 AND 31)
             -- carrier-grade NAT (100.64.0.0/10): inside a provider's network, not the internet
             OR (addr LIKE '100.%' AND TRY_CAST(split_part(addr, '.', 2) AS INTEGER) BETWEEN 64 AND 127)
             OR lower(addr) LIKE 'fc%:%' OR lower(addr) LIKE 'fd%:%' OR lower(addr) LIKE 'fe80:%'
             OR addr = '::1', false);
CREATE OR REPLACE TEMP MACRO is_outbound_flow(flow_direction, src_addr, dst_addr) AS
    (flow_direction = 'egress' OR (flow_direction IS NULL AND is_internal_address(src_addr)))
    AND NOT is_internal_address(dst_addr);
