/**
 * docs/asyncapi.yaml and docs/openapi.yaml as the tests' oracle: every frame and HTTP body the
 * tests see is checked against the schemas there, so the documents cannot drift from the server.
 * Runs inside workerd, where code generation is forbidden: @cfworker/json-schema interprets the
 * schemas instead of compiling them.
 */
import { Validator, type OutputUnit, type Schema } from "@cfworker/json-schema";
import { parse } from "yaml";
import asyncapiText from "../../docs/asyncapi.yaml?raw";
import openapiText from "../../docs/openapi.yaml?raw";

// biome-ignore lint/suspicious/noExplicitAny: a parsed YAML document, walked by JSON pointer
export type Node = any;

interface ApiDocument {
  name: string;
  /** The base URI its `#/…` references resolve against inside the validator. */
  uri: string;
  /** JSON Schema dialect of its schemas: AsyncAPI's is draft-07's, OpenAPI 3.1's is 2020-12. */
  draft: "7" | "2020-12";
  root: Node;
}

export const asyncapi: ApiDocument = {
  name: "docs/asyncapi.yaml",
  uri: "https://api-docs.test/asyncapi.yaml",
  draft: "7",
  root: parse(asyncapiText),
};

export const openapi: ApiDocument = {
  name: "docs/openapi.yaml",
  uri: "https://api-docs.test/openapi.yaml",
  draft: "2020-12",
  root: parse(openapiText),
};

// ---- JSON pointers and references -------------------------------------------------------

