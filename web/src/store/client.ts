/** The real client core, talking to the server this page came from (cookie session). */
import { RoomzClient } from "../../../src/client/client";
import type { ChatClient } from "./client-port";

export function createRoomzClient(): ChatClient {
  return new RoomzClient({ server: "" });
}
