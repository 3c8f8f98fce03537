import type { CallContext } from '../call/call-context';
import type { RequestStream } from '../call/request-stream';
import type { RpcDefinition } from '../proto/proto-registry';

/** What a handler receives: the decoded request message, or the request stream of a client-streaming or bidi rpc. */
export type RpcRequest = Record<string, unknown> | RequestStream;

/** One rpc ready to serve: decode, run the Nest pipeline and the handler, encode. */
export interface BoundRpc {
  rpc: RpcDefinition;
  service: string;
  invoke(request: RpcRequest, context: CallContext): Promise<unknown>;
  /**
   * Runs the handler's Nest exception filters on an error of the call (from the pipeline, the
   * handler or, for a stream, its messages): resolves with what answers the call instead, or
   * rejects with the call's error. Absent when no filter applies.
   */
  recover?(error: unknown, request: RpcRequest, context: CallContext): Promise<unknown>;
}

/** Runs one rpc's handler, with whatever wraps it (access checks, Nest's pipeline). */
export type Invoke = (request: RpcRequest, context: CallContext) => Promise<unknown>;
