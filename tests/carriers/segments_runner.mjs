// Runs static/console/js/segments.js over a JSON file of cases, for
// test_segments.py: node segments_runner.mjs CASES.json
//
// Each case is {"text": ..., "function"?: ..., "limit"?: ...}; "function"
// defaults to "segment". Prints {"results": [...], "constants": {...}}: one
// result per case, in order, and the module's tables so the test can check
// they equal the Python ones.

import { readFileSync } from "node:fs";

import * as segments from "../../static/console/js/segments.js";

const FUNCTIONS = {
  segment: (c) => segments.segment(c.text),
  smart_replace: (c) => segments.smart_replace(c.text),
  replacement_for: (c) => segments.replacement_for(c.text),
  check_limit: (c) => segments.check_limit(c.text, c.limit),
  graphemes: (c) => segments.graphemes(c.text),
};

const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
const results = cases.map((c) => FUNCTIONS[c.function ?? "segment"](c));
const constants = {
  GSM_BASIC: segments.GSM_BASIC,
  GSM_EXTENSION: segments.GSM_EXTENSION,
  CAPACITY: segments.CAPACITY,
  SMART_REPLACEMENTS: segments.SMART_REPLACEMENTS,
  LIMITS: segments.LIMITS,
};
process.stdout.write(JSON.stringify({ results, constants }));