const decodeToken = (token: string) => token.replace(/~1/g, "/").replace(/~0/g, "~");
const encodeToken = (token: string) => token.replace(/~/g, "~0").replace(/\//g, "~1");

export function pointerOf(...tokens: string[]): string {
  return tokens.map((t) => `/${encodeToken(t)}`).join("");
}

/** The node at a pointer (`/components/schemas/X`), following `$ref`s on the way and at the end. */
export function resolve(doc: ApiDocument, pointer: string): { node: Node; pointer: string } {
  let node = doc.root;
  let at = "";
  for (const token of pointer.split("/").slice(1).map(decodeToken)) {
    ({ node, pointer: at } = follow(doc, node, at));
    if (node === undefined || node === null || typeof node !== "object") return { node: undefined, pointer };
    node = node[token];
    at += `/${encodeToken(token)}`;
  }
  return follow(doc, node, at);
}

function follow(doc: ApiDocument, node: Node, pointer: string): { node: Node; pointer: string } {
  let hops = 0;
  while (node && typeof node === "object" && typeof node.$ref === "string" && hops++ < 20) {
    const ref: string = node.$ref;
    if (!ref.startsWith("#/")) throw new Error(`${doc.name}: only local references are supported, got ${ref}`);
    pointer = ref.slice(1);
    node = pointer
      .split("/")
      .slice(1)
      .map(decodeToken)
      .reduce((n: Node, t) => (n === undefined || n === null ? undefined : n[t]), doc.root);
    if (node === undefined) throw new Error(`${doc.name}: ${ref} does not exist`);
  }
  return { node, pointer };
}

// ---- validating against a schema of a document --------------------------------------------

const validators = new Map<string, Validator>();

function validatorFor(doc: ApiDocument, pointer: string): Validator {
  const key = `${doc.uri}#${pointer}`;
  let validator = validators.get(key);
  if (!validator) {
    validator = new Validator({ $ref: key }, doc.draft, false);
    validator.addSchema(doc.root as Schema, doc.uri);
    validators.set(key, validator);
  }
  return validator;
}

/** What is wrong with `value` as an instance of the schema at `pointer`; empty when it is valid. */
export function schemaProblems(doc: ApiDocument, pointer: string, value: unknown): string[] {
  const result = validatorFor(doc, pointer).validate(value);
  if (result.valid) return [];
  return describe(result.errors);
}

function describe(errors: OutputUnit[]): string[] {
  // The leaves say what is wrong; "A subschema had errors" and the like only say where.
  const leaves = errors.filter((e) => !/subschema|does not match schema|had errors/i.test(e.error));
  return (leaves.length > 0 ? leaves : errors).map((e) => `${e.instanceLocation || "#"}: ${e.error}`);
}

// ---- the WebSocket frames (AsyncAPI) --------------------------------------------------------

export interface DocumentedMessage {
  /** Its key under components/messages. */
  key: string;
  contentType: string;
  /** Pointer to its payload schema. */
  payload: string;
  /** The payload's `const` properties (`type`, and `state` for status frames): what tells frames apart. */
  discriminators: Record<string, unknown>;
  /** For a text message (`ping`, `pong`): the text. */
  text?: string;
}

function messagesOf(refs: Node[] | undefined): DocumentedMessage[] {
  return (refs ?? []).map((ref: Node) => {
    const { node: message, pointer } = follow(asyncapi, ref, "");
    const { node: payload, pointer: payloadPointer } = follow(asyncapi, message.payload, `${pointer}/payload`);
    const discriminators: Record<string, unknown> = {};
    for (const [name, property] of Object.entries<Node>(payload.properties ?? {})) {
      if (property && "const" in property) discriminators[name] = property.const;
    }
    const contentType = message.contentType ?? asyncapi.root.defaultContentType;
    return {
      key: pointer.split("/").pop()!,
      contentType,
      payload: payloadPointer,
      discriminators,
      ...(contentType === "text/plain" ? { text: payload.const } : {}),
    };
  });
}

function unique(messages: DocumentedMessage[]): DocumentedMessage[] {
  return messages.filter((m, i) => messages.findIndex((o) => o.key === m.key) === i);
}

const operations = (): Node[] => Object.values(asyncapi.root.operations ?? {});

/** What the server sends: the messages of its `send` operations and the replies to `receive` ones. */
export const serverMessages: DocumentedMessage[] = unique([
  ...operations()
    .filter((op) => op.action === "send")
    .flatMap((op) => messagesOf(op.messages)),
  ...operations().flatMap((op) => messagesOf(op.reply?.messages)),
]);

/** What a client sends: the messages of the server's `receive` operations. */
export const clientMessages: DocumentedMessage[] = unique(
  operations()
    .filter((op) => op.action === "receive")
    .flatMap((op) => messagesOf(op.messages)),
);

/** The documented messages a JSON frame could be: those whose discriminators it carries. */
export function messagesMatching(messages: DocumentedMessage[], frame: unknown): DocumentedMessage[] {
  if (typeof frame !== "object" || frame === null) return [];
  const fields = frame as Record<string, unknown>;
  return messages.filter(
    (m) => m.contentType !== "text/plain" && Object.entries(m.discriminators).every(([name, v]) => fields[name] === v),
  );
}

function frameProblems(messages: DocumentedMessage[], side: string, text: string): string[] {
  const textMessage = messages.find((m) => m.text !== undefined && m.text === text);
  if (textMessage) return schemaProblems(asyncapi, textMessage.payload, text);
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return [`not JSON, and not a text frame ${side} sends in ${asyncapi.name}`];
  }
  const candidates = messagesMatching(messages, frame);
  if (candidates.length === 0) {
    const type = (frame as { type?: unknown } | null)?.type;
    return [`no frame ${side} sends in ${asyncapi.name} has type ${JSON.stringify(type)}`];
  }
  const results = candidates.map((m) => schemaProblems(asyncapi, m.payload, frame).map((p) => `${m.key} ${p}`));
  return results.some((r) => r.length === 0) ? [] : results.flat();
}

/** What is wrong with one text frame as a server frame of docs/asyncapi.yaml; empty when nothing is. */
export function serverFrameProblems(text: string): string[] {
  return frameProblems(serverMessages, "the server", text);
}

export function clientFrameProblems(text: string): string[] {
  return frameProblems(clientMessages, "a client", text);
}

// ---- frames and bodies the tests saw that the documents do not describe ---------------------

const undocumented: string[] = [];

/** Checks a frame the server sent to a test client; what does not validate is kept for afterEach. */
export function noteServerFrame(text: string): void {
  const problems = serverFrameProblems(text);
  if (problems.length > 0) undocumented.push(`${text.slice(0, 300)}\n    ${problems.join("\n    ")}`);
}

/** The undocumented frames since the last call (test/support/setup.ts fails a test that has any). */
export function takeUndocumented(): string[] {
  return undocumented.splice(0);
}

