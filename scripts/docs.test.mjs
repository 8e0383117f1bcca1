// The documentation's rules (scripts/check-docs.mjs), checked by `npm run test:bench` against the
// repository's documents; each checker is also shown to fail on a bad sample.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  brokenLinks,
  commitHashes,
  MAX_README_LINES,
  markdownUnder,
  readFromDisk,
  readmeLength,
  root,
  slug,
  unlistedDesigns,
  workItemRefs,
} from "./check-docs.mjs";

const linked = ["README.md", ...markdownUnder("docs"), "bench/README.md"];
const written = [...linked, "CHANGELOG.md", ...markdownUnder("bench/results")];

describe("the documentation", () => {
  it(`README.md has at most ${MAX_README_LINES} lines`, () => {
    assert.deepEqual(readmeLength(readFromDisk("README.md")), []);
  });

  it("every relative link in README.md and docs/ leads to a file, and its anchor to a heading", () => {
    assert.deepEqual(
      linked.flatMap((f) => brokenLinks(f, readFromDisk(f), readFromDisk)),
      [],
    );
  });

  it("names no commit hash and no work item", () => {
    assert.deepEqual(
      written.flatMap((f) => [...commitHashes(f, readFromDisk(f)), ...workItemRefs(f, readFromDisk(f))]),
      [],
    );
  });

  it("docs/design/README.md lists every file in docs/design/", () => {
    const files = readdirSync(join(root, "docs/design")).filter((f) => f.endsWith(".md"));
    assert.ok(files.length > 1);
    assert.deepEqual(unlistedDesigns(files, readFromDisk("docs/design/README.md")), []);
  });
});

describe("the checkers fail on bad samples", () => {
  it("readmeLength: a README of 221 lines", () => {
    assert.equal(readmeLength("x\n".repeat(221)).length, 1);
    assert.deepEqual(readmeLength("x\n".repeat(220)), []);
  });

  it("brokenLinks: a missing file, a missing anchor; not links in code or to other sites", () => {
    const files = { "docs/a.md": "# Title\n\n## Resume rules\n", "docs/b.md": "" };
    const read = (p) => files[p] ?? null;
    const text = [
      "[ok](a.md#resume-rules) [self](#here) [web](https://example.com)",
      "## Here",
      "[gone](missing.md) [bad anchor](a.md#nowhere)",
      "`[code](nope.md)`",
      "```",
      "[fenced](nope.md)",
      "```",
    ].join("\n");
    files["docs/b.md"] = text;
    const problems = brokenLinks("docs/b.md", text, read);
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(problems[0], /missing\.md does not exist/);
    assert.match(problems[1], /no heading #nowhere/);
  });

  it("slug: headings become GitHub's anchors", () => {
    assert.equal(slug("WebSocket: GET /pricefeed"), "websocket-get-pricefeed");
    assert.equal(slug("Calls, per event and per client"), "calls-per-event-and-per-client");
    assert.equal(slug("2. Stuck quotes"), "2-stuck-quotes");
  });

  it("commitHashes: a short and a full hash; not numbers, words, dates or code", () => {
    const text = [
      "fixed in 64e4395 and 4924b40f3a1c0b9e8d7c6b5a4f3e2d1c0b9a8f7e",
      "2026-11-29, 17280 ticks, a deadbeef word, 1e6, ids like `uX2bq1Lr8Zk0aP3d` or `ab12cd34`",
      "```",
      "ae6e4c8 in a block",
      "```",
    ].join("\n");
    const problems = commitHashes("x.md", text);
    assert.equal(problems.length, 2, problems.join("\n"));
  });

  it("workItemRefs: issue numbers, #N, stops; not seqs in code or HTML entities", () => {
    for (const bad of ["see issue 12", "(#12)", "fixed by #7", "stop 21's code", "this stop's changes", "Issue-3"]) {
      assert.equal(workItemRefs("x.md", bad).length, 1, bad);
    }
    for (const good of ["`#12`", "tick 12", "the issue is", "&#8212;", "a/#3 path", "stops after a while"]) {
      assert.deepEqual(workItemRefs("x.md", good), [], good);
    }
  });

  it("unlistedDesigns: a design file the index does not link", () => {
    const index = "| [fanout.md](fanout.md) | … |\n[sessions](./sessions.md)";
    assert.deepEqual(unlistedDesigns(["README.md", "fanout.md", "sessions.md", "epochs.md"], index), [
      "docs/design/epochs.md is not in the index",
    ]);
  });
});
