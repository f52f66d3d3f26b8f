/**
 * The Roomz client library. Everything here runs in browsers, Bun and Node 22+;
 * createClient reaches the file-based session cache only through a dynamic import, so
 * a browser bundle never loads node:fs.
 */
export { RoomzClient } from "./client";
export { RoomzError, type RoomzErrorCode, type ClientErrorCode } from "./errors";
export { createClient, type CreateClientOptions } from "./create-client";
export type * from "./types";
export type * from "../protocol/frames";
