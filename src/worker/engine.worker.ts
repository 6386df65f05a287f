/**
 * The training worker: hosts EngineHost and exposes it through comlink, so the page holds a typed
 * Remote<EngineApi> (protocol.ts) and training never runs on the main thread.
 */
import * as Comlink from 'comlink';
import { EngineHost } from './host';
import type { EngineApi } from './protocol';

const host: EngineApi = new EngineHost();
Comlink.expose(host);
