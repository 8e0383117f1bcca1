// node --test: the column limit's checker.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isChecked, longLines, MAX_COLUMNS } from "./check-lines.mjs";

test("finds the lines over the limit, counting characters rather than bytes", () => {
  const ok = "x".repeat(MAX_COLUMNS);
  const long = "y".repeat(MAX_COLUMNS + 1);
  const wide = "€".repeat(MAX_COLUMNS); // 3 bytes each, still 120 columns
  assert.deepEqual(longLines([ok, long, wide, ""].join("\n")), [[2, MAX_COLUMNS + 1]]);
});

test("checks source, style and config files, not generated output, results or fixtures", () => {
  for (const path of ["src/a.ts", "bench/run.mjs", "src/page/styles.css", "docs/openapi.yaml", "wrangler.toml"]) {
    assert.equal(isChecked(path), true, path);
  }
  for (const path of ["README.md", "src/page/generated/assets.ts", "bench/results/x.json", "package-lock.json"]) {
    assert.equal(isChecked(path), false, path);
  }
});
