import { describe, expect, it } from "vitest";
import readme from "../../README.md?raw";
import { exampleProblems, markedExamples } from "../support/doc-examples";

const docs = import.meta.glob("../../docs/**/*.md", { query: "?raw", import: "default", eager: true });
const files: [string, string][] = [
  ["README.md", readme],
  ...Object.entries(docs).map(([path, text]): [string, string] => [path.slice("../../".length), text]),
];
const examples = files.flatMap(([file, text]) => markedExamples(file, text));

describe("the JSON examples of README.md and docs/*.md", () => {
  it("are found: the README marks its frames and bodies", () => {
    const inReadme = examples.filter((e) => e.file === "README.md");
    expect(inReadme.filter((e) => e.marker === "frame").length).toBeGreaterThanOrEqual(10);
    expect(inReadme.filter((e) => e.marker === "client-frame").length).toBeGreaterThanOrEqual(2);
    expect(inReadme.filter((e) => e.marker.startsWith("body")).length).toBeGreaterThanOrEqual(2);
  });

  it.each(examples.map((e) => [`${e.file}:${e.line} (${e.marker})`, e] as const))(
    "%s is what docs/asyncapi.yaml or docs/openapi.yaml says",
    (_, example) => {
      expect(exampleProblems(example)).toEqual([]);
    },
  );
});

describe("marked examples", () => {
  const markdown = [
    "Some frames:",
    "",
    "```json frame",
    '{"type":"gap","from_seq":10,',
    ' "to_seq":20}',
    '{"type":"gap","from_seq":"10","to_seq":20}',
    "```",
    "",
    "```json body GET /api/history 200",
    '{"currency":"USD","from":1,"to":2,"limit":1,"points":[],"next":null,"total":0}',
    "```",
    "",
    "```json",
    '{"not":"marked"}',
    "```",
    "```json frame",
    '{"type":"replay_end",',
  ].join("\n");

  it("span lines, are read one value at a time, and are refused when wrong", () => {
    const found = markedExamples("test.md", markdown);
    expect(found.map((e) => [e.line, e.marker])).toEqual([
      [4, "frame"],
      [6, "frame"],
      [9, "body GET /api/history 200"],
      [17, "frame"],
    ]);
    expect(found.map((e) => exampleProblems(e).length > 0)).toEqual([false, true, true, true]);
    expect(exampleProblems(found[1]!).join()).toContain("/from_seq");
    expect(exampleProblems(found[2]!).join()).toContain("total");
  });
});
