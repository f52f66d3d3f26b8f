/**
 * `roomz send [--server URL] [--token TOKEN] [--file PATH] [text...]`: sends one message
 * (the arguments joined by spaces, or else all of standard input) with the cached session;
 * exits after the ack. With --file, the file is uploaded (streamed from disk) and
 * attached, and the text, possibly empty, is its caption (standard input is not read).
 * With an access token (--token or ROOMZ_TOKEN) it posts over HTTP instead
 * (`POST /api/messages`, which a `send` token may do).
 */
import { basename } from "node:path";
import { RoomzClient } from "../client/client";
import { RoomzError } from "../client/errors";
import { explain } from "./describe";
import { utf8Text } from "../protocol/text";
import { cachedClient, EXIT, parseOrExit, stopOutcome, tokenRefusal } from "./one-shot";

const USAGE = "Usage: roomz send [--server URL] [--token TOKEN] [--file PATH] [text...]   (without text or a file, standard input is sent; ROOMZ_TOKEN works as --token)";
/** Give up when no ack came this long after the first attempt (the message may still arrive). */
const GIVE_UP_MS = 60_000;

export async function runSend(argv: string[]): Promise<number> {
  const parsed = parseOrExit(argv, USAGE, { text: true, file: true, token: true });
  if (typeof parsed === "number") return parsed;
  const file = parsed.file === null ? null : Bun.file(parsed.file);
  if (file && !(await file.exists())) {
    console.error(`No file at ${parsed.file}.\n${USAGE}`);
    return EXIT.usage;
  }
  const fromStdin = parsed.rest.length === 0 && !file;
  const stdin = fromStdin ? await readStdin() : "";
  if (stdin === null) {
    console.error(`Standard input is not UTF-8 text; nothing was sent. To send it as a file: roomz send --file PATH\n${USAGE}`);
    return EXIT.usage;
  }
  // The one newline that ends the last line (echo's, a file's) is not part of the message.
  const content = fromStdin ? stdin.replace(/\r?\n$/, "") : parsed.rest.join(" ");
  if (content.trim() === "" && !file) {
    console.error(`Nothing to send.\n${USAGE}`);
    return EXIT.usage;
  }
  if (parsed.token) return postWithToken(parsed.server, parsed.token, content, file && { file, name: basename(parsed.file!) });
  const client = cachedClient(parsed.server);
  if (!client) return EXIT.notSignedIn;

  let connectedOnce = false;
  const outcome = new Promise<number>((resolve) => {
    client.on("connection_state", (state) => {
      if (state.status === "connected") connectedOnce = true;
      if (state.status === "offline" && !connectedOnce) {
        console.error(`Can't reach the server at ${parsed.server}. Is it running, and is the address right?`);
        resolve(EXIT.refused);
      } else if (state.status === "stopped" && state.stop !== "closed") {
        const { code, text } = stopOutcome(parsed.server, state);
        console.error(text);
        resolve(code);
      }
    });
    const sent = file ? client.sendFile(file, { name: basename(parsed.file!), type: file.type, caption: content }) : client.send(content);
    sent.then(
      () => resolve(EXIT.done),
      (error) => {
        if (error instanceof RoomzError && (error.code === "session_ended" || error.code === "unauthenticated")) return; // said by the state
        console.error(explain(error, parsed.server));
        resolve(EXIT.refused);
      },
    );
    setTimeout(() => {
      console.error("No answer from the server in time; the message may or may not have been delivered.");
      resolve(EXIT.refused);
    }, GIVE_UP_MS).unref?.();
  });
  client.connect().catch(() => {});
  const code = await outcome;
  client.close();
  return code;
}

/** With an access token: an HTTP post (after uploading the file, if any), no WebSocket. */
async function postWithToken(server: string, token: string, content: string, attach: { file: ReturnType<typeof Bun.file>; name: string } | null): Promise<number> {
  try {
    const client = new RoomzClient({ server, token });
    const files = attach ? [(await client.uploadFile(attach.file, { name: attach.name, type: attach.file.type })).id] : [];
    await client.post(content, { files });
    return EXIT.done;
  } catch (error) {
    const { code, text } = tokenRefusal(error, server);
    console.error(text);
    return code;
  }
}

/** Standard input as text, or null when it is not UTF-8 (it would be stored altered). */
async function readStdin(): Promise<string | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
  return utf8Text(Buffer.concat(chunks));
}
