/** The real client core, talking to the server this page came from (cookie session). */
import { RoomzClient } from "../../../src/client/client";
import { localOutboxStorage } from "../lib/storage";
import type { ChatClient } from "./client-port";

export function createRoomzClient(): ChatClient {
  return new RoomzClient({ server: "", outboxStorage: localOutboxStorage() });
}
