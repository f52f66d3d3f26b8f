export * from "./frames";
export * from "./problems";
export * from "./email";
export * from "./channels";
export * from "./text";
export * from "./files";
export * from "./push";
export * from "./tokens";
