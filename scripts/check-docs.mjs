#!/usr/bin/env node
// The documentation's rules: a short README, links that lead somewhere, no commit hashes or
// work-item numbers, and a design index that lists every design file. Pure functions of text,
// tested (and run against the repository's documents) by scripts/docs.test.mjs.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export const MAX_README_LINES = 220;

/** The text with fenced code blocks and inline code spans blanked out (line numbers kept). */
export function prose(text) {
  let fenced = false;
  return text
    .split("\n")
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced;
        return "";
      }
      return fenced ? "" : line.replace(/`[^`]*`/g, "``");
    })
    .join("\n");
}

/** A problem when the README is longer than the front door may be. */
export function readmeLength(text, max = MAX_README_LINES) {
  const lines = text.replace(/\n$/, "").split("\n").length;
  return lines > max ? [`README.md has ${lines} lines (at most ${max})`] : [];
}

/** GitHub's anchor for a heading. */
export function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a markdown file's headings (outside code blocks). */
export function anchors(text) {
  return prose(text)
    .split("\n")
    .map((line) => /^#{1,6}\s+(.*)$/.exec(line))
    .filter(Boolean)
    .map((m) => slug(m[1].replace(/``/g, "")));
}

/** Relative link targets of a markdown text, outside code: [text](target) and ![alt](target). */
export function relativeLinks(text) {
  const out = [];
  const blanked = prose(text).split("\n");
  text.split("\n").forEach((raw, i) => {
    if (blanked[i] === "" && raw !== "") return; // inside a fenced block
    // Inline code goes, except a link's text in backticks: [`src/x.ts`](src/x.ts).
    const line = raw.replace(/(?<!\[)`[^`]*`(?!\])/g, "");
    for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      out.push({ line: i + 1, target });
    }
  });
  return out;
}

/**
 * Broken relative links of `file` (a path from the root): a target that is not a file or folder,
 * or an anchor that names no heading of the markdown file it points to.
 * `read(path)` returns a file's text or null when it does not exist.
 */
export function brokenLinks(file, text, read) {
  const problems = [];
  for (const { line, target } of relativeLinks(text)) {
    const [path, anchor] = target.split("#");
    const to = path === "" ? file : relative(root, resolve(root, dirname(file), path));
    const body = read(to);
    if (body === null) {
      problems.push(`${file}:${line}: ${target} does not exist`);
      continue;
    }
    if (anchor && to.endsWith(".md") && !anchors(body).includes(anchor)) {
      problems.push(`${file}:${line}: ${target}: no heading #${anchor} in ${to}`);
    }
  }
  return problems;
}

/** Words that look like commit hashes: 7–40 hex digits with both a digit and a letter, outside code. */
export function commitHashes(file, text) {
  const problems = [];
  prose(text)
    .split("\n")
    .forEach((line, i) => {
      for (const m of line.matchAll(/(?<![\w-])[0-9a-f]{7,40}(?![\w-])/gi)) {
        if (/\d/.test(m[0]) && /[a-f]/i.test(m[0])) problems.push(`${file}:${i + 1}: ${m[0]} looks like a commit`);
      }
    });
  return problems;
}

/** References to work items: "issue 12", "issue-12", "#12", "stop 21", "this stop's", outside code. */
export function workItemRefs(file, text) {
  const patterns = [/\bissues?[\s-]*#?\d+/i, /(^|[^\w&/])#\d+\b/, /\bstops?\s+\d+/i, /\bthis stop\b/i];
  const problems = [];
  prose(text)
    .split("\n")
    .forEach((line, i) => {
      for (const p of patterns) {
        const m = p.exec(line);
        if (m) problems.push(`${file}:${i + 1}: "${m[0].trim()}" names a work item`);
      }
    });
  return problems;
}

/** Files of docs/design/ that its README.md does not link to. */
export function unlistedDesigns(files, indexText) {
  const linked = new Set(relativeLinks(indexText).map((l) => l.target.split("#")[0].replace(/^\.\//, "")));
  return files.filter((f) => f !== "README.md" && !linked.has(f)).map((f) => `docs/design/${f} is not in the index`);
}

export function markdownUnder(dir) {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return markdownUnder(path);
    return name.endsWith(".md") ? [path] : [];
  });
}

export function readFromDisk(path) {
  const full = join(root, path);
  if (!existsSync(full)) return null;
  return statSync(full).isDirectory() ? "" : readFileSync(full, "utf8");
}
