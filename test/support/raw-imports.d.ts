// Vite (and so the vitest pool) imports a file's text with `?raw`: the API documents and the
// Markdown examples are read this way inside workerd, which has no file system.
declare module "*?raw" {
  const text: string;
  export default text;
}

interface ImportMeta {
  glob(pattern: string, options: { query: "?raw"; import: "default"; eager: true }): Record<string, string>;
}
