#!/usr/bin/env node
// The 120-column limit, for what Biome's formatter cannot wrap (comments, strings, HTML, YAML).
// Usage: node scripts/check-lines.mjs [root]; exits 1 and lists every longer line.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const MAX_COLUMNS = 120;
const CHECKED = /\.(ts|mts|mjs|js|css|html|ya?ml|toml|json)$/;
const SKIPPED = [/^package-lock\.json$/, /(^|\/)generated\//, /^bench\/results\//, /^test\/fixtures\//, /\.d\.ts$/];

/** Lines longer than the limit in one file's text: [line number, length]. */
export function longLines(text, max = MAX_COLUMNS) {
  const out = [];
  text.split("\n").forEach((line, i) => {
    const columns = [...line].length;
    if (columns > max) out.push([i + 1, columns]);
  });
  return out;
}

export const isChecked = (path) => CHECKED.test(path) && !SKIPPED.some((re) => re.test(path));

function main(root) {
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: root })
    .toString()
    .split("\n")
    .filter(isChecked);
  let found = 0;
  for (const path of files) {
    let text;
    try {
      text = readFileSync(join(root, path), "utf8");
    } catch {
      continue; // deleted in the working tree
    }
    for (const [line, columns] of longLines(text)) {
      console.error(`${path}:${line}: ${columns} columns (at most ${MAX_COLUMNS})`);
      found++;
    }
  }
  if (found > 0) {
    console.error(`check-lines: ${found} line(s) over ${MAX_COLUMNS} columns`);
    process.exit(1);
  }
  console.log(`check-lines: ${files.length} files, none over ${MAX_COLUMNS} columns`);
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv[2] ?? process.cwd());
