/** PROTOCOL.md conventions: every timestamp, HTTP and WebSocket alike, is `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC). */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
