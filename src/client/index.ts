/**
 * The Roomz client library's core, "roomz/client": nothing here touches a file or a
 * runtime-specific API, so browsers, Bun and Node share it (Node 20 passes the ws
 * package's WebSocket). The file-based session cache is in "roomz/client/node" (node.ts).
 */
export { RoomzClient } from "./client.js";
export { RoomzError, type RoomzErrorCode, type ClientErrorCode } from "./errors.js";
export { followStream, type FollowOptions } from "./event-stream.js";
export type { TokenInfo, CreatedToken, TokenScope } from "../protocol/tokens.js";
export type * from "./types.js";
export type * from "../protocol/frames.js";
export type { ServerLimits } from "../protocol/text.js";
export type { FileInfo } from "../protocol/file-info.js";
