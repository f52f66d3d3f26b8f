/**
 * Which push endpoints the server may reach (PROTOCOL.md section 8): public unicast
 * addresses only, IPv4 and IPv6, names resolved (with the machine's real resolver), unless
 * the origin is listed in PUSH_ENDPOINT_ALLOW.
 */
import { expect, test } from "bun:test";
import { checkEndpoint, isPublicAddress } from "../../src/server/push/endpoint-policy";

test("private, loopback, link-local, shared, reserved and documentation ranges are not public, in IPv4 and IPv6", () => {
  const notPublic = [
    "0.0.0.0", "10.0.0.1", "100.64.0.1", "127.0.0.1", "127.255.255.254", "169.254.169.254", "172.16.0.1", "172.31.255.255",
    "192.0.0.8", "192.0.2.1", "192.168.0.1", "198.18.0.1", "198.51.100.7", "203.0.113.9", "224.0.0.1", "240.0.0.1", "255.255.255.255",
    "::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:7f00:1", "64:ff9b::7f00:1", "100::1", "2001::1", "2001:db8::1",
    "2002:7f00:1::1", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "ff02::1", "not an address",
  ];
  const publicOnes = ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "::ffff:8.8.8.8", "2001:4860:4860::8888", "2a00:1450:4001::1", "2606:4700::1111"];
  expect(notPublic.filter(isPublicAddress)).toEqual([]);
  expect(publicOnes.filter((a) => !isPublicAddress(a))).toEqual([]);
});

test("endpoints: https on a public address, or an allowed origin; names are resolved", async () => {
  const verdict = async (endpoint: string, allowed: string[] = []) => (await checkEndpoint(endpoint, allowed)).ok;
  expect(await verdict("https://8.8.8.8/push/x")).toBe(true);
  expect(await verdict("https://[2001:4860:4860::8888]/push/x")).toBe(true);
  expect(await verdict("http://8.8.8.8/push/x")).toBe(false);
  expect(await verdict("https://localhost/push/x")).toBe(false); // resolves to loopback
  expect(await verdict("https://user:pw@8.8.8.8/push/x")).toBe(false);
  expect(await verdict(`https://8.8.8.8/${"a".repeat(2048)}`)).toBe(false);
  expect(await verdict("https://no-such-host.invalid/push/x")).toBe(false);
  expect(await verdict("http://127.0.0.1:9999/push/x", ["http://127.0.0.1:9999"])).toBe(true);
  expect(await verdict("http://127.0.0.1:9998/push/x", ["http://127.0.0.1:9999"])).toBe(false);
});
