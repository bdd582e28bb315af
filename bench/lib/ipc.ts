/**
 * Request/response over the Node IPC channel between the bench and its child processes.
 * A child calls `serveIpc({...handlers})`; the parent calls `child.request(type, payload)`.
 * Every child also exits when the channel closes, so a killed bench never leaves one behind.
 */

export interface IpcRequest {
  id: number;
  type: string;
  payload?: unknown;
}

export interface IpcReply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export type IpcHandlers = Record<string, (payload: unknown) => unknown>;

/** In a child: answer the parent's requests; exit when the parent goes away. */
export function serveIpc(handlers: IpcHandlers, onDisconnect: () => void = () => process.exit(0)): void {
  if (!process.send) throw new Error('serveIpc: this process has no IPC channel (spawn it with stdio "ipc")');
  process.on('disconnect', onDisconnect);
  process.on('message', (raw: unknown) => {
    const req = raw as IpcRequest;
    if (typeof req !== 'object' || req === null || typeof req.id !== 'number') return;
    const handler = handlers[req.type];
    const reply = (r: IpcReply): void => {
      if (process.connected) process.send!(r);
    };
    if (!handler) {
      reply({ id: req.id, ok: false, error: `unknown request ${req.type}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(req.payload))
      .then(
        (result) => reply({ id: req.id, ok: true, result }),
        (err: unknown) => reply({ id: req.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
      );
  });
  // Ready: the parent waits for this before its first request.
  process.send({ ready: true });
}
