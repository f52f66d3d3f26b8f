/**
 * Messages with files (PROTOCOL.md section 7) over the real WebSocket: the ack, every
 * connection's copy, history and replays carry the files; only the sender's own uploads
 * may be attached; order is kept; a referenced file outlives the cleanup. Run with
 * ROOMZ_TEST_ENGINE=redis too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signIn, type TestServer } from "../helpers/server";
import { testSuite } from "../helpers/suite";
import { until } from "../helpers/wait";
import { WsClient } from "../helpers/ws-client";
import { allHistory } from "../ws/support";
import { auth, png, uploaded } from "./support";

const suite = testSuite("attach", 12, "attach-test-secret-key-that-is-long-enough-0123");
let server: TestServer;
beforeAll(async () => {
  server = await suite.start({ ROOMZ_ORPHAN_FILE_AGE_MS: "1500", ROOMZ_ORPHAN_SWEEP_MS: "200" });
});
afterAll(() => server?.stop());

async function twoConnections() {
  const jwt = await signIn(server, suite.freshUser());
  const a = await WsClient.connect(server.wsUrl, { jwt });
  const b = await WsClient.connect(server.wsUrl, { jwt });
  return { jwt, a, b };
}

describe("messages with files", () => {
  test("an empty caption with two files: the ack, the other connection's copy, history and a replay carry the files; [] when none", async () => {
    const { jwt, a, b } = await twoConnections();
    const photo = await uploaded(server, jwt, png(40, 30), "photo.png", "image/png");
    const doc = await uploaded(server, jwt, "%PDF-1.4 not really", "report.pdf", "application/pdf");
    const ack = await a.request("message", { content: "", files: [photo.id, doc.id], client_msg_id: "with-files" });
    expect(ack.type).toBe("ack");
    expect(ack.data.files).toEqual([photo, doc]);
    const plain = await a.request("message", { content: "no files" });
    expect(plain.data.files).toEqual([]);
    const [withFiles, without] = await b.waitForMessages(2);
    expect(withFiles).toMatchObject({ content: "", files: [photo, doc], seq: 1 });
    expect(without.files).toEqual([]);
    expect(await allHistory(b)).toEqual([withFiles, without]);
    const resumed = await WsClient.connect(server.wsUrl, { jwt, since: 0 });
    expect(resumed.replay!.data.messages).toEqual([withFiles, without]);
    // a resend with the same client_msg_id is the original, files and all
    const again = await a.request("message", { content: "", files: [photo.id], client_msg_id: "with-files" });
    expect(again.data).toEqual({ ...ack.data, duplicate: true });
    for (const c of [a, b, resumed]) c.close();
  });

  test("an unknown id, another user's file or a malformed list is invalid_data, and nothing is stored", async () => {
    const { jwt, a } = await twoConnections();
    const mine = await uploaded(server, jwt, "mine", "mine.txt");
    const theirs = await uploaded(server, await signIn(server, suite.freshUser()), "theirs", "theirs.txt");
    for (const files of [[crypto.randomUUID()], [mine.id, theirs.id], [theirs.id], "nope", [mine.id, mine.id], Array(11).fill(mine.id)]) {
      const reply = await a.request("message", { content: "x", files });
      expect(reply.type).toBe("error");
      expect(reply.data.code).toBe("invalid_data");
    }
    expect(await allHistory(a)).toEqual([]);
    expect((await a.request("message", { content: " ", files: [] })).data.code).toBe("empty_message");
    a.close();
  });

  test("a connection's messages are stored in the order sent, with and without files", async () => {
    const { jwt, a } = await twoConnections();
    const files = await Promise.all([1, 2, 3].map((i) => uploaded(server, jwt, `f${i}`, `f${i}.txt`)));
    const replies = await Promise.all([
      a.request("message", { content: "1", files: [files[0].id] }),
      a.request("message", { content: "2" }),
      a.request("message", { content: "3", files: [files[1].id, files[2].id] }),
      a.request("message", { content: "4" }),
    ]);
    expect(replies.map((r) => r.data.seq)).toEqual([1, 2, 3, 4]);
    expect((await allHistory(a)).map((m) => m.content)).toEqual(["1", "2", "3", "4"]);
    a.close();
  });

  test("the cleanup deletes unreferenced uploads and keeps the ones a message refers to", async () => {
    const { jwt, a } = await twoConnections();
    const kept = await uploaded(server, jwt, "kept", "kept.txt");
    const dropped = await uploaded(server, jwt, "dropped", "dropped.txt");
    expect((await a.request("message", { content: "keep this", files: [kept.id] })).type).toBe("ack");
    await until(async () => (await fetch(`${server.url}/files/${dropped.id}`, { headers: auth(jwt) })).status === 404, () => "the unreferenced upload to go");
    const res = await fetch(`${server.url}/files/${kept.id}`, { headers: auth(jwt) });
    expect([res.status, await res.text()]).toEqual([200, "kept"]);
    // a deleted upload can't be attached any more
    expect((await a.request("message", { content: "late", files: [dropped.id] })).data.code).toBe("invalid_data");
    a.close();
  });

  test("files stay with their messages across a restart", async () => {
    const { jwt, a } = await twoConnections();
    const file = await uploaded(server, jwt, png(2, 2), "keep.png", "image/png");
    await a.request("message", { content: "before restart", files: [file.id] });
    a.close();
    await server.restart();
    const back = await WsClient.connect(server.wsUrl, { jwt, since: 0 });
    expect(back.replay!.data.messages[0].files).toEqual([file]);
    expect((await fetch(`${server.url}/files/${file.id}`, { headers: auth(jwt) })).status).toBe(200);
    back.close();
  });
});
