/**
 * "roomz/client/node": the core plus what needs Node's file system (also Bun's): the
 * session cache in ~/.roomz/session.json and createClient, which loads and saves it.
 */
export * from "./index.js";
export { createClient, type CreateClientOptions } from "./create-client.js";
export { defaultSessionFile, SessionCache } from "./session-cache.js";
