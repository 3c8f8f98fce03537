import * as http2 from 'node:http2';
import type { WebRequest, WebResponse } from '../interfaces/grpc-web-options.interface';

/**
 * Gives an HTTP/2 request `timeoutMs` for its body to arrive, as Node's `requestTimeout` does
 * for HTTP/1.1 (which Node does not do for HTTP/2): past it the request is answered 408 and its
 * stream reset, and the session goes on serving. Not for calls whose request streams (client
 * streaming, bidi): their bodies last as long as the call, which its deadline bounds.
 */
export function limitHttp2Body(request: WebRequest, response: WebResponse, timeoutMs: number): void {
  if (request.httpVersionMajor !== 2 || request.readableEnded) return;
  const stream = (request as http2.Http2ServerRequest).stream;
  if (stream.endAfterHeaders) return;
  const timer = setTimeout(() => {
    if (request.readableEnded || stream.destroyed) return;
    if (!response.headersSent) {
      response.writeHead(408, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`The request body did not arrive within ${timeoutMs} ms (requestTimeoutMs).`);
    }
    // The rest of the body is not waited for: the stream goes, the session stays.
    stream.close(http2.constants.NGHTTP2_CANCEL);
  }, timeoutMs);
  timer.unref();
  const clear = (): void => clearTimeout(timer);
  request.once('end', clear);
  stream.once('close', clear);
}
