/**
 * The JSON examples of the Markdown documentation that say what they are, so that a test can hold
 * them to docs/asyncapi.yaml and docs/openapi.yaml. A fenced block is marked by its info string:
 *
 *     ```json frame               server frames, one after the other (a frame may span lines)
 *     ```json client-frame        client frames, likewise
 *     ```json body GET /api/price 200     one HTTP body
 *
 * Unmarked blocks (sketches with `…`, shell sessions) are not checked.
 */
import { bodyProblems, clientFrameProblems, serverFrameProblems } from "./api-docs";

export interface MarkedExample {
  file: string;
  /** 1-based line of the example (a frame's own line; a body's opening fence). */
  line: number;
  marker: string;
  text: string;
}

const FENCE = /^\s*```json\s+(frame|client-frame|body\b.*)$/;
const CLOSE = /^\s*```\s*$/;

export function markedExamples(file: string, markdown: string): MarkedExample[] {
  const lines = markdown.split("\n");
  const out: MarkedExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = FENCE.exec(lines[i]!)?.[1]?.trim();
    if (!marker) continue;
    const start = i;
    const block: { line: number; text: string }[] = [];
    for (i++; i < lines.length && !CLOSE.test(lines[i]!); i++) block.push({ line: i + 1, text: lines[i]! });
    if (marker === "frame" || marker === "client-frame") {
      out.push(...frames(file, marker, block));
    } else {
      out.push({ file, line: start + 1, marker, text: block.map((b) => b.text).join("\n") });
    }
  }
  return out;
}

/** What is wrong with one marked example; empty when it is what its marker says. */
export function exampleProblems(example: MarkedExample): string[] {
  if (example.marker === "frame") return serverFrameProblems(example.text);
  if (example.marker === "client-frame") return clientFrameProblems(example.text);
  const [, method, path, status] = /^body\s+([A-Z]+)\s+(\S+)\s+(\d{3})$/.exec(example.marker) ?? [];
  if (!method || !path || !status) return [`a body marker is "json body METHOD /path STATUS", not "${example.marker}"`];
  let body: unknown;
  try {
    body = JSON.parse(example.text);
  } catch {
    return ["the body is not JSON"];
  }
  return bodyProblems(method, new URL(path, "http://x").pathname, Number(status), body);
}

/** A block of frames: each frame ends on the first line at which the text so far is one JSON value. */
function frames(file: string, marker: string, block: { line: number; text: string }[]): MarkedExample[] {
  const out: MarkedExample[] = [];
  let pending: { line: number; text: string } | null = null;
  for (const { line, text } of block) {
    if (pending === null && text.trim() === "") continue;
    pending = pending ? { line: pending.line, text: `${pending.text}\n${text}` } : { line, text };
    try {
      JSON.parse(pending.text);
    } catch {
      continue;
    }
    out.push({ file, marker, ...pending });
    pending = null;
  }
  // What never became JSON is an example too: it fails, and says where it starts.
  if (pending) out.push({ file, marker, ...pending });
  return out;
}
