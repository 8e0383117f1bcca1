#!/usr/bin/env node
// The import rules of src/ (docs/design/layout.md), checked on every `npm test`:
//   1. no import cycle, type-only imports included;
//   2. no module imports a Durable Object class's module except the Worker entry (src/index.ts):
//      objects talk through the interfaces in src/contracts.ts, built by src/stubs.ts;
//   3. no stub is typed by an object's class: only src/stubs.ts reaches the object bindings, and no
//      file names a `DurableObjectStub<Class>` (a stub typed by its class offers every public method,
//      so an HTTP handler could call the hub's `publish`).
// Exits 1 and names every offending file. `node scripts/check-imports.mjs <dir>` checks another tree
// laid out like src/ (its tests use that).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = process.argv[2] ? resolve(process.argv[2], "..") : join(dirname(fileURLToPath(import.meta.url)), "..");
const src = process.argv[2] ? resolve(process.argv[2]) : join(root, "src");
const ENTRY = join(src, "index.ts");
const STUBS = join(src, "stubs.ts");

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !/\.d\.ts$/.test(name) ? [path] : [];
  });
}

function resolveImport(from, specifier) {
  if (!specifier.startsWith(".")) return null;
  const base = resolve(dirname(from), specifier);
  for (const candidate of [`${base}.ts`, join(base, "index.ts"), base]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

const files = sourceFiles(src);
/** @type {Map<string, string[]>} */
const imports = new Map();
const objectModules = new Set();
/** @type {Set<string>} */
const objectClasses = new Set();
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const { importedFiles } = ts.preProcessFile(text, true, true);
  imports.set(
    file,
    importedFiles.map((i) => resolveImport(file, i.fileName)).filter((f) => f !== null && files.includes(f)),
  );
  if (/\bextends\s+DurableObject\b/.test(text)) objectModules.add(file);
  for (const m of text.matchAll(/\bclass\s+(\w+)\s+extends\s+DurableObject\b/g)) objectClasses.add(m[1]);
}

const rel = (f) => relative(root, f);
const problems = [];

for (const [file, deps] of imports) {
  if (file === ENTRY) continue;
  for (const dep of deps) {
    if (objectModules.has(dep)) {
      problems.push(`${rel(file)} imports the object class module ${rel(dep)}: use src/contracts.ts and src/stubs.ts`);
    }
  }
}

const bindingNames = /\benv\.(\w+)\.(?:get|getByName|idFromName|idFromString|newUniqueId)\(/g;
for (const file of files) {
  const text = readFileSync(file, "utf8");
  if (file !== STUBS) {
    for (const m of text.matchAll(bindingNames)) {
      problems.push(`${rel(file)} reaches the object binding ${m[1]} itself: build its stub in src/stubs.ts`);
    }
  }
  for (const m of text.matchAll(/DurableObjectStub<\s*(\w+)\s*>/g)) {
    if (objectClasses.has(m[1])) {
      problems.push(`${rel(file)} types a stub by the class ${m[1]}: type it by its contract in src/contracts.ts`);
    }
  }
}
if (existsSync(STUBS)) {
  // Every stub src/stubs.ts hands out is typed by a contract, written out: an inferred type is the class.
  const text = readFileSync(STUBS, "utf8");
  for (const m of text.matchAll(/export const (\w+) = \([^)]*\)(:\s*DurableObjectStub<\w+>)?\s*=>/g)) {
    if (!m[2])
      problems.push(`src/stubs.ts: ${m[1]} has no stub type: give it its contract (DurableObjectStub<...Api>)`);
  }
}

// Tarjan's strongly connected components: every component of more than one file is a cycle.
let index = 0;
const stack = [];
const meta = new Map();
function visit(file) {
  meta.set(file, { index, low: index, onStack: true });
  index++;
  stack.push(file);
  for (const dep of imports.get(file) ?? []) {
    if (!meta.has(dep)) {
      visit(dep);
      meta.get(file).low = Math.min(meta.get(file).low, meta.get(dep).low);
    } else if (meta.get(dep).onStack) {
      meta.get(file).low = Math.min(meta.get(file).low, meta.get(dep).index);
    }
  }
  if (meta.get(file).low === meta.get(file).index) {
    const component = [];
    let member;
    do {
      member = stack.pop();
      meta.get(member).onStack = false;
      component.push(member);
    } while (member !== file);
    const selfImport = (imports.get(file) ?? []).includes(file);
    if (component.length > 1 || selfImport) {
      const inCycle = new Set(component);
      const edges = component.flatMap((f) =>
        (imports.get(f) ?? []).filter((d) => inCycle.has(d)).map((d) => `${rel(f)} -> ${rel(d)}`),
      );
      problems.push(`import cycle of ${component.length} file(s):\n    ${edges.join("\n    ")}`);
    }
  }
}
for (const file of files) if (!meta.has(file)) visit(file);

if (problems.length > 0) {
  console.error(`check-imports: ${problems.length} problem(s) in src/\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
console.log(`check-imports: ${files.length} modules, no import cycle, no object class imported outside src/index.ts`);
