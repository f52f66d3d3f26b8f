export * from "./frames";
export * from "./problems";
