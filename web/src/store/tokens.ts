/**
 * The Tokens page's state (PROTOCOL.md section 6): the user's access tokens, the one just
 * created (its secret is shown this once, then forgotten), and what went wrong. Talks to
 * the server only through the client core.
 */
import { createStore } from "solid-js/store";
import type { CreatedToken, TokenInfo, TokenScope } from "../../../src/protocol/tokens";
import { errorInfo } from "./client-port";

export interface TokenApi {
  listTokens(): Promise<TokenInfo[]>;
  createToken(name: string, scope: TokenScope, expiresInDays: number | null): Promise<CreatedToken>;
  revokeToken(id: string): Promise<void>;
}

export interface TokensState {
  list: TokenInfo[];
  loaded: boolean;
  /** The token just created, with its secret: shown once, until dismissed. */
  created: CreatedToken | null;
  error: string | null;
  busy: boolean;
}

export function createTokens(client: TokenApi) {
  const [state, setState] = createStore<TokensState>({ list: [], loaded: false, created: null, error: null, busy: false });
  async function run(work: () => Promise<void>) {
    setState({ busy: true, error: null });
    try {
      await work();
    } catch (error) {
      setState("error", errorInfo(error).message);
    } finally {
      setState("busy", false);
    }
  }
  const load = () => run(async () => setState({ list: await client.listTokens(), loaded: true }));
  return {
    state,
    load,
    create: (name: string, scope: TokenScope, expiresInDays: number | null) =>
      run(async () => {
        const created = await client.createToken(name, scope, expiresInDays);
        setState({ created, list: [created, ...state.list.filter((t) => t.id !== created.id)].map(({ token: _secret, ...info }: any) => info) });
      }),
    revoke: (id: string) =>
      run(async () => {
        await client.revokeToken(id);
        setState("list", (list) => list.filter((t) => t.id !== id));
        if (state.created?.id === id) setState("created", null);
      }),
    /** Forgets the secret (the page shows it only until then). */
    dismissCreated: () => setState("created", null),
  };
}

export type TokensStore = ReturnType<typeof createTokens>;