// ---- HTTP (OpenAPI) ---------------------------------------------------------------------------

function pathItemFor(path: string): { template: string; item: Node } | null {
  const paths: Record<string, Node> = openapi.root.paths ?? {};
  if (paths[path]) return { template: path, item: paths[path] };
  for (const [template, item] of Object.entries(paths)) {
    const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`);
    if (pattern.test(path)) return { template, item };
  }
  return null;
}

/** The documented response for a request's answer, and where it is (to validate against it). */
export function documentedResponse(method: string, path: string, status: number): { node: Node; pointer: string } {
  const found = pathItemFor(path);
  const verb = method.toLowerCase();
  const operation = found?.item[verb];
  if (!operation) {
    // No operation: a path not listed (404) or a method the path does not list (405).
    return resolve(openapi, "/components/responses/Error");
  }
  const responses = `/paths/${encodeToken(found.template)}/${verb}/responses`;
  for (const key of [String(status), `${String(status)[0]}XX`, "default"]) {
    if (operation.responses?.[key]) return resolve(openapi, `${responses}/${encodeToken(key)}`);
  }
  return { node: undefined, pointer: responses };
}

export interface HttpAnswer {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  body: string;
}

/** What is wrong with an HTTP answer as docs/openapi.yaml describes it; empty when nothing is. */
export function httpProblems(answer: HttpAnswer): string[] {
  const where = `${answer.method} ${answer.path} → ${answer.status}`;
  const { node: response, pointer } = documentedResponse(answer.method, answer.path, answer.status);
  if (!response) return [`${where}: status ${answer.status} is not documented in ${openapi.name}`];
  const problems: string[] = [];
  for (const [name, declared] of Object.entries<Node>(response.headers ?? {})) {
    const { node: header, pointer: headerPointer } = follow(
      openapi,
      declared,
      `${pointer}/headers/${encodeToken(name)}`,
    );
    const value = answer.headers.get(name);
    if (value === null) {
      if (header.required) problems.push(`${where}: header ${name} is missing`);
      continue;
    }
    for (const p of schemaProblems(openapi, `${headerPointer}/schema`, value)) problems.push(`${where}: ${name} ${p}`);
  }
  const content: Record<string, Node> | undefined = response.content;
  if (!content) {
    if (answer.body !== "") problems.push(`${where}: a body where none is documented`);
    return problems;
  }
  const type = (answer.headers.get("content-type") ?? "").split(";")[0]!.trim();
  if (!content[type]) {
    problems.push(`${where}: content type "${type}" is not one of ${Object.keys(content).join(", ")}`);
    return problems;
  }
  if (type !== "application/json") return problems;
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return [...problems, `${where}: the body is not JSON`];
  }
  const schema = `${pointer}/content/${encodeToken(type)}/schema`;
  for (const p of schemaProblems(openapi, schema, body)) problems.push(`${where}: body ${p}`);
  return problems;
}

/** What is wrong with a JSON body as the answer of `method path` with `status`; headers aside. */
export function bodyProblems(method: string, path: string, status: number, body: unknown): string[] {
  const where = `${method} ${path} → ${status}`;
  const { node: response, pointer } = documentedResponse(method, path, status);
  if (!response?.content?.["application/json"]) return [`${where}: no JSON body is documented in ${openapi.name}`];
  return schemaProblems(openapi, `${pointer}/content/application~1json/schema`, body).map((p) => `${where}: ${p}`);
}

/**
 * The response, whose `text()` and `json()` check the answer against docs/openapi.yaml before
 * they return: a test that reads a body reads a documented one or fails.
 */
export function documented(request: Request, response: Response): Response {
  const read = response.text.bind(response);
  let checked: Promise<string> | null = null;
  const text = () => {
    checked ??= read().then((body) => {
      const problems = httpProblems({
        method: request.method,
        path: new URL(request.url).pathname,
        status: response.status,
        headers: response.headers,
        body,
      });
      if (problems.length > 0) throw new Error(`undocumented HTTP answer:\n  ${problems.join("\n  ")}`);
      return body;
    });
    return checked;
  };
  Object.defineProperty(response, "text", { value: text });
  Object.defineProperty(response, "json", { value: async () => JSON.parse(await text()) });
  return response;
}
