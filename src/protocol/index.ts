export * from "./currencies";
export * from "./messages";
export * from "./query";
export * from "./result";
export * from "./tick";
export * from "./server-frames";
export * from "./api";
export * from "./price-stats";
