/** The terminal commands; src/main.ts dispatches `roomz cli|send|listen` to them. */
export { runCli } from "./interactive";
export { runSend } from "./send";
export { runListen } from "./listen";
export { runToken } from "./token";
