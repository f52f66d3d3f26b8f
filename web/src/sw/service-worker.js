// The service worker's body. web/service-worker-plugin.ts prepends VERSION (a hash of the
// build) and SHELL (every file of the build: the app shell) and emits it as /sw.js, so a
// new build is a new worker, and the old shell's cache goes when it takes over.
/* global VERSION, SHELL */
/// <reference lib="webworker" />

const CACHE = `roomz-shell-${VERSION}`;
/** The server's own paths: answers there are never cached (sessions, messages, files). */
const NEVER_CACHED = /^\/(api|auth|ws|files|healthz|metrics)(\/|$)/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith("roomz-shell-") && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || NEVER_CACHED.test(url.pathname)) return;
  if (request.mode === "navigate") {
    // The page from the network when it can be reached (a new build shows at once);
    // offline, the cached shell, whatever the app's route.
    event.respondWith(fetch(request).catch(() => caches.match("/", { cacheName: CACHE }).then((hit) => hit || Response.error())));
    return;
  }
  if (SHELL.includes(url.pathname)) event.respondWith(caches.match(url.pathname, { cacheName: CACHE }).then((hit) => hit || fetch(request)));
});

/** The payload of PROTOCOL.md section 8: {seq, sender, preview, files}. */
function notificationOf(data) {
  const files = Array.isArray(data.files) ? data.files : [];
  const body = data.preview || files.join(", ") || "New message";
  return { title: data.sender || "Roomz", options: { body, tag: `roomz-${data.seq}`, icon: "/icons/icon-192.png", badge: "/icons/maskable-192.png", data: { seq: data.seq } } };
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {}
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      // A Roomz tab in front already shows the message.
      if (windows.some((w) => w.focused && w.visibilityState === "visible")) return;
      const { title, options } = notificationOf(data);
      return self.registration.showNotification(title, options);
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
      return open ? open.focus() : self.clients.openWindow("/");
    }),
  );
});
