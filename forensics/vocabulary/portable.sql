-- Primitives over JSON arrays that every engine has, each in its own words. These bodies are
-- DuckDB's; forensics.dialects holds Spark's and Trino's for the same two macros (the only
-- definitions written per engine: they decide nothing, they take a JSON array apart).
-- Definitions and queries use these instead of JSON path wildcards, which no other engine reads
-- the same way.

-- The elements of a JSON array as JSON (objects and arrays stay JSON); a single non-array value
-- is a list of itself; NULL is the empty list. For arrays of objects: a string element's JSON
-- keeps its quotes here and loses them on Spark.
CREATE OR REPLACE TEMP MACRO json_items(j) AS
    CASE WHEN j IS NULL THEN []
         WHEN json_type(j) = 'ARRAY' THEN CAST(json_extract(j, '$[*]') AS JSON[])
         ELSE [j] END;

-- The values of a JSON array of strings (numbers as their text); NULL when `j` is NULL or no array.
CREATE OR REPLACE TEMP MACRO json_strings(j) AS
    CASE WHEN json_type(j) = 'ARRAY' THEN CAST(json_extract_string(j, '$[*]') AS VARCHAR[]) END;

-- The values of a JSON object's keys as JSON, in the object's order (what the path `$.*` names);
-- anything but an object is the empty list. A string value's JSON keeps its quotes here and
-- loses them on Spark (as json_items).
CREATE OR REPLACE TEMP MACRO json_values(j) AS
    CASE WHEN json_type(j) = 'OBJECT' THEN CAST(json_extract(j, '$.*') AS JSON[]) ELSE [] END;
