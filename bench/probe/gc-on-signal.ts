/**
 * Preloaded into every Bun server the bench starts (Roomz and the raw Bun baseline; the
 * Socket.IO baseline has its own handler): SIGUSR2 runs a full, synchronous GC, so S2 can
 * read RSS without the connect burst's garbage. Inert until signalled; src/ is untouched.
 */
process.on("SIGUSR2", () => Bun.gc(true));
